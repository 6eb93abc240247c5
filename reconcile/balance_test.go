package reconcile

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

var t0 = time.Date(2024, 6, 6, 12, 0, 0, 0, time.UTC)

func hours(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// prov is a Stripe-style balance record.
func prov(id, typ, cat, ref string, amount, fee int64, at time.Time) provider.Record {
	return provider.Record{Provider: "stripe", Grain: provider.BalanceGrain, ID: id, Type: typ, ReportingCategory: cat,
		SourceRef: ref, Currency: "usd", Amount: amount, Fee: fee, Net: amount - fee, Status: "available", Created: at}
}

// bt is a ledger balance transaction.
func bt(id, typ, cat, ref string, amount, fee int64, at time.Time) ledger.BalanceTransaction {
	return ledger.BalanceTransaction{ID: id, Provider: "stripe", Type: typ, ReportingCategory: cat, SourceRef: ref,
		Currency: "usd", Amount: amount, Fee: fee, Net: amount - fee, Status: "available", Created: at}
}

func withPayout(r provider.Record, po string) provider.Record { r.PayoutID = po; return r }
func btPayout(b ledger.BalanceTransaction, po string) ledger.BalanceTransaction {
	b.PayoutID = po
	return b
}

// stripeScenario has one subject per outcome the balance grain knows.
func stripeScenario() ([]provider.Record, []ledger.BalanceTransaction) {
	recs := []provider.Record{
		withPayout(prov("txn_1", "charge", "charge", "ch_1", 10000, 320, hours(0)), "po_1"),
		// partial capture: 6000 of an authorized 10000, the ledger captured 6000 too
		withPayout(prov("txn_2", "charge", "charge", "ch_2", 6000, 204, hours(1)), "po_1"),
		withPayout(prov("txn_3", "refund", "refund", "re_1", -2500, 0, hours(2)), "po_1"),
		prov("txn_4", "adjustment", "dispute", "dp_1", -5000, 1500, hours(3)),
		prov("txn_5", "charge", "charge", "ch_3", 8000, 350, hours(4)),                      // the provider changed the fee
		prov("txn_6", "charge", "charge", "ch_4", 4200, 152, hours(5)),                      // the ledger lacks it
		withPayout(prov("txn_1", "charge", "charge", "ch_1", 10000, 320, hours(0)), "po_1"), // a duplicated export row
		prov("txn_7", "charge", "charge", "", 7777, 0, hours(6)),                            // no reference: heuristic, an hour apart
		prov("txn_8", "charge", "charge", "ch_8", 3000, 0, hours(7)),                        // still pending in the ledger
		// the payout says 13000 but swept 9680 + 5796 − 2500 = 12976
		prov("txn_9", "payout", "payout", "po_1", -13000, 0, hours(24)),
	}
	bts := []ledger.BalanceTransaction{
		btPayout(bt("bt_1", "charge", "charge", "ch_1", 10000, 320, hours(0)), "pay_1"),
		btPayout(bt("bt_2", "charge", "charge", "ch_2", 6000, 204, hours(1)), "pay_1"),
		btPayout(bt("bt_3", "refund", "refund", "re_1", -2500, 0, hours(2)), "pay_1"),
		bt("bt_4", "adjustment", "dispute", "dp_1", -5000, 1500, hours(3)),
		bt("bt_5", "charge", "charge", "ch_3", 8000, 320, hours(4)),
		bt("bt_6", "charge", "charge", "ch_5", 9900, 317, hours(5)), // the provider lacks it
		bt("bt_7", "charge", "charge", "ch_7", 7777, 0, hours(7)),
		bt("bt_8", "charge", "charge", "ch_8", 3000, 0, hours(7)),
		bt("bt_9", "payout", "payout", "po_1", -12976, 0, hours(24)),
	}
	bts[7].Status = ledger.BTPending
	bts[8].SourceID = "pay_1"
	return recs, bts
}

func TestMatchBalancesScenario(t *testing.T) {
	recs, bts := stripeScenario()
	r := MatchBalances(recs, bts, nil)

	want := Summary{ProviderRecords: 10, LedgerRecords: 9, Matched: 5, Mismatched: 3, MissingInLedger: 1,
		MissingAtProvider: 1, Duplicates: 1, Heuristic: 1, PayoutMismatches: 1}
	if r.Summary != want {
		t.Errorf("summary\n got %+v\nwant %+v", r.Summary, want)
	}
	type row struct {
		kind          OutcomeKind
		pid, lid      string
		fields        []string
		heuristic     bool
		payoutSide    string
		payoutAmount  int64
		payoutSweptNt int64
	}
	var got []row
	for _, o := range r.Outcomes {
		var fs []string
		for _, d := range o.Diffs {
			fs = append(fs, d.Field)
		}
		x := row{kind: o.Kind, pid: o.ProviderID, lid: o.LedgerID, fields: fs, heuristic: o.Heuristic}
		if o.Payout != nil {
			x.payoutSide, x.payoutAmount, x.payoutSweptNt = o.Payout.Side, o.Payout.Amount, o.Payout.SweptNet
		}
		got = append(got, x)
	}
	wantRows := []row{
		{kind: Mismatched, pid: "txn_5", lid: "bt_5", fields: []string{"fee", "net"}},
		{kind: Mismatched, pid: "txn_8", lid: "bt_8", fields: []string{"status"}},
		{kind: Mismatched, pid: "txn_9", lid: "bt_9", fields: []string{"amount", "net"}},
		{kind: MissingInLedger, pid: "txn_6"},
		{kind: MissingAtProvider, lid: "bt_6"},
		{kind: Duplicate, pid: "txn_1", lid: "bt_1"},
		{kind: PayoutMismatch, pid: "txn_9", lid: "bt_9", payoutSide: "provider", payoutAmount: 13000, payoutSweptNt: 12976},
	}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("outcomes\n got %+v\nwant %+v", got, wantRows)
	}
	if o := findOutcome(r, "txn_7"); o != nil {
		t.Errorf("the heuristic pair is listed: %+v", o)
	}
	fee := r.Outcomes[0].Diffs[0]
	if fee != (Diff{Field: "fee", Ledger: "320", Provider: "350"}) {
		t.Errorf("fee diff = %+v", fee)
	}
	// Links: every pair but the duplicate's, ordered by provider id.
	var links []string
	for _, l := range r.Links {
		links = append(links, l.ProviderID+">"+l.LedgerID)
	}
	wantLinks := []string{"txn_1>bt_1", "txn_2>bt_2", "txn_3>bt_3", "txn_4>bt_4", "txn_5>bt_5", "txn_7>bt_7", "txn_8>bt_8", "txn_9>bt_9"}
	if !slices.Equal(links, wantLinks) {
		t.Errorf("links = %v, want %v", links, wantLinks)
	}
}

func TestMatchBalancesLedgerPayoutMismatch(t *testing.T) {
	bts := []ledger.BalanceTransaction{
		btPayout(bt("bt_1", "charge", "charge", "ch_1", 1000, 30, hours(0)), "pay_1"),
		btPayout(bt("bt_2", "charge", "charge", "ch_2", 2000, 60, hours(1)), "pay_1"),
		bt("bt_3", "payout", "payout", "po_1", -3000, 0, hours(24)),
	}
	bts[2].SourceID = "pay_1"
	r := MatchBalances(nil, bts, nil)
	var pm []Outcome
	for _, o := range r.Outcomes {
		if o.Kind == PayoutMismatch {
			pm = append(pm, o)
		}
	}
	if len(pm) != 1 || !reflect.DeepEqual(*pm[0].Payout, PayoutFigures{Side: "ledger", Amount: 3000, SweptNet: 2910, Swept: 2}) {
		t.Fatalf("payout mismatches = %+v", pm)
	}
}

func TestMatchBalancesByLink(t *testing.T) {
	// The provider's reference changed (or was never there): the link from an
	// earlier run still pairs them, and is not returned as new.
	recs := []provider.Record{prov("txn_1", "charge", "charge", "", 500, 0, hours(0))}
	bts := []ledger.BalanceTransaction{
		bt("bt_1", "charge", "charge", "ch_1", 500, 0, hours(0)),
		bt("bt_2", "charge", "charge", "ch_2", 500, 0, hours(1)), // would make the heuristic ambiguous
		bt("bt_3", "charge", "charge", "ch_3", 900, 0, hours(1)), // linked to a record outside this run
	}
	r := MatchBalances(recs, bts, &Options{Links: map[string]string{"txn_1": "bt_1", "txn_0": "bt_3"}})
	if r.Summary.Matched != 1 || r.Summary.MissingAtProvider != 1 || len(r.Links) != 0 {
		t.Fatalf("summary %+v links %v outcomes %+v", r.Summary, r.Links, r.Outcomes)
	}
	if o := r.Outcomes[0]; o.Kind != MissingAtProvider || o.LedgerID != "bt_2" {
		t.Errorf("outcome = %+v", o)
	}
}

func TestMatchBalancesSharedReference(t *testing.T) {
	// Two refunds under one reference in the ledger, three at the provider:
	// equal amounts pair first, the extra record is a duplicate claimant.
	recs := []provider.Record{
		prov("txn_a", "refund", "refund", "re_1", -300, 0, hours(0)),
		prov("txn_b", "refund", "refund", "re_1", -700, 0, hours(1)),
		prov("txn_c", "refund", "refund", "re_1", -700, 0, hours(2)),
	}
	bts := []ledger.BalanceTransaction{
		bt("bt_x", "refund", "refund", "re_1", -700, 0, hours(0)),
		bt("bt_y", "refund", "refund", "re_1", -300, 0, hours(1)),
	}
	r := MatchBalances(recs, bts, nil)
	var links []string
	for _, l := range r.Links {
		links = append(links, l.ProviderID+">"+l.LedgerID)
	}
	if !slices.Equal(links, []string{"txn_a>bt_y", "txn_b>bt_x"}) {
		t.Errorf("links = %v", links)
	}
	if r.Summary.Duplicates != 1 || r.Outcomes[0].ProviderID != "txn_c" || r.Outcomes[0].LedgerID != "bt_x" {
		t.Errorf("summary %+v outcomes %+v", r.Summary, r.Outcomes)
	}
}

func TestMatchBalancesJustiFiFold(t *testing.T) {
	jf := func(id, typ, cat, ref, payment string, amount int64, at time.Time) provider.Record {
		return provider.Record{Provider: "justifi", Grain: provider.BalanceGrain, ID: id, Type: typ, ReportingCategory: cat,
			SourceRef: ref, PaymentRef: payment, Currency: "usd", Amount: amount, Net: amount, Created: at}
	}
	// As the importer reads testdata/importers/justifi-balance-json.
	recs := []provider.Record{
		jf("pbt_1a", "payment", "charge", "py_1", "py_1", 10000, hours(0)),
		jf("pbt_1b", "payment_fee", "fee", "fee_1", "py_1", -300, hours(0)),
		jf("pbt_1c", "refund", "refund", "re_1", "py_1", -2500, hours(48)),
		jf("pbt_1d", "fee_refund", "fee", "fee_1", "py_1", 75, hours(48)),
		jf("pbt_2a", "payment", "charge", "py_2", "py_2", 5000, hours(24)),
		jf("pbt_2b", "dispute", "dispute", "dp_1", "py_2", -5000, hours(72)),
		jf("pbt_2c", "dispute_fee", "fee", "dp_1", "py_2", -1500, hours(72)),
		jf("pbt_2d", "dispute_refund", "dispute_reversal", "dp_1", "py_2", 5000, hours(300)),
		jf("pbt_2e", "dispute_fee_refund", "fee", "dp_1", "py_2", 1500, hours(300)),
	}
	jbt := func(id, typ, cat, ref string, amount, fee int64, at time.Time) ledger.BalanceTransaction {
		b := bt(id, typ, cat, ref, amount, fee, at)
		b.Provider, b.Status = "justifi", ""
		return b
	}
	bts := []ledger.BalanceTransaction{
		jbt("bt_1", "charge", "charge", "py_1", 10000, 300, hours(0)),
		jbt("bt_2", "refund", "refund", "re_1", -2500, 0, hours(48)),
		jbt("bt_3", "fee_refund", "fee", "fee_1", 75, 0, hours(48)),
		jbt("bt_4", "charge", "charge", "py_2", 5000, 0, hours(24)),
		jbt("bt_5", "adjustment", "dispute", "dp_1", -5000, 1400, hours(72)), // the ledger booked a 14.00 fee
		jbt("bt_6", "adjustment", "dispute_reversal", "dp_1", 5000, -1500, hours(300)),
	}
	r := MatchBalances(recs, bts, nil)
	want := Summary{ProviderRecords: 9, LedgerRecords: 6, Matched: 5, Mismatched: 1, Folded: 3}
	if r.Summary != want {
		t.Fatalf("summary\n got %+v\nwant %+v\n%+v", r.Summary, want, r.Outcomes)
	}
	o := r.Outcomes[0]
	if o.ProviderID != "pbt_2b" || o.LedgerID != "bt_5" || !slices.Equal(o.FoldedIDs, []string{"pbt_2c"}) ||
		!reflect.DeepEqual(o.Diffs, []Diff{{"fee", "1400", "1500"}, {"net", "-6400", "-6500"}}) {
		t.Errorf("outcome = %+v", o)
	}
}

func TestMatchBalancesDeterministic(t *testing.T) {
	recs, bts := stripeScenario()
	// Add ambiguity so that order would show if it mattered.
	recs = append(recs, prov("txn_x", "refund", "refund", "re_9", -100, 0, hours(3)),
		prov("txn_y", "refund", "refund", "re_9", -100, 0, hours(3)),
		prov("txn_1", "charge", "charge", "ch_1", 10001, 320, hours(0)))
	bts = append(bts, bt("bt_x", "refund", "refund", "re_9", -100, 0, hours(3)))
	want := MatchBalances(recs, bts, &Options{ListMatched: true})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r2, b2 := slices.Clone(recs), slices.Clone(bts)
		rng.Shuffle(len(r2), func(i, j int) { r2[i], r2[j] = r2[j], r2[i] })
		rng.Shuffle(len(b2), func(i, j int) { b2[i], b2[j] = b2[j], b2[i] })
		if got := MatchBalances(r2, b2, &Options{ListMatched: true}); !reflect.DeepEqual(got, want) {
			for i := range got.Outcomes {
				if !reflect.DeepEqual(got.Outcomes[i], want.Outcomes[i]) {
					t.Logf("%d: %#v\n%#v", i, got.Outcomes[i], want.Outcomes[i])
				}
			}
			t.Fatalf("shuffled input gave a different result:\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestKind(t *testing.T) {
	for _, c := range []struct{ provider, typ, cat, want string }{
		{"ledger", "charge", "charge", KindCharge},
		{"ledger", "adjustment", "dispute", KindDispute},
		{"ledger", "adjustment", "dispute_reversal", KindDisputeReversal},
		{"ledger", "payout_failure", "payout_reversal", KindPayoutFailure},
		{"ledger", "fee_refund", "fee", KindFeeRefund},
		{"stripe", "payment", "charge", KindCharge},
		{"stripe", "refund", "partial_capture_reversal", KindRefund},
		{"stripe", "stripe_fee", "fee", KindFee},
		{"justifi", "payment_fee", "fee", KindFee},
		{"justifi", "dispute_refund", "dispute_reversal", KindDisputeReversal},
		{"stripe", "topup", "topup", KindOther},
	} {
		if got := Kind(c.typ, c.cat); got != c.want {
			t.Errorf("%s: Kind(%q, %q) = %q, want %q", c.provider, c.typ, c.cat, got, c.want)
		}
	}
}

func findOutcome(r *Result, providerID string) *Outcome {
	for i := range r.Outcomes {
		if r.Outcomes[i].ProviderID == providerID {
			return &r.Outcomes[i]
		}
	}
	return nil
}
