package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/ledger"
)

// checkingDue compares, for the rest of the test, every answer from memory
// with SQLite's (read with the pending index dropped, if it was), and
// counts the answers compared.
func checkingDue(t *testing.T) *int {
	checked := 0
	dueAnswered = func(ctx context.Context, tx *tx, mem []ledger.BalanceTransaction, asOf time.Time, provider, currency string) error {
		stored, err := tx.dueStored(ctx, asOf, provider, currency)
		if err != nil {
			return err
		}
		checked++
		if len(mem) != len(stored) {
			return fmt.Errorf("%w: %d from memory, %d stored, as of %s", errDueMismatch, len(mem), len(stored), asOf)
		}
		for i := range mem {
			if !reflect.DeepEqual(mem[i], stored[i]) {
				return fmt.Errorf("%w: the %dth as of %s: %+v from memory, %+v stored", errDueMismatch, i, asOf, mem[i], stored[i])
			}
		}
		return nil
	}
	t.Cleanup(func() { dueAnswered = nil })
	return &checked
}

var errDueMismatch = errors.New("the pending balance transactions in memory differ from the table's")

// A feed recorded into a new database has its payouts' sweeps answered from
// memory, and each answer is the table's: the same transactions, in the
// same order, with the same figures, dates and payouts. The feed has
// refunds, disputes, failed payouts and payments presented in other
// currencies; the whole month is one transaction.
func TestDueFromMemoryAsStored(t *testing.T) {
	ctx := context.Background()
	checked := checkingDue(t)
	var f bytes.Buffer
	_, err := generate.Generate(generate.Options{Payments: 3000, PerDay: 60, TailDays: 30, ForeignShare: 0.2, DiffRate: 0.03,
		RandomIDs: true}, generate.Output{Feed: &f})
	if err != nil {
		t.Fatal(err)
	}
	s := tempStore(t)
	books := ledger.New(s, nil)
	if _, errs := feed.ApplyFile(ctx, books, "month.jsonl", bytes.NewReader(f.Bytes()), false); len(errs) > 0 {
		t.Fatalf("recording: %v", errs[0])
	}
	if *checked < 20 {
		t.Fatalf("%d sweeps answered from memory, want one a payout", *checked)
	}
	// A later transaction finds transactions pending and reads the table.
	before := *checked
	if n, err := books.MakeAvailable(ctx, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || n == 0 {
		t.Fatalf("making the rest available: %d, %v", n, err)
	}
	if *checked != before {
		t.Error("a transaction that found transactions pending answered from memory")
	}
}

// inSale runs fn in a write transaction on s, after booking a sale of 1.00
// usd at at for the test's balance transactions to stand on, and fails the
// test on an error.
func inSale(t *testing.T, s *Store, at time.Time, fn func(tx *tx, e *ledger.Entry) error) {
	t.Helper()
	ctx := context.Background()
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		e := &ledger.Entry{Key: "k", Phase: ledger.Posted, OccurredAt: at, Postings: []ledger.Posting{
			{Account: "assets:stripe:pending", Currency: "usd", Amount: 100}, {Account: "income:sales", Currency: "usd", Amount: -100}}}
		if err := tx.InsertEntry(ctx, e); err != nil {
			return err
		}
		return fn(tx, e)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// pendingCharge is a pending charge of 1.00 usd of sale e, available at at.
func pendingCharge(id string, e *ledger.Entry, at time.Time) *ledger.BalanceTransaction {
	return &ledger.BalanceTransaction{ID: id, Provider: "stripe", EntryID: e.ID, Type: "charge", ReportingCategory: "charge",
		Amount: 100, Net: 100, Currency: "usd", Status: ledger.BTPending, Created: at, AvailableOn: at}
}

// pendingIndexSQL is how the index of pending settlements is defined, ""
// when it is not there.
func pendingIndexSQL(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) string {
	t.Helper()
	var create string
	err := q.QueryRowContext(context.Background(), `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`, dueIndex).Scan(&create)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	return create
}

// A savepoint rolled back takes its balance transactions out of the table;
// the memory, which held them, is no longer asked, and the index of
// pending settlements, dropped while it answered, is built again before
// SQLite is read and is there when the transaction commits.
func TestDueMemoryOffAfterRolledBackSavepoint(t *testing.T) {
	ctx := context.Background()
	checkingDue(t)
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	errNo := errors.New("refused")
	index := pendingIndexSQL(t, s.DB())
	inSale(t, s, at, func(tx *tx, e *ledger.Entry) error {
		if err := tx.InsertBalanceTransaction(ctx, pendingCharge("btx_kept", e, at)); err != nil {
			return err
		}
		if tx.due.state != dueOn {
			return errors.New("a new database's transaction does not keep its pending transactions")
		}
		if err := tx.Nested(ctx, func() error {
			if err := tx.InsertBalanceTransaction(ctx, pendingCharge("btx_taken_back", e, at)); err != nil {
				return err
			}
			return errNo
		}); !errors.Is(err, errNo) {
			return fmt.Errorf("the savepoint: %v", err)
		}
		due, err := tx.DueBalanceTransactions(ctx, at, "", "")
		if err != nil {
			return err
		}
		if len(due) != 1 || due[0].ID != "btx_kept" {
			return fmt.Errorf("due after the rollback: %v", due)
		}
		if got := pendingIndexSQL(t, tx.q); got != index {
			return fmt.Errorf("the pending index when SQLite was read: %q", got)
		}
		return nil
	})
	if got := pendingIndexSQL(t, s.DB()); got != index || index == "" {
		t.Errorf("the pending index after the commit: %q, want %q", got, index)
	}
}

// The memory follows what the transaction writes to its pending
// transactions: a payout assigned to a range of them, a date moved, a
// status changed, and answers with their times as the table returns them
// (UTC, whatever zone they were given in).
func TestDueMemoryFollowsWrites(t *testing.T) {
	ctx := context.Background()
	checked := checkingDue(t)
	s := tempStore(t)
	zone := time.FixedZone("UTC+5", 5*3600)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, zone) }
	index := pendingIndexSQL(t, s.DB())
	inSale(t, s, day(1), func(tx *tx, e *ledger.Entry) error {
		for i := 1; i <= 5; i++ {
			b := &ledger.BalanceTransaction{ID: fmt.Sprint("btx_", i), Provider: "stripe", EntryID: e.ID, Type: "charge",
				ReportingCategory: "charge", Amount: 100, Fee: 3, Net: 97, Currency: "usd", Status: ledger.BTPending,
				Created: day(1), AvailableOn: day(1 + i), AvailableOnEstimated: true, PayoutDerived: true,
				FeeDetails: []ledger.FeeDetail{{Type: "stripe_fee", Amount: 3}}}
			if err := tx.InsertBalanceTransaction(ctx, b); err != nil {
				return err
			}
		}
		if got := pendingIndexSQL(t, tx.q); got != "" || !tx.dueIdx.gone {
			return fmt.Errorf("a new database's pending index kept while the memory answers: %q", got)
		}
		// A payout through the 5th, after one on the 3rd, takes btx_3 and btx_4.
		if err := tx.AssignPayout(ctx, "stripe", "usd", day(3), false, day(5), "po_1"); err != nil {
			return err
		}
		err := tx.SetSettlements(ctx, []ledger.SettlementChange{
			{ID: "btx_5", AvailableOn: day(2), Estimated: false, Changes: ledger.ChangesDate},
			{ID: "btx_1", Status: ledger.BTAvailable, Changes: ledger.ChangesStatus},
		})
		if err != nil {
			return err
		}
		// One transaction's own setters: btx_4 moved to the 3rd with
		// another payout, btx_2 made available.
		if err := tx.SetBalanceTransactionSettlement(ctx, "btx_4", day(3), false, "po_x"); err != nil {
			return err
		}
		if err := tx.SetBalanceTransactionStatus(ctx, "btx_2", ledger.BTAvailable); err != nil {
			return err
		}
		for d := 1; d <= 7; d++ {
			due, err := tx.DueBalanceTransactions(ctx, day(d), "stripe", "usd")
			if err != nil {
				return fmt.Errorf("due on the %d: %w", d, err)
			}
			if d == 4 && (len(due) != 3 || due[0].ID != "btx_5" || due[1].PayoutID != "po_x" || due[2].PayoutID != "po_1") {
				return fmt.Errorf("due on the 4th: %+v", due)
			}
		}
		return nil
	})
	if *checked != 7 {
		t.Errorf("%d answers from memory, want 7", *checked)
	}
	if got := pendingIndexSQL(t, s.DB()); got != index || index == "" {
		t.Errorf("the pending index after the commit: %q, want %q", got, index)
	}
	// Books with transactions, none pending: the memory answers, and the
	// index stays.
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		var made []ledger.SettlementChange
		for _, i := range []int{3, 4, 5} {
			made = append(made, ledger.SettlementChange{ID: fmt.Sprint("btx_", i), Status: ledger.BTAvailable, Changes: ledger.ChangesStatus})
		}
		if err := tx.SetSettlements(ctx, made); err != nil {
			return err
		}
		if _, err := tx.DueBalanceTransactions(ctx, day(9), "", ""); err != nil {
			return err
		}
		if tx.due.state != dueOn || tx.dueIdx.gone || pendingIndexSQL(t, tx.q) != index {
			return fmt.Errorf("memory %d, index dropped %v", tx.due.state, tx.dueIdx.gone)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A read left open on the connection when the first balance transaction is
// inserted keeps SQLite from dropping the pending index: the transaction
// keeps the index up, and still answers from memory.
func TestDueIndexKeptUnderAnOpenRead(t *testing.T) {
	ctx := context.Background()
	checkingDue(t)
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	index := pendingIndexSQL(t, s.DB())
	inSale(t, s, at, func(tx *tx, e *ledger.Entry) error {
		rows, err := tx.q.QueryContext(ctx, `SELECT id FROM entries UNION ALL SELECT id FROM entries`)
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			return errors.New("no entry read")
		}
		if err := tx.InsertBalanceTransaction(ctx, pendingCharge("btx_1", e, at)); err != nil {
			return err
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if tx.due.state != dueOn || tx.dueIdx.gone || pendingIndexSQL(t, tx.q) != index {
			return fmt.Errorf("memory %d, index dropped %v", tx.due.state, tx.dueIdx.gone)
		}
		due, err := tx.DueBalanceTransactions(ctx, at, "", "")
		if err == nil && (len(due) != 1 || due[0].ID != "btx_1") {
			err = fmt.Errorf("due: %v", due)
		}
		return err
	})
}

// The pending index dropped for a new database's first balance transaction
// and built inside a savepoint that is rolled back is dropped again; the
// transaction knows it, and builds it before it commits.
func TestDueIndexAcrossARolledBackSavepoint(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	index := pendingIndexSQL(t, s.DB())
	errUndo := errors.New("undo")
	inSale(t, s, at, func(tx *tx, e *ledger.Entry) error {
		if err := tx.InsertBalanceTransaction(ctx, pendingCharge("btx_1", e, at)); err != nil {
			return err
		}
		if !tx.dueIdx.gone || pendingIndexSQL(t, tx.q) != "" {
			return errors.New("the pending index was not dropped")
		}
		err := tx.Nested(ctx, func() error {
			// A read of the pending settlements from SQLite builds it.
			if _, err := tx.dueFromSQLite(ctx, at, "", ""); err != nil {
				return err
			}
			if tx.dueIdx.gone || pendingIndexSQL(t, tx.q) != index {
				return errors.New("the pending index was not built for a read")
			}
			return errUndo
		})
		if !errors.Is(err, errUndo) {
			return err
		}
		if !tx.dueIdx.gone || pendingIndexSQL(t, tx.q) != "" {
			return fmt.Errorf("after the savepoint that built it: dropped %v, index %q; want it dropped", tx.dueIdx.gone, pendingIndexSQL(t, tx.q))
		}
		return nil
	})
	if got := pendingIndexSQL(t, s.DB()); got != index {
		t.Errorf("the pending index after the commit: %q, want %q", got, index)
	}
}
