package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/settlehq/settle/app"
)

// demoLedger records the demo month and imports its Stripe export.
func demoLedger(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "t.db")
	for _, args := range [][]string{
		{"record", "../../testdata/demo/events.jsonl"},
		{"import", "../../testdata/demo/stripe-balance-2026-11.csv"},
	} {
		if code, out, errOut := runCLI(t, append([]string{"--db", db}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	return db
}

type reconcileJSON struct {
	RunID             int64 `json:"run_id"`
	Matched           int   `json:"matched"`
	Mismatched        int   `json:"mismatched"`
	MissingInLedger   int   `json:"missing_in_ledger"`
	MissingAtProvider int   `json:"missing_at_provider"`
	Duplicates        int   `json:"duplicates"`
	PayoutMismatches  int   `json:"payout_mismatches"`
	Opened            int   `json:"exceptions_opened"`
	Closed            int   `json:"exceptions_closed"`
	OpenExceptions    int   `json:"open_exceptions"`
}

// reconcileTook is the step timings of a reconcile's JSON.
type reconcileTook struct {
	Took *app.TookMS `json:"took_ms"`
	Runs []struct {
		Took *app.TookMS `json:"took_ms"`
	} `json:"runs"`
}

func reconcileRun(t *testing.T, db string, extra ...string) (int, reconcileJSON) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"--db", db, "reconcile", "--format", "json"}, extra...)...)
	var r reconcileJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("reconcile json: %v\n%s\n%s", err, out, errOut)
	}
	for _, key := range []string{`"run_id"`, `"matched"`, `"mismatched"`, `"missing_in_ledger"`, `"missing_at_provider"`, `"duplicates"`} {
		if !strings.Contains(out, key) {
			t.Errorf("reconcile JSON lacks %s", key)
		}
	}
	var k reconcileTook
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatalf("reconcile json: %v\n%s", err, out)
	}
	checkTook(t, k)
	return code, r
}

// checkTook checks the step timings of a reconcile's JSON: each run's
// total is the sum of its steps, and the totals' the sum of the runs'.
func checkTook(t *testing.T, r reconcileTook) {
	t.Helper()
	if r.Took == nil || len(r.Runs) == 0 {
		t.Fatalf("reconcile JSON without took_ms or runs: %+v", r)
	}
	var sum app.TookMS
	for i, run := range r.Runs {
		k := run.Took
		if k == nil {
			t.Fatalf("run %d has no took_ms", i)
		}
		if k.Load < 0 || k.Match < 0 || k.Adopt < 0 || k.Store < 0 || k.Total != k.Load+k.Match+k.Adopt+k.Store {
			t.Errorf("run %d took_ms %+v: the total is not the sum of its steps", i, *k)
		}
		sum = *sum.Plus(k)
	}
	if *r.Took != sum {
		t.Errorf("took_ms of the totals %+v, the runs' add up to %+v", *r.Took, sum)
	}
}

func exceptionsJSON(t *testing.T, db, status string) []map[string]any {
	t.Helper()
	code, out, errOut := runCLI(t, "--db", db, "exceptions", "--status", status, "--format", "json")
	if code != 0 {
		t.Fatalf("exceptions: exit %d %s", code, errOut)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	return list
}

// The demo export differs from the ledger in four planted ways; everything
// else must match.
func TestReconcileKnownAnswer(t *testing.T) {
	db := demoLedger(t)
	code, r := reconcileRun(t, db)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := reconcileJSON{RunID: 1, Matched: 10, Mismatched: 1, MissingInLedger: 1, MissingAtProvider: 1, Duplicates: 1, Opened: 4, OpenExceptions: 4}
	if r != want {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	kinds := map[string]string{}
	for _, e := range exceptionsJSON(t, db, "open") {
		id, _ := e["provider_id"].(string)
		if id == "" {
			id, _ = e["ledger_id"].(string)
		}
		kinds[id] = e["kind"].(string)
	}
	wantKinds := map[string]string{"txn_1Q0d006": "mismatched", "txn_1Q0d012": "missing_in_ledger", "txn_1Q0d009": "duplicate"}
	for id, k := range wantKinds {
		if kinds[id] != k {
			t.Errorf("%s: kind %q, want %q (all: %v)", id, kinds[id], k, kinds)
		}
	}

	// Re-running the same window on the same data: same figures, no new exceptions.
	_, again := reconcileRun(t, db)
	if again.RunID != 2 || again.Matched != 10 || again.Mismatched != 1 || again.Opened != 0 || again.Closed != 0 || again.OpenExceptions != 4 {
		t.Errorf("re-run: %+v", again)
	}
	if n := len(exceptionsJSON(t, db, "all")); n != 4 {
		t.Errorf("%d exceptions after re-run, want 4", n)
	}

	// --fail-on-exceptions exits 3 while exceptions are open.
	if code, _ := reconcileRun(t, db, "--fail-on-exceptions"); code != exitExceptions {
		t.Errorf("--fail-on-exceptions: exit %d, want 3", code)
	}
}

// Open → resolved by a booked entry → the next run agrees.
func TestExceptionLifecycle(t *testing.T) {
	db := demoLedger(t)
	reconcileRun(t, db)
	ids := map[string]string{}
	for _, e := range exceptionsJSON(t, db, "open") {
		ids[e["kind"].(string)] = strings.TrimSuffix(strings.TrimSuffix(jsonNumber(e["id"]), ".0"), ".00")
	}
	for _, kind := range []string{"mismatched", "missing_in_ledger", "missing_at_provider"} {
		code, out, errOut := runCLI(t, "--db", db, "exceptions", "resolve", ids[kind], "--book")
		if code != 0 || !strings.Contains(out, "booked entry") {
			t.Fatalf("resolve %s (%s): exit %d\n%s%s", kind, ids[kind], code, out, errOut)
		}
	}
	// A duplicate at the provider has nothing to book.
	if code, _, errOut := runCLI(t, "--db", db, "exceptions", "resolve", ids["duplicate"], "--book"); code != 1 || !strings.Contains(errOut, "no adjusting entry") {
		t.Errorf("resolve duplicate --book: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "--db", db, "exceptions", "ignore", ids["duplicate"]); code != 2 {
		t.Errorf("ignore without --note: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "--db", db, "exceptions", "ignore", ids["duplicate"], "--note", "listed twice by Stripe"); code != 0 {
		t.Fatalf("ignore: exit %d %s", code, errOut)
	}
	code, r := reconcileRun(t, db, "--fail-on-exceptions")
	if code != 0 || r.Matched != 12 || r.Mismatched != 0 || r.MissingInLedger != 0 || r.MissingAtProvider != 0 || r.OpenExceptions != 0 {
		t.Errorf("after resolving: exit %d %+v", code, r)
	}
	for _, e := range exceptionsJSON(t, db, "all") {
		if e["status"] == "open" {
			t.Errorf("still open: %v", e)
		}
	}
	if code, out, _ := runCLI(t, "--db", db, "verify"); code != 0 {
		t.Errorf("verify after booked fixes: %s", out)
	}
}

// A fixed difference closes its exception on the next run, without a resolve.
func TestRunClosesWhatItNoLongerFinds(t *testing.T) {
	db := demoLedger(t)
	reconcileRun(t, db)
	// The ledger books the charge the provider reported and it lacked.
	fix := writeFile(t, t.TempDir(), "fix.jsonl", `{"id":"fix-1","type":"payment.captured","at":"2026-11-07T10:00:00Z","payment":"order-1010","provider":"stripe","provider_ref":"ch_3Q1010","currency":"usd","amount":"55.00","fees":[{"type":"stripe_fee","amount":"1.90"}],"available_on":"2026-11-09T00:00:00Z"}`+"\n")
	if code, _, errOut := runCLI(t, "--db", db, "record", fix); code != 0 {
		t.Fatal(errOut)
	}
	_, r := reconcileRun(t, db)
	if r.MissingInLedger != 0 || r.Closed != 1 || r.Matched != 11 {
		t.Errorf("after recording the missing charge: %+v", r)
	}
}

// Payment grain: Whop payments (major units) against payments recorded
// through the event feed.
func TestReconcilePaymentGrain(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	whop := writeFile(t, dir, "whop.json", `{"data":[
{"id":"pay_A","status":"paid","subtotal":20.0,"final_amount":20.0,"refunded_amount":0,"currency":"usd","created_at":1762077590,"paid_at":1762077590},
{"id":"pay_B","status":"paid","subtotal":6.9,"final_amount":6.9,"refunded_amount":2.5,"currency":"usd","created_at":1762077700,"paid_at":1762077700},
{"id":"pay_C","status":"paid","subtotal":12.0,"final_amount":12.0,"refunded_amount":0,"currency":"usd","created_at":1762077800,"paid_at":1762077800}
],"pagination":{"current_page":1,"total_pages":1}}`)
	events := writeFile(t, dir, "e.jsonl", `{"id":"w1","type":"payment.captured","at":"2025-11-02T10:00:00Z","payment":"pay_A","provider":"whop","provider_ref":"pay_A","currency":"usd","amount":"20.00"}
{"id":"w2","type":"payment.captured","at":"2025-11-02T10:01:40Z","payment":"pay_B","provider":"whop","provider_ref":"pay_B","currency":"usd","amount":"6.90"}
{"id":"w3","type":"payment.captured","at":"2025-11-02T10:05:00Z","payment":"pay_D","provider":"whop","provider_ref":"pay_D","currency":"usd","amount":"9.00"}
`)
	for _, args := range [][]string{{"record", events}, {"import", whop}} {
		if code, out, errOut := runCLI(t, append([]string{"--db", db}, args...)...); code != 0 {
			t.Fatalf("%v: %s%s", args, out, errOut)
		}
	}
	_, r := reconcileRun(t, db)
	// pay_A matches; pay_B differs on refunded (2.50 at Whop, 0 in the ledger);
	// pay_C is missing in the ledger; pay_D is missing at Whop.
	if r.Matched != 1 || r.Mismatched != 1 || r.MissingInLedger != 1 || r.MissingAtProvider != 1 {
		t.Errorf("payment grain: %+v", r)
	}
	// A window that starts between Whop's time of pay_A (ten seconds
	// early) and the ledger's: the record is left out, the payment is in,
	// and the link the first run stored keeps it from being missing at
	// Whop. (A run over a window reads only its ledger ids' links.)
	if _, r := reconcileRun(t, db, "--from", "2025-11-02T09:59:55Z"); r.Matched != 0 || r.Mismatched != 1 ||
		r.MissingInLedger != 1 || r.MissingAtProvider != 1 {
		t.Errorf("payment grain, a window that leaves pay_A's record out: %+v", r)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Payment grain through the real importers: the JustiFi payments list and
// the Payments API V3 export of testdata/importers, against payments the
// ledger recorded from the event feed, with planted differences.
func TestReconcilePaymentGrainJustiFiAndPaymentsV3(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	events := writeFile(t, dir, "e.jsonl", `{"id":"j1","type":"payment.captured","at":"2024-06-06T12:00:00Z","payment":"py_438Rr8Y4GU8eNh4mDhBpmP","provider":"justifi","provider_ref":"py_438Rr8Y4GU8eNh4mDhBpmP","currency":"usd","amount":"100.00"}
{"id":"j2","type":"payment.refunded","at":"2024-06-08T12:00:00Z","payment":"py_438Rr8Y4GU8eNh4mDhBpmP","refund":"jr1","amount":"20.00"}
{"id":"j3","type":"payment.captured","at":"2024-06-07T12:00:00Z","payment":"py_2aBbfv6ksXbPLIxKSJtmQi","provider":"justifi","provider_ref":"py_2aBbfv6ksXbPLIxKSJtmQi","currency":"usd","amount":"50.00"}
{"id":"j4","type":"dispute.opened","at":"2024-06-09T12:00:00Z","payment":"py_2aBbfv6ksXbPLIxKSJtmQi","dispute":"jd1","amount":"50.00"}
{"id":"j5","type":"payment.authorized","at":"2024-06-10T15:45:30Z","payment":"py_7hYdnUuD8sE0eJ1sIk3mNc","provider":"justifi","provider_ref":"py_7hYdnUuD8sE0eJ1sIk3mNc","currency":"cad","amount":"25.99"}
{"id":"j6","type":"payment.captured","at":"2024-06-11T09:00:00Z","payment":"py_onlyinledger","provider":"justifi","provider_ref":"py_onlyinledger","currency":"usd","amount":"12.00"}
{"id":"v1","type":"payment.captured","at":"2024-03-15T10:30:00Z","payment":"pay_1a2b3c4d5e6f","provider":"paymentsv3","provider_ref":"pay_1a2b3c4d5e6f","currency":"usd","amount":"29.99"}
`)
	for _, args := range [][]string{{"record", events},
		{"import", "../../testdata/importers/justifi-payments-json/payments.json"},
		{"import", "../../testdata/importers/paymentsv3-json/payments_and_refunds.json"}} {
		if code, out, errOut := runCLI(t, append([]string{"--db", db}, args...)...); code != 0 {
			t.Fatalf("%v: %s%s", args, out, errOut)
		}
	}
	for _, tc := range []struct {
		provider string
		want     reconcileJSON
	}{
		// JustiFi: py_2aB (captured and disputed 50.00) and the authorized CAD
		// payment match; py_438 was refunded 25.00 at JustiFi but 20.00 in the
		// ledger; py_onlyinledger is missing at JustiFi.
		{"justifi", reconcileJSON{Matched: 2, Mismatched: 1, MissingAtProvider: 1}},
		// Payments API V3: pay_1a2b was refunded 15.00 there, not in the
		// ledger; the pending pay_2b3c is live at the provider and unknown to
		// the ledger (it should hold its authorization); the failed pay_3c4d
		// collected nothing and is skipped.
		{"paymentsv3", reconcileJSON{Matched: 0, Mismatched: 1, MissingInLedger: 1}},
	} {
		_, r := reconcileRun(t, db, "--provider", tc.provider)
		got := reconcileJSON{Matched: r.Matched, Mismatched: r.Mismatched, MissingInLedger: r.MissingInLedger,
			MissingAtProvider: r.MissingAtProvider, Duplicates: r.Duplicates}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.provider, got, tc.want)
		}
	}
	diffs := map[string]string{}
	for _, e := range exceptionsJSON(t, db, "open") {
		for _, d := range e["diffs"].([]any) {
			dm := d.(map[string]any)
			diffs[e["provider_id"].(string)+" "+dm["field"].(string)] = dm["ledger"].(string) + "→" + dm["provider"].(string)
		}
	}
	if diffs["py_438Rr8Y4GU8eNh4mDhBpmP refunded"] != "20.00→25.00" || diffs["pay_1a2b3c4d5e6f refunded"] != "0.00→15.00" {
		t.Errorf("refunded diffs: %v", diffs)
	}
}

// A correction booked today still fixes a transaction inside an earlier
// window: windowed runs read corrections whenever they were made.
func TestCorrectionOutsideWindowStillApplies(t *testing.T) {
	db := demoLedger(t)
	window := []string{"--from", "2026-11-01", "--to", "2026-11-10"}
	if _, r := reconcileRun(t, db, window...); r.Mismatched != 1 {
		t.Fatalf("before the fix: %+v", r)
	}
	var id string
	for _, e := range exceptionsJSON(t, db, "open") {
		if e["kind"] == "mismatched" {
			id = jsonNumber(e["id"])
		}
	}
	if code, _, errOut := runCLI(t, "--db", db, "exceptions", "resolve", id, "--book"); code != 0 {
		t.Fatal(errOut)
	}
	// The correction is dated now, after the window; the run must still see it.
	if _, r := reconcileRun(t, db, window...); r.Mismatched != 0 || r.Opened != 0 {
		t.Errorf("after the fix: %+v", r)
	}
}
