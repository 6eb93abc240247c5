package booking

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
)

// BankFeeSource is the source type of an entry that books a bank fee taken
// from a payout on its way to the bank; the source's ID is the payout's.
// Bank reconciliation deducts such fees from what it expects the bank to
// show for the payout.
const BankFeeSource = "bank_fee"

// BankFeeAccount is the expense account bank fees are booked to.
const BankFeeAccount = "expenses:fees:bank"

// fixBankFee books the fee of an amount_differs bank exception where the
// bank showed less than the payouts: Dr expenses:fees:bank / Cr the
// deposit's ledger account (where the payout was booked paid), dated at
// the deposit (or the first open day after a closed period).
func fixBankFee(ctx context.Context, lines bank.Store, books *ledger.Ledger, e *reconcile.Exception, key string) (int64, error) {
	if e.Kind != reconcile.AmountDiffers {
		return 0, ErrNothingToBook
	}
	var expected, banked int64
	for _, d := range e.Diffs {
		if d.Field != reconcile.FieldAmount {
			continue
		}
		var err1, err2 error
		expected, err1 = strconv.ParseInt(d.Ledger, 10, 64)
		banked, err2 = strconv.ParseInt(d.Provider, 10, 64)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("%w: amount diff %q vs %q is not in minor units", ledger.ErrInvalidAmount, d.Ledger, d.Provider)
		}
	}
	fee := expected - banked
	if fee <= 0 {
		// More arrived than was sent: that is no fee, and settle does not
		// guess what it is.
		return 0, ErrNothingToBook
	}
	depositID, _, _ := strings.Cut(e.ProviderID, ",")
	payoutID, _, _ := strings.Cut(e.LedgerID, ",")
	id, ok := bank.ParseLineID(depositID)
	if !ok || payoutID == "" {
		return 0, fmt.Errorf("%w: exception %d names no deposit and payout", ErrNothingToBook, e.ID)
	}
	var line *bank.StoredLine
	err := lines.EachLine(ctx, bank.LineFilter{ID: id}, func(l *bank.StoredLine) error {
		line = l
		return nil
	})
	if err != nil {
		return 0, err
	}
	if line == nil {
		return 0, fmt.Errorf("deposit %s: %w", depositID, ledger.ErrNotFound)
	}
	var po *ledger.Payout
	var closed = e.At
	err = books.View(ctx, func(tx ledger.ReadTx) error {
		var err error
		if po, err = tx.Payout(ctx, payoutID); err != nil {
			return err
		}
		closed, err = tx.ClosedThrough(ctx)
		return err
	})
	if err != nil {
		return 0, err
	}
	cur, err := books.Currency(e.Currency)
	if err != nil {
		return 0, err
	}
	amt := ledger.FromMinor(fee, cur).String()
	entry, err := books.PostEntry(ctx, ledger.EntryInput{Key: key, OccurredAt: ledger.FirstOpen(line.Date(), closed),
		Description: fmt.Sprintf("Bank fee on payout %s (exception %d)", po.ID, e.ID),
		Source:      ledger.Source{Provider: po.Provider, Type: BankFeeSource, ID: po.ID, Ref: po.ProviderRef},
		Postings: []ledger.PostingInput{
			ledger.Debit(BankFeeAccount, cur.Code, amt),
			ledger.Credit(line.LedgerAccount, cur.Code, amt),
		}})
	if err != nil {
		return 0, err
	}
	return entry.ID, nil
}
