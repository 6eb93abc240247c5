package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reports"
)

// exporters maps an export format to its writer.
var exporters = map[string]func(context.Context, *ledger.Ledger, io.Writer, *reports.Rates) error{
	"hledger":   reports.ExportHledgerPriced,
	"beancount": reports.ExportBeancountPriced,
}

func newExportCmd(a *cli) *cobra.Command {
	var out, rates string
	cmd := &cobra.Command{
		Use:   "export hledger|beancount",
		Short: "Export the books as an hledger journal or a beancount file",
		Long: `Export every posted entry as a plain-text accounting journal that the real
tools accept with the same balances: hledger (hledger -f FILE balance) or
beancount (bean-check FILE). Pending authorizations are left out, as they are
of the trial balance. Each currency balances on its own in every entry (no
conversion prices), account names keep settle's form in hledger
(assets:stripe:available) and take beancount's in beancount
(Assets:Stripe:Available, '_' becoming '-': in_transit is In-Transit), and the
file ends with assertions of settle's balances, so that the tool checks them.
--rates adds the rates of a rates CSV as prices (P / price directives), so
that hledger -X values the books as settle report trial-balance --value-in does.`,
		Example: `  settle export hledger --out books.journal && hledger -f books.journal balance
  settle export beancount --out books.beancount && bean-check books.beancount
  settle export hledger --rates rates.csv | hledger -f - balance -X USD`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("export needs a format: hledger or beancount")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			export, ok := exporters[strings.ToLower(args[0])]
			if !ok {
				return usagef("unknown export format %q; formats: hledger, beancount", args[0])
			}
			streamingGC()
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			var rs *reports.Rates
			if rates != "" {
				if rs, err = readRates(rates, books); err != nil {
					return err
				}
			}
			return writeOutput(a, out, func(w io.Writer) error {
				if err := export(cmd.Context(), books, w, rs); err != nil {
					return fmt.Errorf("export %s: %w", args[0], err)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of stdout")
	cmd.Flags().StringVar(&rates, "rates", "", "add the rates of this CSV (date,base,quote,rate) as prices")
	return cmd
}
