package reconcile

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// sortLinks must give exactly the order of comparing the strings, however
// the ids share prefixes, end early or carry zero bytes, and give back
// every link whole.
func TestSortLinksOrdersAsStrings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabets := []string{"ab", "\x00a\xff", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}
	for round := range 300 {
		alpha := alphabets[round%len(alphabets)]
		prefix := []string{"", "txn_", "txn_3Kq"}[round%3]
		n := 1 + r.IntN(400)
		links := make([]Link, n)
		for i := range links {
			id := prefix
			for range r.IntN(14) {
				id += string(alpha[r.IntN(len(alpha))])
			}
			links[i] = Link{ProviderID: id, LedgerID: string(alpha[r.IntN(len(alpha))]) + strconv.Itoa(i), Heuristic: i%3 == 0}
		}
		if round%7 == 0 && n > 1 { // one id a prefix of another
			links[1].ProviderID = links[0].ProviderID + "\x00"
		}
		want := slices.Clone(links)
		slices.SortStableFunc(want, compareLinks)
		got := slices.Clone(links)
		sortLinks(got)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d: at %d got %q/%q, want %q/%q", round, i, got[i].ProviderID, got[i].LedgerID,
					want[i].ProviderID, want[i].LedgerID)
			}
		}
	}
}

func TestSharedPrefix(t *testing.T) {
	for _, c := range []struct {
		ids  []string
		want int
	}{
		{[]string{"txn_1", "txn_2", "txn_"}, 4},
		{[]string{"abc", "abc"}, 3},
		{[]string{"abc", "xbc"}, 0},
		{[]string{"", "a"}, 0},
	} {
		links := make([]Link, len(c.ids))
		for i, id := range c.ids {
			links[i].ProviderID = id
		}
		if got := sharedPrefix(links); got != c.want {
			t.Errorf("sharedPrefix(%q) = %d, want %d", c.ids, got, c.want)
		}
	}
}

// BenchmarkSortLinks sorts a first run's million links on a provider's
// random ids (txn_ and 24 random characters): the keyed sort, and beside
// it, labelled, the plain comparison of strings it replaced.
func BenchmarkSortLinks(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	const alpha = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	links := make([]Link, 1_000_000)
	for i := range links {
		id := []byte("txn_")
		for range 24 {
			id = append(id, alpha[r.IntN(len(alpha))])
		}
		links[i] = Link{ProviderID: string(id), LedgerID: "btx_" + strconv.Itoa(i)}
	}
	work := make([]Link, len(links))
	for _, c := range []struct {
		name string
		sort func([]Link)
	}{
		{"keyed", sortLinks},
		{"strings", func(ls []Link) { slices.SortFunc(ls, compareLinks) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				copy(work, links)
				b.StartTimer()
				c.sort(work)
			}
		})
	}
}
