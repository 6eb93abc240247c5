package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// A write transaction that reads ahead (ledger.Prefetcher) answers its
// lookups as one that does not: a stored request and payment as stored, a
// key and a payment not stored as not found, and after its own writes what
// it wrote, also for what it read ahead before writing. A nested
// transaction that reads ahead and rolls back leaves nothing behind, nor
// does one that changes the closed period: the period is again what it was.
// Thousands of requests saved in one transaction are each seen at once, and
// all of them after commit.
func testReadAheadInOneTransaction(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	l := books(t, st)
	for _, id := range []string{"1", "3"} {
		must(l.Capture(ctx, ledger.CaptureRequest{Key: "c" + id, PaymentID: "p" + id, Provider: "stripe", Currency: "usd",
			Amount: dec("10.00"), AvailableOn: t0, At: t0})).ok(t)
	}
	var stored *ledger.Request
	if err := l.View(ctx, func(tx ledger.ReadTx) error {
		var err error
		stored, err = tx.Request(ctx, "c1")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	errRolledBack := fmt.Errorf("rolled back on purpose")
	closed1, closed2 := t0.Add(-48*time.Hour), t0.Add(-24*time.Hour)
	err := st.Update(ctx, func(tx ledger.Tx) error {
		ahead := func(keys, payments []string) error {
			if p, ok := tx.(ledger.Prefetcher); ok {
				return p.Prefetch(ctx, ledger.Ahead{Keys: keys, Payments: payments})
			}
			return nil
		}
		if err := ahead([]string{"c1", "k-new", "k-new", "k-dup"}, []string{"p1", "p-new", "", "p1", "p-new2"}); err != nil {
			return fmt.Errorf("reading ahead: %w", err)
		}
		// Read twice, so that an answer kept after it was given shows.
		for range 2 {
			r, err := tx.Request(ctx, "c1")
			if err != nil {
				return fmt.Errorf("the stored request: %w", err)
			}
			if r.Operation != stored.Operation || r.Hash != stored.Hash || string(r.Result) != string(stored.Result) {
				t.Errorf("the stored request read ahead is %+v, want %+v", r, stored)
			}
			if _, err := tx.Request(ctx, "k-new"); !errors.Is(err, ledger.ErrNotFound) {
				t.Errorf("a key not stored: %v, want ErrNotFound", err)
			}
		}
		p1, err := tx.Payment(ctx, "p1")
		if err != nil {
			return fmt.Errorf("the stored payment: %w", err)
		}
		if p1.Captured != 1000 || p1.Refunded != 0 {
			t.Errorf("the stored payment read ahead: captured %d, refunded %d; want 1000 and 0", p1.Captured, p1.Refunded)
		}
		if _, err := tx.Payment(ctx, "p-new"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("a payment not stored: %v, want ErrNotFound", err)
		}
		// Writes after the reading ahead are seen.
		p1.Refunded, p1.UpdatedAt = 100, t0.Add(time.Hour)
		if err := tx.SavePayment(ctx, p1); err != nil {
			return err
		}
		pNew := &ledger.Payment{ID: "p-new", Provider: "stripe", Currency: "usd", CaptureMethod: "automatic",
			Status: ledger.PaymentStatus("captured"), Authorized: 500, Captured: 500, CreatedAt: t0, UpdatedAt: t0}
		if err := tx.SavePayment(ctx, pNew); err != nil {
			return fmt.Errorf("inserting a payment read ahead as missing: %w", err)
		}
		// One read ahead as missing and saved without being looked up.
		pNew2 := *pNew
		pNew2.ID = "p-new2"
		if err := tx.SavePayment(ctx, &pNew2); err != nil {
			return fmt.Errorf("inserting a payment read ahead as missing, not looked up: %w", err)
		}
		if p, err := tx.Payment(ctx, "p-new2"); err != nil || p.Captured != 500 {
			t.Errorf("p-new2 is %+v (%v), want 500 captured", p, err)
		}
		if err := tx.SaveRequest(ctx, &ledger.Request{Key: "k-new", Operation: "capture", Hash: "h-new",
			Result: []byte("r-new"), CreatedAt: t0}); err != nil {
			return err
		}
		check := func(when string) {
			t.Helper()
			if p, err := tx.Payment(ctx, "p1"); err != nil || p.Refunded != 100 {
				t.Errorf("%s: p1 is %+v (%v), want 100 refunded", when, p, err)
			}
			if p, err := tx.Payment(ctx, "p-new"); err != nil || p.Captured != 500 {
				t.Errorf("%s: p-new is %+v (%v), want 500 captured", when, p, err)
			}
			if r, err := tx.Request(ctx, "k-new"); err != nil || r.Hash != "h-new" {
				t.Errorf("%s: request k-new is %+v (%v), want the one saved", when, r, err)
			}
		}
		check("after the writes")
		if err := tx.SetClosedThrough(ctx, closed1); err != nil {
			return err
		}
		n, ok := tx.(ledger.Nester)
		if !ok {
			return fmt.Errorf("the store's transaction (%T) cannot nest", tx)
		}
		err = n.Nested(ctx, func() error {
			if err := ahead([]string{"k-nested"}, []string{"p1", "p3", "p-nested"}); err != nil {
				return err
			}
			if _, err := tx.Request(ctx, "k-nested"); !errors.Is(err, ledger.ErrNotFound) {
				t.Errorf("a key read ahead in the nested transaction: %v, want ErrNotFound", err)
			}
			if err := tx.SaveRequest(ctx, &ledger.Request{Key: "k-nested", Operation: "capture", Hash: "h-nested",
				Result: []byte("r-nested"), CreatedAt: t0}); err != nil {
				return err
			}
			if r, err := tx.Request(ctx, "k-nested"); err != nil || r.Hash != "h-nested" {
				t.Errorf("inside the nested transaction request k-nested is %+v (%v), want the one saved", r, err)
			}
			if err := tx.SetClosedThrough(ctx, closed2); err != nil {
				return err
			}
			if c, err := tx.ClosedThrough(ctx); err != nil || !c.Equal(closed2) {
				t.Errorf("inside the nested transaction the books are closed through %s (%v), want %s", c, err, closed2)
			}
			return errRolledBack
		})
		if !errors.Is(err, errRolledBack) {
			return fmt.Errorf("nested: %v", err)
		}
		check("after the nested transaction rolled back")
		if _, err := tx.Request(ctx, "k-nested"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("a key read ahead in the rolled-back transaction: %v, want ErrNotFound", err)
		}
		// p3, read ahead (and locked) only inside the rolled-back
		// transaction, is read and updated as if it never was.
		p3, err := tx.Payment(ctx, "p3")
		if err != nil {
			return fmt.Errorf("p3 after the nested transaction: %w", err)
		}
		p3.Refunded, p3.UpdatedAt = 200, t0.Add(time.Hour)
		if err := tx.SavePayment(ctx, p3); err != nil {
			return fmt.Errorf("updating p3 after the nested transaction: %w", err)
		}
		if c, err := tx.ClosedThrough(ctx); err != nil || !c.Equal(closed1) {
			t.Errorf("after the nested transaction rolled back the books are closed through %s (%v), want %s", c, err, closed1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Committed: what the transaction wrote, and no claim left behind.
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		for _, k := range []string{"k-dup", "k-nested"} {
			if _, err := tx.Request(ctx, k); !errors.Is(err, ledger.ErrNotFound) {
				t.Errorf("request %s after commit: %v, want ErrNotFound", k, err)
			}
		}
		if r, err := tx.Request(ctx, "k-new"); err != nil || r.Hash != "h-new" {
			t.Errorf("request k-new after commit: %+v (%v)", r, err)
		}
		if c, err := tx.ClosedThrough(ctx); err != nil || !c.Equal(closed1) {
			t.Errorf("after commit the books are closed through %s (%v), want %s", c, err, closed1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Many requests in one transaction, more than a store may keep
	// before writing them: each is seen at once, and all after commit.
	const many = 2345
	key := func(i int) string { return fmt.Sprintf("many-%04d", i) }
	err = st.Update(ctx, func(tx ledger.Tx) error {
		keys := make([]string, many)
		for i := range keys {
			keys[i] = key(i)
		}
		if p, ok := tx.(ledger.Prefetcher); ok {
			if err := p.Prefetch(ctx, ledger.Ahead{Keys: keys}); err != nil {
				return err
			}
		}
		for i, k := range keys {
			if _, err := tx.Request(ctx, k); !errors.Is(err, ledger.ErrNotFound) {
				return fmt.Errorf("request %s before saving: %v, want ErrNotFound", k, err)
			}
			if err := tx.SaveRequest(ctx, &ledger.Request{Key: k, Operation: "capture", Hash: fmt.Sprint(i),
				Result: []byte(k), CreatedAt: t0}); err != nil {
				return err
			}
			if i%97 == 0 {
				if r, err := tx.Request(ctx, key(i/2)); err != nil || r.Hash != fmt.Sprint(i/2) {
					return fmt.Errorf("request %s after saving %d: %+v, %v", key(i/2), i+1, r, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		for i := range many {
			if r, err := tx.Request(ctx, key(i)); err != nil || r.Hash != fmt.Sprint(i) || string(r.Result) != key(i) {
				return fmt.Errorf("request %s after commit: %+v, %v", key(i), r, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if p := payment(t, l, "p1"); p.Refunded != 100 {
		t.Errorf("p1 after commit: refunded %d, want 100", p.Refunded)
	}
	if p := payment(t, l, "p3"); p.Refunded != 200 {
		t.Errorf("p3 after commit: refunded %d, want 200", p.Refunded)
	}
	if p := payment(t, l, "p-new"); p.Captured != 500 {
		t.Errorf("p-new after commit: captured %d, want 500", p.Captured)
	}
}

// A write transaction told the refunds, disputes and payouts ahead
// (ledger.Ahead) answers as one that is not: the stored ones as stored,
// the others as not found, an id named twice or empty alike, and after its
// own writes what it wrote, also of those it was told were not stored.
func testReadAheadObjects(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	l := books(t, st)
	must(l.Capture(ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd",
		Amount: dec("100.00"), AvailableOn: t0, At: t0})).ok(t)
	must(l.Refund(ctx, ledger.RefundRequest{Key: "r1", PaymentID: "p1", RefundID: "re_1", Amount: dec("10.00"), At: t0})).ok(t)
	must(l.OpenDispute(ctx, ledger.DisputeRequest{Key: "d1", PaymentID: "p1", DisputeID: "dp_1", Amount: dec("20.00"),
		Fee: dec("15.00"), At: t0})).ok(t)
	must(l.CreatePayout(ctx, ledger.PayoutRequest{Key: "o1", PayoutID: "po_1", Provider: "stripe", Amount: dec("5.00"),
		Currency: "usd", At: t0})).ok(t)
	var re *ledger.Refund
	var dp *ledger.Dispute
	var po *ledger.Payout
	err := l.View(ctx, func(tx ledger.ReadTx) error {
		var err error
		if re, err = tx.Refund(ctx, "re_1"); err != nil {
			return err
		}
		if dp, err = tx.Dispute(ctx, "dp_1"); err != nil {
			return err
		}
		po, err = tx.Payout(ctx, "po_1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	newRefund := &ledger.Refund{ID: "re_new", PaymentID: "p1", Amount: 300, Currency: "usd", EntryID: re.EntryID, CreatedAt: later}
	newDispute := &ledger.Dispute{ID: "dp_new", PaymentID: "p1", Provider: "stripe", Amount: 400, Fee: 1500, Currency: "usd",
		Status: ledger.DisputeOpen, CreatedAt: later, UpdatedAt: later}
	newPayout := &ledger.Payout{ID: "po_new", Provider: "stripe", Amount: 500, Currency: "usd", Status: "pending",
		ArrivalDate: later.Add(48 * time.Hour), CreatedAt: later, UpdatedAt: later}
	err = st.Update(ctx, func(tx ledger.Tx) error {
		if p, ok := tx.(ledger.Prefetcher); ok {
			err := p.Prefetch(ctx, ledger.Ahead{Keys: []string{"k1"}, Refunds: []string{"re_1", "re_new", "re_new", ""},
				Disputes: []string{"dp_1", "dp_new", ""}, Payouts: []string{"po_new", "po_1", "po_1"}})
			if err != nil {
				return fmt.Errorf("reading ahead: %w", err)
			}
		}
		// Asked twice, so that an answer kept after it was given shows.
		for range 2 {
			if r, err := tx.Refund(ctx, "re_1"); err != nil || *r != *re {
				t.Errorf("the stored refund is %+v (%v), want %+v", r, err, re)
			}
			if d, err := tx.Dispute(ctx, "dp_1"); err != nil || *d != *dp {
				t.Errorf("the stored dispute is %+v (%v), want %+v", d, err, dp)
			}
			if p, err := tx.Payout(ctx, "po_1"); err != nil || *p != *po {
				t.Errorf("the stored payout is %+v (%v), want %+v", p, err, po)
			}
			_, rerr := tx.Refund(ctx, "re_new")
			_, derr := tx.Dispute(ctx, "dp_new")
			_, perr := tx.Payout(ctx, "po_new")
			for what, err := range map[string]error{"refund": rerr, "dispute": derr, "payout": perr} {
				if !errors.Is(err, ledger.ErrNotFound) {
					t.Errorf("a %s not stored: %v, want ErrNotFound", what, err)
				}
			}
		}
		if err := tx.SaveRefund(ctx, newRefund); err != nil {
			return err
		}
		if err := tx.SaveDispute(ctx, newDispute); err != nil {
			return err
		}
		if err := tx.SavePayout(ctx, newPayout); err != nil {
			return err
		}
		won := *dp
		won.Status, won.UpdatedAt = ledger.DisputeWon, later
		if err := tx.SaveDispute(ctx, &won); err != nil {
			return err
		}
		if r, err := tx.Refund(ctx, "re_new"); err != nil || !r.CreatedAt.Equal(later) || r.Amount != 300 {
			t.Errorf("the refund saved is %+v (%v)", r, err)
		}
		if d, err := tx.Dispute(ctx, "dp_new"); err != nil || d.Amount != 400 || d.Status != ledger.DisputeOpen {
			t.Errorf("the dispute saved is %+v (%v)", d, err)
		}
		if d, err := tx.Dispute(ctx, "dp_1"); err != nil || d.Status != ledger.DisputeWon || !d.UpdatedAt.Equal(later) {
			t.Errorf("the stored dispute, saved again as won, is %+v (%v)", d, err)
		}
		if p, err := tx.Payout(ctx, "po_new"); err != nil || p.Amount != 500 {
			t.Errorf("the payout saved is %+v (%v)", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
