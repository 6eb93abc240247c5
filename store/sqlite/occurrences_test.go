package sqlite

import (
	"math/rand/v2"
	"testing"
)

// occurrences counts as a map would, through its growth, for hashes drawn
// from a small set (so that they repeat) and for 0 and 1, which share a slot.
func TestOccurrences(t *testing.T) {
	var o occurrences
	want := map[uint64]int{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300_000 {
		h := r.Uint64N(200_000) * 0x9E3779B97F4A7C15 // spread over 64 bits, repeating
		if i%1000 == 0 {
			h = uint64(i / 1000 % 2) // 0 and 1
		}
		k := h
		if k == 0 {
			k = 1
		}
		want[k]++
		if got := o.add(h); got != want[k] {
			t.Fatalf("add(%#x) = %d, want %d", h, got, want[k])
		}
	}
	if o.n != len(want) {
		t.Errorf("%d hashes held, want %d", o.n, len(want))
	}
}
