package sqlite

import (
	"context"
	"strings"
	"testing"
)

// The UPDATE of a batch's records stored before looks each up by its key:
// a plan that reads all the provider's records for each batch made updating
// an overlapping export quadratic.
func TestUpdateRecordsLooksUpByKey(t *testing.T) {
	s := tempStore(t)
	args := make([]any, 3+len(recordCols)*recordBatch)
	for i := range args {
		args[i] = int64(1)
	}
	rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+updateRecords(recordBatch), args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	got := strings.Join(plan, "; ")
	if want := "SCAN v; SEARCH r USING INDEX provider_records_key (record_id=? AND occurrence=? AND provider=? AND grain=?)"; !strings.Contains(got, want) {
		t.Errorf("plan %q, want it to contain %q", got, want)
	}
}

// Should two records of an import into an empty table share a key (the
// sink numbers repeats, so none do), building the unique index again
// fails, and with it the import: the insert's missing check is made up for
// before the transaction commits, not skipped.
func TestRebuiltIndexRefusesRepeatedKeys(t *testing.T) {
	s := tempStore(t)
	ctx := context.Background()
	err := s.withWrite(ctx, func(q querier) error {
		create, err := dropIndexesIfEmpty(ctx, q)
		if err != nil {
			return err
		}
		if len(create) != 2 {
			t.Errorf("dropped %d indexes of an empty table, want 2", len(create))
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO imports (file, sha256, format, imported_at) VALUES ('f', 'x', 'test', 0)`); err != nil {
			return err
		}
		for range 2 {
			if _, err := q.ExecContext(ctx, `INSERT INTO provider_records (provider, grain, record_id, occurrence, currency, amount, created, import_id, line, raw)
				VALUES ('stripe', 'balance', 'txn_1', 1, 'usd', 100, 1, 1, 2, 'row')`); err != nil {
				return err
			}
		}
		return rebuildIndexes(ctx, q, create)
	})
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("err %v, want the unique index refusing the repeated key", err)
	}
	var rows int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM provider_records`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d records after the failed write, %v", rows, err)
	}
	if create, err := s.DB().Query(`SELECT 1 FROM sqlite_schema WHERE name = 'provider_records_key'`); err != nil || !create.Next() {
		t.Errorf("the key index is gone after the rollback (%v)", err)
	} else {
		create.Close()
	}
}
