package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/store/postgres"
)

// size returns full, or full/100 under -short.
func size(full int) int {
	if testing.Short() {
		return full / 100
	}
	return full
}

// BenchmarkImportAndLoad imports a generated Stripe itemized report of
// 900,000 payments (about a million rows; 1% under -short) into a fresh
// schema each round (rows/s to the commit: a first import of the
// provider's records, copied straight into the table), then streams the
// records back as reconciliation loads them (NoRaw) and matches them
// against as many balance transactions (load+match pairs/s), then imports
// the same rows as another file (reimport rows/s: through the staging
// table, every record meeting its stored self).
func BenchmarkImportAndLoad(b *testing.B) {
	url := serverURL(b)
	dir := b.TempDir()
	name := filepath.Join(dir, "itemized.csv")
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := generate.Generate(generate.Options{Payments: size(900_000), PerDay: 30000}, generate.Output{ItemizedCSV: f}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	// The same rows again with other bytes (a trailing empty line): a
	// second, overlapping export, every record of which is stored.
	again := filepath.Join(dir, "itemized-again.csv")
	data, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(again, append(data, '\n'), 0o600); err != nil {
		b.Fatal(err)
	}
	data = nil
	ctx := context.Background()
	var rows, loaded, rerows int
	var importing, loading, reimporting time.Duration
	for b.Loop() {
		b.StopTimer()
		st, err := postgres.Open(ctx, url, &postgres.Options{Schema: testSchema(b)})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		stats, problems, err := app.ImportFile(ctx, st, name, app.ImportOptions{Format: importers.FormatStripeItemizedCSV})
		if err != nil || len(problems) > 0 {
			b.Fatal(err, problems)
		}
		importing += time.Since(t0)
		rows += stats.Records
		t0 = time.Now()
		var recs []provider.Record
		if err := st.EachRecord(ctx, provider.RecordFilter{NoRaw: true}, func(r *provider.Record) error {
			recs = append(recs, *r)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		_, bts, _ := generate.Pairs(generate.PairOptions{N: len(recs), DiffRate: 0.001})
		reconcile.MatchBalances(recs, bts, nil)
		loading += time.Since(t0)
		loaded += len(recs)
		recs, bts = nil, nil
		t0 = time.Now()
		stats, problems, err = app.ImportFile(ctx, st, again, app.ImportOptions{Format: importers.FormatStripeItemizedCSV})
		if err != nil || len(problems) > 0 || stats.Added != 0 || stats.AlreadyLoaded {
			b.Fatal(err, problems, stats)
		}
		reimporting += time.Since(t0)
		rerows += stats.Records
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)/importing.Seconds(), "import-rows/s")
	b.ReportMetric(float64(loaded)/loading.Seconds(), "load+match-records/s")
	b.ReportMetric(float64(rerows)/reimporting.Seconds(), "reimport-rows/s")
}
