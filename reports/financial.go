package reports

import (
	"context"
	"sort"
	"time"

	"github.com/settlehq/settle/ledger"
)

// BalanceSheet writes assets, liabilities and equity per currency as of
// opts.AsOf (inclusive; zero means the current maintained balances), with
// the net income of all time folded into equity as "retained earnings", so
// that per currency total assets equal total liabilities and equity.
// Amounts are on each account's normal side.
//
// Columns: section, account, currency, amount. Total rows name their total
// in the account column ("total assets").
func BalanceSheet(ctx context.Context, l *ledger.Ledger, opts Options, w Writer) error {
	return l.View(ctx, func(tx ledger.ReadTx) error {
		bals, err := balancesAt(ctx, tx, "", opts.AsOf)
		if err != nil {
			return err
		}
		if err := w.WriteHeader([]string{"section", "account", "currency", "amount"}); err != nil {
			return err
		}
		s := &sheet{w: w, curs: newCurrencies(l)}
		all, retained := totals{}, totals{}
		for _, b := range bals {
			all[b.Currency] = 0
			if b.Type == ledger.Income || b.Type == ledger.Expense {
				if err := retained.add(b.Currency, -b.Posted); err != nil {
					return err
				}
			}
		}
		s.currencies = all.currencies()
		if _, err := s.section("assets", "total assets", bals, ledger.Asset); err != nil {
			return err
		}
		liabilities, err := s.section("liabilities", "total liabilities", bals, ledger.Liability)
		if err != nil {
			return err
		}
		equity, err := s.section("equity", "", bals, ledger.Equity)
		if err != nil {
			return err
		}
		for _, c := range s.currencies {
			if err := s.row("equity", "retained earnings", c, retained[c]); err != nil {
				return err
			}
			if err := equity.add(c, retained[c]); err != nil {
				return err
			}
		}
		if err := s.totals("equity", "total equity", equity); err != nil {
			return err
		}
		for _, c := range s.currencies {
			if err := liabilities.add(c, equity[c]); err != nil {
				return err
			}
		}
		return s.totals("liabilities and equity", "total liabilities and equity", liabilities)
	})
}

// IncomeStatement writes income and expenses per account and currency for
// the period [opts.From, opts.To) — from the first entry when From is zero,
// through the current maintained balances when To is zero — with totals and
// the net income (income less expenses) per currency. Amounts are on each
// account's normal side: income and expenses both show positive.
//
// Columns: section, account, currency, amount.
func IncomeStatement(ctx context.Context, l *ledger.Ledger, opts Options, w Writer) error {
	return l.View(ctx, func(tx ledger.ReadTx) error {
		var bals []ledger.Balance
		for _, root := range []string{"income", "expenses"} {
			b, err := periodBalances(ctx, tx, root, opts.From, opts.To)
			if err != nil {
				return err
			}
			bals = append(bals, b...)
		}
		if err := w.WriteHeader([]string{"section", "account", "currency", "amount"}); err != nil {
			return err
		}
		s := &sheet{w: w, curs: newCurrencies(l)}
		all := totals{}
		for _, b := range bals {
			all[b.Currency] = 0
		}
		s.currencies = all.currencies()
		income, err := s.section("income", "total income", bals, ledger.Income)
		if err != nil {
			return err
		}
		expenses, err := s.section("expenses", "total expenses", bals, ledger.Expense)
		if err != nil {
			return err
		}
		for _, c := range s.currencies {
			net, err := ledger.AddMinor(income[c], -expenses[c])
			if err != nil {
				return err
			}
			if err := s.row("net income", "net income", c, net); err != nil {
				return err
			}
		}
		return nil
	})
}

// periodBalances returns the posted balances of accounts under prefix that
// the entries of [from, to) make: the balance as of the period's end less
// the balance just before its start.
func periodBalances(ctx context.Context, tx ledger.ReadTx, prefix string, from, to time.Time) ([]ledger.Balance, error) {
	var end time.Time
	if !to.IsZero() {
		end = to.UTC().Add(-time.Nanosecond)
	}
	closing, err := balancesAt(ctx, tx, prefix, end)
	if err != nil || from.IsZero() {
		return closing, err
	}
	opening, err := tx.BalancesAsOf(ctx, prefix, from.UTC().Add(-time.Nanosecond))
	if err != nil {
		return nil, err
	}
	type key struct{ account, currency string }
	byKey := map[key]ledger.Balance{}
	for _, b := range closing {
		byKey[key{b.Account, b.Currency}] = b
	}
	for _, b := range opening {
		k := key{b.Account, b.Currency}
		c, ok := byKey[k]
		if !ok {
			c = ledger.Balance{Account: b.Account, Type: b.Type, Currency: b.Currency}
		}
		c.Posted -= b.Posted
		byKey[k] = c
	}
	out := make([]ledger.Balance, 0, len(byKey))
	for _, b := range byKey {
		if b.Posted != 0 {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		return out[i].Currency < out[j].Currency
	})
	return out, nil
}

// sheet writes the rows of a balance sheet or income statement.
type sheet struct {
	w          Writer
	curs       *currencies
	currencies []string // every currency of the report, sorted
}

// row writes one amount in major units.
func (s *sheet) row(section, account, currency string, m int64) error {
	amt, err := s.curs.amount(m, currency)
	if err != nil {
		return err
	}
	return s.w.WriteRow([]string{section, account, upper(currency), amt})
}

// section writes the accounts of one type on their normal side and, unless
// total is empty, a total row per currency; it returns the totals.
func (s *sheet) section(name, total string, bals []ledger.Balance, typ ledger.AccountType) (totals, error) {
	sum := totals{}
	for _, b := range bals {
		if b.Type != typ {
			continue
		}
		if err := sum.add(b.Currency, b.Normal()); err != nil {
			return nil, err
		}
		if err := s.row(name, b.Account, b.Currency, b.Normal()); err != nil {
			return nil, err
		}
	}
	if total == "" {
		return sum, nil
	}
	return sum, s.totals(name, total, sum)
}

// totals writes one total row per currency of the report.
func (s *sheet) totals(section, label string, sum totals) error {
	for _, c := range s.currencies {
		if err := s.row(section, label, c, sum[c]); err != nil {
			return err
		}
	}
	return nil
}
