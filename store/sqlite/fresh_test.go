package sqlite

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
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
		if err := tx.Prefetch(ctx, ledger.Ahead{Keys: keys, Payments: ids}); err != nil {
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

// A key added is always found, however often the set grew; a key never
// added is not (only two keys with the same 64-bit hash could fool it).
func TestKeySet(t *testing.T) {
	var s keySet
	if s.mayHave("x") {
		t.Fatal("an empty set has x")
	}
	const n = 400_000 // the table doubles from 4,096 slots to 524,288 and more
	for i := range n {
		s.add(fmt.Sprintf("key_%d", i))
		if i%1000 == 0 {
			s.add(fmt.Sprintf("key_%d", i)) // added twice, counted once
		}
	}
	if s.n != n || len(s.slots) < n*4/3 {
		t.Errorf("%d keys counted in %d slots for %d added", s.n, len(s.slots), n)
	}
	for i := range n {
		if !s.mayHave(fmt.Sprintf("key_%d", i)) {
			t.Fatalf("key_%d added and not found", i)
		}
	}
	for i := range n {
		if s.mayHave(fmt.Sprintf("other_%d", i)) {
			t.Fatalf("other_%d never added and found", i)
		}
	}
}

// The payment cache keeps the most recent half of its bound and what was
// looked up since: a payment found in the older generation moves to the
// newer one and outlives the next turn. holdsSince answers held, without a
// lookup, only for what the cache still holds (heldpayments.go notes a
// payment's generation as it is saved).
func TestPaymentCacheGenerations(t *testing.T) {
	var c paymentCache
	if c.holdsSince(0) {
		t.Error("holdsSince(0), a payment not known held, answers held in an empty cache")
	}
	// holdsSince(in) must never answer held for a payment the cache let go.
	sound := func(when, id string, in int) {
		if c.holdsSince(in) && !c.has(id) {
			t.Errorf("%s: holdsSince answers held for %s, which the cache let go", when, id)
		}
	}
	half := maxCachedPayments / 2
	for i := range half {
		c.put(fmt.Sprint(i), &ledger.Payment{ID: fmt.Sprint(i)})
	}
	in8 := c.gen + 1 // as a save of 8 notes it
	for i := range half {
		c.put(fmt.Sprint(half+i), nil) // the first turn: 0…half-1 become the older
	}
	if !c.holdsSince(in8) || !c.has("8") {
		t.Error("holdsSince: 8, in the older generation, is not known held")
	}
	if p, ok := c.get("7"); !ok || p.ID != "7" {
		t.Fatalf("7 from the older generation: %v %v", p, ok)
	}
	in7 := c.gen + 1
	sound("after 7 moved to the newer generation", "8", in8)
	for i := range half - 1 {
		c.put(fmt.Sprint(2*half+i), nil) // the second turn; 7 was moved to the newer
	}
	c.put("last", nil)
	if _, ok := c.get("8"); ok {
		t.Error("8, two turns old, is still known")
	}
	sound("at the end", "8", in8)
	if !c.holdsSince(in7) {
		t.Error("holdsSince: 7, looked up since, is not known held")
	}
	if p, ok := c.get("7"); !ok || p.ID != "7" {
		t.Errorf("7, looked up since, is forgotten: %v %v", p, ok)
	}
	if p, ok := c.get(fmt.Sprint(2*half + 3)); !ok || p != nil {
		t.Errorf("a payment known missing, just noted: %v %v", p, ok)
	}
}

// A payment the cache does not hold is read without waiting for the writes
// queued behind (later.go), which cannot touch it, unless the cache dropped
// payments since the last wait: one dropped may have its update still
// queued, and the read must see it.
func TestPaymentReadsWaitOnlyAfterADrop(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		for _, id := range []string{"pay_stored", "pay_moved"} {
			if err := tx.SavePayment(ctx, authorizedPayment(id, at)); err != nil {
				return err
			}
		}
		if err := tx.sync(); err != nil {
			return err
		}
		tx.payments = paymentCache{} // both stored, neither remembered, nothing queued
		if _, err := tx.Payment(ctx, "pay_moved"); err != nil {
			return err
		}
		// An update of the payment goes behind; the other is read past it.
		p := authorizedPayment("pay_moved", at)
		p.Status, p.Captured = ledger.PaymentCaptured, 100
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		if !tx.later.queued && len(tx.later.next) == 0 {
			return errors.New("the update was not handed over")
		}
		if _, err := tx.Payment(ctx, "pay_stored"); err != nil {
			return err
		}
		if !tx.later.queued && len(tx.later.next) == 0 {
			return errors.New("reading a payment the cache does not hold waited for the queue")
		}
		// Two turns of the cache drop the updated payment; reading it
		// must wait for its update.
		turnPaymentCache(tx)
		if _, held := tx.payments.get("pay_moved"); held || !tx.payments.dropped {
			return fmt.Errorf("after two turns: held %v, dropped %v", held, tx.payments.dropped)
		}
		got, err := tx.Payment(ctx, "pay_moved")
		if err != nil {
			return err
		}
		if got.Status != ledger.PaymentCaptured || got.Captured != 100 {
			return fmt.Errorf("read after the drop: %s, captured %d; want the update", got.Status, got.Captured)
		}
		if tx.later.queued || tx.payments.dropped {
			return errors.New("the read after a drop did not wait for the queue")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
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
		if tx.freshPayments.written.slots != nil {
			return errors.New("keys kept for a table not found empty")
		}
		for id, want := range map[string]bool{"pay_before": true, "pay_after": true, "pay_never": false} {
			tx.payments = paymentCache{dropped: true} // asked of the table, not the cache
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

// The disputes and payouts a write transaction remembers are its rows as
// stored: asked again of the tables, with the transaction's memory
// dropped, every answer is the same. So is the order of automatic payouts
// a new one took its place in. Covered: a table first seen empty (rows
// known new) and one with rows (a row read, then saved again, keeps the
// columns the upsert does not set).
func TestRememberedDisputesAndPayoutsAsStored(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	dispute := func(id string, amount int64) *ledger.Dispute {
		return &ledger.Dispute{ID: id, PaymentID: "pay_1", Provider: "stripe", Amount: amount, Fee: 1500, Currency: "usd",
			Status: ledger.DisputeOpen, CreatedAt: at, UpdatedAt: at}
	}
	payout := func(id string, hours int, automatic bool) *ledger.Payout {
		return &ledger.Payout{ID: id, Provider: "stripe", Amount: 100, Currency: "usd", Status: "pending",
			ArrivalDate: at.Add(48 * time.Hour), Automatic: automatic, CreatedAt: at.Add(time.Duration(hours) * time.Hour),
			UpdatedAt: at.Add(time.Duration(hours) * time.Hour)}
	}
	type answers struct {
		disputes []*ledger.Dispute
		payouts  []*ledger.Payout
		next     []string // AutomaticPayoutFor at each hour
	}
	ask := func(tx *tx) (answers, error) {
		var a answers
		for _, id := range []string{"dp_1", "dp_2", "dp_3"} {
			d, err := orNil(tx.Dispute(ctx, id))
			if err != nil {
				return a, err
			}
			a.disputes = append(a.disputes, d)
		}
		for _, id := range []string{"po_1", "po_2", "po_3", "po_4", "po_none"} {
			p, err := orNil(tx.Payout(ctx, id))
			if err != nil {
				return a, err
			}
			a.payouts = append(a.payouts, p)
		}
		for h := range 8 {
			id, err := tx.AutomaticPayoutFor(ctx, "stripe", "usd", at.Add(time.Duration(h)*time.Hour))
			if err != nil {
				return a, err
			}
			a.next = append(a.next, id)
		}
		return a, nil
	}
	// compare asks twice, the second time of the tables alone.
	compare := func(tx *tx, when string) error {
		mine, err := ask(tx)
		if err != nil {
			return err
		}
		tx.disputes, tx.payouts, tx.autoPayouts = nil, nil, nil
		tx.freshDisputes, tx.freshPayouts = freshness{}, freshness{}
		stored, err := ask(tx)
		if err != nil {
			return err
		}
		for i := range mine.disputes {
			if !reflect.DeepEqual(mine.disputes[i], stored.disputes[i]) {
				return fmt.Errorf("%s: remembered %+v, stored %+v", when, mine.disputes[i], stored.disputes[i])
			}
		}
		for i := range mine.payouts {
			if !reflect.DeepEqual(mine.payouts[i], stored.payouts[i]) {
				return fmt.Errorf("%s: remembered %+v, stored %+v", when, mine.payouts[i], stored.payouts[i])
			}
		}
		if !slices.Equal(mine.next, stored.next) {
			return fmt.Errorf("%s: automatic payouts remembered %q, stored %q", when, mine.next, stored.next)
		}
		return nil
	}
	for round, write := range []func(tx *tx) error{
		func(tx *tx) error { // into empty tables
			if err := tx.SavePayment(ctx, authorizedPayment("pay_1", at)); err != nil {
				return err
			}
			if _, err := tx.Dispute(ctx, "dp_1"); !errors.Is(err, ledger.ErrNotFound) {
				return fmt.Errorf("dp_1 before it is saved: %v", err)
			}
			if err := tx.SaveDispute(ctx, dispute("dp_1", 900)); err != nil {
				return err
			}
			for _, p := range []*ledger.Payout{payout("po_2", 4, true), payout("po_1", 2, true)} {
				if _, err := tx.AutomaticPayoutFor(ctx, "stripe", "usd", at); err != nil { // the order read first
					return err
				}
				if _, err := tx.Payout(ctx, p.ID); !errors.Is(err, ledger.ErrNotFound) {
					return fmt.Errorf("%s before it is saved: %v", p.ID, err)
				}
				if err := tx.SavePayout(ctx, p); err != nil {
					return err
				}
			}
			return nil
		},
		func(tx *tx) error { // into tables with rows
			d, err := tx.Dispute(ctx, "dp_1")
			if err != nil {
				return err
			}
			d.Amount, d.Status, d.FeeRefund, d.UpdatedAt = 5, ledger.DisputeWon, 1500, at.Add(time.Hour) // the amount stays
			if err := tx.SaveDispute(ctx, d); err != nil {
				return err
			}
			if err := tx.SaveDispute(ctx, dispute("dp_2", 700)); err != nil {
				return err
			}
			po, err := tx.Payout(ctx, "po_1")
			if err != nil {
				return err
			}
			po.Status, po.Amount, po.UpdatedAt = "paid", 1, at.Add(50*time.Hour) // the amount stays
			if err := tx.SavePayout(ctx, po); err != nil {
				return err
			}
			if _, err := tx.AutomaticPayoutFor(ctx, "stripe", "usd", at); err != nil {
				return err
			}
			for _, p := range []*ledger.Payout{payout("po_3", 3, true), payout("po_4", 3, false)} {
				if _, err := tx.Payout(ctx, p.ID); !errors.Is(err, ledger.ErrNotFound) {
					return fmt.Errorf("%s before it is saved: %v", p.ID, err)
				}
				if err := tx.SavePayout(ctx, p); err != nil {
					return err
				}
			}
			return nil
		},
	} {
		err := s.Update(ctx, func(lt ledger.Tx) error {
			tx := lt.(*tx)
			if err := write(tx); err != nil {
				return err
			}
			return compare(tx, fmt.Sprint("round ", round+1))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// orNil is v, or nil when err says it is not found; other errors pass.
func orNil[T any](v *T, err error) (*T, error) {
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// In books that already hold entries, Prefetch notes which of the next
// events' keys no entry has, and InsertEntry writes those behind; every
// answer is still the table's: a key stored before is refused as taken, a
// key the transaction wrote after the prefetch is taken from then on, and
// a key whose write a rolled-back savepoint undid can be written again.
func TestPrefetchNotesAbsentEntryKeys(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	entry := func(key string) *ledger.Entry {
		return &ledger.Entry{Key: key, Phase: ledger.Posted, OccurredAt: at, Postings: []ledger.Posting{
			{Account: "assets:test:cash", Currency: "usd", Amount: 250}, {Account: "income:test:sales", Currency: "usd", Amount: -250}}}
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error { return tx.InsertEntry(ctx, entry("evt_old")) }); err != nil {
		t.Fatal(err)
	}
	taken := func(err error) bool { return errors.Is(err, ledger.ErrIdempotencyConflict) }
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		if err := tx.Prefetch(ctx, ledger.Ahead{Keys: []string{"evt_old", "evt_a", "evt_b", "evt_c"}}); err != nil {
			return err
		}
		for key, want := range map[string]bool{"evt_old": false, "evt_a": true, "evt_b": true, "evt_c": true, "evt_unasked": false} {
			if got, err := tx.freshEntries.missing(ctx, tx, anyEntry, key); err != nil || got != want {
				return fmt.Errorf("%s known missing: %v (%v), want %v", key, got, err, want)
			}
		}
		if err := tx.InsertEntry(ctx, entry("evt_old")); !taken(err) {
			return fmt.Errorf("a stored key written again: %v, want it refused as taken", err)
		}
		if err := tx.InsertEntry(ctx, entry("evt_a")); err != nil {
			return err
		}
		if err := tx.InsertEntry(ctx, entry("evt_a")); !taken(err) {
			return fmt.Errorf("a key written after the prefetch, written again: %v, want it refused as taken", err)
		}
		err := tx.Nested(ctx, func() error {
			if err := tx.InsertEntry(ctx, entry("evt_b")); err != nil {
				return err
			}
			return errors.New("undo")
		})
		if err == nil || err.Error() != "undo" {
			return fmt.Errorf("the savepoint: %v", err)
		}
		if err := tx.InsertEntry(ctx, entry("evt_b")); err != nil {
			return fmt.Errorf("a key a rolled-back savepoint wrote, written again: %w", err)
		}
		if err := tx.InsertEntry(ctx, entry("evt_c")); err != nil {
			return err
		}
		// The next prefetch forgets the keys noted before.
		if err := tx.Prefetch(ctx, ledger.Ahead{Keys: []string{"evt_d"}}); err != nil {
			return err
		}
		if len(tx.freshEntries.absent) != 1 {
			return fmt.Errorf("known absent after the second prefetch: %v, want evt_d alone", tx.freshEntries.absent)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	rows, err := s.DB().Query(`SELECT key FROM entries ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if want := []string{"evt_old", "evt_a", "evt_b", "evt_c"}; !slices.Equal(keys, want) {
		t.Fatalf("entries %v, want %v", keys, want)
	}
}
