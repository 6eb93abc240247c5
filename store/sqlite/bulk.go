package sqlite

import (
	"context"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/internal/bankmark"
)

// entryChunk is how many entries one multi-row INSERT carries: few enough
// to stay far below SQLite's limit on bound variables (16 a row), many
// enough that the per-statement cost of cgo and the driver is paid once per
// chunk rather than once per entry.
const entryChunk = 50

// Most entries of a bulk load are plain: posted, with no metadata, source,
// reversal, pending link or expiry. A chunk of plain entries is written
// with the columns that vary only — half the bound values of the full
// column list, and each bound value is a cgo call — and the rest take their
// defaults.
const (
	plainEntryCols  = `id, key, hash, phase, occurred_at, recorded_at, description, postings`
	plainEntryTuple = `(?, ?, ?, 'posted', ?, ?, ?, ?)`
)

func isPlain(e *ledger.Entry) bool {
	return e.Phase == ledger.Posted && len(e.Metadata) == 0 && e.Source == (ledger.Source{}) &&
		e.Reverses == 0 && e.PendingOf == 0 && e.ExpiresAt.IsZero()
}

// insertEntriesSQL is the multi-row insert of rows entries, skipping rows
// whose key is stored.
func insertEntriesSQL(plain bool, rows int) string {
	cols, tuple := entryInsertCols, "("+placeholders(entryInsertColCount)+")"
	if plain {
		cols, tuple = plainEntryCols, plainEntryTuple
	}
	return "INSERT INTO entries (" + cols + ") VALUES " + tuples(tuple, rows) + onKeyConflict
}

// onKeyConflict ends an insert of entries: a row whose key is stored is
// skipped. An insert without it, of entries whose keys are known new, needs
// no index of the keys (entrykey.go).
const onKeyConflict = " ON CONFLICT (key) DO NOTHING"

// insertEntrySQL is InsertEntry's statement, built once: a feed inserts a
// million single entries with it.
var insertEntrySQL = insertEntriesSQL(false, 1)

// InsertEntries writes entries in multi-row statements. Each statement
// skips the rows whose key is stored already (ON CONFLICT DO NOTHING); only
// when it wrote fewer rows than it carried are those keys looked up, so a
// batch of new entries costs no reads. A chunk whose keys are all known
// new (fresh.go), as a payout's sweep into a new database makes them, is
// written behind (later.go) and must write every row.
func (t *tx) InsertEntries(ctx context.Context, es []*ledger.Entry) (map[int]*ledger.Entry, error) {
	if err := t.initEntryID(ctx); err != nil {
		return nil, err
	}
	banks, err := t.bankLedgerAccounts(ctx)
	if err != nil {
		return nil, err
	}
	now := t.s.now().UTC()
	existing := map[int]*ledger.Entry{}
	var p *params
	var own params // a chunk written at once
	var ps []rawPosting
	ends := make([]int, 0, entryChunk)    // end of each entry's postings in ps
	marked := make([]bool, 0, entryChunk) // each entry's bank mark
	for start := 0; start < len(es); start += entryChunk {
		chunk := es[start:min(start+entryChunk, len(es))]
		ps, ends, marked = ps[:0], ends[:0], marked[:0]
		plain, isNew := true, true
		for _, e := range chunk {
			marked = append(marked, bankmark.Marked(e, banks))
			plain = plain && isPlain(e) && !marked[len(marked)-1]
			if isNew {
				// A key the chunk repeats was noted just before: not new.
				var err error
				if isNew, err = t.freshEntries.missing(ctx, t, anyEntry, e.Key); err != nil {
					return nil, err
				}
			}
			t.freshEntries.add(e.Key) // InsertEntry may yet ask
		}
		if isNew {
			if err := t.dropEntryKey(ctx); err != nil {
				return nil, err
			}
			p = t.laterChunkParams()
		} else {
			own.reset()
			p = &own
		}
		for i, e := range chunk {
			e.ID = t.nextEntryID
			if e.RecordedAt.IsZero() {
				e.RecordedAt = now
			}
			t.nextEntryID++
			from := len(ps)
			var err error
			if ps, err = t.rawPostings(ctx, e.Postings, ps); err != nil {
				return nil, err
			}
			ends = append(ends, len(ps))
			if err := appendEntryParams(p, e, ps[from:], plain, marked[i]); err != nil {
				return nil, err
			}
		}
		if isNew {
			if err := t.execLater(ctx, t.knownNewEntriesSQL(insertEntriesSQL(plain, len(chunk))), p, int64(len(chunk))); err != nil {
				return nil, translate(err)
			}
		} else if written, err := t.execParams(ctx, insertEntriesSQL(plain, len(chunk)), p); err != nil {
			return nil, translate(err)
		} else if int(written) < len(chunk) {
			if err := t.storedInstead(ctx, chunk, start, existing); err != nil {
				return nil, err
			}
		}
		from := 0
		for i, e := range chunk {
			if _, skipped := existing[start+i]; !skipped {
				if err := t.addPostings(e.Phase, ps[from:ends[i]]); err != nil {
					return nil, err
				}
			}
			from = ends[i]
		}
	}
	return existing, nil
}

// storedInstead finds the entries of chunk (at offset start in the batch)
// that were not written because their key was stored before, and loads the
// stored versions into existing.
func (t *tx) storedInstead(ctx context.Context, chunk []*ledger.Entry, start int, existing map[int]*ledger.Entry) error {
	args := make([]any, len(chunk))
	for i, e := range chunk {
		args[i] = e.Key
	}
	rows, err := t.query(ctx, `SELECT id, key FROM entries WHERE key IN (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return err
	}
	stored := make(map[string]int64, len(chunk))
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return err
		}
		stored[key] = id
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return err
	}
	for i, e := range chunk {
		if id := stored[e.Key]; id != e.ID {
			prev, err := t.Entry(ctx, id)
			if err != nil {
				return err
			}
			existing[start+i] = prev
		}
	}
	return nil
}
