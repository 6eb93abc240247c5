package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

func refund(id string) *ledger.Refund {
	return &ledger.Refund{ID: id, PaymentID: "pay_1", Amount: 100, Currency: "usd", EntryID: 1, CreatedAt: t0}
}

// A write handed to the write-behind goroutine that fails (here a refund id
// saved twice) fails the transaction, which leaves nothing behind: the
// failure is reported as the same statement run at once would be.
func TestWriteBehindFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	s, _ := books(t)
	err := s.Update(ctx, func(tx ledger.Tx) error {
		for _, id := range []string{"re_x", "re_y", "re_x"} {
			if err := tx.SaveRefund(ctx, refund(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, ledger.ErrInvalidState) {
		t.Fatalf("saving a refund id twice: %v, want ErrInvalidState", err)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM refunds WHERE id IN ('re_x', 're_y')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d refunds of a failed transaction stored (%v)", n, err)
	}
}

// Inside a savepoint, a failed write handed over fails that savepoint, as
// its own: the savepoint is rolled back, and what came before and after it
// is committed.
func TestWriteBehindFailureInSavepoint(t *testing.T) {
	ctx := context.Background()
	s, _ := books(t)
	var nestedErr error
	err := s.Update(ctx, func(tx ledger.Tx) error {
		if err := tx.SaveRefund(ctx, refund("re_a")); err != nil {
			return err
		}
		nestedErr = tx.(ledger.Nester).Nested(ctx, func() error {
			for _, id := range []string{"re_b", "re_b"} {
				if err := tx.SaveRefund(ctx, refund(id)); err != nil {
					return err
				}
			}
			return nil
		})
		return tx.SaveRefund(ctx, refund("re_c"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(nestedErr, ledger.ErrInvalidState) {
		t.Fatalf("the savepoint's failure: %v, want ErrInvalidState", nestedErr)
	}
	for id, want := range map[string]int{"re_a": 1, "re_b": 0, "re_c": 1} {
		var n int
		if err := s.DB().QueryRow(`SELECT count(*) FROM refunds WHERE id = ?`, id).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d stored, want %d (%v)", id, n, want, err)
		}
	}
}

// A read sees every write made before it in the transaction, whether the
// write has run yet or waits for the write-behind goroutine.
func TestWriteBehindReadsSeeWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := books(t)
	err := s.Update(ctx, func(tx ledger.Tx) error {
		for _, id := range []string{"re_1a", "re_1b"} {
			if err := tx.SaveRefund(ctx, refund(id)); err != nil {
				return err
			}
			r, err := tx.Refund(ctx, id)
			if err != nil {
				return err
			}
			if r.ID != id || r.Amount != 100 {
				t.Errorf("read back %+v", r)
			}
		}
		p, err := tx.Payment(ctx, "pay_1")
		if err != nil {
			return err
		}
		p.Refunded += 200
		if err := tx.SavePayment(ctx, p); err != nil { // an update, handed over
			return err
		}
		var found int
		err = tx.EachPayment(ctx, "", func(q *ledger.Payment) error {
			if q.ID == "pay_1" {
				found++
				if q.Refunded != p.Refunded {
					t.Errorf("pay_1 read back with %d refunded, want %d", q.Refunded, p.Refunded)
				}
			}
			return nil
		})
		if found != 1 {
			t.Errorf("pay_1 read back %d times", found)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A panic inside a write transaction stops the write-behind goroutine
// before it leaves Update: nothing is left running on the connection.
func TestWriteBehindStopsOnPanic(t *testing.T) {
	ctx := context.Background()
	s, _ := books(t)
	before := runtime.NumGoroutine()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		_ = s.Update(ctx, func(tx ledger.Tx) error {
			for i := range 300 { // more than a batch: the goroutine is running
				if err := tx.SaveRefund(ctx, refund(fmt.Sprintf("re_p%d", i))); err != nil {
					return err
				}
			}
			panic("a bug")
		})
	}()
	for range 100 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines after the panic, %d before", runtime.NumGoroutine(), before)
}

// A caller that writes from inside an Each… callback of a write
// transaction (an embedder may) has every write made, the statements
// handed over running between steps of the read (database/sql's lock on
// the connection keeps the two apart; the race detector watches this test
// in CI).
func TestWriteBehindWritesFromInsideARead(t *testing.T) {
	ctx := context.Background()
	s, _ := books(t)
	const n = 400 // several batches' worth
	err := s.Update(ctx, func(tx ledger.Tx) error {
		for i := range n {
			p := &ledger.Payment{ID: fmt.Sprintf("pay_s%03d", i), Provider: "stripe", Currency: "usd",
				Status: ledger.PaymentAuthorized, Authorized: 100, CreatedAt: t0, UpdatedAt: t0}
			if err := tx.SavePayment(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = s.Update(ctx, func(tx ledger.Tx) error {
		return tx.EachPayment(ctx, "stripe", func(p *ledger.Payment) error {
			seen++
			p.Captured, p.Status = p.Authorized, ledger.PaymentCaptured
			if err := tx.SavePayment(ctx, p); err != nil {
				return err
			}
			return tx.SaveRefund(ctx, &ledger.Refund{ID: "re_" + p.ID, PaymentID: "pay_1", Amount: 1, Currency: "usd",
				EntryID: 1, CreatedAt: t0})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	var captured, refunds int
	if err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM payments WHERE id LIKE 'pay_s%' AND status = 'captured'),
		(SELECT count(*) FROM refunds WHERE id LIKE 're_pay_%')`).Scan(&captured, &refunds); err != nil {
		t.Fatal(err)
	}
	if captured != n || refunds != seen {
		t.Errorf("%d of %d payments captured, %d refunds of %d, from inside the read", captured, n, refunds, seen)
	}
}

// A pending entry resolved in the transaction that wrote it (from memory,
// the update handed over) and one written before it (read from the table)
// each release their pending balance once; resolving either again is
// refused, the first time's update having run before the second is asked.
func TestResolvePendingOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := books(t)
	pendingOf := func(account string) int64 {
		var n int64
		if err := s.DB().QueryRow(`SELECT COALESCE(SUM(b.pending), 0) FROM balances b JOIN accounts a ON a.id = b.account_id
			WHERE a.name = ?`, account).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(tx ledger.Tx, key string) (int64, error) {
		e := &ledger.Entry{Key: key, Phase: ledger.Pending, OccurredAt: t0, Postings: []ledger.Posting{
			{Account: "assets:test:hold", Currency: "usd", Amount: 700}, {Account: "liabilities:test:hold", Currency: "usd", Amount: -700}}}
		err := tx.InsertEntry(ctx, e)
		return e.ID, err
	}
	var before int64
	if err := s.Update(ctx, func(tx ledger.Tx) error {
		var err error
		before, err = insert(tx, "held-before")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := pendingOf("assets:test:hold"); got != 700 {
		t.Fatalf("pending %d after one hold, want 700", got)
	}
	err := s.Update(ctx, func(tx ledger.Tx) error {
		mine, err := insert(tx, "held-here")
		if err != nil {
			return err
		}
		for _, id := range []int64{mine, before} {
			if err := tx.ResolvePending(ctx, id, ledger.Voided, 0); err != nil {
				return fmt.Errorf("entry %d: %w", id, err)
			}
			if err := tx.ResolvePending(ctx, id, ledger.Voided, 0); !errors.Is(err, ledger.ErrAlreadyResolved) {
				return fmt.Errorf("entry %d resolved again: %v, want ErrAlreadyResolved", id, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := pendingOf("assets:test:hold"); got != 0 {
		t.Errorf("pending %d after both holds were voided, want 0", got)
	}
}

// A chunk of entries into a new database goes behind only when every key
// in it is known new. A key the chunk repeats, or one the transaction wrote
// before, is not: the chunk is written at once and the entry reported as
// stored, where going behind would have failed the transaction (a chunk
// behind must write every row).
func TestInsertEntriesBehindOnlyWhenKeysKnownNew(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "new.db"))
	defer s.Close()
	entries := func(keys ...string) []*ledger.Entry {
		var es []*ledger.Entry
		for _, k := range keys {
			es = append(es, &ledger.Entry{Key: k, Phase: ledger.Posted, OccurredAt: t0, Postings: []ledger.Posting{
				{Account: "assets:bank:ops", Currency: "usd", Amount: 100}, {Account: "income:other", Currency: "usd", Amount: -100}}})
		}
		return es
	}
	err := s.Update(ctx, func(tx ledger.Tx) error {
		for _, c := range []struct {
			keys     []string
			existing []int
		}{
			{[]string{"a", "b"}, nil},           // known new: behind
			{[]string{"c", "d", "c"}, []int{2}}, // c repeated
			{[]string{"e", "b"}, []int{1}},      // b written before
		} {
			existing, err := tx.InsertEntries(ctx, entries(c.keys...))
			if err != nil {
				return fmt.Errorf("%v: %w", c.keys, err)
			}
			var got []int
			for i := range existing {
				got = append(got, i)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.existing) {
				return fmt.Errorf("%v: stored before %v, want %v", c.keys, got, c.existing)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys string
	if err := s.DB().QueryRow(`SELECT group_concat(key, ' ') FROM (SELECT key FROM entries ORDER BY key)`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if keys != "a b c d e" {
		t.Errorf("entries %q, want a b c d e", keys)
	}
}
