package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// errRejected marks a file that was not imported because of bad rows.
var errRejected = errors.New("file rejected")

func newImportCmd(a *cli) *cobra.Command {
	var format, provider, mappingPath, encoding string
	var skipInvalid, book bool
	var bankAccounts []string
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import provider exports (Stripe, JustiFi, Whop, Payments API V3, card payments API, generic CSV)",
		Long: `Import provider exports as normalized provider records, ready to reconcile.

The format is detected from the CSV header or the JSON shape; --format names it
when detection cannot tell. Formats: ` + strings.Join(importers.Formats(), ", ") + `.

Files are read as UTF-8, and a row with bytes that are not UTF-8 is refused;
--encoding names another encoding to convert from (` + strings.Join(importers.Encodings(), ", ") + `).

A file with any bad row is rejected whole: every problem is listed as
FILE:LINE[:COLUMN]: reason and nothing from the file is stored. With
--skip-invalid the bad rows are quarantined (kept aside with their reason) and
the rest imported. Importing the same file twice adds nothing; a newer export
that overlaps an older one updates the records it shares with it.

With --book the records are also posted as ledger entries (for users whose
only books are the provider's data).

While nothing else has a SQLite database open, settle import takes it for
itself: each file's pages are written once, through a rollback journal, rather
than into the write-ahead log and copied again when the import ends. Other
settle commands started meanwhile wait until it is done (up to --lock-timeout).
With the database open elsewhere (settle serve, say) the import runs beside it
as always.

Bank statements (BAI2, camt.053, MT940) are detected too and stored with the
ledger account of their bank account: --bank-account ACCOUNT=LEDGER_ACCOUNT
(or a bare LEDGER_ACCOUNT for every account in the files) names it once and
is remembered; with --provider P an unmapped account is the chart's
assets:bank:P. An account with neither is refused.`,
		Example: `  settle import balance_change_from_activity.itemized.csv
  settle import --format justifi-balance-json pbt-2026-11.json
  settle import --mapping acme.rules acme-payouts.csv
  settle import --encoding windows-1252 --mapping acme.rules acme-excel-export.csv
  settle import --skip-invalid --book stripe-balance-transactions.json
  settle import --bank-account DE89370400440532013000=assets:bank:operating statement.xml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			streamingGC()
			a.exclusiveImport = true
			if format != "" {
				if _, err := importers.NewReader(format, "", strings.NewReader(""), nil); errors.Is(err, importers.ErrUnknownFormat) {
					return usageError{err}
				}
			}
			if err := importers.CheckEncoding(encoding); err != nil {
				return usageError{err}
			}
			if provider != "" {
				p, err := ledger.NormalizeProvider(provider)
				if err != nil {
					return usageError{err}
				}
				provider = p
			}
			opts := &importers.Options{Encoding: encoding}
			if mappingPath != "" {
				f, err := os.Open(mappingPath)
				if err != nil {
					return err
				}
				m, err := importers.ParseMapping(mappingPath, f)
				f.Close()
				if err != nil {
					return err
				}
				opts.Mapping = m
			}
			accounts, err := bankAccountFlags(bankAccounts)
			if err != nil {
				return err
			}
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			rejected := 0
			for _, name := range args {
				if stmt, err := isStatement(name); err != nil {
					return err
				} else if stmt && format == "" {
					if err := a.importStatement(cmd.Context(), name, provider, accounts); errors.Is(err, errRejected) {
						rejected++
					} else if err != nil {
						return err
					}
					continue
				}
				st, err := a.importFile(cmd, name, format, provider, opts, skipInvalid)
				if errors.Is(err, errRejected) {
					rejected++
					continue
				}
				if err != nil {
					return err
				}
				if st.AlreadyLoaded {
					fmt.Fprintf(a.stdout, "%s: already imported (import %d); nothing added\n", name, st.ImportID)
					continue
				}
				fmt.Fprintf(a.stdout, "%s: %d records read, %d added, %d updated, %d quarantined\n",
					name, st.Records, st.Added, st.Updated, st.Quarantined)
				if book {
					n, err := app.BookImport(cmd.Context(), a.store, books, st.ImportID)
					if err != nil {
						return fmt.Errorf("%s: booking: %w", name, err)
					}
					fmt.Fprintf(a.stdout, "%s: %d records booked as new ledger entries\n", name, n)
				}
			}
			if rejected > 0 {
				return fmt.Errorf("%d of %d files rejected; fix the rows listed above, or use --skip-invalid to quarantine them", rejected, len(args))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "the export's format (default: detected)")
	cmd.Flags().StringVar(&provider, "provider", "", "refuse files that are not this provider's (stripe, justifi, whop, paymentsv3, cardpay)")
	cmd.Flags().StringVar(&mappingPath, "mapping", "", "column mapping file for a generic CSV export")
	cmd.Flags().StringVar(&encoding, "encoding", "utf-8", "the files' character encoding: utf-8, latin1 (iso-8859-1) or windows-1252 (cp1252)")
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "quarantine bad rows and import the rest")
	cmd.Flags().BoolVar(&book, "book", false, "also post the records as ledger entries")
	cmd.Flags().StringArrayVar(&bankAccounts, "bank-account", nil, "bank statements: ACCOUNT=LEDGER_ACCOUNT, the ledger account of a bank account (repeatable)")
	return cmd
}

// importFile imports one file, printing every problem, with a progress bar
// for large files on a terminal.
func (a *cli) importFile(cmd *cobra.Command, name, format, provider string, opts *importers.Options, skipInvalid bool) (provider.ImportStats, error) {
	ropts := app.ImportOptions{Format: format, Provider: provider, SkipInvalid: skipInvalid, Readers: opts}
	if a.isTerminal {
		ropts.Wrap = func(r io.Reader, size int64) io.Reader { return a.withProgress(r, size, "importing "+name) }
	}
	st, problems, err := app.ImportFile(cmd.Context(), a.store, name, ropts)
	for _, p := range problems {
		fmt.Fprintln(a.stderr, p)
	}
	if errors.Is(err, app.ErrRejected) {
		fmt.Fprintf(a.stderr, "%s: rejected (%d problems); nothing from it was stored\n", name, len(problems))
		return st, errRejected
	}
	if errors.Is(err, ledger.ErrInvalidRequest) {
		return st, usageError{err}
	}
	return st, err
}
