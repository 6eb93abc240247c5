package reports

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// AccountStatement writes the postings of one account (opts.Account, its
// subaccounts included) in [opts.From, opts.To), each with the running
// balance of its currency on the account's normal side (an income account
// with sales shows positive). With opts.From, it starts with one "opening
// balance" row per currency. Only posted entries count.
//
// Columns: entry_id, occurred_at, description, account, currency, debit,
// credit, balance.
func AccountStatement(ctx context.Context, l *ledger.Ledger, opts Options, w Writer) error {
	if opts.Account == "" {
		return fmt.Errorf("%w: account-statement needs an account", ErrInvalidOptions)
	}
	typ, err := ledger.AccountTypeOf(opts.Account)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	sign := int64(1)
	if !typ.DebitNormal() {
		sign = -1
	}
	sub := opts.Account + ":"
	curs := newCurrencies(l)
	running := totals{}
	return l.View(ctx, func(tx ledger.ReadTx) error {
		if err := w.WriteHeader([]string{"entry_id", "occurred_at", "description", "account", "currency", "debit", "credit", "balance"}); err != nil {
			return err
		}
		if !opts.From.IsZero() {
			opening, err := tx.BalancesAsOf(ctx, opts.Account, opts.From.UTC().Add(-time.Nanosecond))
			if err != nil {
				return err
			}
			for _, b := range opening {
				if err := running.add(b.Currency, b.Posted); err != nil {
					return err
				}
			}
			for _, c := range running.currencies() {
				bal, err := curs.amount(sign*running[c], c)
				if err != nil {
					return err
				}
				row := []string{"", formatTime(opts.From), "opening balance", opts.Account, upper(c), "", "", bal}
				if err := w.WriteRow(row); err != nil {
					return err
				}
			}
		}
		f := ledger.EntryFilter{From: opts.From, To: opts.To, Account: opts.Account, PostedOnly: true}
		row := make([]string, 8)
		return tx.EachEntry(ctx, f, func(e *ledger.Entry) error {
			for _, p := range e.Postings {
				if p.Account != opts.Account && !strings.HasPrefix(p.Account, sub) {
					continue
				}
				cur, err := curs.get(p.Currency)
				if err != nil {
					return err
				}
				if err := running.add(p.Currency, p.Amount); err != nil {
					return err
				}
				dr, cr := debitCredit(p.Amount, cur.Digits)
				row[0], row[1], row[2] = strconv.FormatInt(e.ID, 10), formatTime(e.OccurredAt), e.Description
				row[3], row[4], row[5], row[6] = p.Account, upper(p.Currency), dr, cr
				row[7] = formatMinor(sign*running[p.Currency], cur.Digits)
				if err := w.WriteRow(row); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
