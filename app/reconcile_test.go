package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/schedule"
	"github.com/settlehq/settle/store/sqlite"
)

// newStore opens a fresh temporary database, closed when the test ends.
func newStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "books.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// books opens a fresh ledger on a temporary database.
func books(t *testing.T) (*sqlite.Store, *ledger.Ledger) {
	t.Helper()
	st := newStore(t)
	return st, ledger.New(st, nil)
}

func record(t *testing.T, l *ledger.Ledger, name string, b []byte) {
	t.Helper()
	_, errs := feed.ApplyFile(context.Background(), l, name, bytes.NewReader(b), false)
	if len(errs) > 0 {
		t.Fatalf("recording %s: %v", name, errs)
	}
}

func importFile(t *testing.T, st *sqlite.Store, path string) {
	t.Helper()
	if _, errs, err := ImportFile(context.Background(), st, path, ImportOptions{}); err != nil || len(errs) > 0 {
		t.Fatalf("importing %s: %v %v", path, err, errs)
	}
}

func demo(t *testing.T) (*sqlite.Store, *ledger.Ledger) {
	t.Helper()
	st, l := books(t)
	b, err := os.ReadFile("../testdata/demo/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	record(t, l, "events.jsonl", b)
	importFile(t, st, "../testdata/demo/stripe-balance-2026-11.csv")
	return st, l
}

// demoInbox records the demo's events in l and returns a fresh inbox
// holding the demo's Stripe export.
func demoInbox(t *testing.T, l *ledger.Ledger) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/demo/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	record(t, l, "events.jsonl", b)
	inbox := t.TempDir()
	copyFile(t, "../testdata/demo/stripe-balance-2026-11.csv", filepath.Join(inbox, "stripe.csv"))
	return inbox
}

func openExceptions(t *testing.T, st *sqlite.Store) []reconcile.Exception {
	t.Helper()
	es, err := st.Exceptions(context.Background(), reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// A nil *Options means the defaults, the clock included.
func TestReconcileNilOptions(t *testing.T) {
	st, l := demo(t)
	sc, err := Scopes(context.Background(), st, "", time.Time{}, time.Time{})
	if err != nil || len(sc) != 1 {
		t.Fatalf("scopes %v %v", sc, err)
	}
	rep, err := Reconcile(context.Background(), st, l, sc[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Run.Summary; s.Matched != 10 || s.Mismatched+s.MissingInLedger+s.MissingAtProvider+s.Duplicates != 4 {
		t.Errorf("demo: %+v, want 10 matched and 4 exceptions", s)
	}
}

// A nightly run whose lookback ends long after the export's dates still
// reconciles every record imported since the last run; a night with
// nothing to compare says so.
func TestNightlyCoversRecordsImportedSinceLastRun(t *testing.T) {
	ctx := context.Background()
	st, l := books(t)
	now := time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC) // months after the demo's November
	job := &Nightly{Store: st, Books: l, Now: func() time.Time { return now }}
	w := schedule.Window{From: now.Add(-24 * time.Hour), To: now}
	if err := job.Run(ctx, w); !errors.Is(err, ErrNothingCompared) {
		t.Fatalf("empty books: %v, want ErrNothingCompared", err)
	}
	job.Inbox = demoInbox(t, l)
	var runs []*reconcile.Run
	job.Runs = func(rs []*reconcile.Run) { runs = rs }
	if err := job.Run(ctx, w); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	s := runs[0].Summary
	if s.Matched != 10 || s.Mismatched+s.MissingInLedger+s.MissingAtProvider+s.Duplicates != 4 {
		t.Errorf("night after the import: %+v, want 10 matched and 4 exceptions", s)
	}
	// The next night has no new records and the lookback holds nothing.
	now = now.Add(24 * time.Hour)
	err := job.Run(ctx, schedule.Window{From: w.To, To: now})
	if !errors.Is(err, ErrNothingCompared) {
		t.Errorf("a night with nothing in its window: %v, want ErrNothingCompared", err)
	}
	if n := len(openExceptions(t, st)); n != 4 {
		t.Errorf("%d open exceptions after the empty night, want the 4 still open", n)
	}
}

// The nightly job's log says how long each step took, and the
// reconciliation's line splits its time into loading, matching, adopting
// and storing.
func TestNightlyLogSaysWhereTheTimeGoes(t *testing.T) {
	ctx := context.Background()
	st, l := books(t)
	inbox := demoInbox(t, l)
	var logged bytes.Buffer
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	job := &Nightly{Store: st, Books: l, Inbox: inbox, Outbox: t.TempDir(), Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	if err := job.Run(ctx, schedule.Window{From: now.Add(-24 * time.Hour), To: now}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		`msg="inbox file imported"`: {"took="},
		`msg="ledger upkeep"`:       {"took="},
		`msg=reconciled`:            {"took=", "load=", "match=", "adopt=", "store="},
		`msg="reports written"`:     {"took="},
	}
	for _, line := range strings.Split(logged.String(), "\n") {
		for msg, attrs := range want {
			if !strings.Contains(line, msg) {
				continue
			}
			for _, a := range attrs {
				if !strings.Contains(line, " "+a) {
					t.Errorf("the log line %s has no %s", line, a)
				}
			}
			delete(want, msg)
		}
	}
	for msg := range want {
		t.Errorf("no %s line in the log:\n%s", msg, logged.String())
	}
}

// One difference keeps one exception for life: resolving it with a note
// and re-running reopens the same exception; booking its fix twice books
// once; a failure between booking and closing leaves neither.
func TestResolveLifecycle(t *testing.T) {
	ctx := context.Background()
	st, l := demo(t)
	opts := &Options{}
	run := func() *Report {
		sc, err := Scopes(ctx, st, "", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Reconcile(ctx, st, l, sc[0], opts)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	run()
	open := openExceptions(t, st)
	var fee, other reconcile.Exception
	for _, e := range open {
		switch {
		case e.Kind == reconcile.Mismatched:
			fee = e
		case e.Kind == reconcile.MissingInLedger:
			other = e
		}
	}
	if fee.ID == 0 || other.ID == 0 {
		t.Fatalf("demo exceptions: %+v", open)
	}

	// Resolved with a note only: the next run finds it again and reopens it.
	if _, err := Resolve(ctx, st, l, ResolveRequest{ExceptionID: other.ID, Note: "looked at it"}); err != nil {
		t.Fatal(err)
	}
	run()
	all, err := st.Exceptions(ctx, reconcile.ExceptionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Errorf("%d exceptions after resolve-with-note and a run, want the same 4", len(all))
	}
	again, err := st.Exception(ctx, other.ID)
	if err != nil || again.Status != reconcile.ExceptionOpen {
		t.Errorf("exception %d after the run: %+v %v, want reopened", other.ID, again, err)
	}
	hist, err := st.ExceptionHistory(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, h := range hist {
		actions = append(actions, h.Action)
	}
	if strings.Join(actions, ",") != "opened,resolved,reopened" {
		t.Errorf("history %v", actions)
	}

	// A failure between booking and closing leaves neither.
	entries := func() int {
		n := 0
		if err := l.View(ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(ctx, ledger.EntryFilter{}, func(*ledger.Entry) error { n++; return nil })
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := entries()
	if _, err := Resolve(ctx, st, l, ResolveRequest{ExceptionID: fee.ID, Book: true, failAfterBook: true}); err == nil {
		t.Fatal("the injected failure did not fail")
	}
	if e, _ := st.Exception(ctx, fee.ID); entries() != before || e.Status != reconcile.ExceptionOpen {
		t.Errorf("after a failure between book and close: %d entries (want %d), status %s", entries(), before, e.Status)
	}
	// A dry run shows the fix and books nothing.
	dry, err := Resolve(ctx, st, l, ResolveRequest{ExceptionID: fee.ID, Book: true, DryRun: true})
	if err != nil || dry.Entry == nil || len(dry.Entry.Postings) == 0 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if e, _ := st.Exception(ctx, fee.ID); entries() != before || e.Status != reconcile.ExceptionOpen {
		t.Errorf("after a dry run: %d entries, status %s", entries(), e.Status)
	}
	// Booked twice: one entry, and the second says it was resolved already.
	first, err := Resolve(ctx, st, l, ResolveRequest{ExceptionID: fee.ID, Book: true})
	if err != nil || first.Entry == nil {
		t.Fatalf("resolve --book: %+v %v", first, err)
	}
	if !first.Entry.OccurredAt.Equal(fee.At) {
		t.Errorf("fix dated %s, want the corrected transaction's %s", first.Entry.OccurredAt, fee.At)
	}
	second, err := Resolve(ctx, st, l, ResolveRequest{ExceptionID: fee.ID, Book: true})
	if err != nil || !second.AlreadyResolved {
		t.Errorf("second resolve --book: %+v %v, want already resolved", second, err)
	}
	if entries() != before+1 {
		t.Errorf("%d entries after booking twice, want %d", entries(), before+1)
	}
	if rep := run(); rep.Run.Summary.Mismatched != 0 {
		t.Errorf("after the fix: %+v", rep.Run.Summary)
	}
	if e, _ := st.Exception(ctx, fee.ID); e.Status != reconcile.ExceptionResolved {
		t.Errorf("fixed exception is %s after the next run", e.Status)
	}
}

// A generated month whose export carries Stripe's own settlement dates
// (which the feed leaves the ledger to estimate) reconciles to exactly the
// injected differences: no exception for an estimate, one for the capture
// whose told date differs.
func TestStripeSettlementDatesAreAdopted(t *testing.T) {
	ctx := context.Background()
	o := generate.Options{Payments: 1500, PerDay: 100, Seed: 7, TailDays: 20, DiffRate: 0.02, StripeDates: true}
	var fd, csv bytes.Buffer
	sum, err := generate.Generate(o, generate.Output{Feed: &fd, ItemizedCSV: &csv})
	if err != nil {
		t.Fatal(err)
	}
	st, l := books(t)
	record(t, l, "feed.jsonl", fd.Bytes())
	if _, err := l.MakeAvailable(ctx, sum.End); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "itemized.csv")
	if err := os.WriteFile(path, csv.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	importFile(t, st, path)
	sc, err := Scopes(ctx, st, "", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Reconcile(ctx, st, l, sc[0], &Options{Now: func() time.Time { return sum.End }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("adopted %d estimates; outcomes %d", rep.Run.Adopted, len(rep.Outcomes))
	if rep.Run.Adopted == 0 {
		t.Errorf("no estimate was adopted")
	}
	if tk := rep.Took; tk.Load <= 0 || tk.Match <= 0 || tk.Adopt <= 0 || tk.Store <= 0 {
		t.Errorf("a run that adopted dates accounts for its time as %+v: every step takes some", tk)
	}
	want := map[reconcile.OutcomeKind]int{}
	for _, d := range sum.Diffs {
		switch d.Kind {
		case generate.FeeOffByOne:
			want[reconcile.Mismatched]++
		case generate.MissingAtProvider:
			want[reconcile.MissingAtProvider]++
		case generate.MissingInLedger:
			want[reconcile.MissingInLedger]++
		case generate.Duplicate:
			want[reconcile.Duplicate]++
		}
	}
	want[reconcile.Mismatched]++ // the told available_on
	got := map[reconcile.OutcomeKind]int{}
	availDiffs := 0
	for _, oc := range rep.Outcomes {
		if oc.Kind == reconcile.PayoutMismatch {
			continue // the injected fee and missing records unbalance their payouts; counted apart
		}
		got[oc.Kind]++
		for _, d := range oc.Diffs {
			if d.Field == reconcile.FieldAvailableOn {
				availDiffs++
				if oc.Ref != sum.ToldAvailableOn {
					t.Errorf("available_on exception for %s, whose date the ledger estimated", oc.Ref)
				}
			}
		}
	}
	if availDiffs != 1 {
		t.Errorf("%d available_on exceptions, want 1 (the told %s)", availDiffs, sum.ToldAvailableOn)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d, want %d (got %v)", k, got[k], n, got)
		}
	}
	vs, err := l.Verify(ctx)
	if err != nil || len(vs) > 0 {
		t.Errorf("verify: %v %v", vs, err)
	}
	// The first run matched again on its loaded transactions patched with
	// the adopted dates (patchDates); a second run reads the ledger afresh
	// and adopts nothing. Both must have seen the same inputs and results.
	again, err := Reconcile(ctx, st, l, sc[0], &Options{Now: func() time.Time { return sum.End }})
	if err != nil {
		t.Fatal(err)
	}
	if again.Run.Adopted != 0 {
		t.Errorf("the second run adopted %d dates, want 0", again.Run.Adopted)
	}
	if again.Run.InputsDigest != rep.Run.InputsDigest {
		t.Errorf("the second run read other inputs than the first matched on (digest %s, first %s)",
			again.Run.InputsDigest, rep.Run.InputsDigest)
	}
	if again.Run.Summary != rep.Run.Summary {
		t.Errorf("second run %+v, first %+v", again.Run.Summary, rep.Run.Summary)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A record the provider marks as test mode is skipped, not reported
// missing from the live ledger.
func TestTestModeRecordsAreSkipped(t *testing.T) {
	ctx := context.Background()
	st, l := books(t)
	importFile(t, st, "../testdata/importers/cardpay-json/payments.json")
	if r, err := st.Record(ctx, "cardpay", provider.PaymentGrain, "pay_01HZX3TBN9Z8Y7X6W5V4T3S2RC"); err != nil || !r.Test {
		t.Fatalf("stored test-mode record: %+v %v, want Test kept", r, err)
	}
	sc, err := Scopes(ctx, st, "", time.Time{}, time.Time{})
	if err != nil || len(sc) != 1 {
		t.Fatalf("scopes %v %v", sc, err)
	}
	rep, err := Reconcile(ctx, st, l, sc[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.Outcomes {
		if o.ProviderID == "pay_01HZX3TBN9Z8Y7X6W5V4T3S2RC" {
			t.Errorf("the test-mode payment was reported: %+v", o)
		}
	}
	if rep.Run.Summary.Skipped < 1 || rep.Run.Summary.ProviderRecords != 4 {
		t.Errorf("summary %+v, want the test-mode record among 4 and skipped", rep.Run.Summary)
	}
}
