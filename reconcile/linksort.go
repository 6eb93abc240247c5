package reconcile

import (
	"cmp"
	"slices"
	"strings"
)

// sortLinks orders links by provider id, then ledger id, as finish
// promises. A first run holds a link for nearly every record, a million for
// a month of a provider's random ids, and comparing those ids as strings
// was most of the run's sorting: each link is sorted here under a number
// made of the eight bytes of its provider id after the prefix all the ids
// share (txn_…), and the strings are compared only where two numbers tie.
func sortLinks(links []Link) {
	if len(links) < 2 {
		return
	}
	skip := sharedPrefix(links)
	keyed := make([]keyedLink, len(links))
	for i, l := range links {
		keyed[i] = keyedLink{key: prefixKey(l.ProviderID, skip), at: int32(i)}
	}
	slices.SortFunc(keyed, func(a, b keyedLink) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return compareLinks(links[a.at], links[b.at])
	})
	// Put each link in place, cycle by cycle: place i takes the link at
	// keyed[i].at, which takes the one its own entry names, and so on back
	// to i. A placed entry is marked -1.
	for i := range keyed {
		if keyed[i].at < 0 {
			continue
		}
		held := links[i]
		j := i
		for {
			from := int(keyed[j].at)
			keyed[j].at = -1
			if from == i {
				links[j] = held
				break
			}
			links[j] = links[from]
			j = from
		}
	}
}

// keyedLink is the number a link sorts under, and where it is.
type keyedLink struct {
	key uint64
	at  int32
}

// compareLinks is the order of links: provider id, then ledger id.
func compareLinks(a, b Link) int {
	if c := strings.Compare(a.ProviderID, b.ProviderID); c != 0 {
		return c
	}
	return strings.Compare(a.LedgerID, b.LedgerID)
}

// sharedPrefix returns the length of the prefix every link's provider id
// shares.
func sharedPrefix(links []Link) int {
	first := links[0].ProviderID
	n := len(first)
	for _, l := range links[1:] {
		id := l.ProviderID
		m := min(n, len(id))
		i := 0
		for i < m && id[i] == first[i] {
			i++
		}
		if n = i; n == 0 {
			break
		}
	}
	return n
}

// prefixKey is the eight bytes of s from skip on, big-endian, zero bytes
// past its end: two ids whose keys differ are ordered as their keys are.
// Ids whose keys tie (one a prefix of the other, or a shared ninth byte
// onwards) are told apart by compareLinks.
func prefixKey(s string, skip int) uint64 {
	var k uint64
	for i := range 8 {
		k <<= 8
		if j := skip + i; j < len(s) {
			k |= uint64(s[j])
		}
	}
	return k
}
