package generate_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger/sqlite"
	"github.com/settlehq/settle/reconcile"
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
// about 114,000 rows (1,140 under -short) into SQLite as settle import does:
// parse, normalize and store with (*sqlite.Store).Import. Target: ≥ 300,000
// rows/s.
func BenchmarkItemizedImport(b *testing.B) {
	var csv bytes.Buffer
	if _, err := generate.Generate(generate.Options{Payments: size(100_000), PerDay: 5000}, generate.Output{ItemizedCSV: &csv}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	dir := b.TempDir()
	rows := 0
	b.SetBytes(int64(csv.Len()))
	for i := 0; b.Loop(); i++ {
		// A fresh database each round, so that every round inserts.
		b.StopTimer()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "import-"+strconv.Itoa(i)+".db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		f := sqlite.ImportFile{File: "itemized.csv", SHA256: "bench", Format: importers.FormatStripeItemizedCSV}
		stats, err := st.Import(ctx, f, func(sink sqlite.RecordSink) error {
			rd, err := importers.NewReader(importers.FormatStripeItemizedCSV, f.File, bytes.NewReader(csv.Bytes()), nil)
			if err != nil {
				return err
			}
			for {
				rec, err := rd.Read()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if err := sink.Add(rec); err != nil {
					return err
				}
			}
		})
		b.StopTimer()
		st.Close()
		b.StartTimer()
		if err != nil {
			b.Fatal(err)
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
