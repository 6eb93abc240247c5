// Command settle is the command line of the settle ledger: record payment
// events, import provider exports, reconcile, report and export.
//
// Each subcommand lives in its own file and stays thin over the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/postgres"
	"github.com/settlehq/settle/store/sqlite"
)

func main() {
	// SETTLE_CPUPROFILE names a file for a CPU profile of the whole run (go
	// tool pprof): how the figures in BENCHMARKS.md were profiled.
	// SETTLE_TRACE names a file for an execution trace (go tool trace;
	// -pprof=syscall shows the wall time a CPU profile does not: time in
	// SQLite's reads, writes and fsyncs). SETTLE_MEMPROFILE names a file
	// for a profile of the run's allocations (go tool pprof -sample_index
	// alloc_space), written as it ends. Any of them may be set.
	var stops []func()
	var allocs io.Writer
	for _, p := range []struct {
		env   string
		start func(io.Writer) error
		stop  func()
	}{
		{"SETTLE_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile},
		{"SETTLE_TRACE", trace.Start, trace.Stop},
		{"SETTLE_MEMPROFILE", func(w io.Writer) error { allocs = w; return nil },
			func() { _ = pprof.Lookup("allocs").WriteTo(allocs, 0) }},
	} {
		name := os.Getenv(p.env)
		if name == "" {
			continue
		}
		f, err := os.Create(name)
		if err == nil {
			err = p.start(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "settle:", err)
			os.Exit(exitError)
		}
		stops = append(stops, func() { p.stop(); f.Close() })
	}
	// Huge pages are advice: a kernel without them refuses it (EINVAL),
	// and the command runs as well, only with more page faults.
	beforeBulk = func() { adviseHugePages(hugeHeap) }
	sqlite.SkipMemoryCount()
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	for _, stop := range stops {
		stop()
	}
	os.Exit(code)
}

// Exit codes.
const (
	exitOK         = 0
	exitError      = 1
	exitUsage      = 2
	exitExceptions = 3
)

// usageError is a mistake in how settle was called; it exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCodeError carries a specific exit code with its message.
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }

// store is what the commands need of a store: SQLite's or PostgreSQL's.
type store interface {
	app.Store
	io.Closer
	// Empty reports whether the store holds no books (settings aside).
	Empty(ctx context.Context) (bool, error)
}

// cli holds what every subcommand shares: where the database is and the
// ledger once opened.
type cli struct {
	dbPath string
	stdout io.Writer
	stderr io.Writer
	// isTerminal reports whether stderr is a terminal (for progress bars).
	isTerminal bool
	// now is the clock; tests replace it.
	now func() time.Time

	store store
	books *ledger.Ledger
	ran   bool // the command's own code started (so an error is not a usage error)

	// lockTimeout is how long a write waits for another process's write
	// lock (--lock-timeout); 0 does not wait.
	lockTimeout time.Duration
	// groupReadable makes the files settle creates 0640 instead of 0600.
	groupReadable bool
	// writerCache is the SQLite store's writer cache in bytes (0: the
	// store's default); settle record raises it for a large feed.
	writerCache int64
	// createsDB is set for the commands that may create a missing database.
	createsDB bool
	// buildNew has a missing SQLite database built beside its path and put
	// there when the store closes (sqlite.Options.BuildNew); settle record
	// sets it.
	buildNew bool
	// exclusiveImport lets an import take a SQLite database for itself
	// while nothing else has it open (sqlite.Options.ExclusiveImport);
	// settle import sets it.
	exclusiveImport bool
}

// creatingCommands are the commands that create a missing database; every
// other one fails on it, so that a mistyped --db is not taken for empty books.
var creatingCommands = map[string]bool{"init": true, "record": true, "import": true, "demo": true}

// bulkCommands are the commands that may read or write millions of rows,
// and beforeBulk what the process does first for them: main sets it to
// adviseHugePages (hugepages_linux.go); tests, which run many commands in
// one process, leave it nil. bench is not among them: its inner figures
// are the library's, and its whole-process figures run these commands as
// child processes.
var (
	bulkCommands = map[string]bool{"record": true, "import": true, "reconcile": true, "serve": true, "verify": true,
		"report": true, "export": true, "demo": true}
	beforeBulk func()
)

// ledger opens the database and returns the ledger. Only creatingCommands
// create a missing database (or PostgreSQL schema), and no command creates
// its folder.
func (a *cli) ledger(ctx context.Context) (*ledger.Ledger, error) {
	if a.books != nil {
		return a.books, nil
	}
	st, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	a.store = st
	a.books = ledger.New(st, &ledger.Options{Now: a.now})
	return a.books, nil
}

// open opens the store --db names: PostgreSQL for a postgres:// or
// postgresql:// URL, else a SQLite file.
func (a *cli) open(ctx context.Context) (store, error) {
	if postgres.IsURL(a.dbPath) {
		st, err := postgres.Open(ctx, a.dbPath, &postgres.Options{MustExist: !a.createsDB})
		if errors.Is(err, postgres.ErrNoSchema) {
			return nil, fmt.Errorf("%w at %s; run settle init, or check --db or $SETTLE_DB", err, a.dbName())
		}
		if err != nil {
			return nil, fmt.Errorf("%w\n(check --db or $SETTLE_DB)", err)
		}
		return st, nil
	}
	opts := &sqlite.Options{LockTimeout: a.lockTimeout, Mode: a.fileMode(), MustExist: !a.createsDB, WriterCache: a.writerCache,
		BuildNew: a.buildNew, ExclusiveImport: a.exclusiveImport,
		OnLockWait: func(w sqlite.LockWait) {
			fmt.Fprintf(a.stderr, "settle: waiting for the write lock on %s, held by %s; waiting up to %s (--lock-timeout)\n",
				a.dbPath, w.Holder, w.Timeout)
		}}
	if a.lockTimeout <= 0 {
		opts.LockTimeout = -1
	}
	st, err := sqlite.OpenWith(ctx, a.dbPath, opts)
	if errors.Is(err, sqlite.ErrNoDatabase) {
		return nil, fmt.Errorf("no database at %s; run settle init, or check --db or $SETTLE_DB", a.dbPath)
	}
	if err != nil {
		return nil, fmt.Errorf("%w\n(check --db or $SETTLE_DB)", err)
	}
	return st, nil
}

// dbName is --db as settle prints it: a URL without its password.
func (a *cli) dbName() string {
	if postgres.IsURL(a.dbPath) {
		if u, err := url.Parse(a.dbPath); err == nil {
			return u.Redacted()
		}
	}
	return a.dbPath
}

// fileMode is the permission of the files settle creates: the database and
// the reports and exports written with --out.
func (a *cli) fileMode() fs.FileMode {
	if a.groupReadable {
		return 0o640
	}
	return 0o600
}

func (a *cli) close() { a.closeStore() }

// closeStore closes the store, if open, and says whether that went well:
// a new database that record built beside its path is put there by the
// close.
func (a *cli) closeStore() error {
	if a.store == nil {
		return nil
	}
	err := a.store.Close()
	a.store, a.books = nil, nil
	return err
}

// streamingGC tunes the garbage collector for a command whose live heap
// stays small however long its input or output (record and import stream
// their files; report, export and verify stream the books): collecting at
// 5× the live heap rather than 2× spends a fifth of the CPU less on
// collection (record, measured; the hledger export of a month of a million
// payments 4.9 s rather than 5.7–6.7 s) for a few tens of MiB more, and a
// soft limit of 1 GiB brings the usual pace back if the heap grows.
func streamingGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(1 << 30)
	}
}

// matchingGC tunes the garbage collector for a command that holds both
// sides of a reconciliation in memory at once (reconcile, serve): a million
// ledger balance transactions and a million provider records are some 600
// MiB live, and collecting at 1.5× the live heap rather than 2× has the
// matching reuse the memory that loading freed instead of faulting in
// fresh pages. A first reconciliation of a million payments peaked at
// 1,113–1,139 MiB rather than 1,350–1,359, and ran 5% faster over five
// interleaved pairs (BENCHMARKS.md, twenty-fourth round). Below about 1.4×
// the extra collections cost more CPU than the pages saved.
//
// A run that finds a difference in nearly every record also holds a
// million outcomes and the exceptions planned from them: its peak RSS was
// 1.3–1.7 GiB, by when the collector happened to run. A soft limit of
// matchingMemoryLimit has it collect sooner there (a million such records:
// 1,309–1,366 MiB instead of 1,479–1,652, the run after 1,443–1,499
// instead of 1,843, in about the same time; BENCHMARKS.md, thirtieth
// round) and changes nothing for a usual run, whose heap stays below it. Books larger than a million
// records go past it and have the collector work harder (up to half the
// CPU); GOMEMLIMIT set in the environment is left alone, as GOGC is.
func matchingGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(matchingMemoryLimit)
	}
}

// matchingMemoryLimit is matchingGC's soft limit of the Go heap.
const matchingMemoryLimit = 1200 << 20

// removeDB removes a SQLite database file, its write-ahead log and
// shared-memory files, and the rollback journal an import that had it alone
// may have left (were that journal left beside a new database of the same
// name, SQLite would roll it into it); files that are not there are no
// error.
func removeDB(path string) error {
	for _, suffix := range []string{"-journal", "", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func defaultDB() string {
	if v := os.Getenv("SETTLE_DB"); v != "" {
		return v
	}
	return "settle.db"
}

// newRoot builds the command tree.
func newRoot(a *cli) *cobra.Command {
	root := &cobra.Command{
		Use:   "settle",
		Short: "A double-entry ledger and reconciliation engine for payments",
		Long: `settle books payments, captures, refunds, fees, disputes and payouts as balanced
journal entries, imports payment providers' exports, reconciles the two, and
writes reports accountants can open.

The database is ./settle.db, or $SETTLE_DB, or --db: a SQLite file, or a
PostgreSQL URL (postgres://user@host:5432/db, tables in schema "settle" or the
URL's ?schema=). init, record, import and demo create it (a file, not its
folder; a schema, not the database); other commands need it to exist. Files settle
creates (the database, --out reports and exports) are readable by their owner
only, or by the group too with --group-readable.

A write to a SQLite file waits for another settle process writing it for up to
--lock-timeout, and says so once. On PostgreSQL many processes write at once.`,
		Example: `  settle demo                       # see the whole pipeline on sample data
  settle record events.jsonl         # record payment events
  settle balance assets:stripe       # balances of an account and its subaccounts
  settle report trial-balance        # the trial balance as a table`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			a.ran = true
			top := cmd
			for top.HasParent() && top.Parent().HasParent() {
				top = top.Parent()
			}
			a.createsDB = creatingCommands[top.Name()]
			if bulkCommands[top.Name()] && beforeBulk != nil {
				beforeBulk()
			}
		},
	}
	root.PersistentFlags().StringVar(&a.dbPath, "db", defaultDB(),
		"SQLite database file, or a PostgreSQL URL postgres://user@host/db[?schema=name] (default $SETTLE_DB or ./settle.db)")
	root.PersistentFlags().DurationVar(&a.lockTimeout, "lock-timeout", sqlite.DefaultLockTimeout,
		"how long a write waits while another process writes the database (0: fail at once)")
	root.PersistentFlags().BoolVar(&a.groupReadable, "group-readable", false, "create files readable by the group too (0640, not 0600)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\nRun '%s --help' for usage.", err, cmd.CommandPath())}
	})
	for _, add := range commands {
		root.AddCommand(add(a))
	}
	return root
}

// commands lists the constructors of the subcommands; each file adds its
// own in an init-free way by appearing here.
var commands = []func(*cli) *cobra.Command{
	newInitCmd,
	newRecordCmd,
	newBalanceCmd,
	newVerifyCmd,
	newImportCmd,
	newReconcileCmd,
	newExceptionsCmd,
	newServeCmd,
	newDemoCmd,
	newReportCmd, newExportCmd,
	newBenchCmd,
}

// isTerminal reports whether w is a terminal. A variable, so that the
// tests can draw the progress bars into a buffer.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// run executes settle with args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	a := &cli{stdout: stdout, stderr: stderr, now: time.Now, isTerminal: isTerminal(stderr)}
	defer a.close()
	root := newRoot(a)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "settle:", err)
	if errors.Is(err, sqlite.ErrLockTimeout) {
		fmt.Fprintln(stderr, "Another process is writing the database; try again later, or wait longer with --lock-timeout.")
	}
	var ue usageError
	var ce exitCodeError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &ue) || !a.ran:
		if !errors.As(err, &ue) {
			fmt.Fprintln(stderr, "Run 'settle --help' for usage.")
		}
		return exitUsage
	default:
		return exitError
	}
}
