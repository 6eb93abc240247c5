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
// notes the hash of each key it writes there (keySet), and a key whose
// hash it has never noted is known missing without asking SQLite. A key
// whose hash it noted (one written, or another with the same hash) is
// looked up as before, so the answer is always the table's. BENCHMARKS.md,
// tenth and twenty-second rounds.
//
// The same knowledge lets a write whose key is known new go behind
// (later.go): an entry's insert cannot find its key taken. The refunds,
// disputes and payouts a feed creates are looked up the same way before
// they are saved (nineteenth and twenty-second rounds).

// A feed recorded into books that already hold rows (the nightly run, a
// day's events into months of them) cannot know a key missing that way:
// every entry's insert waited for the writes handed over and ran at once,
// to learn whether its key was taken, and the booking and the writing took
// turns once an event; so did every lookup of a refund, dispute or payout.
// Prefetch asks, a few hundred keys a query, which of the entry keys the
// next events are about to write (their idempotency keys) and which of the
// refunds, disputes and payouts they name are stored, and each table notes
// the ones it did not find (absent). The transaction holds the write
// lock, so no one else can store them meanwhile; its own write of one
// takes it out of the set (add), and a rolled-back savepoint only removes
// rows, so what is absent stays so. BENCHMARKS.md, twenty-seventh round.

// freshness is what a write transaction knows of one table's rows.
type freshness struct {
	// checked: the table was looked at; empty: it had no rows then. A
	// table the transaction wrote to before looking is not empty, unless a
	// rolled-back savepoint took the rows away again.
	checked, empty bool
	// written has every key the transaction wrote to the table.
	written keySet
	// absent are keys looked up in the table and not found there, that
	// the transaction has not written since (noteAbsent).
	absent map[string]struct{}
}

// missing reports whether key is known missing from the table: it was
// empty when first looked at, or a lookup did not find key there (absent),
// and the transaction has not written key since.
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
	if f.empty && !f.written.mayHave(key) {
		return true, nil
	}
	_, gone := f.absent[key]
	return gone, nil
}

// noteAbsent replaces the keys known absent with keys, which the caller
// looked up in the table, in this transaction, and did not find. The keys
// noted before are forgotten: they were the events before, done by now.
func (f *freshness) noteAbsent(keys []string) {
	clear(f.absent)
	if len(keys) == 0 {
		return
	}
	if f.absent == nil {
		f.absent = make(map[string]struct{}, len(keys))
	}
	for _, k := range keys {
		f.absent[k] = struct{}{}
	}
}

// add notes a key about to be written to the table. Only a table found
// empty keeps it, since only there is a key asked of the set: a table not
// looked at yet is looked at after the write (missing waits for the writes
// handed over), finds a row, and is never taken for empty. A key known
// absent is absent no more.
func (f *freshness) add(key string) {
	if f.checked && f.empty {
		f.written.add(key)
	}
	delete(f.absent, key)
}

// keySet is the set of the 64-bit hashes of the keys added. A key whose
// hash is not in it was never added; one whose hash is there was added, or
// shares its hash with one that was (at a few million keys, about one
// lookup in a trillion), and is looked up in SQLite. A false answer costs
// that lookup and the wait for the writes handed over before it
// (later.go). The Bloom filter this replaced answered falsely about three
// times in a thousand, and so waited for the writer a few thousand times a
// month's feed (BENCHMARKS.md, twenty-second round); the hashes take about
// 16 bytes a key instead of 2.5: some 60 MB at a million payments.
//
// The hashes are kept by open addressing with linear probing in a table of
// a power of two slots, at most three quarters full; 0 marks a free slot
// (a key hashing to 0 is kept as 1).
type keySet struct {
	seed  maphash.Seed
	slots []uint64
	n     int
}

// keySetFirst is the slots of a set's first table.
const keySetFirst = 1 << 12

func (s *keySet) add(key string) {
	if s.slots == nil {
		s.seed = maphash.MakeSeed()
		s.slots = make([]uint64, keySetFirst)
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		old := s.slots
		s.slots = make([]uint64, 2*len(old))
		for _, h := range old {
			if h != 0 {
				s.put(h)
			}
		}
	}
	if s.put(s.hash(key)) {
		s.n++
	}
}

// put places h in its slot and reports whether it was not there before.
func (s *keySet) put(h uint64) bool {
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			return true
		case h:
			return false
		}
	}
}

func (s *keySet) mayHave(key string) bool {
	if s.n == 0 {
		return false
	}
	h := s.hash(key)
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			return false
		case h:
			return true
		}
	}
}

func (s *keySet) hash(key string) uint64 {
	return max(maphash.String(s.seed, key), 1)
}
