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
	n := 0
	newID := func() string { n++; return fmt.Sprintf("exc_%d", n) }

	p1 := PlanExceptions(scope, "run_1", nil, run1.Outcomes, hours(30), newID)
	if len(p1.Open) != 7 || len(p1.Refresh)+len(p1.Close)+len(p1.Ignored) != 0 {
		t.Fatalf("first run: %d open, %+v", len(p1.Open), p1)
	}
	known := p1.Open
	// Someone ignores the duplicate; an exception outside the window is open too.
	for i := range known {
		if known[i].Kind == Duplicate {
			known[i].Status = ExceptionIgnored
		}
	}
	known = append(known, Exception{ID: "exc_old", Fingerprint: "missing_in_ledger|stripe|charge|txn_0||",
		Status: ExceptionOpen, Provider: "stripe", Grain: provider.BalanceGrain, At: hours(-48)})

	// The same inputs again: nothing new, nothing closed.
	p2 := PlanExceptions(scope, "run_2", known, MatchBalances(recs, bts, nil).Outcomes, hours(31), newID)
	if len(p2.Open) != 0 || len(p2.Close) != 0 || len(p2.Refresh) != 6 || len(p2.Ignored) != 1 {
		t.Fatalf("same inputs: %+v", p2)
	}
	if p2.Refresh[0].OpenedRun != "run_1" || p2.Refresh[0].LastRun != "run_2" {
		t.Errorf("refreshed = %+v", p2.Refresh[0])
	}

	// The ledger books the missing charge and fixes the fee: those two close;
	// the old exception outside the window stays open.
	bts[4].Fee, bts[4].Net = 350, 8000-350
	bts = append(bts, bt("bt_10", "charge", "charge", "ch_4", 4200, 152, hours(5)))
	p3 := PlanExceptions(scope, "run_3", known, MatchBalances(recs, bts, nil).Outcomes, hours(32), newID)
	var closed []string
	for _, e := range p3.Close {
		closed = append(closed, e.ProviderID)
		if e.Status != ExceptionResolved || e.ClosedRun != "run_3" {
			t.Errorf("closed = %+v", e)
		}
	}
	if len(p3.Open) != 0 || len(p3.Refresh) != 4 || fmt.Sprint(closed) != "[txn_5 txn_6]" {
		t.Fatalf("after fixes: closed %v, %+v", closed, p3)
	}
}
