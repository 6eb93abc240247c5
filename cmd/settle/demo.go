package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle"
	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/reconcile"
)

// demoDB is where the demo writes unless --db is given.
const demoDB = "settle-demo.db"

// demoSetting marks a database the demo wrote, which it may write again.
const demoSetting = "demo"

// demoExport writes the embedded Stripe export of the demo month to a temp
// file, since imports read files.
func demoExport() (string, error) {
	data, err := settle.DemoFS.ReadFile("testdata/demo/stripe-balance-2026-11.csv")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "settle-demo")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "stripe-balance-2026-11.csv")
	return path, os.WriteFile(path, data, 0o644)
}

func newDemoCmd(a *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Walk the whole pipeline on a realistic sample",
		Long: `Walk the whole pipeline on a month of sample data: record payment events
(captures with fees, a partial capture, a canceled authorization, refunds, a
dispute won, payouts paid and failed, a manual entry), make due funds available,
verify the books, import Stripe's balance report for the month, reconcile it
against the ledger, and show the exceptions it found (a fee Stripe changed, a
charge the ledger lacks, one Stripe lacks, a row Stripe listed twice).

The demo writes to ./settle-demo.db (recreated each run) unless --db is given;
it writes sample data only into a new or empty database or one it wrote before,
never into real books.`,
		Example: `  settle demo
  settle --db /tmp/try.db demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if !cmd.Flags().Changed("db") {
				a.dbPath = demoDB
				if err := removeDB(demoDB); err != nil {
					return err
				}
			}
			books, err := a.ledger(ctx)
			if err != nil {
				return err
			}
			if err := a.claimForDemo(ctx); err != nil {
				return err
			}
			out := a.stdout
			fmt.Fprintf(out, "settle demo — database %s\n\n", a.dbName())

			const name = "testdata/demo/events.jsonl"
			data, err := settle.DemoFS.ReadFile(name)
			if err != nil {
				return err
			}
			events, errs := feed.Read(name, bytes.NewReader(data))
			if len(errs) > 0 {
				return errs[0]
			}
			applied, errs := feed.Apply(ctx, books, events, false)
			if len(errs) > 0 {
				return errs[0]
			}
			fmt.Fprintf(out, "1. Recorded %d payment events from %s (%d new).\n", len(events), name, applied.Applied)

			last := events[len(events)-1].At
			n, err := books.MakeAvailable(ctx, last.Add(48*time.Hour))
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "2. Made %d captured balances available (as the nightly job does at available_on).\n", n)

			vs, err := books.Verify(ctx)
			if err != nil {
				return err
			}
			if len(vs) > 0 {
				return fmt.Errorf("the demo books fail verification: %v", vs[0])
			}
			fmt.Fprintln(out, "3. Verified: every entry balances, stored balances equal their postings, no over-refund.")
			fmt.Fprintln(out)
			fmt.Fprintln(out, "Balances:")
			bals, err := books.Balances(ctx, "")
			if err != nil {
				return err
			}
			if err := writeBalances(a, books, bals, "table"); err != nil {
				return err
			}

			export, err := demoExport()
			if err != nil {
				return err
			}
			defer os.RemoveAll(filepath.Dir(export))
			st, err := a.importFile(cmd, export, "", "", &importers.Options{}, false)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\n4. Imported Stripe's balance report for November: %d balance transactions.\n", st.Records)
			fmt.Fprintln(out, "5. Reconciled it against the ledger:")
			fmt.Fprintln(out)
			sum, err := a.reconcileAll(ctx, books, "", time.Time{}, time.Time{}, &app.Options{Now: a.now})
			if err != nil {
				return err
			}
			open, err := a.store.Exceptions(ctx, reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen})
			if err != nil {
				return err
			}
			printRuns(a, sum)
			fmt.Fprintln(out)
			var rows [][]string
			for _, e := range open {
				rows = append(rows, []string{strconv.FormatInt(e.ID, 10), string(e.Kind), e.Subject, e.ProviderID, e.LedgerID, describeException(e)})
			}
			if err := printTable(out, []string{"ID", "KIND", "SUBJECT", "PROVIDER ID", "LEDGER ID", "DETAIL"}, rows, map[int]bool{0: true}); err != nil {
				return err
			}
			fmt.Fprintf(out, `
Where to look next:
  settle --db %[1]s exceptions show 1             both sides, Stripe's own row, what differs
  settle --db %[1]s exceptions resolve 1 --book --dry-run   the entry that would fix it
  settle --db %[1]s exceptions resolve 1 --book   book the fee Stripe charged, then:
  settle --db %[1]s reconcile                     the next run agrees and closes it
  settle --db %[1]s report trial-balance          the trial balance (also journal, balance-sheet, …)
  settle --db %[1]s report balance-transactions   the ledger in Stripe's itemized layout
  settle --db %[1]s export hledger                the books for hledger (or beancount)
  settle --db %[1]s balance --as-of 2026-11-05    the books as they stood that day
`, shellWord(a.dbName()))
			return nil
		},
	}
}

// claimForDemo marks the open database as the demo's, or refuses if it
// holds books the demo did not write.
func (a *cli) claimForDemo(ctx context.Context) error {
	mark, err := a.store.Setting(ctx, demoSetting)
	if err != nil || mark != "" {
		return err
	}
	empty, err := a.store.Empty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return fmt.Errorf("%s holds books the demo did not write; the demo adds sample data only to a new or empty database "+
			"or its own (run settle demo without --db to use ./%s)", a.dbName(), demoDB)
	}
	return a.store.SetSetting(ctx, demoSetting, "sample data of settle demo")
}

// shellWord quotes s for a POSIX shell when it holds more than letters,
// digits and -_./:@ (a PostgreSQL URL's ? and &).
func shellWord(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
