package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/settlehq/settle/booking"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
)

// ResolveRequest resolves one exception.
type ResolveRequest struct {
	ExceptionID int64
	Note        string
	// Book posts the entry that makes the ledger agree with the provider
	// (booking.Fix) in the same transaction that closes the exception.
	Book bool
	// DryRun does everything and then rolls it back, returning the entry
	// that would be booked.
	DryRun bool
	// Now is the clock; default time.Now.
	Now func() time.Time

	// failAfterBook, in tests, fails the transaction between booking the
	// fix and closing the exception, as a crash there would.
	failAfterBook bool
}

// Resolution is what Resolve did.
type Resolution struct {
	Exception *reconcile.Exception
	// AlreadyResolved: the exception was resolved before; nothing changed.
	AlreadyResolved bool
	// Entry is the fix booked (or, with DryRun, the fix that would be).
	Entry *ledger.Entry
	// ClosedThrough is the end of the closed period, if any: a fix whose
	// own date lies in it is dated at the first open day instead.
	ClosedThrough time.Time
	DryRun        bool
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("dry run")

// Resolve marks an exception resolved, booking its fix first if asked, in
// one transaction: either both happen or neither does. Resolving an
// exception that is resolved already changes nothing and says so.
func Resolve(ctx context.Context, st Store, books *ledger.Ledger, req ResolveRequest) (*Resolution, error) {
	now := req.Now
	if now == nil {
		now = time.Now
	}
	var out Resolution
	err := books.AtomicTx(ctx, func(b *ledger.Ledger, tx ledger.Tx) error {
		out = Resolution{DryRun: req.DryRun}
		etx, ok := tx.(reconcile.Tx)
		if !ok {
			return fmt.Errorf("%w: the store cannot change exceptions in a ledger transaction", ledger.ErrInvalidRequest)
		}
		e, err := etx.Exception(ctx, req.ExceptionID)
		if err != nil {
			return err
		}
		out.Exception = e
		if e.Status == reconcile.ExceptionResolved {
			out.AlreadyResolved = true
			return nil
		}
		if out.ClosedThrough, err = tx.ClosedThrough(ctx); err != nil {
			return err
		}
		note := req.Note
		var entryID int64
		if req.Book {
			if entryID, err = booking.Fix(ctx, st, b, e); err != nil {
				return err
			}
			if out.Entry, err = tx.Entry(ctx, entryID); err != nil {
				return err
			}
			if note == "" {
				note = fmt.Sprintf("resolved by entry %d", entryID)
			}
		}
		if req.failAfterBook {
			return errors.New("injected failure between booking the fix and closing the exception")
		}
		if err := etx.SetExceptionStatus(ctx, e.ID, reconcile.ExceptionResolved, note, entryID, now().UTC()); err != nil {
			return err
		}
		if req.DryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Ignore accepts an exception as it is, with a note saying why; a later run
// that finds it again leaves it ignored.
func Ignore(ctx context.Context, st Store, id int64, note string, at time.Time) error {
	if strings.TrimSpace(note) == "" {
		return fmt.Errorf("%w: ignoring an exception needs a note saying why", ledger.ErrInvalidRequest)
	}
	return st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		return tx.SetExceptionStatus(ctx, id, reconcile.ExceptionIgnored, note, 0, at)
	})
}

// IgnoreAll ignores many exceptions with one note, in one transaction: if
// one of them cannot be ignored (it does not exist), none is.
func IgnoreAll(ctx context.Context, st Store, ids []int64, note string, at time.Time) error {
	if strings.TrimSpace(note) == "" {
		return fmt.Errorf("%w: ignoring exceptions needs a note saying why", ledger.ErrInvalidRequest)
	}
	return st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		for _, id := range ids {
			if err := tx.SetExceptionStatus(ctx, id, reconcile.ExceptionIgnored, note, 0, at); err != nil {
				return err
			}
		}
		return nil
	})
}
