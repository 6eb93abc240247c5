package reconcile

import "hash/maphash"

// index is an open-addressing hash table from keys to item indices, for the
// joins of the matching engine. A slot is 8 bytes (32 bits of hash and the
// index), so an index of a million items takes 16 MB where a Go map keyed
// by strings takes several times that, and probing compares hashes before
// it touches the items' strings.
type index struct {
	seed  maphash.Seed
	slots []uint64 // 0: empty; else hash<<32 | index+1
	mask  int
}

func newIndex(n int) *index {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	return &index{seed: maphash.MakeSeed(), slots: make([]uint64, size), mask: size - 1}
}

// hash hashes a string key; kind distinguishes keys that share a string.
func (x *index) hash(s string, kind uint8) uint64 {
	return maphash.String(x.seed, s) ^ (uint64(kind)+1)*0x9e3779b97f4a7c15
}

// find returns the slot of the key with hash h for which eq holds, or the
// empty slot where it belongs.
func (x *index) find(h uint64, eq func(i int32) bool) (pos int, found bool) {
	tag := h >> 32
	for pos = int(h) & x.mask; ; pos = (pos + 1) & x.mask {
		s := x.slots[pos]
		if s == 0 {
			return pos, false
		}
		if s>>32 == tag && eq(int32(s&0xffffffff)-1) {
			return pos, true
		}
	}
}

// at returns the item index in a full slot.
func (x *index) at(pos int) int32 { return int32(x.slots[pos]&0xffffffff) - 1 }

// set puts item i with hash h in slot pos.
func (x *index) set(pos int, h uint64, i int32) { x.slots[pos] = h>>32<<32 | uint64(i+1) }
