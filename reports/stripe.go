package reports

import (
	"context"

	"github.com/settlehq/settle/ledger"
)

// stripeColumns is the column layout of Stripe's itemized balance reports
// (balance_change_from_activity.itemized, payout_reconciliation.itemized),
// so that a user can diff settle's report against Stripe's own.
var stripeColumns = []string{
	"balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net",
	"reporting_category", "source_id", "description", "automatic_payout_id",
}

// BalanceTransactions writes the balance transactions created in
// [opts.From, opts.To) (of opts.Provider, if given) in the column layout of
// Stripe's itemized reports, ordered by creation time. As in Stripe's
// reports, and unlike settle's other reports, times are "YYYY-MM-DD
// HH:MM:SS" in UTC and currency codes are lower case, so that the file diffs
// cleanly against Stripe's. source_id is the provider's reference (ch_…,
// re_…) when known, else settle's id of the source object.
//
// Columns: balance_transaction_id, created_utc, available_on_utc, currency,
// gross, fee, net, reporting_category, source_id, description,
// automatic_payout_id.
func BalanceTransactions(ctx context.Context, l *ledger.Ledger, opts Options, w Writer) error {
	if err := w.WriteHeader(stripeColumns); err != nil {
		return err
	}
	curs := newCurrencies(l)
	row := make([]string, len(stripeColumns))
	return l.View(ctx, func(tx ledger.ReadTx) error {
		f := ledger.BTFilter{Provider: opts.Provider, From: opts.From, To: opts.To}
		return tx.EachBalanceTransaction(ctx, f, func(bt *ledger.BalanceTransaction) error {
			if err := stripeRow(row, bt, curs); err != nil {
				return err
			}
			return w.WriteRow(row)
		})
	})
}

// stripeRow fills row with bt in stripeColumns' layout.
func stripeRow(row []string, bt *ledger.BalanceTransaction, curs *currencies) error {
	cur, err := curs.get(bt.Currency)
	if err != nil {
		return err
	}
	source := bt.SourceRef
	if source == "" {
		source = bt.SourceID
	}
	row[0] = bt.ID
	row[1] = formatStripeTime(bt.Created)
	row[2] = formatStripeTime(bt.AvailableOn)
	row[3] = cur.Code
	row[4] = formatMinor(bt.Amount, cur.Digits)
	row[5] = formatMinor(bt.Fee, cur.Digits)
	row[6] = formatMinor(bt.Net, cur.Digits)
	row[7] = bt.ReportingCategory
	row[8] = source
	row[9] = bt.Description
	row[10] = bt.PayoutID
	return nil
}
