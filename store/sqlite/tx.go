package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	deltas      map[int64][]currencyDelta // by account id
	nextEntryID int64
}

type balKey struct {
	account  int64
	currency string
}

type delta struct{ posted, pending int64 }

// currencyDelta is one account's balance change in one currency. An
// account's few currencies are found by a scan, which is cheaper than
// hashing the currency code for every posting.
type currencyDelta struct {
	currency string
	delta
}

// exec runs a write statement, prepared once on the writer connection.
func (t *tx) exec(ctx context.Context, query string, args ...any) (driver.Result, error) {
	return t.s.execRaw(ctx, query, args)
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

// accountName returns the name of account id: from the store's cache of
// committed accounts, this transaction's new ones, or the database.
func (t *tx) accountName(ctx context.Context, id int64) (string, error) {
	if name, ok := t.s.cachedName(id); ok {
		return name, nil
	}
	for name, nid := range t.newAccounts {
		if nid == id {
			return name, nil
		}
	}
	if err := t.loadAccountNames(ctx); err != nil {
		return "", err
	}
	if name, ok := t.s.cachedName(id); ok {
		return name, nil
	}
	return "", fmt.Errorf("account %d: %w", id, ledger.ErrNotFound)
}

// loadAccountNames fills the store's cache with every committed account.
// In a write transaction the accounts this transaction created are left
// out: they are cached when it commits.
func (t *tx) loadAccountNames(ctx context.Context) error {
	rows, err := t.query(ctx, `SELECT id, name FROM accounts`)
	if err != nil {
		return err
	}
	defer rows.Close()
	t.s.accMu.Lock()
	defer t.s.accMu.Unlock()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		if _, mine := t.newAccounts[name]; !mine {
			t.s.accounts[name], t.s.names[id] = id, name
		}
	}
	return rows.Err()
}

func (s *Store) cachedName(id int64) (string, bool) {
	s.accMu.RLock()
	defer s.accMu.RUnlock()
	name, ok := s.names[id]
	return name, ok
}

func (t *tx) addDelta(account int64, currency string, posted, pending int64) error {
	ds := t.deltas[account]
	i := 0
	for i < len(ds) && ds[i].currency != currency {
		i++
	}
	if i == len(ds) {
		ds = append(ds, currencyDelta{currency: currency})
		t.deltas[account] = ds
	}
	d := &ds[i]
	var err error
	if d.posted, err = ledger.AddMinor(d.posted, posted); err != nil {
		return err
	}
	d.pending, err = ledger.AddMinor(d.pending, pending)
	return err
}

// balanceChunk is how many balances one upsert statement carries.
const balanceChunk = 64

// flush writes the summed balance changes, in account order, balanceChunk
// rows a statement: a batch of entries touches hundreds of balances.
func (t *tx) flush(ctx context.Context) error {
	if !t.write || len(t.deltas) == 0 {
		return nil
	}
	type change struct {
		account int64
		currencyDelta
	}
	var changes []change
	for acc, ds := range t.deltas {
		for _, d := range ds {
			if d.posted != 0 || d.pending != 0 {
				changes = append(changes, change{acc, d})
			}
		}
	}
	slices.SortFunc(changes, func(a, b change) int {
		if c := cmp.Compare(a.account, b.account); c != 0 {
			return c
		}
		return strings.Compare(a.currency, b.currency)
	})
	var p params
	for start := 0; start < len(changes); start += balanceChunk {
		chunk := changes[start:min(start+balanceChunk, len(changes))]
		p.reset()
		for _, c := range chunk {
			p.int(c.account)
			p.text(c.currency)
			p.int(c.posted)
			p.int(c.pending)
		}
		tuples := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", len(chunk)), ", ")
		if _, err := t.s.execParams(ctx, `INSERT INTO balances (account_id, currency, posted, pending) VALUES `+tuples+`
			ON CONFLICT (account_id, currency) DO UPDATE SET posted = posted + excluded.posted, pending = pending + excluded.pending`,
			&p); err != nil {
			return translate(err)
		}
	}
	clear(t.deltas)
	return nil
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

// Empty reports whether the database holds no books: no accounts, entries,
// idempotent requests, imported files or reconciliation runs (settings
// aside).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var used bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM entries)
		OR EXISTS (SELECT 1 FROM requests) OR EXISTS (SELECT 1 FROM imports) OR EXISTS (SELECT 1 FROM recon_runs)`).Scan(&used)
	return !used, err
}
