package reports

import (
	"context"

	"github.com/settlehq/settle/ledger"
)

// TrialBalance writes the posted balance of every account per currency as a
// debit or a credit, then one "total" row per currency whose debits equal
// its credits. Without opts.AsOf it reads the maintained balances (no journal
// scan); with it, balances computed from the postings of entries that
// occurred at or before AsOf. Pending authorizations are not included.
//
// Columns: account, type, currency, debit, credit. With opts.ValueIn it
// is ValuedTrialBalance instead.
func TrialBalance(ctx context.Context, l *ledger.Ledger, opts Options, w Writer) error {
	if opts.ValueIn != "" {
		return ValuedTrialBalance(ctx, l, opts, w)
	}
	return l.View(ctx, func(tx ledger.ReadTx) error {
		bals, err := balancesAt(ctx, tx, "", opts.AsOf)
		if err != nil {
			return err
		}
		if err := w.WriteHeader([]string{"account", "type", "currency", "debit", "credit"}); err != nil {
			return err
		}
		curs := newCurrencies(l)
		debits, credits := totals{}, totals{}
		for _, b := range bals {
			cur, err := curs.get(b.Currency)
			if err != nil {
				return err
			}
			dr, cr := debitCredit(b.Posted, cur.Digits)
			if b.Posted > 0 {
				err = debits.add(b.Currency, b.Posted)
			} else {
				err = credits.add(b.Currency, -b.Posted)
			}
			if err != nil {
				return err
			}
			if err := w.WriteRow([]string{b.Account, string(b.Type), upper(b.Currency), dr, cr}); err != nil {
				return err
			}
		}
		all := totals{}
		for c := range debits {
			all[c] = 0
		}
		for c := range credits {
			all[c] = 0
		}
		for _, c := range all.currencies() {
			cur, err := curs.get(c)
			if err != nil {
				return err
			}
			row := []string{"total", "", upper(c), formatMinor(debits[c], cur.Digits), formatMinor(credits[c], cur.Digits)}
			if err := w.WriteRow(row); err != nil {
				return err
			}
		}
		return nil
	})
}
