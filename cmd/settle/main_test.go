package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// holdWriteLockMain opens the database at path, begins a write transaction,
// says "holding" on stdout, and commits after the duration hold (for
// holdWriteLock, through TestMain).
func holdWriteLockMain(path, hold string) int {
	d, err := time.ParseDuration(hold)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	err = st.Update(ctx, func(ledger.Tx) error {
		fmt.Println("holding")
		time.Sleep(d)
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// holdWriteLock starts a child process that holds the write lock of the
// database at path for d, and returns once it holds it.
func holdWriteLock(t *testing.T, path string, d time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SETTLE_TEST_HOLD_WRITE_LOCK="+path, "SETTLE_TEST_HOLD_FOR="+d.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "holding\n" {
		t.Fatalf("the lock holder said %q, %v", line, err)
	}
	return cmd
}

// demoBooks makes a database with the demo's events and Stripe export.
func demoBooks(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "books.db")
	for _, args := range [][]string{{"record", "../../testdata/demo/events.jsonl"}, {"import", "../../testdata/demo/stripe-balance-2026-11.csv"}} {
		if code, _, errOut := runCLI(t, append([]string{"--db", db}, args...)...); code != 0 {
			t.Fatalf("%s: %s", args[0], errOut)
		}
	}
	return db
}

const waitingFor = "waiting for the write lock on "

// Several settle processes writing one database while another holds its
// write lock: each waits (beyond one busy timeout), says so once on stderr
// naming the holder, and succeeds. (Before, they failed with "database is
// busy" after SQLite's one busy timeout.)
func TestProcessesWaitForTheWriteLock(t *testing.T) {
	db := demoBooks(t)
	dir := t.TempDir()
	var cmds [][]string
	for i := 0; i < 3; i++ {
		feed := writeFile(t, dir, fmt.Sprintf("feed%d.jsonl", i), fmt.Sprintf(
			`{"id":"w%d","type":"entry.posted","at":"2026-11-10T09:00:00Z","description":"owner funds","postings":[{"account":"assets:bank:ops","currency":"usd","debit":"1.00"},{"account":"equity:owner","currency":"usd","credit":"1.00"}]}`+"\n", i))
		cmds = append(cmds, []string{"--db", db, "record", feed})
	}
	cmds = append(cmds, []string{"--db", db, "reconcile"})

	const hold = 2500 * time.Millisecond // more than one busy timeout (1 s)
	holder := holdWriteLock(t, db, hold)
	held := time.Now()
	var wg sync.WaitGroup
	stderrs := make([]lockedBuffer, len(cmds))
	errs := make([]error, len(cmds))
	for i, args := range cmds {
		cmd := settleProcess(t, args...)
		cmd.Stderr = &stderrs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = cmd.Wait()
		}()
	}
	wg.Wait()
	if d := time.Since(held); d < hold-200*time.Millisecond {
		t.Errorf("the writers finished %s after the lock was taken, before it was let go", d)
	}
	for i, args := range cmds {
		errOut := stderrs[i].String()
		if errs[i] != nil {
			t.Errorf("settle %s: %v\n%s", strings.Join(args[2:], " "), errs[i], errOut)
			continue
		}
		if n := strings.Count(errOut, waitingFor); n != 1 {
			t.Errorf("settle %s said %d times that it waits, want once:\n%s", args[2], n, errOut)
		}
		if runtime.GOOS == "linux" && !strings.Contains(errOut, fmt.Sprintf("held by pid %d (", holder.Process.Pid)) {
			t.Errorf("settle %s did not name the holder, pid %d:\n%s", args[2], holder.Process.Pid, errOut)
		}
	}
	if got := balances(t, db)["equity:owner USD"]; got != "5003.00/0.00" {
		t.Errorf("equity:owner = %s, want the demo's 5000.00 and three 1.00", got)
	}
}

// A write that waits longer than --lock-timeout fails as a lock timeout,
// says how to wait longer, and does not blame the input.
func TestLockTimeoutFlag(t *testing.T) {
	db := demoBooks(t)
	holdWriteLock(t, db, 30*time.Second)
	file := writeFile(t, t.TempDir(), "stripe.csv", strings.Replace(
		mustRead(t, "../../testdata/demo/stripe-balance-2026-11.csv"), "Pro plan", "Pro plan (again)", 1))
	start := time.Now()
	code, _, errOut := runCLI(t, "--db", db, "--lock-timeout", "300ms", "import", file)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s", d)
	}
	for _, want := range []string{"gave up after", "waiting for the write lock on", "--lock-timeout"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "skip-invalid") || strings.Contains(errOut, "rejected") {
		t.Errorf("a lock timeout blamed the file:\n%s", errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// removeDB removes the database and every file SQLite keeps beside it,
// the rollback journal of an import killed while it had the database alone
// included, and minds no file that is not there.
func TestRemoveDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "books.db")
	for _, suffix := range []string{"", "-journal", "-wal"} {
		if err := os.WriteFile(path+suffix, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeDB(path); err != nil {
		t.Fatal(err)
	}
	left, err := filepath.Glob(path + "*")
	if err != nil || len(left) != 0 {
		t.Errorf("left %v (%v)", left, err)
	}
}
