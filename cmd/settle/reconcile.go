package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
)

// runSummary is the JSON shape of one run in `settle reconcile --format json`.
type runSummary struct {
	RunID    int64  `json:"run_id"`
	Provider string `json:"provider,omitempty"`
	Grain    string `json:"grain,omitempty"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	reconcile.Summary
	Opened    int `json:"exceptions_opened"`
	Closed    int `json:"exceptions_closed"`
	Adopted   int `json:"adopted"`             // estimated settlement dates replaced by the provider's
	Uncovered int `json:"uncovered,omitempty"` // records imported since the last run left outside the window
	// Took is where the run's time went (over all runs, in the totals).
	Took *app.TookMS `json:"took_ms,omitempty"`
}

// summary is the whole JSON output: totals over the runs, the first run's
// id as run_id, and each run.
type summary struct {
	runSummary
	RunIDs         []int64      `json:"run_ids"`
	OpenExceptions int          `json:"open_exceptions"`
	Runs           []runSummary `json:"runs"`
}

func newReconcileCmd(a *cli) *cobra.Command {
	var provider, fromS, toS, format string
	var failOnExceptions bool
	var match matchFlags
	var bf bankFlags
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Match imported provider records against the ledger and record exceptions",
		Long: `Reconcile each provider (and grain) that has imported records against the
ledger: balance-grain records against the ledger's balance transactions, payment-
grain records against its payments. Matching goes by links from earlier runs, then
by the provider's source reference and kind, then by a unique currency + amount
within a date window (flagged heuristic). Every run is stored; every difference
becomes a durable exception (see 'settle exceptions'); an open exception that a
run no longer finds is closed.

--from is inclusive and --to exclusive (YYYY-MM-DD or RFC 3339); without them,
all of time. With --fail-on-exceptions the exit code is 3 when exceptions are open.

With --bank, the ledger's payouts are reconciled with the deposits of imported
bank statements instead (see README, "Bank statements"): by reference, then by
amount within a window of business days (flagged heuristic), including one
payout split over deposits and several payouts in one deposit. Payouts the bank
shows arrived are booked paid; the run reports payouts_matched,
payouts_not_in_bank, deposits_unexplained and amount_differs, and sets each bank
account's closing balance against its ledger account.`,
		Example: `  settle reconcile
  settle reconcile --provider stripe --from 2026-11-01 --to 2026-12-01
  settle reconcile --format json --fail-on-exceptions
  settle reconcile --bank --account DE89370400440532013000 --holiday 2026-12-25`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usagef("--format must be table or json, not %q", format)
			}
			matchingGC()
			var from, to time.Time
			var err error
			if fromS != "" {
				if from, err = parseDate(fromS, false); err != nil {
					return usageError{fmt.Errorf("--from: %w", err)}
				}
			}
			if toS != "" {
				if to, err = parseDate(toS, false); err != nil {
					return usageError{fmt.Errorf("--to: %w", err)}
				}
			}
			if !from.IsZero() && !to.IsZero() && !from.Before(to) {
				return usagef("--from must be before --to")
			}
			opts, err := match.options(a)
			if err != nil {
				return err
			}
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			if bf.bank {
				holidays, err := holidayFlags(bf.holidays)
				if err != nil {
					return err
				}
				return a.reconcileBank(cmd.Context(), books, app.BankOptions{Account: bf.account, From: from, To: to,
					Holidays: holidays, LateDays: bf.lateDays}, format, failOnExceptions)
			}
			if bf.account != "" || len(bf.holidays) > 0 || bf.lateDays != 0 {
				return usagef("--account, --holiday and --late-days go with --bank")
			}
			sum, err := a.reconcileAll(cmd.Context(), books, provider, from, to, opts)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(sum); err != nil {
					return err
				}
			} else {
				printRuns(a, sum)
			}
			if sum.ProviderRecords+sum.LedgerRecords == 0 {
				return fmt.Errorf("%w: no provider records and no ledger transactions in the window; check --from/--to and --provider",
					app.ErrNothingCompared)
			}
			if sum.Uncovered > 0 {
				return fmt.Errorf("%d provider records imported since the last run lie outside the window and were not reconciled; "+
					"widen --from/--to or run without them", sum.Uncovered)
			}
			if failOnExceptions && sum.OpenExceptions > 0 {
				return exitCodeError{exitExceptions, fmt.Errorf("%d open exceptions (settle exceptions lists them)", sum.OpenExceptions)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&provider, "provider", "", "reconcile only this provider")
	cmd.Flags().StringVar(&fromS, "from", "", "start of the window, inclusive")
	cmd.Flags().StringVar(&toS, "to", "", "end of the window, exclusive")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.Flags().BoolVar(&failOnExceptions, "fail-on-exceptions", false, "exit 3 when exceptions are open")
	match.register(cmd)
	registerBankFlags(cmd, &bf)
	return cmd
}

// reconcileAll reconciles every provider (or one) and grain over a window,
// totals the runs, and counts the open exceptions of the providers covered.
func (a *cli) reconcileAll(ctx context.Context, books *ledger.Ledger, provider string, from, to time.Time, opts *app.Options) (summary, error) {
	var sum summary
	scopes, err := app.Scopes(ctx, a.store, provider, from, to)
	if err != nil {
		return sum, err
	}
	if len(scopes) == 0 {
		return sum, fmt.Errorf("no imported provider records%s to reconcile; import an export first (settle import FILE)", forProvider(provider))
	}
	for _, sc := range scopes {
		rep, err := app.Reconcile(ctx, a.store, books, sc, opts)
		if err != nil {
			return sum, fmt.Errorf("reconciling %s (%s grain): %w", sc.Provider, sc.Grain, err)
		}
		rs := toRunSummary(rep.Run)
		rs.Uncovered = rep.Uncovered
		rs.Took = rep.Took.MS()
		sum.Runs = append(sum.Runs, rs)
		sum.RunIDs = append(sum.RunIDs, rs.RunID)
		addRun(&sum.runSummary, rs)
	}
	sum.RunID = sum.RunIDs[0]
	open, err := a.store.CountExceptions(ctx, reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen, Provider: provider})
	if err != nil {
		return sum, err
	}
	sum.OpenExceptions = open
	return sum, nil
}

func forProvider(p string) string {
	if p == "" {
		return ""
	}
	return " for " + p
}

func toRunSummary(r *reconcile.Run) runSummary {
	rs := runSummary{RunID: r.ID, Provider: r.Provider, Grain: string(r.Grain), Summary: r.Summary, Opened: r.Opened, Closed: r.Closed,
		Adopted: r.Adopted}
	if !r.From.IsZero() {
		rs.From = r.From.Format(time.RFC3339)
	}
	if !r.To.IsZero() {
		rs.To = r.To.Format(time.RFC3339)
	}
	return rs
}

func addRun(t *runSummary, r runSummary) {
	t.Summary.Add(r.Summary)
	t.Opened += r.Opened
	t.Closed += r.Closed
	t.Adopted += r.Adopted
	t.Uncovered += r.Uncovered
	t.Took = t.Took.Plus(r.Took)
}

func printRuns(a *cli, s summary) {
	header := []string{"RUN", "PROVIDER", "GRAIN", "PROVIDER RECS", "LEDGER RECS", "MATCHED", "MISMATCHED", "MISSING IN LEDGER", "MISSING AT PROVIDER", "DUPLICATES", "PAYOUTS OFF"}
	var rows [][]string
	for _, r := range s.Runs {
		rows = append(rows, []string{strconv.FormatInt(r.RunID, 10), r.Provider, r.Grain, strconv.Itoa(r.ProviderRecords),
			strconv.Itoa(r.LedgerRecords), strconv.Itoa(r.Matched), strconv.Itoa(r.Mismatched), strconv.Itoa(r.MissingInLedger),
			strconv.Itoa(r.MissingAtProvider), strconv.Itoa(r.Duplicates), strconv.Itoa(r.PayoutMismatches)})
	}
	right := map[int]bool{}
	for i := 3; i < len(header); i++ {
		right[i] = true
	}
	printTable(a.stdout, header, rows, right)
	fmt.Fprintf(a.stdout, "\n%d exceptions opened, %d closed by these runs; %d open in all. 'settle exceptions' lists them.\n",
		s.Opened, s.Closed, s.OpenExceptions)
	if s.Adopted > 0 {
		fmt.Fprintf(a.stdout, "%d settlement dates the ledger had estimated were replaced by the provider's.\n", s.Adopted)
	}
}
