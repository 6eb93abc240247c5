package reports

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// TestAppendMinorMatchesLedger checks the allocation-free formatter against
// ledger.FormatMinor, the decimal-based reference.
func TestAppendMinorMatchesLedger(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []int64{0, 1, -1, 9, -9, 10, 99, -100, 12345, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for range 2000 {
		values = append(values, r.Int64()>>r.IntN(63), -(r.Int64() >> r.IntN(63)))
	}
	for _, v := range values {
		for _, digits := range []int{0, 1, 2, 3, 4, 8, 18} {
			if got, want := formatMinor(v, digits), ledger.FormatMinor(v, digits); got != want {
				t.Fatalf("formatMinor(%d, %d) = %q, want %q", v, digits, got, want)
			}
		}
	}
}

func TestDebitCredit(t *testing.T) {
	tests := []struct {
		m          int64
		digits     int
		debit, cre string
	}{
		{1234, 2, "12.34", ""},
		{-1234, 2, "", "12.34"},
		{-5, 0, "", "5"},
		{math.MinInt64, 2, "", "92233720368547758.08"},
	}
	for _, tt := range tests {
		d, c := debitCredit(tt.m, tt.digits)
		if d != tt.debit || c != tt.cre {
			t.Errorf("debitCredit(%d, %d) = %q, %q; want %q, %q", tt.m, tt.digits, d, c, tt.debit, tt.cre)
		}
	}
}
