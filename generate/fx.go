package generate

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Foreign payments (Options.ForeignShare) are presented to the customer in
// EUR, GBP or JPY and settled by the provider in USD at the day's rate, as
// Stripe converts them: the capture at the rate of its day, and each refund,
// dispute and won dispute at the rate of its own day. Half of them are
// "told": their feed lines carry the capture's settlement (and fees and
// dispute fees in USD), as a billing backend that reads the charge's balance
// transaction would send. The other half leave the settlement to the
// provider's records and send no fees, since the backend does not know
// them; reconciliation adopts the settlement. Refunds and disputes never
// carry a settlement: the ledger converts them at the booking rate and
// adopts the provider's amount.

// presentments are the currencies foreign payments are presented in.
var presentments = []*currency{
	{code: "eur", digits: 2, scale: [2]int64{23, 25}},
	{code: "gbp", digits: 2, scale: [2]int64{4, 5}},
	{code: "jpy", digits: 0, scale: [2]int64{3, 2}},
}

// settlementCurrency is the currency foreign payments settle in.
var settlementCurrency = currencies[0] // usd

// rateScale is the precision of generated rates: 8 decimals.
const rateScale = 100_000_000

// baseRates are USD per one unit of each presentment currency, × rateScale.
var baseRates = map[string]int64{"eur": 108_000_000, "gbp": 127_000_000, "jpy": 670_000}

// Rate is the day's rate of Base in Quote: Quote per one unit of Base, as
// an exact decimal string. Generate uses it for every conversion of that
// day (UTC), and writes it to Output.RatesCSV.
type Rate struct {
	Day         time.Time
	Base, Quote string // lower case
	Rate        string
}

// rates are the simulation's daily rates, per presentment currency code.
type rates struct {
	start time.Time
	daily map[string][]int64 // × rateScale, one per day from start
}

// newRates draws a rate per day and currency within ±2% of its base, from
// its own stream so that the history does not depend on them.
func newRates(o Options, end time.Time) *rates {
	r := newRand(o.Seed, 12)
	days := int(end.Sub(o.Start)/day) + 1
	rs := &rates{start: o.Start, daily: map[string][]int64{}}
	for _, c := range presentments {
		base := baseRates[c.code]
		v := make([]int64, days)
		for d := range v {
			v[d] = base + base/10000*int64(r.IntN(401)-200)
		}
		rs.daily[c.code] = v
	}
	return rs
}

// of returns the rate of c on t's day.
func (rs *rates) of(c *currency, t time.Time) int64 {
	d := int(t.Sub(rs.start) / day)
	v := rs.daily[c.code]
	return v[min(max(d, 0), len(v)-1)]
}

// convert returns m minor units of c in minor units of the settlement
// currency at t's rate, rounded half to even.
func (rs *rates) convert(m int64, c *currency, t time.Time) int64 {
	num := m * rs.of(c, t)
	den := int64(rateScale)
	for range c.digits - settlementCurrency.digits {
		den *= 10
	}
	for range settlementCurrency.digits - c.digits {
		num *= 10
	}
	q, rem := num/den, num%den
	switch {
	case rem*2 > den, rem*2 == den && q%2 == 1:
		q++
	}
	return q
}

// list returns every rate, by day then currency.
func (rs *rates) list() []Rate {
	var out []Rate
	n := len(rs.daily[presentments[0].code])
	for d := range n {
		for _, c := range presentments {
			out = append(out, Rate{Day: rs.start.Add(time.Duration(d) * day), Base: c.code, Quote: settlementCurrency.code,
				Rate: rateString(rs.daily[c.code][d])})
		}
	}
	return out
}

// rateString renders a rate × rateScale as a decimal without trailing zeros.
func rateString(v int64) string {
	b := strconv.AppendInt(nil, v/rateScale, 10)
	frac := v % rateScale
	if frac == 0 {
		return string(b)
	}
	f := []byte(strconv.FormatInt(frac+rateScale, 10)[1:])
	for f[len(f)-1] == '0' {
		f = f[:len(f)-1]
	}
	return string(append(append(b, '.'), f...))
}

// writeRates writes the rates as CSV: date,base,quote,rate.
func writeRates(w io.Writer, rs []Rate) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("date,base,quote,rate\n")
	for _, r := range rs {
		bw.WriteString(r.Day.Format(time.DateOnly) + "," + r.Base + "," + r.Quote + "," + r.Rate + "\n")
	}
	return bw.Flush()
}

// settle returns the settlement side of pm presentment minor units of p
// (signed) at t's rate: pm itself for a payment that is not foreign.
func (s *sim) settle(p *payment, pm int64, t time.Time) int64 {
	if !p.foreign {
		return pm
	}
	if pm < 0 {
		return -s.rates.convert(-pm, p.cur, t)
	}
	return s.rates.convert(pm, p.cur, t)
}

// pickPresentment draws the currency a foreign payment is presented in.
func pickPresentment(r *rand.Rand) *currency { return presentments[r.IntN(len(presentments))] }

// settlement adds a capture's settlement to the feed line.
func (s *sim) settlement(m int64) {
	b := append(s.line, `,"settlement":{"amount":"`...)
	b = appendMinor(b, m, settlementCurrency.digits)
	b = append(b, `","currency":"`...)
	b = append(b, settlementCurrency.code...)
	s.line = append(b, `"}`...)
}

// foreignRow gives a balance transaction of a foreign payment its
// settlement side: pm presentment minor units converted at t's rate, and
// the presentment side the exports report.
func (s *sim) foreignRow(p *payment, b *btRow, pm int64, t time.Time) {
	if !p.foreign {
		return
	}
	b.cur = settlementCurrency
	b.pcur, b.pamount = p.cur, pm
	b.rate = rateString(s.rates.of(p.cur, t))
	b.untold = !p.told
}
