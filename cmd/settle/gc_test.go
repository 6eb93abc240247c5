package main

import (
	"runtime/debug"
	"testing"
)

// memoryLimit reads the collector's soft limit (a negative one changes
// nothing and answers it).
func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

// gcPercent reads the collector's pace (debug.SetGCPercent answers the
// one it replaces).
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// Each bulk command paces the collector for its shape of heap: record and
// import stream their files (streamingGC), reconcile holds both sides of
// the match (matchingGC), and so does serve, which reconciles. A GOGC the
// user set is left alone.
func TestCommandsPaceTheCollector(t *testing.T) {
	was, wasLimit := gcPercent(), memoryLimit()
	t.Cleanup(func() { debug.SetGCPercent(was); debug.SetMemoryLimit(wasLimit) })
	db := demoLedger(t) // record, then import
	if got := gcPercent(); got != 400 {
		t.Errorf("after import: GOGC %d, want 400", got)
	}
	if code, out, errOut := runCLI(t, "--db", db, "reconcile"); code != 0 {
		t.Fatalf("reconcile: exit %d\n%s%s", code, out, errOut)
	}
	if got := gcPercent(); got != 50 {
		t.Errorf("after reconcile: GOGC %d, want 50", got)
	}
	if got := memoryLimit(); got != matchingMemoryLimit {
		t.Errorf("after reconcile: memory limit %d, want %d", got, matchingMemoryLimit)
	}

	debug.SetGCPercent(100)
	inbox := t.TempDir()
	if code, out, errOut := runCLI(t, "--db", db, "serve", "--once", "--inbox", inbox, "--outbox", t.TempDir(), "--lookback", "8760h"); code != 0 {
		t.Fatalf("serve --once: exit %d\n%s%s", code, out, errOut)
	}
	if got := gcPercent(); got != 50 {
		t.Errorf("after serve --once: GOGC %d, want 50", got)
	}

	t.Setenv("GOGC", "77")
	debug.SetGCPercent(77)
	if code, out, errOut := runCLI(t, "--db", db, "reconcile"); code != 0 {
		t.Fatalf("reconcile: exit %d\n%s%s", code, out, errOut)
	}
	if got := gcPercent(); got != 77 {
		t.Errorf("reconcile under GOGC=77 set the pace to %d", got)
	}

	t.Setenv("GOMEMLIMIT", "3GiB")
	debug.SetMemoryLimit(3 << 30)
	if code, out, errOut := runCLI(t, "--db", db, "reconcile"); code != 0 {
		t.Fatalf("reconcile: exit %d\n%s%s", code, out, errOut)
	}
	if got := memoryLimit(); got != 3<<30 {
		t.Errorf("reconcile under GOMEMLIMIT=3GiB set the limit to %d", got)
	}
}
