package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger/sqlite"
)

// errRejected marks a file that was not imported because of bad rows.
var errRejected = errors.New("file rejected")

func newImportCmd(a *app) *cobra.Command {
	var format, provider, mappingPath string
	var skipInvalid, book bool
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import provider exports (Stripe, JustiFi, Whop, Payments API V3, card payments API, generic CSV)",
		Long: `Import provider exports as normalized provider records, ready to reconcile.

The format is detected from the CSV header or the JSON shape; --format names it
when detection cannot tell. Formats: ` + strings.Join(importers.Formats(), ", ") + `.

A file with any bad row is rejected whole: every problem is listed as
FILE:LINE[:COLUMN]: reason and nothing from the file is stored. With
--skip-invalid the bad rows are quarantined (kept aside with their reason) and
the rest imported. Importing the same file twice adds nothing; a newer export
that overlaps an older one updates the records it shares with it.

With --book the records are also posted as ledger entries (for users whose
only books are the provider's data).`,
		Example: `  settle import balance_change_from_activity.itemized.csv
  settle import --format justifi-balance-json pbt-2026-11.json
  settle import --mapping acme.rules acme-payouts.csv
  settle import --skip-invalid --book stripe-balance-transactions.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" {
				if _, err := importers.NewReader(format, "", strings.NewReader(""), nil); errors.Is(err, importers.ErrUnknownFormat) {
					return usageError{err}
				}
			}
			opts := &importers.Options{}
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
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			rejected := 0
			for _, name := range args {
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
					n, err := bookImport(cmd.Context(), a.store, books, st.ImportID)
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
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "quarantine bad rows and import the rest")
	cmd.Flags().BoolVar(&book, "book", false, "also post the records as ledger entries")
	return cmd
}

// importFile streams one file into the store in one transaction.
func (a *app) importFile(cmd *cobra.Command, name, format, provider string, opts *importers.Options, skipInvalid bool) (sqlite.ImportStats, error) {
	sum, size, err := fileDigest(name)
	if err != nil {
		return sqlite.ImportStats{}, err
	}
	var problems []error
	st, err := a.store.Import(cmd.Context(), sqlite.ImportFile{File: name, SHA256: sum, Format: format}, func(sink sqlite.RecordSink) error {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		var r io.Reader = f
		if a.isTerminal && size > 8<<20 {
			bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(a.stderr), progressbar.OptionShowBytes(true),
				progressbar.OptionSetDescription("importing "+name), progressbar.OptionClearOnFinish())
			pr := progressbar.NewReader(f, bar)
			r = &pr
			defer bar.Finish()
		}
		var rd importers.Reader
		detected := format
		if format != "" {
			rd, err = importers.NewReader(format, name, r, opts)
		} else {
			rd, detected, err = importers.Open(name, r, opts)
		}
		if err != nil {
			return err
		}
		for {
			rec, err := rd.Read()
			if err == io.EOF {
				break
			}
			var pe *importers.ParseError
			if errors.As(err, &pe) {
				problems = append(problems, err)
				if skipInvalid && pe.Line > 0 {
					if err := sink.Quarantine(sqlite.Quarantined{Line: pe.Line, Problem: err.Error()}); err != nil {
						return err
					}
				}
				continue
			}
			if err != nil {
				return err
			}
			if provider != "" && rec.Provider != provider {
				return usagef("%s is a %s export (%s), not %s", name, rec.Provider, detected, provider)
			}
			if len(problems) == 0 || skipInvalid {
				if err := sink.Add(rec); err != nil {
					return err
				}
			}
		}
		if len(problems) > 0 && !skipInvalid {
			return errRejected
		}
		return nil
	})
	for _, p := range problems {
		fmt.Fprintln(a.stderr, p)
	}
	if errors.Is(err, errRejected) {
		fmt.Fprintf(a.stderr, "%s: rejected (%d problems); nothing from it was stored\n", name, len(problems))
	}
	return st, err
}

// fileDigest returns a file's SHA-256 and size.
func fileDigest(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
