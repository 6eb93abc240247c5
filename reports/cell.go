package reports

import (
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// Neutralize guards a cell against spreadsheet formula injection (CWE-1236):
// a cell that starts with '=', '+', '-', '@', a tab or a carriage return and
// is not a plain number gets a leading single quote, so that a spreadsheet
// shows it as text instead of running it. Numbers such as "-12.34" are left
// alone so that they stay numbers.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if isNumber(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// isNumber reports whether s is a plain decimal number: an optional sign,
// digits, and at most one '.' with digits on at least one side.
func isNumber(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// appendMinor appends m minor units in major units with exactly digits
// decimals, as ledger.FormatMinor does but without allocating: 1234 with 2
// digits is "12.34", -1 with 3 is "-0.001", 5 with 0 is "5".
func appendMinor(b []byte, m int64, digits int) []byte {
	u := uint64(m)
	if m < 0 {
		b = append(b, '-')
		u = -u // two's complement: exact even for math.MinInt64
	}
	var tmp [24]byte
	s := strconv.AppendUint(tmp[:0], u, 10)
	if digits <= 0 {
		return append(b, s...)
	}
	if len(s) <= digits {
		b = append(b, '0', '.')
		for i := len(s); i < digits; i++ {
			b = append(b, '0')
		}
		return append(b, s...)
	}
	b = append(b, s[:len(s)-digits]...)
	b = append(b, '.')
	return append(b, s[len(s)-digits:]...)
}

// formatMinor renders m minor units in major units with digits decimals.
func formatMinor(m int64, digits int) string { return string(appendMinor(nil, m, digits)) }

// Time layouts of the reports.
const (
	timeLayout   = time.RFC3339          // times: RFC 3339 in UTC
	dateLayout   = "2006-01-02"          // dates
	stripeLayout = "2006-01-02 15:04:05" // Stripe's report times, UTC
)

// formatTime renders t in RFC 3339, UTC; a zero time is empty.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// formatStripeTime renders t as Stripe's reports do: "2006-01-02 15:04:05" UTC.
func formatStripeTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(stripeLayout)
}

// currencies resolves currency codes through the ledger, once per code.
type currencies struct {
	l     *ledger.Ledger
	seen  map[string]ledger.Currency
	upper map[string]string // code → upper-case code, to spare an allocation a row
}

func newCurrencies(l *ledger.Ledger) *currencies {
	return &currencies{l: l, seen: make(map[string]ledger.Currency, 4), upper: make(map[string]string, 4)}
}

// upperCode returns a stored code in upper case.
func (c *currencies) upperCode(code string) string {
	u, ok := c.upper[code]
	if !ok {
		u = strings.ToUpper(code)
		c.upper[code] = u
	}
	return u
}

// get returns the currency of a stored (lowercase) code.
func (c *currencies) get(code string) (ledger.Currency, error) {
	if cur, ok := c.seen[code]; ok {
		return cur, nil
	}
	cur, err := c.l.Currency(code)
	if err != nil {
		return ledger.Currency{}, err
	}
	c.seen[code] = cur
	return cur, nil
}

// amount renders m minor units of code in major units.
func (c *currencies) amount(m int64, code string) (string, error) {
	cur, err := c.get(code)
	if err != nil {
		return "", err
	}
	return formatMinor(m, cur.Digits), nil
}

// debitCredit splits a debit-positive amount into a debit and a credit cell,
// one of them empty.
func debitCredit(m int64, digits int) (debit, credit string) {
	s := formatMinor(m, digits)
	if m < 0 {
		return "", strings.TrimPrefix(s, "-")
	}
	return s, ""
}

// upper returns a currency code in the upper case of accountants' reports.
func upper(code string) string { return strings.ToUpper(code) }
