package reconcile

import (
	"strings"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// A converted movement — presented to the customer in one currency, settled
// by the provider in another — is one pair on its presentment side: its
// reference and kind, and the presentment amount, which both sides were
// told. A presentment that differs is a mismatch (FieldPresentment). The
// settlement side (currency, amount, fee, net, rate) is the provider's fact
// wherever the ledger did not know it: converted at the payment's booking
// rate (SettlementEstimated), or booked in the presentment currency because
// the ledger was never told the provider converts it (then with no fee of
// its own). There the provider's settlement is adopted (Adoption.Settlement,
// booked by ledger.AdoptSettlement), not raised. A settlement the ledger was
// told is compared as any amount is.

// FieldPresentment names a difference in the presentment amount (or
// currency) of a converted movement.
const FieldPresentment = "presentment_amount"

// Settlement is the provider's settlement side of a converted movement,
// to adopt where the ledger did not know it. Amounts are minor units of
// Currency; PresentmentAmount, signed as Amount, of PresentmentCurrency.
type Settlement struct {
	Currency            string
	Amount, Fee, Net    int64
	PresentmentCurrency string
	PresentmentAmount   int64
	ExchangeRate        string // as the provider gave it; "" when it gave none
}

// conversion is what compareBalance needs to know of a converted pair.
type conversion struct {
	diffs      []Diff      // presentment differences
	adopt      *Settlement // the provider's settlement to adopt, if any
	keepFee    bool        // the ledger's fee was told: compare it even when adopting
	comparable bool        // the settlement sides are compared as usual
}

// convertedPair reports whether the pair of record i and balance
// transaction j involves a conversion and, if so, how to compare it. ok is
// false for a plain pair in one currency.
func convertedPair(ps *ProviderSide, i int, ls *LedgerSide, j int) (c conversion, ok bool) {
	rec, rx, bt := &ps.items[i], ps.extra(i), &ls.items[j]
	rcur, bcur, bpc := ps.currency(i), ls.currency(j), ls.presentmentCurrency(j)
	otherCurrency := !strings.EqualFold(rcur, bcur)
	if rx.presentmentCurrency == "" && bpc == "" && (rx.exchangeRate == "" || !otherCurrency) {
		return c, false
	}
	// The ledger's presentment side: its own figures when it converted
	// nothing.
	lpc, lpa := bpc, bt.presentmentAmount
	if lpc == "" {
		lpc, lpa = bcur, bt.amount
	}
	rpc, rpa, known := presentmentOf(rcur, rec.amount, rx, lpc, lpa)
	if known {
		if !strings.EqualFold(rpc, lpc) {
			c.diffs = append(c.diffs, Diff{FieldPresentment, strings.ToUpper(lpc), strings.ToUpper(rpc)})
		} else if rpa != lpa {
			c.diffs = append(c.diffs, diffInt(FieldPresentment, lpa, rpa))
		}
	}
	settled := rx.presentmentCurrency != "" || rx.exchangeRate != ""
	switch {
	case len(c.diffs) > 0 || !known || !settled:
		// A different presentment is the difference to raise; a record
		// that reports no conversion is compared as it is.
		c.comparable = true
	case bpc != "" && bt.settlementEstimate && !otherCurrency:
		c.keepFee = true
		if rec.amount != bt.amount {
			c.adopt = &Settlement{Currency: bcur, Amount: rec.amount, Fee: bt.fee, Net: rec.amount - bt.fee,
				PresentmentCurrency: lpc, PresentmentAmount: lpa, ExchangeRate: rx.exchangeRate}
		}
	case bpc == "" && otherCurrency && bt.fee == 0:
		c.adopt = &Settlement{Currency: strings.ToLower(rcur), Amount: rec.amount, Fee: rec.fee, Net: rec.net,
			PresentmentCurrency: lpc, PresentmentAmount: lpa, ExchangeRate: rx.exchangeRate}
	default:
		c.comparable = true
	}
	return c, true
}

// presentmentOf returns the presentment side of a record in currency cur
// of amount amt, with the rarer fields x. A record that gives only a rate
// (Stripe's balance transaction JSON) states it through the rate: when the
// ledger's presentment amount converted at that rate is the record's
// amount, within one minor unit (the rate is rounded), it is the ledger's;
// otherwise the amount the rate implies. known is false when the record
// says nothing of its presentment.
func presentmentOf(cur string, amt int64, x *recExtra, lpc string, lpa int64) (string, int64, bool) {
	if x.presentmentCurrency != "" {
		return x.presentmentCurrency, x.presentmentAmount, true
	}
	if x.exchangeRate == "" {
		return cur, amt, true
	}
	rate, err1 := decimal.NewFromString(x.exchangeRate)
	pc, err2 := ledger.LookupCurrency(lpc)
	sc, err3 := ledger.LookupCurrency(cur)
	if err1 != nil || err2 != nil || err3 != nil || rate.Sign() <= 0 {
		return "", 0, false
	}
	want, err := ledger.Convert(lpa, pc, rate, sc)
	if err != nil {
		return "", 0, false
	}
	if d := want - amt; d >= -1 && d <= 1 {
		return lpc, lpa, true
	}
	implied := decimal.New(amt, -int32(sc.Digits)).DivRound(rate, 16).RoundBank(int32(pc.Digits))
	m, err := ledger.ToMinor(implied, pc)
	if err != nil {
		return "", 0, false
	}
	return lpc, m, true
}
