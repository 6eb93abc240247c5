package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// On a terminal, a large feed and a large export show a progress bar on
// stderr, and what the commands print is unchanged; off a terminal nothing
// is drawn.
func TestProgressBarsOnATerminal(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	feedFile := writeFile(t, dir, "feed.jsonl", lifecycle)
	csv := writeFile(t, dir, "itemized.csv", itemizedHeader+"\n"+
		`"txn_1","2026-11-02 09:30:00","2026-11-04 00:00:00","usd","29.99","1.17","28.82","charge","ch_1","ok"`+"\n")

	code, out, errOut := runCLI(t, "--db", db, "record", feedFile)
	if code != 0 || errOut != "" {
		t.Fatalf("off a terminal: exit %d, stderr %q", code, errOut)
	}

	was, wasMin := isTerminal, progressMin
	t.Cleanup(func() { isTerminal, progressMin = was, wasMin })
	isTerminal = func(io.Writer) bool { return true }
	progressMin = 1

	db2 := filepath.Join(dir, "t2.db")
	code, out2, errOut := runCLI(t, "--db", db2, "record", feedFile)
	if code != 0 || out2 != strings.ReplaceAll(out, db, db2) {
		t.Fatalf("record on a terminal: exit %d, stdout %q, want %q; stderr %q", code, out2, out, errOut)
	}
	if !strings.Contains(errOut, "recording "+feedFile+"   0%") {
		t.Errorf("record drew no progress bar: %q", errOut)
	}
	code, out, errOut = runCLI(t, "--db", db2, "import", csv)
	if code != 0 || !strings.Contains(out, "1 added") {
		t.Fatalf("import on a terminal: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "importing "+csv+"   0%") {
		t.Errorf("import drew no progress bar: %q", errOut)
	}
}
