package sqlite_test

import (
	"bufio"
	"context"
	"errors"
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

// TestMain lets a test run this binary as a process that holds a
// database's write lock (see holdWriteLock), or that is killed in the
// middle of an import (TestExclusiveImportKilled). The tests run as the
// settle command does, without SQLite's memory count (TestSkipMemoryCount).
func TestMain(m *testing.M) {
	sqlite.SkipMemoryCount()
	if path := os.Getenv("SETTLE_TEST_HOLD_WRITE_LOCK"); path != "" {
		os.Exit(holdWriteLockMain(path, os.Getenv("SETTLE_TEST_HOLD_FOR")))
	}
	if path := os.Getenv("SETTLE_TEST_IMPORT_AND_HANG"); path != "" {
		os.Exit(importAndHangMain(path))
	}
	os.Exit(m.Run())
}

// holdWriteLockMain opens the database at path, begins a write transaction,
// says "holding" on stdout, and commits after the duration hold.
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
	return startChild(t, "holding", "SETTLE_TEST_HOLD_WRITE_LOCK="+path, "SETTLE_TEST_HOLD_FOR="+d.String())
}

// startChild runs this test binary as a child process with env added (for
// TestMain to act on), and returns once the child says want on stdout. The
// child is killed, if it still runs, when the test ends.
func startChild(t *testing.T, want string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
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
	if err != nil || line != want+"\n" {
		t.Fatalf("the child process said %q, %v; want %q", line, err, want)
	}
	return cmd
}

func newDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "books.db")
	open(t, path).Close()
	return path
}

func postOne(ctx context.Context, st *sqlite.Store, key string) error {
	_, err := ledger.New(st, nil).PostEntry(ctx, ledger.EntryInput{Key: key,
		Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("income:sales", "usd", "1")}})
	return err
}

// A write waits for another process's write lock for longer than one
// busy timeout (SQLite's single blocking wait, which used to fail it), says
// once that it waits and for whom, and succeeds when the lock is released.
// Meanwhile opening the database and reading do not wait at all.
func TestWriteWaitsForAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := newDB(t)
	const hold = 1500 * time.Millisecond
	holder := holdWriteLock(t, path, hold)
	held := time.Now()

	var mu sync.Mutex
	var waits []sqlite.LockWait
	st, err := sqlite.OpenWith(ctx, path, &sqlite.Options{BusyTimeout: 100 * time.Millisecond, LockTimeout: time.Minute,
		OnLockWait: func(w sqlite.LockWait) {
			mu.Lock()
			defer mu.Unlock()
			waits = append(waits, w)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if b, err := ledger.New(st, nil).Balance(ctx, "income:sales", "usd"); err != nil || b != 0 {
		t.Fatalf("read while another process writes: %d, %v", b, err)
	}
	if d := time.Since(held); d > hold/2 {
		t.Errorf("opening and reading took %s while another process held the write lock", d)
	}

	if err := postOne(ctx, st, "k"); err != nil {
		t.Fatalf("write after waiting: %v", err)
	}
	if d := time.Since(held); d < hold-200*time.Millisecond {
		t.Errorf("the write finished %s after the other process took the lock, before it let go (%s)", d, hold)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 1 {
		t.Fatalf("OnLockWait called %d times, want once: %+v", len(waits), waits)
	}
	w := waits[0]
	if w.Path != path || w.Timeout != time.Minute {
		t.Errorf("lock wait %+v", w)
	}
	if runtime.GOOS == "linux" {
		if w.Holder.PID != holder.Process.Pid || !strings.Contains(w.Holder.Command, "sqlite.test") {
			t.Errorf("holder %+v, want pid %d running sqlite.test", w.Holder, holder.Process.Pid)
		}
	}
}

// A write that waits longer than LockTimeout fails with ErrLockTimeout
// (naming the holder), and one whose context ends first with the context's
// error; neither waits longer than asked.
func TestLockTimeout(t *testing.T) {
	path := newDB(t)
	holder := holdWriteLock(t, path, 30*time.Second)
	for _, tc := range []struct {
		name        string
		lockTimeout time.Duration
		ctxTimeout  time.Duration
		want        error
	}{
		{"lock timeout", 400 * time.Millisecond, time.Minute, sqlite.ErrLockTimeout},
		{"no wait", -1, time.Minute, sqlite.ErrLockTimeout},
		{"context ends first", time.Minute, 400 * time.Millisecond, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctxTimeout)
			defer cancel()
			st, err := sqlite.OpenWith(ctx, path, &sqlite.Options{BusyTimeout: 100 * time.Millisecond, LockTimeout: tc.lockTimeout})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			start := time.Now()
			err = postOne(ctx, st, "k")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("gave up after %s", d)
			}
			var lte *sqlite.LockTimeoutError
			if tc.want == sqlite.ErrLockTimeout {
				if !errors.As(err, &lte) {
					t.Fatalf("%v is not a *LockTimeoutError", err)
				}
				if runtime.GOOS == "linux" && lte.Holder.PID != holder.Process.Pid {
					t.Errorf("holder %+v, want pid %d", lte.Holder, holder.Process.Pid)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", holder.Process.Pid)) && runtime.GOOS == "linux" {
					t.Errorf("message %q does not name the holder", err)
				}
			}
		})
	}
}
