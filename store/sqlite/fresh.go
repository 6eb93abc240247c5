package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"hash/maphash"
)

// A feed recorded into a new database (a first month, a history loaded at
// once) asks, for every event, whether its request key and its payment are
// stored: a million lookups by random key, each a descent into an index
// larger than the page cache, that all find nothing but what the same
// transaction wrote. When a table was empty as the transaction first looked
// at it, every row in it is one the transaction wrote; the transaction
// notes each key it writes there in a Bloom filter, and a key the filter
// has never seen is known missing without asking SQLite. A key the filter
// may have seen (one written, or a false positive) is looked up as before,
// so the answer is always the table's. BENCHMARKS.md, tenth round.

// freshness is what a write transaction knows of one table's rows.
type freshness struct {
	// checked: the table was looked at; empty: it had no rows then. A
	// table the transaction wrote to before looking is not empty, unless a
	// rolled-back savepoint took the rows away again.
	checked, empty bool
	// written has every key the transaction wrote to the table.
	written keySet
}

// missing reports whether key is known missing from the table: it was
// empty when first looked at, and the transaction has not written key.
// The first call looks, with query (which must return a row when the table
// has one). Only a write transaction keeps count; in a read one nothing is
// known missing.
func (f *freshness) missing(ctx context.Context, t *tx, query, key string) (bool, error) {
	if !t.write {
		return false, nil // a read transaction writes nothing, and asks little
	}
	if !f.checked {
		var one int
		switch err := t.queryRow(ctx, query).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			f.empty = true
		case err != nil:
			return false, err
		}
		f.checked = true
	}
	return f.empty && !f.written.mayHave(key), nil
}

// add notes a key about to be written to the table.
func (f *freshness) add(key string) { f.written.add(key) }

// keySet is a Bloom filter that grows: layers of doubling size, each
// holding up to its capacity at most about one false positive in a
// hundred; a lookup asks every layer. It never forgets a key added (no
// false negatives). A million keys take about 2 MB.
type keySet struct {
	seed   maphash.Seed
	layers []bloomLayer
}

type bloomLayer struct {
	bits     []uint64
	mask     uint64 // bits in the layer, less one (a power of two)
	n, limit int
}

// bloomHashes is how many bits a key sets in a layer; at ten bits a key
// or more (a layer's size is rounded up to a power of two) and four of
// them, at most about one lookup in a hundred of a key never added finds
// all its bits set in a full layer, and fewer in the others.
const (
	bloomHashes     = 4
	bloomBitsPerKey = 10
	bloomFirst      = 1 << 14 // keys the first layer holds
)

func (s *keySet) add(key string) {
	if len(s.layers) == 0 {
		s.seed = maphash.MakeSeed()
	}
	if len(s.layers) == 0 || s.layers[len(s.layers)-1].n >= s.layers[len(s.layers)-1].limit {
		limit := bloomFirst << len(s.layers)
		bits := uint64(1)
		for bits < uint64(limit*bloomBitsPerKey) {
			bits <<= 1
		}
		s.layers = append(s.layers, bloomLayer{bits: make([]uint64, bits/64), mask: bits - 1, limit: limit})
	}
	l := &s.layers[len(s.layers)-1]
	h1, h2 := s.hashes(key)
	for i := range uint64(bloomHashes) {
		b := (h1 + i*h2) & l.mask
		l.bits[b/64] |= 1 << (b % 64)
	}
	l.n++
}

func (s *keySet) mayHave(key string) bool {
	if len(s.layers) == 0 {
		return false
	}
	h1, h2 := s.hashes(key)
	for li := range s.layers {
		l := &s.layers[li]
		all := true
		for i := range uint64(bloomHashes) {
			b := (h1 + i*h2) & l.mask
			if l.bits[b/64]&(1<<(b%64)) == 0 {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// hashes derives the two hashes a key's bits are made of (double hashing).
func (s *keySet) hashes(key string) (uint64, uint64) {
	h := maphash.String(s.seed, key)
	return h, h>>32 | h<<32 | 1
}
