package runner

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/ledger/sqlite"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reports"
)

// lastRunSetting is where the nightly job records the end of the last
// window it completed, so a restarted server catches up from there.
const lastRunSetting = "serve_last_run"

// Nightly is the job `settle serve` runs on its schedule.
type Nightly struct {
	Store  *sqlite.Store
	Books  *ledger.Ledger
	Inbox  string // provider exports to import; "" skips ingestion
	Outbox string // where reports are written; "" skips them
	// Lookback is how far before the window's end reconciliation looks,
	// so that late provider records and slow ledger entries still pair;
	// default 7 days.
	Lookback time.Duration
	Readers  *importers.Options
	Logger   *slog.Logger
	Now      func() time.Time
}

// LastRun returns the end of the last completed window (for the scheduler).
func (n *Nightly) LastRun(ctx context.Context) (time.Time, error) {
	v, err := n.Store.Setting(ctx, lastRunSetting)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, v)
}

// Run does one night's work for window w: ingest the inbox, make due funds
// available, expire authorizations, reconcile every provider over
// [w.To − Lookback, w.To), write the reports to the outbox, and record the
// window as done.
func (n *Nightly) Run(ctx context.Context, w reconcile.Window) error {
	log := n.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := n.Now
	if now == nil {
		now = time.Now
	}
	lookback := n.Lookback
	if lookback <= 0 {
		lookback = 7 * 24 * time.Hour
	}
	if n.Inbox != "" {
		got, err := Ingest(ctx, n.Store, n.Inbox, n.Readers)
		if err != nil {
			return fmt.Errorf("ingesting %s: %w", n.Inbox, err)
		}
		for _, g := range got {
			if g.Reason != "" {
				log.Warn("inbox file rejected", "file", g.File, "moved", g.Moved, "reason", g.Reason)
			} else {
				log.Info("inbox file imported", "file", g.File, "records", g.Stats.Records, "added", g.Stats.Added)
			}
		}
	}
	avail, err := n.Books.MakeAvailable(ctx, w.To)
	if err != nil {
		return fmt.Errorf("making funds available: %w", err)
	}
	expired, err := n.Books.ExpireAuthorizations(ctx, w.To)
	if err != nil {
		return fmt.Errorf("expiring authorizations: %w", err)
	}
	log.Info("ledger upkeep", "made_available", avail, "expired", expired)
	from := w.To.Add(-lookback)
	scopes, err := Scopes(ctx, n.Store, "", from, w.To)
	if err != nil {
		return err
	}
	var runs []*sqlite.Run
	for _, sc := range scopes {
		rep, err := Reconcile(ctx, n.Store, n.Books, sc, now)
		if err != nil {
			return fmt.Errorf("reconciling %s (%s): %w", sc.Provider, sc.Grain, err)
		}
		runs = append(runs, rep.Run)
		s := rep.Run.Summary
		log.Info("reconciled", "provider", sc.Provider, "grain", sc.Grain, "run", rep.Run.ID, "matched", s.Matched,
			"mismatched", s.Mismatched, "missing_in_ledger", s.MissingInLedger, "missing_at_provider", s.MissingAtProvider,
			"duplicates", s.Duplicates, "opened", rep.Run.Opened, "closed", rep.Run.Closed)
	}
	if n.Outbox != "" {
		dir, err := newRunDir(n.Outbox, w.To.UTC().Format("2006-01-02T1504Z"), n.Store.FileMode())
		if err != nil {
			return fmt.Errorf("writing reports: %w", err)
		}
		if err := n.writeReports(ctx, dir, runs, w); err != nil {
			return fmt.Errorf("writing reports to %s: %w", dir, err)
		}
		log.Info("reports written", "dir", dir)
	}
	return n.Store.SetSetting(ctx, lastRunSetting, w.To.UTC().Format(time.RFC3339Nano))
}

// writeReports writes the night's CSV reports into dir, each file written
// whole or not at all.
func (n *Nightly) writeReports(ctx context.Context, dir string, runs []*sqlite.Run, w reconcile.Window) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fn func(reports.Writer) error) error {
		tmp, err := os.CreateTemp(dir, "."+name+"-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		cw := reports.NewCSVWriter(tmp)
		if err := fn(cw); err != nil {
			tmp.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := cw.Close(); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err := write("reconciliation-summary.csv", func(cw reports.Writer) error { return WriteRunSummary(cw, runs) }); err != nil {
		return err
	}
	open, err := n.Store.Exceptions(ctx, sqlite.ExceptionFilter{Status: sqlite.ExceptionOpen})
	if err != nil {
		return err
	}
	if err := write("open-exceptions.csv", func(cw reports.Writer) error { return WriteExceptions(cw, open) }); err != nil {
		return err
	}
	period := reports.Options{From: w.From, To: w.To}
	for _, r := range []struct {
		name string
		opts reports.Options
	}{
		{"trial-balance", reports.Options{AsOf: w.To.Add(-time.Nanosecond)}},
		{"balance-transactions", period},
		{"payout-reconciliation", period},
		{"journal", period},
	} {
		rep, ok := reports.Find(r.name)
		if !ok {
			return fmt.Errorf("no report %q", r.name)
		}
		if err := write(r.name+".csv", func(cw reports.Writer) error { return rep.Run(ctx, n.Books, r.opts, cw) }); err != nil {
			return err
		}
	}
	return nil
}
