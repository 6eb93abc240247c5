package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/spf13/cobra"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reports"
	"github.com/settlehq/settle/store/postgres"
	"github.com/settlehq/settle/store/sqlite"
)

// benchSizes are the sizes of one bench run.
type benchSizes struct {
	reconcile int // provider records and ledger transactions, each
	batched   int // entries posted in batches (the trial balance and journal run on them)
	single    int // entries posted one per transaction
	imported  int // payments whose itemized report is imported
	compare   int // entries of the journal given to hledger and ledger
}

var (
	fullSizes  = benchSizes{reconcile: 1_000_000, batched: 1_000_000, single: 20_000, imported: 1_000_000, compare: 200_000}
	quickSizes = benchSizes{reconcile: 10_000, batched: 10_000, single: 200, imported: 10_000, compare: 2_000}
)

// benchBatch is how many entries one PostEntries call carries.
const benchBatch = 1000

func newBenchCmd(a *cli) *cobra.Command {
	var quick, compare, calibrating bool
	var dir, ids string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure settle against its performance targets",
		Long: `Measure settle against its performance targets (BENCHMARKS.md), each on a fresh
temporary database filled by the seeded data generator (package generate),
and print one table: figure, measured, target, pass or fail.

  batched posting        PostEntries, 1,000 entries of 4 postings a transaction
  one entry per tx       PostEntry, the embedded API path
  itemized CSV import    Stripe balance_change_from_activity.itemized: digest,
                         parse, normalize and store as settle import does
                         (app.ImportFile), peak heap
  reconcile              1,000,000 provider records against 1,000,000 ledger
                         balance transactions (reconcile.MatchSides), time
                         and peak memory (sampled heap, and the process's max
                         RSS: the step runs last, and the steps before it
                         peak far lower)
  trial balance          Ledger.Balances on the batched-posting ledger
  journal CSV export     reports.Journal of that ledger to CSV

Then the whole process, as a user runs it: this binary as child processes
on a generated month of 10,000, 100,000 and 1,000,000 payments (wall time
and max RSS of each): record of the month's feed, record of the next day's
feed (the month's daily payments, under ids the month does not hold) into a
copy of the recorded books, as a nightly run records it, import of the
month's itemized report (close included), reconcile twice, what an
accountant then runs on those books (verify, report journal --out, export
hledger --out), and on a copy of the recorded books the import of a bank
statement of the month's USD payouts (mapping the bank's ledger account),
serve --once, and serve --once again: a quiet night, a week with nothing new
and the bank reconciled over all of time. At every size but the largest, record runs three
times on new databases and the median run is shown; import runs three
times at every size, twice into copies of the recorded books, and the
median run is shown. The table ends with record's per-event cost at the
largest size over the smallest.

Ids are random by default, as a provider's are (txn_3kQ…): every table and
index keyed by one fills at random places. --ids numbered gives the
generator's numbered ids (txn_00000001, in the order they were made), which
fill them in order and flatter every figure; the rounds of BENCHMARKS.md
before the eighth were measured with them.

--quick runs everything 100 times smaller, for CI and smoke tests: its
figures are not comparable with the targets. --compare also times hledger and
ledger (when installed) on the balance of the same journal, exported by
'settle export hledger', beside settle's own trial balance.

Every SQLite measurement runs on its own database in a temporary folder
(--dir), removed afterwards.

Before its steps and after them the bench prints the machine's speeds at
that moment, measured by a child process in a second or two: one CPU
hashing, the first touch of fresh memory, and synced file writes to --dir.
On a shared virtual machine the same build's figures moved by half from
one hour to the next: the lines put the machine's state beside each run.

PostgreSQL: given --db postgres://user@host/db on the command line (not
$SETTLE_DB), settle bench also measures the PostgreSQL store on that
database and prints its own table: batched posting (5,000 entries a
transaction, through COPY), one entry per transaction on one connection,
concurrent writers on 1, 2, 4 and 8 connections, settle record of a
generated month's feed (10,000 payments) in one transaction and the
journal report of the books it recorded, and the
itemized import followed by loading its records as reconciliation does and
matching them.
Each runs in a fresh schema named settle_bench_<random>, dropped
afterwards; nothing else in the database is touched. --quick applies. Any
other --db is not used.`,
		Example: `  settle bench --quick          # a smoke run in seconds
  settle bench --quick --db postgres://postgres@localhost/postgres   # and the PostgreSQL store
  settle bench                  # the full sizes: a few minutes
  settle bench --compare        # and hledger / ledger on a 200,000-entry journal`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if calibrating {
				fmt.Fprintln(a.stdout, calibrate(dir))
				return nil
			}
			if ids != "random" && ids != "numbered" {
				return fmt.Errorf("--ids is random or numbered, not %q", ids)
			}
			sizes := fullSizes
			if quick {
				sizes = quickSizes
			}
			tmp, err := os.MkdirTemp(dir, "settle-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			b := &bencher{a: a, dir: tmp, sizes: sizes, quick: quick, randomIDs: ids == "random"}
			if err := b.run(cmd.Context(), compare); err != nil {
				return err
			}
			if cmd.Flags().Changed("db") && postgres.IsURL(a.dbPath) {
				return b.pgBench(cmd.Context(), a.dbPath)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&quick, "quick", false, "sizes 100 times smaller (for CI)")
	cmd.Flags().BoolVar(&compare, "compare", false, "also time hledger and ledger on the same journal")
	cmd.Flags().StringVar(&ids, "ids", "random", "the generated data's ids: random (as a provider's) or numbered (in order)")
	cmd.Flags().StringVar(&dir, "dir", "", "where to put the temporary databases (default: the system's temporary folder)")
	// The bench runs itself with --calibrate as a child process, before and
	// after its steps, so that the memory calibrating touches does not
	// count in the parent's peak, which its children inherit.
	cmd.Flags().BoolVar(&calibrating, "calibrate", false, "only measure the machine's speeds (run by the bench itself)")
	if err := cmd.Flags().MarkHidden("calibrate"); err != nil {
		panic(err)
	}
	return cmd
}

// bencher runs the measurements and collects their rows.
type bencher struct {
	a     *cli
	dir   string
	sizes benchSizes
	quick bool
	rows  []benchRow
	// randomIDs generates ids in no order (--ids).
	randomIDs bool

	procRows []processRow // whole-process figures (bench_process.go)
}

// benchRow is one line of the results table.
type benchRow struct {
	figure, measured, target string
	pass                     bool
	note                     string
}

func (b *bencher) add(figure, measured, target string, pass bool, note string) {
	b.rows = append(b.rows, benchRow{figure, measured, target, pass, note})
}

func (b *bencher) run(ctx context.Context, compare bool) error {
	fmt.Fprintln(b.a.stdout, machine(ctx, b.dir))
	b.calibrate(ctx, "before")
	if b.randomIDs {
		fmt.Fprintln(b.a.stdout, "Generated ids: random, as a provider's (--ids numbered for the earlier rounds' data)")
	} else {
		fmt.Fprintln(b.a.stdout, "Generated ids: numbered, in order (they flatter every figure; --ids random for a provider's)")
	}
	// Reconcile last: its gigabyte of inputs, even once collected, slowed
	// the steps after it by a tenth. The process's max RSS is still the
	// reconcile step's own, as the steps before it peak far lower.
	// The whole-process runs go first: on Linux a child's max RSS starts
	// from its parent's peak (the exec keeps the high-water mark of the
	// memory it replaces), so the parent must still be small.
	steps := []func(context.Context) error{b.process, b.batched, b.single, b.importCSV, b.reconcile}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
		// Collect the step's garbage and return its memory to the system
		// now, rather than have the runtime do it during the next step.
		debug.FreeOSMemory()
	}
	b.calibrate(ctx, "after")
	b.print()
	b.printProcess()
	if compare {
		return b.compare(ctx)
	}
	return nil
}

// print writes the results table.
func (b *bencher) print() {
	tw := tabwriter.NewWriter(b.a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tMEASURED\tTARGET\tRESULT")
	met := 0
	for _, r := range b.rows {
		res := "FAIL"
		if r.pass {
			res, met = "pass", met+1
		}
		if b.quick {
			res = "(quick) " + res
		}
		line := r.figure + "\t" + r.measured + "\t" + r.target + "\t" + res
		if r.note != "" {
			line += "  " + r.note
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintf(b.a.stdout, "%d of %d targets met", met, len(b.rows))
	if b.quick {
		fmt.Fprint(b.a.stdout, " (quick sizes: not comparable with the targets)")
	}
	fmt.Fprintln(b.a.stdout)
}

// progress shows what is being measured, on a terminal only.
func (b *bencher) progress(format string, args ...any) {
	if !b.a.isTerminal {
		return
	}
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(b.a.stderr, "\r\033[K%s", msg)
	if msg == "" {
		fmt.Fprint(b.a.stderr, "\r\033[K")
	}
}

// open opens a fresh ledger database in the bench folder.
func (b *bencher) open(ctx context.Context, name string) (*sqlite.Store, *ledger.Ledger, error) {
	st, err := sqlite.Open(ctx, filepath.Join(b.dir, name))
	if err != nil {
		return nil, nil, err
	}
	return st, ledger.New(st, nil), nil
}

// discard closes a measurement's database and removes its files, so that
// the system does not write their pages back to disk during the next
// measurement.
func (b *bencher) discard(st *sqlite.Store, name string) {
	st.Close()
	removeDB(filepath.Join(b.dir, name))
}

// reconcile matches generated provider records against generated ledger
// balance transactions, 0.1% of them with differences.
func (b *bencher) reconcile(ctx context.Context) error {
	n := b.sizes.reconcile
	before := maxRSS() // the earlier steps' peak
	b.progress("reconcile: generating %s × %s", count(n), count(n))
	peak := watchHeap()
	recs, bts, diffs := generate.Pairs(generate.PairOptions{N: n, DiffRate: 0.001, RandomIDs: b.randomIDs})
	// As settle reconcile does, the matcher takes compact sides: a store
	// fills them as its rows stream, here from the generated structs,
	// which are then let go.
	ps, ls := reconcile.NewProviderSide(len(recs)), reconcile.NewLedgerSide(len(bts))
	for i := range recs {
		ps.Add(&recs[i])
	}
	for i := range bts {
		ls.Add(&bts[i])
	}
	recs, bts = nil, nil
	runtime.GC()
	b.progress("reconcile: matching %s × %s", count(ps.Len()), count(ls.Len()))
	start := time.Now()
	res := reconcile.MatchSides(ps, ls, nil)
	elapsed := time.Since(start)
	heapPeak := peak.stop()
	rss := maxRSS()
	runtime.KeepAlive(ps)
	runtime.KeepAlive(ls)
	b.progress("")
	note := fmt.Sprintf("(compact sides included, built from generated structs; %d differences injected, %d exceptions found; max RSS before this step %s)",
		len(diffs), len(res.Exceptions()), mib(before))
	if found := len(res.Exceptions()); found != len(diffs) {
		note = fmt.Sprintf("(WRONG: %d differences injected, %d exceptions found)", len(diffs), found)
	}
	const limit = 1536 << 20
	mem := max(heapPeak, rss)
	b.add(fmt.Sprintf("reconcile %s × %s", count(n), count(n)),
		fmt.Sprintf("%s, peak heap %s, max RSS %s", dur(elapsed), mib(heapPeak), mib(rss)),
		"≤ 10 s, ≤ 1.5 GB", elapsed <= 10*time.Second && mem <= limit, note)
	return nil
}

// batched posts the entries in batches, then measures the trial balance and
// the journal export on the resulting ledger.
func (b *bencher) batched(ctx context.Context) error {
	st, books, err := b.open(ctx, "batched.db")
	if err != nil {
		return err
	}
	defer b.discard(st, "batched.db")
	n := b.sizes.batched
	posting, err := b.postBatched(ctx, books, n, benchBatch, "batched posting")
	if err != nil {
		return err
	}
	rate := float64(n) / posting.Seconds()
	b.add("batched posting (1,000 a tx, 4 postings)", fmt.Sprintf("%s entries/s", count(int(rate))),
		"≥ 150,000 entries/s", rate >= 150_000, fmt.Sprintf("(%s entries in %s)", count(n), dur(posting)))

	// Trial balance: the best of several runs after a warm-up read.
	b.progress("trial balance")
	var best time.Duration
	rows := 0
	for i := range 11 {
		start := time.Now()
		bals, err := books.Balances(ctx, "")
		d := time.Since(start)
		if err != nil {
			return fmt.Errorf("trial balance: %w", err)
		}
		rows = len(bals)
		if i == 1 || (i > 1 && d < best) {
			best = d
		}
	}
	b.add(fmt.Sprintf("trial balance (%s entries)", count(n)), dur(best), "≤ 50 ms", best <= 50*time.Millisecond,
		fmt.Sprintf("(%d balances; best of 10)", rows))

	b.progress("journal CSV export")
	cw := &countWriter{}
	start := time.Now()
	w := reports.NewCSVWriter(cw)
	if err := reports.Journal(ctx, books, reports.Options{}, w); err != nil {
		return fmt.Errorf("journal export: %w", err)
	}
	if err := w.Close(); err != nil {
		return err
	}
	elapsed := time.Since(start)
	b.progress("")
	postings := 4 * n
	rate = float64(postings) / elapsed.Seconds()
	b.add("journal CSV export", fmt.Sprintf("%s postings/s", count(int(rate))), "≥ 500,000 postings/s",
		rate >= 500_000, fmt.Sprintf("(%s postings, %s MiB, in %s)", count(postings), mibN(cw.n), dur(elapsed)))
	return nil
}

// postBatched posts n generated entries through PostEntries, batch a
// call, and returns the time spent posting (generating them left out).
func (b *bencher) postBatched(ctx context.Context, books *ledger.Ledger, n, batch int, what string) (time.Duration, error) {
	var posting time.Duration
	done := 0
	err := generate.Entries(generate.EntryOptions{N: n, Batch: batch}, func(es []ledger.EntryInput) error {
		start := time.Now()
		_, err := books.PostEntries(ctx, es)
		posting += time.Since(start)
		done += len(es)
		if done%(50*batch) == 0 || done == n {
			b.progress("%s: %s of %s entries", what, count(done), count(n))
		}
		return err
	})
	b.progress("")
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return posting, nil
}

// postSingly posts n generated entries through PostEntry, one a database
// transaction, and returns the time spent posting.
func (b *bencher) postSingly(ctx context.Context, books *ledger.Ledger, n int, what string) (time.Duration, error) {
	var elapsed time.Duration
	done := 0
	err := generate.Entries(generate.EntryOptions{N: n, Batch: 100}, func(es []ledger.EntryInput) error {
		start := time.Now()
		for _, e := range es {
			if _, err := books.PostEntry(ctx, e); err != nil {
				return err
			}
		}
		elapsed += time.Since(start)
		done += len(es)
		b.progress("%s: %s of %s", what, count(done), count(n))
		return nil
	})
	b.progress("")
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return elapsed, nil
}

// single posts one entry per database transaction.
func (b *bencher) single(ctx context.Context) error {
	st, books, err := b.open(ctx, "single.db")
	if err != nil {
		return err
	}
	defer b.discard(st, "single.db")
	n := b.sizes.single
	elapsed, err := b.postSingly(ctx, books, n, "one entry per transaction")
	if err != nil {
		return err
	}
	rate := float64(n) / elapsed.Seconds()
	b.add("one entry per transaction", fmt.Sprintf("%s entries/s", count(int(rate))), "≥ 5,000 entries/s",
		rate >= 5000, fmt.Sprintf("(%s entries in %s)", count(n), dur(elapsed)))
	return nil
}

// importCSV generates an itemized report and imports it as settle import
// does (app.ImportFile): digest the file, then stream, parse, normalize
// and store it in one transaction. The time runs from opening the file to
// the commit.
func (b *bencher) importCSV(ctx context.Context) error {
	name := filepath.Join(b.dir, "balance_change_from_activity.itemized.csv")
	b.progress("import: generating the itemized report")
	if err := writeItemized(name, b.sizes.imported, b.randomIDs); err != nil {
		return err
	}
	size := fileSize(name)
	// As settle import opens it: the import has the database to itself.
	st, err := sqlite.OpenWith(ctx, filepath.Join(b.dir, "import.db"), &sqlite.Options{ExclusiveImport: true})
	if err != nil {
		return err
	}
	b.progress("import: importing %s MiB", mibN(size))
	runtime.GC()
	peak := watchHeap()
	start := time.Now()
	stats, problems, err := app.ImportFile(ctx, st, name, app.ImportOptions{Format: importers.FormatStripeItemizedCSV})
	elapsed := time.Since(start)
	heapPeak := peak.stop()
	// The import is committed. Closing the store is timed apart, and shown:
	// it would copy a write-ahead log into the database file (the
	// checkpoint a long-running process does in the background), but an
	// import that had the database to itself wrote none.
	start = time.Now()
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	closing := time.Since(start)
	removeDB(filepath.Join(b.dir, "import.db"))
	os.Remove(name)
	b.progress("")
	if err == nil && len(problems) > 0 {
		err = problems[0]
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	rate := float64(stats.Records) / elapsed.Seconds()
	b.add("Stripe itemized CSV import", fmt.Sprintf("%s rows/s, peak heap %s", count(int(rate)), mib(heapPeak)),
		"≥ 300,000 rows/s, flat memory", rate >= 300_000,
		fmt.Sprintf("(%s rows, %s MiB, in %s to commit; then %s to close)",
			count(stats.Records), mibN(size), dur(elapsed), dur(closing)))
	return nil
}

// compare times hledger and ledger on the balance of a journal exported by
// settle, beside settle's trial balance of the same entries.
func (b *bencher) compare(ctx context.Context) error {
	st, books, err := b.open(ctx, "compare.db")
	if err != nil {
		return err
	}
	defer b.discard(st, "compare.db")
	n := b.sizes.compare
	b.progress("compare: posting %s entries", count(n))
	if err := generate.Entries(generate.EntryOptions{N: n, Batch: benchBatch}, func(es []ledger.EntryInput) error {
		_, err := books.PostEntries(ctx, es)
		return err
	}); err != nil {
		return err
	}
	journal := filepath.Join(b.dir, "compare.journal")
	f, err := os.Create(journal)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := reports.ExportHledger(ctx, books, bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	b.progress("")
	fmt.Fprintf(b.a.stdout, "\nBalance of the same %s-transaction journal (%s MiB, from settle export hledger):\n",
		count(n), mibN(fileSize(journal)))
	tw := tabwriter.NewWriter(b.a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOOL\tCOMMAND\tTIME\tMAX RSS")
	for _, tool := range [][]string{{"hledger", "-f", journal, "bal"}, {"ledger", "-f", journal, "bal"}} {
		if _, err := exec.LookPath(tool[0]); err != nil {
			fmt.Fprintf(tw, "%s\t(not installed)\t\t\n", tool[0])
			continue
		}
		b.progress("compare: %s", strings.Join(tool, " "))
		cmd := exec.CommandContext(ctx, tool[0], tool[1:]...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		start := time.Now()
		err := cmd.Run()
		elapsed := time.Since(start)
		res := dur(elapsed)
		if err != nil {
			res += " (" + err.Error() + ")"
		}
		rss := ""
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = mib(uint64(ru.Maxrss) << 10)
		}
		fmt.Fprintf(tw, "%s\t%s bal\t%s\t%s\n", tool[0], tool[0]+" -f J", res, rss)
	}
	b.progress("")
	start := time.Now()
	if _, err := books.Balances(ctx, ""); err != nil {
		return err
	}
	maintained := time.Since(start)
	start = time.Now()
	if _, err := books.BalancesAsOf(ctx, "", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return err
	}
	fromPostings := time.Since(start)
	fmt.Fprintf(tw, "settle\tLedger.Balances (maintained)\t%s\t(in process)\n", dur(maintained))
	fmt.Fprintf(tw, "settle\tLedger.BalancesAsOf (summed from postings)\t%s\t(in process)\n", dur(fromPostings))
	return tw.Flush()
}

// writeItemized writes a generated Stripe itemized report of n payments to
// name, for the import measurements, with random or numbered ids.
func writeItemized(name string, n int, randomIDs bool) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if _, err := generate.Generate(generate.Options{Payments: n, PerDay: 5000, RandomIDs: randomIDs}, generate.Output{ItemizedCSV: bw}); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// machine describes where the bench runs.
func machine(ctx context.Context, dir string) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb uint64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = ", " + mib(kb<<10) + " memory"
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = ", load average " + strings.Join(f[:3], " ")
		}
	}
	sqliteVersion, _, _ := sqlite3.Version()
	return fmt.Sprintf("%s, %d CPUs%s; %s, SQLite %s%s", cpu, runtime.NumCPU(), mem, runtime.Version(), sqliteVersion, load)
}

// heapWatch samples the heap in use until stopped and keeps the peak.
type heapWatch struct {
	quit chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func watchHeap() *heapWatch {
	w := &heapWatch{quit: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			w.peak = max(w.peak, ms.HeapInuse)
			select {
			case <-w.quit:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// stop ends the sampling and returns the peak heap in use, in bytes.
func (w *heapWatch) stop() uint64 {
	close(w.quit)
	w.wg.Wait()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return max(w.peak, ms.HeapInuse)
}

// maxRSS returns the process's peak resident set size in bytes.
func maxRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return uint64(ru.Maxrss) << 10 // kilobytes on Linux
}

// countWriter counts and discards what is written.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func fileSize(name string) int64 {
	fi, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// count writes n with thousands separators: 1234567 → "1,234,567".
func count(n int) string {
	s := fmt.Sprint(n)
	var parts []string
	for len(s) > 3 {
		parts = append(parts, s[len(s)-3:])
		s = s[:len(s)-3]
	}
	parts = append(parts, s)
	slices.Reverse(parts)
	return strings.Join(parts, ",")
}

func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func mib(n uint64) string { return fmt.Sprintf("%d MiB", n>>20) }

func mibN(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }
