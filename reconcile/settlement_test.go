package reconcile

import (
	"slices"
	"testing"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// A provider's available_on that differs from a ledger estimate is adopted,
// not raised; one that differs from a told date is a mismatch.
func TestEstimatedAvailableOnIsAdopted(t *testing.T) {
	provDate := hours(24 * 7)
	recs := []provider.Record{
		prov("txn_1", "charge", "charge", "ch_1", 1000, 30, hours(0)),
		prov("txn_2", "charge", "charge", "ch_2", 2000, 60, hours(1)),
	}
	recs[0].AvailableOn, recs[1].AvailableOn = provDate, provDate
	recs[0].Status, recs[1].Status = "available", "available"
	estimated := bt("bt_1", "charge", "charge", "ch_1", 1000, 30, hours(0))
	estimated.AvailableOn, estimated.AvailableOnEstimated, estimated.Status = hours(48), true, "pending"
	told := bt("bt_2", "charge", "charge", "ch_2", 2000, 60, hours(1))
	told.AvailableOn = hours(48)
	r := MatchBalances(recs, []ledger.BalanceTransaction{estimated, told}, nil)
	if r.Summary.Matched != 1 || r.Summary.Mismatched != 1 {
		t.Fatalf("summary %+v, want 1 matched (estimated) and 1 mismatched (told)", r.Summary)
	}
	if len(r.Adoptions) != 1 || r.Adoptions[0] != (Adoption{LedgerID: "bt_1", ProviderID: "txn_1", AvailableOn: provDate}) {
		t.Errorf("adoptions %+v", r.Adoptions)
	}
	o := findOutcome(r, "txn_2")
	if o == nil || len(o.Diffs) != 1 || o.Diffs[0].Field != FieldAvailableOn {
		t.Errorf("told date: %+v, want one available_on diff", o)
	}
	// With available_on left out of the comparison, the told date is not raised.
	r = MatchBalances(recs, []ledger.BalanceTransaction{estimated, told}, &Options{Fields: []string{FieldFee, FieldNet}})
	if r.Summary.Matched != 2 {
		t.Errorf("fields fee,net: summary %+v, want 2 matched", r.Summary)
	}
}

// An automatic payout whose ledger composition lacks one of the provider's
// charges raises one payout exception naming it; a payout with no members
// in the ledger (a manual one) raises none.
func TestPayoutCompositionAgainstProviderGrouping(t *testing.T) {
	recs := []provider.Record{
		withPayout(prov("txn_1", "charge", "charge", "ch_1", 1000, 30, hours(0)), "po_1"),
		withPayout(prov("txn_2", "charge", "charge", "ch_2", 2000, 60, hours(1)), "po_1"),
		withPayout(prov("txn_3", "charge", "charge", "ch_3", 500, 15, hours(2)), "po_1"),
		prov("txn_p", "payout", "payout", "po_1", -3395, 0, hours(30)),
		withPayout(prov("txn_4", "charge", "charge", "ch_4", 700, 0, hours(40)), "po_2"),
		prov("txn_q", "payout", "payout", "po_2", -700, 0, hours(60)),
	}
	po1 := bt("bt_p", "payout", "payout", "po_1", -3395, 0, hours(30))
	po1.SourceID = "po_1"
	po2 := bt("bt_q", "payout", "payout", "po_2", -700, 0, hours(60))
	po2.SourceID = "po_2"
	bts := []ledger.BalanceTransaction{
		btPayout(bt("bt_1", "charge", "charge", "ch_1", 1000, 30, hours(0)), "po_1"),
		btPayout(bt("bt_2", "charge", "charge", "ch_2", 2000, 60, hours(1)), "po_1"),
		// ch_3 is not in the books; ch_4 is, outside any payout (po_2 is manual).
		bt("bt_4", "charge", "charge", "ch_4", 700, 0, hours(40)),
		po1, po2,
	}
	r := MatchBalances(recs, bts, nil)
	var payouts []Outcome
	for _, o := range r.Outcomes {
		if o.Kind == PayoutMismatch {
			payouts = append(payouts, o)
		}
	}
	if len(payouts) != 1 {
		t.Fatalf("%d payout exceptions, want 1: %+v", len(payouts), payouts)
	}
	f := payouts[0].Payout
	if payouts[0].LedgerID != "bt_p" || f.Side != "ledger" || !slices.Equal(f.Missing, []string{"txn_3"}) || f.MissingCount != 1 ||
		f.ExtraCount != 0 || f.SweptNet != 2910 || f.Amount != 3395 {
		t.Errorf("payout exception %+v %+v", payouts[0], *f)
	}
	if r.Summary.MissingInLedger != 1 {
		t.Errorf("summary %+v, want ch_3 missing in ledger", r.Summary)
	}
}

// A test-mode record the books never had is skipped, not missing; one the
// books recorded (sandbox books) pairs like any other.
func TestTestModeRecords(t *testing.T) {
	unpaired := prov("txn_1", "charge", "charge", "ch_1", 1000, 0, hours(0))
	unpaired.Test = true
	paired := prov("txn_2", "charge", "charge", "ch_2", 2000, 0, hours(1))
	paired.Test = true
	r := MatchBalances([]provider.Record{unpaired, paired},
		[]ledger.BalanceTransaction{bt("bt_2", "charge", "charge", "ch_2", 2000, 0, hours(1))}, nil)
	if r.Summary.Skipped != 1 || r.Summary.Matched != 1 || r.Summary.MissingInLedger != 0 {
		t.Errorf("summary %+v, want 1 skipped and 1 matched", r.Summary)
	}
}
