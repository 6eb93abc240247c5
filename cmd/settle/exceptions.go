package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/booking"
	"github.com/settlehq/settle/reconcile"
)

func newExceptionsCmd(a *cli) *cobra.Command {
	var status, provider, format string
	list := func(cmd *cobra.Command, args []string) error {
		switch reconcile.ExceptionStatus(status) {
		case "all":
			status = ""
		case reconcile.ExceptionOpen, reconcile.ExceptionResolved, reconcile.ExceptionIgnored:
		default:
			return usagef("--status must be open, resolved, ignored or all, not %q", status)
		}
		if format != "table" && format != "json" {
			return usagef("--format must be table or json, not %q", format)
		}
		if _, err := a.ledger(cmd.Context()); err != nil {
			return err
		}
		f := reconcile.ExceptionFilter{Status: reconcile.ExceptionStatus(status), Provider: provider}
		if format == "json" {
			// Streamed: a run can open a million exceptions.
			return writeJSONArray(a, func(emit func(any) error) error {
				return a.store.EachException(cmd.Context(), f, func(e *reconcile.Exception) error {
					return emit(app.ToExceptionJSON(*e))
				})
			})
		}
		// Read twice, to size the columns and then to write them, rather
		// than held: a run can open a million.
		rows := func(row func([]string) error) error {
			return a.store.EachException(cmd.Context(), f, func(e *reconcile.Exception) error {
				return row([]string{strconv.FormatInt(e.ID, 10), string(e.Status), e.Provider, string(e.Kind), e.Subject,
					e.ProviderID, e.LedgerID, e.At.Format("2006-01-02"), describeException(*e)})
			})
		}
		return printTableOf(a.stdout, []string{"ID", "STATUS", "PROVIDER", "KIND", "SUBJECT", "PROVIDER ID", "LEDGER ID", "DATE",
			"DETAIL"}, map[int]bool{0: true}, "no exceptions", rows)
	}
	cmd := &cobra.Command{
		Use:   "exceptions",
		Short: "List reconciliation exceptions; show, resolve or ignore them",
		Long: `List the exceptions reconciliation found (open ones by default). Each has an id,
a kind (mismatched, missing_in_ledger, missing_at_provider, duplicate,
payout_mismatch), the provider record and ledger ids, and what differs.

Work through them with 'settle exceptions show ID' (both sides, the provider's
raw row, the differences, the history), 'settle exceptions resolve ID'
(optionally --book, which posts the adjusting entry in the same transaction:
a fee or amount the provider changed, a charge the ledger lacks, a ledger
transaction the provider never made; --dry-run shows it first) or
'settle exceptions ignore ID --note "…"'. One difference keeps one exception for
life: the next run closes what it no longer finds and reopens what it finds
again.`,
		Example: `  settle exceptions
  settle exceptions list --status all --format json
  settle exceptions show 12
  settle exceptions resolve 12 --book --dry-run
  settle exceptions resolve 12 --book
  settle exceptions ignore 13 --note "test charge, refunded by hand"`,
		Args: cobra.NoArgs,
		RunE: list,
	}
	listCmd := &cobra.Command{Use: "list", Short: "List exceptions (the same as 'settle exceptions')", Args: cobra.NoArgs, RunE: list}
	for _, c := range []*cobra.Command{cmd, listCmd} {
		c.Flags().StringVar(&status, "status", "open", "open, resolved, ignored or all")
		c.Flags().StringVar(&provider, "provider", "", "only this provider's exceptions")
		c.Flags().StringVar(&format, "format", "table", "table or json")
	}
	cmd.AddCommand(listCmd, newShowCmd(a), newResolveCmd(a), newIgnoreCmd(a))
	return cmd
}

// describeException says in a few words what differs, amounts in major
// units of the exception's currency.
func describeException(e reconcile.Exception) string {
	parts := app.Differences(e)
	if len(parts) == 0 && e.Currency != "" {
		parts = append(parts, strings.ToUpper(e.Currency)+" "+app.Money(e.Currency, e.Amount))
	}
	if e.Heuristic {
		parts = append(parts, "heuristic match")
	}
	if e.Note != "" {
		parts = append(parts, "note: "+e.Note)
	}
	return strings.Join(parts, "; ")
}

func writeJSON(a *cli, v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeJSONArray writes the values each emits as one JSON array, laid out
// as writeJSON lays out a slice, each value as it comes.
func writeJSONArray(a *cli, each func(emit func(any) error) error) error {
	w := bufio.NewWriterSize(a.stdout, 256<<10)
	n := 0
	err := each(func(v any) error {
		b, err := json.MarshalIndent(v, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if n == 0 {
			sep = "[\n  "
		}
		n++
		w.WriteString(sep)
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		w.WriteString("[]\n")
	} else {
		w.WriteString("\n]\n")
	}
	return w.Flush()
}

func exceptionID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%q is not an exception id (see 'settle exceptions')", s)
	}
	return id, nil
}

func newShowCmd(a *cli) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one exception: both sides, the provider's raw row, what differs, its history",
		Example: `  settle exceptions show 12
  settle exceptions show 12 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := exceptionID(args[0])
			if err != nil {
				return err
			}
			if format != "table" && format != "json" {
				return usagef("--format must be table or json, not %q", format)
			}
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			d, err := app.Detail(cmd.Context(), a.store, books, id)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(a, app.ToDetailJSON(d))
			}
			printDetail(a, d)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func printDetail(a *cli, d *app.ExceptionDetail) {
	e := d.Exception
	fmt.Fprintf(a.stdout, "exception %d: %s %s (%s), %s\n", e.ID, e.Kind, e.Subject, e.Provider, e.Status)
	if e.Note != "" {
		fmt.Fprintf(a.stdout, "note: %s\n", e.Note)
	}
	differs := map[string]bool{}
	for _, df := range e.Diffs {
		differs[df.Field] = true
	}
	fmt.Fprintln(a.stdout)
	var rows [][]string
	for _, name := range d.FieldNames() {
		mark := ""
		if differs[name] {
			mark = "≠"
		}
		rows = append(rows, []string{name, d.Field(d.LedgerFields, name), d.Field(d.ProviderFields, name), mark})
	}
	printTable(a.stdout, []string{"FIELD", "LEDGER", "PROVIDER", ""}, rows, nil)
	for _, s := range app.Differences(*e) {
		fmt.Fprintf(a.stdout, "differs: %s\n", s)
	}
	if d.ProviderRaw != "" {
		fmt.Fprintf(a.stdout, "\nprovider's row (%s):\n  %s\n", d.ProviderSource, d.ProviderRaw)
	}
	if len(d.History) > 0 {
		fmt.Fprintln(a.stdout, "\nhistory:")
		for _, h := range d.History {
			line := fmt.Sprintf("  %s  %-9s", h.At.UTC().Format("2006-01-02 15:04"), h.Action)
			if h.RunID != 0 {
				line += fmt.Sprintf(" run %d", h.RunID)
			}
			if h.EntryID != 0 {
				line += fmt.Sprintf(" entry %d", h.EntryID)
			}
			if h.Note != "" {
				line += "  " + h.Note
			}
			fmt.Fprintln(a.stdout, line)
		}
	}
}

func newResolveCmd(a *cli) *cobra.Command {
	var note string
	var book, dryRun bool
	cmd := &cobra.Command{
		Use:   "resolve ID",
		Short: "Mark an exception resolved, optionally booking the adjusting entry",
		Long: `Mark an exception resolved. With --book, settle posts the entry that makes the
ledger agree with the provider, in the same transaction that closes the
exception (both happen or neither does):
  mismatched amount or fee   a correction of the balance transaction by the difference
  missing_in_ledger          the provider's balance transaction, booked as reported
  missing_at_provider        a correction that cancels the ledger's balance transaction
The fix is dated at the transaction it corrects (or at the first open day after
a closed period). --dry-run shows the entry without booking anything.
The next reconciliation run then finds nothing and the exception stays resolved;
if it still finds the difference, it reopens the same exception.`,
		Example: `  settle exceptions resolve 12 --book --dry-run
  settle exceptions resolve 12 --book
  settle exceptions resolve 14 --note "refunded outside Stripe; see ticket 881"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := exceptionID(args[0])
			if err != nil {
				return err
			}
			if dryRun && !book {
				return usagef("--dry-run shows the entry --book would post; add --book")
			}
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			res, err := app.Resolve(cmd.Context(), a.store, books, app.ResolveRequest{ExceptionID: id, Note: note,
				Book: book, DryRun: dryRun, Now: a.now})
			if errors.Is(err, booking.ErrNothingToBook) {
				return fmt.Errorf("exception %d: %w; resolve it without --book, with a --note", id, err)
			}
			if err != nil {
				return fmt.Errorf("exception %d: %w", id, err)
			}
			if res.AlreadyResolved {
				fmt.Fprintf(a.stdout, "exception %d is already resolved; nothing changed.\n", id)
				return nil
			}
			if res.Entry != nil {
				printFix(a, res)
			}
			switch {
			case dryRun:
				fmt.Fprintf(a.stdout, "dry run: nothing was booked and exception %d is still %s.\n", id, res.Exception.Status)
			case res.Entry != nil:
				fmt.Fprintf(a.stdout, "exception %d resolved; booked entry %d. Run 'settle reconcile' to confirm.\n", id, res.Entry.ID)
			default:
				fmt.Fprintf(a.stdout, "exception %d resolved.\n", id)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why it is resolved")
	cmd.Flags().BoolVar(&book, "book", false, "post the adjusting entry that fixes the difference")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "with --book: show the entry without booking it")
	return cmd
}

// printFix shows the entry a resolution booked (or would book), and why it
// is dated where it is.
func printFix(a *cli, res *app.Resolution) {
	e := res.Entry
	fmt.Fprintf(a.stdout, "entry %d, %s: %s\n", e.ID, e.OccurredAt.UTC().Format("2006-01-02 15:04:05"), e.Description)
	var rows [][]string
	for _, p := range e.Postings {
		amt := app.Money(p.Currency, p.Amount)
		dr, cr := amt, ""
		if p.Amount < 0 {
			dr, cr = "", app.Money(p.Currency, -p.Amount)
		}
		rows = append(rows, []string{p.Account, strings.ToUpper(p.Currency), dr, cr})
	}
	printTable(a.stdout, []string{"ACCOUNT", "CURRENCY", "DEBIT", "CREDIT"}, rows, map[int]bool{2: true, 3: true})
	if !res.ClosedThrough.IsZero() && !res.Exception.At.After(res.ClosedThrough) {
		fmt.Fprintf(a.stdout, "dated at the first open day: the books are closed through %s, where the corrected transaction (%s) lies.\n",
			res.ClosedThrough.UTC().Format(time.RFC3339), res.Exception.At.UTC().Format("2006-01-02"))
	}
}

func newIgnoreCmd(a *cli) *cobra.Command {
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
			if err := app.Ignore(cmd.Context(), a.store, id, note, a.now().UTC()); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "exception %d ignored.\n", id)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why it is ignored (required)")
	return cmd
}
