package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newVerifyCmd(a *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check every ledger invariant over the whole database",
		Long: `Check that every entry balances per currency, stored balances equal the sum
of postings, captured ≤ authorized, refunded ≤ captured, net = amount − fee for
every balance transaction, no posting lacks its entry, and every pending entry
was resolved at most once. Prints each violation and exits 1 if there is any.`,
		Example: `  settle verify`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			streamingGC()
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			vs, err := books.Verify(cmd.Context())
			if err != nil {
				return err
			}
			for _, v := range vs {
				fmt.Fprintln(a.stdout, v)
			}
			if len(vs) > 0 {
				return fmt.Errorf("%d invariant violations found in %s", len(vs), a.dbName())
			}
			fmt.Fprintln(a.stdout, "ok: every invariant holds")
			return nil
		},
	}
}
