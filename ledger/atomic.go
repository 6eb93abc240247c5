package ledger

import (
	"context"
	"fmt"
)

// Atomic runs fn with a Ledger whose every operation joins one database
// transaction: everything fn does lands, or nothing does. Inside, each
// operation is a savepoint, so an operation that fails leaves no trace and
// fn may carry on (to skip a bad line, say) or return the error to roll all
// back.
func (l *Ledger) Atomic(ctx context.Context, fn func(*Ledger) error) error {
	return l.AtomicTx(ctx, func(inner *Ledger, _ Tx) error { return fn(inner) })
}

// AtomicTx is Atomic that also hands fn the store's transaction, so that an
// application can write its own records (a reconciliation exception closed
// by the entry that fixes it, say) in the same commit as the ledger's. The
// store's transaction type may implement more than Tx; fn may assert it.
func (l *Ledger) AtomicTx(ctx context.Context, fn func(*Ledger, Tx) error) error {
	return l.store.Update(ctx, func(tx Tx) error {
		n, ok := tx.(Nester)
		if !ok {
			return fmt.Errorf("%w: the store does not support nested transactions", ErrInvalidRequest)
		}
		inner := *l
		inner.store = nestedStore{tx: tx, n: n}
		return fn(&inner, tx)
	})
}

// nestedStore runs each Update as a savepoint of an open transaction.
type nestedStore struct {
	tx Tx
	n  Nester
}

func (s nestedStore) Update(ctx context.Context, fn func(Tx) error) error {
	return s.n.Nested(ctx, func() error { return fn(s.tx) })
}

func (s nestedStore) View(ctx context.Context, fn func(ReadTx) error) error { return fn(s.tx) }

// Batch runs fn with a Ledger whose every operation joins one database
// transaction, as Atomic does, but without a savepoint around each
// operation: the way to apply many operations (a feed file) that land all
// together or not at all. The rules are the same; what differs is what a
// refused operation leaves behind. An operation that fails may have written
// part of its work, so after any failure the batch cannot commit: Batch
// returns the first operation's error even if fn returns nil.
func (l *Ledger) Batch(ctx context.Context, fn func(*Ledger) error) error {
	return l.store.Update(ctx, func(tx Tx) error {
		inner := *l
		bs := &batchStore{tx: tx}
		inner.store = bs
		err := fn(&inner)
		if err == nil && bs.failed != nil {
			err = fmt.Errorf("the batch cannot commit after a failed operation: %w", bs.failed)
		}
		return err
	})
}

// batchStore runs each Update directly in an open transaction and remembers
// the first one that failed.
type batchStore struct {
	tx     Tx
	failed error
}

func (s *batchStore) Update(ctx context.Context, fn func(Tx) error) error {
	if s.failed != nil {
		return fmt.Errorf("an earlier operation of the batch failed: %w", s.failed)
	}
	err := fn(s.tx)
	if err != nil {
		s.failed = err
	}
	return err
}

func (s *batchStore) View(ctx context.Context, fn func(ReadTx) error) error { return fn(s.tx) }

// Prefetch tells the store which idempotency keys, payments, refunds,
// disputes and payouts the next operations of a Batch or Atomic run will
// look up, so that a store able to read them ahead (Prefetcher) does so in
// a few queries rather than one per operation. Outside a Batch or Atomic
// run, and on a store that cannot, it does nothing.
func (l *Ledger) Prefetch(ctx context.Context, ahead Ahead) error {
	var tx Tx
	switch s := l.store.(type) {
	case *batchStore:
		if s.failed != nil {
			return nil
		}
		tx = s.tx
	case nestedStore:
		tx = s.tx
	default:
		return nil
	}
	if p, ok := tx.(Prefetcher); ok {
		return p.Prefetch(ctx, ahead)
	}
	return nil
}
