// Package sqlite is settle's SQLite persistence: the one package that speaks
// SQL. It implements ledger.Store on a *sql.DB opened with mattn/go-sqlite3.
//
// SQLite allows one writer at a time. The Store serializes its own writers on
// one dedicated connection and begins each write transaction with BEGIN
// IMMEDIATE, so concurrent goroutines queue instead of failing with
// SQLITE_BUSY, and other processes wait their turn (lock.go).
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/settlehq/settle/ledger"
)

var _ ledger.Store = (*Store)(nil)

// ErrNoDatabase is the error of OpenWith with MustExist when the database
// file does not exist.
var ErrNoDatabase = errors.New("no database")

// Options configure a Store. Nil, or a zero field, gives the default.
type Options struct {
	// LockTimeout is how long a write waits for the write lock while
	// another process holds it, before it fails with ErrLockTimeout:
	// DefaultLockTimeout if zero; a negative value does not wait.
	LockTimeout time.Duration
	// BusyTimeout is how long SQLite blocks on a held lock in one attempt
	// before the store says it is waiting (OnLockWait) and tries again:
	// DefaultBusyTimeout if zero.
	BusyTimeout time.Duration
	// OnLockWait, if set, is called once for each write that has to wait
	// for another process's write lock, before it waits.
	OnLockWait func(LockWait)
	// Mode is the permission of a database file OpenWith creates (SQLite
	// gives its -wal and -shm files the database file's); 0600 if zero.
	Mode fs.FileMode
	// MustExist makes OpenWith fail with ErrNoDatabase rather than create
	// a database that does not exist.
	MustExist bool
	// Now is the clock of what the store stamps itself (when a file was
	// imported, a migration applied); nil is time.Now. Entries carry the
	// ledger's own clock.
	Now func() time.Time
	// Logger receives the store's rare notices (nil: none).
	Logger *slog.Logger
	// WriterCache is the page cache of the store's writer connection, in
	// bytes: DefaultWriterCache if zero. A bulk load (settle record of a
	// large feed) is faster with BulkWriterCache; see there.
	WriterCache int64
	// BuildNew makes OpenWith build a database that does not exist yet in
	// a file of its own beside path (path + ".new"), without a write-ahead
	// log, and put it at path when the store is closed: faster for a
	// store that is opened to fill a new database (settle record of a
	// first month), and a run stopped before Close leaves no database at
	// path. Meanwhile the database is not at path for other processes to
	// open; another store building it waits as a write waits for the
	// write lock, and then opens it. Close reports an error, leaving the
	// built file where it is, if a database appeared at path meanwhile. A
	// database that exists, or a new one on a file system that cannot lock
	// files (flock), is opened as without it.
	BuildNew bool
	// ExclusiveImport lets Import take the database for itself when no
	// other connection has it open (a one-off settle import): the import
	// is written through a rollback journal rather than the write-ahead
	// log, so that its pages are written once, into the database file,
	// rather than into the log and again by a checkpoint; other processes
	// that open the database meanwhile wait for it, as a write waits for
	// the write lock. The store returns to WAL mode afterwards. With
	// another connection open the import runs in WAL mode, as without it
	// (alone.go).
	ExclusiveImport bool
}

// writerCacheKiB is WriterCache in KiB, as PRAGMA cache_size takes it.
func (o *Options) writerCacheKiB() int64 {
	if o.WriterCache <= 0 {
		return DefaultWriterCache >> 10
	}
	return max(o.WriterCache>>10, 1)
}

func (o *Options) lockTimeout() time.Duration {
	switch {
	case o.LockTimeout < 0:
		return 0
	case o.LockTimeout == 0:
		return DefaultLockTimeout
	}
	return o.LockTimeout
}

// busyTimeout is one attempt's wait, never longer than the whole wait.
func (o *Options) busyTimeout() time.Duration {
	d := o.BusyTimeout
	if d <= 0 {
		d = DefaultBusyTimeout
	}
	return min(d, o.lockTimeout())
}

func (o *Options) mode() fs.FileMode {
	if o.Mode == 0 {
		return 0o600
	}
	return o.Mode
}

// Store is a ledger.Store on SQLite.
type Store struct {
	db     *sql.DB
	dbx    *sqlx.DB // db for sqlx's struct scans of wide reads
	opts   Options
	path   string    // the database file, "" in memory
	owned  bool      // Close closes db
	build  *building // a new database built beside its path, put there by Close (build.go)
	mu     sync.Mutex
	writer *sql.Conn
	stmts  map[string]*sql.Stmt
	// raw holds the write statements of execRaw and execParams, prepared
	// on the writer's driver connection.
	raw map[string]*rawStmt

	ckpt *checkpointer // nil unless the database is in WAL mode

	accMu    sync.RWMutex
	accounts map[string]int64 // committed account ids by name
	names    map[int64]string // and their names by id
}

// DSN returns the data source name settle uses for a database file: WAL,
// foreign keys on, a busy timeout, NORMAL synchronous (durable with WAL
// except for the last commits before a power loss) and an 8 MiB page cache
// (the store's writer raises its own to Options.WriterCache).
// ":memory:" gives a private in-memory database shared by the pool.
//
// The cache is small on purpose. When a B-tree page split reorders pages,
// SQLite parks a page under the pending-byte page number, and the next
// commit then walks every slot of the page cache's hash table; with a
// 128 MiB cache that walk was 7% of batched posting (BENCHMARKS.md). Pages
// not in the cache come from the operating system's file cache.
func DSN(path string) string { return dsn(path, "WAL") }

// dsn is DSN with the journal mode named (WAL, or MEMORY for a database
// being built, build.go).
func dsn(path, journal string) string {
	params := "_journal_mode=" + journal + "&_foreign_keys=on&_busy_timeout=10000&_synchronous=NORMAL&_cache_size=-8192&_mutex=no"
	if path == ":memory:" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return "file:mem" + hex.EncodeToString(b[:]) + "?mode=memory&cache=shared&_foreign_keys=on&_busy_timeout=10000"
	}
	return "file:" + url.PathEscape(path) + "?" + params
}

// Open opens (creating if needed) the SQLite database at path and applies
// any pending migrations, with the default Options.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, nil)
}

// OpenWith opens the SQLite database at path, creating it (but not its
// folder) unless opts.MustExist, and applies any pending migrations.
func OpenWith(ctx context.Context, path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if path != ":memory:" && o.BuildNew && !o.MustExist {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			s, err := openBuilding(ctx, path, &o)
			if !errors.Is(err, errAppeared) && !errors.Is(err, errNoBuildLock) {
				return s, err
			}
		}
	}
	if path != ":memory:" {
		created, err := createFile(path, &o)
		if err != nil {
			return nil, err
		}
		if created {
			if err := initFile(path); err != nil {
				return nil, err
			}
		}
	}
	db, err := sql.Open("sqlite3", DSN(path))
	if err != nil {
		return nil, err
	}
	s, err := newWith(ctx, db, &o, path)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	s.owned = true
	return s, nil
}

// createFile creates the database file at path, empty (which SQLite takes
// for a new database), with the permission of opts, so that neither it nor
// its -wal and -shm files are ever readable by others under a umask of 022.
// It reports whether it created the file.
func createFile(path string, opts *Options) (bool, error) {
	_, err := os.Stat(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if opts.MustExist {
		return false, fmt.Errorf("%w at %s", ErrNoDatabase, path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, opts.mode())
	switch {
	case errors.Is(err, fs.ErrExist):
		return false, nil // another process created it meanwhile
	case err != nil:
		return false, creating(path, err)
	}
	return true, f.Close()
}

// creating is the error of creating the database file for path: a missing
// folder is named as such.
func creating(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("creating the database %s: %w", path, noFolderError{filepath.Dir(path)})
	}
	return fmt.Errorf("creating the database: %w", err)
}

// DefaultWriterCache is the page cache of the store's writer connection.
// Recording a month of a million payments updates payments and balance
// transactions written days before (a refund, a payout's sweep); with 64
// MiB rather than 8 the writer found those pages in its cache often enough
// to spend a seventh less time in SQLite (BENCHMARKS.md). Readers keep
// DSN's 8 MiB: a reconciliation reads on three connections.
const DefaultWriterCache = 64 << 20

// BulkWriterCache is the writer's page cache for a transaction that adds
// a few hundred megabytes: a month of payments recorded at once. A
// provider's ids come in no order, so each payment, entry and request
// goes into its key's index at a random place; once those indexes outgrow
// the cache (about 250 MB at a million payments), SQLite spills pages to
// the write-ahead log and reads them back, again and again. Recording a
// million payments with a provider's ids took 127–133 s with 64 MiB and
// 96–101 s with 256 MiB (512 MiB and 1 GiB: 114 s); with ids in order,
// 57 and 56 s. It costs where the indexes fit anyway, each page of the
// larger cache being fresh memory: 100,000 payments took 7.3 s with 64
// MiB and 8.3 s with 256 (BENCHMARKS.md, eighth round).
const BulkWriterCache = 256 << 20

// writerTempStore keeps the writer's temporary files in memory, above all
// its statement journals. Inside a transaction SQLite copies every page a
// multi-row statement changes to a journal of that statement, so that a
// failing row can undo the statement alone; past 64 KiB that journal goes
// to a temporary file, one system call and one copy into the kernel for
// each page. Recording a month of 100,000 payments in one transaction
// wrote 76,163 pages (624 MB) to that file, more than to the write-ahead
// log (BENCHMARKS.md, twelfth round). A journal lives only as long as its
// statement, so memory holds at most the pages of one statement. Readers
// keep SQLite's default: their large sorts may still spill to disk.
const writerTempStore = "PRAGMA temp_store = MEMORY"

// PageSize is the page size of the databases Open creates: 8 KiB rather
// than SQLite's 4 KiB. A night's work touches rows all over a big file (a
// first reconciliation moves the dates of a quarter of the balance
// transactions); with half as many pages to read, write to the WAL and
// checkpoint, that run took 19 s instead of 25 at a million payments, and
// an import 3.8 s instead of 5.1 (BENCHMARKS.md). 16 KiB did no better
// there and cost a third of the speed of one-entry transactions. A
// database keeps the page size it was created with.
const PageSize = 8192

// initFile gives the empty database file at path its page size and WAL
// mode. The page size must come first: entering WAL mode writes the
// database's header, and with it the page size. Another process that opens
// the file in between gives it the default page size, which works as well,
// only slower.
func initFile(path string) error { return initFileMode(path, "WAL") }

// initFileMode is initFile with the journal mode named.
func initFileMode(path, journal string) error {
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer db.Close()
	pragmas := []string{fmt.Sprintf("PRAGMA page_size = %d", PageSize), "PRAGMA journal_mode = " + journal}
	if journal != "WAL" {
		// Entering WAL mode writes the header, with the page size; in
		// another mode the first write would, and VACUUM is one.
		pragmas = append(pragmas, "VACUUM")
	}
	for _, pragma := range pragmas {
		if _, err := db.Exec(pragma); err != nil {
			return fmt.Errorf("creating the database %s: %w", path, err)
		}
	}
	return db.Close()
}

// noFolderError is a database's missing folder, which OpenWith does not
// create: a mistyped path would otherwise make one. It is fs.ErrNotExist.
type noFolderError struct{ dir string }

func (e noFolderError) Error() string        { return "the folder " + e.dir + " does not exist" }
func (e noFolderError) Is(target error) bool { return target == fs.ErrNotExist }

// New returns a Store on db, an embedding application's own *sql.DB opened
// with the "sqlite3" driver (use DSN for the recommended settings), and
// applies any pending migrations, with the default Options.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	return NewWith(ctx, db, nil)
}

// NewWith is New with options (of which Mode and MustExist concern only
// OpenWith).
//
// The store keeps one connection of db's pool for its writer, and reads on
// others: a pool limited to one connection is raised to two, since every
// read would otherwise wait for a connection the writer never returns.
func NewWith(ctx context.Context, db *sql.DB, opts *Options) (*Store, error) {
	return newWith(ctx, db, opts, "")
}

// newWith is NewWith for the database file at path ("" if not known), which
// the store names while it waits to connect.
//
// Connecting runs the DSN's PRAGMA journal_mode, which waits one busy
// timeout while another process has the database to itself (an import,
// alone.go), and then fails; the store tries again as a write waits for the
// write lock.
func newWith(ctx context.Context, db *sql.DB, opts *Options, path string) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if db.Stats().MaxOpenConnections == 1 {
		db.SetMaxOpenConns(2)
		if o.Logger != nil {
			o.Logger.Info("sqlite: raised the pool's connection limit from 1 to 2: the store's writer keeps one")
		}
	}
	var w *sql.Conn
	err := waitLock(ctx, &o, path, func() (err error) {
		w, err = db.Conn(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, pragma := range []string{"PRAGMA foreign_keys = ON", fmt.Sprintf("PRAGMA busy_timeout = %d", o.busyTimeout().Milliseconds()),
		fmt.Sprintf("PRAGMA cache_size = %d", -o.writerCacheKiB()), writerTempStore} {
		if _, err := w.ExecContext(ctx, pragma); err != nil {
			w.Close()
			return nil, err
		}
	}
	s := &Store{db: db, dbx: sqlx.NewDb(db, "sqlite3"), opts: o, writer: w, stmts: map[string]*sql.Stmt{}, raw: map[string]*rawStmt{},
		accounts: map[string]int64{}, names: map[int64]string{}}
	if err := w.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&s.path); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.startCheckpointer(ctx); err != nil {
		w.Close()
		return nil, err
	}
	return s, nil
}

// startCheckpointer moves checkpoints off the writer (checkpoint.go) when
// the database is in WAL mode and the pool can lend a connection besides
// the writer's.
func (s *Store) startCheckpointer(ctx context.Context) error {
	var mode string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" || s.db.Stats().MaxOpenConnections == 1 {
		return nil
	}
	for _, pragma := range []string{fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerAutoCheckpoint),
		fmt.Sprintf("PRAGMA journal_size_limit = %d", journalSizeLimit)} {
		if _, err := s.writer.ExecContext(ctx, pragma); err != nil {
			return err
		}
	}
	s.ckpt = startCheckpointer(s.db)
	return nil
}

// DB returns the underlying database.
func (s *Store) DB() *sql.DB { return s.db }

// Path returns the database file, or "" for an in-memory database.
func (s *Store) Path() string { return s.path }

// FileMode returns the permission the store creates its files with
// (Options.Mode), for files written from the books beside it.
func (s *Store) FileMode() fs.FileMode { return s.opts.mode() }

// Close releases the store's connection, and the database if Open opened it.
func (s *Store) Close() error {
	if s.ckpt != nil {
		s.ckpt.close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.stmts {
		st.Close()
	}
	rerr := s.writer.Raw(func(any) error {
		for _, st := range s.raw {
			st.close()
		}
		return nil
	})
	err := errors.Join(rerr, s.writer.Close())
	if s.owned {
		err = errors.Join(err, s.db.Close())
	}
	if s.build != nil {
		err = s.build.finish(err)
	}
	return err
}

// migrate applies schema.sql's migrations that are not yet recorded. A
// database already up to date is only read, so that opening it never waits
// for another process's write lock.
func (s *Store) migrate(ctx context.Context) error {
	migs, err := Migrations()
	if err != nil {
		return err
	}
	if len(migs) > 0 {
		if cur, err := schemaVersion(ctx, s.writer); err == nil && cur >= migs[len(migs)-1].Version {
			return newerSchema(cur, migs)
		}
	}
	err = s.withWrite(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
			return err
		}
		cur, err := schemaVersion(ctx, q)
		if err != nil {
			return err
		}
		if err := newerSchema(cur, migs); err != nil {
			return err
		}
		for _, m := range migs {
			if m.Version <= cur {
				continue
			}
			stmts := splitStatements(m.SQL)
			if m.WhenEmpty != "" {
				var rows bool
				if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM "`+m.WhenEmpty+`")`).Scan(&rows); err != nil {
					return fmt.Errorf("Migration %d: %w", m.Version, err)
				}
				if rows {
					stmts = nil
				}
			}
			for _, stmt := range stmts {
				if _, err := q.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("Migration %d: %w", m.Version, err)
				}
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.Version, s.now().UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// A migration's temporary table (the bank marks') opens the writer's
	// temporary database, and while it is open SQLite refuses to move the
	// temporary files inside a transaction, as rebuildIndexes does for its
	// sort. Changing the setting outside one closes it; the writer then
	// keeps its files in memory again (writerTempStore). Should the first
	// change fail, sorts stay in memory, which is slower, not wrong.
	if _, err := s.writer.ExecContext(ctx, "PRAGMA temp_store = FILE"); err != nil {
		return nil
	}
	_, err = s.writer.ExecContext(ctx, writerTempStore)
	return err
}

// newerSchema refuses a database whose schema is at version cur, past the
// last of migs: a later settle migrated it, and this one would miss what
// that version stores where (a request stored by its entry's id, say).
func newerSchema(cur int, migs []Migration) error {
	if n := len(migs); n > 0 && cur > migs[n-1].Version {
		return fmt.Errorf("the database's schema is at version %d, newer than this settle's (%d): use the settle that migrated it, or a later one", cur, migs[n-1].Version)
	}
	return nil
}

// schemaVersion returns the last Migration applied, 0 for a new database.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var n, cur int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur)
	return cur, err
}

// splitStatements splits a Migration at semicolons that end a line. The
// schema has no triggers or string literals containing ";\n".
func splitStatements(sqlText string) []string {
	var out []string
	for _, part := range strings.Split(sqlText, ";\n") {
		var keep []string
		for _, line := range strings.Split(part, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
				keep = append(keep, line)
			}
		}
		if stmt := strings.TrimSuffix(strings.TrimSpace(strings.Join(keep, "\n")), ";"); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// querier is what both *sql.Conn and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// withWrite runs fn inside BEGIN IMMEDIATE … COMMIT on the writer connection,
// holding the store's writer lock.
func (s *Store) withWrite(ctx context.Context, fn func(q querier) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inWrite(ctx, false, fn)
}

// inWrite runs fn inside a write transaction: BEGIN IMMEDIATE, or BEGIN
// EXCLUSIVE for a write that has the database to itself (alone.go), which
// leaves the checkpointer alone too. Callers hold s.mu.
func (s *Store) inWrite(ctx context.Context, exclusive bool, fn func(q querier) error) error {
	beginStmt := "BEGIN IMMEDIATE"
	if exclusive {
		beginStmt = "BEGIN EXCLUSIVE"
	}
	if err := s.begin(ctx, beginStmt); err != nil {
		return err
	}
	if err := fn(s.writer); err != nil {
		if _, rerr := s.writer.ExecContext(context.Background(), "ROLLBACK"); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	if _, err := s.writer.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = s.writer.ExecContext(context.Background(), "ROLLBACK")
		return translate(err)
	}
	if s.ckpt != nil && !exclusive {
		s.ckpt.committed()
	}
	return nil
}

// stmt returns a statement prepared once on the writer connection. Callers
// hold s.mu.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := s.writer.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.stmts[query] = st
	return st, nil
}

// execRaw runs a write statement on the writer's driver connection,
// prepared once. It skips database/sql's per-call bookkeeping, which was a
// tenth of batched posting; the arguments are converted as database/sql
// would. Callers hold s.mu.
func (s *Store) execRaw(ctx context.Context, query string, args []any) (driver.Result, error) {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	var res driver.Result
	err := s.writer.Raw(func(dc any) error {
		st, err := s.prepared(ctx, dc, query)
		if err != nil {
			return err
		}
		ec, ok := st.ds.(driver.StmtExecContext)
		if !ok {
			return fmt.Errorf("the database driver's statements (%T) cannot execute with a context", st.ds)
		}
		res, err = ec.ExecContext(ctx, named)
		return err
	})
	return res, err
}

// execParams runs a write statement with packed parameters, all bound in
// one call into C (rawStmt), and returns the rows it changed: for the
// multi-row statements of bulk posting, which carry hundreds of values.
// Callers hold s.mu.
func (s *Store) execParams(ctx context.Context, query string, p *params) (int64, error) {
	var n int64
	err := s.writer.Raw(func(dc any) error {
		st, err := s.prepared(ctx, dc, query)
		if err != nil {
			return err
		}
		n, err = st.exec(ctx, p)
		return err
	})
	return n, err
}

// prepared returns query prepared once on dc, the writer's driver
// connection.
func (s *Store) prepared(ctx context.Context, dc any, query string) (*rawStmt, error) {
	if st, ok := s.raw[query]; ok {
		return st, nil
	}
	st, err := prepareRaw(ctx, dc, query)
	if err != nil {
		return nil, err
	}
	s.raw[query] = st
	return st, nil
}

// Update runs fn in one write transaction.
func (s *Store) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	var t *tx
	err := s.withWrite(ctx, func(q querier) (err error) {
		t = &tx{s: s, write: true, newAccounts: map[string]int64{}, deltas: map[int64][]currencyDelta{}, ctx: ctx}
		t.q = syncQuerier{t, q}
		// The write-behind goroutine stops before COMMIT or ROLLBACK, and
		// before a panic leaves: nothing may use the connection after.
		defer func() {
			if lerr := t.endLater(); err == nil {
				err = lerr
			}
		}()
		if err := fn(t); err != nil {
			return err
		}
		if err := t.flushPending(ctx); err != nil {
			return err
		}
		return t.restoreDropped(ctx, &t.entryKey, &t.dueIdx)
	})
	if err != nil {
		return translate(err)
	}
	if len(t.newAccounts) > 0 {
		s.accMu.Lock()
		for name, id := range t.newAccounts {
			s.accounts[name], s.names[id] = id, name
		}
		s.accMu.Unlock()
	}
	return nil
}

// View runs fn in a read transaction with a consistent snapshot.
func (s *Store) View(ctx context.Context, fn func(ledger.ReadTx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return translate(err)
	}
	defer conn.Close()
	sqltx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer sqltx.Rollback()
	return translate(fn(&tx{s: s, q: sqltx, conn: conn}))
}

// translate maps driver errors to ledger errors by error code.
func translate(err error) error {
	if err == nil || errors.Is(err, ErrLockTimeout) {
		return err
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.ExtendedCode {
		case sqlite3.ErrConstraintCheck:
			// SQLite turns an integer sum that overflows into a real
			// number, silently; the schema's typeof(…) = 'integer' checks
			// make that an error. Any other CHECK (an account's type, an
			// entry's phase) is reported as SQLite words it, naming the
			// rule it broke, as the PostgreSQL store does. The rule is in
			// the message, which the raw statements (bind_cgo.go) wrap
			// around the driver's error rather than put in it.
			if strings.Contains(err.Error(), "typeof(") {
				return fmt.Errorf("%w: an amount or balance overflowed a 64-bit integer (%v)", ledger.ErrInvalidAmount, err)
			}
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return fmt.Errorf("%w: %v", ledger.ErrInvalidState, err)
		}
		if se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked {
			return fmt.Errorf("%w (another connection held a lock for longer than the busy timeout): %w", ErrLockTimeout, err)
		}
	}
	return err
}

// now is the store's clock.
func (s *Store) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}
