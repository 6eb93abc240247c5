package reports

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// ErrBadRates is wrapped by every problem with a rates file.
var ErrBadRates = errors.New("invalid rates file")

// RatesError is a problem at a line of a rates file.
type RatesError struct {
	File string
	Line int
	Err  error
}

func (e *RatesError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *RatesError) Unwrap() error { return e.Err }

// Rate is one market rate: Quote per one unit of Base, from Date on.
type Rate struct {
	Date        time.Time // a UTC day
	Base, Quote string    // lower case
	Rate        decimal.Decimal
}

// Rates are market rates the user supplies for valuation, as hledger's P
// directives are: a rate dated D holds from D until a later one. They are
// facts of the user's choosing (a central bank's reference rates, say),
// apart from the rates providers converted at, which the books keep on
// each converted balance transaction.
type Rates struct {
	list []Rate // by date, then file order
}

// ReadRates reads a rates CSV with a header: date (YYYY-MM-DD), then either
// base and quote columns or one pair column ("EUR/USD", "EUR-USD" or
// "EURUSD"), and rate, a plain positive decimal (Quote per one Base). Codes
// are ISO 4217 (or registered with l; nil knows ISO 4217 only), any case.
// Every bad line is reported; a later line for the same day and pair wins.
func ReadRates(name string, r io.Reader, l *ledger.Ledger) (*Rates, error) {
	lookup := ledger.LookupCurrency
	if l != nil {
		lookup = l.Currency
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, &RatesError{name, 1, fmt.Errorf("%w: no header (date,base,quote,rate or date,pair,rate): %v", ErrBadRates, err)}
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	_, hasPair := col["pair"]
	_, hasBase := col["base"]
	_, hasQuote := col["quote"]
	_, hasDate := col["date"]
	_, hasRate := col["rate"]
	if !hasDate || !hasRate || !(hasPair || hasBase && hasQuote) {
		return nil, &RatesError{name, 1, fmt.Errorf("%w: the header needs date, rate and either pair or base and quote, not %q", ErrBadRates, strings.Join(header, ","))}
	}
	rs := &Rates{}
	var errs []error
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, &RatesError{name, line, fmt.Errorf("%w: %v", ErrBadRates, err)})
			break
		}
		cell := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rt, err := parseRate(cell("date"), cell("pair"), cell("base"), cell("quote"), cell("rate"), lookup)
		if err != nil {
			errs = append(errs, &RatesError{name, line, fmt.Errorf("%w: %v", ErrBadRates, err)})
			continue
		}
		rs.list = append(rs.list, rt)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(rs.list, func(a, b Rate) int { return a.Date.Compare(b.Date) })
	return rs, nil
}

func parseRate(date, pair, base, quote, rate string, lookup func(string) (ledger.Currency, error)) (Rate, error) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return Rate{}, fmt.Errorf("date %q is not YYYY-MM-DD", date)
	}
	if pair != "" {
		p := strings.NewReplacer("/", "", "-", "", " ", "").Replace(pair)
		if len(p) != 6 {
			return Rate{}, fmt.Errorf("pair %q is not like EUR/USD", pair)
		}
		base, quote = p[:3], p[3:]
	}
	b, err := lookup(base)
	if err != nil {
		return Rate{}, err
	}
	q, err := lookup(quote)
	if err != nil {
		return Rate{}, err
	}
	if b.Code == q.Code {
		return Rate{}, fmt.Errorf("a rate of %s in itself", b.Upper())
	}
	v, err := ledger.ParseDecimal(rate)
	if err != nil || v.Sign() <= 0 {
		return Rate{}, fmt.Errorf("rate %q is not a positive decimal", rate)
	}
	return Rate{Date: d, Base: b.Code, Quote: q.Code, Rate: v}, nil
}

// All returns every rate, by date.
func (rs *Rates) All() []Rate { return slices.Clone(rs.list) }

// On returns the rate of base in quote that holds on day on: the latest
// dated on or before it, directly or, failing that, inverted (1/rate, to
// 28 decimals), as hledger uses a reverse price. A zero on means the latest
// rate. ok is false when there is none.
func (rs *Rates) On(base, quote string, on time.Time) (decimal.Decimal, bool) {
	if base == quote {
		return decimal.New(1, 0), true
	}
	var direct, inverse *Rate
	for i := range rs.list {
		r := &rs.list[i]
		if !on.IsZero() && r.Date.After(on) {
			break
		}
		switch {
		case r.Base == base && r.Quote == quote:
			direct = r
		case r.Base == quote && r.Quote == base:
			inverse = r
		}
	}
	switch {
	case direct != nil && (inverse == nil || !inverse.Date.After(direct.Date)):
		return direct.Rate, true
	case inverse != nil:
		return decimal.New(1, 0).DivRound(inverse.Rate, 28), true
	}
	return decimal.Decimal{}, false
}
