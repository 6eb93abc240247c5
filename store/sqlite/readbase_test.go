package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// A write transaction's base reader sees what was committed before the
// transaction began and none of its writes, those already in the log as
// well as those it holds, while it runs on a goroutine of its own beside
// the transaction.
func TestReadBaseSeesTheStateTheTransactionBegan(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "books.db"))
	defer s.Close()
	entry := func(key string) *ledger.Entry {
		return &ledger.Entry{Key: key, Phase: ledger.Posted, OccurredAt: t0, Postings: []ledger.Posting{
			{Account: "assets:bank:ops", Currency: "usd", Amount: 100}, {Account: "equity:owner", Currency: "usd", Amount: -100}}}
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error { return tx.InsertEntry(ctx, entry("before")) }); err != nil {
		t.Fatal(err)
	}
	keys := []string{"before", "during-0", "during-4999"}
	err := s.Update(ctx, func(tx ledger.Tx) error {
		// Enough entries that the writer's cache spills some pages of
		// them into the log before the read.
		es := make([]*ledger.Entry, 5000)
		for i := range es {
			es[i] = entry(fmt.Sprintf("during-%d", i))
			es[i].Description = fmt.Sprintf("%0500d", i)
		}
		if _, err := tx.InsertEntries(ctx, es); err != nil {
			return err
		}
		own, err := tx.StoredEntryKeys(ctx, keys)
		if err != nil {
			return err
		}
		if len(own) != 3 {
			t.Errorf("the transaction sees %v of its keys %v", own, keys)
		}
		br, ok := tx.(ledger.BaseReader)
		if !ok {
			t.Fatalf("a write transaction on a database file (%T) has no base reader", tx)
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
}

// An in-memory database has one connection: it has no base reader, and
// says so rather than block or read the transaction's own writes.
func TestReadBaseRefusedInMemory(t *testing.T) {
	ctx := context.Background()
	s := open(t, ":memory:")
	defer s.Close()
	err := s.Update(ctx, func(tx ledger.Tx) error {
		br, ok := tx.(ledger.BaseReader)
		if !ok {
			return nil
		}
		called := false
		err := br.ReadBase(ctx, func(ledger.ReadTx) error { called = true; return nil })
		if !errors.Is(err, ledger.ErrNoBaseReader) || called {
			t.Errorf("ReadBase in memory: %v, fn called: %v; want ErrNoBaseReader and no call", err, called)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
