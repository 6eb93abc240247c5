package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this binary as settle itself (see settleProcess).
func TestMain(m *testing.M) {
	if os.Getenv("SETTLE_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	if path := os.Getenv("SETTLE_TEST_HOLD_WRITE_LOCK"); path != "" {
		os.Exit(holdWriteLockMain(path, os.Getenv("SETTLE_TEST_HOLD_FOR")))
	}
	os.Exit(m.Run())
}

// settleProcess returns a command that runs settle in a child process.
func settleProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SETTLE_TEST_AS_MAIN=1")
	return cmd
}

func TestServeOnceIngestsReconcilesAndReports(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	inbox, outbox := filepath.Join(dir, "inbox"), filepath.Join(dir, "outbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../testdata/demo/stripe-balance-2026-11.csv")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, inbox, "stripe.csv", string(data))
	writeFile(t, inbox, "broken.json", `{"object":"list","data":[{"id":"txn_1","object":"balance_transaction"`)
	// A bad file whose name leaves no room for NAME.reason.txt used to stop
	// the whole job.
	long := strings.Repeat("b", 245) + ".json"
	writeFile(t, inbox, long, `{"object":"list","data":[{"id":"txn_1","object":"balance_transaction"`)
	if code, _, errOut := runCLI(t, "--db", db, "record", "../../testdata/demo/events.jsonl"); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut := runCLI(t, "--db", db, "serve", "--once", "--inbox", inbox, "--outbox", outbox, "--lookback", "100000h")
	if code != 0 {
		t.Fatalf("serve --once: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(inbox, "processed", "stripe.csv")); err != nil {
		t.Errorf("good export not moved to processed: %v", err)
	}
	reason, err := os.ReadFile(filepath.Join(inbox, "rejected", "broken.json.reason.txt"))
	if err != nil || !strings.Contains(string(reason), "broken.json:1") {
		t.Errorf("broken export: reason %q, %v", reason, err)
	}
	if _, err := os.Stat(filepath.Join(inbox, "rejected", long)); err != nil {
		t.Errorf("long-named broken export not rejected: %v", err)
	}
	runs, _ := filepath.Glob(filepath.Join(outbox, "*"))
	if len(runs) != 1 {
		t.Fatalf("outbox has %v", runs)
	}
	for _, name := range []string{"reconciliation-summary.csv", "open-exceptions.csv", "trial-balance.csv",
		"balance-transactions.csv", "payout-reconciliation.csv", "journal.csv"} {
		b, err := os.ReadFile(filepath.Join(runs[0], name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	summary, _ := os.ReadFile(filepath.Join(runs[0], "reconciliation-summary.csv"))
	if !strings.Contains(string(summary), ",stripe,balance,") || !strings.Contains(string(summary), ",13,12,10,1,1,1,1,0,0,4,0") {
		t.Errorf("summary:\n%s", summary)
	}
	exceptions, _ := os.ReadFile(filepath.Join(runs[0], "open-exceptions.csv"))
	if !strings.Contains(string(exceptions), "fee: ledger 0.85, provider 0.95") {
		t.Errorf("open exceptions:\n%s", exceptions)
	}
	// A second run with nothing new opens nothing and duplicates nothing.
	if code, _, errOut := runCLI(t, "--db", db, "serve", "--once", "--inbox", inbox, "--outbox", outbox, "--lookback", "100000h"); code != 0 {
		t.Fatal(errOut)
	}
	open := exceptionsJSON(t, db, "open")
	if len(open) != 4 {
		t.Errorf("%d open exceptions after the second run, want 4", len(open))
	}
	// Its reports went into a folder of their own, not over the first's.
	again, _ := filepath.Glob(filepath.Join(outbox, "*"))
	if len(again) != 2 {
		t.Errorf("outbox after two runs: %v", again)
	}
}

// Two runs in one minute write their reports into two folders.
func TestServeOutboxFolderPerRun(t *testing.T) {
	dir := t.TempDir()
	db, outbox := filepath.Join(dir, "t.db"), filepath.Join(dir, "outbox")
	for _, args := range [][]string{{"record", "../../testdata/demo/events.jsonl"}, {"import", "../../testdata/demo/stripe-balance-2026-11.csv"}} {
		if code, _, errOut := runCLI(t, append([]string{"--db", db}, args...)...); code != 0 {
			t.Fatal(errOut)
		}
	}
	for i := 0; i < 3; i++ {
		if code, _, errOut := runCLI(t, "--db", db, "serve", "--once", "--outbox", outbox, "--lookback", "100000h"); code != 0 {
			t.Fatalf("run %d: %s", i, errOut)
		}
	}
	runs, _ := filepath.Glob(filepath.Join(outbox, "*"))
	if len(runs) != 3 {
		t.Fatalf("three runs wrote %d folders: %v", len(runs), runs)
	}
	for _, r := range runs {
		if b, err := os.ReadFile(filepath.Join(r, "trial-balance.csv")); err != nil || len(b) == 0 {
			t.Errorf("%s: %v", r, err)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe to write from exec's copying
// goroutine while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// settle serve runs on its schedule and stops cleanly on SIGTERM.
func TestServeStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCLI(t, "--db", filepath.Join(dir, "t.db"), "init"); code != 0 {
		t.Fatal(errOut)
	}
	cmd := settleProcess(t, "--db", filepath.Join(dir, "t.db"), "serve", "--schedule", "@every 1s",
		"--inbox", filepath.Join(dir, "inbox"), "--outbox", filepath.Join(dir, "outbox"))
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(stderr.String(), "job finished") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not stop after SIGTERM\n%s", stderr.String())
	}
	// With nothing imported, each night ends "nothing was compared".
	if !strings.Contains(stderr.String(), "job started") || !strings.Contains(stderr.String(), "nothing was compared") {
		t.Errorf("no job ran, or it did not say it compared nothing:\n%s", stderr.String())
	}
}

// serve --once reconciles an export older than the lookback (every record
// imported since the last run is covered), exits 3 with
// --fail-on-exceptions, and a night with nothing to compare exits 1.
func TestServeOnceCoversOldExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	inbox, outbox := filepath.Join(dir, "inbox"), filepath.Join(dir, "outbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "--db", db, "record", "../../testdata/demo/events.jsonl"); code != 0 {
		t.Fatalf("record: %s%s", out, errOut)
	}
	b, err := os.ReadFile("../../testdata/demo/stripe-balance-2026-11.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inbox, "stripe.csv"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "--db", db, "serve", "--once", "--inbox", inbox, "--outbox", outbox,
		"--lookback", "24h", "--fail-on-exceptions")
	if code != exitExceptions || !strings.Contains(out, "matched=10 ") {
		t.Fatalf("serve --once: exit %d\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out, "mismatched=1 missing_in_ledger=1 missing_at_provider=1 duplicates=1"); n != 1 {
		t.Errorf("serve --once did not report the 4 exceptions:\n%s", out)
	}
	empty := filepath.Join(dir, "empty.db")
	if code, out, errOut := runCLI(t, "--db", empty, "init"); code != 0 {
		t.Fatalf("init: %s%s", out, errOut)
	}
	code, _, errOut = runCLI(t, "--db", empty, "serve", "--once")
	if code != exitError || !strings.Contains(errOut, "nothing was compared") {
		t.Errorf("serve --once on empty books: exit %d, %s", code, errOut)
	}
}
