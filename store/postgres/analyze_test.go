package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/postgres"
)

// An import that adds many records leaves the records' table with
// statistics, so that a reconciliation run at once is planned on them; a
// small one leaves that to autovacuum. pg_class.reltuples is -1 until a
// table is first analyzed (or vacuumed).
func TestLargeImportGathersStatistics(t *testing.T) {
	url := serverURL(t)
	ctx := context.Background()
	for _, c := range []struct {
		payments int
		analyzed bool
	}{{300, false}, {10_000, true}} {
		schema := testSchema(t)
		st, err := postgres.Open(ctx, url, &postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		var csv bytes.Buffer
		if _, err := generate.Generate(generate.Options{Payments: c.payments, PerDay: 1000, Seed: uint64(c.payments)},
			generate.Output{ItemizedCSV: &csv}); err != nil {
			t.Fatal(err)
		}
		stats, problems, err := app.Import(ctx, st, "itemized.csv", bytes.NewReader(csv.Bytes()),
			app.ImportOptions{Format: importers.FormatStripeItemizedCSV})
		if err != nil || len(problems) > 0 {
			t.Fatal(err, problems)
		}
		var tuples float64
		if err := st.DB().QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`,
			schema+".provider_records").Scan(&tuples); err != nil {
			t.Fatal(err)
		}
		if got := tuples >= 0; got != c.analyzed {
			t.Errorf("%d records added: reltuples %.0f; want analyzed %v", stats.Added, tuples, c.analyzed)
		}
		if c.analyzed && int(tuples) != stats.Added {
			t.Errorf("%d records added, but the statistics count %.0f", stats.Added, tuples)
		}
	}
}

// A write transaction of many entries (a month recorded into new books, a
// large batch posted) leaves the ledger's tables with statistics, so that
// the reports read after it are planned on them; a small one, or a large
// one into books that hold more entries than it wrote (a nightly run),
// leaves that to autovacuum.
func TestLargeWriteGathersStatistics(t *testing.T) {
	url := serverURL(t)
	ctx := context.Background()
	for _, c := range []struct {
		writes []int   // entries posted, a transaction each
		tuples float64 // the entries' statistics after the last
	}{
		{[]int{300}, -1},
		{[]int{12_000}, 12_000},
		{[]int{12_000, 11_000}, 12_000},
		{[]int{300, 12_000}, 12_300},
	} {
		schema := testSchema(t)
		st, err := postgres.Open(ctx, url, &postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		books := ledger.New(st, nil)
		posted := 0
		for _, n := range c.writes {
			err = generate.Entries(generate.EntryOptions{N: n, Batch: n}, func(es []ledger.EntryInput) error {
				for i := range es {
					es[i].Key = fmt.Sprintf("%s-%d", es[i].Key, posted)
				}
				_, err := books.PostEntries(ctx, es)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			posted += n
		}
		var tuples float64
		if err := st.DB().QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`,
			schema+".entries").Scan(&tuples); err != nil {
			t.Fatal(err)
		}
		if tuples != c.tuples {
			t.Errorf("entries posted %v: reltuples %.0f, want %.0f", c.writes, tuples, c.tuples)
		}
	}
}
