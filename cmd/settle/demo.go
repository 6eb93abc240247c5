package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle"
	"github.com/settlehq/settle/feed"
)

// demoDB is where the demo writes unless --db is given.
const demoDB = "settle-demo.db"

func newDemoCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Walk the whole pipeline on a realistic sample",
		Long: `Record a month of sample payment events (captures with fees, a partial capture,
a canceled authorization, refunds, a dispute won, payouts paid and failed, a manual
entry), make due funds available, verify the books, and show the balances.

The demo writes to ./settle-demo.db (recreated each run) unless --db is given.`,
		Example: `  settle demo
  settle --db /tmp/try.db demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if !cmd.Flags().Changed("db") {
				a.dbPath = demoDB
				for _, suffix := range []string{"", "-wal", "-shm"} {
					if err := os.Remove(demoDB + suffix); err != nil && !os.IsNotExist(err) {
						return err
					}
				}
			}
			books, err := a.ledger(ctx)
			if err != nil {
				return err
			}
			out := a.stdout
			fmt.Fprintf(out, "settle demo — database %s\n\n", a.dbPath)

			const name = "testdata/demo/events.jsonl"
			data, err := settle.DemoFS.ReadFile(name)
			if err != nil {
				return err
			}
			events, errs := feed.Read(name, bytes.NewReader(data))
			if len(errs) > 0 {
				return errs[0]
			}
			sum, errs := feed.Apply(ctx, books, events, false)
			if len(errs) > 0 {
				return errs[0]
			}
			fmt.Fprintf(out, "1. Recorded %d payment events from %s (%d new).\n", len(events), name, sum.Applied)

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
			fmt.Fprintf(out, `
Where to look next:
  settle --db %[1]s balance assets:stripe        balances of one provider
  settle --db %[1]s balance --as-of 2026-11-05    the books as they stood that day
  settle --db %[1]s verify                         check every invariant again
  settle record --help                             the event feed format
`, a.dbPath)
			return nil
		},
	}
}
