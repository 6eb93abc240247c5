package runner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/store/sqlite"
)

// ErrNothingToBook means an exception has no adjusting entry settle can book:
// a duplicate at the provider, a payout that does not add up, a status or
// date difference, or a payment-grain difference (record the missing
// lifecycle events instead).
var ErrNothingToBook = errors.New("there is no adjusting entry settle can book for this exception")

// BookFix posts the entry that makes the ledger agree with the provider on
// a balance-grain exception, and returns its id:
//
//	mismatched           a correction of the ledger's balance transaction by the amount and fee differences
//	missing_in_ledger    the provider's record, booked as reported (importers.Book)
//	missing_at_provider  a correction that cancels the ledger's balance transaction
//
// The key of each booking names the exception and the run that last saw it,
// so resolving twice books once.
func BookFix(ctx context.Context, st *sqlite.Store, books *ledger.Ledger, e *sqlite.Exception) (int64, error) {
	if e.Grain != string(provider.BalanceGrain) {
		return 0, ErrNothingToBook
	}
	key := fmt.Sprintf("exception:%d:run:%d", e.ID, e.LastRun)
	switch reconcile.OutcomeKind(e.Kind) {
	case reconcile.Mismatched:
		da, df, err := amountFeeDeltas(e.Diffs)
		if err != nil {
			return 0, err
		}
		if da == 0 && df == 0 {
			return 0, ErrNothingToBook
		}
		return correct(ctx, books, key, e.LedgerID, da, df, fmt.Sprintf("Correction from reconciliation exception %d", e.ID))
	case reconcile.MissingInLedger:
		rec, err := st.Record(ctx, e.Provider, provider.BalanceGrain, e.ProviderID)
		if err != nil {
			return 0, err
		}
		if _, err := importers.Book(ctx, books, rec); err != nil {
			return 0, err
		}
		var entryID int64
		err = books.View(ctx, func(tx ledger.ReadTx) error {
			bt, err := tx.BalanceTransaction(ctx, rec.ID)
			if err == nil {
				entryID = bt.EntryID
			}
			return err
		})
		return entryID, err
	case reconcile.MissingAtProvider:
		amount, fee, err := effective(ctx, books, e.Provider, e.LedgerID)
		if err != nil {
			return 0, err
		}
		if amount == 0 && fee == 0 {
			return 0, ErrNothingToBook
		}
		return correct(ctx, books, key, e.LedgerID, -amount, -fee, fmt.Sprintf("Cancels %s, which the provider never reported (exception %d)", e.LedgerID, e.ID))
	default:
		return 0, ErrNothingToBook
	}
}

// amountFeeDeltas reads provider − ledger for the amount and fee diffs.
func amountFeeDeltas(diffs []reconcile.Diff) (da, df int64, err error) {
	for _, d := range diffs {
		if d.Field != reconcile.FieldAmount && d.Field != reconcile.FieldFee {
			continue
		}
		l, err1 := strconv.ParseInt(d.Ledger, 10, 64)
		p, err2 := strconv.ParseInt(d.Provider, 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("%w: %s diff %q vs %q is not in minor units", ledger.ErrInvalidAmount, d.Field, d.Ledger, d.Provider)
		}
		if d.Field == reconcile.FieldAmount {
			da = p - l
		} else {
			df = p - l
		}
	}
	return da, df, nil
}

// effective returns a balance transaction's amount and fee with its
// corrections added.
func effective(ctx context.Context, books *ledger.Ledger, provider, id string) (amount, fee int64, err error) {
	err = books.View(ctx, func(tx ledger.ReadTx) error {
		bt, err := tx.BalanceTransaction(ctx, id)
		if err != nil {
			return err
		}
		amount, fee = bt.Amount, bt.Fee
		return tx.EachBalanceTransaction(ctx, ledger.BTFilter{Provider: provider, SourceType: ledger.SourceCorrection}, func(c *ledger.BalanceTransaction) error {
			if c.SourceID == id {
				amount += c.Amount
				fee += c.Fee
			}
			return nil
		})
	})
	return amount, fee, err
}

func correct(ctx context.Context, books *ledger.Ledger, key, btID string, da, df int64, desc string) (int64, error) {
	var cur ledger.Currency
	err := books.View(ctx, func(tx ledger.ReadTx) error {
		bt, err := tx.BalanceTransaction(ctx, btID)
		if err != nil {
			return err
		}
		cur, err = books.Currency(bt.Currency)
		return err
	})
	if err != nil {
		return 0, err
	}
	res, err := books.CorrectBalanceTransaction(ctx, ledger.CorrectionRequest{Key: key, BalanceTransactionID: btID,
		AmountDelta: ledger.FromMinor(da, cur), FeeDelta: ledger.FromMinor(df, cur), Description: desc})
	if err != nil {
		return 0, err
	}
	return res.Entry.ID, nil
}

// exceptionTx is what resolving needs of a store transaction besides the
// ledger's: reading and changing an exception in the same commit.
type exceptionTx interface {
	Exception(ctx context.Context, id int64) (*sqlite.Exception, error)
	SetExceptionStatus(ctx context.Context, id int64, status, note string, entryID int64, at time.Time) error
}

// ResolveRequest resolves one exception.
type ResolveRequest struct {
	ExceptionID int64
	Note        string
	// Book posts the entry that makes the ledger agree with the provider
	// (BookFix) in the same transaction that closes the exception.
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
	Exception *sqlite.Exception
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
func Resolve(ctx context.Context, st *sqlite.Store, books *ledger.Ledger, req ResolveRequest) (*Resolution, error) {
	now := req.Now
	if now == nil {
		now = time.Now
	}
	var out Resolution
	err := books.AtomicTx(ctx, func(b *ledger.Ledger, tx ledger.Tx) error {
		out = Resolution{DryRun: req.DryRun}
		etx, ok := tx.(exceptionTx)
		if !ok {
			return fmt.Errorf("%w: the store cannot change exceptions in a ledger transaction", ledger.ErrInvalidRequest)
		}
		e, err := etx.Exception(ctx, req.ExceptionID)
		if err != nil {
			return err
		}
		out.Exception = e
		if e.Status == sqlite.ExceptionResolved {
			out.AlreadyResolved = true
			return nil
		}
		if out.ClosedThrough, err = tx.ClosedThrough(ctx); err != nil {
			return err
		}
		note := req.Note
		var entryID int64
		if req.Book {
			if entryID, err = BookFix(ctx, st, b, e); err != nil {
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
		if err := etx.SetExceptionStatus(ctx, e.ID, sqlite.ExceptionResolved, note, entryID, now().UTC()); err != nil {
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
