package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// A payment saved twice in a transaction that found the payments table
// empty (authorized, then captured) is held in memory and written once, with its last state and its first
// save's metadata and creation time. Every read in the transaction sees
// that state: by id, and by a query of the table, which writes the held
// payments first.
func TestHeldPaymentWrittenOnceWithItsLastState(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := updateLookedAt(ctx, s, func(tx *tx) error {
		p := authorizedPayment("pay_1", at)
		p.Metadata = map[string]string{"order": "o_1"}
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		p.Status, p.Captured, p.UpdatedAt = ledger.PaymentCaptured, 100, at.Add(time.Hour)
		p.Metadata["order"] = "changed by the caller after the save"
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		if tx.later != nil {
			return errors.New("a held payment was handed to the writer")
		}
		got, err := tx.Payment(ctx, "pay_1")
		if err != nil {
			return err
		}
		if got.Status != ledger.PaymentCaptured || got.Captured != 100 {
			return fmt.Errorf("read by id: %s, captured %d", got.Status, got.Captured)
		}
		var listed []*ledger.Payment
		if err := tx.EachPayment(ctx, "", func(p *ledger.Payment) error { listed = append(listed, p); return nil }); err != nil {
			return err
		}
		if len(listed) != 1 || listed[0].Captured != 100 {
			return fmt.Errorf("a query of the table found %d payments, the first %+v", len(listed), listed)
		}
		if len(tx.held) != 0 {
			return fmt.Errorf("%d payments still held after a query of their table", len(tx.held))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var status, metadata string
	var captured, created, updated int64
	err = s.DB().QueryRow(`SELECT status, captured, metadata, created_at, updated_at FROM payments WHERE id = 'pay_1'`).
		Scan(&status, &captured, &metadata, &created, &updated)
	if err != nil {
		t.Fatal(err)
	}
	if status != string(ledger.PaymentCaptured) || captured != 100 || metadata != `{"order":"o_1"}` ||
		created != at.UnixNano() || updated != at.Add(time.Hour).UnixNano() {
		t.Errorf("stored: %s, captured %d, metadata %s, created %d, updated %d", status, captured, metadata, created, updated)
	}
}

// Held payments are written paymentBuffer at a time, each batch in the
// order of their ids, and the rest at the commit. Into a table that held
// payments when the transaction looked, each is written as it is saved.
func TestHeldPaymentsWrittenInIDOrder(t *testing.T) {
	defer func(n int) { paymentBuffer = n }(paymentBuffer)
	paymentBuffer = 2
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := updateLookedAt(ctx, s, func(tx *tx) error {
		for _, id := range []string{"p5", "p4", "p3", "p2", "p1"} {
			// As the ledger does, the payment is looked for first: known
			// missing, it is inserted, and the cache holds it.
			if _, err := tx.Payment(ctx, id); !errors.Is(err, ledger.ErrNotFound) {
				return fmt.Errorf("%s before its save: %v", id, err)
			}
			if err := tx.SavePayment(ctx, authorizedPayment(id, at)); err != nil {
				return err
			}
		}
		// Written while the cache holds them: reads of other payments need
		// not wait for them.
		if tx.payments.dropped {
			return errors.New("writing payments the cache holds counted as a drop")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	order := storedIDs(t, s, `SELECT group_concat(id, ' ' ORDER BY rowid) FROM payments`)
	if want := []string{"p4", "p5", "p2", "p3", "p1"}; !slices.Equal(order, want) {
		t.Errorf("written in the order %v, want %v", order, want)
	}

	err = updateLookedAt(ctx, s, func(tx *tx) error {
		for _, id := range []string{"p9", "p8", "p7", "p6"} {
			if err := tx.SavePayment(ctx, authorizedPayment(id, at)); err != nil {
				return err
			}
			if len(tx.held) != 0 {
				return fmt.Errorf("%s held in books that hold payments", id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	order = storedIDs(t, s, `SELECT group_concat(id, ' ' ORDER BY rowid) FROM payments WHERE id > 'p5'`)
	if want := []string{"p9", "p8", "p7", "p6"}; !slices.Equal(order, want) {
		t.Errorf("into books that hold payments, written in the order %v, want %v", order, want)
	}
}

// Held payments known missing are written paymentChunk an insert, and a
// payment saved again after it was written is updated among them: every
// row is stored once, with its last state, in the order of the ids within
// each write of the held payments.
func TestHeldPaymentsInsertedInChunks(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	// Every id of the first batch once, out of order: a stride prime to
	// their count.
	n, stride := 2*paymentChunk+5, 7
	for gcd(stride, n) != 1 {
		stride += 2
	}
	var first, second []string
	for i := range n {
		first = append(first, fmt.Sprintf("p%03d", (i*stride)%n))
		second = append(second, fmt.Sprintf("p%03d5", i)) // between the first ids
	}
	captured := map[string]bool{}
	err := updateLookedAt(ctx, s, func(tx *tx) error {
		save := func(ids []string) error {
			for _, id := range ids {
				if _, err := tx.Payment(ctx, id); !errors.Is(err, ledger.ErrNotFound) {
					return fmt.Errorf("%s before its save: %v", id, err)
				}
				if err := tx.SavePayment(ctx, authorizedPayment(id, at)); err != nil {
					return err
				}
			}
			return nil
		}
		if err := save(first); err != nil {
			return err
		}
		if err := tx.flushPayments(ctx); err != nil {
			return err
		}
		// Captured after their write: updates, among the new inserts.
		for _, id := range []string{first[0], first[3], first[len(first)-1]} {
			p, err := tx.Payment(ctx, id)
			if err != nil {
				return err
			}
			p.Status, p.Captured = ledger.PaymentCaptured, 100
			if err := tx.SavePayment(ctx, p); err != nil {
				return err
			}
			captured[id] = true
		}
		return save(second)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Sorted(slices.Values(first)), second...)
	if order := storedIDs(t, s, `SELECT group_concat(id, ' ' ORDER BY rowid) FROM payments`); !slices.Equal(order, want) {
		t.Errorf("written in the order %v, want %v", order, want)
	}
	rows, err := s.DB().Query(`SELECT id, status, captured FROM payments`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, status string
		var c int64
		if err := rows.Scan(&id, &status, &c); err != nil {
			t.Fatal(err)
		}
		if captured[id] != (status == string(ledger.PaymentCaptured) && c == 100) {
			t.Errorf("%s stored %s, captured %d", id, status, c)
		}
	}
}

// Held payments known stored (saved again after their first write) are
// updated paymentChunk a statement, every column a save changes set from
// its own row: read back from a new transaction, each is as last saved.
// An update that finds a row missing fails the transaction, as the
// statement one a payment did.
func TestHeldPaymentsUpdatedInChunks(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	n := 2*paymentChunk + 3
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%03d", (i*7)%n)
	}
	want := map[string]ledger.Payment{}
	err := updateLookedAt(ctx, s, func(tx *tx) error {
		for _, id := range ids {
			if err := tx.SavePayment(ctx, authorizedPayment(id, at)); err != nil {
				return err
			}
		}
		if err := tx.flushPayments(ctx); err != nil {
			return err
		}
		for i, id := range ids {
			p, err := tx.Payment(ctx, id)
			if err != nil {
				return err
			}
			// Every column of paymentUpdated a value of its own.
			v := int64(i + 1)
			p.ProviderRef, p.Status = "ch_"+id, ledger.PaymentCaptured
			p.Authorized, p.Captured, p.Refunded, p.Disputed, p.Fees = 1000+v, 900+v, 30+v, 20+v, 10+v
			p.SettlementCurrency, p.Settled, p.Unwound = "eur", 800+v, 5+v
			p.UpdatedAt = at.Add(time.Duration(v) * time.Minute)
			if err := tx.SavePayment(ctx, p); err != nil {
				return err
			}
			want[id] = *p
		}
		if got := len(tx.held); got != n {
			return fmt.Errorf("%d payments held, want %d", got, n)
		}
		// Written paymentChunk a statement: three for 131.
		if err := tx.sync(); err != nil {
			return err
		}
		before := tx.later.ran
		if err := tx.flushPayments(ctx); err != nil {
			return err
		}
		if err := tx.sync(); err != nil {
			return err
		}
		if got, want := tx.later.ran-before, (n+paymentChunk-1)/paymentChunk; got != want {
			return fmt.Errorf("%d payments updated in %d statements, want %d", n, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx ledger.ReadTx) error {
		for id, w := range want {
			got, err := tx.Payment(ctx, id)
			if err != nil {
				return err
			}
			if got.ProviderRef != w.ProviderRef || got.Status != w.Status || got.Authorized != w.Authorized ||
				got.Captured != w.Captured || got.Refunded != w.Refunded || got.Disputed != w.Disputed || got.Fees != w.Fees ||
				got.SettlementCurrency != w.SettlementCurrency || got.Settled != w.Settled || got.Unwound != w.Unwound ||
				!got.UpdatedAt.Equal(w.UpdatedAt) || !got.CreatedAt.Equal(at) {
				t.Errorf("%s stored as %+v, want %+v", id, *got, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	err = s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		gone := &heldPayment{p: *authorizedPayment("p_never_stored", at), write: writeUpdate}
		stored := &heldPayment{p: want[ids[0]], write: writeUpdate}
		return tx.writePayments(ctx, writeUpdate, []*heldPayment{stored, gone})
	})
	if err == nil || !strings.Contains(err.Error(), "changed 1 rows, not 2") {
		t.Errorf("an update of a payment not stored: %v", err)
	}
}

// A refund's and a dispute's rows refer to their payment's: a held payment
// is written before them.
func TestHeldPaymentWrittenBeforeItsRefundAndDispute(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := updateLookedAt(ctx, s, func(tx *tx) error {
		entry, err := testEntry(ctx, tx, "charge", at)
		if err != nil {
			return err
		}
		for _, id := range []string{"pay_r", "pay_d"} {
			if err := tx.SavePayment(ctx, authorizedPayment(id, at)); err != nil {
				return err
			}
		}
		if err := tx.SaveRefund(ctx, &ledger.Refund{ID: "re_1", PaymentID: "pay_r", Amount: 100, Currency: "usd",
			EntryID: entry, CreatedAt: at}); err != nil {
			return err
		}
		return tx.SaveDispute(ctx, &ledger.Dispute{ID: "dp_1", PaymentID: "pay_d", Provider: "stripe", Amount: 100,
			Currency: "usd", Status: ledger.DisputeOpen, CreatedAt: at, UpdatedAt: at})
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM payments) + (SELECT count(*) FROM refunds) +
		(SELECT count(*) FROM disputes)`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("%d rows stored, want 4 (%v)", n, err)
	}
}

// A savepoint rolled back takes its held payments with it.
func TestHeldPaymentsOfARolledBackSavepoint(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	refused := errors.New("refused")
	err := updateLookedAt(ctx, s, func(tx *tx) error {
		if err := tx.SavePayment(ctx, authorizedPayment("pay_kept", at)); err != nil {
			return err
		}
		err := tx.Nested(ctx, func() error {
			if err := tx.SavePayment(ctx, authorizedPayment("pay_gone", at)); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			return fmt.Errorf("the savepoint: %v", err)
		}
		if _, err := tx.Payment(ctx, "pay_gone"); !errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("a payment of the rolled-back savepoint read back: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := storedIDs(t, s, `SELECT group_concat(id, ' ') FROM payments`)
	if !slices.Equal(ids, []string{"pay_kept"}) {
		t.Errorf("stored %v, want only pay_kept", ids)
	}
}

// A held payment the cache has dropped is read from memory, by id and
// ahead (Prefetch), not from the table, which holds an older state or none,
// even after a wait for the queued writes has cleared the drop.
func TestHeldPaymentReadAfterTheCacheDropsIt(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := updateLookedAt(ctx, s, func(tx *tx) error {
		for _, id := range []string{"pay_stored", "pay_new"} {
			if err := tx.SavePayment(ctx, authorizedPayment(id, at)); err != nil {
				return err
			}
		}
		if err := tx.flushPayments(ctx); err != nil { // pay_stored goes to the table, authorized
			return err
		}
		for _, id := range []string{"pay_stored", "pay_new"} {
			p := authorizedPayment(id, at)
			p.Status, p.Captured = ledger.PaymentCaptured, 100
			if id == "pay_new" {
				p.ID = "pay_later"
			}
			if err := tx.SavePayment(ctx, p); err != nil {
				return err
			}
		}
		if len(tx.held) != 2 {
			return fmt.Errorf("%d payments held, want 2", len(tx.held))
		}
		turnPaymentCache(tx)
		if tx.payments.has("pay_stored") || tx.payments.has("pay_later") {
			return errors.New("the cache still holds the payments")
		}
		// A wait for the writes queued clears the drop: reads of payments
		// the cache does not hold go to the table without waiting again.
		if err := tx.sync(); err != nil {
			return err
		}
		if err := tx.prefetchPayments(ctx, []string{"pay_stored", "pay_later"}); err != nil {
			return err
		}
		for _, id := range []string{"pay_stored", "pay_later"} {
			got, err := tx.Payment(ctx, id)
			if err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			if got.Status != ledger.PaymentCaptured || got.Captured != 100 {
				return fmt.Errorf("%s read as %s, captured %d; want the held state", id, got.Status, got.Captured)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A held payment the cache has dropped, once written, is read from the
// table after its write has run: its write counts as a drop.
func TestHeldPaymentWrittenAfterTheCacheDroppedIt(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := updateLookedAt(ctx, s, func(tx *tx) error {
		if err := tx.SavePayment(ctx, authorizedPayment("pay_1", at)); err != nil {
			return err
		}
		turnPaymentCache(tx)
		if err := tx.sync(); err != nil {
			return err
		}
		if err := tx.flushPayments(ctx); err != nil {
			return err
		}
		if _, err := tx.Payment(ctx, "pay_1"); err != nil {
			return fmt.Errorf("the payment just written: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// storedIDs runs query, which returns one row of ids separated by spaces
// (group_concat), and splits them.
func storedIDs(t *testing.T, s *Store, query string) []string {
	t.Helper()
	var ids sql.NullString
	if err := s.DB().QueryRow(query).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	return strings.Fields(ids.String)
}

// testEntry inserts an entry for refunds and balance transactions to
// refer to, and returns its id.
func testEntry(ctx context.Context, tx ledger.Tx, key string, at time.Time) (int64, error) {
	e := &ledger.Entry{Key: key, Phase: ledger.Posted, OccurredAt: at, Postings: []ledger.Posting{
		{Account: "assets:stripe:pending", Currency: "usd", Amount: 100}, {Account: "income:sales", Currency: "usd", Amount: -100}}}
	err := tx.InsertEntry(ctx, e)
	return e.ID, err
}

// updateLookedAt runs fn in a write transaction that has first looked at
// the payments table, as a feed's first events do (lookAtPayments).
func updateLookedAt(ctx context.Context, s *Store, fn func(*tx) error) error {
	return s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		if err := lookAtPayments(ctx, tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// lookAtPayments has the transaction look at the payments table, as a
// feed's first events do, so that it knows which ids it wrote there.
func lookAtPayments(ctx context.Context, tx *tx) error {
	if _, err := tx.Payment(ctx, "pay_none"); !errors.Is(err, ledger.ErrNotFound) {
		return fmt.Errorf("a payment never saved: %v", err)
	}
	return nil
}

// turnPaymentCache fills the payment cache twice over with other ids: the
// payments it held are dropped.
func turnPaymentCache(tx *tx) {
	for i := range maxCachedPayments {
		tx.payments.put(fmt.Sprint("other_", i), nil)
	}
}

// sortedHeld orders held payments as their ids sort as text, whatever
// their first sixteen bytes share: ids that tie there, ids shorter than
// sixteen bytes and ids that are another's prefix.
func TestSortedHeldInTheOrderOfTheIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ids := []string{"", "a", "a\x00", "a\x00b", "ord_", "ord_0123456789ab", "ord_0123456789abc", "ord_0123456789abb",
		"ord_0123456789ab\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\xff", "é", "e"}
	const alphabet = "0ab\x00\xff"
	for range 2000 {
		n := r.IntN(24)
		b := []byte("ord_012345678")[:min(n, 13)]
		for len(b) < n {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		ids = append(ids, string(b))
	}
	held := map[string]*heldPayment{}
	for _, id := range ids {
		held[id] = &heldPayment{p: ledger.Payment{ID: id}}
	}
	want := slices.Sorted(maps.Keys(held))
	got := sortedHeld(held)
	if len(got) != len(want) {
		t.Fatalf("%d payments sorted, want %d", len(got), len(want))
	}
	for i, k := range got {
		if k.h.p.ID != want[i] {
			t.Fatalf("position %d: %q, want %q", i, k.h.p.ID, want[i])
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
