package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// A write transaction that finds the payments and requests empty answers
// "missing" for the keys it never wrote without asking SQLite, and still
// answers every lookup as the tables do: the keys it wrote (written or
// still buffered), none of those a rolled-back savepoint wrote, and, once
// the tables hold rows from before, every stored key.
func TestFreshTablesAnswerAsStored(t *testing.T) {
	ctx := context.Background()
	s := openBuffered(t, 8)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	pay := func(id string) *ledger.Payment {
		return &ledger.Payment{ID: id, Provider: "stripe", Currency: "usd", Status: ledger.PaymentAuthorized,
			Authorized: 100, CreatedAt: at, UpdatedAt: at}
	}
	req := func(key string) *ledger.Request {
		return &ledger.Request{Key: key, Operation: "authorize", Hash: "h", Result: []byte("r"), CreatedAt: at}
	}
	// check looks up n payments and requests, after prefetching them, and
	// wants those for which stored says so.
	check := func(tx *tx, prefix string, n int, stored func(i int) bool) error {
		var keys, ids []string
		for i := range n {
			keys, ids = append(keys, fmt.Sprintf("%sevt_%d", prefix, i)), append(ids, fmt.Sprintf("%spay_%d", prefix, i))
		}
		if err := tx.Prefetch(ctx, keys, ids); err != nil {
			return err
		}
		for i := range n {
			_, perr := tx.Payment(ctx, ids[i])
			_, rerr := tx.Request(ctx, keys[i])
			for what, err := range map[string]error{ids[i]: perr, keys[i]: rerr} {
				switch {
				case stored(i) && err != nil:
					return fmt.Errorf("%s: %v, want it found", what, err)
				case !stored(i) && !errors.Is(err, ledger.ErrNotFound):
					return fmt.Errorf("%s: %v, want it missing", what, err)
				}
			}
		}
		return nil
	}
	even := func(i int) bool { return i%2 == 0 }
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		if err := check(tx, "", 100, func(int) bool { return false }); err != nil {
			return fmt.Errorf("before any write: %w", err)
		}
		if !tx.freshPayments.empty || !tx.freshRequests.empty {
			return errors.New("empty tables not taken for empty")
		}
		for i := range 100 {
			if even(i) {
				if err := tx.SavePayment(ctx, pay(fmt.Sprintf("pay_%d", i))); err != nil {
					return err
				}
				if err := tx.SaveRequest(ctx, req(fmt.Sprintf("evt_%d", i))); err != nil {
					return err
				}
			}
		}
		// A savepoint that writes and is rolled back leaves nothing.
		err := tx.Nested(ctx, func() error {
			for i := range 20 {
				if err := tx.SavePayment(ctx, pay(fmt.Sprintf("rb_pay_%d", i))); err != nil {
					return err
				}
				if err := tx.SaveRequest(ctx, req(fmt.Sprintf("rb_evt_%d", i))); err != nil {
					return err
				}
			}
			return errors.New("roll back")
		})
		if err == nil {
			return errors.New("the savepoint was not rolled back")
		}
		if err := check(tx, "rb_", 20, func(int) bool { return false }); err != nil {
			return fmt.Errorf("after the rolled-back savepoint: %w", err)
		}
		return check(tx, "", 100, even)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The tables now hold rows from before the transaction: every lookup
	// asks them.
	err = s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		if err := check(tx, "", 100, even); err != nil {
			return fmt.Errorf("in a later transaction: %w", err)
		}
		if tx.freshPayments.empty || tx.freshRequests.empty {
			return errors.New("tables with rows taken for empty")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A key added is always found, in every layer the set grew; keys never
// added are found (falsely) about three times in a thousand.
func TestKeySet(t *testing.T) {
	var s keySet
	if s.mayHave("x") {
		t.Fatal("an empty set has x")
	}
	const n = 400_000 // several layers: 16,384, 65,536, 262,144, 1,048,576
	for i := range n {
		s.add(fmt.Sprintf("key_%d", i))
	}
	if len(s.layers) < 4 {
		t.Errorf("%d layers for %d keys", len(s.layers), n)
	}
	for i := range n {
		if !s.mayHave(fmt.Sprintf("key_%d", i)) {
			t.Fatalf("key_%d added and not found", i)
		}
	}
	wrong := 0
	for i := range n {
		if s.mayHave(fmt.Sprintf("other_%d", i)) {
			wrong++
		}
	}
	t.Logf("%.2f%% of keys never added found", 100*float64(wrong)/n)
	if rate := float64(wrong) / n; rate > 0.01 {
		t.Errorf("%.1f%% of keys never added found", 100*rate)
	}
}

// The payment cache keeps the most recent half of its bound and what was
// looked up since: a payment found in the older generation moves to the
// newer one and outlives the next turn.
func TestPaymentCacheGenerations(t *testing.T) {
	var c paymentCache
	half := maxCachedPayments / 2
	for i := range half {
		c.put(fmt.Sprint(i), &ledger.Payment{ID: fmt.Sprint(i)})
	}
	for i := range half {
		c.put(fmt.Sprint(half+i), nil) // the first turn: 0…half-1 become the older
	}
	if p, ok := c.get("7"); !ok || p.ID != "7" {
		t.Fatalf("7 from the older generation: %v %v", p, ok)
	}
	for i := range half - 1 {
		c.put(fmt.Sprint(2*half+i), nil) // the second turn; 7 was moved to the newer
	}
	c.put("last", nil)
	if _, ok := c.get("8"); ok {
		t.Error("8, two turns old, is still known")
	}
	if p, ok := c.get("7"); !ok || p.ID != "7" {
		t.Errorf("7, looked up since, is forgotten: %v %v", p, ok)
	}
	if p, ok := c.get(fmt.Sprint(2*half + 3)); !ok || p != nil {
		t.Errorf("a payment known missing, just noted: %v %v", p, ok)
	}
}

// BenchmarkKeySet adds a month's keys (a million and more), then asks for
// keys never added, as a feed recorded into a new database does for every
// event and table.
func BenchmarkKeySet(b *testing.B) {
	const n = 1_300_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("evt_%024d", i*7919)
	}
	b.ResetTimer()
	for range b.N {
		var s keySet
		for _, k := range keys {
			if s.mayHave(k) {
				continue // a false positive
			}
			s.add(k)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
}

// A dispute the transaction read or saved is answered from memory as its
// row stands: an update through the upsert changes its status, fee refund
// and time, and not what the upsert leaves (its amount), whether the row
// was new in the transaction or stored before it; refunds, disputes and
// payouts never saved are missing, and a rolled-back savepoint forgets
// what it saved.
func TestDisputesAnswerAsStored(t *testing.T) {
	ctx := context.Background()
	s := openBuffered(t, 8)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	pay := &ledger.Payment{ID: "pay_1", Provider: "stripe", Currency: "usd", Status: ledger.PaymentCaptured,
		Authorized: 10000, Captured: 10000, CreatedAt: at, UpdatedAt: at}
	dispute := func(id string) *ledger.Dispute {
		return &ledger.Dispute{ID: id, PaymentID: "pay_1", Provider: "stripe", ProviderRef: "dp_" + id, Amount: 500,
			Fee: 1500, Currency: "usd", Status: ledger.DisputeOpen, CreatedAt: at, UpdatedAt: at}
	}
	// stored reads a dispute in a transaction of its own, from the table.
	stored := func(id string) ledger.Dispute {
		var d *ledger.Dispute
		if err := s.View(ctx, func(rt ledger.ReadTx) error {
			var err error
			d, err = rt.(*tx).Dispute(ctx, id)
			return err
		}); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return *d
	}
	// update saves d with a new status, fee refund and time, and an amount
	// the upsert does not take.
	update := func(tx *tx, d *ledger.Dispute) error {
		d.Status, d.FeeRefund, d.UpdatedAt, d.Amount = ledger.DisputeWon, 1500, at.Add(time.Hour), 999
		return tx.SaveDispute(ctx, d)
	}
	seen := map[string]ledger.Dispute{}
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		if err := tx.SavePayment(ctx, pay); err != nil {
			return err
		}
		for _, missing := range []func() error{
			func() error { _, err := tx.Dispute(ctx, "du_0"); return err },
			func() error { _, err := tx.Refund(ctx, "re_0"); return err },
			func() error { _, err := tx.Payout(ctx, "po_0"); return err },
		} {
			if err := missing(); !errors.Is(err, ledger.ErrNotFound) {
				return fmt.Errorf("never saved: %v, want it missing", err)
			}
		}
		if err := tx.SaveDispute(ctx, dispute("du_1")); err != nil {
			return err
		}
		d, err := tx.Dispute(ctx, "du_1")
		if err != nil {
			return err
		}
		if err := update(tx, d); err != nil {
			return err
		}
		if d, err = tx.Dispute(ctx, "du_1"); err != nil {
			return err
		}
		seen["du_1"] = *d
		rolled := tx.Nested(ctx, func() error {
			if err := tx.SaveDispute(ctx, dispute("du_rb")); err != nil {
				return err
			}
			return errors.New("roll back")
		})
		if rolled == nil {
			return errors.New("the savepoint was not rolled back")
		}
		if _, err := tx.Dispute(ctx, "du_rb"); !errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("a dispute of a rolled-back savepoint: %v, want it missing", err)
		}
		return tx.SaveDispute(ctx, dispute("du_2"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := stored("du_1"); got != seen["du_1"] {
		t.Errorf("du_1 answered as %+v, stored as %+v", seen["du_1"], got)
	}
	if got := stored("du_1"); got.Amount != 500 || got.Status != ledger.DisputeWon || got.FeeRefund != 1500 {
		t.Errorf("du_1 stored as %+v", got)
	}
	// Stored before the transaction: read, then updated, then read again.
	err = s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		d, err := tx.Dispute(ctx, "du_2")
		if err != nil {
			return err
		}
		if err := update(tx, d); err != nil {
			return err
		}
		if d, err = tx.Dispute(ctx, "du_2"); err != nil {
			return err
		}
		seen["du_2"] = *d
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := stored("du_2"); got != seen["du_2"] {
		t.Errorf("du_2 answered as %+v, stored as %+v", seen["du_2"], got)
	}
}

// A payout the transaction read or saved is answered from memory as its
// row stands (the upsert changes its status and time only), and a new
// automatic payout takes its place in the order of automatic payouts the
// transaction keeps, as a read of the table afterwards finds it.
func TestPayoutsAnswerAsStored(t *testing.T) {
	ctx := context.Background()
	s := openBuffered(t, 8)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	payout := func(id string, created time.Time) *ledger.Payout {
		return &ledger.Payout{ID: id, Provider: "stripe", Amount: 700, Currency: "usd", Status: ledger.PayoutInTransit,
			ArrivalDate: created.Add(48 * time.Hour), Automatic: true, CreatedAt: created, UpdatedAt: created}
	}
	var seen ledger.Payout
	var order []payoutCutoff
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		for _, p := range []*ledger.Payout{payout("po_c", at.Add(3*time.Hour)), payout("po_a", at.Add(time.Hour))} {
			if err := tx.SavePayout(ctx, p); err != nil {
				return err
			}
		}
		if _, err := tx.autoPayoutsOf(ctx, "stripe", "usd"); err != nil { // read once, and kept
			return err
		}
		for _, p := range []*ledger.Payout{payout("po_b", at.Add(2*time.Hour)), payout("po_0", at), payout("po_d", at.Add(4*time.Hour))} {
			if err := tx.SavePayout(ctx, p); err != nil {
				return err
			}
		}
		var err error
		if order, err = tx.autoPayoutsOf(ctx, "stripe", "usd"); err != nil {
			return err
		}
		p, err := tx.Payout(ctx, "po_b")
		if err != nil {
			return err
		}
		p.Status, p.UpdatedAt, p.Amount = ledger.PayoutPaid, at.Add(50*time.Hour), 1 // the amount stays as stored
		if err := tx.SavePayout(ctx, p); err != nil {
			return err
		}
		q, err := tx.Payout(ctx, "po_b")
		seen = *q
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var stored ledger.Payout
	var storedOrder []payoutCutoff
	err = s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		p, err := tx.Payout(ctx, "po_b")
		if err != nil {
			return err
		}
		stored = *p
		storedOrder, err = tx.autoPayoutsOf(ctx, "stripe", "usd")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != stored || stored.Amount != 700 || stored.Status != ledger.PayoutPaid {
		t.Errorf("po_b answered as %+v, stored as %+v", seen, stored)
	}
	if fmt.Sprint(order) != fmt.Sprint(storedOrder) || len(order) != 5 {
		t.Errorf("automatic payouts kept in the order %v, stored in %v", order, storedOrder)
	}
}
