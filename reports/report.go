// Package reports writes settle's accountant-facing reports — trial balance,
// journal, account statement, balance sheet, income statement, Stripe-style
// balance transactions and payout reconciliation — as CSV, JSON or an aligned
// table, and exports the books as hledger and beancount journals.
//
// Amounts are in major units with exactly the currency's decimals (never
// floats), one currency a row, currency codes in upper case (except in the
// Stripe layout, which keeps Stripe's lower case), times in RFC 3339 UTC and
// dates as YYYY-MM-DD. Rows are written as they are read: memory does not grow
// with the size of the ledger.
package reports

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/settlehq/settle/ledger"
)

// ErrInvalidOptions is wrapped by errors about how a report was asked for
// (a missing account, an unknown format), as opposed to failures reading the
// ledger: a command line reports them as usage errors.
var ErrInvalidOptions = errors.New("invalid report options")

// Options select what a report covers. Zero fields do not restrict.
type Options struct {
	// From and To bound a period: times in [From, To).
	From, To time.Time
	// AsOf is the point in time of a balance report, inclusive. Zero means
	// the current maintained balances.
	AsOf time.Time
	// Account is the account of a statement (its subaccounts included).
	Account string
	// Provider restricts the balance-transaction and payout reports to one
	// provider ("stripe").
	Provider string
	// ValueIn values the trial balance in this reporting currency at
	// Rates (ValuedTrialBalance), as hledger's -X does.
	ValueIn string
	Rates   *Rates
}

// Func writes one report of the ledger to w, from one consistent snapshot.
// It does not close w.
type Func func(ctx context.Context, l *ledger.Ledger, opts Options, w Writer) error

// Report is a named report.
type Report struct {
	Name    string
	Summary string // one line, for help texts
	// Uses names the Options fields the report reads, as the command line
	// spells them: "from", "to", "as-of", "account", "provider".
	Uses []string
	Run  Func
}

// All returns every report, in the order a help text lists them.
func All() []Report {
	period := []string{"from", "to"}
	return []Report{
		{"trial-balance", "debit and credit balance of every account per currency, with totals (or valued in one currency)", []string{"as-of", "value-in"}, TrialBalance},
		{"journal", "every posting of every posted entry (the general ledger)", period, Journal},
		{"account-statement", "one account's postings with a running balance per currency", []string{"account", "from", "to"}, AccountStatement},
		{"balance-sheet", "assets, liabilities and equity, with retained earnings", []string{"as-of"}, BalanceSheet},
		{"income-statement", "income, expenses and net income for a period", period, IncomeStatement},
		{"balance-transactions", "balance transactions in Stripe's itemized report layout", []string{"from", "to", "provider"}, BalanceTransactions},
		{"payout-reconciliation", "each payout with the balance transactions it swept, and their totals", []string{"from", "to", "provider"}, PayoutReconciliation},
	}
}

// Find returns the report called name.
func Find(name string) (Report, bool) {
	for _, r := range All() {
		if r.Name == name {
			return r, true
		}
	}
	return Report{}, false
}

// Names lists the names of every report.
func Names() []string {
	var out []string
	for _, r := range All() {
		out = append(out, r.Name)
	}
	return out
}

// totals sums minor units per currency, refusing overflow.
type totals map[string]int64

func (t totals) add(currency string, m int64) error {
	s, err := ledger.AddMinor(t[currency], m)
	if err != nil {
		return fmt.Errorf("total in %s: %w", upper(currency), err)
	}
	t[currency] = s
	return nil
}

// currencies returns the currencies of t, sorted.
func (t totals) currencies() []string {
	out := make([]string, 0, len(t))
	for c := range t {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// balancesAt returns posted balances of accounts under prefix: the maintained
// ones when asOf is zero, otherwise those computed as of asOf (inclusive).
// Pending-only balances are left out.
func balancesAt(ctx context.Context, tx ledger.ReadTx, prefix string, asOf time.Time) ([]ledger.Balance, error) {
	var bals []ledger.Balance
	var err error
	if asOf.IsZero() {
		bals, err = tx.Balances(ctx, prefix)
	} else {
		bals, err = tx.BalancesAsOf(ctx, prefix, asOf.UTC())
	}
	if err != nil {
		return nil, err
	}
	out := bals[:0]
	for _, b := range bals {
		if b.Posted != 0 {
			out = append(out, b)
		}
	}
	return out, nil
}
