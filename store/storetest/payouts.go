package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// testPayoutSweeps checks the balance transactions a store gives for a
// payout (BTFilter.PayoutID, as the payout reconciliation report reads
// them) against every balance transaction's own PayoutID: derived payouts
// of two currencies, two automatic payouts at the same time (the first in
// id order takes the range), a manual payout, payouts told by the
// provider, a correction that follows its transaction, and a date adopted
// across a payout's cutoff.
func testPayoutSweeps(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	l := books(t, st)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	capture := func(key, cur, amount string, avail time.Time) *ledger.BalanceTransaction {
		t.Helper()
		r := must(l.Capture(ctx, ledger.CaptureRequest{Key: key, PaymentID: key, Provider: "stripe", Currency: cur,
			Amount: dec(amount), AvailableOn: avail, At: t0})).ok(t)
		return r.BalanceTransaction
	}
	payout := func(id, cur string, at time.Time, automatic bool) {
		t.Helper()
		must(l.CreatePayout(ctx, ledger.PayoutRequest{Key: id, PayoutID: id, Provider: "stripe", Currency: cur,
			Amount: dec("1.00"), At: at, Automatic: automatic})).ok(t)
	}
	capture("c1", "usd", "10.00", h(1))
	capture("c2", "usd", "11.00", h(4))
	capture("c3", "usd", "12.00", h(10))
	capture("c4", "usd", "13.00", h(15))
	capture("c5", "eur", "14.00", h(2))
	capture("c6", "usd", "15.00", h(40)) // after every payout: in none
	moved := capture("c7", "usd", "16.00", time.Time{})
	payout("po-a", "usd", h(3), true)
	payout("po-m", "usd", h(5), false)
	payout("po-b2", "usd", h(10), true)
	payout("po-b", "usd", h(10), true)
	payout("po-c", "usd", h(20), true)
	payout("po-e", "eur", h(10), true)
	for i, po := range []string{"po-m", "po-c", "po-gone"} {
		must(l.BookProviderTransaction(ctx, ledger.ProviderTransaction{Key: "told-" + po, Provider: "stripe",
			ID: "txn_told_" + po, Kind: "charge", Type: "charge", ReportingCategory: "charge", Currency: "usd",
			Amount: int64(100 * (i + 1)), Net: int64(100 * (i + 1)), Status: ledger.BTAvailable, Created: h(1),
			AvailableOn: h(2), PayoutID: po})).ok(t)
	}
	corrected := capture("c8", "usd", "9.00", time.Time{})
	for _, id := range []string{corrected.ID, "txn_told_po-m"} {
		must(l.CorrectBalanceTransaction(ctx, ledger.CorrectionRequest{Key: "fix-" + id, BalanceTransactionID: id,
			AmountDelta: dec("-0.50"), At: h(2)})).ok(t)
	}
	if n := must(l.AdoptAvailableOn(ctx, []ledger.Adoption{{BalanceTransactionID: moved.ID, AvailableOn: h(12)},
		{BalanceTransactionID: corrected.ID, AvailableOn: h(16)}}, h(30))).ok(t); n != 2 {
		t.Fatalf("adopted %d, want 2", n)
	}

	all := map[string][]string{}
	err := l.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachBalanceTransaction(ctx, ledger.BTFilter{}, func(b *ledger.BalanceTransaction) error {
			all[b.PayoutID] = append(all[b.PayoutID], b.ID)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all["po-b"]) != 2 || len(all["po-c"]) != 5 || len(all["po-m"]) != 2 || len(all["po-a"]) == 0 ||
		len(all["po-e"]) == 0 || len(all["po-b2"]) != 0 {
		t.Fatalf("the books are not as this test means them: %v", all)
	}
	for _, po := range []string{"po-a", "po-m", "po-b", "po-b2", "po-c", "po-e", "po-gone", "po-none"} {
		for _, f := range []ledger.BTFilter{{PayoutID: po}, {PayoutID: po, Provider: "stripe"}} {
			var got []string
			err := l.View(ctx, func(tx ledger.ReadTx) error {
				return tx.EachBalanceTransaction(ctx, f, func(b *ledger.BalanceTransaction) error {
					if b.PayoutID != po {
						return fmt.Errorf("%s gave %s, of payout %q", po, b.ID, b.PayoutID)
					}
					got = append(got, b.ID)
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := all[po]; !slices.Equal(got, want) {
				t.Errorf("%+v: %v, want %v", f, got, want)
			}
		}
	}
	verify(t, l)
}

// testAutomaticPayoutsInOneTransaction asks AutomaticPayoutFor many times
// in one transaction, as a first reconciliation's adoption does (a store
// may then read a scope's payouts once and answer from them), and writes
// payouts between the questions: every answer must be the first
// automatic payout, by time then id, at or after the date, counting the
// payouts the transaction wrote and not those a rolled-back nested
// transaction wrote.
func testAutomaticPayoutsInOneTransaction(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	l := books(t, st)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	for _, p := range []struct {
		id        string
		at        int
		automatic bool
	}{{"po-10", 10, true}, {"po-20", 20, true}, {"po-15m", 15, false}, {"po-30e", 30, true}} {
		cur := "usd"
		if p.id == "po-30e" {
			cur = "eur"
		}
		must(l.CreatePayout(ctx, ledger.PayoutRequest{Key: p.id, PayoutID: p.id, Provider: "stripe", Currency: cur,
			Amount: dec("1.00"), At: h(p.at), Automatic: p.automatic})).ok(t)
	}
	payout := func(id string, at int) *ledger.Payout {
		return &ledger.Payout{ID: id, Provider: "stripe", Currency: "usd", Amount: 100, Status: ledger.PayoutPaid,
			ArrivalDate: h(at), CreatedAt: h(at), UpdatedAt: h(at), Automatic: true}
	}
	errRolledBack := fmt.Errorf("rolled back on purpose")
	err := st.Update(ctx, func(tx ledger.Tx) error {
		// ask checks the answer for each hour from 0 to 40, forty-one
		// questions each time, more than any store needs before it reads
		// a scope whole.
		ask := func(when string, want func(hour int) string) {
			t.Helper()
			for hour := 0; hour <= 40; hour++ {
				got, err := tx.AutomaticPayoutFor(ctx, "stripe", "usd", h(hour))
				if err != nil {
					t.Fatalf("%s, hour %d: %v", when, hour, err)
				}
				if w := want(hour); got != w {
					t.Errorf("%s: the automatic payout for hour %d is %q, want %q", when, hour, got, w)
				}
			}
		}
		ask("before any write", func(hour int) string {
			switch {
			case hour <= 10:
				return "po-10"
			case hour <= 20:
				return "po-20"
			}
			return ""
		})
		// A payout written in the transaction is seen at once, also one
		// at the same time as another (the smaller id first).
		if err := tx.SavePayout(ctx, payout("po-05", 5)); err != nil {
			return err
		}
		if err := tx.SavePayout(ctx, payout("po-0a", 10)); err != nil {
			return err
		}
		written := func(hour int) string {
			switch {
			case hour <= 5:
				return "po-05"
			case hour <= 10:
				return "po-0a"
			case hour <= 20:
				return "po-20"
			}
			return ""
		}
		ask("after writing two", written)
		// One written in a nested transaction that rolls back is gone
		// again, even if it was asked about meanwhile.
		n, ok := tx.(ledger.Nester)
		if !ok {
			return fmt.Errorf("the store's transaction (%T) cannot nest", tx)
		}
		err := n.Nested(ctx, func() error {
			if err := tx.SavePayout(ctx, payout("po-25", 25)); err != nil {
				return err
			}
			ask("inside the nested transaction", func(hour int) string {
				if hour > 20 && hour <= 25 {
					return "po-25"
				}
				return written(hour)
			})
			return errRolledBack
		})
		if !errors.Is(err, errRolledBack) {
			return fmt.Errorf("nested: %v", err)
		}
		ask("after the nested transaction rolled back", written)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
