package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/postgres"
)

// payOrder marks an order paid and books its capture in one transaction of
// the application's own: both commit, or neither does. A conflict with a
// concurrent transaction runs the whole transaction again.
func payOrder(ctx context.Context, db *sql.DB, store *postgres.Store, orders, orderID string, amount decimal.Decimal) error {
	for attempt := 0; ; attempt++ {
		err := func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, `UPDATE `+orders+` SET status = 'paid' WHERE id = $1`, orderID); err != nil {
				return err
			}
			books := ledger.New(store.InTx(tx), nil)
			if _, err := books.Capture(ctx, ledger.CaptureRequest{Key: "capture-" + orderID, PaymentID: orderID,
				Provider: "stripe", Currency: "usd", Amount: amount}); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err == nil || !postgres.Retryable(err) || attempt == 5 {
			return err
		}
	}
}

// An order's status and the capture entry that paid for it commit together
// in the application's own transaction (Store.InTx). This example needs a
// server, so it has no output to check; TestExampleInCallersTransaction
// runs the same code against SETTLE_TEST_POSTGRES.
func ExampleStore_InTx() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	store, err := postgres.New(ctx, db, nil) // settle's tables in schema "settle"
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := payOrder(ctx, db, store, "orders", "order_1042", decimal.RequireFromString("25.00")); err != nil {
		fmt.Println(err)
	}
}

func TestExampleInCallersTransaction(t *testing.T) {
	url := serverURL(t)
	ctx := context.Background()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := testSchema(t)
	orders := pgx.Identifier{schema, "orders"}.Sanitize()
	store, err := postgres.New(ctx, db, &postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE `+orders+` (id TEXT PRIMARY KEY, status TEXT NOT NULL);
		INSERT INTO `+orders+` VALUES ('o1', 'open'), ('o2', 'open')`); err != nil {
		t.Fatal(err)
	}
	status := func(id string) string {
		var s string
		if err := db.QueryRowContext(ctx, `SELECT status FROM `+orders+` WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	books := ledger.New(store, nil)
	captured := func(id string) bool {
		err := books.View(ctx, func(tx ledger.ReadTx) error {
			_, err := tx.Payment(ctx, id)
			return err
		})
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	if err := payOrder(ctx, db, store, orders, "o1", decimal.RequireFromString("25.00")); err != nil {
		t.Fatal(err)
	}
	if status("o1") != "paid" || !captured("o1") {
		t.Errorf("after commit: order %s, captured %v", status("o1"), captured("o1"))
	}
	// The capture's request is stored with its result: a replay answers it.
	if err := books.View(ctx, func(tx ledger.ReadTx) error {
		r, err := tx.Request(ctx, "capture-o1")
		if err == nil && (r.Operation == "" || len(r.Result) == 0) {
			err = fmt.Errorf("stored without its operation or result: %+v", r)
		}
		return err
	}); err != nil {
		t.Errorf("the capture's request after commit: %v", err)
	}
	if bal, err := books.Balance(ctx, "income:sales", "usd"); err != nil || bal != 2500 { // on its normal (credit) side
		t.Errorf("income:sales %d, %v", bal, err)
	}

	// Rolled back by the caller: neither the status nor the capture.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE `+orders+` SET status = 'paid' WHERE id = 'o2'`); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.New(store.InTx(tx), nil).Capture(ctx, ledger.CaptureRequest{Key: "capture-o2", PaymentID: "o2",
		Provider: "stripe", Currency: "usd", Amount: decimal.RequireFromString("7.00")}); err != nil {
		t.Fatal(err)
	}
	// A refused call undoes its own writes only: the transaction goes on.
	if _, err := ledger.New(store.InTx(tx), nil).Refund(ctx, ledger.RefundRequest{Key: "too-much", PaymentID: "o2",
		RefundID: "re1", Amount: decimal.RequireFromString("8.00")}); !errors.Is(err, ledger.ErrOverRefund) {
		t.Errorf("over-refund in the caller's transaction: %v", err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Errorf("the caller's transaction after a refused call: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if status("o2") != "open" || captured("o2") {
		t.Errorf("after rollback: order %s, captured %v", status("o2"), captured("o2"))
	}
	// The account rows the rolled-back capture created are not remembered.
	if err := payOrder(ctx, db, store, orders, "o2", decimal.RequireFromString("7.00")); err != nil {
		t.Fatal(err)
	}
	vs, err := books.Verify(ctx)
	if err != nil || len(vs) != 0 {
		t.Errorf("verify: %v %v", vs, err)
	}
}
