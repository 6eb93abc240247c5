package sqlite

import (
	"reflect"
	"slices"
	"testing"
)

// The write-behind goroutine runs the one-row inserts of entries in a
// batch as one statement, taking a later entry ahead of statements that do
// not name the entries table and of updates of entries by id, and never
// ahead of another statement on entries or a barrier.
func TestMergeRowsStopsAtStatementsOnTheTable(t *testing.T) {
	add := func(p *params, key string, amount int64) *params {
		p.int(amount)
		p.text(key)
		p.blob([]byte("{" + key + "}"))
		p.null()
		return p
	}
	row := func(key string, amount int64) *params { return add(&params{}, key, amount) }
	ins := func(key string, amount int64) laterJob {
		return laterJob{query: "INSERT INTO entries VALUES (?, ?, ?, ?)", p: row(key, amount), want: 1, rows: entryRows}
	}
	other := func(q string) laterJob { return laterJob{query: q, p: &params{}, want: -1} }
	b := []laterJob{
		ins("a", 1),
		other("INSERT INTO request_entries (entry_id) VALUES (1)"),
		ins("bb", 2),
		{query: resolveSQL, p: &params{}, want: 1, byID: true},
		ins("ccc", 3),
		other("UPDATE payments SET status = 'captured'"),
		ins("dddd", 4),
		other("DELETE FROM entries WHERE id > 3"),
		ins("e", 5),
		{barrier: make(chan struct{})},
		ins("f", 6),
	}
	w := &writeBehind{}
	query, p, want := w.mergeRows(b, 0)
	if want != 4 || query != insertEntriesSQL(false, 4) {
		t.Fatalf("merged %d rows as %.60q…, want the four before the DELETE", want, query)
	}
	var merged []int
	for i, j := range b {
		if j.merged {
			merged = append(merged, i)
		}
	}
	if !slices.Equal(merged, []int{2, 4, 6}) {
		t.Errorf("jobs %v marked merged, want [2 4 6]", merged)
	}
	var whole params // the four rows' values bound as one statement's
	for _, k := range []string{"a", "bb", "ccc", "dddd"} {
		add(&whole, k, int64(len(k)))
	}
	if got, wantVals := p.values(), whole.values(); !reflect.DeepEqual(got, wantVals) {
		t.Errorf("merged values %v, want %v", got, wantVals)
	}
	// The entry after the DELETE starts a statement of its own, which ends
	// at the barrier.
	if _, _, want := w.mergeRows(b, 8); want != 1 {
		t.Errorf("the entry after the DELETE merged %d rows, want 1", want)
	}
}

// appendParams moves each text and blob to its place in the joined buffer.
func TestAppendParamsKeepsValues(t *testing.T) {
	var a, b, joined params
	a.text("ab")
	a.int(-7)
	b.blob([]byte{1, 2, 3})
	b.text("")
	b.text("xyz")
	joined.appendParams(&a)
	joined.appendParams(&b)
	got := joined.values()
	want := []any{"ab", int64(-7), []byte{1, 2, 3}, "", "xyz"}
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Ordinal != i+1 || !reflect.DeepEqual(got[i].Value, want[i]) {
			t.Errorf("value %d: %#v (ordinal %d), want %#v", i, got[i].Value, got[i].Ordinal, want[i])
		}
	}
}
