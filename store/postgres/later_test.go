package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// TestLaterWrites covers the writes a transaction keeps and sends with its
// next statement (execLater): a transaction of nothing else commits them;
// more than a batch of them are all stored, and each is seen by a read that
// follows it; and one that fails inside a nested unit fails that unit
// alone, as it would have had it been sent at once, while what was kept
// before the unit stays.
func TestLaterWrites(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, nil)
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	pay := func(id string) *ledger.Payment {
		return &ledger.Payment{ID: id, Provider: "stripe", Currency: "usd", CaptureMethod: "automatic",
			Status: ledger.PaymentStatus("captured"), Authorized: 100, Captured: 100, CreatedAt: at, UpdatedAt: at,
			Metadata: map[string]string{"order": id}}
	}
	stored := func(id string) bool {
		t.Helper()
		var n int
		if err := s.db.QueryRowContext(ctx, s.sql(`SELECT count(*) FROM {schema}.payments WHERE id = $1`), id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	// Only kept writes: the commit sends them.
	if err := s.Update(ctx, func(tx ledger.Tx) error { return tx.SavePayment(ctx, pay("only")) }); err != nil {
		t.Fatal(err)
	}
	if !stored("only") {
		t.Error("a transaction that only kept a write committed without it")
	}

	// More than a batch, each read back along the way.
	const many = laterBatch*2 + 17
	err := s.Update(ctx, func(tx ledger.Tx) error {
		for i := range many {
			if err := tx.SavePayment(ctx, pay(fmt.Sprintf("m%04d", i))); err != nil {
				return err
			}
			if i%101 == 0 {
				p, err := tx.Payment(ctx, fmt.Sprintf("m%04d", i))
				if err != nil {
					return fmt.Errorf("payment %d just saved: %w", i, err)
				}
				if p.Metadata["order"] != p.ID {
					t.Errorf("payment %s read back with metadata %v", p.ID, p.Metadata)
				}
				p.Refunded = 40
				if err := tx.SavePayment(ctx, p); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n, refunded int
	if err := s.db.QueryRowContext(ctx, s.sql(`SELECT count(*), count(*) FILTER (WHERE refunded = 40)
		FROM {schema}.payments WHERE id LIKE 'm%'`)).Scan(&n, &refunded); err != nil {
		t.Fatal(err)
	}
	if n != many || refunded != (many+100)/101 {
		t.Errorf("%d payments stored, %d of them updated; want %d and %d", n, refunded, many, (many+100)/101)
	}

	// A kept write that fails (a balance transaction of no entry) fails
	// its nested unit only.
	errNested := errors.New("not reached")
	err = s.Update(ctx, func(tx ledger.Tx) error {
		if err := tx.SavePayment(ctx, pay("before")); err != nil {
			return err
		}
		nerr := tx.(ledger.Nester).Nested(ctx, func() error {
			if err := tx.SavePayment(ctx, pay("inside")); err != nil {
				return err
			}
			return tx.InsertBalanceTransaction(ctx, &ledger.BalanceTransaction{ID: "txn_orphan", Provider: "stripe",
				EntryID: 987654321, Type: "charge", Currency: "usd", Amount: 100, Net: 100, Status: "pending",
				Created: at, AvailableOn: at})
		})
		if nerr == nil {
			return errNested
		}
		if _, err := tx.Payment(ctx, "inside"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("the failed unit's payment after its rollback: %v, want ErrNotFound", err)
		}
		// A unit refused after keeping a write that would fail: the
		// write is dropped unsent, and the refusal is the unit's answer.
		errRefused := errors.New("refused on purpose")
		nerr = tx.(ledger.Nester).Nested(ctx, func() error {
			if err := tx.InsertBalanceTransaction(ctx, &ledger.BalanceTransaction{ID: "txn_orphan2", Provider: "stripe",
				EntryID: 987654321, Type: "charge", Currency: "usd", Amount: 100, Net: 100, Status: "pending",
				Created: at, AvailableOn: at}); err != nil {
				return err
			}
			return errRefused
		})
		if !errors.Is(nerr, errRefused) {
			t.Errorf("a refused unit with a failing write kept: %v, want the refusal alone", nerr)
		}
		return tx.SavePayment(ctx, pay("after"))
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"before": true, "inside": false, "after": true} {
		if got := stored(id); got != want {
			t.Errorf("payment %q stored: %v, want %v", id, got, want)
		}
	}
}
