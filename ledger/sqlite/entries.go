package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/settlehq/settle/ledger"
)

var _ ledger.Tx = (*tx)(nil)

// tx implements ledger.Tx (and, read-only, ledger.ReadTx). Balance changes
// are summed in memory and written once per account and currency before any
// balance read and at commit.
type tx struct {
	s           *Store
	q           querier
	write       bool
	newAccounts map[string]int64
	deltas      map[balKey]*delta
	nextEntryID int64
}

type balKey struct {
	account  int64
	currency string
}

type delta struct{ posted, pending int64 }

// exec runs a write statement, prepared once on the writer connection.
func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// query and queryRow read through statements prepared once on the writer
// connection inside a write transaction, and plainly inside a read one.
func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !t.write {
		return t.q.QueryContext(ctx, query, args...)
	}
	st, err := t.s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if !t.write {
		return t.q.QueryRowContext(ctx, query, args...)
	}
	st, err := t.s.stmt(ctx, query)
	if err != nil {
		// Let the error surface at Scan, as QueryRowContext's would.
		return t.q.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// accountID returns the id of account name, creating it if needed.
func (t *tx) accountID(ctx context.Context, name string) (int64, error) {
	t.s.accMu.RLock()
	id, ok := t.s.accounts[name]
	t.s.accMu.RUnlock()
	if ok {
		return id, nil
	}
	if id, ok := t.newAccounts[name]; ok {
		return id, nil
	}
	err := t.queryRow(ctx, `SELECT id FROM accounts WHERE name = ?`, name).Scan(&id)
	if err == nil {
		t.newAccounts[name] = id
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	typ, err := ledger.AccountTypeOf(name)
	if err != nil {
		return 0, err
	}
	res, err := t.exec(ctx, `INSERT INTO accounts (name, type) VALUES (?, ?)`, name, string(typ))
	if err != nil {
		return 0, err
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, err
	}
	t.newAccounts[name] = id
	return id, nil
}

func (t *tx) addDelta(account int64, currency string, posted, pending int64) error {
	k := balKey{account, currency}
	d := t.deltas[k]
	if d == nil {
		d = &delta{}
		t.deltas[k] = d
	}
	var err error
	if d.posted, err = ledger.AddMinor(d.posted, posted); err != nil {
		return err
	}
	d.pending, err = ledger.AddMinor(d.pending, pending)
	return err
}

// flush writes the summed balance changes.
func (t *tx) flush(ctx context.Context) error {
	if !t.write {
		return nil
	}
	for k, d := range t.deltas {
		if d.posted == 0 && d.pending == 0 {
			continue
		}
		if _, err := t.exec(ctx, `INSERT INTO balances (account_id, currency, posted, pending) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, currency) DO UPDATE SET posted = posted + excluded.posted, pending = pending + excluded.pending`,
			k.account, k.currency, d.posted, d.pending); err != nil {
			return translate(err)
		}
	}
	clear(t.deltas)
	return nil
}

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

// prefixFilter matches an account name or its subaccounts.
func prefixFilter(col, prefix string) (string, []any) {
	if prefix == "" {
		return "1 = 1", nil
	}
	return fmt.Sprintf("(%s = ? OR substr(%s, 1, ?) = ?)", col, col), []any{prefix, len(prefix) + 1, prefix + ":"}
}

// Balances returns maintained balances.
func (t *tx) Balances(ctx context.Context, prefix string) ([]ledger.Balance, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	where, args := prefixFilter("a.name", prefix)
	return t.balances(ctx, `SELECT a.name, a.type, b.currency, b.posted, b.pending FROM balances b
		JOIN accounts a ON a.id = b.account_id WHERE `+where+` AND (b.posted <> 0 OR b.pending <> 0)
		ORDER BY a.name, b.currency`, args...)
}

// BalancesAsOf computes posted balances from postings at a point in time.
func (t *tx) BalancesAsOf(ctx context.Context, prefix string, asOf time.Time) ([]ledger.Balance, error) {
	where, args := prefixFilter("a.name", prefix)
	args = append([]any{ts(asOf)}, args...)
	return t.balances(ctx, `SELECT a.name, a.type, p.currency, SUM(p.amount), 0 FROM postings p
		JOIN entries e ON e.id = p.entry_id JOIN accounts a ON a.id = p.account_id
		WHERE e.phase = 'posted' AND e.occurred_at <= ? AND `+where+`
		GROUP BY a.name, a.type, p.currency HAVING SUM(p.amount) <> 0 ORDER BY a.name, p.currency`, args...)
}

func (t *tx) balances(ctx context.Context, query string, args ...any) ([]ledger.Balance, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.Balance
	for rows.Next() {
		var b ledger.Balance
		var typ string
		if err := rows.Scan(&b.Account, &typ, &b.Currency, &b.Posted, &b.Pending); err != nil {
			return nil, err
		}
		b.Type = ledger.AccountType(typ)
		out = append(out, b)
	}
	return out, rows.Err()
}

// Accounts lists every account by name.
func (t *tx) Accounts(ctx context.Context) ([]ledger.Account, error) {
	rows, err := t.query(ctx, `SELECT id, name, type, metadata FROM accounts ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.Account
	for rows.Next() {
		var a ledger.Account
		var typ string
		var md sql.NullString
		if err := rows.Scan(&a.ID, &a.Name, &typ, &md); err != nil {
			return nil, err
		}
		a.Type = ledger.AccountType(typ)
		if a.Metadata, err = fromMeta(md); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
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

// accountNames maps account ids to names.
func (t *tx) accountNames(ctx context.Context) (map[int64]string, error) {
	rows, err := t.query(ctx, `SELECT id, name FROM accounts`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		names[id] = name
	}
	return names, rows.Err()
}

// Request returns a stored idempotent request.
func (t *tx) Request(ctx context.Context, key string) (*ledger.Request, error) {
	var r ledger.Request
	var created int64
	err := t.queryRow(ctx, `SELECT key, operation, hash, result, created_at FROM requests WHERE key = ?`, key).
		Scan(&r.Key, &r.Operation, &r.Hash, &r.Result, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("request %q: %w", key, ledger.ErrNotFound)
	}
	r.CreatedAt = fromTS(created)
	return &r, err
}

// SaveRequest stores a completed idempotent request.
func (t *tx) SaveRequest(ctx context.Context, r *ledger.Request) error {
	_, err := t.exec(ctx, `INSERT INTO requests (key, operation, hash, result, created_at) VALUES (?, ?, ?, ?, ?)`,
		r.Key, r.Operation, r.Hash, r.Result, ts(r.CreatedAt))
	if err != nil {
		return translate(err)
	}
	return nil
}

// ClosedThrough returns the end of the closed period, or zero.
func (t *tx) ClosedThrough(ctx context.Context) (time.Time, error) {
	var v string
	err := t.queryRow(ctx, `SELECT value FROM settings WHERE name = 'closed_through'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, v)
}

// SetClosedThrough closes the books through t.
func (t *tx) SetClosedThrough(ctx context.Context, at time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO settings (name, value) VALUES ('closed_through', ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, at.UTC().Format(time.RFC3339Nano))
	return err
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

var _ ledger.Nester = (*tx)(nil)

// Nested runs fn inside a savepoint. On error the savepoint is rolled back,
// with the in-memory balance changes and account ids made inside it.
func (t *tx) Nested(ctx context.Context, fn func() error) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, "SAVEPOINT nested"); err != nil {
		return err
	}
	before := make(map[string]bool, len(t.newAccounts))
	for name := range t.newAccounts {
		before[name] = true
	}
	err := fn()
	if err == nil {
		err = t.flush(ctx)
	}
	if err != nil {
		clear(t.deltas)
		for name := range t.newAccounts {
			if !before[name] {
				delete(t.newAccounts, name)
			}
		}
		t.nextEntryID = 0
		if _, rerr := t.q.ExecContext(ctx, "ROLLBACK TO nested; RELEASE nested"); rerr != nil {
			return fmt.Errorf("%w (and rolling back: %v)", err, rerr)
		}
		return err
	}
	_, rerr := t.q.ExecContext(ctx, "RELEASE nested")
	return rerr
}

// Setting returns a named setting, or "" if it was never set.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetSetting stores a named setting.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	return translate(s.withWrite(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
		return err
	}))
}
