package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// The bulk UPDATEs of balance transactions are OR FAIL (updateBTs), which
// is safe only while no constraint can refuse the columns they set: a
// statement stopped halfway is then never one of theirs. This fails when a
// foreign key, a unique index or a CHECK comes to cover one of those
// columns, so that whoever adds it reconsiders OR FAIL.
func TestBulkUpdatedColumnsHaveNoConstraints(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	set := map[string]bool{"available_on": true, "available_on_estimated": true, "payout_id": true, "status": true}
	db := s.DB()

	for _, c := range []struct {
		what, query, always string // always: a column the query must name, to show it read something
	}{
		// bt_core has one (entry_id), which shows the query reads them.
		{"a foreign key", `SELECT 'fk', "from" FROM pragma_foreign_key_list('bt_settlements')
			UNION ALL SELECT 'fk', "from" FROM pragma_foreign_key_list('bt_core')`, "entry_id"},
		{"a unique index", `SELECT il.name, ii.name FROM pragma_index_list('bt_settlements') AS il
			JOIN pragma_index_info(il.name) AS ii WHERE il."unique" = 1`, "id"},
	} {
		covered := constrainedColumns(t, db, c.query)
		if covered[c.always] == "" {
			t.Errorf("%s: nothing read (%s is missing)", c.what, c.always)
		}
		for col, by := range covered {
			if set[col] {
				t.Errorf("%s (%s) covers bt_settlements.%s", c.what, by, col)
			}
		}
	}

	var table string
	if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'bt_settlements'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(table), "CHECK") {
		t.Errorf("bt_settlements has a CHECK constraint:\n%s", table)
	}
}

// constrainedColumns runs a query of (constraint, column) rows and returns
// each column with the constraint that covers it.
func constrainedColumns(t *testing.T, db *sql.DB, query string) map[string]string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var by, col string
		if err := rows.Scan(&by, &col); err != nil {
			t.Fatal(err)
		}
		out[col] = by
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
