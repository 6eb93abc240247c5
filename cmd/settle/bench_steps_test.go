package main

import (
	"strings"
	"testing"
)

// The nightly job's log, as serve --once writes it, gives each part's
// time; lines without a time, and other messages, are not parts.
func TestNightlySteps(t *testing.T) {
	log := `time=2026-12-04T18:08:41.674Z level=INFO msg="job started" from=2026-12-03T18:08:41.673Z to=2026-12-04T18:08:41.673Z
time=2026-12-04T18:08:41.786Z level=INFO msg="inbox file imported" file="a b.csv" records=10762 added=10762 took=109ms
time=2026-12-04T18:08:41.787Z level=INFO msg="ledger upkeep" made_available=0 expired=0 took=1ms
time=2026-12-04T18:08:41.974Z level=INFO msg="adopted the provider's available_on where the ledger had estimated it" transactions=2912
time=2026-12-04T18:08:41.999Z level=INFO msg=reconciled provider=stripe grain=balance run=1 adopted=291 took=1m2.5s load=3.143s match=2.266s adopt=57.17s store=834ms
time=2026-12-04T18:08:42.020Z level=INFO msg="reports written" dir=out/2026-12-04T1808Z took=20ms
time=2026-12-04T18:08:42.020Z level=INFO msg="job finished" took=346ms
`
	steps, err := nightlySteps(log)
	if err != nil {
		t.Fatal(err)
	}
	want := "import 109.0 ms, upkeep 1.0 ms, reconcile 62.50 s (load 3.14 s, match 2.27 s, adopt 57.17 s, store 834.0 ms), reports 20.0 ms"
	if got := formatSteps(steps); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := nightlySteps("settle: no database\n"); err == nil || !strings.Contains(err.Error(), "no step") {
		t.Errorf("a log without steps: %v", err)
	}
	if _, err := nightlySteps(`msg=reconciled took=1s load=x match=1s adopt=1s store=1s`); err == nil || !strings.Contains(err.Error(), "load") {
		t.Errorf("a reconciliation without its load time: %v", err)
	}
}

// settle reconcile --format json's took_ms, read back.
func TestReconcileSteps(t *testing.T) {
	k, err := reconcileSteps(`{"run_id": 1, "took_ms": {"total": 3500, "load": 1000, "match": 500, "adopt": 1900, "store": 100}, "runs": []}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stepString(k), "load 1.00 s, match 500.0 ms, adopt 1.90 s, store 100.0 ms"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	for _, out := range []string{"settle: locked\n", `{"run_id": 1}`} {
		if _, err := reconcileSteps(out); err == nil {
			t.Errorf("%q: no error", out)
		}
	}
}

// settle record --format json's took_ms, as the bench shows it.
func TestRecordSteps(t *testing.T) {
	got := showRecordSteps(`{"files": [], "took_ms": {"total": 27074, "open": 7, "events": 26154, "commit": 900, "close": 13}}`)
	if want := "open 7.0 ms, events 26.15 s, commit 900.0 ms, close 13.0 ms"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	for _, out := range []string{"feed.jsonl: 9 events recorded, 0 already recorded, 0 skipped\n", `{"files": []}`} {
		if _, err := recordSteps(out); err == nil {
			t.Errorf("%q: no error", out)
		}
	}
}
