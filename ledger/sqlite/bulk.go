package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// Rows per multi-row INSERT: few enough to stay far below SQLite's limit on
// bound variables, many enough that the per-statement cost of cgo and the
// driver is paid once per chunk rather than once per row.
const (
	entryChunk   = 50
	postingChunk = 200
	keyChunk     = 500
)

const entryInsertCols = `id, key, hash, phase, occurred_at, recorded_at, description, metadata,
	source_provider, source_type, source_id, source_ref, reverses, pending_of, expires_at`

// multiInsert returns "INSERT INTO table (cols) VALUES (?, …), …" for rows rows.
func multiInsert(table, cols string, ncols, rows int) string {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", ncols), ", ") + ")"
	return "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", ")
}

// InsertEntries writes entries in multi-row statements after looking up
// which keys are already stored.
func (t *tx) InsertEntries(ctx context.Context, es []*ledger.Entry) (map[int]*ledger.Entry, error) {
	existing, err := t.existingKeys(ctx, es)
	if err != nil {
		return nil, err
	}
	if t.nextEntryID == 0 {
		if err := t.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM entries`).Scan(&t.nextEntryID); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	var entryArgs, postingArgs []any
	entryRows, postingRows := 0, 0
	flushEntries := func() error {
		if entryRows == 0 {
			return nil
		}
		if err := t.execMulti(ctx, "entries", entryInsertCols, 15, entryRows, entryArgs); err != nil {
			return err
		}
		entryArgs, entryRows = entryArgs[:0], 0
		return nil
	}
	flushPostings := func() error {
		if postingRows == 0 {
			return nil
		}
		if err := t.execMulti(ctx, "postings", "entry_id, seq, account_id, currency, amount", 5, postingRows, postingArgs); err != nil {
			return err
		}
		postingArgs, postingRows = postingArgs[:0], 0
		return nil
	}
	for i, e := range es {
		if _, ok := existing[i]; ok {
			continue
		}
		md, err := meta(e.Metadata)
		if err != nil {
			return nil, err
		}
		e.ID, e.RecordedAt = t.nextEntryID, now
		t.nextEntryID++
		entryArgs = append(entryArgs, e.ID, e.Key, e.Hash, string(e.Phase), ts(e.OccurredAt), ts(e.RecordedAt), e.Description, md,
			e.Source.Provider, e.Source.Type, e.Source.ID, e.Source.Ref, nullID(e.Reverses), nullID(e.PendingOf), nullTS(e.ExpiresAt))
		if entryRows++; entryRows == entryChunk {
			if err := flushEntries(); err != nil {
				return nil, err
			}
		}
		for seq, p := range e.Postings {
			acc, err := t.accountID(ctx, p.Account)
			if err != nil {
				return nil, err
			}
			postingArgs = append(postingArgs, e.ID, seq, acc, p.Currency, p.Amount)
			if postingRows++; postingRows == postingChunk {
				// Postings reference entries: write pending entries first.
				if err := flushEntries(); err != nil {
					return nil, err
				}
				if err := flushPostings(); err != nil {
					return nil, err
				}
			}
			if e.Phase == ledger.Pending {
				err = t.addDelta(acc, p.Currency, 0, p.Amount)
			} else {
				err = t.addDelta(acc, p.Currency, p.Amount, 0)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if err := flushEntries(); err != nil {
		return nil, err
	}
	if err := flushPostings(); err != nil {
		return nil, err
	}
	return existing, nil
}

// execMulti runs a multi-row insert, with its statement prepared once per
// row count.
func (t *tx) execMulti(ctx context.Context, table, cols string, ncols, rows int, args []any) error {
	_, err := t.exec(ctx, multiInsert(table, cols, ncols, rows), args...)
	return translate(err)
}

// existingKeys finds which of es's keys are stored and loads those entries.
func (t *tx) existingKeys(ctx context.Context, es []*ledger.Entry) (map[int]*ledger.Entry, error) {
	index := make(map[string]int, len(es))
	for i, e := range es {
		index[e.Key] = i
	}
	found := map[int]*ledger.Entry{}
	var ids []int64
	var idx []int
	for start := 0; start < len(es); start += keyChunk {
		end := min(start+keyChunk, len(es))
		args := make([]any, 0, end-start)
		for _, e := range es[start:end] {
			args = append(args, e.Key)
		}
		rows, err := t.query(ctx, `SELECT id, key FROM entries WHERE key IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return nil, err
			}
			ids, idx = append(ids, id), append(idx, index[key])
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	for k, id := range ids {
		e, err := t.Entry(ctx, id)
		if err != nil {
			return nil, err
		}
		found[idx[k]] = e
	}
	return found, nil
}
