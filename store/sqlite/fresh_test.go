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
	pay := func(id string) *ledger.Payment { return authorizedPayment(id, at) }
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

// BenchmarkKeySet adds a month's keys (a million and more), each after
// asking for it before it was added, as a feed recorded into a new database
// does for every event and table; false positives are reported a key.
func BenchmarkKeySet(b *testing.B) {
	const n = 1_300_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("evt_%024d", i*7919)
	}
	b.ResetTimer()
	falsePositives := 0
	for range b.N {
		var s keySet
		for _, k := range keys {
			if s.mayHave(k) {
				falsePositives++
			}
			s.add(k)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
	b.ReportMetric(float64(falsePositives)/float64(b.N*n), "false-positives/key")
}

// A table not found empty keeps no keys (a second month's feed would
// otherwise fill a set nobody asks), and its lookups are answered by the
// table: a payment saved before the table was first looked at, and one
// saved after, are found; one never saved is missing.
func TestFreshKeysOnlyForEmptyTables(t *testing.T) {
	ctx := context.Background()
	s := openBuffered(t, 8)
	pay := func(id string) *ledger.Payment {
		return authorizedPayment(id, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	}
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		if err := tx.SavePayment(ctx, pay("pay_before")); err != nil {
			return err
		}
		if _, err := tx.Payment(ctx, "pay_before"); err != nil {
			return fmt.Errorf("saved before the first look: %w", err)
		}
		if tx.freshPayments.empty {
			return errors.New("a table with the transaction's own row taken for empty")
		}
		if err := tx.SavePayment(ctx, pay("pay_after")); err != nil {
			return err
		}
		if tx.freshPayments.written.layers != nil {
			return errors.New("keys kept for a table not found empty")
		}
		for id, want := range map[string]bool{"pay_before": true, "pay_after": true, "pay_never": false} {
			tx.payments = paymentCache{} // asked of the table, not the cache
			_, err := tx.Payment(ctx, id)
			if found := err == nil; found != want || err != nil && !errors.Is(err, ledger.ErrNotFound) {
				return fmt.Errorf("%s: %v, want found %v", id, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// authorizedPayment is a payment of 1.00 usd authorized at at.
func authorizedPayment(id string, at time.Time) *ledger.Payment {
	return &ledger.Payment{ID: id, Provider: "stripe", Currency: "usd", Status: ledger.PaymentAuthorized,
		Authorized: 100, CreatedAt: at, UpdatedAt: at}
}
