package ledger_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// A billing backend opens a ledger, captures a payment with its fee, refunds
// part of it, and reads balances.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "settle-example")
	defer os.RemoveAll(dir)

	store, err := sqlite.Open(ctx, filepath.Join(dir, "books.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	books := ledger.New(store, nil)

	at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	// An automatic capture: $29.99, of which Stripe keeps $1.17.
	if _, err := books.Capture(ctx, ledger.CaptureRequest{
		Key:       "order-1001-capture",
		PaymentID: "order-1001", Provider: "stripe", ProviderRef: "ch_3Nx", Currency: "usd",
		Amount: decimal.RequireFromString("29.99"),
		Fees:   []ledger.Fee{{Type: "stripe_fee", Amount: decimal.RequireFromString("1.17")}},
		At:     at,
	}); err != nil {
		log.Fatal(err)
	}
	// Funds become available two days later; then the customer gets $10 back.
	if _, err := books.MakeAvailable(ctx, at.Add(48*time.Hour)); err != nil {
		log.Fatal(err)
	}
	res, err := books.Refund(ctx, ledger.RefundRequest{
		Key: "order-1001-refund-1", PaymentID: "order-1001", RefundID: "rf-1",
		Amount: decimal.RequireFromString("10.00"), At: at.Add(72 * time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("refund balance transaction:", res.BalanceTransaction.Type, res.BalanceTransaction.Amount)

	for _, account := range []string{"assets:stripe:available", "income:sales", "income:refunds", "expenses:fees:stripe_fee"} {
		minor, err := books.Balance(ctx, account, "USD")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-26s %s\n", account, ledger.FormatMinor(minor, 2))
	}
	// Output:
	// refund balance transaction: refund -1000
	// assets:stripe:available    18.82
	// income:sales               29.99
	// income:refunds             -10.00
	// expenses:fees:stripe_fee   1.17
}
