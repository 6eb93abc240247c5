package reconcile

import (
	"reflect"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// Converted pairs match on their presentment side; the settlement side is
// adopted where the ledger estimated or did not know it, and compared where
// it was told.
func TestConvertedPairs(t *testing.T) {
	// presented sets a record's or transaction's presentment side.
	presented := func(r provider.Record, cur string, amt int64) provider.Record {
		r.PresentmentCurrency, r.PresentmentAmount = cur, amt
		return r
	}
	rated := func(r provider.Record, rate string) provider.Record { r.ExchangeRate = rate; return r }
	conv := func(b ledger.BalanceTransaction, cur string, amt int64, estimated bool) ledger.BalanceTransaction {
		b.PresentmentCurrency, b.PresentmentAmount, b.SettlementEstimated = cur, amt, estimated
		b.ExchangeRate = decimal.RequireFromString("1.0812")
		return b
	}
	inEUR := func(b ledger.BalanceTransaction) ledger.BalanceTransaction { b.Currency = "eur"; return b }
	charge := prov("txn_1", "charge", "charge", "ch_1", 10812, 344, hours(0))
	refund := prov("txn_2", "refund", "refund", "re_1", -4400, 0, hours(5))
	for _, c := range []struct {
		name   string
		rec    provider.Record
		bt     ledger.BalanceTransaction
		diffs  []string
		settle *Settlement
	}{
		{"told conversion, same figures", presented(charge, "eur", 10000),
			conv(bt("b", "charge", "charge", "ch_1", 10812, 344, hours(0)), "eur", 10000, false), nil, nil},
		{"presentment differs", presented(charge, "eur", 10100),
			conv(bt("b", "charge", "charge", "ch_1", 10812, 344, hours(0)), "eur", 10000, false), []string{FieldPresentment}, nil},
		{"presented in another currency", presented(charge, "gbp", 10000),
			conv(bt("b", "charge", "charge", "ch_1", 10812, 344, hours(0)), "eur", 10000, false), []string{FieldPresentment}, nil},
		{"told settlement differs", presented(charge, "eur", 10000),
			conv(bt("b", "charge", "charge", "ch_1", 10800, 344, hours(0)), "eur", 10000, false), []string{FieldAmount, FieldNet}, nil},
		{"estimated refund: the provider's amount is adopted", presented(refund, "eur", -4000),
			conv(bt("b", "refund", "refund", "re_1", -4325, 0, hours(5)), "eur", -4000, true), nil,
			&Settlement{Currency: "usd", Amount: -4400, Net: -4400, PresentmentCurrency: "eur", PresentmentAmount: -4000}},
		{"estimated, told fee differs: adopted, fee raised", presented(prov("txn_3", "adjustment", "dispute", "dp_1", -6600, 1600, hours(5)), "eur", -6000),
			conv(bt("b", "adjustment", "dispute", "dp_1", -6487, 1500, hours(5)), "eur", -6000, true), []string{FieldFee, FieldNet},
			&Settlement{Currency: "usd", Amount: -6600, Fee: 1500, Net: -8100, PresentmentCurrency: "eur", PresentmentAmount: -6000}},
		{"unknown conversion: settlement and fee adopted", presented(charge, "eur", 10000),
			inEUR(bt("b", "charge", "charge", "ch_1", 10000, 0, hours(0))), nil,
			&Settlement{Currency: "usd", Amount: 10812, Fee: 344, Net: 10468, PresentmentCurrency: "eur", PresentmentAmount: 10000}},
		{"unknown conversion with a fee told in the presentment currency", presented(charge, "eur", 10000),
			inEUR(bt("b", "charge", "charge", "ch_1", 10000, 300, hours(0))), []string{FieldAmount, FieldCurrency, FieldFee, FieldNet}, nil},
		{"rate only, unknown conversion", rated(charge, "1.0812"),
			inEUR(bt("b", "charge", "charge", "ch_1", 10000, 0, hours(0))), nil,
			&Settlement{Currency: "usd", Amount: 10812, Fee: 344, Net: 10468, PresentmentCurrency: "eur", PresentmentAmount: 10000, ExchangeRate: "1.0812"}},
		{"rate only, told conversion", rated(charge, "1.0812"),
			conv(bt("b", "charge", "charge", "ch_1", 10812, 344, hours(0)), "eur", 10000, false), nil, nil},
		{"rate only, presentment differs", rated(charge, "1.0812"),
			conv(bt("b", "charge", "charge", "ch_1", 10812, 344, hours(0)), "eur", 9000, false), []string{FieldPresentment}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := MatchBalances([]provider.Record{c.rec}, []ledger.BalanceTransaction{c.bt}, nil)
			var got []string
			if o := findOutcome(r, c.rec.ID); o != nil {
				for _, d := range o.Diffs {
					got = append(got, d.Field)
				}
			} else if r.Summary.Matched != 1 {
				t.Fatalf("not paired: %+v", r.Summary)
			}
			if !slices.Equal(got, c.diffs) {
				t.Errorf("diffs %v, want %v", got, c.diffs)
			}
			var settle *Settlement
			if len(r.Adoptions) == 1 {
				settle = r.Adoptions[0].Settlement
			}
			if !reflect.DeepEqual(settle, c.settle) {
				t.Errorf("adopts %+v, want %+v", settle, c.settle)
			}
			ps, ls := NewProviderSide(1), NewLedgerSide(1)
			ps.Add(&c.rec)
			ls.Add(&c.bt)
			if got := PairSides(ps, ls, nil).Adoptions(); !reflect.DeepEqual(got, r.Adoptions) {
				t.Errorf("Pairing.Adoptions %+v, Result's %+v", got, r.Adoptions)
			}
		})
	}
}
