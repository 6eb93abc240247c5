package sqlite

import (
	"cmp"
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

var _ ledger.Tx = (*tx)(nil)

// tx implements ledger.Tx (and, read-only, ledger.ReadTx). Balance changes
// are summed in memory and written once per account and currency before any
// balance read and at commit.
type tx struct {
	s           *Store
	q           querier
	conn        *sql.Conn // a read transaction's connection (rows)
	write       bool
	newAccounts map[string]int64
	deltas      map[int64][]currencyDelta // by account id
	nextEntryID int64

	// What a write transaction has read or written itself, so that a feed
	// of many events in one transaction does not ask the database again.
	// Dropped when a savepoint is rolled back (Nested).
	closed      *time.Time                 // the closed period, once read
	bank        *[]string                  // the ledger accounts of bank accounts, once read (bankentries.go)
	autoPayouts map[provCur][]payoutCutoff // automatic payouts in (created, id) order, once read
	payments    paymentCache               // payments read or saved in this transaction; nil: known missing
	disputes    map[string]*ledger.Dispute // disputes read or saved in this transaction, as stored
	payouts     map[string]*ledger.Payout  // payouts read or saved in this transaction, as stored; nil: known missing
	requests    []ledger.Request           // requests saved and not yet written
	requestIdx  map[string]int             // index into requests by key
	// prefetched are stored requests read ahead by Prefetch, by key; a
	// nil value means none is stored under the key.
	prefetched map[string]*ledger.Request

	// bts are balance transactions inserted and not yet written; btsNew:
	// their tables were empty when the transaction first touched them
	// (dueKnown), and they wait for btBuffer of them rather than btChunk.
	bts    pendingBTs
	btsNew bool
	// held are the payments saved and not yet written, by id
	// (heldpayments.go).
	held map[string]*heldPayment
	// due are the pending balance transactions, when the transaction
	// knows them all (duemem.go); dueIdx is the index of pending
	// settlements, which it may drop meanwhile (dropindex.go).
	due    dueMemory
	dueIdx droppedIndex

	// Whether the requests', payments', entries' (by key), refunds',
	// disputes' and payouts' tables were empty when the transaction first
	// looked, and the keys it wrote to them (fresh.go).
	// Kept when a savepoint is rolled back: the rows it removes were the
	// transaction's own, and a key noted and not stored is looked up.
	freshRequests, freshPayments, freshEntries, freshRefunds, freshDisputes, freshPayouts freshness

	// The entries' key index while the transaction writes into an empty
	// table (entrykey.go), and whether each statement run while it was
	// dropped needs it.
	entryKey      droppedIndex
	entryKeyNeeds map[string]bool

	// pendingMine are the pending entries the transaction wrote and has
	// not resolved, with their postings.
	pendingMine map[int64][]rawPosting

	// later runs the writes whose outcome the transaction does not wait
	// for, on a goroutine of its own (later.go), in the transaction's
	// context ctx; nil until the first.
	later *writeBehind
	ctx   context.Context

	// scratch holds the values of the one-row write statements (exec,
	// InsertEntry), reused so that a feed's million statements do not
	// each grow a buffer of their own.
	scratch params
}

type provCur struct{ provider, currency string }

// payoutCutoff is an automatic payout's place in (created_at, id) order.
type payoutCutoff struct {
	at int64
	id string
}

// resetCaches forgets what the transaction remembers, as after a rolled
// back savepoint; requests not yet written are the caller's to drop.
func (t *tx) resetCaches() {
	t.closed, t.autoPayouts, t.payments, t.prefetched, t.pendingMine = nil, nil, paymentCache{}, nil, nil
	t.disputes, t.payouts = nil, nil
	if t.due.state == dueOn {
		t.dueOffNow() // it may hold transactions the savepoint took back
	}
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

// exec runs a write statement, prepared once on the writer connection,
// with all its values bound in one call into C, and returns the rows it
// changed.
func (t *tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	p := t.scratchParams()
	if err := packArgs(p, args); err != nil {
		return 0, err
	}
	return t.execParams(ctx, query, p)
}

// execParams runs a write statement with its values packed in p, after
// writing the balance transactions waiting in memory if it names their
// table.
func (t *tx) execParams(ctx context.Context, query string, p *params) (int64, error) {
	if err := t.before(ctx, query); err != nil {
		return 0, err
	}
	return t.s.execParams(ctx, query, p)
}

// before writes the balance transactions and payments waiting in memory if
// query names their tables (or the view of them): it could read or change
// them. Then it waits for the statements handed to the write-behind
// goroutine.
func (t *tx) before(ctx context.Context, query string) error {
	if err := t.flushFor(ctx, query); err != nil {
		return err
	}
	if t.entryKeyNeeded(query) {
		if err := t.restoreDropped(ctx, &t.entryKey); err != nil {
			return err
		}
	}
	return t.sync()
}

// flushFor writes what the transaction holds in memory of the tables query
// names: the balance transactions and the payments waiting.
func (t *tx) flushFor(ctx context.Context, query string) error {
	if t.bts.n() > 0 && namesBTs(query) {
		if err := t.flushBTs(ctx); err != nil {
			return err
		}
	}
	if len(t.held) > 0 && namesPayments(query) {
		return t.flushPayments(ctx)
	}
	return nil
}

// namesBTs reports whether query names the balance transactions' tables
// or the view of them.
func namesBTs(query string) bool {
	return strings.Contains(query, "bt_core") || strings.Contains(query, "bt_settlements") ||
		strings.Contains(query, "balance_transactions")
}

var _ ledger.BaseReader = (*tx)(nil)

// ReadBase runs fn in a read transaction on a connection of its own. In WAL
// mode a reader sees the last commit, and while a write transaction holds
// the write lock (it began with BEGIN IMMEDIATE) that is the state it began
// from: its own writes, buffered or in the log, are not seen. A database
// not in WAL mode (its readers would block the writer's commit), or held
// by a single connection (in memory), has no such reader.
func (t *tx) ReadBase(ctx context.Context, fn func(ledger.ReadTx) error) error {
	if !t.write || t.s.ckpt == nil {
		return ledger.ErrNoBaseReader
	}
	return t.s.View(ctx, fn)
}

// scratchParams returns the transaction's reusable parameter buffer,
// emptied. Its values are bound and the statement run before the next
// caller takes it: what runs in between (a flush of the balance
// transactions waiting, before a statement naming their table) must not
// take it, and flushBTs has its own.
func (t *tx) scratchParams() *params {
	t.scratch.reset()
	return &t.scratch
}

// query and queryRow read through statements prepared once on the writer
// connection inside a write transaction, and plainly inside a read one.
func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.queryAfter(ctx, t.before, query, args...)
}

// queryAfter is query with ready in place of before: what a write
// transaction runs first.
func (t *tx) queryAfter(ctx context.Context, ready func(context.Context, string) error, query string, args ...any) (*sql.Rows, error) {
	if !t.write {
		return t.q.QueryContext(ctx, query, args...)
	}
	if err := ready(ctx, query); err != nil {
		return nil, err
	}
	st, err := t.s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// rows runs a query whose rows are many (a reconciliation's load), read in
// packed batches (rawRows) on the transaction's own connection.
func (t *tx) rows(ctx context.Context, query string, args ...any) (rowSource, error) {
	raw := t.s.writer.Raw
	if !t.write {
		raw = t.conn.Raw // View's own connection
	} else if err := t.before(ctx, query); err != nil {
		return nil, err
	}
	return queryRows(ctx, raw, func() (*sql.Rows, error) { return t.query(ctx, query, args...) }, query, args)
}

// queryRow reads one row. In a write transaction it runs a statement
// prepared once on the writer's connection and reads the row packed
// (rawRows): database/sql's QueryRow starts a goroutine a query to watch
// its context, and recording a feed reads a payment, a refund or an
// authorization's postings this way for many of its events.
func (t *tx) queryRow(ctx context.Context, query string, args ...any) scanner {
	return t.queryRowAfter(ctx, t.before, query, args...)
}

// queryRowAfter is queryRow with ready in place of before.
func (t *tx) queryRowAfter(ctx context.Context, ready func(context.Context, string) error, query string, args ...any) scanner {
	if !t.write {
		return t.q.QueryRowContext(ctx, query, args...)
	}
	if err := ready(ctx, query); err != nil {
		return errRow{err}
	}
	r, err := startRows(ctx, t.s.writer.Raw, args, true, func(dc any) (*rawStmt, error) { return t.s.prepared(ctx, dc, query) })
	switch {
	case err != nil:
		return errRow{err}
	case r != nil:
		return oneRow{r}
	}
	st, err := t.s.stmt(ctx, query)
	if err != nil {
		// Let the error surface at Scan, as QueryRowContext's would.
		return t.q.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// oneRow scans the first row of r, then resets its statement.
type oneRow struct{ r *rawRows }

func (o oneRow) Scan(dest ...any) error {
	defer o.r.Close()
	if !o.r.Next() {
		if err := o.r.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	return o.r.Scan(dest...)
}

// errRow is a query that failed before its row could be read.
type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

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
	if err := t.sync(); err != nil {
		return 0, err
	}
	res, err := t.s.execRaw(ctx, `INSERT INTO accounts (name, type) VALUES (?, ?)`, []any{name, string(typ)})
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
	err := execChunks(ctx, t, changes, balanceChunk, `INSERT INTO balances (account_id, currency, posted, pending) VALUES `,
		"(?, ?, ?, ?)", ` ON CONFLICT (account_id, currency) DO UPDATE SET posted = posted + excluded.posted, pending = pending + excluded.pending`,
		func(p *params, c *change) {
			p.int(c.account)
			p.text(c.currency)
			p.int(c.posted)
			p.int(c.pending)
		})
	if err != nil {
		return err
	}
	clear(t.deltas)
	return nil
}

// execChunks runs a statement for every size rows: head, a tuple a row
// (bind binds its parameters into p), then tail: a multi-row INSERT, or an
// UPDATE … FROM (VALUES …).
func execChunks[T any](ctx context.Context, t *tx, rows []T, size int, head, tuple, tail string,
	bind func(*params, *T)) error {
	for start := 0; start < len(rows); start += size {
		chunk := rows[start:min(start+size, len(rows))]
		p := t.laterChunkParams()
		for i := range chunk {
			bind(p, &chunk[i])
		}
		if err := t.execLater(ctx, head+tuples(tuple, len(chunk))+tail, p, -1); err != nil {
			return translate(err)
		}
	}
	return nil
}

// Request returns a stored idempotent request.
func (t *tx) Request(ctx context.Context, key string) (*ledger.Request, error) {
	if i, ok := t.requestIdx[key]; ok {
		r := t.requests[i]
		return &r, nil
	}
	if r, ok := t.prefetched[key]; ok {
		if r == nil {
			return nil, &missingError{"request", key}
		}
		c := *r
		return &c, nil
	}
	if gone, err := t.freshRequests.missing(ctx, t, anyRequest, key); err != nil {
		return nil, err
	} else if gone {
		return nil, &missingError{"request", key}
	}
	r, err := scanRequest(t.queryRow(ctx, `SELECT `+requestCols+` FROM requests WHERE key = ?
		UNION ALL SELECT `+requestByEntryCols+` FROM entries e JOIN request_entries q ON q.entry_id = e.id WHERE e.key = ?`, key, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &missingError{"request", key}
	}
	return r, err
}

const requestCols = `key, operation, hash, result, created_at`

// requestByEntryCols are requestCols of a request stored by its entry's
// id: e the entry, q its row in request_entries.
const requestByEntryCols = `e.key, q.operation, q.hash, q.result, q.created_at`

// anyRequest and anyPayment return a row when their table has one.
const (
	anyRequest = `SELECT 1 FROM requests UNION ALL SELECT 1 FROM request_entries LIMIT 1`
	anyPayment = `SELECT 1 FROM payments LIMIT 1`
	anyEntry   = `SELECT 1 FROM entries LIMIT 1`
	anyRefund  = `SELECT 1 FROM refunds LIMIT 1`
	anyDispute = `SELECT 1 FROM disputes LIMIT 1`
	anyPayout  = `SELECT 1 FROM payouts LIMIT 1`
)

func scanRequest(sc scanner) (*ledger.Request, error) {
	var r ledger.Request
	var created int64
	if err := sc.Scan(&r.Key, &r.Operation, &r.Hash, &r.Result, &created); err != nil {
		return nil, err
	}
	r.CreatedAt = fromTS(created)
	return &r, nil
}

// requestChunk is how many requests one INSERT writes.
const requestChunk = 50

// requestBuffer is how many saved requests a transaction keeps in memory
// before writing them. They are written in the order of their keys, so
// that the key's index, larger than the page cache once a feed has a
// provider's random event ids by the million, is filled page after page
// rather than at random places, each page fetched and written again for
// every event: `settle record` of a million payments took 97 s with
// requests written 50 at a time as saved, 82 s with this buffer, 79 s with
// twice it (at 140 MB more peak memory). BENCHMARKS.md, "Ninth round".
// A variable so that a test can make it small.
var requestBuffer = 32768

// SaveRequest stores a completed idempotent request. Requests are kept
// (requestBuffer) and written requestChunk a statement: the ledger saves
// one only after Request found none under its key, so the insert cannot
// conflict with a stored one, and Request finds the ones not yet written
// in memory.
func (t *tx) SaveRequest(ctx context.Context, r *ledger.Request) error {
	if _, dup := t.requestIdx[r.Key]; dup {
		return fmt.Errorf("%w: request %q saved twice", ledger.ErrInvalidState, r.Key)
	}
	if t.requestIdx == nil {
		t.requestIdx = map[string]int{}
	}
	t.requestIdx[r.Key] = len(t.requests)
	t.requests = append(t.requests, *r)
	delete(t.prefetched, r.Key)
	if len(t.requests) >= requestBuffer {
		return t.flushRequests(ctx)
	}
	return nil
}

// flushRequests writes the requests saved and not yet written: those
// stored by their entry's id first, in the order of the ids (appended to
// request_entries), then the others in the order of their keys.
//
// A feed saves the requests stored by their entry's id in the order of the
// ids already, since it books one event after another: sorting all of them
// again (structs of a hundred bytes, compared by id and then by key) took
// 1.4 s of the booking goroutine's time when recording a million payments
// (BENCHMARKS.md, thirty-ninth round). They are only checked to be in order.
func (t *tx) flushRequests(ctx context.Context) error {
	if len(t.requests) == 0 {
		return nil
	}
	// Keep the requests stored by their entry's id in place, in the order
	// saved, and move the others, stored by their key, after them.
	var byKey []ledger.Request
	byEntry := 0
	for _, r := range t.requests {
		if r.EntryID == 0 {
			byKey = append(byKey, r)
			continue
		}
		t.requests[byEntry] = r
		byEntry++
	}
	byID := func(a, b ledger.Request) int { return cmp.Compare(a.EntryID, b.EntryID) }
	if !slices.IsSortedFunc(t.requests[:byEntry], byID) {
		slices.SortFunc(t.requests[:byEntry], byID)
	}
	slices.SortFunc(byKey, func(a, b ledger.Request) int { return strings.Compare(a.Key, b.Key) })
	copy(t.requests[byEntry:], byKey)
	for _, r := range t.requests {
		t.freshRequests.add(r.Key)
	}
	// The values after the first column, the entry's id or the key.
	rest := func(p *params, r *ledger.Request) {
		p.text(r.Operation)
		p.text(r.Hash)
		p.blob(r.Result)
		p.int(ts(r.CreatedAt))
	}
	err := execChunks(ctx, t, t.requests[:byEntry], requestChunk, `INSERT OR FAIL INTO request_entries (entry_id, operation, hash, result, created_at) VALUES `,
		"(?, ?, ?, ?, ?)", "", func(p *params, r *ledger.Request) { p.int(r.EntryID); rest(p, r) })
	if err == nil {
		err = execChunks(ctx, t, t.requests[byEntry:], requestChunk, `INSERT INTO requests (key, operation, hash, result, created_at) VALUES `,
			"(?, ?, ?, ?, ?)", "", func(p *params, r *ledger.Request) { p.text(r.Key); rest(p, r) })
	}
	if err != nil {
		return err
	}
	t.requests = t.requests[:0]
	clear(t.requestIdx)
	return nil
}

// ClosedThrough returns the end of the closed period, or zero.
func (t *tx) ClosedThrough(ctx context.Context) (time.Time, error) {
	if t.closed != nil {
		return *t.closed, nil
	}
	c, err := t.readSettings(ctx)
	if err == nil && t.write {
		t.closed = &c
	}
	return c, err
}

// readSettings reads what every write asks once a transaction, in one
// statement: the closed period, which it returns, and the ledger accounts
// bank accounts map to, which it keeps (bankLedgerAccounts). A statement
// each cost the one-entry transaction 8% of its time.
func (t *tx) readSettings(ctx context.Context) (time.Time, error) {
	var closed, banks sql.NullString
	err := t.queryRow(ctx, `SELECT (SELECT value FROM settings WHERE name = 'closed_through'),
		(SELECT group_concat(ledger_account, char(10)) FROM (SELECT DISTINCT ledger_account FROM bank_accounts))`).
		Scan(&closed, &banks)
	if err != nil {
		return time.Time{}, err
	}
	names := bankmark.Parse(banks.String)
	t.bank = &names
	if !closed.Valid {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, closed.String)
}

// SetClosedThrough closes the books through t.
func (t *tx) SetClosedThrough(ctx context.Context, at time.Time) error {
	t.closed = nil
	_, err := t.exec(ctx, `INSERT INTO settings (name, value) VALUES ('closed_through', ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, at.UTC().Format(time.RFC3339Nano))
	return err
}

// flushPending writes everything the transaction keeps in memory to write
// later: the balance transactions waiting (before anything that could
// refer to them), the held payments, the saved requests and the summed
// balance changes. A savepoint's edges, the invariant check and the commit
// need all of it on disk.
func (t *tx) flushPending(ctx context.Context) error {
	if err := t.flushBTs(ctx); err != nil {
		return err
	}
	if err := t.flushPayments(ctx); err != nil {
		return err
	}
	if err := t.flushRequests(ctx); err != nil {
		return err
	}
	return t.flush(ctx)
}

// dropPending forgets what flushPending would have written, as a
// rolled-back savepoint does.
func (t *tx) dropPending() {
	t.bts.reset()
	clear(t.held)
	t.requests = t.requests[:0]
	clear(t.requestIdx)
	clear(t.deltas)
}

var _ ledger.Nester = (*tx)(nil)

// Nested runs fn inside a savepoint. On error the savepoint is rolled back,
// with the in-memory balance changes and account ids made inside it.
func (t *tx) Nested(ctx context.Context, fn func() error) error {
	if err := t.flushPending(ctx); err != nil {
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
		err = t.flushPending(ctx)
	}
	if err == nil {
		// What this savepoint handed over fails here, as its own.
		err = t.sync()
	}
	if err != nil {
		t.forgetLater()
		t.dropPending()
		t.resetCaches()
		for name := range t.newAccounts {
			if !before[name] {
				delete(t.newAccounts, name)
			}
		}
		t.nextEntryID = 0
		if _, rerr := t.q.ExecContext(ctx, "ROLLBACK TO nested; RELEASE nested"); rerr != nil {
			return fmt.Errorf("%w (and rolling back: %v)", err, rerr)
		}
		if rerr := t.recheckDropped(ctx, &t.entryKey, &t.dueIdx); rerr != nil {
			return fmt.Errorf("%w (and after rolling back: %v)", err, rerr)
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
		OR EXISTS (SELECT 1 FROM requests) OR EXISTS (SELECT 1 FROM request_entries) OR EXISTS (SELECT 1 FROM imports) OR EXISTS (SELECT 1 FROM recon_runs)`).Scan(&used)
	return !used, err
}
