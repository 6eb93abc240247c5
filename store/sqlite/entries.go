package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/internal/bankmark"
)

// InsertEntry writes an entry with its postings and its balance changes.
func (t *tx) InsertEntry(ctx context.Context, e *ledger.Entry) error {
	if err := t.initEntryID(ctx); err != nil {
		return err
	}
	if e.RecordedAt.IsZero() {
		e.RecordedAt = t.s.now().UTC()
	}
	e.ID = t.nextEntryID
	ps, err := t.rawPostings(ctx, e.Postings, nil)
	if err != nil {
		return err
	}
	banks, err := t.bankLedgerAccounts(ctx)
	if err != nil {
		return err
	}
	// An entry whose key is known new (fresh.go) is written behind
	// (later.go): the insert cannot find its key taken. Any other is
	// written at once, and refused if its key is taken.
	isNew, err := t.freshEntries.missing(ctx, t, anyEntry, e.Key)
	if err != nil {
		return err
	}
	if isNew {
		if err := t.dropEntryKey(ctx); err != nil {
			return err
		}
	}
	t.freshEntries.add(e.Key)
	var p *params
	if isNew {
		p = t.laterParams()
	} else {
		p = t.scratchParams()
	}
	if err := appendEntryParams(p, e, ps, false, bankmark.Marked(e, banks)); err != nil {
		return err
	}
	if isNew {
		rows := t.knownNewEntryRows()
		err = t.execJobLater(ctx, laterJob{query: rows.one, p: p, want: 1, rows: rows})
	} else {
		var n int64
		if n, err = t.execParams(ctx, insertEntrySQL, p); err == nil && n == 0 {
			e.ID = 0
			return fmt.Errorf("entry key %q exists: %w", e.Key, ledger.ErrIdempotencyConflict)
		}
	}
	if err != nil {
		return translate(err)
	}
	if e.Phase == ledger.Pending {
		t.rememberPending(e.ID, ps)
	}
	t.nextEntryID++
	return t.addPostings(e.Phase, ps)
}

// initEntryID reads the next entry id once per transaction: ids are
// assigned in Go so that a batch needs no read-back.
func (t *tx) initEntryID(ctx context.Context) error {
	if t.nextEntryID != 0 {
		return nil
	}
	return t.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM entries`).Scan(&t.nextEntryID)
}

// rawPostings resolves the accounts of ps (creating missing ones), appending
// to out.
func (t *tx) rawPostings(ctx context.Context, ps []ledger.Posting, out []rawPosting) ([]rawPosting, error) {
	for _, p := range ps {
		acc, err := t.accountID(ctx, p.Account)
		if err != nil {
			return nil, err
		}
		out = append(out, rawPosting{account: acc, currency: p.Currency, amount: p.Amount})
	}
	return out, nil
}

// addPostings adds written postings to the balance changes: posted or,
// for a pending entry, pending.
func (t *tx) addPostings(phase ledger.Phase, ps []rawPosting) error {
	for _, p := range ps {
		var err error
		if phase == ledger.Pending {
			err = t.addDelta(p.account, p.currency, 0, p.amount)
		} else {
			err = t.addDelta(p.account, p.currency, p.amount, 0)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

const entryInsertCols = `id, key, hash, phase, occurred_at, recorded_at, description, metadata,
	source_provider, source_type, source_id, source_ref, reverses, pending_of, expires_at, postings, bank`

const entryInsertColCount = 17

// appendEntryParams appends the values of entryInsertCols for e, whose
// postings are ps, or with plain those of plainEntryCols (bulk.go); bank
// marks an entry to a bank's ledger account (bankentries.go), never plain.
func appendEntryParams(p *params, e *ledger.Entry, ps []rawPosting, plain, bank bool) error {
	p.int(e.ID)
	p.text(e.Key)
	p.text(e.Hash)
	if !plain {
		p.text(string(e.Phase))
	}
	occurred, err := storeTS("occurred_at", e.OccurredAt)
	if err != nil {
		return err
	}
	expires, err := storeTS("expires_at", e.ExpiresAt)
	if err != nil {
		return err
	}
	p.int(occurred)
	p.int(ts(e.RecordedAt)) // the store's clock
	p.text(e.Description)
	if !plain {
		if err := p.metadata(e.Metadata); err != nil {
			return err
		}
		p.text(e.Source.Provider)
		p.text(e.Source.Type)
		p.text(e.Source.ID)
		p.text(e.Source.Ref)
		p.intOrNull(e.Reverses)
		p.intOrNull(e.PendingOf)
		if e.ExpiresAt.IsZero() {
			p.null()
		} else {
			p.int(expires)
		}
	}
	start := len(p.bytes)
	p.bytes = appendPostings(p.bytes, ps)
	p.textFrom(start)
	if !plain {
		p.bool(bank)
	}
	return nil
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// tuples returns n copies of tuple, "(?, ?)" say, separated by commas: the
// VALUES list of a multi-row statement.
func tuples(tuple string, n int) string {
	return strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
}

const resolveSQL = `UPDATE entries SET resolution = ?, resolved_by = ? WHERE id = ? AND phase = 'pending' AND resolution = ''`

// rememberPending notes the postings of a pending entry the transaction
// wrote, for ResolvePending.
func (t *tx) rememberPending(id int64, ps []rawPosting) {
	if t.pendingMine == nil {
		t.pendingMine = map[int64][]rawPosting{}
	}
	t.pendingMine[id] = slices.Clone(ps)
}

// ResolvePending marks a pending entry resolved and releases its pending
// balances.
func (t *tx) ResolvePending(ctx context.Context, id int64, r ledger.Resolution, by int64) error {
	ps, mine := t.pendingMine[id]
	if mine {
		// Written by this transaction, and not resolved since: the update
		// finds it, and its postings are at hand.
		delete(t.pendingMine, id)
		p := t.laterParams()
		p.text(string(r))
		p.intOrNull(by)
		p.int(id)
		// Entries inserted after the update may run before it (laterrows.go).
		if err := t.execJobLater(ctx, laterJob{query: resolveRows.one, p: p, want: 1, byID: true, rows: resolveRows}); err != nil {
			return err
		}
	} else {
		n, err := t.exec(ctx, resolveSQL, string(r), nullID(by), id)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("pending entry %d: %w", id, ledger.ErrAlreadyResolved)
		}
		var col string
		if err := t.queryRow(ctx, `SELECT postings FROM entries WHERE id = ?`, id).Scan(&col); err != nil {
			return err
		}
		if ps, err = decodePostings(col, nil); err != nil {
			return fmt.Errorf("entry %d: %w", id, err)
		}
	}
	for _, p := range ps {
		if err := t.addDelta(p.account, p.currency, 0, -p.amount); err != nil {
			return err
		}
	}
	return nil
}

const entryCols = `e.id, e.key, e.hash, e.phase, e.occurred_at, e.recorded_at, e.description, e.metadata,
	e.source_provider, e.source_type, e.source_id, e.source_ref, e.reverses, e.pending_of, e.expires_at,
	e.resolution, e.resolved_by, e.postings`

type scanner interface{ Scan(dest ...any) error }

// scanEntry reads a row of entryCols. The postings come back as stored;
// the caller names their accounts (postingsOf).
func scanEntry(sc scanner) (*ledger.Entry, string, error) {
	var e ledger.Entry
	var md sql.NullString
	var reverses, pendingOf, expires, resolvedBy sql.NullInt64
	var occurred, recorded int64
	var phase, resolution, postings string
	if err := sc.Scan(&e.ID, &e.Key, &e.Hash, &phase, &occurred, &recorded, &e.Description, &md,
		&e.Source.Provider, &e.Source.Type, &e.Source.ID, &e.Source.Ref, &reverses, &pendingOf, &expires,
		&resolution, &resolvedBy, &postings); err != nil {
		return nil, "", err
	}
	e.Phase, e.Resolution = ledger.Phase(phase), ledger.Resolution(resolution)
	e.OccurredAt, e.RecordedAt, e.ExpiresAt = fromTS(occurred), fromTS(recorded), fromNullTS(expires)
	e.Reverses, e.PendingOf, e.ResolvedBy = reverses.Int64, pendingOf.Int64, resolvedBy.Int64
	var err error
	e.Metadata, err = fromMeta(md)
	return &e, postings, err
}

// postingsOf decodes a postings column into e.Postings, with account names.
func (t *tx) postingsOf(ctx context.Context, e *ledger.Entry, col string, buf []rawPosting) ([]rawPosting, error) {
	ps, err := decodePostings(col, buf[:0])
	if err != nil {
		return ps, fmt.Errorf("entry %d: %w", e.ID, err)
	}
	e.Postings = make([]ledger.Posting, len(ps))
	for i, p := range ps {
		name, err := t.accountName(ctx, p.account)
		if err != nil {
			return ps, fmt.Errorf("entry %d: %w", e.ID, err)
		}
		e.Postings[i] = ledger.Posting{Account: name, Currency: p.currency, Amount: p.amount}
	}
	return ps, nil
}

func (t *tx) entryWhere(ctx context.Context, where string, arg any) (*ledger.Entry, error) {
	e, col, err := scanEntry(t.queryRow(ctx, `SELECT `+entryCols+` FROM entries e WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("entry %v: %w", arg, ledger.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if _, err := t.postingsOf(ctx, e, col, nil); err != nil {
		return nil, err
	}
	return e, nil
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

// EachEntry streams entries with their postings in one pass over the
// entries table. The account filter is applied in Go, on the decoded
// postings, with each account's verdict remembered.
func (t *tx) EachEntry(ctx context.Context, f ledger.EntryFilter, fn func(*ledger.Entry) error) error {
	query, args, skip, err := t.entriesQuery(ctx, f)
	if err != nil {
		return err
	}
	matches := map[int64]bool{}
	return t.eachEntry(ctx, query, args, func(e *ledger.Entry, ps []rawPosting) error {
		if f.Account != "" && !touches(ps, f.Account, matches, e.Postings) {
			return nil
		}
		if skip > 0 {
			skip--
			return nil
		}
		return fn(e)
	})
}

// entriesQuery is EachEntry's query of f, and how many of the entries it
// returns that touch f.Account are to be skipped in Go.
func (t *tx) entriesQuery(ctx context.Context, f ledger.EntryFilter) (string, []any, int, error) {
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
	if f.After.ID != 0 {
		where += " AND (e.occurred_at, e.id) > (?, ?)"
		args = append(args, ts(f.After.OccurredAt), f.After.ID)
	}
	if f.Account != "" {
		w, wargs, err := t.touchingFilter(ctx, f.Account)
		if err != nil {
			return "", nil, 0, err
		}
		where += " AND " + w
		args = append(args, wargs...)
	}
	// Without an account, every condition is in SQL, and SQLite skips
	// the offset's entries without handing them over; an account's are
	// told in Go, so its offset is counted there.
	page, skip := "", f.Offset
	if f.Account == "" && skip > 0 {
		page, skip = " LIMIT -1 OFFSET ?", 0
		args = append(args, f.Offset)
	}
	return `SELECT ` + entryCols + ` FROM entries e WHERE ` + where + ` ORDER BY e.occurred_at, e.id` + page, args, skip, nil
}

// eachEntry runs a query of entryCols and calls fn with each entry, its
// postings named, and its postings as stored (valid until fn returns).
func (t *tx) eachEntry(ctx context.Context, query string, args []any, fn func(*ledger.Entry, []rawPosting) error) error {
	rows, err := t.rows(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var buf []rawPosting
	for rows.Next() {
		e, col, err := scanEntry(rows)
		if err != nil {
			return err
		}
		if buf, err = t.postingsOf(ctx, e, col, buf); err != nil {
			return err
		}
		if err := fn(e, buf); err != nil {
			return err
		}
	}
	return rows.Err()
}

// maxTouchingIDs bounds the account ids touchingFilter looks for in SQL; a
// prefix with more subaccounts is filtered in Go alone.
const maxTouchingIDs = 64

// touchingFilter returns a SQL condition that keeps the entries whose
// postings may touch account or its subaccounts: the postings text
// contains "[id," for one of their ids. It lets SQLite skip most rows of a
// small account's statement without decoding them; touches decides
// exactly. Where every one of those accounts is a bank's ledger account,
// the condition keeps the marked entries only (bankentries.go), which
// SQLite reads through their own index instead of every entry.
func (t *tx) touchingFilter(ctx context.Context, account string) (string, []any, error) {
	banks, err := t.bankLedgerAccounts(ctx)
	if err != nil {
		return "", nil, err
	}
	pw, pargs := prefixFilter("name", account)
	rows, err := t.query(ctx, `SELECT id, name FROM accounts WHERE `+pw+` LIMIT `+fmt.Sprint(maxTouchingIDs+1), pargs...)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var conds []string
	var args []any
	marked := true
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return "", nil, err
		}
		conds = append(conds, "instr(e.postings, ?) > 0")
		args = append(args, fmt.Sprintf("[%d,", id))
		marked = marked && bankmark.Under(name, banks)
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	switch {
	case len(conds) == 0:
		return "0 = 1", nil, nil // no such account: no entry touches it
	case len(conds) > maxTouchingIDs:
		return "1 = 1", nil, nil
	}
	w := "(" + strings.Join(conds, " OR ") + ")"
	if marked {
		w = "e.bank = 1 AND " + w
	}
	return w, args, nil
}

// touches reports whether any of an entry's postings is to account or one
// of its subaccounts. ps and named are the same postings, stored and named.
func touches(ps []rawPosting, account string, matches map[int64]bool, named []ledger.Posting) bool {
	for i, p := range ps {
		m, ok := matches[p.account]
		if !ok {
			m = underAccount(named[i].Account, account)
			matches[p.account] = m
		}
		if m {
			return true
		}
	}
	return false
}

// underAccount reports whether name is account or one of its subaccounts,
// as prefixFilter does in SQL.
func underAccount(name, account string) bool {
	return account == "" || name == account || strings.HasPrefix(name, account+":")
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
