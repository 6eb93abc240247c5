package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// SmallBooks records through l, from at on, books with a row in every
// table Verify reads: a captured payment with a fee, made available, then
// partly refunded and disputed; a manual payout; and a second payment
// only authorized, its pending entry unresolved. The books verify clean.
// The stores' corruption tests break them behind the ledger's back.
func SmallBooks(t testing.TB, l *ledger.Ledger, at time.Time) {
	t.Helper()
	ctx := context.Background()
	d := decimal.RequireFromString
	steps := []func() error{
		func() error {
			_, err := l.Capture(ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "pay_1", Provider: "stripe", Currency: "usd",
				Amount: d("100"), Fees: []ledger.Fee{{Type: "stripe_fee", Amount: d("3.20")}}, At: at})
			return err
		},
		func() error { _, err := l.MakeAvailable(ctx, at.Add(72*time.Hour)); return err },
		func() error {
			_, err := l.Refund(ctx, ledger.RefundRequest{Key: "r1", PaymentID: "pay_1", RefundID: "re_1", Amount: d("10"), At: at.Add(73 * time.Hour)})
			return err
		},
		func() error {
			_, err := l.OpenDispute(ctx, ledger.DisputeRequest{Key: "d1", PaymentID: "pay_1", DisputeID: "dp_1", Amount: d("20"),
				Fee: d("15"), At: at.Add(74 * time.Hour)})
			return err
		},
		func() error {
			_, err := l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po1", PayoutID: "po_1", Provider: "stripe", Currency: "usd",
				Amount: d("30"), At: at.Add(75 * time.Hour)})
			return err
		},
		func() error {
			_, err := l.Authorize(ctx, ledger.AuthorizeRequest{Key: "a2", PaymentID: "pay_2", Provider: "stripe", Currency: "usd",
				Amount: d("40"), At: at.Add(76 * time.Hour)})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if vs, err := l.Verify(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("clean books: %v %v", vs, err)
	}
}

// HasViolation reports whether vs holds a violation of invariant, with
// this subject and detail where they are not empty.
func HasViolation(vs []ledger.Violation, invariant, subject, detail string) bool {
	for _, v := range vs {
		if v.Invariant == invariant && (subject == "" || v.Subject == subject) && (detail == "" || v.Detail == detail) {
			return true
		}
	}
	return false
}
