package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

func testBT(id string, entry int64, at time.Time) *ledger.BalanceTransaction {
	return &ledger.BalanceTransaction{ID: id, Provider: "stripe", EntryID: entry, Type: "charge", ReportingCategory: "charge",
		Amount: 100, Net: 100, Currency: "usd", Status: "pending", Created: at, AvailableOn: at.Add(48 * time.Hour)}
}

// Balance transactions wait in memory and are written btBuffer at a time,
// each batch in the order of their ids, and the rest at the commit.
func TestHeldBTsWrittenInIDOrder(t *testing.T) {
	defer func(n int) { btBuffer = n }(btBuffer)
	btBuffer = 3
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx ledger.Tx) error {
		entry, err := testEntry(ctx, tx, "charge", at)
		if err != nil {
			return err
		}
		for _, id := range []string{"txn_5", "txn_4", "txn_3", "txn_2", "txn_1"} {
			if err := tx.InsertBalanceTransaction(ctx, testBT(id, entry, at)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	order := storedIDs(t, s, `SELECT group_concat(b.id, ' ' ORDER BY b.rowid) FROM bt_core b JOIN bt_settlements s ON s.id = b.id`)
	if want := []string{"txn_3", "txn_4", "txn_5", "txn_1", "txn_2"}; !slices.Equal(order, want) {
		t.Errorf("written in the order %v, want %v", order, want)
	}
}

// A settlement change of a balance transaction waiting in memory writes it
// first; a change of others leaves the waiting ones in memory.
func TestSettlementChangeOfAHeldBT(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		entry, err := testEntry(ctx, tx, "charge", at)
		if err != nil {
			return err
		}
		if err := tx.InsertBalanceTransaction(ctx, testBT("txn_written", entry, at)); err != nil {
			return err
		}
		if err := tx.flushBTs(ctx); err != nil {
			return err
		}
		if err := tx.InsertBalanceTransaction(ctx, testBT("txn_held", entry, at)); err != nil {
			return err
		}
		if err := tx.SetBalanceTransactionStatus(ctx, "txn_written", "available"); err != nil {
			return err
		}
		if tx.bts.n() != 1 {
			return fmt.Errorf("a change of another wrote the waiting balance transaction (%d waiting)", tx.bts.n())
		}
		if err := tx.SetBalanceTransactionStatus(ctx, "txn_held", "available"); err != nil {
			return err
		}
		if tx.bts.n() != 0 {
			return errors.New("a change of a waiting balance transaction left it waiting")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM bt_settlements WHERE status = 'available'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d balance transactions available, want 2 (%v)", n, err)
	}
}

// Into tables that held balance transactions when the transaction first
// touched them, they wait btChunk at a time, not btBuffer.
func TestBTsWaitAChunkInBooksThatHoldThem(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for round, want := range []int{btChunk + 2, 2} {
		err := s.Update(ctx, func(lt ledger.Tx) error {
			tx := lt.(*tx)
			entry, err := testEntry(ctx, tx, fmt.Sprint("charge_", round), at)
			if err != nil {
				return err
			}
			for i := range btChunk + 2 {
				if err := tx.InsertBalanceTransaction(ctx, testBT(fmt.Sprint("txn_", round, "_", i), entry, at)); err != nil {
					return err
				}
			}
			if tx.bts.n() != want {
				return fmt.Errorf("round %d: %d balance transactions waiting, want %d", round, tx.bts.n(), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
