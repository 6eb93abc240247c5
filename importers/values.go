package importers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// currencyCache resolves currency codes through the caller's registry and
// remembers the answers, because a file holds few currencies but many rows.
type currencyCache struct {
	cs *ledger.Currencies
	m  map[string]ledger.Currency
}

// maxCachedCurrencies bounds the cache so a hostile file cannot grow it.
const maxCachedCurrencies = 64

func (c *currencyCache) lookup(code string) (ledger.Currency, error) {
	if cur, ok := c.m[code]; ok {
		return cur, nil
	}
	if strings.TrimSpace(code) == "" {
		return ledger.Currency{}, fmt.Errorf("%w: no currency", ErrMissingField)
	}
	cur, err := c.cs.Lookup(code)
	if err != nil {
		return ledger.Currency{}, err
	}
	if c.m == nil {
		c.m = make(map[string]ledger.Currency)
	}
	if len(c.m) < maxCachedCurrencies {
		c.m[strings.Clone(code)] = cur
	}
	return cur, nil
}

// parseMinorString parses an integer amount already in minor units ("1999",
// "-250"). Decimals and exponents are refused: a minor-unit export never has
// them, and accepting "19.99" would silently read dollars as cents.
func parseMinorString(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%w: empty amount", ledger.ErrInvalidAmount)
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("%w: %q overflows a 64-bit minor-unit amount", ledger.ErrInvalidAmount, s)
		}
		return 0, fmt.Errorf("%w: %q is not an integer amount in minor units", ledger.ErrInvalidAmount, s)
	}
	return v, nil
}

// parseMajor converts a decimal string in major units to exact minor units
// of cur, with the semantics of ledger.ParseAmount. Plain forms ("-12.30")
// take an allocation-free fast path; anything else, and every error, goes
// through ledger.ParseAmount so messages and edge cases match it exactly.
func parseMajor(s string, cur ledger.Currency) (int64, error) {
	if v, ok := fastMajor(s, cur.Digits); ok {
		return v, nil
	}
	return ledger.ParseAmount(s, cur)
}

// fastMajor handles -?DIGITS(.DIGITS)? with at most 18 significant digits
// after scaling, so the result always fits an int64. It reports ok=false for
// anything it does not handle, including every invalid input.
func fastMajor(s string, digits int) (int64, bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		neg, i = true, 1
	}
	var v int64
	n := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + int64(c)
		n++
	}
	if n == 0 || n+digits > 18 {
		return 0, false
	}
	frac := 0
	if i < len(s) {
		i++ // the dot
		if i == len(s) {
			return 0, false
		}
		for ; i < len(s); i++ {
			c := s[i] - '0'
			if c > 9 {
				return 0, false
			}
			if frac == digits {
				if c != 0 {
					return 0, false // too many decimals: let ParseAmount say so
				}
				continue
			}
			v = v*10 + int64(c)
			frac++
		}
	}
	for ; frac < digits; frac++ {
		v *= 10
	}
	if neg {
		v = -v
	}
	return v, true
}

// Unix times outside year 1 to 9999 are refused: they are not real dates and
// time.Time cannot render them in RFC 3339.
const (
	minUnix = -62135596800 // 0001-01-01T00:00:00Z
	maxUnix = 253402300799 // 9999-12-31T23:59:59Z
)

// parseUnix parses an integer count of seconds (or milliseconds when ms)
// since the Unix epoch.
func parseUnix(s string, ms bool) (time.Time, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		unit := "seconds"
		if ms {
			unit = "milliseconds"
		}
		return time.Time{}, fmt.Errorf("%w: %q is not an integer count of %s since the Unix epoch", ErrBadTime, s, unit)
	}
	sec, nsec := v, int64(0)
	if ms {
		sec, nsec = v/1000, (v%1000)*int64(time.Millisecond)
		if nsec < 0 {
			sec, nsec = sec-1, nsec+int64(time.Second)
		}
	}
	if sec < minUnix || sec > maxUnix {
		return time.Time{}, fmt.Errorf("%w: %s is out of range", ErrBadTime, s)
	}
	return time.Unix(sec, nsec).UTC(), nil
}

// Layouts of the exports' textual times.
const (
	layoutStripeReport = "2006-01-02 15:04:05"
	layoutDate         = "2006-01-02"
)

// parseTimeLayouts parses s with the first layout that fits. A layout
// without a zone reads the time as UTC, which is what the exports document.
func parseTimeLayouts(s string, layouts ...string) (time.Time, error) {
	t := strings.TrimSpace(s)
	for _, l := range layouts {
		if (l == layoutStripeReport || l == layoutDate) && len(t) == len(l) {
			if v, ok := parseDigitsTime(t); ok {
				return v, nil
			}
		}
		if v, err := time.Parse(l, t); err == nil {
			return v.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q does not match %s", ErrBadTime, s, strings.Join(layouts, " or "))
}

// parseDigitsTime parses "2006-01-02 15:04:05" or "2006-01-02" as UTC, as
// time.Parse does but some ten times faster: the two timestamps of an
// itemized report row took a third of its parsing. It returns false for
// anything time.Parse would reject, and for what it would accept in another
// way (time.Parse then decides).
func parseDigitsTime(s string) (time.Time, bool) {
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	if s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := 0, 0, 0
	if len(s) > 10 {
		if s[10] != ' ' || s[13] != ':' || s[16] != ':' {
			return time.Time{}, false
		}
		hour, minute, sec = num(11, 2), num(14, 2), num(17, 2)
	}
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // past the end of the month: time.Date moved it on
		return time.Time{}, false
	}
	return t, true
}

// parseLayout parses s with a generic-csv date format: a Go layout, "unix"
// or "unix_ms".
func parseLayout(s, layout string) (time.Time, error) {
	switch layout {
	case "unix":
		return parseUnix(s, false)
	case "unix_ms":
		return parseUnix(s, true)
	}
	return parseTimeLayouts(s, layout)
}
