package ledger_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// sale is entry i of a bulk load: 1.00 + i cents of sales to one of seven
// customers, in usd or eur.
func sale(i int) ledger.EntryInput {
	cur := []string{"usd", "eur"}[i%2]
	amount := fmt.Sprintf("%d.%02d", 1+i/100, i%100)
	return ledger.EntryInput{Key: fmt.Sprintf("sale-%d", i), OccurredAt: t0.Add(time.Duration(i) * time.Second),
		Description: fmt.Sprintf("Sale %d", i), Postings: []ledger.PostingInput{
			ledger.Debit(fmt.Sprintf("assets:receivables:c%d", i%7), cur, amount), ledger.Credit("income:sales", cur, amount)}}
}

// A batch large enough to be validated on several CPUs reports the first
// bad entry, as a one-by-one pass would, and writes nothing.
func TestPostEntriesLargeBatchReportsFirstBadEntry(t *testing.T) {
	e := newEnv(t, nil)
	ins := make([]ledger.EntryInput, 1500)
	for i := range ins {
		ins[i] = sale(i)
	}
	ins[1200].Postings[0].Amount = dec("0.001") // more decimals than usd has: invalid amount
	ins[700].Postings = ins[700].Postings[:1]   // one posting: unbalanced
	ins[701].Postings[1].Account = "sales"      // not an account name
	before := dump(t, e.store.DB())
	_, err := e.l.PostEntries(e.ctx, ins)
	if !errors.Is(err, ledger.ErrUnbalanced) || !strings.Contains(err.Error(), `entry 701 of 1500 ("sale-700")`) {
		t.Fatalf("PostEntries = %v; want entry 701's ErrUnbalanced", err)
	}
	if after := dump(t, e.store.DB()); after != before {
		t.Errorf("a rejected batch changed the database:\n%s", diffDumps(before, after))
	}
}

// Replays mixed into a large batch, across the store's multi-row chunks,
// return the stored entries; only the new entries are written and counted
// in the balances.
func TestPostEntriesPartialReplay(t *testing.T) {
	e := newEnv(t, nil)
	first := make([]ledger.EntryInput, 0, 600)
	for i := 0; i < 1200; i += 2 {
		first = append(first, sale(i))
	}
	stored := must(e.l.PostEntries(e.ctx, first)).ok(t)
	ids := map[string]int64{}
	for _, en := range stored {
		ids[en.Key] = en.ID
	}
	all := make([]ledger.EntryInput, 1200)
	for i := range all {
		all[i] = sale(i)
	}
	out := must(e.l.PostEntries(e.ctx, all)).ok(t)
	seen := map[int64]bool{}
	for i, en := range out {
		if en.Key != all[i].Key {
			t.Fatalf("result %d is entry %q, want %q", i, en.Key, all[i].Key)
		}
		if id, old := ids[en.Key]; old != en.Replayed || (old && en.ID != id) {
			t.Errorf("%s: id %d replayed %v; stored before as %d", en.Key, en.ID, en.Replayed, id)
		}
		if seen[en.ID] {
			t.Errorf("%s: id %d given twice", en.Key, en.ID)
		}
		seen[en.ID] = true
		if len(en.Postings) != 2 {
			t.Errorf("%s: %d postings", en.Key, len(en.Postings))
		}
	}
	var want int64 // usd sales, minor units: entries 0, 2, …, 1198
	for i := 0; i < 1200; i += 2 {
		want += int64(100 + i)
	}
	if got := must(e.l.Balance(e.ctx, "income:sales", "usd")).ok(t); got != want {
		t.Errorf("usd sales = %d, want %d (each entry once)", got, want)
	}
	e.verify(t)

	// The same key with other content, anywhere in a large batch, is a
	// conflict, and nothing of the batch is written.
	again := make([]ledger.EntryInput, 1200)
	for i := range again {
		again[i] = sale(i + 1200)
	}
	again[777] = sale(3)
	again[777].Description = "changed"
	before := dump(t, e.store.DB())
	if _, err := e.l.PostEntries(e.ctx, again); !errors.Is(err, ledger.ErrIdempotencyConflict) {
		t.Fatalf("PostEntries with a changed replay = %v; want ErrIdempotencyConflict", err)
	}
	if after := dump(t, e.store.DB()); after != before {
		t.Errorf("a conflicting batch changed the database:\n%s", diffDumps(before, after))
	}
}

// EachEntry's account filter keeps the entries with a posting to the
// account or one of its subaccounts (by segment: assets:bank is not a
// parent of assets:bankx), both for an account with few subaccounts and
// for a parent of more than the store looks up by id.
func TestEachEntryAccountFilter(t *testing.T) {
	e := newEnv(t, nil)
	var ins []ledger.EntryInput
	for i := range 100 {
		ins = append(ins, ledger.EntryInput{Key: fmt.Sprintf("k%d", i), OccurredAt: t0.Add(time.Duration(i) * time.Minute),
			Postings: []ledger.PostingInput{ledger.Debit(fmt.Sprintf("assets:customers:c%d", i), "usd", "1"),
				ledger.Credit("income:sales", "usd", "1")}})
	}
	ins = append(ins,
		ledger.EntryInput{Key: "bank", OccurredAt: t0, Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank", "usd", "5"), ledger.Credit("equity:capital", "usd", "5")}},
		ledger.EntryInput{Key: "bankx", OccurredAt: t0, Postings: []ledger.PostingInput{
			ledger.Debit("assets:bankx", "usd", "5"), ledger.Credit("equity:capital", "usd", "5")}},
		ledger.EntryInput{Key: "bank-ops", OccurredAt: t0, Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", "5"), ledger.Credit("equity:capital", "usd", "5")}})
	must(e.l.PostEntries(e.ctx, ins)).ok(t)
	keys := func(account string) []string {
		var out []string
		err := e.l.View(e.ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(e.ctx, ledger.EntryFilter{Account: account}, func(en *ledger.Entry) error {
				out = append(out, en.Key)
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		account string
		want    int
		first   string
	}{
		{"assets:customers:c1", 1, "k1"},   // not c10…c19
		{"assets:customers:c99", 1, "k99"}, //
		{"assets:customers:c100", 0, ""},   //
		{"assets:customers", 100, "k0"},    // 100 subaccounts: more than are looked up by id
		{"assets:customers:c", 0, ""},      // a string prefix, not a segment
		{"assets:bank", 2, "bank"},         // and assets:bank:ops, not assets:bankx
		{"assets:bankx", 1, "bankx"},       //
		{"assets:bank:ops", 1, "bank-ops"}, //
		{"income:sales", 100, "k0"},        //
		{"equity", 3, "bank"},              // a root
		{"assets:nothing", 0, ""},          // no such account
	}
	for _, tt := range tests {
		got := keys(tt.account)
		if len(got) != tt.want || (tt.want > 0 && got[0] != tt.first) {
			t.Errorf("entries touching %s: %v; want %d starting with %q", tt.account, got, tt.want, tt.first)
		}
	}
}
