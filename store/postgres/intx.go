package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/settlehq/settle/ledger"
)

// TxStore is a ledger.Store that runs inside a transaction its caller
// began and will commit: see Store.InTx.
type TxStore struct {
	s  *Store
	tx *sqlx.Tx
}

var _ ledger.Store = (*TxStore)(nil)

// InTx returns a ledger.Store whose Update and View run in the caller's
// own transaction sqlTx, on the same database (opened with pgx's
// database/sql driver; a pgxpool user gets one from stdlib.OpenDBFromPool).
// A lifecycle call then commits, or rolls back, with the caller's own
// writes: an order's status and the capture that paid for it.
//
//	tx, _ := db.BeginTx(ctx, nil)
//	tx.ExecContext(ctx, `UPDATE orders SET status = 'paid' WHERE id = $1`, id)
//	ledger.New(store.InTx(tx), nil).Capture(ctx, req)
//	tx.Commit()
//
// Each Update runs under a savepoint: if fn fails, its writes are undone
// and the caller's transaction stays usable. Nothing is retried here: a
// conflict with a concurrent transaction (serialization failure, deadlock,
// a key another transaction stored first) is returned, the caller's
// transaction is then aborted, and the caller runs it again from the start
// (Retryable tells which errors). The caller's isolation level is kept;
// the ledger's rules hold at READ COMMITTED and above through the row locks
// its reads take.
func (s *Store) InTx(sqlTx *sql.Tx) *TxStore {
	return &TxStore{s: s, tx: &sqlx.Tx{Tx: sqlTx, Mapper: s.db.Mapper}}
}

// Retryable reports whether err is a conflict with a concurrent
// transaction that running the caller's whole transaction again resolves
// (SQLSTATE 40001, 40P01, 23505).
func Retryable(err error) bool { return retryable(err) }

func (ts *TxStore) newTx(write bool) *tx {
	return &tx{s: ts.s, c: ts.tx, write: write, begun: true, callers: true, newAccounts: map[string]int64{},
		deltas: map[balKey]delta{}, claims: map[string]bool{}, locked: map[string]bool{}, scopes: map[scopeKey]bool{}}
}

// Update runs fn in the caller's transaction, under a savepoint.
func (ts *TxStore) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	t := ts.newTx(true)
	if _, err := t.c.ExecContext(ctx, "SAVEPOINT settle_update"); err != nil {
		return translate(err)
	}
	err := fn(t)
	if t.conflict != nil {
		err = t.conflict
	}
	if err == nil {
		err = t.finish(ctx)
	}
	if err != nil {
		if _, rerr := t.c.ExecContext(ctx, "ROLLBACK TO SAVEPOINT settle_update"); rerr != nil {
			return fmt.Errorf("%w (and rolling back to the savepoint: %w)", translate(err), rerr)
		}
		return translate(err)
	}
	_, err = t.c.ExecContext(ctx, "RELEASE SAVEPOINT settle_update")
	return translate(err)
}

// View runs fn in the caller's transaction.
func (ts *TxStore) View(ctx context.Context, fn func(ledger.ReadTx) error) error {
	return translate(fn(ts.newTx(false)))
}

// finish writes what a write transaction keeps until commit, where the
// caller commits: the balance changes, the saved requests, and the return
// of request keys it claimed and did not use.
func (t *tx) finish(ctx context.Context) error {
	if err := t.writeKept(ctx); err != nil {
		return err
	}
	if len(t.claims) > 0 {
		if _, err := t.exec(ctx, `DELETE FROM {schema}.requests WHERE key = ANY($1) AND operation = ''`,
			slices.Collect(maps.Keys(t.claims))); err != nil {
			return err
		}
		clear(t.claims)
	}
	return nil
}
