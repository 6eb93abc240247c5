package generate

import (
	"time"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// PairOptions describe a direct set of matching provider records and ledger
// balance transactions.
type PairOptions struct {
	// Seed seeds the random source; zero means DefaultSeed.
	Seed uint64
	// N is the number of balance transactions on each side before any
	// difference is injected.
	N int
	// Start is the time of the first transaction; default 2026-01-01.
	// Transactions are spread a few seconds apart.
	Start time.Time
	// DiffRate is the probability, per pair, of an injected difference
	// (the kinds of Generate, spread evenly). Zero gives exact pairs.
	DiffRate float64
	// RandomIDs gives ids in no order, as Options.RandomIDs does.
	RandomIDs bool
}

// pairKinds are the balance transactions Pairs draws, with their weights
// out of 1,000: mostly charges, then refunds, disputes and payouts.
var pairKinds = []struct {
	weight             int
	typ, category, src string
	prefix, sourceType string
}{
	{850, "charge", "charge", "ch_", "ord_", "payment"},
	{110, "refund", "refund", "re_", "re_", "refund"},
	{10, "adjustment", "dispute", "dp_", "dp_", "dispute"},
	{5, "adjustment", "dispute_reversal", "dp_", "dp_", "dispute"},
	{25, "payout", "payout", "po_", "po_", "payout"},
}

// Pairs returns provider records (as the stripe-balance-json reader makes
// them) and the ledger balance transactions they reconcile with, matched by
// source reference and kind, with the differences injected into the
// provider side. It builds both sides in memory, for reconciliation
// benchmarks at sizes where recording a feed would take too long; strings
// are shared between the two sides.
func Pairs(o PairOptions) ([]provider.Record, []ledger.BalanceTransaction, []Diff) {
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	ids := idStyle{random: o.RandomIDs}
	r := newRand(o.Seed, 3)
	dr := newRand(o.Seed, 4)
	recs := make([]provider.Record, 0, o.N+o.N/100)
	bts := make([]ledger.BalanceTransaction, o.N)
	var diffs []Diff
	at := o.Start.UTC()
	extra := 0
	for i := range o.N {
		at = at.Add(time.Duration(1+r.IntN(5)) * time.Second)
		c := pickCurrency(r)
		w := r.IntN(1000)
		k := pairKinds[0]
		for _, pk := range pairKinds {
			if w < pk.weight {
				k = pk
				break
			}
			w -= pk.weight
		}
		amt := cartAmount(r, c)
		var fee int64
		status, avail := ledger.BTAvailable, at
		switch k.category {
		case "charge":
			fee = processingFee(c, amt)
			avail = at.Truncate(day).Add(2 * day)
		case "dispute":
			amt, fee = -amt, c.disputeFee
		case "refund", "payout":
			amt = -amt
		}
		ref := ids.id(k.src, i+1)
		bt := &bts[i]
		*bt = ledger.BalanceTransaction{ID: ids.id("bt_", i+1), Provider: Provider, EntryID: int64(i + 1), Type: k.typ,
			ReportingCategory: k.category, SourceType: k.sourceType, SourceID: ids.id(k.prefix, i+1), SourceRef: ref,
			Amount: amt, Fee: fee, Net: amt - fee, Currency: c.code, Status: status, Created: at, AvailableOn: avail}
		rec := provider.Record{Provider: Provider, Format: importers.FormatStripeBalanceJSON, Grain: provider.BalanceGrain,
			ID: ids.id("txn_", i+1), Type: k.typ, ReportingCategory: k.category, SourceRef: ref, Currency: c.code,
			Amount: amt, Fee: fee, Net: amt - fee, Status: status, Created: at, AvailableOn: avail, Line: i + 1}
		if k.typ == "payout" {
			rec.PayoutID = ref
		}
		if o.DiffRate == 0 || dr.Float64() >= o.DiffRate {
			recs = append(recs, rec)
			continue
		}
		d := Diff{Kind: DiffKinds[dr.IntN(len(DiffKinds))], RecordID: rec.ID, SourceRef: ref, Type: k.typ,
			ReportingCategory: k.category, Currency: c.code, Amount: amt, Fee: fee}
		switch d.Kind {
		case FeeOffByOne:
			rec.Fee++
			rec.Net--
			recs = append(recs, rec)
		case MissingAtProvider:
		case Duplicate:
			recs = append(recs, rec, rec)
		case MissingInLedger:
			recs = append(recs, rec)
			extra++
			x := rec
			x.ID, x.SourceRef, x.Type, x.ReportingCategory = ids.id("txn_e", extra), ids.id("ch_e", extra), "charge", "charge"
			// An odd amount no real transaction has, so that no heuristic
			// pass can pair it with a transaction missing at the provider.
			x.Amount = 100_000_000 + int64(extra)
			x.Fee = processingFee(c, x.Amount)
			x.Net, x.PayoutID = x.Amount-x.Fee, ""
			recs = append(recs, x)
			d = Diff{Kind: MissingInLedger, RecordID: x.ID, SourceRef: x.SourceRef, Type: x.Type,
				ReportingCategory: x.ReportingCategory, Currency: c.code, Amount: x.Amount, Fee: x.Fee}
		}
		diffs = append(diffs, d)
	}
	return recs, bts, diffs
}
