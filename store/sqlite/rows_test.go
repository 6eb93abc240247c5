package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// rawRows must read what database/sql reads, value for value, across
// batches, with a row larger than its buffer, NULLs, and an early close
// that leaves the connection usable.
func TestRawRowsReadsWhatDatabaseSQLReads(t *testing.T) {
	ctx := context.Background()
	conn := tempConn(t)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, n INTEGER, b BLOB, f INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const rows = 20_000 // about 1 MiB packed: several batches
	for i := 1; i <= rows; i++ {
		var s, n, b any = fmt.Sprintf("text %d é", i), int64(i * -7), []byte{byte(i), 0, byte(i >> 8)}
		switch {
		case i%97 == 0:
			s, n, b = nil, nil, nil
		case i == 12_345:
			s = strings.Repeat("x", 3*rawRowsBuffer) // larger than a batch
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, ?, ?, ?)`, i, s, n, b, i%2); err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		id   int64
		s    sql.NullString
		n    sql.NullInt64
		b    []byte
		flag bool
	}
	read := func(src rowSource) []row {
		t.Helper()
		defer src.Close()
		var out []row
		for src.Next() {
			var r row
			if err := src.Scan(&r.id, &r.s, &r.n, &r.b, &r.flag); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		if err := src.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	const q = `SELECT id, s, n, b, f FROM t WHERE id > ? ORDER BY id`
	raw, err := queryRows(ctx, conn.Raw, func() (*sql.Rows, error) { t.Fatal("fell back to database/sql"); return nil, nil }, q, []any{0})
	if err != nil {
		t.Fatal(err)
	}
	got := read(raw)
	plain, err := conn.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := read(plain)
	if len(got) != rows || len(want) != rows {
		t.Fatalf("read %d rows raw and %d through database/sql, want %d", len(got), len(want), rows)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.id != w.id || g.s != w.s || g.n != w.n || string(g.b) != string(w.b) || (g.b == nil) != (w.b == nil) || g.flag != w.flag {
			t.Fatalf("row %d: raw %+v, database/sql %+v", i+1, g, w)
		}
	}

	// Closed after one row: the statement is finalized and the connection
	// goes on.
	early, err := queryRows(ctx, conn.Raw, nil, q, []any{rows - 5})
	if err != nil {
		t.Fatal(err)
	}
	if !early.Next() {
		t.Fatal("no row")
	}
	if err := early.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != rows {
		t.Fatalf("after an early close: %d rows, %v", n, err)
	}

	// A NULL into a plain string is an error, as database/sql's is.
	nulls, err := queryRows(ctx, conn.Raw, nil, `SELECT s FROM t WHERE id = 97`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nulls.Close()
	var s string
	if !nulls.Next() || nulls.Scan(&s) == nil {
		t.Error("a NULL scanned into a string without an error")
	}
}
