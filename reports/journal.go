package reports

import (
	"context"
	"strconv"

	"github.com/settlehq/settle/ledger"
)

// Journal writes the general ledger: every posting of every posted entry
// that occurred in [opts.From, opts.To), in the order the entries occurred.
// Pending authorizations are left out, as they are of the trial balance, so
// that the journal adds up to it.
//
// Columns: entry_id, occurred_at, description, account, currency, debit, credit.
func Journal(ctx context.Context, l *ledger.Ledger, opts Options, w Writer) error {
	if err := w.WriteHeader([]string{"entry_id", "occurred_at", "description", "account", "currency", "debit", "credit"}); err != nil {
		return err
	}
	curs := newCurrencies(l)
	row := make([]string, 7)
	var buf []byte
	return l.View(ctx, func(tx ledger.ReadTx) error {
		f := ledger.EntryFilter{From: opts.From, To: opts.To, PostedOnly: true}
		return tx.EachEntry(ctx, f, func(e *ledger.Entry) error {
			row[0] = strconv.FormatInt(e.ID, 10)
			row[1] = formatTime(e.OccurredAt)
			row[2] = e.Description
			for _, p := range e.Postings {
				cur, err := curs.get(p.Currency)
				if err != nil {
					return err
				}
				row[3], row[4] = p.Account, curs.upperCode(p.Currency)
				buf = appendMinor(buf[:0], p.Amount, cur.Digits)
				if p.Amount < 0 {
					row[5], row[6] = "", string(buf[1:])
				} else {
					row[5], row[6] = string(buf), ""
				}
				if err := w.WriteRow(row); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
