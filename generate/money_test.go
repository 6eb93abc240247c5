package generate

import "testing"

func TestMulBP(t *testing.T) {
	for _, c := range []struct{ amount, bp, want int64 }{
		{2999, 290, 87},  // 86.971
		{5000, 290, 145}, // exact
		{50, 100, 0},     // 0.5 → 0 (even)
		{150, 100, 2},    // 1.5 → 2 (even)
		{250, 100, 2},    // 2.5 → 2 (even)
		{11700, 360, 421},
	} {
		if got := mulBP(c.amount, c.bp); got != c.want {
			t.Errorf("mulBP(%d, %d) = %d, want %d", c.amount, c.bp, got, c.want)
		}
	}
}

func TestAppendMinor(t *testing.T) {
	for _, c := range []struct {
		m      int64
		digits int
		want   string
	}{{1234, 2, "12.34"}, {-5, 2, "-0.05"}, {0, 2, "0.00"}, {1200, 0, "1200"}, {-1, 3, "-0.001"}, {100, 2, "1.00"}} {
		if got := string(appendMinor(nil, c.m, c.digits)); got != c.want {
			t.Errorf("appendMinor(%d, %d) = %q, want %q", c.m, c.digits, got, c.want)
		}
	}
}
