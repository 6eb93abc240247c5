package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/ledger"
)

func newBalanceCmd(a *cli) *cobra.Command {
	var asOf, format string
	cmd := &cobra.Command{
		Use:   "balance [ACCOUNT]",
		Short: "Show balances of an account and its subaccounts",
		Long: `Show posted (and pending) balances per currency, on each account's normal side:
an asset or expense with debits shows positive, an income account with sales
shows positive. Without ACCOUNT, every account. With --as-of, balances are
computed from postings dated at or before that time (a date means the end of
that day, UTC).`,
		Example: `  settle balance
  settle balance assets:stripe
  settle balance income:sales --as-of 2026-10-31
  settle balance --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
				if _, err := ledger.AccountTypeOf(prefix); err != nil {
					return usageError{err}
				}
			}
			if format != "table" && format != "json" {
				return usagef("--format must be table or json, not %q", format)
			}
			var at time.Time
			if asOf != "" {
				t, err := parseDate(asOf, true)
				if err != nil {
					return usageError{fmt.Errorf("--as-of: %w", err)}
				}
				at = t
			}
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			var bals []ledger.Balance
			if at.IsZero() {
				bals, err = books.Balances(cmd.Context(), prefix)
			} else {
				bals, err = books.BalancesAsOf(cmd.Context(), prefix, at)
			}
			if err != nil {
				return err
			}
			return writeBalances(a, books, bals, format)
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "balance at the end of this date (YYYY-MM-DD) or at this RFC 3339 time")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func writeBalances(a *cli, books *ledger.Ledger, bals []ledger.Balance, format string) error {
	type row struct {
		Account  string `json:"account"`
		Currency string `json:"currency"`
		Balance  string `json:"balance"`
		Pending  string `json:"pending"`
	}
	rows := make([]row, 0, len(bals))
	for _, b := range bals {
		cur, err := books.Currency(b.Currency)
		if err != nil {
			return err
		}
		pending := b.Pending
		if !b.Type.DebitNormal() {
			pending = -pending
		}
		rows = append(rows, row{b.Account, cur.Upper(), ledger.FormatMinor(b.Normal(), cur.Digits), ledger.FormatMinor(pending, cur.Digits)})
	}
	if format == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(a.stdout, "no balances")
		return nil
	}
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = []string{r.Account, r.Currency, r.Balance, r.Pending}
	}
	return printTable(a.stdout, []string{"ACCOUNT", "CURRENCY", "BALANCE", "PENDING"}, cells, map[int]bool{2: true, 3: true})
}

// parseDate reads YYYY-MM-DD or RFC 3339. With endOfDay, a bare date means
// the last instant of that day (for inclusive as-of); otherwise its start.
func parseDate(s string, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or RFC 3339 time", s)
	}
	if endOfDay {
		return t.Add(24*time.Hour - time.Nanosecond), nil
	}
	return t, nil
}
