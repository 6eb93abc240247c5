// Package postgres is settle's PostgreSQL persistence: it implements
// ledger.Store on a PostgreSQL database reached through pgx v5, for many
// processes on many hosts writing to one set of books at once.
//
// A write transaction runs at READ COMMITTED. The ledger's check-then-write
// rules hold under concurrency through row locks, not through a lock on the
// whole database: an object a write transaction reads by id (a payment, an
// entry, a dispute, ...) is locked until it commits, an idempotency key is
// claimed by inserting its row first, and maintained balances are changed
// by one UPSERT at commit that adds to the stored value. What a lock cannot
// cover — two transactions creating the same new object — is caught by a
// unique index and the whole transaction is retried, as it is on a deadlock
// or serialization failure (SQLSTATE 23505, 40P01, 40001), so the caller
// sees the ledger's own answer (a replay, ErrInvalidState, ErrOverRefund)
// rather than a database error. The transaction function may therefore run
// more than once; the ledger's are written for that.
//
// Every table lives in one schema (Options.Schema, "settle" by default), named
// in every statement, so that settle can share a database with the
// application that embeds it without touching its search_path.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	neturl "net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"

	"github.com/settlehq/settle/ledger"
)

var _ ledger.Store = (*Store)(nil)

// DefaultSchema is the schema the store's tables live in when
// Options.Schema is empty.
const DefaultSchema = "settle"

// DefaultMaxAttempts is how many times a write transaction runs, at most,
// when it keeps conflicting with concurrent ones.
const DefaultMaxAttempts = 20

var (
	// ErrConflict is a write transaction that still conflicted with
	// concurrent ones after Options.MaxAttempts attempts.
	ErrConflict = errors.New("postgres: the transaction kept conflicting with concurrent ones")
	// ErrDriver is a *sql.DB that is not served by pgx's database/sql
	// driver (github.com/jackc/pgx/v5/stdlib), which the store needs for
	// COPY.
	ErrDriver = errors.New("postgres: the database is not opened with the pgx driver")
	// ErrNoSchema is a schema that does not hold settle's tables, opened
	// with Options.MustExist.
	ErrNoSchema = errors.New("postgres: no settle schema in the database")
	// ErrSchemaName is an Options.Schema that is not a plain lowercase SQL
	// identifier.
	ErrSchemaName = errors.New("postgres: invalid schema name")
)

// Options configure a Store. Nil, or a zero field, gives the default.
type Options struct {
	// Schema holds every table of the store: DefaultSchema if empty. It is
	// created if missing. Lowercase letters, digits and '_', starting with
	// a letter or '_'.
	Schema string
	// Now is the store's clock, for the time an entry is recorded:
	// time.Now if nil.
	Now func() time.Time
	// Logger receives the store's rare notices (retried transactions,
	// migrations): none if nil.
	Logger *slog.Logger
	// MaxAttempts bounds how often a conflicting write transaction is run:
	// DefaultMaxAttempts if zero.
	MaxAttempts int
	// MustExist refuses a schema that settle has not created yet
	// (ErrNoSchema) instead of creating it, so that a mistyped URL or
	// schema is not taken for empty books.
	MustExist bool
}

// Store is a ledger.Store on PostgreSQL.
type Store struct {
	db       *sqlx.DB
	pool     *pgxpool.Pool // the pool Open made, closed by Close; nil otherwise
	ownsDB   bool          // Close closes db
	schema   string        // the schema's name
	quoted   string        // and quoted, as statements name it
	now      func() time.Time
	log      *slog.Logger
	attempts int

	queries sync.Map // statement template → statement with the schema filled in

	closed settingCache // the closed_through setting as last read
	bank   settingCache // the bank_ledger_accounts setting as last read (bankentries.go)

	idMu     sync.Mutex
	entryIDs []int64 // entry ids drawn and not yet used (deferEntry)

	accMu    sync.RWMutex
	accounts map[string]int64 // committed account ids by name
	names    map[int64]string // and names by id
}

// driverName is the name the store gives sqlx for its database, bound to
// PostgreSQL's $n placeholders. pgx v5 registers its database/sql driver as
// "pgx" and "pgx/v5"; sqlx knows "pgx" but not "pgx/v5", for which Rebind
// would silently keep '?'.
const driverName = "pgx/v5"

// bindOnce registers driverName with sqlx. sqlx keeps its bind types in a
// process-wide table, so the registration is process-wide too; it is done
// once, by the first constructor, rather than in an init function, and it
// only states what is true of pgx v5 for every user of sqlx in the process.
var bindOnce sync.Once

func bindDollar() { bindOnce.Do(func() { sqlx.BindDriver(driverName, sqlx.DOLLAR) }) }

// Open connects to the PostgreSQL database at url (postgres://… or
// postgresql://…), creates or migrates the store's schema, and returns a
// Store that owns the connection pool. A "schema" parameter in the URL
// names the schema when opts does not (postgres://host/db?schema=books).
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	url, schema, err := splitSchema(url)
	if err != nil {
		return nil, err
	}
	if schema != "" && (opts == nil || opts.Schema == "") {
		o := Options{}
		if opts != nil {
			o = *opts
		}
		o.Schema, opts = schema, &o
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s, err := NewPool(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.pool, s.ownsDB = pool, true
	return s, nil
}

// NewPool returns a Store on an application's own pgx pool, after creating
// or migrating the store's schema. Close does not close the pool.
func NewPool(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	db := stdlib.OpenDBFromPool(pool)
	s, err := New(ctx, db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.ownsDB = true // the *sql.DB is the store's own view of the pool
	return s, nil
}

// New returns a Store on an application's own *sql.DB, which must be opened
// with pgx's database/sql driver (sql.Open("pgx", url) after importing
// github.com/jackc/pgx/v5/stdlib, or stdlib.OpenDB), after creating or
// migrating the store's schema. Close does not close db.
func New(ctx context.Context, db *sql.DB, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if _, ok := db.Driver().(*stdlib.Driver); !ok {
		return nil, fmt.Errorf("%w (it uses %T)", ErrDriver, db.Driver())
	}
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if !schemaName.MatchString(o.Schema) {
		return nil, fmt.Errorf("%w: %q", ErrSchemaName, o.Schema)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	bindDollar()
	s := &Store{db: sqlx.NewDb(db, driverName), schema: o.Schema, quoted: pgx.Identifier{o.Schema}.Sanitize(),
		now: o.Now, log: o.Logger, attempts: o.MaxAttempts,
		accounts: map[string]int64{}, names: map[int64]string{},
		closed: settingCache{name: "closed_through", stale: errStaleClosed}, bank: settingCache{name: bankSetting, stale: errStaleBank}}
	if o.MustExist {
		v, err := s.schemaVersion(ctx)
		if err != nil {
			return nil, fmt.Errorf("postgres: reading the schema version: %w", err)
		}
		if v == 0 {
			return nil, fmt.Errorf("%w: schema %s", ErrNoSchema, s.schema)
		}
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Empty reports whether the store holds no books: no accounts, entries,
// idempotent requests, imported files or reconciliation runs (settings
// aside).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var used bool
	err := s.db.QueryRowContext(ctx, s.sql(`SELECT EXISTS (SELECT 1 FROM {schema}.accounts) OR EXISTS (SELECT 1 FROM {schema}.entries)
		OR EXISTS (SELECT 1 FROM {schema}.requests) OR EXISTS (SELECT 1 FROM {schema}.imports)
		OR EXISTS (SELECT 1 FROM {schema}.recon_runs)`)).Scan(&used)
	return !used, translate(err)
}

// splitSchema takes the "schema" parameter out of a URL: it is settle's,
// and PostgreSQL would refuse it as an unknown setting.
func splitSchema(raw string) (string, string, error) {
	u, err := neturl.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return raw, "", nil // a keyword/value string: pgx parses it
	}
	q := u.Query()
	schema := q.Get("schema")
	if schema == "" {
		return raw, "", nil
	}
	q.Del("schema")
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// DB returns the database the store runs on.
func (s *Store) DB() *sql.DB { return s.db.DB }

// Schema returns the name of the schema that holds the store's tables.
func (s *Store) Schema() string { return s.schema }

// Close releases what the store opened: the pool of Open, the *sql.DB of
// NewPool. A database or pool the caller passed in stays open.
func (s *Store) Close() error {
	var err error
	if s.ownsDB {
		err = s.db.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// sql returns query with {schema} replaced by the store's quoted schema.
// Statements are constants, so the cache stays small.
func (s *Store) sql(query string) string {
	if q, ok := s.queries.Load(query); ok {
		return q.(string)
	}
	q := strings.ReplaceAll(query, "{schema}", s.quoted)
	s.queries.Store(query, q)
	return q
}

// Update runs fn in one READ COMMITTED transaction, again (up to
// Options.MaxAttempts times, after a short random pause) when it conflicts
// with a concurrent one.
func (s *Store) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.update(ctx, fn, attempt == 1)
		if errors.Is(err, errUnchecked) {
			continue // at once, the checked way (attempt 2 is not optimistic)
		}
		if err == nil || !retryable(err) {
			return err
		}
		if attempt >= s.attempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrConflict, attempt, err)
		}
		s.log.Debug("postgres: retrying a write transaction that conflicted", "attempt", attempt, "err", err)
		pause := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

func (s *Store) update(ctx context.Context, fn func(ledger.Tx) error, optimistic bool) error {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return translate(err)
	}
	defer conn.Close()
	t := newTx(s, conn, true)
	t.optimistic = optimistic
	err = fn(t)
	if t.conflict != nil {
		// fn may have swallowed it (a Nested unit of work that failed);
		// the transaction must run again all the same.
		err = t.conflict
	}
	if err != nil && t.deferred != nil {
		// fn failed after an entry it wrote optimistically (deferEntry),
		// whose key was never checked: had it been stored, the ledger
		// would have answered with the stored entry (a replay) before any
		// check that failed now. Run again the checked way for the
		// ledger's own answer.
		err = errUnchecked
	}
	if err == nil {
		err = t.commit(ctx)
	}
	if err != nil {
		if t.begun {
			rollback(conn)
		}
		return translate(err)
	}
	if len(t.newAccounts) > 0 {
		s.accMu.Lock()
		for name, id := range t.newAccounts {
			s.accounts[name], s.names[id] = id, name
		}
		s.accMu.Unlock()
	}
	if t.entries >= analyzeAfter {
		// The books are stored; statistics are an optimisation, and a
		// failure to gather them is not the write's.
		var tuples float64
		err := conn.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`, s.quoted+".entries").Scan(&tuples)
		if err == nil && tuples < float64(t.entries) {
			_, _ = conn.ExecContext(ctx, s.sql(ledgerAnalyze))
		}
	}
	return nil
}

// ledgerAnalyze gathers the statistics of the ledger's tables. A write
// transaction of analyzeAfter entries or more runs it right after its
// commit, rather than leave it to autovacuum's next round, when the
// entries' statistics count fewer rows than it wrote (-1 for none): books
// it made, or at least doubled. A month recorded into new books left them
// without any, and PostgreSQL then planned the journal report's page of
// the next 1,000 entries in time order as a scan of the whole table and a
// sort, every page: 19.6 s for a month of 100,000 payments, growing with
// the square of the books, and 2.1 s with statistics (BENCHMARKS.md,
// twenty-eighth round). It takes about a second at that size; a nightly
// run into a month's books does not pay it. requests is left out: it is
// read by its key alone.
const ledgerAnalyze = `ANALYZE {schema}.entries, {schema}.balances, {schema}.payments, {schema}.refunds, {schema}.disputes,
	{schema}.payouts, {schema}.balance_transactions`

// View runs fn in a read-only REPEATABLE READ transaction: one consistent
// snapshot for all its reads. fn runs once.
func (s *Store) View(ctx context.Context, fn func(ledger.ReadTx) error) error {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return translate(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return translate(err)
	}
	defer rollback(conn)
	return translate(fn(newTx(s, conn, false)))
}

// rollback ends the connection's transaction. On a broken connection it
// fails, and database/sql discards the connection (pgx's driver refuses to
// reuse one still inside a transaction).
func rollback(conn *sqlx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = conn.ExecContext(ctx, "ROLLBACK")
}

// errUnchecked is a transaction that failed while an entry written
// optimistically was still unsent: Update runs it again at once, not
// optimistically.
var errUnchecked = errors.New("postgres: the transaction failed before its optimistic entry was checked")

// errCommitRolledBack is a COMMIT that PostgreSQL turned into a rollback
// because a statement of the transaction had failed.
var errCommitRolledBack = errors.New("postgres: the transaction had failed and was rolled back at commit")

// commit commits the connection's transaction. PostgreSQL answers COMMIT
// of a failed transaction with ROLLBACK and no error, so the command tag is
// checked on pgx's own connection.
func commit(ctx context.Context, conn *sqlx.Conn) error {
	return conn.Raw(func(dc any) error {
		tag, err := dc.(*stdlib.Conn).Conn().Exec(ctx, "COMMIT")
		if err != nil {
			return err
		}
		if tag.String() == "ROLLBACK" {
			return errCommitRolledBack
		}
		return nil
	})
}

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeNumericOutOfRange    = "22003"
	codeDivisionByZero       = "22012"
	codeUndefinedTable       = "42P01"
	codeInvalidSchemaName    = "3F000"
)

// retryable reports whether err is a conflict with a concurrent
// transaction that running the whole transaction again resolves: a
// serialization failure, a deadlock, or a unique violation (a row another
// transaction created after this one looked for it).
func retryable(err error) bool {
	if errors.Is(err, errStaleClosed) || errors.Is(err, errStaleBank) {
		return true
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case codeSerializationFailure, codeDeadlockDetected, codeUniqueViolation:
		return true
	}
	return false
}

// settingCache is a setting as a store last read it: each write
// transaction answers from it and checks the answer at commit
// (tx.settingChecks), failing with stale, which runs it again, when the
// setting changed.
type settingCache struct {
	name  string // the setting's name in the settings table
	stale error
	mu    sync.Mutex
	v     *string // nil: unknown
}

func (c *settingCache) get() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.v == nil {
		return "", false
	}
	return *c.v, true
}

func (c *settingCache) set(v string) {
	c.mu.Lock()
	c.v = &v
	c.mu.Unlock()
}

func (c *settingCache) forget() {
	c.mu.Lock()
	c.v = nil
	c.mu.Unlock()
}

// translate maps PostgreSQL errors to ledger errors by SQLSTATE, keeping
// the original in the chain.
func translate(err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	if already(err) {
		return err
	}
	switch pe.Code {
	case codeNumericOutOfRange:
		return fmt.Errorf("%w: an amount or balance overflowed a 64-bit integer: %w", ledger.ErrInvalidAmount, err)
	case codeUniqueViolation:
		if pe.ConstraintName == "entries_key_key" {
			return fmt.Errorf("%w: %w", ledger.ErrIdempotencyConflict, err)
		}
		return fmt.Errorf("%w: %w", ledger.ErrInvalidState, err)
	}
	return err
}

// already reports whether err was translated before.
func already(err error) bool {
	return errors.Is(err, ledger.ErrInvalidAmount) || errors.Is(err, ledger.ErrIdempotencyConflict) ||
		errors.Is(err, ledger.ErrInvalidState)
}
