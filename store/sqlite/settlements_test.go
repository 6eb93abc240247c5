package sqlite

import (
	"context"
	"path/filepath"
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
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set := map[string]bool{"available_on": true, "available_on_estimated": true, "payout_id": true, "status": true}
	db := s.DB()

	rows, err := db.QueryContext(ctx, `SELECT "from" FROM pragma_foreign_key_list('balance_transactions')`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for rows.Next() {
		var col string
		if err := rows.Scan(&col); err != nil {
			t.Fatal(err)
		}
		seen[col] = true
		if set[col] {
			t.Errorf("a foreign key covers balance_transactions.%s", col)
		}
	}
	rows.Close()
	if !seen["entry_id"] {
		t.Error("the foreign keys of balance_transactions were not read (entry_id's is missing)")
	}

	rows, err = db.QueryContext(ctx, `SELECT il.name, ii.name FROM pragma_index_list('balance_transactions') AS il
		JOIN pragma_index_info(il.name) AS ii WHERE il."unique" = 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var index, col string
		if err := rows.Scan(&index, &col); err != nil {
			t.Fatal(err)
		}
		seen[col] = true
		if set[col] {
			t.Errorf("the unique index %s covers balance_transactions.%s", index, col)
		}
	}
	rows.Close()
	if !seen["id"] {
		t.Error("the unique indexes of balance_transactions were not read (id's is missing)")
	}

	var table string
	if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'balance_transactions'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(table), "CHECK") {
		t.Errorf("balance_transactions has a CHECK constraint:\n%s", table)
	}
}
