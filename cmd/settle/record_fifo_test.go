//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// record reads its file once: a FIFO (or a file rewritten during the run)
// gives different bytes to a second read, and record used to validate the
// first read and then apply the second, with that pass's errors dropped.
func TestRecordReadsAFIFOOnce(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	fifo := filepath.Join(dir, "events.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	first := `{"id":"e1","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p1","provider":"stripe","currency":"usd","amount":"10.00"}` + "\n"
	second := `{"id":"e1","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p1","provider":"stripe","currency":"usd","amount":"10.00"}
{"id":"e2","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p2","provider":"stripe","currency":"usd","amount":"999.00"}
{"id":"e3","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p3","provider":"stripe","currency":"usd","amount":"+1.00"}
`
	// The writer serves first to the first reader and, unless record has
	// finished by then, second to a second reader. (It waits before it
	// opens again: an open while the first reader still reads would join
	// the two writes into one stream.)
	finished := make(chan struct{})
	go func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil { // waits for a reader
			f.WriteString(first)
			f.Close()
		}
		select {
		case <-finished:
			return
		case <-time.After(3 * time.Second):
		}
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.WriteString(second)
			f.Close()
		}
	}()
	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := runCLI(t, "--db", db, "record", fifo)
		done <- result{code, out, errOut}
	}()
	var r result
	select {
	case r = <-done:
		close(finished)
	case <-time.After(time.Minute):
		t.Fatal("record did not finish reading the FIFO")
	}
	if r.code != 0 {
		t.Fatalf("record: exit %d\n%s\n%s", r.code, r.out, r.errOut)
	}
	want := map[string]string{"assets:stripe:pending USD": "10.00/0.00", "income:sales USD": "10.00/0.00"}
	got := balances(t, db)
	if len(got) != len(want) {
		t.Fatalf("balances %v, want %v (the lines recorded are the lines read)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
}

// captureLine is one event of the feed: a capture of 10.00.
const captureLine = `{"id":"e1","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p1","provider":"stripe","currency":"usd","amount":"10.00"}` + "\n"

// buildingRecord starts settle record of a FIFO into the new database db,
// writes one line to the FIFO and holds it open, and returns once record
// builds db.new: the process, waiting for the rest of its file, and the
// FIFO's writer (closing it ends the file).
func buildingRecord(t *testing.T, db string) (*exec.Cmd, *os.File) {
	t.Helper()
	fifo := filepath.Join(filepath.Dir(db), "events.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	cmd := settleProcess(t, "--db", db, "record", fifo)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if _, err := w.WriteString(captureLine); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(db + ".new"); err == nil {
			return cmd, w
		}
		if time.Now().After(deadline) {
			t.Fatalf("record did not begin building %s.new\n%s", filepath.Base(db), stderr.String())
		}
	}
}

// record into a new database builds it beside its path: killed halfway
// (here while it waits for the rest of a FIFO), it leaves no database at
// the path, and the next run starts the build again and records it all.
func TestRecordKilledLeavesNoNewDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	cmd, _ := buildingRecord(t, db)
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("after record was killed, t.db: %v; want no database", err)
	}
	feed := writeFile(t, dir, "feed.jsonl", captureLine)
	if code, out, errOut := runCLI(t, "--db", db, "record", feed); code != 0 {
		t.Fatalf("record after the killed one: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := balances(t, db); got["income:sales USD"] != "10.00/0.00" || len(got) != 2 {
		t.Errorf("balances %v, want the one capture", got)
	}
	if _, err := os.Stat(db + ".new"); !os.IsNotExist(err) {
		t.Errorf("t.db.new: %v; want it gone once the database is in place", err)
	}
}

// A database that another command creates at the path while record builds
// one is left as it is: record fails, says where what it recorded is, and
// keeps it there.
func TestRecordLeavesADatabaseThatAppeared(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	cmd, w := buildingRecord(t, db)
	if code, out, errOut := runCLI(t, "--db", db, "init"); code != 0 {
		t.Fatalf("init while record builds: exit %d\n%s\n%s", code, out, errOut)
	}
	w.Close() // the end of record's file
	err := cmd.Wait()
	stderr := cmd.Stderr.(*strings.Builder).String()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("record: %v; want a failure\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "a database appeared at "+db) || !strings.Contains(stderr, db+".new") {
		t.Errorf("record's error does not say a database appeared, and where its own is:\n%s", stderr)
	}
	if got := balances(t, db); len(got) != 0 {
		t.Errorf("the database init made has balances %v; want it left empty", got)
	}
	if _, err := os.Stat(db + ".new"); err != nil {
		t.Errorf("what record recorded is not kept in t.db.new: %v", err)
	}
}
