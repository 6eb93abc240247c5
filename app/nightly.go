package app

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reports"
	"github.com/settlehq/settle/schedule"
)

// lastRunSetting is where the nightly job records the end of the last
// window it completed, so a restarted server catches up from there.
const lastRunSetting = "serve_last_run"

// lastRunBySetting names the process (Nightly.Holder) that completed it.
const lastRunBySetting = "serve_last_run_by"

// Nightly is the job `settle serve` runs on its schedule.
type Nightly struct {
	Store  Store
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
	// Match tunes matching (date tolerance, fields compared); its Now and
	// Logger default to the job's.
	Match *Options
	// Runs, when set, receives each night's stored runs (for a caller that
	// reports them, such as `settle serve --once`).
	Runs func([]*reconcile.Run)
	// Bank tunes the bank reconciliation that follows the providers' when
	// bank statements were imported (holidays, tolerance); nil: defaults.
	Bank *BankOptions
	// Holder names this process in the job's lease (NightlyLease); default
	// host name, process id and a random suffix.
	Holder string
	// LeaseTTL is how long the lease lasts unless renewed; it is renewed
	// every third of it while a window runs. Default 10 minutes.
	LeaseTTL time.Duration

	holderOnce sync.Once
	holder     string
}

// NightlyLease is the name of the lease a nightly window runs under: of
// two servers on one database, one runs a window and the other skips it.
const NightlyLease = "nightly"

func (n *Nightly) holderName() string {
	n.holderOnce.Do(func() {
		n.holder = n.Holder
		if n.holder == "" {
			host, _ := os.Hostname()
			n.holder = fmt.Sprintf("%s:%d:%08x", host, os.Getpid(), rand.Uint32())
		}
	})
	return n.holder
}

// LastRun returns the end of the last completed window (for the scheduler).
func (n *Nightly) LastRun(ctx context.Context) (time.Time, error) {
	v, err := n.Store.Setting(ctx, lastRunSetting)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, v)
}

// Run does one night's work for window w, under the store's lease
// NightlyLease: if another process holds it (another server on the same
// database), or has completed the window meanwhile, Run skips the window
// and returns nil. The lease is renewed while the window runs and given up
// after; a server that dies holding it loses it after LeaseTTL, and the
// next scheduled run catches up.
func (n *Nightly) Run(ctx context.Context, w schedule.Window) error {
	log := n.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ttl := n.LeaseTTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	holder := n.holderName()
	got, err := n.Store.Lease(ctx, NightlyLease, holder, ttl)
	if err != nil {
		return fmt.Errorf("taking the nightly lease: %w", err)
	}
	if !got {
		log.Info("another process holds the nightly lease; skipping the window", "to", w.To.Format(time.RFC3339))
		return nil
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := n.Store.Lease(rctx, NightlyLease, holder, 0); err != nil {
			log.Warn("giving up the nightly lease", "err", err)
		}
	}()
	last, err := n.LastRun(ctx)
	if err != nil {
		return err
	}
	by, err := n.Store.Setting(ctx, lastRunBySetting)
	if err != nil {
		return err
	}
	if !last.IsZero() && !last.Before(w.To) && by != holder {
		log.Info("another process completed the window; skipping it", "to", w.To.Format(time.RFC3339), "by", by)
		return nil
	}
	renewed := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if ok, err := n.Store.Lease(ctx, NightlyLease, holder, ttl); err != nil || !ok {
					log.Warn("renewing the nightly lease", "held", ok, "err", err)
				}
			}
		}
	}()
	defer func() {
		close(stop)
		<-renewed
	}()
	return n.run(ctx, w)
}

// run does one night's work for window w: ingest the inbox, make due funds
// available, expire authorizations, reconcile every provider over
// [w.To − Lookback, w.To) widened to cover every provider record imported
// since the last run whatever its date, write the reports to the outbox,
// and record the window as done. A night that compared nothing (no
// provider records and no ledger transactions in any window) still writes
// its reports, then returns ErrNothingCompared.
func (n *Nightly) run(ctx context.Context, w schedule.Window) error {
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
			} else if g.Bank.ImportID != 0 {
				log.Info("inbox bank statement imported", "file", g.File, "statements", g.Bank.Statements, "added", g.Bank.Added,
					"took", g.Took.Round(time.Millisecond))
			} else {
				log.Info("inbox file imported", "file", g.File, "records", g.Stats.Records, "added", g.Stats.Added,
					"took", g.Took.Round(time.Millisecond))
			}
		}
	}
	mark := time.Now()
	avail, err := n.Books.MakeAvailable(ctx, w.To)
	if err != nil {
		return fmt.Errorf("making funds available: %w", err)
	}
	expired, err := n.Books.ExpireAuthorizations(ctx, w.To)
	if err != nil {
		return fmt.Errorf("expiring authorizations: %w", err)
	}
	log.Info("ledger upkeep", "made_available", avail, "expired", expired, "took", lap(&mark).Round(time.Millisecond))
	from := w.To.Add(-lookback)
	scopes, err := Scopes(ctx, n.Store, "", from, w.To)
	if err != nil {
		return err
	}
	match := n.Match.withDefaults()
	if n.Match == nil || n.Match.Now == nil {
		match.Now = now
	}
	if n.Match == nil || n.Match.Logger == nil {
		match.Logger = log
	}
	var runs []*reconcile.Run
	compared := 0
	for _, sc := range scopes {
		if sc, err = n.widen(ctx, sc); err != nil {
			return err
		}
		rep, err := Reconcile(ctx, n.Store, n.Books, sc, &match)
		if err != nil {
			return fmt.Errorf("reconciling %s (%s): %w", sc.Provider, sc.Grain, err)
		}
		runs = append(runs, rep.Run)
		s := rep.Run.Summary
		compared += s.ProviderRecords + s.LedgerRecords
		log.Info("reconciled", append([]any{"provider", sc.Provider, "grain", sc.Grain, "run", rep.Run.ID,
			"from", sc.From.Format(time.RFC3339), "to", sc.To.Format(time.RFC3339), "provider_records", s.ProviderRecords,
			"ledger_records", s.LedgerRecords, "matched", s.Matched, "mismatched", s.Mismatched,
			"missing_in_ledger", s.MissingInLedger, "missing_at_provider", s.MissingAtProvider, "duplicates", s.Duplicates,
			"payout_mismatches", s.PayoutMismatches, "adopted", rep.Run.Adopted, "opened", rep.Run.Opened, "closed", rep.Run.Closed},
			rep.Took.LogAttrs()...)...)
	}
	bankRep, err := n.reconcileBank(ctx, log, now)
	if err != nil {
		return err
	}
	if bankRep != nil {
		runs = append(runs, bankRep.Run)
		compared += bankRep.Run.Summary.ProviderRecords + bankRep.Run.Summary.LedgerRecords
	}
	if n.Runs != nil {
		n.Runs(runs)
	}
	if n.Outbox != "" {
		dir, err := newRunDir(n.Outbox, w.To.UTC().Format("2006-01-02T1504Z"), fileMode(n.Store))
		if err != nil {
			return fmt.Errorf("writing reports: %w", err)
		}
		mark = time.Now()
		if err := n.writeReports(ctx, dir, runs, w); err != nil {
			return fmt.Errorf("writing reports to %s: %w", dir, err)
		}
		log.Info("reports written", "dir", dir, "took", lap(&mark).Round(time.Millisecond))
	}
	if err := n.Store.SetSetting(ctx, lastRunBySetting, n.holderName()); err != nil {
		return err
	}
	if err := n.Store.SetSetting(ctx, lastRunSetting, w.To.UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	if compared == 0 {
		if len(scopes) == 0 && bankRep == nil {
			return fmt.Errorf("%w: no provider records have been imported (put a provider export in the inbox)", ErrNothingCompared)
		}
		return fmt.Errorf("%w: no provider records and no ledger transactions between %s and %s",
			ErrNothingCompared, from.Format(time.RFC3339), w.To.Format(time.RFC3339))
	}
	return nil
}

// widen stretches a scope's window to cover every provider record imported
// since the last run of its provider and grain, whatever its date: an
// export of last month dropped into the inbox tonight is reconciled
// tonight.
func (n *Nightly) widen(ctx context.Context, sc reconcile.Scope) (reconcile.Scope, error) {
	covered, err := n.Store.RecordsCovered(ctx, sc.Provider, sc.Grain)
	if err != nil {
		return sc, err
	}
	fresh, err := n.Store.RecordsSince(ctx, sc.Provider, sc.Grain, covered)
	if err != nil || fresh.Count == 0 {
		return sc, err
	}
	if fresh.MinCreated.Before(sc.From) {
		sc.From = fresh.MinCreated
	}
	if !fresh.MaxCreated.Before(sc.To) {
		sc.To = fresh.MaxCreated.Add(time.Nanosecond)
	}
	return sc, nil
}

// writeReports writes the night's CSV reports into dir, each file written
// whole or not at all.
func (n *Nightly) writeReports(ctx context.Context, dir string, runs []*reconcile.Run, w schedule.Window) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fn func(reports.Writer) error) error {
		tmp, err := os.CreateTemp(dir, "."+name+"-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		// CreateTemp makes the file 0600; reports follow the store's mode
		// (0640 with --group-readable).
		if err := tmp.Chmod(fileMode(n.Store)); err != nil {
			tmp.Close()
			return err
		}
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
	open := reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen}
	if err := write("open-exceptions.csv", func(cw reports.Writer) error { return WriteExceptions(ctx, cw, n.Store, open) }); err != nil {
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
	if accounts, err := n.Store.BankAccounts(ctx); err != nil || len(accounts) == 0 {
		return err
	}
	var bo BankOptions
	if n.Bank != nil {
		bo = *n.Bank
	}
	return write("bank-reconciliation.csv", func(cw reports.Writer) error {
		return WriteBankReconciliation(ctx, n.Store, n.Books, bo, cw)
	})
}
