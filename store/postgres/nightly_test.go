package postgres_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/schedule"
	"github.com/settlehq/settle/store/postgres"
	"github.com/settlehq/settle/store/sqlite"
)

// Two servers on one database run each nightly window once: both start it
// at the same moment, one takes the lease and runs it, the other skips it
// (the lease is taken, or the window was completed by the other).
func TestTwoServersOneNightly(t *testing.T) {
	t.Run("PostgreSQL", func(t *testing.T) {
		url := serverURL(t)
		schema := testSchema(t)
		twoServers(t, func() app.Store {
			st, err := postgres.Open(context.Background(), url, &postgres.Options{Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "books.db")
		twoServers(t, func() app.Store {
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

func twoServers(t *testing.T, open func() app.Store) {
	ctx := context.Background()
	first := open()
	l := ledger.New(first, nil)
	events, err := os.ReadFile("../../testdata/demo/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if _, errs := feed.ApplyFile(ctx, l, "events.jsonl", bytes.NewReader(events), false); len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, _, err := app.ImportFile(ctx, first, "../../testdata/demo/stripe-balance-2026-11.csv", app.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	servers := []app.Store{first, open()}
	var mu sync.Mutex
	ran := 0
	start := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	for night := range 4 {
		w := schedule.Window{From: start.Add(time.Duration(night-1) * 24 * time.Hour), To: start.Add(time.Duration(night) * 24 * time.Hour)}
		var wg sync.WaitGroup
		for i, st := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				job := &app.Nightly{Store: st, Books: ledger.New(st, nil), Holder: []string{"server-a", "server-b"}[i],
					Now: func() time.Time { return w.To }, Lookback: 30 * 24 * time.Hour,
					Runs: func([]*reconcile.Run) { mu.Lock(); ran++; mu.Unlock() }}
				if err := job.Run(ctx, w); err != nil {
					t.Errorf("night %d, server %d: %v", night, i, err)
				}
			}()
		}
		wg.Wait()
		if ran != night+1 {
			t.Fatalf("after night %d: %d windows run, want %d", night, ran, night+1)
		}
	}
	runs, err := first.Runs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Errorf("%d reconciliation runs stored for 4 nights, want 4", len(runs))
	}
}
