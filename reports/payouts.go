package reports

import (
	"context"
	"fmt"

	"github.com/settlehq/settle/ledger"
)

// PayoutReconciliation writes, for each payout (of opts.Provider, if given;
// created in [opts.From, opts.To) when those are set), one "item" row per
// balance transaction the payout swept and then one "total" row that sets
// the payout's amount against the sum of the swept nets. difference is
// payout amount less swept net; status is "balanced" when it is zero and
// "unbalanced" otherwise. A manual payout holds no transactions: its status
// is "manual" and its difference is left empty.
//
// Columns: payout_id, payout_status, line, balance_transaction_id,
// created_utc, reporting_category, source_id, currency, gross, fee, net,
// payout_amount, difference, status. Item rows leave the last three empty;
// total rows carry the swept sums in gross, fee and net.
func PayoutReconciliation(ctx context.Context, l *ledger.Ledger, opts Options, w Writer) error {
	if err := w.WriteHeader([]string{"payout_id", "payout_status", "line", "balance_transaction_id", "created_utc",
		"reporting_category", "source_id", "currency", "gross", "fee", "net", "payout_amount", "difference", "status"}); err != nil {
		return err
	}
	curs := newCurrencies(l)
	row := make([]string, 14)
	return l.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachPayout(ctx, opts.Provider, func(po *ledger.Payout) error {
			if !opts.From.IsZero() && po.CreatedAt.Before(opts.From) || !opts.To.IsZero() && !po.CreatedAt.Before(opts.To) {
				return nil
			}
			cur, err := curs.get(po.Currency)
			if err != nil {
				return err
			}
			var gross, fee, net int64
			err = tx.EachBalanceTransaction(ctx, ledger.BTFilter{PayoutID: po.ID}, func(bt *ledger.BalanceTransaction) error {
				if bt.Currency != po.Currency {
					return fmt.Errorf("payout %s in %s swept balance transaction %s in %s", po.ID, upper(po.Currency), bt.ID, upper(bt.Currency))
				}
				for _, s := range []struct {
					sum *int64
					v   int64
				}{{&gross, bt.Amount}, {&fee, bt.Fee}, {&net, bt.Net}} {
					if *s.sum, err = ledger.AddMinor(*s.sum, s.v); err != nil {
						return fmt.Errorf("payout %s: %w", po.ID, err)
					}
				}
				source := bt.SourceRef
				if source == "" {
					source = bt.SourceID
				}
				fill(row, po.ID, string(po.Status), "item", bt.ID, formatStripeTime(bt.Created), bt.ReportingCategory, source,
					upper(cur.Code), formatMinor(bt.Amount, cur.Digits), formatMinor(bt.Fee, cur.Digits),
					formatMinor(bt.Net, cur.Digits), "", "", "")
				return w.WriteRow(row)
			})
			if err != nil {
				return err
			}
			diff, err := ledger.AddMinor(po.Amount, -net)
			if err != nil {
				return fmt.Errorf("payout %s: %w", po.ID, err)
			}
			status, difference := "balanced", formatMinor(diff, cur.Digits)
			switch {
			case !po.Automatic:
				status, difference = "manual", ""
			case diff != 0:
				status = "unbalanced"
			}
			fill(row, po.ID, string(po.Status), "total", "", formatStripeTime(po.CreatedAt), "payout", po.ProviderRef,
				upper(cur.Code), formatMinor(gross, cur.Digits), formatMinor(fee, cur.Digits), formatMinor(net, cur.Digits),
				formatMinor(po.Amount, cur.Digits), difference, status)
			return w.WriteRow(row)
		})
	})
}

// fill copies cells into row.
func fill(row []string, cells ...string) { copy(row, cells) }
