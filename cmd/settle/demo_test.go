package main

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"
)

// The demo writes sample data only into a new or empty database or its
// own; real books are refused and left as they were.
func TestDemoRefusesRealBooks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.db")
	events := writeFile(t, dir, "events.jsonl", lifecycle)
	if code, _, errOut := runCLI(t, "--db", real, "record", events); code != 0 {
		t.Fatal(errOut)
	}
	before := balances(t, real)
	code, out, errOut := runCLI(t, "--db", real, "demo")
	if code != exitError || !strings.Contains(errOut, "holds books the demo did not write") {
		t.Errorf("demo on real books: exit %d\n%s%s", code, out, errOut)
	}
	if after := balances(t, real); !maps.Equal(before, after) {
		t.Errorf("the demo changed real books:\n%v\n%v", before, after)
	}

	empty := filepath.Join(dir, "empty.db")
	if code, _, errOut := runCLI(t, "--db", empty, "init"); code != 0 {
		t.Fatal(errOut)
	}
	for _, tc := range []struct{ name, db string }{
		{"new database", filepath.Join(dir, "new.db")},
		{"its own database again", filepath.Join(dir, "new.db")},
		{"empty database", empty},
	} {
		if code, _, errOut := runCLI(t, "--db", tc.db, "demo"); code != 0 {
			t.Errorf("demo on a %s: exit %d\n%s", tc.name, code, errOut)
		}
	}
}
