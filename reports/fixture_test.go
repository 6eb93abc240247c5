package reports_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// day0 is the first day of the fixture ledger.
var day0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// at returns day0 plus d days and h hours.
func at(d, h int) time.Time {
	return day0.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// openLedger opens a ledger on a fresh SQLite file with a fixed clock.
func openLedger(t testing.TB) *ledger.Ledger {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "books.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return ledger.New(st, &ledger.Options{Now: func() time.Time { return at(30, 0) }})
}

// fixtureLedger books a deterministic lifecycle: captures with fees in USD,
// EUR and JPY, a partial capture, an authorization left pending, funds made
// available, a refund, a dispute with a fee, a payout swept and paid, owner
// contributions in USD and KWD, and a manual entry whose description is a
// spreadsheet formula.
func fixtureLedger(t testing.TB) *ledger.Ledger {
	t.Helper()
	ctx := context.Background()
	l := openLedger(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	fee := func(typ, amt string) []ledger.Fee { return []ledger.Fee{{Type: typ, Amount: dec(amt)}} }

	must(l.PostEntry(ctx, ledger.EntryInput{Key: "owner-usd", OccurredAt: at(0, 8), Description: "Owner contribution",
		Postings: []ledger.PostingInput{ledger.Debit("assets:bank:operating", "usd", "1000.00"), ledger.Credit("equity:owner", "usd", "1000.00")}}))
	must(l.PostEntry(ctx, ledger.EntryInput{Key: "owner-kwd", OccurredAt: at(0, 8), Description: "Owner contribution, Kuwait",
		Postings: []ledger.PostingInput{ledger.Debit("assets:bank:kuwait", "kwd", "12.345"), ledger.Credit("equity:owner", "kwd", "12.345")}}))
	must(l.Capture(ctx, ledger.CaptureRequest{Key: "cap-usd-1", PaymentID: "pay_usd_1", Provider: "stripe", ProviderRef: "ch_usd_1",
		Currency: "usd", Amount: dec("100.00"), Fees: fee("stripe_fee", "3.20"), At: at(0, 10)}))
	must(l.Capture(ctx, ledger.CaptureRequest{Key: "cap-eur-1", PaymentID: "pay_eur_1", Provider: "stripe", ProviderRef: "ch_eur_1",
		Currency: "eur", Amount: dec("50.00"), Fees: fee("stripe_fee", "1.05"), At: at(0, 11)}))
	must(l.Capture(ctx, ledger.CaptureRequest{Key: "cap-jpy-1", PaymentID: "pay_jpy_1", Provider: "stripe", ProviderRef: "ch_jpy_1",
		Currency: "jpy", Amount: dec("5000"), Fees: fee("stripe_fee", "180"), At: at(0, 12)}))
	must(l.Authorize(ctx, ledger.AuthorizeRequest{Key: "auth-usd-2", PaymentID: "pay_usd_2", Provider: "stripe", ProviderRef: "ch_usd_2",
		Currency: "usd", Amount: dec("80.00"), At: at(1, 9)}))
	must(l.Capture(ctx, ledger.CaptureRequest{Key: "cap-usd-2", PaymentID: "pay_usd_2", Amount: dec("60.00"),
		Fees: fee("stripe_fee", "2.04"), At: at(1, 15)}))
	must(l.Authorize(ctx, ledger.AuthorizeRequest{Key: "auth-usd-3", PaymentID: "pay_usd_3", Provider: "stripe", ProviderRef: "ch_usd_3",
		Currency: "usd", Amount: dec("25.00"), At: at(2, 9)}))
	must(l.MakeAvailable(ctx, at(4, 0)))
	must(l.Refund(ctx, ledger.RefundRequest{Key: "ref-usd-1", PaymentID: "pay_usd_1", RefundID: "re_1", ProviderRef: "re_1",
		Amount: dec("30.00"), At: at(4, 10)}))
	must(l.OpenDispute(ctx, ledger.DisputeRequest{Key: "dp-eur-1", PaymentID: "pay_eur_1", DisputeID: "dp_1", ProviderRef: "dp_1",
		Amount: dec("50.00"), Fee: dec("15.00"), At: at(5, 10)}))
	must(l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po-usd-1", PayoutID: "po_1", Provider: "stripe", ProviderRef: "po_1",
		Amount: dec("124.76"), Currency: "usd", ArrivalDate: at(8, 0), At: at(6, 0), Automatic: true}))
	must(l.PayPayout(ctx, ledger.PayoutUpdateRequest{Key: "po-usd-1-paid", PayoutID: "po_1", At: at(8, 9)}))
	must(l.PostEntry(ctx, ledger.EntryInput{Key: "manual-1", OccurredAt: at(9, 12),
		Description: `=HYPERLINK("http://evil.example/x","Click; ""here""")`,
		Postings:    []ledger.PostingInput{ledger.Debit("expenses:office", "usd", "12.34"), ledger.Credit("assets:bank:operating", "usd", "12.34")}}))
	return l
}
