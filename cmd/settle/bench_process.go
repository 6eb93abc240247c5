package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// processSizes are the payments of the month each whole-process run
// records, imports, reconciles and runs the nightly job on.
var (
	processSizes      = []int{10_000, 100_000, 1_000_000}
	quickProcessSizes = []int{1_000, 3_000}
)

// recordRuns is how many times record runs, each on a new database, at
// every size, the median run reported and every run's wall time shown. The
// growth of the per-event cost is measured against the smallest size,
// whose run of under a second moved by half from one bench to the next
// (BENCHMARKS.md, "Eleventh round"). The largest size ran once until the
// thirty-fourth round; it runs as often as the others since, so that the
// growth compares medians with medians, and the million's own run moved
// by a tenth or more from one run to the next on this machine.
const recordRuns = 3

// importRuns is how many times import runs at every size, each into a copy
// of the recorded books but the last, the median run reported: at the
// million it takes seconds, and one run moved by a fifth with the
// machine's phase (BENCHMARKS.md, "Twenty-fifth round").
const importRuns = 3

// childRun is one run of the settle binary as a child process.
type childRun struct {
	wall   time.Duration
	maxRSS uint64 // bytes
	// inherited is the bench's own peak RSS when the child started: Linux
	// keeps it across exec, so a child's maxRSS is never below it.
	inherited uint64
	out       string
	user, sys time.Duration // the child's processor time (getrusage)
	// parent is the processor time the bench itself spent while the child
	// ran: its runtime's collector and scavenger, which share the
	// machine's two processors with the child.
	parent time.Duration
}

// selfCPU is the processor time this process has spent, user and system.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpu is the processor time the child spent, as the bench prints it: a
// run slower than another in the same time of CPU waited (for the disk,
// for a processor the machine gave to someone else), one slower in more
// did more or did it slower.
func (c childRun) cpu() string {
	return fmt.Sprintf("CPU %s user + %s system (the bench's own meanwhile: %s)", dur(c.user), dur(c.sys), dur(c.parent))
}

// runWalls is the wall time of each run, in the order they ran.
func runWalls(runs []childRun) string {
	walls := make([]string, len(runs))
	for i, r := range runs {
		walls[i] = fmt.Sprintf("%s (CPU %s; the bench's %s)", dur(r.wall), dur(r.user+r.sys), dur(r.parent))
	}
	return strings.Join(walls, ", ")
}

// rss is the child's peak RSS as the table shows it: "≤" marks one that did
// not pass the peak it inherited, its own peak being lower by an unknown
// amount.
func (c childRun) rss() string {
	if c.maxRSS <= c.inherited {
		return "≤ " + mib(c.maxRSS)
	}
	return mib(c.maxRSS)
}

// child runs settle (this executable) with args and measures its wall time
// and peak resident set size (getrusage of the child). It first waits for
// the kernel to write back what earlier steps left in its cache (sync):
// copying the recorded books, or a step's final checkpoint, leaves a
// gigabyte or two to write, and a run measured while that goes on was
// seconds slower than the same run after it (BENCHMARKS.md, "Seventh
// round"), charged for writes that were not its own.
func (b *bencher) child(ctx context.Context, args ...string) (childRun, error) {
	exe, err := os.Executable()
	if err != nil {
		return childRun{}, err
	}
	syscall.Sync()
	cmd := exec.CommandContext(ctx, exe, args...)
	// Under go test the executable is the test binary, whose TestMain
	// runs settle when asked; settle itself ignores the variable.
	cmd.Env = append(os.Environ(), "SETTLE_TEST_AS_MAIN=1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	inherited := maxRSS()
	before := selfCPU()
	start := time.Now()
	err = cmd.Run()
	r := childRun{wall: time.Since(start), inherited: inherited, out: out.String(), parent: selfCPU() - before}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = uint64(ru.Maxrss) << 10
		r.user, r.sys = time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
	}
	if err != nil {
		return r, fmt.Errorf("settle %s: %w\n%s", strings.Join(args, " "), err, r.out)
	}
	return r, nil
}

// processRow is one size's whole-process figures.
type processRow struct {
	payments, events, rows int
	record, imp, recon     childRun
	records                []childRun // every run of record; record is the median one
	day                    childRun   // record of the next day into a copy of the month's books
	dayEvents              int
	importRuns             int      // how many times import ran; imp is the median run
	again                  childRun // reconcile once more: nothing new, no dates to adopt
	// The report reconciled against books that hold none of it (imported
	// into a new database): every record an exception, opened by the first
	// run and refreshed by the second.
	unbooked, unbookedAgain childRun
	serve                   childRun
	serveErr                error
	// The month's bank statement (a deposit for each USD payout paid)
	// imported into the nightly books before serve --once, mapping the
	// bank's ledger account (which marks the entries that reach it); and a
	// second serve --once, a quiet night: its default week's window (today,
	// months after the generated month) holds nothing new, and the bank is
	// reconciled over all of time, as every night.
	deposits          int
	bankImport, quiet childRun
	quietErr          error
	// What an accountant runs on the month's books: verify, the journal
	// report and the hledger export, and how many postings the journal
	// holds (its rows).
	verify, journal, export childRun
	postings                int
}

// steps are where the reconciliations and the nightly job spent their
// time, by their own account, or why that could not be read.
func (r processRow) steps() (recon, again, unbooked, unbookedAgain, serve string) {
	show := func(k *app.TookMS, err error) string {
		if err != nil {
			return err.Error()
		}
		return stepString(k)
	}
	recon = show(reconcileSteps(r.recon.out))
	again = show(reconcileSteps(r.again.out))
	unbooked = show(reconcileSteps(r.unbooked.out))
	unbookedAgain = show(reconcileSteps(r.unbookedAgain.out))
	if r.serveErr != nil {
		return recon, again, unbooked, unbookedAgain, "(failed)"
	}
	steps, err := nightlySteps(r.serve.out)
	if err != nil {
		return recon, again, unbooked, unbookedAgain, err.Error()
	}
	return recon, again, unbooked, unbookedAgain, formatSteps(steps)
}

// process measures what a user runs: the settle binary as a child
// process, on a generated month of payments at each size: record the
// feed, import the provider's itemized report, reconcile, and on a copy of
// the recorded books the nightly job (serve --once) importing the same
// report from its inbox, reconciling and writing the reports.
func (b *bencher) process(ctx context.Context) error {
	sizes := processSizes
	if b.quick {
		sizes = quickProcessSizes
	}
	for _, n := range sizes {
		r, err := b.processOne(ctx, n)
		if err != nil {
			return err
		}
		b.procRows = append(b.procRows, r)
	}
	return nil
}

func (b *bencher) processOne(ctx context.Context, n int) (processRow, error) {
	dir := filepath.Join(b.dir, fmt.Sprintf("process-%d", n))
	defer os.RemoveAll(dir)
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o700); err != nil {
		return processRow{}, err
	}
	feedName, csvName := filepath.Join(dir, "feed.jsonl"), filepath.Join(dir, "itemized.csv")
	b.progress("whole process, %s payments: generating", count(n))
	sum, err := generateFiles(n, feedName, csvName, b.randomIDs)
	if err != nil {
		return processRow{}, err
	}
	r := processRow{payments: n, events: sum.Events, rows: sum.ExportRows}
	db := filepath.Join(dir, "books.db")
	b.progress("whole process, %s payments: settle record", count(n))
	records, err := b.runRecords(ctx, db, feedName, recordRuns)
	if err != nil {
		return r, err
	}
	r.record, r.records = median(records), records
	b.progress("whole process, %s payments: settle record of the next day", count(n))
	if r.day, r.dayEvents, err = b.recordDay(ctx, n, sum.Start, db, dir); err != nil {
		return r, err
	}
	// The nightly job runs on a copy of the recorded books (closed, so the
	// database file holds everything), its inbox holding the report.
	nightly := filepath.Join(dir, "nightly.db")
	if err := copyFile(db, nightly); err != nil {
		return r, err
	}
	if err := copyFile(csvName, filepath.Join(inbox, "balance_change_from_activity.itemized.csv")); err != nil {
		return r, err
	}
	b.progress("whole process, %s payments: settle import", count(n))
	imports, err := b.runImports(ctx, db, csvName, importRuns)
	if err != nil {
		return r, err
	}
	r.imp, r.importRuns = median(imports), len(imports)
	b.progress("whole process, %s payments: settle reconcile", count(n))
	if r.recon, err = b.child(ctx, "--db", db, "reconcile", "--provider", generate.Provider, "--from", "2000-01-01", "--format", "json"); err != nil {
		return r, err
	}
	b.progress("whole process, %s payments: settle reconcile again", count(n))
	if r.again, err = b.child(ctx, "--db", db, "reconcile", "--provider", generate.Provider, "--from", "2000-01-01", "--format", "json"); err != nil {
		return r, err
	}
	if err := b.readBooks(ctx, &r, db, dir); err != nil {
		return r, err
	}
	if err := b.reconcileUnbooked(ctx, &r, csvName, dir); err != nil {
		return r, err
	}
	b.progress("whole process, %s payments: settle import of the bank statement", count(n))
	statement := filepath.Join(dir, "statement.xml")
	if r.deposits, err = writeBankStatement(ctx, nightly, statement); err != nil {
		return r, err
	}
	if r.bankImport, err = b.child(ctx, "--db", nightly, "import", "--bank-account", benchBankAccount+"="+benchBankLedger, statement); err != nil {
		return r, err
	}
	b.progress("whole process, %s payments: settle serve --once", count(n))
	r.serve, r.serveErr = b.child(ctx, "--db", nightly, "serve", "--once", "--inbox", inbox,
		"--outbox", filepath.Join(dir, "outbox"), "--lookback", "8760h")
	if r.serveErr == nil {
		b.progress("whole process, %s payments: settle serve --once, a quiet night", count(n))
		r.quiet, r.quietErr = b.child(ctx, "--db", nightly, "serve", "--once", "--inbox", inbox,
			"--outbox", filepath.Join(dir, "outbox"))
	}
	b.progress("")
	return r, nil
}

// The bench's bank account, and the ledger account it maps to: where the
// generated feed books its provider's paid payouts.
const (
	benchBankAccount = "DE89370400440532013000"
	benchBankLedger  = "assets:bank:" + generate.Provider
)

// writeBankStatement writes to path a camt.053 statement of the books at
// db: a deposit for each USD payout paid, on its arrival date, naming it,
// as a bank shows what a provider pays out. It returns the deposits.
func writeBankStatement(ctx context.Context, db, path string) (int, error) {
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	s := &generate.Statement{Account: benchBankAccount, Currency: "usd", ID: "BENCH-1"}
	err = ledger.New(st, nil).View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachPayout(ctx, generate.Provider, func(p *ledger.Payout) error {
			if p.Status != ledger.PayoutPaid || p.Currency != "usd" {
				return nil
			}
			on := p.ArrivalDate.UTC().Truncate(24 * time.Hour)
			if s.From.IsZero() || on.Before(s.From) {
				s.From = on
			}
			if on.After(s.Through) {
				s.Through = on
			}
			s.Lines = append(s.Lines, generate.StatementLine{Date: on, Amount: p.Amount, BankRef: "B" + p.ID,
				CustomerRef: p.ProviderRef, Text: "STRIPE PAYOUT " + p.ProviderRef})
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	if len(s.Lines) == 0 {
		return 0, fmt.Errorf("bench: no USD payout paid in %s", db)
	}
	var buf bytes.Buffer
	if err := generate.WriteCamt053(&buf, s); err != nil {
		return 0, err
	}
	return len(s.Lines), os.WriteFile(path, buf.Bytes(), 0o600)
}

// readBooks runs what an accountant runs on the month's recorded,
// imported and reconciled books at db: settle verify, the journal report
// to a file, and the hledger export to a file; it counts the journal's
// postings (its rows but the header) and removes both files.
func (b *bencher) readBooks(ctx context.Context, r *processRow, db, dir string) error {
	n := count(r.payments)
	journal, export := filepath.Join(dir, "journal.csv"), filepath.Join(dir, "books.journal")
	defer os.Remove(journal)
	defer os.Remove(export)
	var err error
	b.progress("whole process, %s payments: settle verify", n)
	if r.verify, err = b.child(ctx, "--db", db, "verify"); err != nil {
		return err
	}
	b.progress("whole process, %s payments: settle report journal", n)
	if r.journal, err = b.child(ctx, "--db", db, "report", "journal", "--out", journal); err != nil {
		return err
	}
	if r.postings, err = countLines(journal); err != nil {
		return err
	}
	r.postings--
	b.progress("whole process, %s payments: settle export hledger", n)
	r.export, err = b.child(ctx, "--db", db, "export", "hledger", "--out", export)
	return err
}

// reconcileUnbooked imports the report into a new database, whose books
// hold none of it, and reconciles it twice there: the first run opens an
// exception for every record, the second finds each again and refreshes it.
func (b *bencher) reconcileUnbooked(ctx context.Context, r *processRow, report, dir string) error {
	n := count(r.payments)
	db := filepath.Join(dir, "unbooked.db")
	defer removeDB(db)
	b.progress("whole process, %s payments: settle import into books that hold none of it", n)
	if _, err := b.child(ctx, "--db", db, "import", report); err != nil {
		return err
	}
	reconcile := func() (childRun, error) {
		return b.child(ctx, "--db", db, "reconcile", "--provider", generate.Provider, "--from", "2000-01-01", "--format", "json")
	}
	var err error
	b.progress("whole process, %s payments: settle reconcile, every record an exception", n)
	if r.unbooked, err = reconcile(); err != nil {
		return err
	}
	b.progress("whole process, %s payments: settle reconcile again, every exception refreshed", n)
	r.unbookedAgain, err = reconcile()
	return err
}

// countLines counts the lines of a file.
func countLines(name string) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, buf := 0, make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// recordDay records the day after the month of n payments that began at
// start (generateFiles' month: its last payments come on day ⌈n / perDay⌉),
// its daily payments under ids the month does not hold, into a copy of the
// month's recorded books at db, as a team recording its events every night
// does, and returns the run and the day's events.
func (b *bencher) recordDay(ctx context.Context, n int, start time.Time, db, dir string) (childRun, int, error) {
	perDay := monthPerDay(n)
	days := (n + perDay - 1) / perDay
	name := filepath.Join(dir, "day.jsonl")
	f, err := os.Create(name)
	if err != nil {
		return childRun{}, 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	// Every kind of id numbers fewer than ten a payment in a month.
	sum, err := generate.Generate(generate.Options{Payments: perDay, PerDay: perDay, Start: start.AddDate(0, 0, days),
		TailDays: 1, DiffRate: 0.001, StripeDates: true, RandomIDs: b.randomIDs, IDBase: 10 * n}, generate.Output{Feed: w})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return childRun{}, 0, err
	}
	books := filepath.Join(dir, "day.db")
	if err := copyFile(db, books); err != nil {
		return childRun{}, 0, err
	}
	r, err := b.child(ctx, "--db", books, "record", "--format", "json", name)
	err = errors.Join(err, removeDB(books), os.Remove(name))
	return r, sum.Events, err
}

// runRecords runs settle record of feed runs times, each on a new
// database at db (the last run's stays for the steps after it), and returns
// the runs.
func (b *bencher) runRecords(ctx context.Context, db, feed string, runs int) ([]childRun, error) {
	all := make([]childRun, 0, runs)
	for i := range runs {
		if i > 0 {
			if err := removeDB(db); err != nil {
				return nil, err
			}
		}
		r, err := b.child(ctx, "--db", db, "record", "--format", "json", feed)
		if err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	return all, nil
}

// runImports runs settle import of report runs times, into a copy of the
// recorded books at db each time but the last, which imports into db for
// the steps after it, and returns the runs.
func (b *bencher) runImports(ctx context.Context, db, report string, runs int) ([]childRun, error) {
	all := make([]childRun, 0, runs)
	for i := range runs {
		into := db
		if i < runs-1 {
			into = db + ".import"
			if err := copyFile(db, into); err != nil {
				return nil, err
			}
		}
		r, err := b.child(ctx, "--db", into, "import", report)
		if into != db {
			err = errors.Join(err, removeDB(into))
		}
		if err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	return all, nil
}

// median is the run of median wall time.
func median(runs []childRun) childRun {
	runs = slices.Clone(runs)
	slices.SortFunc(runs, func(x, y childRun) int { return cmp.Compare(x.wall, y.wall) })
	return runs[len(runs)/2]
}

// monthPerDay is how many payments a day the bench's month of n brings:
// n spread over 30 days, at least 1,000 a day.
func monthPerDay(n int) int { return max(1000, n/30) }

// generateFiles writes a month of n payments: the feed and the itemized
// report, with random or numbered ids.
func generateFiles(n int, feedName, csvName string, randomIDs bool) (*generate.Summary, error) {
	ff, err := os.Create(feedName)
	if err != nil {
		return nil, err
	}
	defer ff.Close()
	cf, err := os.Create(csvName)
	if err != nil {
		return nil, err
	}
	defer cf.Close()
	fw, cw := bufio.NewWriterSize(ff, 1<<20), bufio.NewWriterSize(cf, 1<<20)
	sum, err := generate.Generate(generate.Options{Payments: n, PerDay: monthPerDay(n), DiffRate: 0.001, StripeDates: true, RandomIDs: randomIDs},
		generate.Output{Feed: fw, ItemizedCSV: cw})
	if err != nil {
		return nil, err
	}
	if err := fw.Flush(); err != nil {
		return nil, err
	}
	if err := cw.Flush(); err != nil {
		return nil, err
	}
	if err := ff.Close(); err != nil {
		return nil, err
	}
	return sum, cf.Close()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// printProcess writes the whole-process table: per size, each command's
// rate, wall time and peak RSS, and the growth of the per-event cost of
// record from the smallest size to the largest.
func (b *bencher) printProcess() {
	rows := b.procRows
	fmt.Fprintln(b.a.stdout, "\nWhole process: the settle binary as a child process (wall time, max RSS from getrusage), on a generated month:")
	tw := tabwriter.NewWriter(b.a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PAYMENTS\tCOMMAND\tMEASURED\tWALL\tMAX RSS\tTARGET")
	for _, r := range rows {
		p := count(r.payments)
		rate := func(n int, d time.Duration) string { return count(int(float64(n) / d.Seconds())) }
		runs := ""
		if len(r.records) > 1 {
			runs = fmt.Sprintf(", median of %d runs", len(r.records))
		}
		fmt.Fprintf(tw, "%s\tsettle record (%s events%s)\t%s events/s\t%s\t%s\t≥ 50,000 events/s at 1M\n", p, count(r.events), runs,
			rate(r.events, r.record.wall), dur(r.record.wall), r.record.rss())
		fmt.Fprintf(tw, "%s\trecord of the next day (%s events) into the month's books\t%s events/s\t%s\t%s\t\n", p, count(r.dayEvents),
			rate(r.dayEvents, r.day.wall), dur(r.day.wall), r.day.rss())
		fmt.Fprintf(tw, "%s\tsettle import (%s rows, close included, median of %d runs)\t%s rows/s\t%s\t%s\t≥ 250,000 rows/s\n", p,
			count(r.rows), r.importRuns, rate(r.rows, r.imp.wall), dur(r.imp.wall), r.imp.rss())
		fmt.Fprintf(tw, "%s\tsettle reconcile (%s × %s), first run: adopts the provider's dates\t%s\t%s\t%s\t≤ 10 s, ≤ 1.5 GB at 1M\n",
			p, count(r.rows), count(r.rows), dur(r.recon.wall), dur(r.recon.wall), r.recon.rss())
		fmt.Fprintf(tw, "%s\tsettle reconcile again (nothing new to adopt)\t%s\t%s\t%s\t≤ 10 s, ≤ 1.5 GB at 1M\n",
			p, dur(r.again.wall), dur(r.again.wall), r.again.rss())
		fmt.Fprintf(tw, "%s\tsettle reconcile, books that hold none of the report (%s × 0): an exception a record\t%s\t%s\t%s\t\n",
			p, count(r.rows), dur(r.unbooked.wall), dur(r.unbooked.wall), r.unbooked.rss())
		fmt.Fprintf(tw, "%s\tsettle reconcile, those books once more: every exception refreshed\t%s\t%s\t%s\t\n",
			p, dur(r.unbookedAgain.wall), dur(r.unbookedAgain.wall), r.unbookedAgain.rss())
		serve := dur(r.serve.wall)
		if r.serveErr != nil {
			serve += " (" + firstLine(r.serveErr.Error()) + ")"
		}
		fmt.Fprintf(tw, "%s\tsettle import of the month's bank statement (%s deposits), mapping its ledger account\t%s\t%s\t%s\t\n", p,
			count(r.deposits), dur(r.bankImport.wall), dur(r.bankImport.wall), r.bankImport.rss())
		fmt.Fprintf(tw, "%s\tsettle serve --once (import, reconcile, the bank, reports)\t%s\t%s\t%s\t\n", p, serve, dur(r.serve.wall), r.serve.rss())
		quiet := dur(r.quiet.wall)
		if r.quietErr != nil {
			quiet += " (" + firstLine(r.quietErr.Error()) + ")"
		}
		fmt.Fprintf(tw, "%s\tsettle serve --once again, a quiet night (a week with nothing new; the bank over all of time)\t%s\t%s\t%s\t\n", p, quiet,
			dur(r.quiet.wall), r.quiet.rss())
		fmt.Fprintf(tw, "%s\tsettle verify (every invariant of the reconciled books)\t%s\t%s\t%s\t\n", p,
			dur(r.verify.wall), dur(r.verify.wall), r.verify.rss())
		fmt.Fprintf(tw, "%s\tsettle report journal --out (%s postings)\t%s postings/s\t%s\t%s\t\n", p, count(r.postings),
			rate(r.postings, r.journal.wall), dur(r.journal.wall), r.journal.rss())
		fmt.Fprintf(tw, "%s\tsettle export hledger --out (the same postings)\t%s postings/s\t%s\t%s\t\n", p,
			rate(r.postings, r.export.wall), dur(r.export.wall), r.export.rss())
	}
	tw.Flush()
	var inherited uint64
	for _, r := range rows {
		for _, c := range []childRun{r.record, r.day, r.imp, r.recon, r.again, r.unbooked, r.unbookedAgain, r.bankImport, r.serve,
			r.quiet, r.verify, r.journal, r.export} {
			inherited = max(inherited, c.inherited)
		}
	}
	fmt.Fprintf(b.a.stdout, "(a child's max RSS is at least its parent's peak when it started, up to %s here, which Linux keeps across exec; "+
		"≤ marks a child that did not pass it, whose own peak was lower)\n", mib(inherited))
	if len(rows) >= 2 {
		first, last := rows[0], rows[len(rows)-1]
		per := func(r processRow) float64 { return r.record.wall.Seconds() / float64(r.events) }
		fmt.Fprintf(b.a.stdout, "record: per-event cost at %s payments / at %s: %.2f (target ≤ 1.3)\n",
			count(last.payments), count(first.payments), per(last)/per(first))
	}
	fmt.Fprintln(b.a.stdout, "\nWhere the time went, by the commands' own timings (the rest of the wall time: starting, opening the database, the checkpoint at exit):")
	tw = tabwriter.NewWriter(b.a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PAYMENTS\tCOMMAND\tWALL\tSTEPS")
	for _, r := range rows {
		p := count(r.payments)
		recon, again, unbooked, unbookedAgain, serve := r.steps()
		fmt.Fprintf(tw, "%s\trecord\t%s\t%s; %s\n", p, dur(r.record.wall), showRecordSteps(r.record.out), r.record.cpu())
		if len(r.records) > 1 {
			fmt.Fprintf(tw, "%s\trecord, every run\t\t%s\n", p, runWalls(r.records))
		}
		fmt.Fprintf(tw, "%s\trecord of the next day\t%s\t%s\n", p, dur(r.day.wall), showRecordSteps(r.day.out))
		fmt.Fprintf(tw, "%s\treconcile, first run\t%s\t%s\n", p, dur(r.recon.wall), recon)
		fmt.Fprintf(tw, "%s\treconcile again\t%s\t%s\n", p, dur(r.again.wall), again)
		fmt.Fprintf(tw, "%s\treconcile, an exception a record\t%s\t%s\n", p, dur(r.unbooked.wall), unbooked)
		fmt.Fprintf(tw, "%s\treconcile again, every exception refreshed\t%s\t%s\n", p, dur(r.unbookedAgain.wall), unbookedAgain)
		fmt.Fprintf(tw, "%s\tserve --once\t%s\t%s\n", p, dur(r.serve.wall), serve)
	}
	tw.Flush()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
