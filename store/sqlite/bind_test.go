package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/settlehq/settle/ledger"
)

// rawStmt binds and steps in one call into C when it has the statement's
// handle, and through the driver otherwise; both must store the same values
// and report SQLite's errors so that translate can read them.
func TestRawStmt(t *testing.T) {
	ctx := context.Background()
	conn := tempConn(t)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, i INTEGER NOT NULL, s TEXT, b BLOB);
		CREATE TABLE e (s TEXT NOT NULL CHECK (typeof(s) = 'text'), b BLOB NOT NULL CHECK (typeof(b) = 'blob'))`); err != nil {
		t.Fatal(err)
	}
	for _, viaDriver := range []bool{false, true} {
		err := conn.Raw(func(dc any) error {
			st, err := prepareRaw(ctx, dc, `INSERT INTO t (k, i, s, b) VALUES (?, ?, ?, ?), (?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer st.close()
			if st.h == nil {
				t.Fatal("no SQLite handle for mattn/go-sqlite3's statement: the driver's layout changed")
			}
			if viaDriver {
				st.h = nil
			}
			k := "c"
			if viaDriver {
				k = "d"
			}
			var p params
			p.text(k + "1")
			p.int(-1 << 62)
			p.text("héllo, \x00 world")
			p.blob([]byte{0, 1, 2})
			p.text(k + "2")
			p.int(7)
			p.null()
			p.blob(nil)
			n, err := st.exec(ctx, &p)
			if err != nil || n != 2 {
				t.Errorf("viaDriver=%v: exec: %d rows, %v", viaDriver, n, err)
			}
			// Empty texts and blobs are not NULL, even when they are all the
			// bytes there are.
			est, err := prepareRaw(ctx, dc, `INSERT INTO e (s, b) VALUES (?, ?)`)
			if err != nil {
				return err
			}
			defer est.close()
			if viaDriver {
				est.h = nil
			}
			var e params
			e.text("")
			e.blob(nil)
			if _, err := est.exec(ctx, &e); err != nil {
				t.Errorf("viaDriver=%v: empty text and blob: %v", viaDriver, err)
			}
			// The same keys again break the primary key: the error is
			// SQLite's, with its code.
			_, err = st.exec(ctx, &p)
			var se sqlite3.Error
			if !errors.As(err, &se) || se.ExtendedCode != sqlite3.ErrConstraintPrimaryKey {
				t.Errorf("viaDriver=%v: duplicate key: %v", viaDriver, err)
			}
			if !errors.Is(translate(err), ledger.ErrInvalidState) {
				t.Errorf("viaDriver=%v: translate(%v) is not ErrInvalidState", viaDriver, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := conn.QueryContext(ctx, `SELECT k, i, COALESCE(s, 'NULL'), hex(b) FROM t ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][4]string
	for rows.Next() {
		var r [4]string
		if err := rows.Scan(&r[0], &r[1], &r[2], &r[3]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := [][4]string{
		{"c1", "-4611686018427387904", "héllo, \x00 world", "000102"}, {"c2", "7", "NULL", ""},
		{"d1", "-4611686018427387904", "héllo, \x00 world", "000102"}, {"d2", "7", "NULL", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("rows %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %q, want %q", i, got[i], want[i])
		}
	}
}

// tempStore opens a store on a new database in a temporary folder, closed
// when the test ends.
func tempStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tempConn is one connection to a fresh database file, closed with the test.
func tempConn(t *testing.T) *sql.Conn {
	t.Helper()
	db, err := sql.Open("sqlite3", DSN(filepath.Join(t.TempDir(), "t.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// SkipMemoryCount, called before any database was opened (TestMain), keeps
// SQLite from counting its memory: after a database is opened and written,
// the count is still zero. Called once SQLite has started, it reports that
// it changed nothing.
func TestSkipMemoryCount(t *testing.T) {
	ctx := context.Background()
	conn := tempConn(t)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY); INSERT INTO t VALUES ('a'), ('b')`); err != nil {
		t.Fatal(err)
	}
	if memoryCounted() {
		t.Error("SQLite counts the memory it allocates")
	}
	if SkipMemoryCount() {
		t.Error("SkipMemoryCount took effect after SQLite started")
	}
}
