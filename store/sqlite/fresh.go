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
//
// The same knowledge lets a write whose key is known new go behind
// (later.go): an entry's insert cannot find its key taken. The refunds and
// disputes a feed creates are looked up the same way before they are
// saved (nineteenth round).

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

// add notes a key about to be written to the table. Only a table found
// empty keeps it, since only there is a key asked of the set: a table not
// looked at yet is looked at after the write (missing waits for the writes
// handed over), finds a row, and is never taken for empty.
func (f *freshness) add(key string) {
	if f.checked && f.empty {
		f.written.add(key)
	}
}

// keySet is a Bloom filter that grows: layers of quadrupling size, each
// holding up to its capacity about three false positives in a thousand; a
// lookup asks every layer. It never forgets a key added (no false
// negatives). A million keys take about 5 MB. A key's bits in a layer all
// lie in one 64-bit word (a blocked filter), so that asking a layer costs
// one cache miss, not one a bit: a month's feed asks about ten million
// times, of layers far larger than the processor's caches. A false
// positive costs a lookup in SQLite, and the wait for the writes handed
// over before it (later.go), so the filter spends bits to keep them rare.
type keySet struct {
	seed   maphash.Seed
	layers []bloomLayer
}

type bloomLayer struct {
	words    []uint64
	mask     uint64 // words in the layer, less one (a power of two)
	n, limit int
}

// bloomHashes is how many bits a key sets in its word; at twenty bits a
// key or more (a layer's size is rounded up to a power of two) and five of
// them, about three lookups in a thousand of a key never added find all
// its bits set (TestKeySet measures it).
const (
	bloomHashes     = 5
	bloomBitsPerKey = 20
	bloomFirst      = 1 << 14 // keys the first layer holds
	bloomGrowth     = 2       // each layer holds 1<<bloomGrowth times the keys of the one before
)

func (s *keySet) add(key string) {
	if len(s.layers) == 0 {
		s.seed = maphash.MakeSeed()
	}
	if len(s.layers) == 0 || s.layers[len(s.layers)-1].n >= s.layers[len(s.layers)-1].limit {
		limit := bloomFirst << (bloomGrowth * len(s.layers))
		words := uint64(1)
		for words*64 < uint64(limit*bloomBitsPerKey) {
			words <<= 1
		}
		s.layers = append(s.layers, bloomLayer{words: make([]uint64, words), mask: words - 1, limit: limit})
	}
	l := &s.layers[len(s.layers)-1]
	h := s.hash(key)
	l.words[h&l.mask] |= bloomBits(h)
	l.n++
}

func (s *keySet) mayHave(key string) bool {
	if len(s.layers) == 0 {
		return false
	}
	h := s.hash(key)
	bits := bloomBits(h)
	for li := range s.layers {
		l := &s.layers[li]
		if l.words[h&l.mask]&bits == bits {
			return true
		}
	}
	return false
}

func (s *keySet) hash(key string) uint64 { return maphash.String(s.seed, key) }

// bloomBits are a key's bits within its word, six bits of the hash for
// each from the 34th up (the lower bits choose the word).
func bloomBits(h uint64) uint64 {
	var bits uint64
	for i := range uint64(bloomHashes) {
		bits |= 1 << (h >> (34 + 6*i) & 63)
	}
	return bits
}
