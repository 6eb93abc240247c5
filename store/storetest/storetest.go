// Package storetest is the conformance suite every settle store must pass:
// the ledger's rules through the store (lifecycle, idempotency, derived
// payouts and the transactions each payout holds, closed periods, Verify),
// lookups read ahead answered as those asked one at a time, many writers at once, provider records,
// reconciliation runs and exceptions with their history, a fix that
// commits with the exception it closes, bank statements, and what a write
// transaction's base reader sees where the store has one. A store's own test calls Run with
// a function that opens a fresh, empty store.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// Opener opens a fresh, empty store for one test; the store is closed by
// the opener's own cleanup.
type Opener func(t *testing.T) app.Store

// Run runs every conformance test against stores from open.
func Run(t *testing.T, open Opener) {
	for _, c := range []struct {
		name string
		test func(*testing.T, Opener)
	}{
		{"Lifecycle", testLifecycle},
		{"Idempotency", testIdempotency},
		{"DerivedPayouts", testDerivedPayouts},
		{"PayoutSweeps", testPayoutSweeps},
		{"AutomaticPayoutsInOneTransaction", testAutomaticPayoutsInOneTransaction},
		{"ReadAheadInOneTransaction", testReadAheadInOneTransaction},
		{"ReadAheadObjects", testReadAheadObjects},
		{"DueBalanceTransactions", testDueBalanceTransactions},
		{"BalanceTransactionsAcrossProviders", testBalanceTransactionsAcrossProviders},
		{"BalancesAsOf", testBalancesAsOf},
		{"ReadsOwnWrites", testReadsOwnWrites},
		{"PaymentColumns", testPaymentColumns},
		{"ClosedPeriod", testClosedPeriod},
		{"ConcurrentWriters", testConcurrentWriters},
		{"BatchedPosting", testBatchedPosting},
		{"Records", testRecords},
		{"RecordOccurrencesAndUpdates", testRecordOccurrencesAndUpdates},
		{"RecordGrains", testRecordGrains},
		{"RunsAndExceptions", testRunsAndExceptions},
		{"LinkList", testLinkList},
		{"ExceptionPaging", testExceptionPaging},
		{"ManyExceptions", testManyExceptions},
		{"RunStoredWhole", testRunStoredWhole},
		{"FixCommitsWithItsException", testFixCommitsWithItsException},
		{"Settings", testSettings},
		{"BankStatements", testBankStatements},
		{"BankEntries", testBankEntries},
		{"MoneyAcrossCurrencies", testMoneyAcrossCurrencies},
		{"Ledger", testLedger},
		{"Lease", testLease},
		{"BaseReader", testBaseReader},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open) })
	}
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// outcome holds a call's results until ok checks them.
type outcome[T any] struct {
	v   T
	err error
}

// must captures a call's results: must(f()).ok(t) fails the test on error.
func must[T any](v T, err error) outcome[T] { return outcome[T]{v, err} }

func (o outcome[T]) ok(t *testing.T) T {
	t.Helper()
	if o.err != nil {
		t.Fatalf("unexpected error: %v", o.err)
	}
	return o.v
}

func books(t *testing.T, st app.Store) *ledger.Ledger {
	now := t0
	return ledger.New(st, &ledger.Options{Now: func() time.Time { return now }})
}

// verify fails the test on any invariant violation.
func verify(t *testing.T, l *ledger.Ledger) {
	t.Helper()
	vs, err := l.Verify(context.Background())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, v := range vs {
		t.Errorf("violation: %s", v)
	}
}

// balances returns posted balances keyed "account currency".
func balances(t *testing.T, l *ledger.Ledger) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, b := range must(l.Balances(context.Background(), "")).ok(t) {
		out[b.Account+" "+b.Currency] = b.Posted
	}
	return out
}

// zeroSum fails unless the posted balances of each currency sum to zero.
func zeroSum(t *testing.T, l *ledger.Ledger) {
	t.Helper()
	sums := map[string]int64{}
	for _, b := range must(l.Balances(context.Background(), "")).ok(t) {
		sums[b.Currency] += b.Posted
	}
	for cur, s := range sums {
		if s != 0 {
			t.Errorf("balances in %s sum to %d", cur, s)
		}
	}
}

func testLifecycle(t *testing.T, open Opener) {
	ctx := context.Background()
	l := books(t, open(t))
	must(l.Authorize(ctx, ledger.AuthorizeRequest{Key: "a1", PaymentID: "p1", Provider: "stripe", ProviderRef: "ch_1",
		Currency: "usd", Amount: dec("100.00"), At: t0})).ok(t)
	must(l.Capture(ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Amount: dec("80.00"),
		Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("2.62")}}, AvailableOn: t0.Add(48 * time.Hour), At: t0.Add(time.Hour)})).ok(t)
	if _, err := l.Refund(ctx, ledger.RefundRequest{Key: "r0", PaymentID: "p1", RefundID: "re0", Amount: dec("80.01"),
		At: t0.Add(2 * time.Hour)}); !errors.Is(err, ledger.ErrOverRefund) {
		t.Errorf("refund above captured: %v, want ErrOverRefund", err)
	}
	must(l.Refund(ctx, ledger.RefundRequest{Key: "r1", PaymentID: "p1", RefundID: "re1", Amount: dec("30.00"),
		At: t0.Add(3 * time.Hour)})).ok(t)
	must(l.MakeAvailable(ctx, t0.Add(72*time.Hour))).ok(t)
	must(l.OpenDispute(ctx, ledger.DisputeRequest{Key: "d1", PaymentID: "p1", DisputeID: "dp1", Amount: dec("50.00"),
		Fee: dec("15.00"), At: t0.Add(80 * time.Hour)})).ok(t)
	must(l.LoseDispute(ctx, ledger.DisputeCloseRequest{Key: "d1-lost", DisputeID: "dp1", At: t0.Add(90 * time.Hour)})).ok(t)
	must(l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po1", PayoutID: "po1", Provider: "stripe", Amount: dec("10.00"),
		Currency: "usd", At: t0.Add(100 * time.Hour)})).ok(t)
	must(l.PayPayout(ctx, ledger.PayoutUpdateRequest{Key: "po1-paid", PayoutID: "po1", At: t0.Add(120 * time.Hour)})).ok(t)
	want := map[string]int64{
		"assets:stripe:available usd": 7738 - 3000 - 6500 - 1000, "assets:stripe:pending usd": 0,
		"assets:bank:stripe usd": 1000, "assets:payouts:in_transit usd": 0, "income:sales usd": -8000,
		"income:refunds usd": 3000, "expenses:fees:stripe_fee usd": 262, "expenses:fees:dispute usd": 1500,
		"expenses:chargebacks usd": 5000, "assets:disputes:open usd": 0,
	}
	got := balances(t, l)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	p := payment(t, l, "p1")
	if p.Captured != 8000 || p.Refunded != 3000 || p.Disputed != 5000 {
		t.Errorf("payment %+v", p)
	}
	// As of before the refund, the books hold the capture only.
	asOf := map[string]int64{}
	for _, b := range must(l.BalancesAsOf(ctx, "", t0.Add(2*time.Hour))).ok(t) {
		asOf[b.Account] = b.Posted
	}
	if asOf["income:sales"] != -8000 || asOf["income:refunds"] != 0 {
		t.Errorf("as of before the refund: %v", asOf)
	}
	verify(t, l)
	zeroSum(t, l)
}

func testIdempotency(t *testing.T, open Opener) {
	ctx := context.Background()
	l := books(t, open(t))
	req := ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd", Amount: dec("10.00"), At: t0}
	first := must(l.Capture(ctx, req)).ok(t)
	again := must(l.Capture(ctx, req)).ok(t)
	if !again.Replayed || again.Entry.ID != first.Entry.ID {
		t.Errorf("replay: replayed %v entry %d, want the original %d", again.Replayed, again.Entry.ID, first.Entry.ID)
	}
	// The entry carries the ledger's clock, not the store's.
	err := l.View(ctx, func(tx ledger.ReadTx) error {
		e, err := tx.EntryByKey(ctx, "c1")
		if err == nil && !e.RecordedAt.Equal(t0) {
			t.Errorf("recorded at %s, want the ledger's clock %s", e.RecordedAt, t0)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	req.Amount = dec("11.00")
	if _, err := l.Capture(ctx, req); !errors.Is(err, ledger.ErrIdempotencyConflict) {
		t.Errorf("same key, other request: %v, want ErrIdempotencyConflict", err)
	}
	e := must(l.PostEntry(ctx, ledger.EntryInput{Key: "owner", OccurredAt: t0, Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "5.00"), ledger.Credit("equity:owner", "usd", "5.00")}})).ok(t)
	must(l.Reverse(ctx, "rev1", e.ID, t0.Add(time.Hour), "")).ok(t)
	if _, err := l.Reverse(ctx, "rev2", e.ID, t0.Add(time.Hour), ""); !errors.Is(err, ledger.ErrAlreadyResolved) {
		t.Errorf("second reversal: %v, want ErrAlreadyResolved", err)
	}
	if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "bad", OccurredAt: t0, Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "5.00"), ledger.Credit("equity:owner", "usd", "4.00")}}); !errors.Is(err, ledger.ErrUnbalanced) {
		t.Errorf("unbalanced entry: %v, want ErrUnbalanced", err)
	}
	verify(t, l)
	zeroSum(t, l)
}

func testDerivedPayouts(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	l := books(t, st)
	c := must(l.Capture(ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd",
		Amount: dec("10.00"), AvailableOn: t0.Add(time.Hour), At: t0})).ok(t)
	must(l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po-manual", PayoutID: "po-manual", Provider: "stripe",
		Amount: dec("1.00"), Currency: "usd", At: t0.Add(2 * time.Hour)})).ok(t)
	late := must(l.Capture(ctx, ledger.CaptureRequest{Key: "c2", PaymentID: "p2", Provider: "stripe", Currency: "usd",
		Amount: dec("20.00"), AvailableOn: t0.Add(30 * time.Hour), At: t0})).ok(t)
	must(l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po-auto", PayoutID: "po-auto", Provider: "stripe",
		Amount: dec("10.00"), Currency: "usd", At: t0.Add(3 * time.Hour), Automatic: true})).ok(t)
	var got []string
	err := l.View(ctx, func(tx ledger.ReadTx) error {
		for _, id := range []string{c.BalanceTransaction.ID, late.BalanceTransaction.ID} {
			bt, err := tx.BalanceTransaction(ctx, id)
			if err != nil {
				return err
			}
			got = append(got, bt.PayoutID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[po-auto ]" {
		t.Errorf("payouts of the two charges %q, want [po-auto ] (the manual payout claims none)", got)
	}
	// A told date is not replaced; the late charge's estimate is, and its
	// payout follows it.
	if _, err := l.AdoptAvailableOn(ctx, []ledger.Adoption{{BalanceTransactionID: c.BalanceTransaction.ID,
		AvailableOn: t0.Add(5 * time.Hour)}}, t0.Add(10*time.Hour)); !errors.Is(err, ledger.ErrInvalidRequest) {
		t.Errorf("adopting over a told date: %v, want ErrInvalidRequest", err)
	}
	est := must(l.Capture(ctx, ledger.CaptureRequest{Key: "c3", PaymentID: "p3", Provider: "stripe", Currency: "usd",
		Amount: dec("5.00"), At: t0})).ok(t)
	if n := must(l.AdoptAvailableOn(ctx, []ledger.Adoption{{BalanceTransactionID: est.BalanceTransaction.ID,
		AvailableOn: t0.Add(2 * time.Hour)}}, t0.Add(10*time.Hour))).ok(t); n != 1 {
		t.Errorf("adopted %d, want 1", n)
	}
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		bt, err := tx.BalanceTransaction(ctx, est.BalanceTransaction.ID)
		if err == nil && (bt.PayoutID != "po-auto" || bt.AvailableOnEstimated || bt.Status != ledger.BTAvailable) {
			t.Errorf("after adoption: %+v", bt)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A charge made available at its estimate and then told a later date
	// is pending again until that date: the store finds the entry that made
	// it available (StoredEntryKeys), and the funds move back.
	moved := must(l.Capture(ctx, ledger.CaptureRequest{Key: "c4", PaymentID: "p4", Provider: "stripe", Currency: "usd",
		Amount: dec("7.00"), At: t0})).ok(t)
	asOf := moved.BalanceTransaction.AvailableOn.Add(time.Hour)
	must(l.MakeAvailable(ctx, asOf)).ok(t)
	before := balances(t, l)
	if n := must(l.AdoptAvailableOn(ctx, []ledger.Adoption{{BalanceTransactionID: moved.BalanceTransaction.ID,
		AvailableOn: asOf.Add(48 * time.Hour)}}, asOf)).ok(t); n != 1 {
		t.Errorf("adopted %d, want 1", n)
	}
	after := balances(t, l)
	if d := after["assets:stripe:pending usd"] - before["assets:stripe:pending usd"]; d != 700 {
		t.Errorf("pending moved by %d after the later date was adopted, want 700", d)
	}
	verify(t, l)
}

// testBalanceTransactionsAcrossProviders checks that the balance
// transactions of several providers come in (created, id) order, whichever
// provider each is of, with a time range or without, and those of one
// provider alone when it is named.
func testBalanceTransactionsAcrossProviders(t *testing.T, open Opener) {
	ctx := context.Background()
	l := books(t, open(t))
	charges := []struct {
		key, provider string
		at            time.Duration
	}{
		{"c1", "stripe", 3}, {"c2", "justifi", 1}, {"c3", "whop", 2}, {"c4", "stripe", 1},
		{"c5", "justifi", 2}, {"c6", "stripe", 5}, {"c7", "whop", 4}, {"c8", "justifi", 5},
	}
	type stamp struct {
		at            time.Time
		id            string
		key, provider string
	}
	var all []stamp
	keys := map[string]string{}
	for _, c := range charges {
		at := t0.Add(c.at * time.Hour)
		res := must(l.Capture(ctx, ledger.CaptureRequest{Key: c.key, PaymentID: "p" + c.key, Provider: c.provider,
			Currency: "usd", Amount: dec("10.00"), At: at})).ok(t)
		keys[res.BalanceTransaction.ID] = c.key
		all = append(all, stamp{at, res.BalanceTransaction.ID, c.key, c.provider})
	}
	slices.SortFunc(all, func(x, y stamp) int { return cmp.Or(x.at.Compare(y.at), strings.Compare(x.id, y.id)) })
	want := func(f ledger.BTFilter) []string {
		var out []string
		for _, s := range all {
			if (f.From.IsZero() || !s.at.Before(f.From)) && (f.To.IsZero() || s.at.Before(f.To)) &&
				(f.Provider == "" || s.provider == f.Provider) {
				out = append(out, s.key)
			}
		}
		return out
	}
	for _, f := range []ledger.BTFilter{{}, {From: t0.Add(2 * time.Hour)}, {To: t0.Add(2 * time.Hour)},
		{From: t0.Add(2 * time.Hour), To: t0.Add(5 * time.Hour)}, {Provider: "stripe"}, {Provider: "justifi", From: t0.Add(2 * time.Hour)},
		{From: t0.Add(9 * time.Hour)}} {
		var got []string
		err := l.View(ctx, func(tx ledger.ReadTx) error {
			return tx.EachBalanceTransaction(ctx, f, func(b *ledger.BalanceTransaction) error {
				got = append(got, keys[b.ID])
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if w := want(f); !slices.Equal(got, w) {
			t.Errorf("%+v: %v, want %v", f, got, w)
		}
	}
}

// testDueBalanceTransactions checks the sweep's query: pending balance
// transactions due by a time, of one provider and currency or of all.
func testDueBalanceTransactions(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	l := books(t, st)
	charges := []struct{ key, provider, currency string }{
		{"c1", "stripe", "usd"}, {"c2", "stripe", "eur"}, {"c3", "justifi", "usd"}, {"c4", "stripe", "usd"},
	}
	ids := map[string]string{}
	for i, c := range charges {
		res := must(l.Capture(ctx, ledger.CaptureRequest{Key: c.key, PaymentID: "p" + c.key, Provider: c.provider,
			Currency: c.currency, Amount: dec("10.00"), AvailableOn: t0.Add(time.Duration(i+1) * time.Hour), At: t0})).ok(t)
		ids[res.BalanceTransaction.ID] = c.key
	}
	cases := []struct {
		asOf               time.Time
		provider, currency string
		want               string
	}{
		{t0.Add(10 * time.Hour), "", "", "[c1 c2 c3 c4]"},
		{t0.Add(10 * time.Hour), "stripe", "usd", "[c1 c4]"},
		{t0.Add(10 * time.Hour), "stripe", "", "[c1 c2 c4]"},
		{t0.Add(10 * time.Hour), "", "usd", "[c1 c3 c4]"},
		{t0.Add(3 * time.Hour), "", "usd", "[c1 c3]"},
		{t0.Add(10 * time.Hour), "justifi", "eur", "[]"},
		{t0, "", "", "[]"},
	}
	err := st.Update(ctx, func(tx ledger.Tx) error {
		for _, c := range cases {
			due, err := tx.DueBalanceTransactions(ctx, c.asOf, c.provider, c.currency)
			if err != nil {
				return err
			}
			got := []string{}
			for _, bt := range due {
				if bt.Status != ledger.BTPending {
					t.Errorf("due %s has status %q", bt.ID, bt.Status)
				}
				got = append(got, ids[bt.ID])
			}
			if fmt.Sprint(got) != c.want {
				t.Errorf("due by %s of %q %q: %v, want %s", c.asOf.Format(time.RFC3339), c.provider, c.currency, got, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A sweep of one currency leaves the other pending.
	must(l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po", PayoutID: "po", Provider: "stripe", Amount: dec("1.00"),
		Currency: "usd", At: t0.Add(10 * time.Hour), Automatic: true})).ok(t)
	err = st.Update(ctx, func(tx ledger.Tx) error {
		due, err := tx.DueBalanceTransactions(ctx, t0.Add(10*time.Hour), "", "")
		got := []string{}
		for _, bt := range due {
			got = append(got, ids[bt.ID])
		}
		if err == nil && fmt.Sprint(got) != "[c2 c3]" {
			t.Errorf("due after stripe's usd payout: %v, want [c2 c3]", got)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// More than a read's block (a store may read in blocks of a few
	// hundred): every one comes back, in (available_on, id) order, here the
	// reverse of the order they were booked in.
	const many = 600
	var want []string
	err = l.Batch(ctx, func(tl *ledger.Ledger) error {
		for i := range many {
			res, err := tl.Capture(ctx, ledger.CaptureRequest{Key: fmt.Sprintf("g%d", i), PaymentID: fmt.Sprintf("pg%d", i),
				Provider: "stripe", Currency: "gbp", Amount: dec("1.00"), AvailableOn: t0.Add(time.Duration(many-i) * time.Minute), At: t0})
			if err != nil {
				return err
			}
			want = append(want, res.BalanceTransaction.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(want)
	err = st.Update(ctx, func(tx ledger.Tx) error {
		due, err := tx.DueBalanceTransactions(ctx, t0.Add(10*time.Hour), "stripe", "gbp")
		got := make([]string, 0, len(due))
		for _, bt := range due {
			got = append(got, bt.ID)
		}
		if err == nil && !slices.Equal(got, want) {
			t.Errorf("%d due gbp transactions came back, want %d in (available_on, id) order; first %v", len(got), len(want), got[:min(3, len(got))])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testBalancesAsOf checks posted balances at points in time: before,
// at and after the last posted entry (where a store may answer from the
// maintained balances), with a pending entry after it that must not count,
// an account whose postings cancel out, a prefix, and inside a
// transaction that has just posted.
func testBalancesAsOf(t *testing.T, open Opener) {
	ctx := context.Background()
	l := books(t, open(t))
	post := func(l *ledger.Ledger, key string, at time.Time, pending bool, ps ...ledger.PostingInput) {
		t.Helper()
		in := ledger.EntryInput{Key: key, OccurredAt: at, Pending: pending, Postings: ps}
		if pending {
			in.ExpiresAt = at.Add(24 * time.Hour)
		}
		must(l.PostEntry(ctx, in)).ok(t)
	}
	post(l, "sale", t0, false, ledger.Debit("assets:cash", "usd", "10"), ledger.Credit("income:sales", "usd", "10"))
	post(l, "out", t0.Add(10*time.Minute), false, ledger.Debit("assets:float", "eur", "3"), ledger.Credit("assets:cash", "eur", "3"))
	post(l, "back", t0.Add(20*time.Minute), false, ledger.Debit("assets:cash", "eur", "3"), ledger.Credit("assets:float", "eur", "3"))
	post(l, "sale-2", t0.Add(time.Hour), false, ledger.Debit("assets:cash", "usd", "5"), ledger.Credit("income:sales", "usd", "5"))
	post(l, "hold", t0.Add(2*time.Hour), true, ledger.Debit("assets:held", "gbp", "7"), ledger.Credit("income:sales", "gbp", "7"))
	asOf := func(l *ledger.Ledger, prefix string, at time.Time) string {
		t.Helper()
		var got []string
		for _, b := range must(l.BalancesAsOf(ctx, prefix, at)).ok(t) {
			if b.Pending != 0 {
				t.Errorf("BalancesAsOf(%s) gives %s a pending part %d", at.Format(time.RFC3339), b.Account, b.Pending)
			}
			got = append(got, fmt.Sprintf("%s %s %d", b.Account, b.Currency, b.Posted))
		}
		return strings.Join(got, ", ")
	}
	all := "assets:cash usd 1500, income:sales usd -1500"
	for _, c := range []struct {
		prefix string
		at     time.Time
		want   string
	}{
		{"", t0.Add(-time.Second), ""},
		{"", t0, "assets:cash usd 1000, income:sales usd -1000"},
		{"", t0.Add(15 * time.Minute), "assets:cash eur -300, assets:cash usd 1000, assets:float eur 300, income:sales usd -1000"},
		{"", t0.Add(30 * time.Minute), "assets:cash usd 1000, income:sales usd -1000"},
		{"", t0.Add(time.Hour), all},
		{"", t0.Add(3 * time.Hour), all},
		{"", ledger.MaxTime, all},
		{"assets", ledger.MaxTime, "assets:cash usd 1500"},
		{"assets", t0.Add(15 * time.Minute), "assets:cash eur -300, assets:cash usd 1000, assets:float eur 300"},
	} {
		if got := asOf(l, c.prefix, c.at); got != c.want {
			t.Errorf("BalancesAsOf(%q, %s) = [%s], want [%s]", c.prefix, c.at.Format(time.RFC3339), got, c.want)
		}
	}
	err := l.Batch(ctx, func(tl *ledger.Ledger) error {
		post(tl, "sale-3", t0.Add(3*time.Hour), false, ledger.Debit("assets:cash", "usd", "1"), ledger.Credit("income:sales", "usd", "1"))
		if got, want := asOf(tl, "", ledger.MaxTime), "assets:cash usd 1600, income:sales usd -1600"; got != want {
			t.Errorf("inside the transaction that posted: [%s], want [%s]", got, want)
		}
		if got := asOf(tl, "", t0.Add(2*time.Hour)); got != all {
			t.Errorf("inside the transaction, before what it posted: [%s], want [%s]", got, all)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A store may sum from the start or take the later postings off the
	// maintained balances (whichever reads fewer entries): at every
	// minute of four hours of entries, either way, the balances are the
	// sums of the posted entries up to then, taken one by one.
	for i := range 24 {
		at := t0.Add(3*time.Hour + time.Duration(i*10+5)*time.Minute)
		cur := []string{"usd", "eur"}[i%2]
		post(l, fmt.Sprintf("more-%d", i), at, i%5 == 4, ledger.Debit("assets:cash", cur, fmt.Sprint(i+1)),
			ledger.Credit("income:sales", cur, fmt.Sprint(i+1)))
	}
	// Funds that go into an account and out again in one transaction
	// leave it nothing (a store may keep no balance for it), yet it held
	// them in between.
	err = l.Batch(ctx, func(tl *ledger.Ledger) error {
		post(tl, "float-in", t0.Add(6*time.Hour+2*time.Minute), false, ledger.Debit("assets:transit", "gbp", "40"),
			ledger.Credit("assets:cash", "gbp", "40"))
		post(tl, "float-out", t0.Add(6*time.Hour+44*time.Minute), false, ledger.Debit("assets:cash", "gbp", "40"),
			ledger.Credit("assets:transit", "gbp", "40"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for m := -5; m <= 7*60+5; m++ {
		at := t0.Add(time.Duration(m) * time.Minute)
		sums := map[string]int64{}
		err := l.View(ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(ctx, ledger.EntryFilter{To: at.Add(time.Nanosecond), PostedOnly: true}, func(e *ledger.Entry) error {
				for _, p := range e.Postings {
					sums[p.Account+" "+p.Currency] += p.Amount
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, k := range slices.Sorted(maps.Keys(sums)) {
			if sums[k] != 0 {
				want = append(want, fmt.Sprintf("%s %d", k, sums[k]))
			}
		}
		if got := asOf(l, "", at); got != strings.Join(want, ", ") {
			t.Errorf("BalancesAsOf(%s) = [%s], want the entries' sums [%s]", at.Format(time.RFC3339), got, strings.Join(want, ", "))
		}
	}
}

// testReadsOwnWrites checks that a transaction reads back, through every
// reader, the balance transactions and payments it saved (a store may keep
// them in memory for a while), that rows referring to them can be written,
// and that a rolled-back savepoint takes its own with it.
func testReadsOwnWrites(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	bt := func(id string, entry int64, i int) *ledger.BalanceTransaction {
		return &ledger.BalanceTransaction{ID: id, Provider: "stripe", EntryID: entry, Type: "charge", ReportingCategory: "charge",
			SourceType: "payment", SourceID: "p" + id, Amount: int64(100 * (i + 1)), Fee: 3, Net: int64(100*(i+1)) - 3,
			FeeDetails: []ledger.FeeDetail{{Type: "stripe_fee", Amount: 3}}, Currency: "usd", Status: ledger.BTPending,
			Created: t0.Add(time.Duration(i) * time.Minute), AvailableOn: t0.Add(time.Hour)}
	}
	entry := func(key string) *ledger.Entry {
		return &ledger.Entry{Key: key, Phase: ledger.Posted, OccurredAt: t0, RecordedAt: t0, Postings: []ledger.Posting{
			{Account: "assets:stripe:pending", Currency: "usd", Amount: 100}, {Account: "income:sales", Currency: "usd", Amount: -100}}}
	}
	ids := func(bts []*ledger.BalanceTransaction) string {
		var out []string
		for _, b := range bts {
			out = append(out, b.ID)
		}
		return fmt.Sprint(out)
	}
	err := st.Update(ctx, func(tx ledger.Tx) error {
		var want []*ledger.BalanceTransaction
		for i := range 3 {
			e := entry(fmt.Sprintf("e%d", i))
			if err := tx.InsertEntry(ctx, e); err != nil {
				return err
			}
			b := bt(fmt.Sprintf("bt%d", i), e.ID, i)
			if err := tx.InsertBalanceTransaction(ctx, b); err != nil {
				return err
			}
			want = append(want, b)
		}
		one, err := tx.BalanceTransaction(ctx, "bt1")
		if err != nil {
			return err
		}
		if one.Net != want[1].Net || len(one.FeeDetails) != 1 || !one.AvailableOn.Equal(want[1].AvailableOn) {
			t.Errorf("bt1 read back as %+v", one)
		}
		byID, err := tx.BalanceTransactionsByID(ctx, []string{"bt0", "bt2", "nope"})
		if err != nil {
			return err
		}
		if len(byID) != 2 || byID["bt0"] == nil || byID["bt2"] == nil {
			t.Errorf("by id: %v", byID)
		}
		var each []*ledger.BalanceTransaction
		if err := tx.EachBalanceTransaction(ctx, ledger.BTFilter{Provider: "stripe"}, func(b *ledger.BalanceTransaction) error {
			each = append(each, b)
			return nil
		}); err != nil {
			return err
		}
		if got := ids(each); got != ids(want) {
			t.Errorf("each: %s, want %s", got, ids(want))
		}
		due, err := tx.DueBalanceTransactions(ctx, t0.Add(time.Hour), "stripe", "usd")
		if err != nil {
			return err
		}
		if len(due) != 3 {
			t.Errorf("due: %d, want 3", len(due))
		}
		// One inserted after the reads, then changed by a statement.
		e := entry("e3")
		if err := tx.InsertEntry(ctx, e); err != nil {
			return err
		}
		if err := tx.InsertBalanceTransaction(ctx, bt("bt3", e.ID, 3)); err != nil {
			return err
		}
		if err := tx.SetBalanceTransactionStatus(ctx, "bt3", ledger.BTAvailable); err != nil {
			return err
		}
		if b, err := tx.BalanceTransaction(ctx, "bt3"); err != nil || b.Status != ledger.BTAvailable {
			t.Errorf("bt3 after its status changed: %+v, %v", b, err)
		}
		// Payments: saved new, saved again, read back, referred to.
		pay := &ledger.Payment{ID: "pay1", Provider: "stripe", ProviderRef: "ch_1", Currency: "usd", Customer: "cus_1",
			CaptureMethod: "automatic", Status: ledger.PaymentCaptured, Authorized: 500, Captured: 500, CreatedAt: t0, UpdatedAt: t0}
		if _, err := tx.Payment(ctx, "pay1"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("pay1 before it was saved: %v, want ErrNotFound", err)
		}
		if err := tx.SavePayment(ctx, pay); err != nil {
			return err
		}
		again := *pay
		again.Refunded, again.Status, again.UpdatedAt = 200, ledger.PaymentPartiallyRefunded, t0.Add(time.Hour)
		if err := tx.SavePayment(ctx, &again); err != nil {
			return err
		}
		if got, err := tx.Payment(ctx, "pay1"); err != nil || got.Refunded != 200 || got.Status != ledger.PaymentPartiallyRefunded {
			t.Errorf("pay1 read back: %+v, %v", got, err)
		}
		var listed []string
		if err := tx.EachPayment(ctx, "stripe", func(p *ledger.Payment) error {
			listed = append(listed, fmt.Sprintf("%s:%d", p.ID, p.Refunded))
			return nil
		}); err != nil {
			return err
		}
		if fmt.Sprint(listed) != "[pay1:200]" {
			t.Errorf("payments listed: %v, want [pay1:200]", listed)
		}
		re := entry("e-refund")
		if err := tx.InsertEntry(ctx, re); err != nil {
			return err
		}
		if err := tx.SaveRefund(ctx, &ledger.Refund{ID: "re1", PaymentID: "pay1", Amount: 200, Currency: "usd",
			EntryID: re.ID, CreatedAt: t0.Add(time.Hour)}); err != nil {
			return fmt.Errorf("a refund of a payment saved in the same transaction: %w", err)
		}
		// A refund of a payment saved just before, with nothing read between.
		fresh := *pay
		fresh.ID = "pay3"
		if err := tx.SavePayment(ctx, &fresh); err != nil {
			return err
		}
		re3 := entry("e-refund3")
		if err := tx.InsertEntry(ctx, re3); err != nil {
			return err
		}
		if err := tx.SaveRefund(ctx, &ledger.Refund{ID: "re3", PaymentID: "pay3", Amount: 100, Currency: "usd",
			EntryID: re3.ID, CreatedAt: t0.Add(time.Hour)}); err != nil {
			return fmt.Errorf("a refund of a payment saved just before: %w", err)
		}
		if r, err := tx.Refund(ctx, "re3"); err != nil || r.PaymentID != "pay3" || r.Amount != 100 {
			t.Errorf("re3 read back: %+v, %v", r, err)
		}
		// A savepoint that fails takes its balance transaction and payment
		// with it.
		n, ok := tx.(ledger.Nester)
		if !ok {
			return nil
		}
		undo := errors.New("undo")
		err = n.Nested(ctx, func() error {
			e := entry("e4")
			if err := tx.InsertEntry(ctx, e); err != nil {
				return err
			}
			if err := tx.InsertBalanceTransaction(ctx, bt("bt4", e.ID, 4)); err != nil {
				return err
			}
			lost := *pay
			lost.ID = "pay2"
			if err := tx.SavePayment(ctx, &lost); err != nil {
				return err
			}
			return undo
		})
		if !errors.Is(err, undo) {
			t.Errorf("nested: %v, want undo", err)
		}
		if _, err := tx.BalanceTransaction(ctx, "bt4"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("bt4 after its savepoint rolled back: %v, want ErrNotFound", err)
		}
		if _, err := tx.Payment(ctx, "pay2"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("pay2 after its savepoint rolled back: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.View(ctx, func(tx ledger.ReadTx) error {
		var got []*ledger.BalanceTransaction
		err := tx.EachBalanceTransaction(ctx, ledger.BTFilter{}, func(b *ledger.BalanceTransaction) error {
			got = append(got, b)
			return nil
		})
		if err == nil && ids(got) != "[bt0 bt1 bt2 bt3]" {
			t.Errorf("committed: %s, want [bt0 bt1 bt2 bt3]", ids(got))
		}
		if err != nil {
			return err
		}
		p, err := tx.Payment(ctx, "pay1")
		if err == nil && (p.Refunded != 200 || p.Customer != "cus_1") {
			t.Errorf("committed pay1: %+v", p)
		}
		if _, err := tx.Payment(ctx, "pay2"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("committed pay2: %v, want ErrNotFound", err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testClosedPeriod(t *testing.T, open Opener) {
	ctx := context.Background()
	l := books(t, open(t))
	c := must(l.Capture(ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd",
		Amount: dec("10.00"), AvailableOn: t0, At: t0})).ok(t)
	closed := t0.Add(24*time.Hour - time.Nanosecond)
	if err := l.ClosePeriod(ctx, closed); err != nil {
		t.Fatal(err)
	}
	if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "late", OccurredAt: t0, Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "1.00"), ledger.Credit("equity:owner", "usd", "1.00")}}); !errors.Is(err, ledger.ErrClosedPeriod) {
		t.Errorf("entry in a closed period: %v, want ErrClosedPeriod", err)
	}
	fix := must(l.CorrectBalanceTransaction(ctx, ledger.CorrectionRequest{Key: "fix", BalanceTransactionID: c.BalanceTransaction.ID,
		FeeDelta: dec("0.30")})).ok(t)
	if want := ledger.FirstOpen(t0, closed); !fix.Entry.OccurredAt.Equal(want) {
		t.Errorf("correction dated %s, want the first open day %s", fix.Entry.OccurredAt, want)
	}
	verify(t, l)
}

// Many writers capture and refund the same payments at once: no refund
// beyond what was captured, no lost balance update.
func testConcurrentWriters(t *testing.T, open Opener) {
	ctx := context.Background()
	l := books(t, open(t))
	const payments, workers = 4, 8
	for i := range payments {
		must(l.Capture(ctx, ledger.CaptureRequest{Key: fmt.Sprintf("c%d", i), PaymentID: fmt.Sprintf("p%d", i),
			Provider: "stripe", Currency: "usd", Amount: dec("10.00"), AvailableOn: t0, At: t0})).ok(t)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	refunded := map[string]int64{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 12 {
				p := fmt.Sprintf("p%d", (w+i)%payments)
				_, err := l.Refund(ctx, ledger.RefundRequest{Key: fmt.Sprintf("r-%d-%d", w, i), PaymentID: p,
					RefundID: fmt.Sprintf("re-%d-%d", w, i), Amount: dec("1.00"), At: t0.Add(time.Hour)})
				switch {
				case err == nil:
					mu.Lock()
					refunded[p] += 100
					mu.Unlock()
				case !errors.Is(err, ledger.ErrOverRefund):
					t.Errorf("refund: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var total int64
	for i := range payments {
		p := payment(t, l, fmt.Sprintf("p%d", i))
		if p.Refunded > p.Captured || p.Refunded != refunded[p.ID] {
			t.Errorf("%s: refunded %d of %d captured; the writers saw %d succeed", p.ID, p.Refunded, p.Captured, refunded[p.ID])
		}
		total += p.Refunded
	}
	if got := balances(t, l)["income:refunds usd"]; got != total {
		t.Errorf("income:refunds = %d, want %d", got, total)
	}
	verify(t, l)
	zeroSum(t, l)
}

func testBatchedPosting(t *testing.T, open Opener) {
	ctx := context.Background()
	l := books(t, open(t))
	var in []ledger.EntryInput
	for i := range 250 {
		in = append(in, ledger.EntryInput{Key: fmt.Sprintf("e%d", i), OccurredAt: t0.Add(time.Duration(i) * time.Minute),
			Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "1.25"), ledger.Credit("income:other", "usd", "1.25")}})
	}
	must(l.PostEntries(ctx, in)).ok(t)
	must(l.PostEntries(ctx, in)).ok(t) // a replay changes nothing
	if got := balances(t, l)["assets:bank:ops usd"]; got != 250*125 {
		t.Errorf("after a batch and its replay: %d, want %d", got, 250*125)
	}
	verify(t, l)
}

// importRecords stores records as one import.
func importRecords(t *testing.T, st app.Store, sum string, recs ...provider.Record) provider.ImportStats {
	t.Helper()
	return must(st.Import(context.Background(), provider.ImportFile{File: sum + ".csv", SHA256: sum}, func(s provider.Sink) error {
		for i := range recs {
			if err := s.Add(&recs[i]); err != nil {
				return err
			}
		}
		return nil
	})).ok(t)
}

func record(id string, amount int64, at time.Time) provider.Record {
	return provider.Record{Provider: "stripe", Format: "stripe-itemized-csv", Grain: provider.BalanceGrain, ID: id,
		Type: "charge", ReportingCategory: "charge", SourceRef: "ch_" + id, Currency: "usd", Amount: amount,
		Net: amount, Created: at, AvailableOn: at, File: "x.csv", Line: 2, Raw: "raw row of " + id}
}

func testRecords(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	s := importRecords(t, st, "file-1", record("txn_1", 100, t0), record("txn_2", 200, t0.Add(time.Hour)))
	if s.Added != 2 || s.AlreadyLoaded {
		t.Errorf("first import %+v", s)
	}
	if again := importRecords(t, st, "file-1", record("txn_3", 300, t0)); !again.AlreadyLoaded {
		t.Errorf("the same file again: %+v, want AlreadyLoaded", again)
	}
	_, err := st.Import(ctx, provider.ImportFile{File: "bad.csv", SHA256: "file-bad"}, func(s provider.Sink) error {
		r := record("txn_9", 900, t0)
		if err := s.Add(&r); err != nil {
			return err
		}
		return errors.New("a bad row")
	})
	if err == nil {
		t.Fatal("an import whose reader failed succeeded")
	}
	var got []string
	if err := st.EachRecord(ctx, provider.RecordFilter{Provider: "stripe"}, func(r *provider.Record) error {
		got = append(got, r.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[txn_1 txn_2]" {
		t.Errorf("records %v, want [txn_1 txn_2] (nothing from the failed import)", got)
	}
	r := must(st.Record(ctx, "stripe", provider.BalanceGrain, "txn_2")).ok(t)
	if r.Amount != 200 || r.Raw != "raw row of txn_2" || !r.Created.Equal(t0.Add(time.Hour)) {
		t.Errorf("record %+v", r)
	}
	if _, err := st.Record(ctx, "stripe", provider.BalanceGrain, "txn_9"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("missing record: %v, want ErrNotFound", err)
	}
	if g := must(st.RecordGrains(ctx)).ok(t); fmt.Sprint(g) != "[[stripe balance]]" {
		t.Errorf("grains %v", g)
	}
	since := must(st.RecordsSince(ctx, "stripe", provider.BalanceGrain, 0)).ok(t)
	if since.Count != 2 || !since.MinCreated.Equal(t0) || !since.MaxCreated.Equal(t0.Add(time.Hour)) {
		t.Errorf("records since 0: %+v", since)
	}
	if after := must(st.RecordsSince(ctx, "stripe", provider.BalanceGrain, since.MaxID)).ok(t); after.Count != 0 {
		t.Errorf("records after the newest: %+v", after)
	}
}

func testRunsAndExceptions(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	scope := reconcile.Scope{Provider: "stripe", Grain: provider.BalanceGrain}
	outcome := reconcile.Outcome{Kind: reconcile.MissingInLedger, Provider: "stripe", Subject: "charge", ProviderID: "txn_1",
		Ref: "ch_1", Currency: "usd", Amount: 100, At: t0, Fingerprint: "missing_in_ledger|stripe|charge|txn_1||"}
	save := func(outcomes []reconcile.Outcome, at time.Time) *reconcile.Run {
		run := &reconcile.Run{Provider: "stripe", Grain: provider.BalanceGrain, StartedAt: at, FinishedAt: at,
			Summary: reconcile.Summary{ProviderRecords: 1, MissingInLedger: len(outcomes)}, RecordsThrough: 7}
		err := st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
			known, err := tx.KnownExceptions(ctx, "stripe", provider.BalanceGrain)
			if err != nil {
				return err
			}
			return tx.SaveRun(ctx, run, reconcile.PlanExceptions(scope, known, outcomes),
				[]reconcile.Link{{ProviderID: "txn_5", LedgerID: "btx_5"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	r1 := save([]reconcile.Outcome{outcome}, t0)
	if r1.ID == 0 || r1.Opened != 1 {
		t.Fatalf("first run %+v", r1)
	}
	es := must(st.Exceptions(ctx, reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen})).ok(t)
	if len(es) != 1 || es[0].ProviderID != "txn_1" || es[0].FirstRun != r1.ID || es[0].Amount != 100 {
		t.Fatalf("exceptions %+v", es)
	}
	id := es[0].ID
	err := st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		return tx.SetExceptionStatus(ctx, id, reconcile.ExceptionResolved, "looked at it", 0, t0.Add(time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	r2 := save([]reconcile.Outcome{outcome}, t0.Add(2*time.Hour)) // found again: reopened, not duplicated
	all := must(st.Exceptions(ctx, reconcile.ExceptionFilter{})).ok(t)
	if len(all) != 1 || all[0].ID != id || all[0].Status != reconcile.ExceptionOpen || all[0].LastRun != r2.ID {
		t.Errorf("after the difference was found again: %+v", all)
	}
	save(nil, t0.Add(3*time.Hour)) // gone: closed
	e := must(st.Exception(ctx, id)).ok(t)
	if e.Status != reconcile.ExceptionResolved {
		t.Errorf("not found again, still %s", e.Status)
	}
	var actions []string
	for _, h := range must(st.ExceptionHistory(ctx, id)).ok(t) {
		actions = append(actions, h.Action)
	}
	if fmt.Sprint(actions) != "[opened resolved reopened closed]" {
		t.Errorf("history %v", actions)
	}
	if _, err := st.Exception(ctx, 999); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("missing exception: %v, want ErrNotFound", err)
	}
	runs := must(st.Runs(ctx, "stripe")).ok(t)
	if len(runs) != 3 || runs[0].ID < runs[2].ID || runs[0].RecordsThrough != 7 {
		t.Errorf("runs %+v", runs)
	}
	if links := must(st.Links(ctx, "stripe", provider.BalanceGrain)).ok(t); links["txn_5"] != "btx_5" {
		t.Errorf("links %v", links)
	}
	if c := must(st.RecordsCovered(ctx, "stripe", provider.BalanceGrain)).ok(t); c != 7 {
		t.Errorf("records covered %d, want 7", c)
	}
}

// linkLister is a store that lists links as a run loads them (both SQL
// stores; app.Reconcile uses it when a store has it).
type linkLister interface {
	LinkList(ctx context.Context, prov string, grain provider.Grain, ledgerIDs []string) ([]reconcile.Link, error)
}

// testLinkList: every link of a provider and grain, or those of some
// ledger ids (a windowed run's ledger side), none of another grain's.
func testLinkList(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	ll, ok := st.(linkLister)
	if !ok {
		t.Skip("the store lists no links")
	}
	var links []reconcile.Link
	for i := 1; i <= 6; i++ {
		links = append(links, reconcile.Link{ProviderID: fmt.Sprintf("txn_%d", i), LedgerID: fmt.Sprintf("btx_%d", i)})
	}
	// Another grain's link to one of the same ledger ids is not listed.
	for g, ls := range map[provider.Grain][]reconcile.Link{provider.BalanceGrain: links,
		provider.PaymentGrain: {{ProviderID: "pay_9", LedgerID: "btx_2"}}} {
		err := st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
			return tx.SaveRun(ctx, &reconcile.Run{Provider: "stripe", Grain: g, StartedAt: t0, FinishedAt: t0}, reconcile.ExceptionPlan{}, ls)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		ids  []string
		want string
	}{
		{nil, "txn_1 txn_2 txn_3 txn_4 txn_5 txn_6"},
		{[]string{"btx_5", "btx_2", "btx_9"}, "txn_2 txn_5"},
		{[]string{}, ""},
	} {
		got := must(ll.LinkList(ctx, "stripe", provider.BalanceGrain, c.ids)).ok(t)
		var pids []string
		for _, l := range got {
			if "btx_"+strings.TrimPrefix(l.ProviderID, "txn_") != l.LedgerID {
				t.Errorf("link %+v", l)
			}
			pids = append(pids, l.ProviderID)
		}
		slices.Sort(pids)
		if strings.Join(pids, " ") != c.want {
			t.Errorf("links of %q: %v, want %s", c.ids, pids, c.want)
		}
	}
}

// A fix booked in a ledger transaction and the exception closed in it
// commit together, or not at all.
func testFixCommitsWithItsException(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	l := books(t, st)
	outcome := reconcile.Outcome{Kind: reconcile.MissingInLedger, Provider: "stripe", Subject: "charge", ProviderID: "txn_1",
		Fingerprint: "fp"}
	err := st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		return tx.SaveRun(ctx, &reconcile.Run{Provider: "stripe", Grain: provider.BalanceGrain, FinishedAt: t0},
			reconcile.PlanExceptions(reconcile.Scope{Provider: "stripe", Grain: provider.BalanceGrain}, nil,
				[]reconcile.Outcome{outcome}), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	id := must(st.Exceptions(ctx, reconcile.ExceptionFilter{})).ok(t)[0].ID
	book := func(fail bool) error {
		return l.AtomicTx(ctx, func(b *ledger.Ledger, tx ledger.Tx) error {
			e, err := b.PostEntry(ctx, ledger.EntryInput{Key: "fix", OccurredAt: t0, Postings: []ledger.PostingInput{
				ledger.Debit("assets:stripe:available", "usd", "1.00"), ledger.Credit("income:sales", "usd", "1.00")}})
			if err != nil {
				return err
			}
			if fail {
				return errors.New("crash")
			}
			rtx, ok := tx.(reconcile.Tx)
			if !ok {
				return errors.New("the store's ledger transaction is not a reconcile.Tx")
			}
			return rtx.SetExceptionStatus(ctx, id, reconcile.ExceptionResolved, "fixed", e.ID, t0)
		})
	}
	if err := book(true); err == nil {
		t.Fatal("the failed transaction succeeded")
	}
	if e := must(st.Exception(ctx, id)).ok(t); e.Status != reconcile.ExceptionOpen || len(balances(t, l)) != 0 {
		t.Errorf("after a failure: exception %s, balances %v; want open and none", e.Status, balances(t, l))
	}
	if err := book(false); err != nil {
		t.Fatal(err)
	}
	if e := must(st.Exception(ctx, id)).ok(t); e.Status != reconcile.ExceptionResolved || e.ResolutionEntryID == 0 {
		t.Errorf("after the fix: %+v", e)
	}
	verify(t, l)
}

func testSettings(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	if v := must(st.Setting(ctx, "x")).ok(t); v != "" {
		t.Errorf("unset setting = %q", v)
	}
	if err := st.SetSetting(ctx, "x", "1"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSetting(ctx, "x", "2"); err != nil {
		t.Fatal(err)
	}
	if v := must(st.Setting(ctx, "x")).ok(t); v != "2" {
		t.Errorf("setting = %q, want 2", v)
	}
}

// payment reads a payment.
func payment(t *testing.T, l *ledger.Ledger, id string) *ledger.Payment {
	t.Helper()
	var p *ledger.Payment
	err := l.View(context.Background(), func(tx ledger.ReadTx) error {
		var err error
		p, err = tx.Payment(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// manyExceptions is how many exceptions testManyExceptions opens: more
// than two of the largest chunk either store writes in one statement.
const manyExceptions = 20_007

// testManyExceptions: a run that finds a difference in every record opens
// an exception for each, in the order of its outcomes, each with one
// "opened" event; the next run refreshes, reopens, leaves ignored and
// closes them as one exception at a time would, across statements.
func testManyExceptions(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	scope := reconcile.Scope{Provider: "stripe", Grain: provider.BalanceGrain}
	outcomeOf := func(i int, amount int64) reconcile.Outcome {
		id := fmt.Sprintf("txn_%05d", i)
		o := reconcile.Outcome{Kind: reconcile.MissingInLedger, Provider: "stripe", Subject: "charge", ProviderID: id,
			Currency: "usd", Amount: amount, At: t0.Add(time.Duration(i) * time.Minute),
			Fingerprint: "missing_in_ledger|stripe|charge|" + id + "||"}
		switch i % 3 {
		case 1:
			o.Kind, o.LedgerID, o.Fingerprint = reconcile.Mismatched, "btx_"+id, "mismatched|stripe|charge|"+id+"|btx_"+id+"|"
			o.Diffs = []reconcile.Diff{{Field: "fee", Ledger: "0.85", Provider: fmt.Sprintf("0.%02d", amount%100)}}
		case 2:
			o.Payout = &reconcile.PayoutFigures{Side: "provider", Amount: amount, SweptNet: amount - 1, Swept: i}
		}
		return o
	}
	save := func(outcomes []reconcile.Outcome, at time.Time) *reconcile.Run {
		t.Helper()
		run := &reconcile.Run{Provider: "stripe", Grain: provider.BalanceGrain, StartedAt: at, FinishedAt: at}
		err := st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
			known, err := tx.KnownExceptions(ctx, "stripe", provider.BalanceGrain)
			if err != nil {
				return err
			}
			if !slices.IsSortedFunc(known, func(a, b reconcile.Exception) int { return cmp.Compare(a.ID, b.ID) }) {
				t.Error("known exceptions are not in id order")
			}
			return tx.SaveRun(ctx, run, reconcile.PlanExceptions(scope, known, outcomes), nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	first := make([]reconcile.Outcome, manyExceptions)
	for i := range first {
		first[i] = outcomeOf(i, int64(100+i))
	}
	r1 := save(first, t0)
	if r1.Opened != manyExceptions {
		t.Fatalf("first run opened %d, want %d", r1.Opened, manyExceptions)
	}
	es := must(st.Exceptions(ctx, reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen})).ok(t)
	if len(es) != manyExceptions {
		t.Fatalf("%d open exceptions, want %d", len(es), manyExceptions)
	}
	for i, e := range es {
		o := first[i]
		if e.ProviderID != o.ProviderID || e.Fingerprint != o.Fingerprint || e.Kind != o.Kind || e.Amount != o.Amount ||
			!e.At.Equal(o.At) || e.FirstRun != r1.ID || e.LastRun != r1.ID || fmt.Sprint(e.Diffs) != fmt.Sprint(o.Diffs) ||
			fmt.Sprint(e.Payout) != fmt.Sprint(o.Payout) || (i > 0 && e.ID <= es[i-1].ID) {
			t.Fatalf("exception %d is %+v, from the outcome %+v", i, e, o)
		}
	}
	history := func(id int64) string {
		var out []string
		for _, h := range must(st.ExceptionHistory(ctx, id)).ok(t) {
			out = append(out, fmt.Sprintf("%s/%s/%d/%s", h.Action, h.Status, h.RunID, h.Note))
		}
		return strings.Join(out, " ")
	}
	edges := []int{0, 255, 256, 9_999, 10_000, manyExceptions - 1}
	for _, i := range edges {
		if got, want := history(es[i].ID), fmt.Sprintf("opened/open/%d/", r1.ID); got != want {
			t.Errorf("history of exception %d: %q, want %q", i, got, want)
		}
	}
	ignored, resolved := es[10_000].ID, es[256].ID
	err := st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		return errors.Join(tx.SetExceptionStatus(ctx, ignored, reconcile.ExceptionIgnored, "known", 0, t0),
			tx.SetExceptionStatus(ctx, resolved, reconcile.ExceptionResolved, "fixed", 0, t0))
	})
	if err != nil {
		t.Fatal(err)
	}
	// The second run finds all but the last five again, each amount one
	// higher, and two differences never seen before.
	var second []reconcile.Outcome
	for i := range manyExceptions + 2 {
		if i < manyExceptions-5 || i >= manyExceptions {
			second = append(second, outcomeOf(i, int64(101+i)))
		}
	}
	r2 := save(second, t0.Add(time.Hour))
	if r2.Opened != 3 || r2.Closed != 5 {
		t.Errorf("second run opened %d and closed %d, want 3 (one reopened) and 5", r2.Opened, r2.Closed)
	}
	all := must(st.Exceptions(ctx, reconcile.ExceptionFilter{})).ok(t)
	if len(all) != manyExceptions+2 {
		t.Fatalf("%d exceptions after the second run, want %d", len(all), manyExceptions+2)
	}
	closedNote := fmt.Sprintf("not found by run %d", r2.ID)
	for i, e := range all {
		status, amount, firstRun, lastRun, note, updated := reconcile.ExceptionOpen, int64(101+i), r1.ID, r2.ID, "", r2.FinishedAt
		switch {
		case e.ID == ignored:
			status, amount, note, updated = reconcile.ExceptionIgnored, int64(100+i), "known", t0
		case e.ID == resolved:
			note = "fixed"
		case i >= manyExceptions:
			firstRun = r2.ID
		case i >= manyExceptions-5:
			status, amount, lastRun, note = reconcile.ExceptionResolved, int64(100+i), r1.ID, closedNote
		}
		if e.ProviderID != outcomeOf(i, 0).ProviderID || e.Status != status || e.Amount != amount || e.FirstRun != firstRun ||
			e.LastRun != lastRun || e.Note != note || fmt.Sprint(e.Diffs) != fmt.Sprint(outcomeOf(i, amount).Diffs) ||
			!e.UpdatedAt.Equal(updated) {
			t.Fatalf("exception %d after the second run: %+v; want %s, amount %d, runs %d to %d, note %q",
				i, e, status, amount, firstRun, lastRun, note)
		}
	}
	for _, c := range []struct {
		i    int
		want string
	}{
		{255, fmt.Sprintf("opened/open/%d/", r1.ID)},
		{256, fmt.Sprintf("opened/open/%d/ resolved/resolved/0/fixed reopened/open/%d/found again by run %d", r1.ID, r2.ID, r2.ID)},
		{10_000, fmt.Sprintf("opened/open/%d/ ignored/ignored/0/known", r1.ID)},
		{manyExceptions - 5, fmt.Sprintf("opened/open/%d/ closed/resolved/%d/%s", r1.ID, r2.ID, closedNote)},
		{manyExceptions - 1, fmt.Sprintf("opened/open/%d/ closed/resolved/%d/%s", r1.ID, r2.ID, closedNote)},
		{manyExceptions, fmt.Sprintf("opened/open/%d/", r2.ID)},
		{manyExceptions + 1, fmt.Sprintf("opened/open/%d/", r2.ID)},
	} {
		if got := history(all[c.i].ID); got != c.want {
			t.Errorf("history of exception %d: %q, want %q", c.i, got, c.want)
		}
	}
	mismatched := 0 // every third outcome, from the second on
	for i := range manyExceptions + 2 {
		if outcomeOf(i, 0).Kind == reconcile.Mismatched {
			mismatched++
		}
	}
	for _, c := range []struct {
		f    reconcile.ExceptionFilter
		want int
	}{
		{reconcile.ExceptionFilter{}, manyExceptions + 2},
		{reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen}, manyExceptions - 4},
		{reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen, Limit: 10, Offset: 5}, manyExceptions - 4},
		{reconcile.ExceptionFilter{Status: reconcile.ExceptionIgnored, Provider: "stripe"}, 1},
		{reconcile.ExceptionFilter{Status: reconcile.ExceptionResolved}, 5},
		{reconcile.ExceptionFilter{Kind: reconcile.Mismatched}, mismatched},
		{reconcile.ExceptionFilter{Provider: "adyen"}, 0},
		{reconcile.ExceptionFilter{Before: t0.Add(10 * time.Minute)}, 10},
	} {
		if got := must(st.CountExceptions(ctx, c.f)).ok(t); got != c.want {
			t.Errorf("CountExceptions(%+v) = %d, want %d", c.f, got, c.want)
		}
		// EachException gives what Exceptions lists, in its order.
		list := must(st.Exceptions(ctx, c.f)).ok(t)
		var each []reconcile.Exception
		if err := st.EachException(ctx, c.f, func(e *reconcile.Exception) error {
			each = append(each, *e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(each)+len(list) > 0 && !reflect.DeepEqual(each, list) {
			t.Errorf("EachException(%+v) gave %d exceptions, not the %d Exceptions lists", c.f, len(each), len(list))
		}
	}
	stop := errors.New("enough")
	seen := 0
	err = st.EachException(ctx, reconcile.ExceptionFilter{}, func(*reconcile.Exception) error {
		if seen++; seen == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 3 {
		t.Errorf("EachException stopped by its function after %d: %v", seen, err)
	}
}

// testRunStoredWhole: a run whose exceptions cannot all be stored stores
// nothing, though its statements went out a chunk at a time: here the
// last of its new exceptions repeats the first's fingerprint, which the
// store keeps unique among open exceptions.
func testRunStoredWhole(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	var plan reconcile.ExceptionPlan
	for i := range 600 {
		id := fmt.Sprintf("txn_%d", i)
		plan.Open = append(plan.Open, reconcile.Exception{Fingerprint: "missing_in_ledger|stripe|charge|" + id + "||",
			Kind: reconcile.MissingInLedger, Status: reconcile.ExceptionOpen, Provider: "stripe", Grain: provider.BalanceGrain,
			Subject: "charge", ProviderID: id, Currency: "usd", Amount: 100, At: t0})
	}
	plan.Open[len(plan.Open)-1].Fingerprint = plan.Open[0].Fingerprint
	err := st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		run := &reconcile.Run{Provider: "stripe", Grain: provider.BalanceGrain, StartedAt: t0, FinishedAt: t0}
		return tx.SaveRun(ctx, run, plan, []reconcile.Link{{ProviderID: "txn_1", LedgerID: "btx_1"}})
	})
	if !errors.Is(err, ledger.ErrInvalidState) {
		t.Fatalf("a run with two open exceptions of one fingerprint: %v, want ledger.ErrInvalidState", err)
	}
	if n := must(st.CountExceptions(ctx, reconcile.ExceptionFilter{})).ok(t); n != 0 {
		t.Errorf("%d exceptions stored by a run that failed", n)
	}
	if runs := must(st.Runs(ctx, "")).ok(t); len(runs) != 0 {
		t.Errorf("%d runs stored by a run that failed", len(runs))
	}
	if links := must(st.Links(ctx, "stripe", provider.BalanceGrain)).ok(t); len(links) != 0 {
		t.Errorf("links stored by a run that failed: %v", links)
	}
}

// testExceptionPaging: a list of exceptions pages by id with Limit and
// Offset, and Before keeps the ones whose subject is older.
func testExceptionPaging(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	scope := reconcile.Scope{Provider: "stripe", Grain: provider.BalanceGrain}
	var outcomes []reconcile.Outcome
	for i := range 7 {
		id := fmt.Sprintf("txn_%d", i)
		outcomes = append(outcomes, reconcile.Outcome{Kind: reconcile.MissingInLedger, Provider: "stripe", Subject: "charge",
			ProviderID: id, Currency: "usd", Amount: 100, At: t0.Add(time.Duration(i) * 24 * time.Hour),
			Fingerprint: "missing_in_ledger|stripe|charge|" + id + "||"})
	}
	err := st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		run := &reconcile.Run{Provider: "stripe", Grain: provider.BalanceGrain, StartedAt: t0, FinishedAt: t0}
		return tx.SaveRun(ctx, run, reconcile.PlanExceptions(scope, nil, outcomes), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(f reconcile.ExceptionFilter) string {
		var out []string
		for _, e := range must(st.Exceptions(ctx, f)).ok(t) {
			out = append(out, e.ProviderID)
		}
		return strings.Join(out, " ")
	}
	isOpen := reconcile.ExceptionOpen
	for _, c := range []struct {
		f    reconcile.ExceptionFilter
		want string
	}{
		{reconcile.ExceptionFilter{Status: isOpen, Limit: 3}, "txn_0 txn_1 txn_2"},
		{reconcile.ExceptionFilter{Status: isOpen, Limit: 3, Offset: 3}, "txn_3 txn_4 txn_5"},
		{reconcile.ExceptionFilter{Status: isOpen, Limit: 3, Offset: 6}, "txn_6"},
		{reconcile.ExceptionFilter{Status: isOpen, Offset: 5}, "txn_5 txn_6"},
		{reconcile.ExceptionFilter{Status: isOpen, Limit: 3, Offset: 9}, ""},
		{reconcile.ExceptionFilter{Before: t0.Add(48 * time.Hour)}, "txn_0 txn_1"},
		{reconcile.ExceptionFilter{Before: t0.Add(72 * time.Hour), Limit: 1, Offset: 1}, "txn_1"},
	} {
		if got := ids(c.f); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}

// testPaymentColumns saves a payment whose every field differs from the
// others, inserted and then updated in every column an update sets, and
// reads it back each time in a transaction of its own (from the table, not
// from what the writing one remembers): a value bound to the wrong column
// shows as a difference.
func testPaymentColumns(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	p := &ledger.Payment{ID: "pay_cols", Provider: "stripe", ProviderRef: "ch_cols", Currency: "eur", Customer: "cus_cols",
		Description: "Order 17", Metadata: map[string]string{"order": "17"}, CaptureMethod: "manual",
		Status: ledger.PaymentAuthorized, Authorized: 1001, Captured: 1002, Refunded: 1003, Disputed: 1004, Fees: 1005,
		SettlementCurrency: "usd", Settled: 1006, Unwound: 1007, CreatedAt: t0, UpdatedAt: t0.Add(time.Second)}
	stored := func(step string) {
		t.Helper()
		err := st.View(ctx, func(tx ledger.ReadTx) error {
			got, err := tx.Payment(ctx, p.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, p) {
				t.Errorf("%s: read back\n%+v\nwant\n%+v", step, got, p)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	must(0, st.Update(ctx, func(tx ledger.Tx) error {
		e := &ledger.Entry{Key: "auth_cols", Phase: ledger.Pending, OccurredAt: t0, RecordedAt: t0, Postings: []ledger.Posting{
			{Account: "assets:stripe:pending", Currency: "eur", Amount: 1001}, {Account: "income:sales", Currency: "eur", Amount: -1001}}}
		if err := tx.InsertEntry(ctx, e); err != nil {
			return err
		}
		p.PendingEntryID = e.ID
		if _, err := tx.Payment(ctx, p.ID); !errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("before it was saved: %v", err)
		}
		return tx.SavePayment(ctx, p) // known missing: an insert
	})).ok(t)
	stored("inserted")
	must(0, st.Update(ctx, func(tx ledger.Tx) error {
		if _, err := tx.Payment(ctx, p.ID); err != nil {
			return err
		}
		p.ProviderRef, p.Status, p.Authorized, p.Captured, p.Refunded, p.Disputed, p.Fees = "ch_cols2", ledger.PaymentCaptured,
			2001, 2002, 2003, 2004, 2005
		p.SettlementCurrency, p.Settled, p.Unwound, p.UpdatedAt = "gbp", 2006, 2007, t0.Add(time.Minute)
		return tx.SavePayment(ctx, p) // read before: an update
	})).ok(t)
	stored("updated")
}
