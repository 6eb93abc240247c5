package sqlite

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
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

// Entries booked one at a time into a new database, with a pending
// entry's resolution and bulk inserts of entries among them, are stored as
// booked, whichever statement the write-behind goroutine ran each in: every
// row its own key, date, description and postings, and the resolution
// applied to the pending entry.
func TestMergedEntriesStoredAsBooked(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	entry := func(key string, i int) *ledger.Entry {
		return &ledger.Entry{Key: key, Phase: ledger.Posted, OccurredAt: at.Add(time.Duration(i) * time.Second),
			Description: "entry " + key, Postings: []ledger.Posting{
				{Account: "assets:stripe:pending", Currency: "usd", Amount: int64(i + 1)},
				{Account: "income:sales", Currency: "usd", Amount: -int64(i + 1)}}}
	}
	want := map[string]int{} // key: its amount less one
	pendingIDs := map[string]int64{}
	resolvedBy := map[string]int64{} // a pending entry's key: the entry that resolved it
	merges := 0
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		var pendings []string
		for k := range 12 {
			pending := entry(fmt.Sprint("auth_", k), 0)
			pending.Phase = ledger.Pending
			if err := tx.InsertEntry(ctx, pending); err != nil {
				return err
			}
			pendingIDs[pending.Key], want[pending.Key] = pending.ID, 0
			pendings = append(pendings, pending.Key)
		}
		for i := 1; i <= 300; i++ {
			e := entry(fmt.Sprint("evt_", i), i)
			if err := tx.InsertEntry(ctx, e); err != nil {
				return err
			}
			want[e.Key] = i
			switch {
			case i >= 150 && i%5 == 0 && len(pendings) > 1:
				// Captures resolving authorizations, several to a batch;
				// the last one stays pending.
				k := pendings[0]
				pendings = pendings[1:]
				if err := tx.ResolvePending(ctx, pendingIDs[k], ledger.Settled, e.ID); err != nil {
					return err
				}
				resolvedBy[k] = e.ID
			case i%97 == 0:
				bulk := []*ledger.Entry{entry(fmt.Sprint("bulk_", i), 1000+i), entry(fmt.Sprint("bulk_", i, "b"), 2000+i)}
				if _, err := tx.InsertEntries(ctx, bulk); err != nil {
					return err
				}
				want[bulk[0].Key], want[bulk[1].Key] = 1000+i, 2000+i
			}
		}
		if err := tx.sync(); err != nil {
			return err
		}
		merges = tx.later.merges
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if merges == 0 {
		t.Fatal("no entry ran in another's statement: the test does not reach the merge")
	}
	rows, err := s.DB().Query(`SELECT key, occurred_at, description, postings, resolution, COALESCE(resolved_by, 0) FROM entries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var key, desc, postings, resolution string
		var occurred, by int64
		if err := rows.Scan(&key, &occurred, &desc, &postings, &resolution, &by); err != nil {
			t.Fatal(err)
		}
		i, ok := want[key]
		if !ok {
			t.Errorf("entry %q stored, not booked", key)
			continue
		}
		seen++
		ps, err := decodePostings(postings, nil)
		if err != nil {
			t.Fatal(err)
		}
		if desc != "entry "+key || occurred != at.Add(time.Duration(i)*time.Second).UnixNano() || len(ps) != 2 || ps[0].amount != int64(i+1) {
			t.Errorf("%s stored as %q at %d with %v", key, desc, occurred, ps)
		}
		wantRes, wantBy := "", resolvedBy[key]
		if wantBy != 0 {
			wantRes = string(ledger.Settled)
		}
		if resolution != wantRes || by != wantBy {
			t.Errorf("%s: resolution %q by %d, want %q by %d", key, resolution, by, wantRes, wantBy)
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the %d entries booked stored", seen, len(want))
	}
	if len(resolvedBy) != 11 {
		t.Errorf("%d pending entries resolved, want 11", len(resolvedBy))
	}
}

// A batch's resolutions of pending entries run as one UPDATE, the same
// way: taken ahead of statements that do not name the entries table and
// of entries already run as part of an earlier statement, never ahead of
// another statement on entries or a barrier.
func TestMergeRowsRunsResolutionsTogether(t *testing.T) {
	resolve := func(id int64) laterJob {
		p := &params{}
		p.text(string(ledger.Settled))
		p.int(id + 100)
		p.int(id)
		return laterJob{query: resolveSQL, p: p, want: 1, byID: true, rows: resolveRows}
	}
	ins := func() laterJob {
		p := &params{}
		p.int(1)
		return laterJob{query: insertEntrySQL, p: p, want: 1, rows: entryRows}
	}
	other := func(q string) laterJob { return laterJob{query: q, p: &params{}, want: -1} }
	b := []laterJob{
		ins(),
		resolve(1),
		ins(),
		resolve(2),
		other("INSERT INTO request_entries (entry_id) VALUES (1)"),
		resolve(3),
		other("DELETE FROM entries WHERE id > 3"),
		resolve(4),
		{barrier: make(chan struct{})},
		resolve(5),
	}
	w := &writeBehind{}
	if _, _, want := w.mergeRows(b, 0); want != 2 {
		t.Fatalf("the entries merged %d rows, want 2", want)
	}
	query, p, want := w.mergeRows(b, 1)
	if want != 3 || query != resolveEntriesSQL(3) {
		t.Fatalf("merged %d resolutions as %.60q…, want the three before the DELETE", want, query)
	}
	var whole params
	for _, i := range []int{1, 3, 5} {
		whole.appendParams(b[i].p)
	}
	if got, wantVals := p.values(), whole.values(); !reflect.DeepEqual(got, wantVals) {
		t.Errorf("merged values %v, want %v", got, wantVals)
	}
	if !b[3].merged || !b[5].merged || b[7].merged {
		t.Errorf("merged marks %v %v %v, want true true false", b[3].merged, b[5].merged, b[7].merged)
	}
	if _, _, want := w.mergeRows(b, 7); want != 1 {
		t.Errorf("the resolution after the DELETE merged %d rows, want 1", want)
	}
}

// ResolvePending hands a resolution of an entry the transaction wrote to
// the write-behind goroutine as a statement that merges: a batch's three
// run as one UPDATE, and each entry is resolved by its own.
func TestResolutionsOfABatchRunAsOneStatement(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var ids []int64
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		for i := range 3 {
			e := &ledger.Entry{Key: fmt.Sprint("auth_", i), Phase: ledger.Pending, OccurredAt: at, Postings: []ledger.Posting{
				{Account: "assets:stripe:pending", Currency: "usd", Amount: 100}, {Account: "income:sales", Currency: "usd", Amount: -100}}}
			if err := tx.InsertEntry(ctx, e); err != nil {
				return err
			}
			ids = append(ids, e.ID)
		}
		if err := tx.sync(); err != nil {
			return err
		}
		before := tx.later.ran
		for i, id := range ids {
			if err := tx.ResolvePending(ctx, id, ledger.Settled, int64(1000+i)); err != nil {
				return err
			}
		}
		if err := tx.sync(); err != nil {
			return err
		}
		if got := tx.later.ran - before; got != 1 {
			return fmt.Errorf("three resolutions ran as %d statements, want 1", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		var res string
		var by int64
		if err := s.DB().QueryRow(`SELECT resolution, resolved_by FROM entries WHERE id = ?`, id).Scan(&res, &by); err != nil {
			t.Fatal(err)
		}
		if res != string(ledger.Settled) || by != int64(1000+i) {
			t.Errorf("entry %d: resolution %q by %d, want %q by %d", id, res, by, ledger.Settled, 1000+i)
		}
	}
}
