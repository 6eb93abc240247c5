package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// testBaseReader: a store whose write transactions can read their base
// (ledger.BaseReader) reads, on a goroutine of its own, what was committed
// before the transaction began and none of the transaction's writes, those
// a store holds back as well as those it has written out. AdoptDates
// trusts that for every balance transaction the earlier chunks did not
// change. A store without a base reader is read in turn, which the ledger
// tests cover: there is nothing of its own to check here.
func testBaseReader(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	entry := func(key string, i int) *ledger.Entry {
		return &ledger.Entry{Key: key, Phase: ledger.Posted, OccurredAt: t0, Description: fmt.Sprintf("%0500d", i),
			Postings: []ledger.Posting{
				{Account: "assets:bank:ops", Currency: "usd", Amount: 100}, {Account: "equity:owner", Currency: "usd", Amount: -100}}}
	}
	if err := st.Update(ctx, func(tx ledger.Tx) error { return tx.InsertEntry(ctx, entry("before", 0)) }); err != nil {
		t.Fatal(err)
	}
	keys := []string{"before", "during-0", "during-4999"}
	supported := true
	err := st.Update(ctx, func(tx ledger.Tx) error {
		// Enough entries that a store's cache writes some of them out
		// before the read.
		es := make([]*ledger.Entry, 5000)
		for i := range es {
			es[i] = entry(fmt.Sprintf("during-%d", i), i)
		}
		if _, err := tx.InsertEntries(ctx, es); err != nil {
			return err
		}
		own, err := tx.StoredEntryKeys(ctx, keys)
		if err != nil {
			return err
		}
		if len(own) != len(keys) {
			t.Errorf("the transaction sees %v of its keys %v", own, keys)
		}
		br, ok := tx.(ledger.BaseReader)
		if !ok {
			supported = false
			return nil
		}
		type answer struct {
			made map[string]bool
			err  error
		}
		got := make(chan answer, 1)
		go func() {
			var a answer
			a.err = br.ReadBase(ctx, func(r ledger.ReadTx) error {
				var err error
				a.made, err = r.StoredEntryKeys(ctx, keys)
				return err
			})
			got <- a
		}()
		a := <-got
		if errors.Is(a.err, ledger.ErrNoBaseReader) {
			supported = false
			return nil
		}
		if a.err != nil {
			return a.err
		}
		if !a.made["before"] || a.made["during-0"] || a.made["during-4999"] {
			t.Errorf("the base reader saw %v of %v; want only the committed key, before", a.made, keys)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !supported {
		t.Skip("this store's write transactions do not read their base (ledger.BaseReader)")
	}
}
