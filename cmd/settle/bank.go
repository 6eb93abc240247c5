package main

// Bank statements on the command line: importing them (settle import
// detects them) and reconciling payouts with them (settle reconcile --bank).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
)

// isStatement reports whether a file is a bank statement (BAI2, camt.053,
// MT940), from its first bytes and its name.
func isStatement(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return app.IsStatement(name, head[:n]), nil
}

// bankAccountFlags parses --bank-account ACCOUNT=LEDGER_ACCOUNT (or a bare
// LEDGER_ACCOUNT for every account of the files).
func bankAccountFlags(vals []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vals {
		acct, la, ok := strings.Cut(v, "=")
		if !ok {
			acct, la = "", v
		}
		if _, err := ledger.AccountTypeOf(la); err != nil {
			return nil, usageError{fmt.Errorf("--bank-account %s: %w", v, err)}
		}
		out[strings.TrimSpace(acct)] = la
	}
	return out, nil
}

// importStatement imports one bank statement file and says what it stored.
func (a *cli) importStatement(ctx context.Context, name, provider string, accounts map[string]string) error {
	st, err := app.ImportStatementFile(ctx, a.store, name, app.StatementOptions{Accounts: accounts, Provider: provider})
	var list bank.ErrorList
	switch {
	case errors.As(err, &list):
		for _, p := range list {
			fmt.Fprintln(a.stderr, p)
		}
		fmt.Fprintf(a.stderr, "%s: rejected (%d problems); nothing from it was stored\n", name, len(list))
		return errRejected
	case errors.Is(err, bank.ErrUnmappedAccount), errors.Is(err, ledger.ErrInvalidRequest):
		return usageError{err}
	case err != nil:
		return err
	}
	if st.AlreadyLoaded {
		fmt.Fprintf(a.stdout, "%s: already imported (bank file %d); nothing added\n", name, st.ImportID)
		return nil
	}
	fmt.Fprintf(a.stdout, "%s: bank statement: %d statements read, %d added (%d lines), %d stored before\n",
		name, st.Statements, st.Added, st.Lines, st.Skipped)
	return nil
}

// bankSummary is the JSON of `settle reconcile --bank --format json`.
type bankSummary struct {
	RunID int64  `json:"run_id"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	reconcile.BankSummary
	Opened         int           `json:"exceptions_opened"`
	Closed         int           `json:"exceptions_closed"`
	OpenExceptions int           `json:"open_exceptions"`
	PaidFromBank   []string      `json:"paid_from_bank"`
	Balances       []bankBalance `json:"balances"`
}

type bankBalance struct {
	Account       string `json:"account"`
	Currency      string `json:"currency"`
	LedgerAccount string `json:"ledger_account"`
	ClosingDate   string `json:"closing_date"`
	Statement     string `json:"statement_closing_balance"`
	Ledger        string `json:"ledger_balance"`
	Difference    string `json:"difference"`
	Unexplained   string `json:"unexplained_deposits"`
}

// reconcileBank runs bank reconciliation and prints it.
func (a *cli) reconcileBank(ctx context.Context, books *ledger.Ledger, opts app.BankOptions, format string, failOnExceptions bool) error {
	rep, err := app.ReconcileBank(ctx, a.store, books, &opts)
	if errors.Is(err, app.ErrNoStatements) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	open, err := a.store.CountExceptions(ctx, reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen, Provider: reconcile.BankProvider})
	if err != nil {
		return err
	}
	sum := bankSummary{RunID: rep.Run.ID, BankSummary: rep.Result.Summary, Opened: rep.Run.Opened, Closed: rep.Run.Closed,
		OpenExceptions: open, PaidFromBank: rep.Paid}
	if sum.PaidFromBank == nil {
		sum.PaidFromBank = []string{}
	}
	if !opts.From.IsZero() {
		sum.From = opts.From.Format(time.RFC3339)
	}
	if !opts.To.IsZero() {
		sum.To = opts.To.Format(time.RFC3339)
	}
	for _, b := range rep.Balances {
		m := func(v int64) string { return app.Money(b.Currency, v) }
		sum.Balances = append(sum.Balances, bankBalance{Account: b.Account, Currency: strings.ToUpper(b.Currency),
			LedgerAccount: b.LedgerAccount, ClosingDate: b.ClosingDate.Format("2006-01-02"), Statement: m(b.Statement),
			Ledger: m(b.Ledger), Difference: m(b.Difference()), Unexplained: m(b.Unexplained)})
	}
	if format == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		s := sum.BankSummary
		header := []string{"RUN", "PAYOUTS", "DEPOSITS", "MATCHED", "AMOUNT DIFFERS", "NOT IN BANK", "UNEXPLAINED DEPOSITS", "PENDING", "HEURISTIC"}
		row := []string{strconv.FormatInt(sum.RunID, 10)}
		for _, n := range []int{s.Payouts, s.Deposits, s.PayoutsMatched, s.AmountDiffers, s.PayoutsNotInBank, s.DepositsUnexplained,
			s.PayoutsPending, s.Heuristic} {
			row = append(row, strconv.Itoa(n))
		}
		right := map[int]bool{}
		for i := range header {
			right[i] = true
		}
		printTable(a.stdout, header, [][]string{row}, right)
		fmt.Fprintf(a.stdout, "\n%d exceptions opened, %d closed; %d bank exceptions open in all. 'settle exceptions --provider bank' lists them.\n",
			sum.Opened, sum.Closed, sum.OpenExceptions)
		if len(rep.Paid) > 0 {
			fmt.Fprintf(a.stdout, "%d payouts booked paid from the bank's deposits.\n", len(rep.Paid))
		}
		for _, b := range rep.Balances {
			fmt.Fprintln(a.stdout, b.String()+".")
		}
	}
	if failOnExceptions && sum.OpenExceptions > 0 {
		return exitCodeError{exitExceptions, fmt.Errorf("%d open bank exceptions (settle exceptions --provider bank lists them)", sum.OpenExceptions)}
	}
	return nil
}

// holidayFlags parses --holiday dates.
func holidayFlags(vals []string) ([]time.Time, error) {
	var out []time.Time
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
			if err != nil {
				return nil, usagef("--holiday %q: want YYYY-MM-DD", s)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// registerBankFlags adds the bank flags of `settle reconcile`.
func registerBankFlags(cmd *cobra.Command, b *bankFlags) {
	cmd.Flags().BoolVar(&b.bank, "bank", false, "reconcile payouts with imported bank statements instead of provider records")
	cmd.Flags().StringVar(&b.account, "account", "", "with --bank: only this bank account (as its statements name it)")
	cmd.Flags().StringArrayVar(&b.holidays, "holiday", nil, "with --bank: a bank holiday, YYYY-MM-DD (repeatable, or comma-separated)")
	cmd.Flags().IntVar(&b.lateDays, "late-days", 0, "with --bank: business days after its expected arrival before a payout is missing (default 3)")
}

type bankFlags struct {
	bank     bool
	account  string
	holidays []string
	lateDays int
}
