package reconcile

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// arrange moves every element to where the order puts it, whatever the
// cycles of the permutation: fixed points, swaps, one long cycle.
func TestArrange(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 40 {
		for range 20 {
			order := make([]int32, n)
			for i := range order {
				order[i] = int32(i)
			}
			r.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
			s := make([]string, n)
			want := make([]string, n)
			for i := range s {
				s[i] = fmt.Sprint("v", i)
			}
			for k, from := range order {
				want[k] = s[from]
			}
			arrange(s, slices.Clone(order))
			if !slices.Equal(s, want) {
				t.Fatalf("arrange by %v gave %v, want %v", order, s, want)
			}
		}
	}
}

// sortOutcomes orders as a sort of the outcomes themselves would, and
// keeps outcomes that tie on every key in the order they came.
func TestSortOutcomes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	kinds := []OutcomeKind{Mismatched, MissingInLedger, MissingAtProvider, Duplicate, PayoutMismatch}
	var os []Outcome
	for i := range 5000 {
		os = append(os, Outcome{Kind: kinds[r.IntN(len(kinds))], At: time.Unix(int64(r.IntN(50)), 0),
			Fingerprint: fmt.Sprint("f", r.IntN(20)), Amount: int64(r.IntN(3)), Ref: fmt.Sprint("r", r.IntN(2)),
			ProviderID: fmt.Sprint("txn_", i)})
	}
	want := slices.Clone(os)
	slices.SortStableFunc(want, func(a, b Outcome) int {
		return cmp.Or(cmp.Compare(kindRank[a.Kind], kindRank[b.Kind]), a.At.Compare(b.At),
			strings.Compare(a.Fingerprint, b.Fingerprint), cmp.Compare(a.Amount, b.Amount), strings.Compare(a.Ref, b.Ref))
	})
	sortOutcomes(os)
	for i := range os {
		if os[i].ProviderID != want[i].ProviderID {
			t.Fatalf("outcome %d is %+v, want %+v", i, os[i], want[i])
		}
	}
}
