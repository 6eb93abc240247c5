package generate_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/store/sqlite"
)

// size returns full, or full/100 under -short.
func size(full int) int {
	if testing.Short() {
		return full / 100
	}
	return full
}

// BenchmarkGenerate measures writing the feed and both exports of
// 100,000 payments (1,000 under -short).
func BenchmarkGenerate(b *testing.B) {
	o := generate.Options{Payments: size(100_000), PerDay: 2000}
	var sum *generate.Summary
	for b.Loop() {
		var err error
		if sum, err = generate.Generate(o, generate.Output{Feed: io.Discard, ItemizedCSV: io.Discard, BalanceJSON: io.Discard}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sum.Events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkItemizedImport imports a generated Stripe itemized report of
// about 114,000 rows (1,140 under -short) into SQLite as settle import does
// (app.ImportFile): digest the file, then read, parse, normalize and
// store it in one transaction. Target: ≥ 300,000 rows/s.
func BenchmarkItemizedImport(b *testing.B) {
	dir := b.TempDir()
	name := filepath.Join(dir, "itemized.csv")
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := generate.Generate(generate.Options{Payments: size(100_000), PerDay: 5000}, generate.Output{ItemizedCSV: f}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rows := 0
	b.SetBytes(fi.Size())
	for i := 0; b.Loop(); i++ {
		// A fresh database each round, so that every round inserts.
		b.StopTimer()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "import-"+strconv.Itoa(i)+".db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		stats, problems, err := app.ImportFile(ctx, st, name, app.ImportOptions{Format: importers.FormatStripeItemizedCSV})
		b.StopTimer()
		st.Close()
		b.StartTimer()
		if err != nil || len(problems) > 0 {
			b.Fatal(err, problems)
		}
		rows += stats.Records
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReconcile matches 1,000,000 generated provider records against
// 1,000,000 ledger balance transactions (10,000 under -short), 0.1% with
// differences. Target: ≤ 10 s.
func BenchmarkReconcile(b *testing.B) {
	recs, bts, _ := generate.Pairs(generate.PairOptions{N: size(1_000_000), DiffRate: 0.001})
	for b.Loop() {
		reconcile.MatchBalances(recs, bts, nil)
	}
	b.ReportMetric(float64(len(bts))*float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}
