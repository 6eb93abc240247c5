package reconcile

import (
	"fmt"
	"testing"

	"github.com/settlehq/settle/provider"
)

func TestPlanExceptions(t *testing.T) {
	scope := Scope{Provider: "stripe", Grain: provider.BalanceGrain, From: hours(0), To: hours(24)}
	recs, bts := stripeScenario()
	run1 := MatchBalances(recs, bts, nil)
	p1 := PlanExceptions(scope, nil, run1.Outcomes)
	if len(p1.Open) != 7 || len(p1.Refresh)+len(p1.Close)+len(p1.Ignored) != 0 {
		t.Fatalf("first run: %d open, %+v", len(p1.Open), p1)
	}
	known := p1.Open
	for i := range known { // as a store numbers them
		known[i].ID, known[i].FirstRun, known[i].LastRun = int64(i+1), 1, 1
	}
	// Someone ignores the duplicate; an exception outside the window is open too.
	for i := range known {
		if known[i].Kind == Duplicate {
			known[i].Status = ExceptionIgnored
		}
	}
	known = append(known, Exception{ID: 99, Fingerprint: "missing_in_ledger|stripe|charge|txn_0||",
		Status: ExceptionOpen, Provider: "stripe", Grain: provider.BalanceGrain, At: hours(-48)})

	// The same inputs again: nothing new, nothing closed.
	p2 := PlanExceptions(scope, known, MatchBalances(recs, bts, nil).Outcomes)
	if len(p2.Open) != 0 || len(p2.Close) != 0 || len(p2.Refresh) != 6 || len(p2.Ignored) != 1 {
		t.Fatalf("same inputs: %+v", p2)
	}
	if p2.Refresh[0].ID == 0 || p2.Refresh[0].FirstRun != 1 {
		t.Errorf("refreshed = %+v, want the stored exception's id and first run", p2.Refresh[0])
	}

	// The ledger books the missing charge and fixes the fee: those two close;
	// the old exception outside the window stays open.
	bts[4].Fee, bts[4].Net = 350, 8000-350
	bts = append(bts, bt("bt_10", "charge", "charge", "ch_4", 4200, 152, hours(5)))
	p3 := PlanExceptions(scope, known, MatchBalances(recs, bts, nil).Outcomes)
	var closed []string
	for _, e := range p3.Close {
		closed = append(closed, e.ProviderID)
		if e.Status != ExceptionResolved || e.ID == 0 {
			t.Errorf("closed = %+v", e)
		}
	}
	if len(p3.Open) != 0 || len(p3.Refresh) != 4 || fmt.Sprint(closed) != "[txn_5 txn_6]" {
		t.Fatalf("after fixes: closed %v, %+v", closed, p3)
	}
}

// A resolved exception found again is reopened under its own id, never
// opened anew.
func TestPlanExceptionsReopens(t *testing.T) {
	scope := Scope{Provider: "stripe", Grain: provider.BalanceGrain}
	recs, bts := stripeScenario()
	out := MatchBalances(recs, bts, nil).Outcomes
	known := PlanExceptions(scope, nil, out).Open
	for i := range known {
		known[i].ID, known[i].Status = int64(i+1), ExceptionResolved
	}
	p := PlanExceptions(scope, known, out)
	if len(p.Open) != 0 || len(p.Reopen) != len(known) {
		t.Fatalf("open %d, reopen %d, want 0 and %d", len(p.Open), len(p.Reopen), len(known))
	}
	for _, e := range p.Reopen {
		if e.ID == 0 || e.Status != ExceptionOpen {
			t.Errorf("reopened %+v", e)
		}
	}
}
