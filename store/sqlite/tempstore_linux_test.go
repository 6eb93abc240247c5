package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A multi-row statement inside the writer's transaction keeps its
// statement journal in memory: with SQLite's default temp_store, the
// journal of an UPDATE of a few hundred pages goes to a temporary file,
// opened for the statement (one more file descriptor while the transaction
// lasts).
func TestWriterStatementJournalInMemory(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
	if after := openFiles(t); after != before {
		t.Errorf("open files went from %d to %d during a multi-row UPDATE: its statement journal went to a temporary file", before, after)
	}
}

// openFiles counts the process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}
