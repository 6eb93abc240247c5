package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newInitCmd(a *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the database (or bring its schema up to date)",
		Example: `  settle init
  settle --db /var/lib/settle/books.db init`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.ledger(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "settle: database ready at %s\n", a.dbName())
			return nil
		},
	}
}
