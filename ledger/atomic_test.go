package ledger_test

import (
	"errors"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// Inside Atomic a refused operation leaves no trace and the rest carries
// on; an error returned from fn undoes everything.
func TestAtomic(t *testing.T) {
	e := newEnv(t, nil)
	err := e.l.Atomic(e.ctx, func(l *ledger.Ledger) error {
		if _, err := l.Capture(e.ctx, chargeReq("pay_1", "100.00", "")); err != nil {
			return err
		}
		if _, err := l.Refund(e.ctx, refundReq("rf1", "pay_1", "re_1", "100.01", t0)); !errors.Is(err, ledger.ErrOverRefund) {
			t.Errorf("over-refund inside Atomic: %v", err)
		}
		// The refused call created no account and used no entry id.
		if _, err := l.PostEntry(e.ctx, ledger.EntryInput{Key: "bad", OccurredAt: t0, Postings: []ledger.PostingInput{
			ledger.Debit("assets:only:here", "usd", "1"), ledger.Credit("equity:capital", "usd", "0.99")}}); !errors.Is(err, ledger.ErrUnbalanced) {
			t.Errorf("unbalanced entry inside Atomic: %v", err)
		}
		if _, err := l.PostEntry(e.ctx, ledger.EntryInput{Key: "conflict", OccurredAt: t0, Postings: []ledger.PostingInput{
			ledger.Debit("assets:only:here", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}}); err != nil {
			return err
		}
		if _, err := l.PostEntry(e.ctx, ledger.EntryInput{Key: "conflict", OccurredAt: t0, Postings: []ledger.PostingInput{
			ledger.Debit("assets:only:here", "usd", "2"), ledger.Credit("equity:capital", "usd", "2")}}); !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Errorf("conflict inside Atomic: %v", err)
		}
		_, err := l.Refund(e.ctx, refundReq("rf2", "pay_1", "re_2", "40", t0))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.wantBalances(t, map[string]bal{pendingUSD: {10000, 0}, availUSD: {-4000, 0}, refundsUSD: {4000, 0}, salesUSD: {-10000, 0},
		"assets:only:here usd": {100, 0}, "equity:capital usd": {-100, 0}})
	wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentPartiallyRefunded, 10000, 10000, 4000, 0, 0)
	e.verify(t)

	before := dump(t, e.store.DB())
	boom := errors.New("boom")
	err = e.l.Atomic(e.ctx, func(l *ledger.Ledger) error {
		if _, err := l.Refund(e.ctx, refundReq("rf3", "pay_1", "re_3", "10", t0)); err != nil {
			return err
		}
		if _, err := l.Capture(e.ctx, chargeReq("pay_2", "5", "")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Atomic = %v, want boom", err)
	}
	if after := dump(t, e.store.DB()); after != before {
		t.Errorf("a failed Atomic wrote: %s", diffDumps(before, after))
	}
	// And the ledger carries on.
	e.refund(t, "rf3", "pay_1", "re_3", "10", t0)
	e.verify(t)
}
