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

// MinYear and MaxYear bound the times an importer accepts. The store keeps
// times as Unix nanoseconds, which reach from 1677-09-21 to 2262-04-11, and a
// time outside would be stored as another one; whole years inside that span
// make the rule easy to state. Every time read is checked here and nowhere
// else, so a date either comes back from the store exactly as read or is
// refused with its file, line and field.
const (
	MinYear = 1678
	MaxYear = 2261
)

// The same bounds in Unix seconds: 1678-01-01T00:00:00Z, the first instant
// accepted, and 2262-01-01T00:00:00Z, the first refused
// (TestDatesAtTheEdgesAreKept checks them against MinYear and MaxYear).
const (
	minUnix = -9214560000
	endUnix = 9214646400
)

// checkTime refuses a time the store could not give back as it is: one
// outside MinYear to MaxYear, and the Unix epoch itself, which the store
// reads back as "no time". s is the text it was read from, for the message.
// It runs for every time of every row, so the common case is kept small
// enough to inline.
func checkTime(t time.Time, s string) error {
	if u := t.Unix(); u > minUnix && u < endUnix && u != 0 {
		return nil
	}
	return checkTimeEdges(t, s)
}

func checkTimeEdges(t time.Time, s string) error {
	switch u := t.Unix(); {
	case u < minUnix || u >= endUnix:
		return fmt.Errorf("%w: %q is %s, outside the years %d to %d that settle can store", ErrBadTime, s, t.UTC().Format(time.RFC3339Nano), MinYear, MaxYear)
	case u == 0 && t.Nanosecond() == 0:
		return fmt.Errorf("%w: %q is the Unix epoch (1970-01-01T00:00:00Z), which stands for a missing time, not a date", ErrBadTime, s)
	}
	return nil
}

// parseUnix parses an integer count of seconds (or milliseconds when ms)
// since the Unix epoch. Zero and negative counts are refused as well as
// those past MaxYear: a provider's timestamp is never before 1970, and 0 or
// -1 in an integer time field is a placeholder for "none", not a date.
func parseUnix(s string, ms bool) (time.Time, error) {
	unit, per := "seconds", int64(1)
	if ms {
		unit, per = "milliseconds", 1000
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is not an integer count of %s since the Unix epoch", ErrBadTime, s, unit)
	}
	if v <= 0 {
		return time.Time{}, fmt.Errorf("%w: %s %s since the Unix epoch is not a date: a provider's times are after 1970, and 0 or a negative count stands for a missing time", ErrBadTime, s, unit)
	}
	if v/per >= endUnix {
		return time.Time{}, fmt.Errorf("%w: %s %s since the Unix epoch is after the year %d, the last that settle can store", ErrBadTime, s, unit, MaxYear)
	}
	return time.Unix(v/per, v%per*int64(time.Second)/per).UTC(), nil
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
				return v, nil // checked by parseDigitsTime
			}
		}
		if v, err := time.Parse(l, t); err == nil {
			if err := checkTime(v, s); err != nil {
				return time.Time{}, err
			}
			return v.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q does not match %s", ErrBadTime, s, strings.Join(layouts, " or "))
}

// parseDigitsTime parses "2006-01-02 15:04:05" or "2006-01-02" as UTC, as
// time.Parse does but some ten times faster: the two timestamps of an
// itemized report row took a third of its parsing. It returns false for
// anything time.Parse would reject, for what it would accept in another
// way, and for what checkTime would refuse (time.Parse then decides, and
// checkTime says why), so that what it accepts needs no further check.
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
	if year < MinYear || year > MaxYear || year == 1970 && month == 1 && day == 1 && hour == 0 && minute == 0 && sec == 0 ||
		month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
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
