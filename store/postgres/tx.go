package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"

	"github.com/settlehq/settle/ledger"
)

var (
	_ ledger.Tx     = (*tx)(nil)
	_ ledger.Nester = (*tx)(nil)
)

// tx implements ledger.Tx (and, read-only, ledger.ReadTx) on one connection
// inside a transaction. Balance changes are summed in memory and written
// once per account and currency before any balance read and at commit.
type tx struct {
	s     *Store
	c     conn
	raw   *sqlx.Conn // the connection, for pgx's COPY and pipelines; nil in a caller's transaction (InTx)
	write bool
	begun bool // BEGIN was sent
	// optimistic is set on a transaction's first attempt: an entry that
	// is its first statement is deferred (deferEntry).
	optimistic bool
	// deferred is a statement not sent yet: it goes out, after BEGIN,
	// with the next one.
	deferred *deferredStmt
	// later are writes whose answer nothing waits for (execLater), not
	// sent yet: they go out, after BEGIN and deferred, in the round trip
	// of the next statement sent, at the latest at commit.
	later []deferredStmt
	// callers is set in a caller's transaction (InTx): the closed period
	// is always read under its lock, never from the store's cache.
	callers bool

	// closedSeen is the closed period ClosedThrough answered from the
	// store's cache, checked again at commit; closedHeld is its value
	// ("" for none) once the setting was read (or written) in this
	// transaction, under a lock: the lock keeps other transactions from
	// changing it, so the transaction answers from it rather than asking
	// the server at every write.
	closedSeen *string
	closedHeld *string
	closedSet  bool

	// bankNames are the ledger accounts of bank accounts the transaction
	// marks its entries by, once asked (bankentries.go): from the store's
	// cache (bankSeen, checked again at commit) or read under the
	// setting's lock (bankHeld).
	bankNames []string
	bankSeen  *string
	bankHeld  bool

	// entries counts the entries this transaction was asked to insert
	// (InsertEntry, InsertEntries), stored or found stored: after a large
	// write the store gathers the tables' statistics (Store.update).
	entries int

	newAccounts map[string]int64  // accounts this transaction created
	deltas      map[balKey]delta  // balance changes not yet written
	claims      map[string]bool   // request keys claimed and not yet saved
	locked      map[string]bool   // objects read, and so locked, by kind and id
	scopes      map[scopeKey]bool // payout scopes locked: true if exclusively
	// autoPayouts are the automatic payouts of a locked scope, read once
	// AutomaticPayoutFor is asked often (autoAskedBefore), and autoAsked
	// counts the asking; a payout this transaction writes drops its
	// scope's list. Both are made when first needed.
	autoPayouts map[scopeKey][]autoPayout
	autoAsked   map[scopeKey]int
	// aheadRequests and aheadPayments are what Prefetch read ahead
	// (prefetch.go): stored requests by key, and payments by id (nil: not
	// stored). Both are made when first needed.
	aheadRequests map[string]*ledger.Request
	aheadPayments map[string]*paymentRow
	// saved are completed requests whose claimed rows are not updated
	// yet, by key: they are written together (savedUpdate) at commit or
	// before a savepoint, rather than one round trip each.
	saved map[string]savedRequest
	// conflict is a retryable error met by any statement: the transaction
	// is run again even if fn swallowed it.
	conflict error
}

type deferredStmt struct {
	sql  string
	args []any
}

type balKey struct {
	account  int64
	currency string
}

type delta struct{ posted, pending int64 }

type scopeKey struct{ provider, currency string }

// conn is what a transaction runs its statements on: the store's own
// connection (*sqlx.Conn) or a caller's transaction (*sqlx.Tx).
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

func newTx(s *Store, c *sqlx.Conn, write bool) *tx {
	return &tx{s: s, c: c, raw: c, write: write, begun: !write, newAccounts: map[string]int64{}, deltas: map[balKey]delta{},
		claims: map[string]bool{}, locked: map[string]bool{}, scopes: map[scopeKey]bool{}}
}

// fail notes a retryable error and returns err translated to the
// ledger's errors.
func (t *tx) fail(err error) error {
	if err == nil {
		return nil
	}
	if retryable(err) && t.conflict == nil {
		t.conflict = err
	}
	return translate(err)
}

// beginSQL starts a write transaction.
const beginSQL = "BEGIN ISOLATION LEVEL READ COMMITTED"

// begin starts the write transaction if no statement has yet. BEGIN is
// sent lazily so that the hot paths can send it together with their first
// statement (insertEntry): on one connection, round trips are what limits
// transactions a second.
func (t *tx) begin(ctx context.Context) error {
	if t.started() {
		return nil
	}
	if !t.unsent() {
		if _, err := t.c.ExecContext(ctx, beginSQL); err != nil {
			return err
		}
		t.begun = true
		return nil
	}
	return t.pgx(func(c *pgx.Conn) error {
		var b pgx.Batch
		n := t.queueStart(&b)
		br := c.SendBatch(ctx, &b)
		if err := t.readStart(br, n); err != nil {
			br.Close()
			return err
		}
		return br.Close()
	})
}

// started reports whether BEGIN and any deferred or later statement were
// sent.
func (t *tx) started() bool { return t.begun && !t.unsent() }

// unsent reports whether a deferred or later statement waits to be sent.
func (t *tx) unsent() bool { return t.deferred != nil || len(t.later) > 0 }

// dropLater forgets the later statements, sent or not to be sent.
func (t *tx) dropLater() {
	clear(t.later) // let go of their arguments
	t.later = t.later[:0]
}

// queueStart queues what must precede the statements of a batch: BEGIN if
// no statement was sent yet, the deferred statement and the later ones. It
// returns how many results readStart must read.
func (t *tx) queueStart(b *pgx.Batch) int {
	n := 0
	if !t.begun {
		b.Queue(beginSQL)
		n++
	}
	if t.deferred != nil {
		b.Queue(t.deferred.sql, t.deferred.args...)
		n++
	}
	for _, d := range t.later {
		b.Queue(d.sql, d.args...)
	}
	return n + len(t.later)
}

// readStart reads the n results of queueStart's statements, which were
// sent.
func (t *tx) readStart(br pgx.BatchResults, n int) error {
	t.begun, t.deferred = true, nil
	t.dropLater()
	for range n {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	return nil
}

// laterBatch is how many later writes a transaction keeps before sending
// them.
const laterBatch = 500

// execLater runs a write whose result nothing waits for: in a transaction
// of the store's own it is kept, and goes out with the next statement that
// is sent, in its round trip (queueStart), so that a run of such writes
// costs one round trip, not one each. A failure is then reported by that
// statement (or the commit), and fails the transaction as it would have;
// a retryable one runs it again. In a caller's transaction it runs at once.
func (t *tx) execLater(ctx context.Context, query string, args ...any) error {
	if t.raw == nil {
		_, err := t.exec(ctx, query, args...)
		return err
	}
	t.later = append(t.later, deferredStmt{sql: t.s.sql(query), args: args})
	if len(t.later) >= laterBatch {
		return t.fail(t.begin(ctx))
	}
	return nil
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.begin(ctx); err != nil {
		return nil, t.fail(err)
	}
	res, err := t.c.ExecContext(ctx, t.s.sql(query), args...)
	return res, t.fail(err)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.begin(ctx); err != nil {
		return nil, t.fail(err)
	}
	rows, err := t.c.QueryContext(ctx, t.s.sql(query), args...)
	return rows, t.fail(err)
}

// row is one row of queryRow: Scan reports a failed BEGIN as a query
// error would.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) row {
	if err := t.begin(ctx); err != nil {
		return row{err: t.fail(err)}
	}
	return row{r: t.c.QueryRowContext(ctx, t.s.sql(query), args...)}
}

// get scans one row into a struct with sqlx: sql.ErrNoRows when there is
// none.
func (t *tx) get(ctx context.Context, dest any, query string, args ...any) error {
	if err := t.begin(ctx); err != nil {
		return t.fail(err)
	}
	err := t.c.GetContext(ctx, dest, t.s.sql(query), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return t.fail(err)
}

// selectAll scans every row into a slice of structs with sqlx.
func (t *tx) selectAll(ctx context.Context, dest any, query string, args ...any) error {
	if err := t.begin(ctx); err != nil {
		return t.fail(err)
	}
	return t.fail(t.c.SelectContext(ctx, dest, t.s.sql(query), args...))
}

// pgx runs fn on the transaction's pgx connection, for COPY and
// pipelines. Callers check t.raw first: a caller's transaction has none.
func (t *tx) pgx(fn func(*pgx.Conn) error) error {
	return t.fail(t.raw.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) }))
}

// lockClause is the row lock a read takes in a write transaction: the
// object is about to be checked and written (captured ≤ authorized, a
// pending entry resolved once), so a concurrent writer of the same object
// waits for this transaction. NO KEY UPDATE leaves foreign-key checks of
// other rows pointing at it unblocked.
func (t *tx) lockClause() string {
	if t.write {
		return " FOR NO KEY UPDATE"
	}
	return ""
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
	err := t.queryRow(ctx, `SELECT id FROM {schema}.accounts WHERE name = $1`, name).Scan(&id)
	if err == nil {
		t.cacheAccount(name, id)
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, t.fail(err)
	}
	typ, err := ledger.AccountTypeOf(name)
	if err != nil {
		return 0, err
	}
	// A concurrent transaction creating the same account makes this
	// insert wait for it, then do nothing; the account is then read.
	err = t.queryRow(ctx, `INSERT INTO {schema}.accounts (name, type) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id`,
		name, string(typ)).Scan(&id)
	switch {
	case err == nil:
		t.newAccounts[name] = id
		return id, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, t.fail(err)
	}
	if err := t.queryRow(ctx, `SELECT id FROM {schema}.accounts WHERE name = $1`, name).Scan(&id); err != nil {
		return 0, t.fail(err)
	}
	t.cacheAccount(name, id)
	return id, nil
}

// cacheAccount remembers a committed account. In a caller's transaction
// nothing is remembered: what it reads may be its own uncommitted rows.
func (t *tx) cacheAccount(name string, id int64) {
	if !t.callers {
		t.s.cacheAccount(name, id)
	}
}

func (s *Store) cacheAccount(name string, id int64) {
	s.accMu.Lock()
	s.accounts[name], s.names[id] = id, name
	s.accMu.Unlock()
}

// accountName returns the name of account id.
func (t *tx) accountName(ctx context.Context, id int64) (string, error) {
	t.s.accMu.RLock()
	name, ok := t.s.names[id]
	t.s.accMu.RUnlock()
	if ok {
		return name, nil
	}
	for name, nid := range t.newAccounts {
		if nid == id {
			return name, nil
		}
	}
	if err := t.queryRow(ctx, `SELECT name FROM {schema}.accounts WHERE id = $1`, id).Scan(&name); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("account %d: %w", id, ledger.ErrNotFound)
		}
		return "", t.fail(err)
	}
	if _, mine := t.newAccounts[name]; !mine {
		t.cacheAccount(name, id)
	}
	return name, nil
}

func (t *tx) addDelta(account int64, currency string, posted, pending int64) error {
	k := balKey{account, currency}
	d := t.deltas[k]
	var err error
	if d.posted, err = ledger.AddMinor(d.posted, posted); err != nil {
		return err
	}
	if d.pending, err = ledger.AddMinor(d.pending, pending); err != nil {
		return err
	}
	t.deltas[k] = d
	return nil
}

// flush writes the summed balance changes in one statement, in account
// order, so that concurrent transactions lock shared balance rows in the
// same order. Each row adds to the stored value, so concurrent writers of
// one balance never lose an update; a sum beyond 64 bits fails
// (ledger.ErrInvalidAmount).
func (t *tx) flush(ctx context.Context) error {
	if !t.write || len(t.deltas) == 0 {
		return nil
	}
	if up, args := t.balanceUpsert(); up != "" {
		if _, err := t.exec(ctx, up, args...); err != nil {
			return err
		}
	}
	clear(t.deltas)
	return nil
}

// balanceUpsert returns the statement that writes the summed balance
// changes, in account order, and its arguments; "" if there are none.
func (t *tx) balanceUpsert() (string, []any) {
	keys := slices.SortedFunc(maps.Keys(t.deltas), func(a, b balKey) int {
		if c := cmp.Compare(a.account, b.account); c != 0 {
			return c
		}
		return strings.Compare(a.currency, b.currency)
	})
	accounts := make([]int64, 0, len(keys))
	currencies := make([]string, 0, len(keys))
	posted := make([]int64, 0, len(keys))
	pending := make([]int64, 0, len(keys))
	for _, k := range keys {
		d := t.deltas[k]
		if d == (delta{}) {
			continue
		}
		accounts, currencies = append(accounts, k.account), append(currencies, k.currency)
		posted, pending = append(posted, d.posted), append(pending, d.pending)
	}
	if len(accounts) == 0 {
		return "", nil
	}
	return `INSERT INTO {schema}.balances AS b (account_id, currency, posted, pending)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])
		ON CONFLICT (account_id, currency) DO UPDATE SET posted = b.posted + excluded.posted, pending = b.pending + excluded.pending`,
		[]any{accounts, currencies, posted, pending}
}

// Request returns a stored idempotent request by key. In a write
// transaction a key not yet stored is claimed: its row is inserted as a
// placeholder with an empty operation, so that a concurrent transaction looking up
// the same key waits until this one commits, and then finds its result.
func (t *tx) Request(ctx context.Context, key string) (*ledger.Request, error) {
	if r, ok := t.aheadRequests[key]; ok {
		return copyRequest(r), nil
	}
	if s, ok := t.saved[key]; ok {
		return copyRequest(s.req), nil
	}
	if t.write && !t.claims[key] {
		res, err := t.exec(ctx, `INSERT INTO {schema}.requests (key, operation, hash, result, created_at)
			VALUES ($1, '', '', '', 0) ON CONFLICT (key) DO NOTHING`, key)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 1 {
			t.claims[key] = true
		}
	}
	if t.claims[key] {
		return nil, fmt.Errorf("request %q: %w", key, ledger.ErrNotFound)
	}
	r, err := scanRequest(t.queryRow(ctx, `SELECT `+requestCols+` FROM {schema}.requests WHERE key = $1`, key))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.Operation == "") {
		return nil, fmt.Errorf("request %q: %w", key, ledger.ErrNotFound)
	}
	if err != nil {
		return nil, t.fail(err)
	}
	return r, nil
}

// requestCols are the columns of a request, as scanRequest reads them.
const requestCols = `key, operation, hash, result, created_at`

func scanRequest(sc interface{ Scan(...any) error }) (*ledger.Request, error) {
	var r ledger.Request
	var created int64
	if err := sc.Scan(&r.Key, &r.Operation, &r.Hash, &r.Result, &created); err != nil {
		return nil, err
	}
	r.CreatedAt = fromTS(created)
	return &r, nil
}

// copyRequest is a copy of r that shares no memory with it: a request kept
// by the transaction is handed out as a copy.
func copyRequest(r *ledger.Request) *ledger.Request {
	c := *r
	c.Result = slices.Clone(r.Result)
	return &c
}

// SaveRequest stores a completed idempotent request, in the row its lookup
// claimed.
func (t *tx) SaveRequest(ctx context.Context, r *ledger.Request) error {
	created, err := storeTS("created_at", r.CreatedAt)
	if err != nil {
		return err
	}
	delete(t.aheadRequests, r.Key)
	if t.claims[r.Key] {
		if t.saved == nil {
			t.saved = map[string]savedRequest{}
		}
		t.saved[r.Key] = savedRequest{req: copyRequest(r), created: created}
		delete(t.claims, r.Key)
		if len(t.saved) >= savedBatch {
			return t.writeSaved(ctx)
		}
		return nil
	}
	_, err = t.exec(ctx, `INSERT INTO {schema}.requests (key, operation, hash, result, created_at) VALUES ($1, $2, $3, $4, $5)`,
		r.Key, r.Operation, r.Hash, r.Result, created)
	return err
}

// ClosedThrough returns the end of the closed period, or zero.
//
// Every write checks its date against it, so a write transaction answers
// from the store's cache of the setting and checks the answer again at
// commit, holding the setting FOR SHARE (commit): a period closed meanwhile
// makes the transaction run again, and closing a period waits for the
// writes that checked against the old one. Without a cached value the
// setting is read under that lock at once.
func (t *tx) ClosedThrough(ctx context.Context) (time.Time, error) {
	if t.write && t.closedHeld != nil {
		return parseClosed(*t.closedHeld)
	}
	if t.write && !t.callers {
		if v, ok := t.s.closed.get(); ok {
			if t.closedSeen == nil {
				t.closedSeen = &v
			}
			return parseClosed(*t.closedSeen)
		}
	}
	q := `SELECT value FROM {schema}.settings WHERE name = 'closed_through'`
	if t.write {
		q += ` FOR SHARE`
	}
	var v string
	err := t.queryRow(ctx, q).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err != nil {
		return time.Time{}, t.fail(err)
	}
	if t.write {
		t.closedHeld = &v
		if !t.closedSet && !t.callers {
			t.s.closed.set(v)
		}
	}
	return parseClosed(v)
}

func parseClosed(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

// SetClosedThrough closes the books through at.
func (t *tx) SetClosedThrough(ctx context.Context, at time.Time) error {
	v := at.UTC().Format(time.RFC3339Nano)
	_, err := t.exec(ctx, `INSERT INTO {schema}.settings (name, value) VALUES ('closed_through', $1)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, v)
	if err == nil {
		t.closedSet, t.closedHeld = true, &v
	}
	return err
}

// errStaleClosed is a closed period that changed after a transaction
// checked its dates against the cached one: it runs again.
var errStaleClosed = errors.New("postgres: the closed period changed during the transaction")

// settingCheck is a setting a write transaction answered from the store's
// cache (seen), to be checked again at commit.
type settingCheck struct {
	cache *settingCache
	seen  string
}

// settingChecks are the settings this transaction took from the store's
// cache without reading them under their lock.
func (t *tx) settingChecks() []settingCheck {
	var out []settingCheck
	if t.closedSeen != nil && t.closedHeld == nil {
		out = append(out, settingCheck{&t.s.closed, *t.closedSeen})
	}
	if t.bankSeen != nil && !t.bankHeld {
		out = append(out, settingCheck{&t.s.bank, *t.bankSeen})
	}
	return out
}

// commit ends the write transaction in one round trip: the balance
// changes, the saved requests, the return of unused request claims, the
// check of the closed period answered from the cache, and COMMIT go out as
// one pipeline.
func (t *tx) commit(ctx context.Context) error {
	if !t.begun && !t.unsent() {
		return nil // fn wrote nothing and read nothing
	}
	var b pgx.Batch
	start := t.queueStart(&b)
	steps := 0
	if up, args := t.balanceUpsert(); up != "" {
		b.Queue(t.s.sql(up), args...)
		steps++
	}
	if up, args := t.savedUpdate(); up != "" {
		b.Queue(t.s.sql(up), args...)
		steps++
	}
	if len(t.claims) > 0 {
		b.Queue(t.s.sql(`DELETE FROM {schema}.requests WHERE key = ANY($1) AND operation = ''`), slices.Collect(maps.Keys(t.claims)))
		steps++
	}
	// The pipeline ends with COMMIT, which the server runs unless a
	// statement before it failed; so a stale setting (the closed period,
	// the bank accounts' mapping) must fail on the server: each check
	// divides by zero when the setting differs from what this transaction
	// was told by the store's cache.
	checks := t.settingChecks()
	for _, c := range checks {
		b.Queue(t.s.sql(`SELECT 1 / (value = $1)::int FROM {schema}.settings WHERE name = $2 FOR SHARE`), c.seen, c.cache.name)
	}
	b.Queue("COMMIT")
	err := t.pgx(func(c *pgx.Conn) error {
		br := c.SendBatch(ctx, &b)
		defer br.Close()
		if err := t.readStart(br, start); err != nil {
			return err
		}
		for range steps {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		for _, c := range checks {
			if _, err := br.Exec(); err != nil {
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == codeDivisionByZero {
					c.cache.forget()
					return c.cache.stale
				}
				return err
			}
		}
		tag, err := br.Exec()
		if err != nil {
			return err
		}
		if tag.String() == "ROLLBACK" {
			return errCommitRolledBack
		}
		return br.Close()
	})
	if err == nil {
		clear(t.deltas)
		clear(t.claims)
		clear(t.saved)
		if t.closedSet {
			t.s.closed.forget()
		}
	}
	return err
}

// Nested runs fn inside a savepoint. On error the savepoint is rolled back,
// with what the transaction remembered since: balance changes, accounts
// created, keys claimed and rows locked (PostgreSQL releases the locks).
// A conflict with a concurrent transaction is not undone here: it makes
// the whole transaction run again.
func (t *tx) Nested(ctx context.Context, fn func() error) error {
	if err := t.writeKept(ctx); err != nil {
		return err
	}
	if _, err := t.exec(ctx, "SAVEPOINT nested"); err != nil {
		return err
	}
	accounts, claims := maps.Clone(t.newAccounts), maps.Clone(t.claims)
	locked, scopes, autos := maps.Clone(t.locked), maps.Clone(t.scopes), maps.Clone(t.autoPayouts)
	// A lock taken inside the savepoint is let go by its rollback, and a
	// setting written there is undone: the closed period is then as it was.
	closedSet, closedHeld := t.closedSet, t.closedHeld
	bankNames, bankHeld := t.bankNames, t.bankHeld
	err := fn()
	if err == nil {
		// Written before the release, so that a write of fn's that fails
		// rolls back fn's work alone, as it would have at once.
		err = t.writeKept(ctx)
	}
	if err == nil {
		_, err = t.exec(ctx, "RELEASE SAVEPOINT nested")
		return err
	}
	clear(t.deltas)
	t.newAccounts, t.claims, t.locked, t.scopes, t.autoPayouts = accounts, claims, locked, scopes, autos
	t.closedSet, t.closedHeld = closedSet, closedHeld
	t.bankNames, t.bankHeld = bankNames, bankHeld
	t.forgetAhead()
	clear(t.saved) // saved inside: the claims are back as they were
	t.dropLater()  // fn's writes not sent: nothing to undo
	if _, rerr := t.exec(ctx, "ROLLBACK TO SAVEPOINT nested; RELEASE SAVEPOINT nested"); rerr != nil {
		return fmt.Errorf("%w (and rolling back: %w)", err, t.fail(rerr))
	}
	return err
}

// savedBatch is how many saved requests a transaction keeps before writing
// them: a feed of a million events keeps a thousand at a time, not all.
const savedBatch = 1000

// savedRequest is a completed request waiting to be written into the row
// its lookup claimed.
type savedRequest struct {
	req     *ledger.Request
	created int64
}

// savedUpdate returns the statement that writes the saved requests into
// their claimed rows, in key order, and its arguments; "" if there are
// none.
func (t *tx) savedUpdate() (string, []any) {
	if len(t.saved) == 0 {
		return "", nil
	}
	keys := slices.Sorted(maps.Keys(t.saved))
	ops, hashes := make([]string, len(keys)), make([]string, len(keys))
	results, created := make([][]byte, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		s := t.saved[k]
		ops[i], hashes[i], results[i], created[i] = s.req.Operation, s.req.Hash, s.req.Result, s.created
	}
	return `UPDATE {schema}.requests AS r SET operation = v.operation, hash = v.hash, result = v.result, created_at = v.created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[]) AS v (key, operation, hash, result, created_at)
		WHERE r.key = v.key`, []any{keys, ops, hashes, results, created}
}

// writeKept writes what the transaction keeps in memory: the balance
// changes, the saved requests and the later statements.
func (t *tx) writeKept(ctx context.Context) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	if err := t.writeSaved(ctx); err != nil {
		return err
	}
	return t.begin(ctx)
}

// writeSaved writes the saved requests now.
func (t *tx) writeSaved(ctx context.Context) error {
	up, args := t.savedUpdate()
	if up == "" {
		return nil
	}
	if _, err := t.exec(ctx, up, args...); err != nil {
		return err
	}
	clear(t.saved)
	return nil
}
