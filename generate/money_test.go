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

func TestIDs(t *testing.T) {
	if got := numberedIDs.id("txn_", 42); got != "txn_00000042" {
		t.Errorf("numbered: %q", got)
	}
	seen := map[string]bool{}
	inOrder := 0
	prev := ""
	for n := 1; n <= 200_000; n++ {
		id := randomIDs.id("txn_", n)
		if len(id) != len("txn_")+24 || id[:4] != "txn_" {
			t.Fatalf("%d: %q is not txn_ and 24 characters", n, id)
		}
		for _, c := range id[4:] {
			if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
				t.Fatalf("%d: %q has %q", n, id, c)
			}
		}
		if seen[id] {
			t.Fatalf("%d: %q made twice", n, id)
		}
		seen[id] = true
		if id > prev {
			inOrder++
		}
		prev = id
	}
	// In no order: about half of the ids sort after the one before.
	if inOrder < 90_000 || inOrder > 110_000 {
		t.Errorf("%d of 200,000 random ids sort after the one before", inOrder)
	}
	if randomIDs.id("ch_", 7) == randomIDs.id("re_", 7) {
		t.Error("two prefixes share the rest of their ids")
	}
}
