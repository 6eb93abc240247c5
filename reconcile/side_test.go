package reconcile

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// variedRecords are balance records that differ in every field a
// ProviderSide keeps, rare ones included, many of them in only one.
func variedRecords(r *rand.Rand, n int) []provider.Record {
	pick := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	out := make([]provider.Record, n)
	for i := range out {
		rec := prov(fmt.Sprintf("txn_%d", r.IntN(n/3+1)), pick("charge", "refund", "payment", "payment_fee"),
			pick("charge", "refund", "fee"), pick("ch_1", "ch_2", ""), int64(r.IntN(3)*100), int64(r.IntN(2)*3), hours(r.IntN(3)))
		rec.Currency, rec.Status, rec.PayoutID = pick("usd", "eur", "USD"), pick("", "available", "pending"), pick("", "po_1")
		rec.Description, rec.File, rec.Line, rec.Test = pick("", "Order 1"), pick("a.csv", "b.csv"), r.IntN(3), r.IntN(5) == 0
		rec.Provider, rec.Net = pick("stripe", "justifi"), rec.Net+int64(r.IntN(2))
		switch r.IntN(8) {
		case 0:
			rec.Created = time.Time{}
		case 1:
			rec.Created = rec.Created.In(time.FixedZone("CET", 3600))
		}
		if r.IntN(3) == 0 {
			rec.AvailableOn = hours(24 + r.IntN(2))
		}
		if r.IntN(4) == 0 {
			rec.PaymentRef, rec.Captured, rec.Refunded, rec.Disputed = pick("", "py_1"), int64(r.IntN(2)), int64(r.IntN(2)), int64(r.IntN(2))
			rec.PresentmentAmount, rec.PresentmentCurrency, rec.ExchangeRate = int64(r.IntN(2)*90), pick("", "gbp"), pick("", "1.1")
			rec.Raw = pick("", "a,b", "a,c")
		}
		rec.Format, rec.Offset = "stripe-itemized-csv", int64(i) // not kept
		out[i] = rec
	}
	return out
}

// A ProviderSide gives back what it keeps of each record, times in UTC,
// and orders records as compareRecords orders them whole.
func TestProviderSideKeepsRecords(t *testing.T) {
	recs := variedRecords(rand.New(rand.NewPCG(1, 2)), 600)
	p := NewProviderSide(0)
	for i := range recs {
		p.Add(&recs[i])
	}
	if p.Len() != len(recs) {
		t.Fatalf("%d records, added %d", p.Len(), len(recs))
	}
	for i, want := range recs {
		want.Format, want.Offset, want.Grain = "", 0, provider.BalanceGrain
		if !want.Created.IsZero() {
			want.Created = want.Created.UTC()
		}
		if got := p.Record(i); !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	sign := func(c int) int { return cmp.Compare(c, 0) }
	for i := range recs {
		for j := range recs {
			if a, b := sign(p.compare(i, j)), sign(compareRecords(&recs[i], &recs[j])); a != b {
				t.Fatalf("records %d and %d: compare %d, compareRecords %d", i, j, a, b)
			}
		}
	}
}

// A LedgerSide gives back what it keeps of each transaction, and
// PatchSettlements changes the settlement of those named.
func TestLedgerSideKeepsTransactions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	bts := make([]ledger.BalanceTransaction, 300)
	for i := range bts {
		b := bt(fmt.Sprintf("bt_%d", i), []string{"charge", "refund", "payout"}[r.IntN(3)], "charge", "ch_1",
			int64(r.IntN(5)*100), int64(r.IntN(3)), hours(r.IntN(40)))
		b.SourceID, b.PayoutID, b.Status = fmt.Sprintf("pay_%d", r.IntN(9)), []string{"", "po_1"}[r.IntN(2)], []string{"pending", "available"}[r.IntN(2)]
		b.AvailableOnEstimated, b.SettlementEstimated = r.IntN(2) == 0, r.IntN(2) == 0
		if r.IntN(3) == 0 {
			b.AvailableOn = hours(48 + r.IntN(3))
			b.PresentmentAmount, b.PresentmentCurrency = int64(r.IntN(900)), "gbp"
		}
		bts[i] = b
	}
	l := NewLedgerSide(len(bts))
	for i := range bts {
		l.Add(&bts[i])
	}
	var got ledger.BalanceTransaction
	for i, want := range bts {
		if l.Transaction(i, &got); !reflect.DeepEqual(got, want) {
			t.Fatalf("transaction %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	changed := []ledger.SettlementChange{{ID: "bt_7", AvailableOn: hours(99), Estimated: false, PayoutID: "po_9", Status: "available"},
		{ID: "bt_404", AvailableOn: hours(1)}}
	l.PatchSettlements(changed)
	for i, want := range bts {
		if want.ID == "bt_7" {
			want.AvailableOn, want.AvailableOnEstimated, want.PayoutID, want.Status = hours(99), false, "po_9", "available"
		}
		if l.Transaction(i, &got); !reflect.DeepEqual(got, want) {
			t.Fatalf("patched transaction %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// Links given as a list pair as links given as a map do.
func TestLinkListPairsAsLinks(t *testing.T) {
	recs, bts, links := synthetic(5000)
	// A link to a duplicate's id, one to a transaction another record
	// holds, and one to a transaction not in the run.
	links[recs[10].ID] = bts[11].ID
	links["txn_gone"] = "bt_gone"
	recs = append(recs, recs[20])
	var list []Link
	for p, l := range links {
		list = append(list, Link{ProviderID: p, LedgerID: l})
	}
	want := MatchBalances(recs, bts, &Options{Links: links})
	got := MatchBalances(recs, bts, &Options{LinkList: list})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LinkList: %+v\nLinks:    %+v", got.Summary, want.Summary)
	}
	if want.Summary.Matched == 0 || want.Summary.Duplicates == 0 {
		t.Errorf("nothing to compare: %+v", want.Summary)
	}
	// Both at once, each link given twice.
	if both := MatchBalances(recs, bts, &Options{Links: links, LinkList: list}); !reflect.DeepEqual(both, want) {
		t.Errorf("Links and LinkList: %+v\nLinks:              %+v", both.Summary, want.Summary)
	}
}

// Outcomes' times are in UTC, whatever zone the records were in.
func TestOutcomeTimesInUTC(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	r := prov("txn_1", "charge", "charge", "ch_1", 100, 0, hours(0).In(cet))
	res := MatchBalances([]provider.Record{r}, nil, nil)
	if len(res.Outcomes) != 1 || res.Outcomes[0].At != hours(0) || !strings.HasSuffix(res.Outcomes[0].At.String(), "UTC") {
		t.Errorf("outcomes %+v", res.Outcomes)
	}
}

// After the ledger side's settlements are patched, the pairs found before
// compare as a match made anew would: the same Result.
func TestPairingResultAfterPatch(t *testing.T) {
	recs, bts, links := synthetic(20_000)
	for i := range recs {
		recs[i].AvailableOn = recs[i].Created.Add(72 * time.Hour)
	}
	for j := range bts {
		if j%3 != 0 {
			bts[j].AvailableOn, bts[j].AvailableOnEstimated = bts[j].Created.Add(48*time.Hour), true
		}
	}
	p, l := NewProviderSide(len(recs)), NewLedgerSide(len(bts))
	for i := range recs {
		p.Add(&recs[i])
	}
	for j := range bts {
		l.Add(&bts[j])
	}
	opts := &Options{Links: links}
	pr := PairSides(p, l, opts)
	adoptions := pr.Adoptions()
	first := pr.Result()
	if !reflect.DeepEqual(adoptions, first.Adoptions) {
		t.Fatalf("Adoptions gave %d, Result %d, or in another order", len(adoptions), len(first.Adoptions))
	}
	if !reflect.DeepEqual(first, MatchSides(p, l, opts)) {
		t.Fatal("PairSides' Result differs from MatchSides")
	}
	if len(first.Adoptions) < 1000 {
		t.Fatalf("%d adoptions", len(first.Adoptions))
	}
	var changed []ledger.SettlementChange
	for k, a := range first.Adoptions {
		c := ledger.SettlementChange{ID: a.LedgerID, AvailableOn: a.AvailableOn, Status: ledger.BTAvailable}
		if k%2 == 0 {
			c.PayoutID = fmt.Sprintf("po_%d", k%7) // some into other payouts
		}
		changed = append(changed, c)
	}
	l.PatchSettlements(changed)
	got, want := pr.Result(), MatchSides(p, l, opts)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("again: %+v\nanew:  %+v", got.Summary, want.Summary)
	}
	// The pairs are the same, so the links are the first Result's, not
	// made and sorted again.
	if len(got.Links) == 0 || &got.Links[0] != &first.Links[0] {
		t.Error("the second Result made its links again")
	}
	if len(want.Adoptions) != 0 || reflect.DeepEqual(got.Outcomes, first.Outcomes) {
		t.Errorf("the patch changed no outcome, or left %d adoptions", len(want.Adoptions))
	}
}
