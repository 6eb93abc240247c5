package sqlite_test

import (
	"context"
	"errors"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// An in-memory database has one connection: it has no base reader, and
// says so rather than block or read the transaction's own writes. (What a
// base reader of a database file sees is checked by the conformance
// suite, storetest.)
func TestReadBaseRefusedInMemory(t *testing.T) {
	ctx := context.Background()
	s := open(t, ":memory:")
	defer s.Close()
	err := s.Update(ctx, func(tx ledger.Tx) error {
		br, ok := tx.(ledger.BaseReader)
		if !ok {
			t.Fatalf("a write transaction (%T) has no ReadBase", tx)
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
