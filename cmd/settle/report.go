package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/reports"
)

func newReportCmd(a *cli) *cobra.Command {
	var from, to, asOf, account, provider, format, out, valueIn, rates string
	cmd := &cobra.Command{
		Use:   "report NAME",
		Short: "Write an accounting report as a table, CSV or JSON",
		Long: `Write one report of the books. Reports:

` + reportList(a) + `
Amounts are in major units with exactly the currency's decimals, one currency
a row; currency codes are upper case (balance-transactions keeps Stripe's lower
case, as in Stripe's own itemized reports); times are RFC 3339 UTC. Only posted
entries count: pending authorizations are left out.

--format defaults to table when writing to stdout and to csv with --out.
CSV and table cells that a spreadsheet would run as a formula (=, +, -, @) are
prefixed with a single quote; numbers are left as they are.

Dates are YYYY-MM-DD (UTC) or RFC 3339 times. --from is inclusive and --to is
exclusive (--from 2026-11-01 --to 2026-12-01 is November); --as-of means the end
of that day, inclusive. Without --as-of, balance reports use the current
balances.

--value-in CUR values the trial balance in one reporting currency, as
hledger's -X does: each account's balances converted at the rates of --rates
(a CSV of date,base,quote,rate or date,pair,rate) that hold on the --as-of
day (the latest rates without it), summed exactly and rounded once, half to
even.`,
		Example: `  settle report trial-balance
  settle report trial-balance --as-of 2026-10-31 --out tb-october.csv
  settle report trial-balance --value-in USD --rates rates.csv
  settle report journal --from 2026-11-01 --to 2026-12-01 --format csv > journal.csv
  settle report account-statement --account assets:stripe:available
  settle report income-statement --from 2026-01-01 --to 2027-01-01
  settle report balance-transactions --provider stripe --format csv
  settle report payout-reconciliation --format json
  settle report open-exceptions --out exceptions.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("report needs one report name, one of: %s", strings.Join(reportNames(a), ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, ok := findReport(a, args[0])
			if !ok {
				return usagef("unknown report %q; reports: %s", args[0], strings.Join(reportNames(a), ", "))
			}
			for _, name := range []string{"from", "to", "as-of", "account", "provider", "value-in"} {
				if cmd.Flags().Changed(name) && !slices.Contains(r.Uses, name) {
					return usagef("report %s does not take --%s (it takes %s)", r.Name, name, flagList(r.Uses))
				}
			}
			var opts reports.Options
			var err error
			if opts.From, err = optionalDate("--from", from, false); err != nil {
				return err
			}
			if opts.To, err = optionalDate("--to", to, false); err != nil {
				return err
			}
			if opts.AsOf, err = optionalDate("--as-of", asOf, true); err != nil {
				return err
			}
			if !opts.From.IsZero() && !opts.To.IsZero() && !opts.From.Before(opts.To) {
				return usagef("--from %s is not before --to %s", from, to)
			}
			opts.Account, opts.Provider = account, provider
			if r.Name == "account-statement" && account == "" {
				return usagef("account-statement needs --account, e.g. --account assets:stripe:available")
			}
			if (valueIn == "") != (rates == "") {
				return usagef("--value-in and --rates go together: --value-in USD --rates rates.csv")
			}
			f, err := outputFormat(format, out)
			if err != nil {
				return err
			}
			streamingGC()
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			r, _ = findReport(a, r.Name) // now bound to the open store
			if valueIn != "" {
				opts.ValueIn = valueIn
				if opts.Rates, err = readRates(rates, books); err != nil {
					return err
				}
			}
			return writeOutput(a, out, func(w io.Writer) error {
				rw, err := reports.NewWriter(w, f)
				if err != nil {
					return err
				}
				if err := r.Run(cmd.Context(), books, opts, rw); err != nil {
					if errors.Is(err, reports.ErrInvalidOptions) {
						return usageError{err}
					}
					return fmt.Errorf("report %s: %w", r.Name, err)
				}
				return rw.Close()
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "start of the period, inclusive (YYYY-MM-DD or RFC 3339)")
	fl.StringVar(&to, "to", "", "end of the period, exclusive (YYYY-MM-DD or RFC 3339)")
	fl.StringVar(&asOf, "as-of", "", "balances at the end of this day (YYYY-MM-DD) or at this RFC 3339 time")
	fl.StringVar(&account, "account", "", "account of an account-statement (subaccounts included)")
	fl.StringVar(&provider, "provider", "", "only this provider's balance transactions and payouts")
	fl.StringVar(&format, "format", "", "csv, json or table (default table on stdout, csv with --out)")
	fl.StringVar(&out, "out", "", "write to this file instead of stdout")
	fl.StringVar(&valueIn, "value-in", "", "value balances in this currency at --rates (trial-balance)")
	fl.StringVar(&rates, "rates", "", "rates CSV for --value-in: date,base,quote,rate")
	return cmd
}

// allReports lists every report; the store is opened by then when one runs.
func allReports(a *cli) []reports.Report {
	if a.store == nil {
		return app.Reports(nil)
	}
	return app.Reports(a.store)
}

func findReport(a *cli, name string) (reports.Report, bool) {
	for _, r := range allReports(a) {
		if r.Name == name {
			return r, true
		}
	}
	return reports.Report{}, false
}

func reportNames(a *cli) []string {
	var names []string
	for _, r := range allReports(a) {
		names = append(names, r.Name)
	}
	return names
}

// reportList is the help text's list of reports.
func reportList(a *cli) string {
	var b strings.Builder
	for _, r := range allReports(a) {
		fmt.Fprintf(&b, "  %-22s %s (%s)\n", r.Name, r.Summary, flagList(r.Uses))
	}
	return b.String()
}

// flagList spells option names as flags: "--from, --to".
func flagList(names []string) string {
	flags := make([]string, len(names))
	for i, n := range names {
		flags[i] = "--" + n
	}
	return strings.Join(flags, ", ")
}

// optionalDate parses a date flag; empty is the zero time.
func optionalDate(flag, s string, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := parseDate(s, endOfDay)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return t, nil
}

// outputFormat picks the report format: the one asked for, else csv for a
// file and table for stdout.
func outputFormat(format, out string) (reports.Format, error) {
	if format == "" {
		if out != "" {
			return reports.CSV, nil
		}
		return reports.Table, nil
	}
	f, err := reports.ParseFormat(format)
	if err != nil {
		return "", usagef("--format must be csv, json or table, not %q", format)
	}
	return f, nil
}

// writeOutput runs write on stdout, or on the file out. A file is written
// next to its final name and renamed into place only when write succeeds,
// so that a failed report never leaves a truncated file behind. A symbolic
// link stays a link: the file it names is the one replaced. What is not a
// file, such as /dev/null, /dev/stdout or a named pipe, is written in
// place: renaming over it would put a file where the device was (run as
// root, --out /dev/null replaced the machine's /dev/null).
//
// The output goes through a buffer of outputBuffer bytes, which the
// reports' CSV and JSON writers use as their own (bufio hands back a
// writer that is large enough): with their 4 KiB one, a journal of a month
// of a million payments took 150,000 write system calls.
func writeOutput(a *cli, out string, write func(io.Writer) error) error {
	if out == "" || out == "-" {
		return writeBuffered(a.stdout, write)
	}
	if fi, err := os.Stat(out); err == nil {
		if !fi.Mode().IsRegular() {
			return writeInPlace(out, write)
		}
		if target, err := filepath.EvalSymlinks(out); err == nil {
			out = target
		}
	}
	tmp, err := os.CreateTemp(dirOf(out), ".settle-report-*")
	if err != nil {
		return fmt.Errorf("creating %s: %w", out, err)
	}
	defer os.Remove(tmp.Name())
	if err := writeBuffered(tmp, write); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := os.Chmod(tmp.Name(), a.fileMode()); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return nil
}

// writeInPlace runs write on out, which exists and is not a regular file
// (a device or a named pipe), opened for writing as it is.
func writeInPlace(out string, write func(io.Writer) error) error {
	f, err := os.OpenFile(out, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", out, err)
	}
	if err := writeBuffered(f, write); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return nil
}

// outputBuffer is the size of writeOutput's buffer.
const outputBuffer = 256 << 10

// writeBuffered runs write on a buffer of w, and flushes it.
func writeBuffered(w io.Writer, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(w, outputBuffer)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// dirOf returns the folder of a file path, "." for a bare name.
func dirOf(path string) string {
	i := strings.LastIndexAny(path, `/\`)
	if i < 0 {
		return "."
	}
	if i == 0 {
		return "/"
	}
	return path[:i]
}
