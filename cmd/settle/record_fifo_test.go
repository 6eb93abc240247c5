//go:build unix

package main

import (
	"os"
	"path/filepath"
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
