package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A multi-row statement inside the writer's transaction keeps its
// statement journal in memory: with SQLite's default temp_store, the
// journal of an UPDATE of a few hundred pages goes to a temporary file,
// opened for the statement and kept open while the transaction lasts.
func TestWriterStatementJournalInMemory(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	w := s.writer
	// Pages that exist before the statement are the ones it journals; the
	// CHECK makes the UPDATE one that can fail halfway, so it needs a
	// journal at all.
	for _, q := range []string{
		`CREATE TABLE scratch (k INTEGER PRIMARY KEY, v BLOB NOT NULL CHECK (length(v) > 0))`,
		`INSERT INTO scratch (v) SELECT randomblob(1000) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) SELECT i FROM n)`,
		`BEGIN IMMEDIATE`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer w.ExecContext(ctx, `ROLLBACK`)
	before := openFiles(t)
	if _, err := w.ExecContext(ctx, `UPDATE scratch SET v = randomblob(1000)`); err != nil {
		t.Fatal(err)
	}
	// The store's own files may be opened meanwhile (the checkpointer
	// takes a connection of its own); any other file is the journal's.
	db, err := filepath.EvalSymlinks(s.path)
	if err != nil {
		t.Fatal(err)
	}
	for target, n := range openFiles(t) {
		if n > before[target] && !strings.HasPrefix(target, db) {
			t.Errorf("a multi-row UPDATE opened %s: its statement journal went to a temporary file", target)
		}
	}
}

// openFiles counts the process's open files by what they point at.
func openFiles(t *testing.T) map[string]int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	open := map[string]int{}
	for _, fd := range fds {
		// The descriptor that listed the folder is closed by now.
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil {
			open[target]++
		}
	}
	return open
}
