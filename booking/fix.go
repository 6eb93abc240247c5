package booking

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// ErrNothingToBook means an exception has no adjusting entry settle can book:
// a duplicate at the provider, a payout that does not add up, a status or
// date difference, or a payment-grain difference (record the missing
// lifecycle events instead).
var ErrNothingToBook = errors.New("there is no adjusting entry settle can book for this exception")

// Fix posts the entry that makes the ledger agree with the provider on
// a balance-grain exception, and returns its id:
//
//	mismatched           a correction of the ledger's balance transaction by the amount and fee differences
//	missing_in_ledger    the provider's record, booked as reported (Book)
//	missing_at_provider  a correction that cancels the ledger's balance transaction
//	amount_differs       (bank) the bank fee: Dr expenses:fees:bank / Cr the deposit's bank account
//
// The key of each booking names the exception and the run that last saw it,
// so resolving twice books once.
func Fix(ctx context.Context, records provider.Store, books *ledger.Ledger, e *reconcile.Exception) (int64, error) {
	key := fmt.Sprintf("exception:%d:run:%d", e.ID, e.LastRun)
	if e.Grain == reconcile.BankGrain {
		lines, ok := records.(bank.Store)
		if !ok {
			return 0, fmt.Errorf("%w: the store keeps no bank statements", ErrNothingToBook)
		}
		return fixBankFee(ctx, lines, books, e, key)
	}
	if e.Grain != provider.BalanceGrain {
		return 0, ErrNothingToBook
	}
	switch e.Kind {
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
		rec, err := records.Record(ctx, e.Provider, provider.BalanceGrain, e.ProviderID)
		if err != nil {
			return 0, err
		}
		if _, err := Book(ctx, books, rec); err != nil {
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
