package importers

import (
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// The fast major-unit parser must agree with ledger.ParseAmount everywhere.
var majorCases = []string{
	"0", "1", "-1", "12.34", "-12.34", "12.3", "12.340", "12.345", "0.01", "-0.00",
	"999999999999999.99", "9999999999999999.99", "92233720368547758.07", "-92233720368547758.08",
	"1e3", "1.", ".5", "+5", " 7 ", "", "-", "1,000.00", "12.3.4", "١٢", "0x10", "00012.50",
}

func FuzzMajorMatchesLedger(f *testing.F) {
	for _, s := range majorCases {
		f.Add(s, 2)
	}
	f.Add("1.5", 0)
	f.Add("0.015", 18)
	f.Fuzz(func(t *testing.T, s string, digits int) {
		if digits < 0 || digits > 18 {
			return
		}
		cur := ledger.Currency{Code: "tst", Digits: digits}
		got, gerr := parseMajor(s, cur)
		want, werr := ledger.ParseAmount(s, cur)
		if (gerr == nil) != (werr == nil) || got != want {
			t.Fatalf("parseMajor(%q, %d) = %d, %v; ledger.ParseAmount = %d, %v", s, digits, got, gerr, want, werr)
		}
	})
}

func TestParseMinorString(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "1999": 1999, "-250": -250, " 5 ": 5} {
		if got, err := parseMinorString(s); err != nil || got != want {
			t.Errorf("%q: %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "19.99", "1e3", "9223372036854775808", "abc"} {
		if _, err := parseMinorString(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestParseUnix(t *testing.T) {
	if tm, err := parseUnix("1717632000123", true); err != nil || tm.UnixMilli() != 1717632000123 {
		t.Errorf("ms: %v %v", tm, err)
	}
	for _, s := range []string{"1.5", "99999999999999", "x", "0", "-1"} {
		if _, err := parseUnix(s, false); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// Timestamps must read as time.Parse reads them, with the fast parser or
// without it.
func FuzzDigitsTimeMatchesParse(f *testing.F) {
	for _, s := range []string{"2024-06-01 12:34:56", "2024-02-29 00:00:00", "2023-02-29 00:00:00", "2024-13-01 00:00:00",
		"2024-06-31", "2024-06-30", "0000-01-01 00:00:00", "9999-12-31 23:59:59", "2024-06-01 24:00:00", "2024-06-01 23:60:00",
		"2024-06-01 23:59:60", "2024-06-01T12:34:56", "2024-6-01 12:34:56", "+024-06-01", "2024-06-0a", "2024-06-01  1:02:03"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, layout := range []string{layoutStripeReport, layoutDate} {
			got, gerr := parseTimeLayouts(s, layout)
			want, werr := time.Parse(layout, strings.TrimSpace(s))
			if werr == nil && checkTime(want, s) != nil {
				// Parsed, but outside what the store holds: refused.
				want, werr = time.Time{}, checkTime(want, s)
			}
			if (gerr == nil) != (werr == nil) || !got.Equal(want) || gerr == nil && got.Location() != time.UTC {
				t.Fatalf("parseTimeLayouts(%q, %q) = %v, %v; time.Parse = %v, %v", s, layout, got, gerr, want, werr)
			}
		}
	})
}
