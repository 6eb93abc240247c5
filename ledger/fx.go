package ledger

import (
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"
)

// Money across currencies.
//
// A customer pays in the presentment currency (EUR 100.00); the provider
// converts and credits its balance in the settlement currency (USD 108.12).
// The ledger keeps both sides, each exact in its own minor units: income and
// refunds in the presentment currency, the provider balance, fees and
// payouts in the settlement currency. The entry crosses the two through the
// trading account equity:conversion (Chart.Conversion), so that every entry
// still balances in each currency, as hledger's and beancount's conversion
// postings do:
//
//	capture    Dr assets:P:pending USD 104.68, Dr expenses:fees USD 3.44, Cr equity:conversion USD 108.12
//	           Dr equity:conversion EUR 100.00, Cr income:sales EUR 100.00
//
// The capture fixes the payment's booking rate (108.12 per 100.00). Refunds
// and disputes are converted by the provider at their own rates, as Stripe
// does; the ledger takes the presentment amount back across the conversion
// account at the booking rate and books the difference from what the
// provider actually settled as realized FX gain or loss on income:fx
// (Chart.FX: a credit is a gain, a debit a loss):
//
//	refund     Dr income:refunds EUR 100.00, Cr equity:conversion EUR 100.00
//	           Dr equity:conversion USD 108.12, Dr income:fx USD 1.88, Cr assets:P:available USD 110.00
//
// So a payment fully refunded leaves equity:conversion at zero in both
// currencies, and income:fx holds exactly the realized difference.
//
// Booked amounts are computed from the two amounts of the capture, not from
// a rounded rate: converting presentment units u at the booking rate gives
// round(Settled × u / Captured), half to even, and a movement takes the
// difference between the totals before and after it (Payment.Unwound), so
// the parts of a payment taken back in several refunds sum to exactly its
// settlement amount.

// Settlement is what the provider moved in its balance currency for a
// movement the customer saw in another: a capture's, a refund's or a
// dispute's settlement side. Amount is positive, in major units of Currency.
type Settlement struct {
	Amount   decimal.Decimal
	Currency string
}

// settlementOf resolves a requested settlement: its currency and amount in
// minor units. A settlement in the presentment currency itself is refused.
func (l *Ledger) settlementOf(s *Settlement, presentment Currency) (Currency, int64, error) {
	sc, err := l.currencies.Lookup(s.Currency)
	if err != nil {
		return Currency{}, 0, fmt.Errorf("settlement: %w", err)
	}
	if sc.Code == presentment.Code {
		return Currency{}, 0, fmt.Errorf("%w: a settlement in %s, the presentment currency itself, is no conversion (leave settlement out)",
			ErrInvalidRequest, sc.Upper())
	}
	m, err := minor("settlement amount", s.Amount, sc, false)
	if err != nil {
		return Currency{}, 0, err
	}
	return sc, m, nil
}

// converted reports whether a payment settles in another currency than it
// was presented in.
func (p *Payment) converted() bool { return p.SettlementCurrency != "" }

// unwind converts a movement of presentment minor units pm (signed by its
// effect on the provider balance: a refund is negative) at the payment's
// booking rate, and records it in p.Unwound. It returns the booked
// settlement amount, signed as pm.
func (p *Payment) unwind(pm int64) (int64, error) {
	before, err := booked(p.Settled, p.Captured, p.Unwound)
	if err != nil {
		return 0, err
	}
	after, err := booked(p.Settled, p.Captured, p.Unwound-pm)
	if err != nil {
		return 0, err
	}
	p.Unwound -= pm
	return before - after, nil
}

// booked returns round(settled × units / captured), half to even.
func booked(settled, captured, units int64) (int64, error) {
	if captured == 0 {
		return 0, fmt.Errorf("%w: a converted payment with nothing captured", ErrInvalidState)
	}
	q := divHalfEven(new(big.Int).Mul(big.NewInt(settled), big.NewInt(units)), big.NewInt(captured))
	if !q.IsInt64() {
		return 0, fmt.Errorf("%w: converted amount overflows a 64-bit amount", ErrInvalidAmount)
	}
	return q.Int64(), nil
}

// divHalfEven returns num / den rounded to the nearest integer, ties to
// even. den must not be zero.
func divHalfEven(num, den *big.Int) *big.Int {
	if den.Sign() < 0 {
		num, den = new(big.Int).Neg(num), new(big.Int).Neg(den)
	}
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	twice := new(big.Int).Abs(r)
	twice.Lsh(twice, 1)
	switch c := twice.Cmp(den); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// RateDecimals is how many decimals a rate derived from two amounts keeps.
const RateDecimals = 10

// RateOf returns the exchange rate two amounts imply: settlement per one
// unit of presentment, in major units, rounded half to even to
// RateDecimals. Zero when the presentment amount is zero.
func RateOf(settlement int64, sc Currency, presentment int64, pc Currency) decimal.Decimal {
	if presentment == 0 {
		return decimal.Decimal{}
	}
	// (s / 10^sd) / (p / 10^pd) × 10^R = s × 10^(pd+R) / (p × 10^sd)
	num := new(big.Int).Mul(big.NewInt(settlement), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(pc.Digits+RateDecimals)), nil))
	den := new(big.Int).Mul(big.NewInt(presentment), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sc.Digits)), nil))
	return decimal.NewFromBigInt(divHalfEven(num, den), -RateDecimals)
}

// Convert returns m minor units of from in minor units of to at rate (to
// per one unit of from, in major units), rounded half to even.
func Convert(m int64, from Currency, rate decimal.Decimal, to Currency) (int64, error) {
	v := decimal.New(m, -int32(from.Digits)).Mul(rate).RoundBank(int32(to.Digits))
	return ToMinor(v, to)
}

// convert appends to ps the postings that carry a movement across the
// conversion account: pm presentment minor units of pc (signed by the
// movement's effect on the provider balance) against bookedSM settlement
// minor units of sc, and books what the settlement-currency postings then
// lack to balance as realized FX gain or loss.
func (l *Ledger) convert(ps []Posting, pc, sc string, pm, bookedSM int64) []Posting {
	if pm != 0 {
		ps = append(ps, Posting{Account: l.chart.Conversion, Currency: pc, Amount: pm})
	}
	if bookedSM != 0 {
		ps = append(ps, Posting{Account: l.chart.Conversion, Currency: sc, Amount: -bookedSM})
	}
	var residual int64
	for _, p := range ps {
		if p.Currency == sc {
			residual += p.Amount
		}
	}
	if residual != 0 {
		ps = append(ps, Posting{Account: l.chart.FX, Currency: sc, Amount: -residual})
	}
	return ps
}

// withoutZeros drops zero postings.
func withoutZeros(ps []Posting) []Posting {
	out := ps[:0]
	for _, p := range ps {
		if p.Amount != 0 {
			out = append(out, p)
		}
	}
	return out
}

// settleMovement gives the settlement side of a movement of payment p: pm
// presentment minor units of pcur, signed by the movement's effect on the
// provider balance. For a payment that settles in its own currency it is
// the movement itself. For a converted one it is s, when told (signed as
// pm), or else the booked amount, marked estimated; booked is the amount at
// the payment's booking rate, which the conversion account takes.
func (l *Ledger) settleMovement(p *Payment, pcur Currency, pm int64, s *Settlement) (scur Currency, sm, bookedSM int64, estimated bool, err error) {
	if !p.converted() {
		if s != nil {
			return Currency{}, 0, 0, false, fmt.Errorf("%w: payment %q settles in %s (its capture named no settlement in another currency), so this settlement cannot be booked against it",
				ErrCurrencyMismatch, p.ID, pcur.Upper())
		}
		return pcur, pm, pm, false, nil
	}
	if scur, err = l.currencies.Lookup(p.SettlementCurrency); err != nil {
		return Currency{}, 0, 0, false, err
	}
	if bookedSM, err = p.unwind(pm); err != nil {
		return Currency{}, 0, 0, false, err
	}
	if s == nil {
		return scur, bookedSM, bookedSM, true, nil
	}
	c, m, err := l.settlementOf(s, pcur)
	if err != nil {
		return Currency{}, 0, 0, false, err
	}
	if c.Code != scur.Code {
		return Currency{}, 0, 0, false, fmt.Errorf("%w: payment %q settles in %s, not %s", ErrCurrencyMismatch, p.ID, scur.Upper(), c.Upper())
	}
	if pm < 0 {
		m = -m
	}
	return scur, m, bookedSM, false, nil
}

// setConversion records a movement's two sides on its balance transaction.
func setConversion(bt *BalanceTransaction, pcur Currency, pm int64, scur Currency, estimated bool) {
	if pcur.Code == scur.Code {
		return
	}
	bt.PresentmentAmount, bt.PresentmentCurrency = pm, pcur.Code
	bt.ExchangeRate = RateOf(abs(bt.Amount), scur, abs(pm), pcur)
	bt.SettlementEstimated = estimated
}
