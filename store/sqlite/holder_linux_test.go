package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// The holder of a database's write lock is found in WAL mode (the -shm
// file's write lock) and in a rollback-journal mode (the database file's
// own lock, which an import that has the database to itself holds).
func TestWriteLockHolder(t *testing.T) {
	for _, mode := range []string{"WAL", "DELETE"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.db")
			db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode="+mode)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			c, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if h := writeLockHolder(path); h.PID != 0 {
				t.Errorf("before any write, the lock is held by %s", h)
			}
			for _, q := range []string{"CREATE TABLE t (x)", "BEGIN EXCLUSIVE", "INSERT INTO t VALUES (1)"} {
				if _, err := c.ExecContext(context.Background(), q); err != nil {
					t.Fatal(err)
				}
			}
			if h := writeLockHolder(path); h.PID != os.Getpid() {
				t.Errorf("the write lock is held by %s, want this process (%d)", h, os.Getpid())
			}
			if _, err := c.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
