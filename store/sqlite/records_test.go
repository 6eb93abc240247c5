package sqlite

import (
	"strings"
	"testing"

	"github.com/settlehq/settle/provider"
)

// The workbench's reads of records seek, whatever the size of the table:
// an exception's record is found through the key index (the created index,
// which SQLite prefers for the order, walks every record of the provider:
// 190 ms an exception among a million), an import's records (for
// booking them) through the import index, each pair of RecordGrains by one
// seek of the created index, the records since a run's last by row id,
// and a run's span of records by a seek at each end of the time index.
func TestRecordLookupsSeek(t *testing.T) {
	s := tempStore(t)
	query, args := recordQuery(provider.RecordFilter{Provider: "stripe", Grain: provider.BalanceGrain, RecordID: "txn_1"})
	if got, want := queryPlan(t, s, query, args...), "SEARCH r USING INDEX provider_records_key (record_id=?"; !strings.Contains(got, want) {
		t.Errorf("an exception's record: plan %q, want it to contain %q", got, want)
	}
	query, args = recordQuery(provider.RecordFilter{ImportID: 3, NoRaw: true})
	if got, want := queryPlan(t, s, query, args...), "SEARCH r USING INDEX provider_records_import (import_id=?)"; !strings.Contains(got, want) {
		t.Errorf("an import's records: plan %q, want it to contain %q", got, want)
	}
	for _, c := range []struct {
		query string
		args  []any
		want  string
	}{
		{nextGrainQuery, []any{"stripe", "balance"}, "SEARCH provider_records USING COVERING INDEX provider_records_created (provider=? AND grain>?)"},
		{nextProviderQuery, []any{"stripe"}, "SEARCH provider_records USING COVERING INDEX provider_records_created (provider>?)"},
		// The records imported since the last run, by row id from there;
		// all of them, through the time index.
		{recordsSinceQuery(100), []any{"stripe", "balance", 100}, "SEARCH provider_records USING INTEGER PRIMARY KEY (rowid>?)"},
		{recordsSinceQuery(0), []any{"stripe", "balance", 0}, "SEARCH provider_records USING COVERING INDEX provider_records_created (provider=? AND grain=?)"},
		// A run's span of records: a seek at each end.
		{recordSpanQuery, []any{"stripe", "balance"}, "SCAN CONSTANT ROW; SCALAR SUBQUERY 1; SEARCH provider_records USING COVERING INDEX provider_records_created (provider=? AND grain=?); SCALAR SUBQUERY 2; SEARCH provider_records USING COVERING INDEX provider_records_created (provider=? AND grain=?)"},
	} {
		if got := queryPlan(t, s, c.query, c.args...); got != c.want {
			t.Errorf("plan %q, want %q", got, c.want)
		}
	}
}
