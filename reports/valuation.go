package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// ValuedTrialBalance writes the trial balance valued in one reporting
// currency, as hledger's `bal -X`: one row per account, its balances in
// every currency converted at the rates of opts.Rates that hold on the
// valuation day (opts.AsOf's day; the latest rates without it) and summed
// exactly, then rounded once, half to even, to the reporting currency's
// decimals. The total row sums the rows as shown, so its debits and credits
// may differ by the rounding of the rows (at most half a minor unit each).
// A currency with no rate to the reporting currency is an error naming it.
//
// Columns: account, type, currency (the reporting currency), debit, credit.
func ValuedTrialBalance(ctx context.Context, l *ledger.Ledger, opts Options, w Writer) error {
	if opts.Rates == nil {
		return fmt.Errorf("%w: a valuation in %s needs rates (a rates file)", ErrInvalidOptions, opts.ValueIn)
	}
	target, err := l.Currency(opts.ValueIn)
	if err != nil {
		return fmt.Errorf("%w: value in: %v", ErrInvalidOptions, err)
	}
	var on time.Time
	if !opts.AsOf.IsZero() {
		on = opts.AsOf.UTC().Truncate(24 * time.Hour)
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
		var debits, credits int64
		flush := func(account string, typ ledger.AccountType, sum decimal.Decimal) error {
			m, err := ledger.ToMinor(sum.RoundBank(int32(target.Digits)), target)
			if err != nil {
				return err
			}
			if m == 0 {
				return nil
			}
			if m > 0 {
				debits += m
			} else {
				credits -= m
			}
			dr, cr := debitCredit(m, target.Digits)
			return w.WriteRow([]string{account, string(typ), target.Upper(), dr, cr})
		}
		var account string
		var typ ledger.AccountType
		sum := decimal.Decimal{}
		for _, b := range bals {
			if b.Account != account {
				if account != "" {
					if err := flush(account, typ, sum); err != nil {
						return err
					}
				}
				account, typ, sum = b.Account, b.Type, decimal.Decimal{}
			}
			cur, err := curs.get(b.Currency)
			if err != nil {
				return err
			}
			rate, ok := opts.Rates.On(cur.Code, target.Code, on)
			if !ok {
				day := "the latest date"
				if !on.IsZero() {
					day = on.Format(dateLayout)
				}
				return fmt.Errorf("%w: no %s rate in %s on or before %s (needed for %s)", ErrInvalidOptions,
					cur.Upper(), target.Upper(), day, b.Account)
			}
			sum = sum.Add(ledger.FromMinor(b.Posted, cur).Mul(rate))
		}
		if account != "" {
			if err := flush(account, typ, sum); err != nil {
				return err
			}
		}
		return w.WriteRow([]string{"total", "", target.Upper(), formatMinor(debits, target.Digits), formatMinor(credits, target.Digits)})
	})
}
