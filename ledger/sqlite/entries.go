package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/settlehq/settle/ledger"
)

// InsertEntry writes an entry, its postings and its balance changes.
func (t *tx) InsertEntry(ctx context.Context, e *ledger.Entry) error {
	if t.nextEntryID == 0 {
		if err := t.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM entries`).Scan(&t.nextEntryID); err != nil {
			return err
		}
	}
	md, err := meta(e.Metadata)
	if err != nil {
		return err
	}
	e.RecordedAt = time.Now().UTC()
	res, err := t.exec(ctx, `INSERT INTO entries (id, key, hash, phase, occurred_at, recorded_at, description, metadata,
		source_provider, source_type, source_id, source_ref, reverses, pending_of, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		t.nextEntryID, e.Key, e.Hash, string(e.Phase), ts(e.OccurredAt), ts(e.RecordedAt), e.Description, md,
		e.Source.Provider, e.Source.Type, e.Source.ID, e.Source.Ref, nullID(e.Reverses), nullID(e.PendingOf), nullTS(e.ExpiresAt))
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("entry key %q exists: %w", e.Key, ledger.ErrIdempotencyConflict)
	}
	e.ID = t.nextEntryID
	t.nextEntryID++
	for i, p := range e.Postings {
		acc, err := t.accountID(ctx, p.Account)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO postings (entry_id, seq, account_id, currency, amount) VALUES (?, ?, ?, ?, ?)`,
			e.ID, i, acc, p.Currency, p.Amount); err != nil {
			return translate(err)
		}
		if e.Phase == ledger.Pending {
			err = t.addDelta(acc, p.Currency, 0, p.Amount)
		} else {
			err = t.addDelta(acc, p.Currency, p.Amount, 0)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ResolvePending marks a pending entry resolved and releases its pending
// balances.
func (t *tx) ResolvePending(ctx context.Context, id int64, r ledger.Resolution, by int64) error {
	res, err := t.exec(ctx, `UPDATE entries SET resolution = ?, resolved_by = ? WHERE id = ? AND phase = 'pending' AND resolution = ''`,
		string(r), nullID(by), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("pending entry %d: %w", id, ledger.ErrAlreadyResolved)
	}
	rows, err := t.query(ctx, `SELECT account_id, currency, amount FROM postings WHERE entry_id = ?`, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	type row struct {
		acc int64
		cur string
		amt int64
	}
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.acc, &r.cur, &r.amt); err != nil {
			return err
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for _, r := range rs {
		if err := t.addDelta(r.acc, r.cur, 0, -r.amt); err != nil {
			return err
		}
	}
	return nil
}

const entryCols = `e.id, e.key, e.hash, e.phase, e.occurred_at, e.recorded_at, e.description, e.metadata,
	e.source_provider, e.source_type, e.source_id, e.source_ref, e.reverses, e.pending_of, e.expires_at,
	e.resolution, e.resolved_by`

type scanner interface{ Scan(dest ...any) error }

func scanEntry(sc scanner) (*ledger.Entry, error) {
	var e ledger.Entry
	var md sql.NullString
	var reverses, pendingOf, expires, resolvedBy sql.NullInt64
	var occurred, recorded int64
	var phase, resolution string
	if err := sc.Scan(&e.ID, &e.Key, &e.Hash, &phase, &occurred, &recorded, &e.Description, &md,
		&e.Source.Provider, &e.Source.Type, &e.Source.ID, &e.Source.Ref, &reverses, &pendingOf, &expires,
		&resolution, &resolvedBy); err != nil {
		return nil, err
	}
	e.Phase, e.Resolution = ledger.Phase(phase), ledger.Resolution(resolution)
	e.OccurredAt, e.RecordedAt, e.ExpiresAt = fromTS(occurred), fromTS(recorded), fromNullTS(expires)
	e.Reverses, e.PendingOf, e.ResolvedBy = reverses.Int64, pendingOf.Int64, resolvedBy.Int64
	var err error
	e.Metadata, err = fromMeta(md)
	return &e, err
}

func (t *tx) entryWhere(ctx context.Context, where string, arg any) (*ledger.Entry, error) {
	e, err := scanEntry(t.queryRow(ctx, `SELECT `+entryCols+` FROM entries e WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("entry %v: %w", arg, ledger.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, `SELECT a.name, p.currency, p.amount FROM postings p
		JOIN accounts a ON a.id = p.account_id WHERE p.entry_id = ? ORDER BY p.seq`, e.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p ledger.Posting
		if err := rows.Scan(&p.Account, &p.Currency, &p.Amount); err != nil {
			return nil, err
		}
		e.Postings = append(e.Postings, p)
	}
	return e, rows.Err()
}

// Entry returns an entry with its postings.
func (t *tx) Entry(ctx context.Context, id int64) (*ledger.Entry, error) {
	return t.entryWhere(ctx, "e.id = ?", id)
}

// EntryByKey returns the entry written under an idempotency key.
func (t *tx) EntryByKey(ctx context.Context, key string) (*ledger.Entry, error) {
	return t.entryWhere(ctx, "e.key = ?", key)
}

// ReversedBy returns the id of the entry reversing id, or 0.
func (t *tx) ReversedBy(ctx context.Context, id int64) (int64, error) {
	var by int64
	err := t.queryRow(ctx, `SELECT id FROM entries WHERE reverses = ? ORDER BY id LIMIT 1`, id).Scan(&by)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return by, err
}

// EachEntry streams entries with their postings. Two cursors walk in the
// same order, one over entries and one over their postings (four narrow
// columns each), so no entry column is decoded more than once.
func (t *tx) EachEntry(ctx context.Context, f ledger.EntryFilter, fn func(*ledger.Entry) error) error {
	where := "1 = 1"
	var args []any
	if !f.From.IsZero() {
		where += " AND e.occurred_at >= ?"
		args = append(args, ts(f.From))
	}
	if !f.To.IsZero() {
		where += " AND e.occurred_at < ?"
		args = append(args, ts(f.To))
	}
	if f.PostedOnly {
		where += " AND e.phase = 'posted'"
	}
	if f.Account != "" {
		pw, pargs := prefixFilter("a2.name", f.Account)
		where += " AND e.id IN (SELECT p2.entry_id FROM postings p2 JOIN accounts a2 ON a2.id = p2.account_id WHERE " + pw + ")"
		args = append(args, pargs...)
	}
	names, err := t.accountNames(ctx)
	if err != nil {
		return err
	}
	entries, err := t.query(ctx, `SELECT `+entryCols+` FROM entries e WHERE `+where+` ORDER BY e.occurred_at, e.id`, args...)
	if err != nil {
		return err
	}
	defer entries.Close()
	postings, err := t.query(ctx, `SELECT p.entry_id, p.account_id, p.currency, p.amount FROM entries e
		JOIN postings p ON p.entry_id = e.id WHERE `+where+` ORDER BY e.occurred_at, e.id, p.seq`, args...)
	if err != nil {
		return err
	}
	defer postings.Close()
	var pend struct {
		ok       bool
		entryID  int64
		account  int64
		currency string
		amount   int64
	}
	next := func() error {
		pend.ok = postings.Next()
		if !pend.ok {
			return postings.Err()
		}
		return postings.Scan(&pend.entryID, &pend.account, &pend.currency, &pend.amount)
	}
	if err := next(); err != nil {
		return err
	}
	for entries.Next() {
		e, err := scanEntry(entries)
		if err != nil {
			return err
		}
		for pend.ok && pend.entryID == e.ID {
			e.Postings = append(e.Postings, ledger.Posting{Account: names[pend.account], Currency: pend.currency, Amount: pend.amount})
			if err := next(); err != nil {
				return err
			}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return entries.Err()
}

// ExpiredPending lists unresolved pending entries past their expiry.
func (t *tx) ExpiredPending(ctx context.Context, asOf time.Time) ([]ledger.Entry, error) {
	rows, err := t.query(ctx, `SELECT id FROM entries WHERE phase = 'pending' AND resolution = ''
		AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at, id`, ts(asOf))
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]ledger.Entry, 0, len(ids))
	for _, id := range ids {
		e, err := t.Entry(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, nil
}
