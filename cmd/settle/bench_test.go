package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// settle bench --quick measures every figure of the performance table on small
// data, and the reconcile step finds exactly the differences it injected.
func TestBenchQuick(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "--quick", "--dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, figure := range []string{"batched posting", "trial balance", "journal CSV export",
		"one entry per transaction", "Stripe itemized CSV import", "reconcile 10,000 × 10,000"} {
		if !strings.Contains(out, "\n"+figure) {
			t.Errorf("no %q row in:\n%s", figure, out)
		}
	}
	m := regexp.MustCompile(`(\d+) differences injected, (\d+) exceptions found`).FindStringSubmatch(out)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("reconcile step: %v in:\n%s", m, out)
	}
	if !regexp.MustCompile(`\d of 6 targets met \(quick sizes`).MatchString(out) {
		t.Errorf("no summary line in:\n%s", out)
	}
	// The whole-process table: every command at both quick sizes.
	for _, cmd := range []string{"settle record", "settle import (", "settle reconcile (", "settle reconcile again",
		"settle import of the month's bank statement (", "settle serve --once (", "settle serve --once again, a quiet night (",
		"settle verify", "settle report journal", "settle export hledger"} {
		if n := strings.Count(out, cmd); n != 2 {
			t.Errorf("%d %q rows in:\n%s", n, cmd, out)
		}
	}
	// Where the time went: each reconciliation's steps and the nightly
	// job's parts, at both sizes.
	steps := regexp.MustCompile(`(?m)^[\d,]+ +reconcile, first run +\S+ \S+ +load \S+ \S+, match \S+ \S+, adopt \S+ \S+, store \S+ \S+$`)
	if n := len(steps.FindAllString(out, -1)); n != 2 {
		t.Errorf("%d rows of a first reconciliation's steps, want 2, in:\n%s", n, out)
	}
	// record's steps, for the month (with the processor time it took)
	// and for the next day, at both sizes; and the wall time of each of
	// the month's three runs.
	for _, row := range []string{`record +\S+ \S+ +open \S+ \S+, events \S+ \S+, commit \S+ \S+, close \S+ \S+; CPU \S+ \S+ user \+ \S+ \S+ system \(the bench's own meanwhile: \S+ \S+\)$`,
		`record of the next day +\S+ \S+ +open \S+ \S+, events \S+ \S+, commit \S+ \S+, close \S+ \S+$`,
		`record, every run +(\S+ \S+ \(CPU \S+ \S+; the bench's \S+ \S+\)(, |$)){3}`} {
		re := regexp.MustCompile(`(?m)^[\d,]+ +` + row)
		if n := len(re.FindAllString(out, -1)); n != 2 {
			t.Errorf("%d rows matching %q, want 2, in:\n%s", n, row, out)
		}
	}
	// The report against books that hold none of it: a row each for the
	// two runs, and their steps.
	for _, row := range []string{`settle reconcile, books that hold none of the report \([\d,]+ × 0\): an exception a record +\S+ \S+ `,
		`settle reconcile, those books once more: every exception refreshed +\S+ \S+ `,
		`reconcile, an exception a record +\S+ \S+ +load \S+ \S+, match \S+ \S+, adopt \S+ \S+, store \S+ \S+$`,
		`reconcile again, every exception refreshed +\S+ \S+ +load \S+ \S+, match \S+ \S+, adopt \S+ \S+, store \S+ \S+$`} {
		if n := len(regexp.MustCompile(`(?m)^[\d,]+ +`+row).FindAllString(out, -1)); n != 2 {
			t.Errorf("%d rows matching %q, want 2, in:\n%s", n, row, out)
		}
	}
	nightly := regexp.MustCompile(`(?m)^[\d,]+ +serve --once +\S+ \S+ +import \S+ \S+, upkeep \S+ \S+, reconcile \S+ \S+ \(load .*\), reports \S+ \S+$`)
	if n := len(nightly.FindAllString(out, -1)); n != 2 {
		t.Errorf("%d rows of the nightly job's parts, want 2, in:\n%s", n, out)
	}
	// The bank statement holds deposits at both sizes.
	if n := len(regexp.MustCompile(`(?m)^[\d,]+ +settle import of the month's bank statement \([1-9][\d,]* deposits\)`).FindAllString(out, -1)); n != 2 {
		t.Errorf("%d rows of a bank statement with deposits, want 2, in:\n%s", n, out)
	}
	// The next day recorded into the month's books, at both sizes.
	day := regexp.MustCompile(`(?m)^[\d,]+ +record of the next day \([\d,]+ events\) into the month's books +[\d,]+ events/s `)
	if n := len(day.FindAllString(out, -1)); n != 2 {
		t.Errorf("%d rows of the next day recorded, want 2, in:\n%s", n, out)
	}
	// What an accountant runs on the books: the journal's postings
	// counted, and both files written at that rate.
	journal := regexp.MustCompile(`(?m)^[\d,]+ +settle report journal --out \(([\d,]+) postings\) +[\d,]+ postings/s `)
	journals := journal.FindAllStringSubmatch(out, -1)
	if len(journals) != 2 {
		t.Errorf("%d rows of the journal report, want 2, in:\n%s", len(journals), out)
	}
	for _, m := range journals {
		if m[1] == "0" {
			t.Errorf("a journal of no postings in:\n%s", out)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^[\d,]+ +settle export hledger --out \(the same postings\) +[\d,]+ postings/s `).FindAllString(out, -1)); n != 2 {
		t.Errorf("%d rows of the hledger export, want 2, in:\n%s", n, out)
	}
	// record runs three times at every size.
	if n := strings.Count(out, "events, median of 3 runs)"); n != 2 {
		t.Errorf("%d record rows give a median of 3 runs, want 2:\n%s", n, out)
	}
	// import runs three times at every size.
	if n := strings.Count(out, "close included, median of 3 runs)"); n != 2 {
		t.Errorf("%d import rows give a median of 3 runs, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "record: per-event cost at 3,000 payments / at 1,000") {
		t.Errorf("no growth line in:\n%s", out)
	}
	if !strings.Contains(out, "Generated ids: random") {
		t.Errorf("the table does not say its ids are random:\n%s", out)
	}
	// The machine's speeds, measured by a child before and after the steps.
	for _, when := range []string{"before", "after"} {
		if !strings.Contains(out, "Machine "+when+": SHA-256 ") || !strings.Contains(out, "a GiB, file writes ") {
			t.Errorf("no calibration %s the steps in:\n%s", when, out)
		}
	}
}

// --ids takes random or numbered, and nothing else.
func TestBenchIDs(t *testing.T) {
	code, _, errOut := runCLI(t, "bench", "--quick", "--ids", "sequential", "--dir", t.TempDir())
	if code == 0 || !strings.Contains(errOut, `--ids is random or numbered, not "sequential"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// settle bench --quick --db postgres://… also measures the PostgreSQL store,
// in schemas of its own that it drops, and prints its own table.
func TestBenchQuickPostgres(t *testing.T) {
	server := os.Getenv("SETTLE_TEST_POSTGRES")
	if server == "" {
		t.Skip("SETTLE_TEST_POSTGRES is not set: no PostgreSQL server to test against")
	}
	code, out, errOut := runCLI(t, "bench", "--quick", "--dir", t.TempDir(), "--db", server)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("stderr: %s", errOut)
	}
	_, pg, ok := strings.Cut(out, "\nPostgreSQL (")
	if !ok {
		t.Fatalf("no PostgreSQL table in:\n%s", out)
	}
	for _, figure := range []string{"batched posting", "one entry per transaction, 1 connection",
		"concurrent writers, 1 connection", "concurrent writers, 8 connection", "settle record of a month's feed",
		"journal report of the recorded month", "verify of the recorded month", "Stripe itemized CSV import", "load records and match them"} {
		if !strings.Contains(pg, "\n"+figure) {
			t.Errorf("no %q row in:\n%s", figure, pg)
		}
	}
}

// The bench's data carry the ids --ids asks for: the month of the
// whole-process runs (feed and itemized report) and the import step's
// report.
func TestBenchDataIDs(t *testing.T) {
	dir := t.TempDir()
	firstIDs := func(name string) string { // the first data line's first 60 bytes
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(b), "\n", 3)
		line := lines[0]
		if strings.HasSuffix(name, ".csv") {
			line = lines[1]
		}
		return line[:min(60, len(line))]
	}
	for _, random := range []bool{false, true} {
		feed, report, itemized := filepath.Join(dir, "feed.jsonl"), filepath.Join(dir, "month.csv"), filepath.Join(dir, "import.csv")
		if _, err := generateFiles(20, feed, report, random); err != nil {
			t.Fatal(err)
		}
		if err := writeItemized(itemized, 20, random); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{feed, report, itemized} {
			got := firstIDs(name)
			if numbered := strings.Contains(got, "_0000000"); numbered == random {
				t.Errorf("random %v: %s begins %q", random, filepath.Base(name), got)
			}
		}
	}
}

// The bench's imports each import the whole report into books of their
// own, copies of the recorded ones, and the last into the recorded books,
// which the reconciliations then use; no copy is left behind.
func TestBenchImportRuns(t *testing.T) {
	dir := t.TempDir()
	feed, report, db := filepath.Join(dir, "feed.jsonl"), filepath.Join(dir, "itemized.csv"), filepath.Join(dir, "books.db")
	if _, err := generateFiles(300, feed, report, true); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "--db", db, "record", feed); code != 0 {
		t.Fatalf("record: exit %d\n%s%s", code, out, errOut)
	}
	b := &bencher{dir: dir}
	runs, err := b.runImports(context.Background(), db, report, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3", len(runs))
	}
	for i, r := range runs {
		if !strings.Contains(r.out, "records read") || strings.Contains(r.out, "already imported") {
			t.Errorf("run %d did not import the report:\n%s", i+1, r.out)
		}
	}
	if _, err := os.Stat(db + ".import"); !os.IsNotExist(err) {
		t.Errorf("the copy is left behind: %v", err)
	}
	if code, out, _ := runCLI(t, "--db", db, "import", report); code != 0 || !strings.Contains(out, "already imported (import 1)") {
		t.Errorf("the recorded books do not hold the report as their first import: exit %d\n%s", code, out)
	}
}

// A child's peak RSS that does not pass the peak it inherited from the
// bench is shown as a bound, not as its own.
func TestChildRunRSS(t *testing.T) {
	for _, tt := range []struct {
		c    childRun
		want string
	}{
		{childRun{maxRSS: 223 << 20, inherited: 223 << 20}, "≤ 223 MiB"},
		{childRun{maxRSS: 300 << 20, inherited: 223 << 20}, "300 MiB"},
		{childRun{maxRSS: 48 << 20}, "48 MiB"},
	} {
		if got := tt.c.rss(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.c, got, tt.want)
		}
	}
}
