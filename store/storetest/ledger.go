package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// testLedger runs a representative set of the ledger's operations
// against the store open returns, and checks what the ledger promises:
// authorize, partial capture, refunds up to what was captured, disputes,
// payouts, replays and conflicting replays, batches, pending entries,
// reversals, savepoints, exact times, overflow, Verify and point-in-time
// balances. It came with the PostgreSQL store, whose first tests it was.
func testLedger(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, e *suiteEnv)
	}{
		{"PaymentLifecycle", suitePaymentLifecycle},
		{"Idempotency", suiteIdempotency},
		{"Batches", suiteBatches},
		{"PendingAndReversal", suitePendingAndReversal},
		{"Atomic", suiteAtomic},
		{"ExactTimes", suiteExactTimes},
		{"Overflow", suiteOverflow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &suiteEnv{ctx: context.Background(), clock: &suiteClock{t: suiteT0}}
			e.l = ledger.New(open(t), &ledger.Options{Now: e.clock.Now})
			tc.run(t, e)
			e.verify(t)
		})
	}
}

var suiteT0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type suiteClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *suiteClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *suiteClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type suiteEnv struct {
	ctx   context.Context
	l     *ledger.Ledger
	clock *suiteClock
}

// result holds a call's results for must.
type result[T any] struct {
	v   T
	err error
}

func ok[T any](v T, err error) result[T] { return result[T]{v, err} }

// must returns the value, failing the test on an error.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// wantErr fails the test unless err is target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got %v, want %v", what, err, target)
	}
}

// verify checks every invariant, and that every currency's balances sum to
// zero (posted and pending).
func (e *suiteEnv) verify(t *testing.T) {
	t.Helper()
	vs, err := e.l.Verify(e.ctx)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, v := range vs {
		t.Errorf("violation: %s", v)
	}
	bals, err := e.l.Balances(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	posted, pending := map[string]int64{}, map[string]int64{}
	for _, b := range bals {
		posted[b.Currency] += b.Posted
		pending[b.Currency] += b.Pending
	}
	for c, v := range posted {
		if v != 0 || pending[c] != 0 {
			t.Errorf("%s balances sum to %d posted, %d pending", c, v, pending[c])
		}
	}
}

func (e *suiteEnv) balance(t *testing.T, account, currency string) int64 {
	t.Helper()
	v, err := e.l.Balance(e.ctx, account, currency)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func suitePaymentLifecycle(t *testing.T, e *suiteEnv) {
	ctx, l := e.ctx, e.l
	auth := ok(l.Authorize(ctx, ledger.AuthorizeRequest{Key: "auth-1", PaymentID: "pay_1", Provider: "stripe",
		ProviderRef: "ch_1", Amount: dec("100.00"), Currency: "USD"})).must(t)
	if auth.Entry.ID == 0 || auth.Entry.Phase != ledger.Pending {
		t.Fatalf("authorization entry %+v", auth.Entry)
	}
	bals := ok(l.Balances(ctx, "assets:stripe:pending")).must(t)
	if len(bals) != 1 || bals[0].Pending != 10000 || bals[0].Posted != 0 {
		t.Fatalf("after authorize: %+v", bals)
	}
	_, err := l.Capture(ctx, ledger.CaptureRequest{Key: "cap-too-much", PaymentID: "pay_1", Amount: dec("100.01")})
	wantErr(t, "over-capture", err, ledger.ErrOverCapture)

	e.clock.Advance(time.Hour)
	capt := ok(l.Capture(ctx, ledger.CaptureRequest{Key: "cap-1", PaymentID: "pay_1", Amount: dec("60.00"),
		Fees: []ledger.Fee{{Type: "processing", Amount: dec("2.00")}}})).must(t)
	if capt.BalanceTransaction.ID != fmt.Sprintf("btx_%d", capt.Entry.ID) || capt.BalanceTransaction.Net != 5800 {
		t.Errorf("charge %+v", capt.BalanceTransaction)
	}
	bals = ok(l.Balances(ctx, "assets:stripe:pending")).must(t)
	if len(bals) != 1 || bals[0].Pending != 0 || bals[0].Posted != 5800 {
		t.Errorf("partial capture releases the rest: %+v", bals)
	}
	_, err = l.Capture(ctx, ledger.CaptureRequest{Key: "cap-again", PaymentID: "pay_1"})
	wantErr(t, "second capture", err, ledger.ErrAlreadyCaptured)
	_, err = l.Cancel(ctx, ledger.CancelRequest{Key: "cancel-captured", PaymentID: "pay_1"})
	wantErr(t, "cancel after capture", err, ledger.ErrAlreadyCaptured)

	// Funds become available, then refunds up to what was captured.
	e.clock.Advance(72 * time.Hour)
	if n := ok(l.MakeAvailable(ctx, e.clock.Now())).must(t); n != 1 {
		t.Errorf("made %d available, want 1", n)
	}
	ok(l.Refund(ctx, ledger.RefundRequest{Key: "ref-1", PaymentID: "pay_1", RefundID: "re_1", Amount: dec("20.00")})).must(t)
	_, err = l.Refund(ctx, ledger.RefundRequest{Key: "ref-2", PaymentID: "pay_1", RefundID: "re_2", Amount: dec("40.01")})
	wantErr(t, "over-refund", err, ledger.ErrOverRefund)
	_, err = l.Refund(ctx, ledger.RefundRequest{Key: "ref-3", PaymentID: "pay_1", RefundID: "re_1", Amount: dec("1.00")})
	wantErr(t, "refund id reused", err, ledger.ErrInvalidState)
	if got := e.balance(t, "income:refunds", "usd"); got != -2000 { // a debit to an income account
		t.Errorf("refunds %d, want -2000", got)
	}

	// An automatic capture, disputed and lost.
	ok(l.Capture(ctx, ledger.CaptureRequest{Key: "cap-auto", PaymentID: "pay_2", Provider: "stripe", Currency: "usd",
		Amount: dec("50.00"), Fees: []ledger.Fee{{Amount: dec("1.75")}}, AvailableOn: e.clock.Now()})).must(t)
	ok(l.MakeAvailable(ctx, e.clock.Now())).must(t)
	ok(l.OpenDispute(ctx, ledger.DisputeRequest{Key: "dp-1", PaymentID: "pay_2", DisputeID: "dp_1", Amount: dec("50.00"), Fee: dec("15.00")})).must(t)
	ok(l.LoseDispute(ctx, ledger.DisputeCloseRequest{Key: "dp-1-lost", DisputeID: "dp_1"})).must(t)
	_, err = l.WinDispute(ctx, ledger.DisputeCloseRequest{Key: "dp-1-won", DisputeID: "dp_1"})
	wantErr(t, "close a closed dispute", err, ledger.ErrAlreadyResolved)

	// An automatic payout sweeps what is available; it is paid.
	e.clock.Advance(time.Hour)
	po := ok(l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po-1", PayoutID: "po_1", Provider: "stripe",
		Amount: dec("10.00"), Currency: "usd", Automatic: true})).must(t)
	n := 0
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachBalanceTransaction(ctx, ledger.BTFilter{PayoutID: "po_1"}, func(*ledger.BalanceTransaction) error {
			n++
			return nil
		})
	})
	if err != nil || n == 0 {
		t.Errorf("payout composition: %d transactions, %v", n, err)
	}
	ok(l.PayPayout(ctx, ledger.PayoutUpdateRequest{Key: "po-1-paid", PayoutID: po.Payout.ID})).must(t)
	_, err = l.FailPayout(ctx, ledger.PayoutUpdateRequest{Key: "po-1-failed", PayoutID: po.Payout.ID})
	wantErr(t, "fail a paid payout", err, ledger.ErrAlreadyResolved)
	if got := e.balance(t, "assets:bank:stripe", "usd"); got != 1000 {
		t.Errorf("bank %d, want 1000", got)
	}

	// Another authorization, canceled.
	ok(l.Authorize(ctx, ledger.AuthorizeRequest{Key: "auth-3", PaymentID: "pay_3", Provider: "stripe", Amount: dec("5"), Currency: "usd"})).must(t)
	ok(l.Cancel(ctx, ledger.CancelRequest{Key: "cancel-3", PaymentID: "pay_3"})).must(t)
	_, err = l.Authorize(ctx, ledger.AuthorizeRequest{Key: "auth-3b", PaymentID: "pay_3", Provider: "stripe", Amount: dec("5"), Currency: "usd"})
	wantErr(t, "authorize an existing payment", err, ledger.ErrInvalidState)

	// Point-in-time balances: before the first capture only pending
	// amounts existed, which BalancesAsOf leaves out.
	if bals := ok(l.BalancesAsOf(ctx, "", suiteT0.Add(30*time.Minute))).must(t); len(bals) != 0 {
		t.Errorf("balances as of before the capture: %+v", bals)
	}
	bals = ok(l.BalancesAsOf(ctx, "income", suiteT0.Add(90*time.Minute))).must(t)
	if len(bals) != 1 || bals[0].Account != "income:sales" || bals[0].Posted != -6000 {
		t.Errorf("income as of after the capture: %+v", bals)
	}
	now := ok(l.BalancesAsOf(ctx, "", e.clock.Now().Add(time.Hour))).must(t)
	maintained := ok(l.Balances(ctx, "")).must(t)
	posted := map[string]int64{}
	for _, b := range maintained {
		posted[b.Account+" "+b.Currency] = b.Posted
	}
	for _, b := range now {
		if posted[b.Account+" "+b.Currency] != b.Posted {
			t.Errorf("%s: as of now %d, maintained %d", b.Account, b.Posted, posted[b.Account+" "+b.Currency])
		}
	}
}

func suiteIdempotency(t *testing.T, e *suiteEnv) {
	ctx, l := e.ctx, e.l
	req := ledger.CaptureRequest{Key: "k1", PaymentID: "pay_i", Provider: "stripe", Currency: "usd", Amount: dec("10.00")}
	first := ok(l.Capture(ctx, req)).must(t)
	again := ok(l.Capture(ctx, req)).must(t)
	if !again.Replayed || first.Replayed || again.Entry.ID != first.Entry.ID {
		t.Errorf("replay: first %v/%d, again %v/%d", first.Replayed, first.Entry.ID, again.Replayed, again.Entry.ID)
	}
	req.Amount = dec("11.00")
	_, err := l.Capture(ctx, req)
	wantErr(t, "same key, different capture", err, ledger.ErrIdempotencyConflict)
	_, err = l.Refund(ctx, ledger.RefundRequest{Key: "k1", PaymentID: "pay_i", RefundID: "re_i"})
	wantErr(t, "same key, other operation", err, ledger.ErrIdempotencyConflict)

	in := ledger.EntryInput{Key: "e1", Description: "fee", Postings: []ledger.PostingInput{
		ledger.Debit("expenses:bank", "usd", "1.00"), ledger.Credit("assets:bank:ops", "usd", "1.00")}}
	p1 := ok(l.PostEntry(ctx, in)).must(t)
	p2 := ok(l.PostEntry(ctx, in)).must(t)
	if !p2.Replayed || p2.ID != p1.ID {
		t.Errorf("entry replay: %+v", p2)
	}
	in.Description = "other"
	_, err = l.PostEntry(ctx, in)
	wantErr(t, "same entry key, different entry", err, ledger.ErrIdempotencyConflict)
	// A lifecycle call under a key a journal entry already holds.
	_, err = l.Capture(ctx, ledger.CaptureRequest{Key: "e1", PaymentID: "pay_j", Provider: "stripe", Currency: "usd", Amount: dec("1")})
	wantErr(t, "entry key reused by a capture", err, ledger.ErrIdempotencyConflict)
	var req0 *ledger.Request
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		var err error
		req0, err = tx.Request(ctx, "k1")
		return err
	})
	if err != nil || req0.Operation != "capture" {
		t.Errorf("stored request: %+v, %v", req0, err)
	}
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		_, err := tx.Request(ctx, "pay_j-never")
		return err
	})
	wantErr(t, "unknown request", err, ledger.ErrNotFound)
}

// batch returns n entries of four postings each.
func batch(prefix string, n int, at time.Time) []ledger.EntryInput {
	out := make([]ledger.EntryInput, n)
	for i := range out {
		gross := decimal.New(int64(1000+i%9000), -2)
		fee := decimal.New(int64(30+i%100), -2)
		tax := decimal.New(int64(5+i%20), -2)
		out[i] = ledger.EntryInput{
			Key: fmt.Sprintf("%s-%d", prefix, i), OccurredAt: at.Add(time.Duration(i) * time.Second), Description: "capture",
			Postings: []ledger.PostingInput{
				{Account: "assets:receivables", Currency: "usd", Amount: gross.Sub(fee).Sub(tax)},
				{Account: "expenses:fees:stripe_fee", Currency: "usd", Amount: fee},
				{Account: "liabilities:tax:sales", Currency: "usd", Amount: tax},
				{Account: "income:sales", Currency: "usd", Amount: gross.Neg()},
			},
		}
	}
	return out
}

func suiteBatches(t *testing.T, e *suiteEnv) {
	ctx, l := e.ctx, e.l
	ins := batch("b", 500, suiteT0)
	out := ok(l.PostEntries(ctx, ins)).must(t)
	for i, en := range out {
		if en.ID == 0 || en.Replayed || (i > 0 && en.ID <= out[i-1].ID) {
			t.Fatalf("entry %d: id %d replayed %v", i, en.ID, en.Replayed)
		}
	}
	stored := ok(l.Entry(ctx, out[42].ID)).must(t)
	if stored.Key != "b-42" || len(stored.Postings) != 4 || stored.Postings[3].Account != "income:sales" ||
		!stored.OccurredAt.Equal(ins[42].OccurredAt) {
		t.Errorf("stored entry %+v", stored)
	}
	// Half old, half new: the old ones come back as replays.
	mixed := append(batch("b", 250, suiteT0), batch("c", 250, suiteT0)...)
	out2 := ok(l.PostEntries(ctx, mixed)).must(t)
	for i, en := range out2 {
		if (i < 250) != en.Replayed || (i < 250 && en.ID != out[i].ID) {
			t.Fatalf("mixed batch entry %d: id %d replayed %v", i, en.ID, en.Replayed)
		}
	}
	conflicting := batch("c", 20, suiteT0)
	conflicting[7].Description = "changed"
	_, err := l.PostEntries(ctx, conflicting)
	wantErr(t, "batch with a changed entry", err, ledger.ErrIdempotencyConflict)
	// A small batch goes the statement-per-entry way; same answers.
	small := ok(l.PostEntries(ctx, batch("c", 3, suiteT0))).must(t)
	if !small[2].Replayed || small[2].ID != out2[252].ID {
		t.Errorf("small replay batch: %+v", small[2])
	}
	n := 0
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachEntry(ctx, ledger.EntryFilter{Account: "liabilities:tax"}, func(*ledger.Entry) error { n++; return nil })
	})
	if err != nil || n != 750 {
		t.Errorf("entries touching liabilities:tax: %d, %v", n, err)
	}
	var last time.Time
	n = 0
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachEntry(ctx, ledger.EntryFilter{From: suiteT0.Add(100 * time.Second), To: suiteT0.Add(200 * time.Second)}, func(en *ledger.Entry) error {
			if en.OccurredAt.Before(last) {
				t.Errorf("entries out of order")
			}
			last = en.OccurredAt
			n++
			return nil
		})
	})
	if err != nil || n != 200 {
		t.Errorf("entries in 100 seconds of two batches: %d, %v", n, err)
	}
	// Paged by a cursor, seven at a time, the entries are those of one
	// pass in the same order, with or without an account's filter; ties
	// of time (a batch shares one) are broken by id.
	for _, f := range []ledger.EntryFilter{{}, {Account: "liabilities:tax"}, {From: suiteT0.Add(100 * time.Second), PostedOnly: true}} {
		var whole, paged []int64
		err = l.View(ctx, func(tx ledger.ReadTx) error {
			if err := tx.EachEntry(ctx, f, func(en *ledger.Entry) error { whole = append(whole, en.ID); return nil }); err != nil {
				return err
			}
			for {
				var page []*ledger.Entry
				err := tx.EachEntry(ctx, f, func(en *ledger.Entry) error {
					if page = append(page, en); len(page) == 7 {
						return errStop
					}
					return nil
				})
				if err != nil && !errors.Is(err, errStop) {
					return err
				}
				for _, en := range page {
					paged = append(paged, en.ID)
				}
				if len(page) < 7 || len(paged) > len(whole) {
					return nil
				}
				f.After = ledger.CursorOf(page[len(page)-1])
			}
		})
		if err != nil || len(whole) < 200 || !slices.Equal(paged, whole) {
			t.Errorf("entries of %+v paged by a cursor: %d of %d in one pass (%v)", f, len(paged), len(whole), err)
		}
		// An offset skips that many of them, alone or after a cursor.
		f.After = ledger.EntryCursor{}
		for _, skip := range []int{1, 7, 150, len(whole) - 1, len(whole), len(whole) + 3} {
			for _, after := range []int{-1, 3} {
				g := f
				g.Offset = skip
				want := whole[min(skip, len(whole)):]
				if after >= 0 {
					var at *ledger.Entry
					if err := l.View(ctx, func(tx ledger.ReadTx) (err error) { at, err = tx.Entry(ctx, whole[after]); return err }); err != nil {
						t.Fatal(err)
					}
					g.After = ledger.CursorOf(at)
					want = whole[min(after+1+skip, len(whole)):]
				}
				var got []int64
				err := l.View(ctx, func(tx ledger.ReadTx) error {
					return tx.EachEntry(ctx, g, func(en *ledger.Entry) error { got = append(got, en.ID); return nil })
				})
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("entries of %+v: %d, want %d (%v)", g, len(got), len(want), err)
				}
			}
		}
	}
}

// errStop ends an EachEntry early.
var errStop = errors.New("stop")

func suitePendingAndReversal(t *testing.T, e *suiteEnv) {
	ctx, l := e.ctx, e.l
	pe := ok(l.PostEntry(ctx, ledger.EntryInput{Key: "hold", Pending: true, ExpiresAt: suiteT0.Add(time.Hour),
		Postings: []ledger.PostingInput{ledger.Debit("assets:receivables", "eur", "30"), ledger.Credit("income:sales", "eur", "30")}})).must(t)
	posted := ok(l.PostPending(ctx, ledger.PostPendingRequest{Key: "hold-post", EntryID: pe.ID,
		Postings: []ledger.PostingInput{ledger.Debit("assets:receivables", "eur", "20"), ledger.Credit("income:sales", "eur", "20")}})).must(t)
	if posted.PendingOf != pe.ID {
		t.Errorf("posted %+v", posted)
	}
	_, err := l.PostPending(ctx, ledger.PostPendingRequest{Key: "hold-post-2", EntryID: pe.ID})
	wantErr(t, "post twice", err, ledger.ErrAlreadyCaptured)
	err = l.VoidPending(ctx, "hold-void", pe.ID)
	wantErr(t, "void a posted hold", err, ledger.ErrAlreadyCaptured)
	if got := e.balance(t, "income:sales", "eur"); got != 2000 {
		t.Errorf("sales %d, want 2000", got)
	}

	// Expiry voids a hold.
	ok(l.PostEntry(ctx, ledger.EntryInput{Key: "hold-2", Pending: true, ExpiresAt: suiteT0.Add(time.Hour),
		Postings: []ledger.PostingInput{ledger.Debit("assets:receivables", "eur", "5"), ledger.Credit("income:sales", "eur", "5")}})).must(t)
	if n := ok(l.ExpireAuthorizations(ctx, suiteT0.Add(2*time.Hour))).must(t); n != 1 {
		t.Errorf("expired %d, want 1", n)
	}

	rev := ok(l.Reverse(ctx, "rev-1", posted.ID, time.Time{}, "")).must(t)
	if rev.Reverses != posted.ID {
		t.Errorf("reversal %+v", rev)
	}
	_, err = l.Reverse(ctx, "rev-2", posted.ID, time.Time{}, "")
	wantErr(t, "reverse twice", err, ledger.ErrAlreadyResolved)
	if got := e.balance(t, "income:sales", "eur"); got != 0 {
		t.Errorf("sales after reversal %d, want 0", got)
	}
	var by int64
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		var err error
		by, err = tx.ReversedBy(ctx, posted.ID)
		return err
	})
	if err != nil || by != rev.ID {
		t.Errorf("reversed by %d, %v; want %d", by, err, rev.ID)
	}
	_, err = l.Entry(ctx, 1<<40)
	wantErr(t, "unknown entry", err, ledger.ErrNotFound)
}

func suiteAtomic(t *testing.T, e *suiteEnv) {
	ctx, l := e.ctx, e.l
	var failed error
	err := l.Atomic(ctx, func(in *ledger.Ledger) error {
		if _, err := in.PostEntry(ctx, ledger.EntryInput{Key: "a1", Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", "3"), ledger.Credit("equity:capital", "usd", "3")}}); err != nil {
			return err
		}
		// A failing operation inside leaves no trace: its savepoint is
		// rolled back and the rest carries on.
		_, failed = in.Refund(ctx, ledger.RefundRequest{Key: "a2", PaymentID: "nope", RefundID: "re_x"})
		_, err := in.Capture(ctx, ledger.CaptureRequest{Key: "a3", PaymentID: "pay_a", Provider: "stripe", Currency: "usd", Amount: dec("4")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "refund of an unknown payment", failed, ledger.ErrNotFound)
	if got := e.balance(t, "equity:capital", "usd"); got != 300 {
		t.Errorf("capital %d", got)
	}
	// The failed operation's key is free.
	_, err = l.Refund(ctx, ledger.RefundRequest{Key: "a2", PaymentID: "pay_a", RefundID: "re_a"})
	if err != nil {
		t.Errorf("key of a rolled-back operation: %v", err)
	}
	// An error from fn rolls everything back.
	boom := errors.New("boom")
	err = l.Atomic(ctx, func(in *ledger.Ledger) error {
		if _, err := in.PostEntry(ctx, ledger.EntryInput{Key: "a4", Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", "3"), ledger.Credit("equity:capital", "usd", "3")}}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "atomic error", err, boom)
	if got := e.balance(t, "equity:capital", "usd"); got != 300 {
		t.Errorf("capital after a rolled-back Atomic %d", got)
	}
}

func suiteExactTimes(t *testing.T, e *suiteEnv) {
	ctx, l := e.ctx, e.l
	for i, at := range []time.Time{ledger.MinTime, ledger.MinTime.Add(time.Nanosecond), ledger.MaxTime,
		time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.UTC), time.Unix(0, 1).UTC()} {
		en := ok(l.PostEntry(ctx, ledger.EntryInput{Key: fmt.Sprint("t", i), OccurredAt: at, Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}})).must(t)
		got := ok(l.Entry(ctx, en.ID)).must(t)
		if !got.OccurredAt.Equal(at) {
			t.Errorf("%s read back as %s", at.Format(time.RFC3339Nano), got.OccurredAt.Format(time.RFC3339Nano))
		}
	}
	for _, at := range []time.Time{ledger.MaxTime.Add(time.Nanosecond), time.Unix(0, 0)} {
		_, err := l.PostEntry(ctx, ledger.EntryInput{Key: "bad-" + at.String(), OccurredAt: at, Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}})
		wantErr(t, at.String(), err, ledger.ErrInvalidTime)
	}
	// A bound beyond the range still covers every entry.
	bals := ok(l.BalancesAsOf(ctx, "equity", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))).must(t)
	if len(bals) != 1 || bals[0].Posted != -500 {
		t.Errorf("as of 9999: %+v", bals)
	}
}

func suiteOverflow(t *testing.T, e *suiteEnv) {
	ctx, l := e.ctx, e.l
	huge := decimal.New(math.MaxInt64/2+1, -2) // more than half of what a balance holds
	post := func(key string) error {
		_, err := l.PostEntry(ctx, ledger.EntryInput{Key: key, Postings: []ledger.PostingInput{
			{Account: "assets:bank:ops", Currency: "usd", Amount: huge}, {Account: "equity:capital", Currency: "usd", Amount: huge.Neg()}}})
		return err
	}
	if err := post("o1"); err != nil {
		t.Fatal(err)
	}
	// The second, in its own transaction, overflows the stored balance.
	wantErr(t, "balance overflow", post("o2"), ledger.ErrInvalidAmount)
	wantErr(t, "balance overflow in one batch", func() error {
		_, err := l.PostEntries(ctx, []ledger.EntryInput{
			{Key: "o3", Postings: []ledger.PostingInput{{Account: "assets:x", Currency: "eur", Amount: huge}, {Account: "equity:x", Currency: "eur", Amount: huge.Neg()}}},
			{Key: "o4", Postings: []ledger.PostingInput{{Account: "assets:x", Currency: "eur", Amount: huge}, {Account: "equity:x", Currency: "eur", Amount: huge.Neg()}}},
		})
		return err
	}(), ledger.ErrInvalidAmount)
	// BalancesAsOf sums in SQL; the two entries of one balance that was
	// refused are not there, so this one fits.
	if _, err := l.BalancesAsOf(ctx, "", ledger.MaxTime); err != nil {
		t.Errorf("as of: %v", err)
	}
}
