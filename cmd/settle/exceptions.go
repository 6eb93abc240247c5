package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/ledger/sqlite"
	"github.com/settlehq/settle/reconcile/runner"
)

func newExceptionsCmd(a *app) *cobra.Command {
	var status, provider, format string
	cmd := &cobra.Command{
		Use:   "exceptions",
		Short: "List reconciliation exceptions; resolve or ignore them",
		Long: `List the exceptions reconciliation found (open ones by default). Each has an id,
a kind (mismatched, missing_in_ledger, missing_at_provider, duplicate,
payout_mismatch), the provider record and ledger ids, and what differs.

Work through them with 'settle exceptions resolve ID' (optionally --book, which
posts the adjusting entry: a fee or amount the provider changed, a charge the
ledger lacks, a ledger transaction the provider never made) or
'settle exceptions ignore ID --note "…"'. The next run closes what it no longer
finds and reopens what it still does.`,
		Example: `  settle exceptions
  settle exceptions --status all --format json
  settle exceptions resolve 12 --book
  settle exceptions ignore 13 --note "test charge, refunded by hand"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch status {
			case "all":
				status = ""
			case sqlite.ExceptionOpen, sqlite.ExceptionResolved, sqlite.ExceptionIgnored:
			default:
				return usagef("--status must be open, resolved, ignored or all, not %q", status)
			}
			if format != "table" && format != "json" {
				return usagef("--format must be table or json, not %q", format)
			}
			if _, err := a.ledger(cmd.Context()); err != nil {
				return err
			}
			list, err := a.store.Exceptions(cmd.Context(), sqlite.ExceptionFilter{Status: status, Provider: provider})
			if err != nil {
				return err
			}
			if format == "json" {
				return writeExceptionsJSON(a, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(a.stdout, "no exceptions")
				return nil
			}
			var rows [][]string
			for _, e := range list {
				rows = append(rows, []string{strconv.FormatInt(e.ID, 10), e.Status, e.Provider, e.Kind, e.Subject,
					e.ProviderID, e.LedgerID, e.At.Format("2006-01-02"), describeException(e)})
			}
			return printTable(a.stdout, []string{"ID", "STATUS", "PROVIDER", "KIND", "SUBJECT", "PROVIDER ID", "LEDGER ID", "DATE", "DETAIL"}, rows, map[int]bool{0: true})
		},
	}
	cmd.Flags().StringVar(&status, "status", "open", "open, resolved, ignored or all")
	cmd.Flags().StringVar(&provider, "provider", "", "only this provider's exceptions")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.AddCommand(newResolveCmd(a), newIgnoreCmd(a))
	return cmd
}

// describeException says in a few words what differs, amounts in major
// units of the exception's currency.
func describeException(e sqlite.Exception) string {
	parts := runner.Differences(e)
	if len(parts) == 0 && e.Currency != "" {
		parts = append(parts, strings.ToUpper(e.Currency)+" "+runner.Money(e.Currency, e.Amount))
	}
	if e.Heuristic {
		parts = append(parts, "heuristic match")
	}
	if e.Note != "" {
		parts = append(parts, "note: "+e.Note)
	}
	return strings.Join(parts, "; ")
}

func writeExceptionsJSON(a *app, list []sqlite.Exception) error {
	type diff struct {
		Field    string `json:"field"`
		Ledger   string `json:"ledger"`
		Provider string `json:"provider"`
	}
	type row struct {
		ID         int64  `json:"id"`
		Status     string `json:"status"`
		Provider   string `json:"provider"`
		Grain      string `json:"grain"`
		Kind       string `json:"kind"`
		Subject    string `json:"subject"`
		ProviderID string `json:"provider_id"`
		LedgerID   string `json:"ledger_id"`
		Ref        string `json:"ref"`
		Currency   string `json:"currency"`
		Amount     int64  `json:"amount_minor"`
		Date       string `json:"date"`
		Heuristic  bool   `json:"heuristic"`
		Diffs      []diff `json:"diffs"`
		Note       string `json:"note"`
		FirstRun   int64  `json:"first_run"`
		LastRun    int64  `json:"last_run"`
	}
	out := make([]row, 0, len(list))
	for _, e := range list {
		r := row{ID: e.ID, Status: e.Status, Provider: e.Provider, Grain: e.Grain, Kind: e.Kind, Subject: e.Subject,
			ProviderID: e.ProviderID, LedgerID: e.LedgerID, Ref: e.Ref, Currency: e.Currency, Amount: e.Amount,
			Date: e.At.Format("2006-01-02"), Heuristic: e.Heuristic, Note: e.Note, FirstRun: e.FirstRun, LastRun: e.LastRun,
			Diffs: []diff{}}
		for _, d := range e.Diffs {
			r.Diffs = append(r.Diffs, diff{d.Field, d.Ledger, d.Provider})
		}
		out = append(out, r)
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func exceptionID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%q is not an exception id (see 'settle exceptions')", s)
	}
	return id, nil
}

func newResolveCmd(a *app) *cobra.Command {
	var note string
	var book bool
	cmd := &cobra.Command{
		Use:   "resolve ID",
		Short: "Mark an exception resolved, optionally booking the adjusting entry",
		Long: `Mark an exception resolved. With --book, settle first posts the entry that makes
the ledger agree with the provider:
  mismatched amount or fee   a correction of the balance transaction by the difference
  missing_in_ledger          the provider's balance transaction, booked as reported
  missing_at_provider        a correction that cancels the ledger's balance transaction
The next reconciliation run then finds nothing and the exception stays resolved;
if it still finds the difference, it reopens the exception.`,
		Example: `  settle exceptions resolve 12 --book
  settle exceptions resolve 14 --note "refunded outside Stripe; see ticket 881"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := exceptionID(args[0])
			if err != nil {
				return err
			}
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			e, err := a.store.Exception(cmd.Context(), id)
			if err != nil {
				return err
			}
			var entryID int64
			if book {
				entryID, err = runner.BookFix(cmd.Context(), a.store, books, e)
				if errors.Is(err, runner.ErrNothingToBook) {
					return fmt.Errorf("exception %d: %w; resolve it without --book, with a --note", id, err)
				}
				if err != nil {
					return fmt.Errorf("exception %d: %w", id, err)
				}
				if note == "" {
					note = fmt.Sprintf("resolved by entry %d", entryID)
				}
			}
			if err := a.store.SetExceptionStatus(cmd.Context(), id, sqlite.ExceptionResolved, note, entryID); err != nil {
				return err
			}
			if entryID != 0 {
				fmt.Fprintf(a.stdout, "exception %d resolved; booked entry %d. Run 'settle reconcile' to confirm.\n", id, entryID)
			} else {
				fmt.Fprintf(a.stdout, "exception %d resolved.\n", id)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why it is resolved")
	cmd.Flags().BoolVar(&book, "book", false, "post the adjusting entry that fixes the difference")
	return cmd
}

func newIgnoreCmd(a *app) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:     "ignore ID --note TEXT",
		Short:   "Ignore an exception, with a note saying why",
		Example: `  settle exceptions ignore 13 --note "test charge in live mode"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := exceptionID(args[0])
			if err != nil {
				return err
			}
			if strings.TrimSpace(note) == "" {
				return usagef("ignoring needs --note saying why")
			}
			if _, err := a.ledger(cmd.Context()); err != nil {
				return err
			}
			if err := a.store.SetExceptionStatus(cmd.Context(), id, sqlite.ExceptionIgnored, note, 0); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "exception %d ignored.\n", id)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why it is ignored (required)")
	return cmd
}
