package sqlite

import (
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
