package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/schedule"
	"github.com/settlehq/settle/web"
)

func newServeCmd(a *cli) *cobra.Command {
	var spec, inbox, outbox, httpAddr, tokenFile string
	var lookback time.Duration
	var once, failOnExceptions bool
	var match matchFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the nightly job on a cron schedule: ingest, reconcile, report",
		Long: `Run the nightly reconciliation job at the times of a cron schedule (five fields,
or @daily, @hourly, @every 6h; UTC). Each run:
  1. imports every file in --inbox, moving it to inbox/processed, or to
     inbox/rejected with NAME.reason.txt beside it (a second NAME becomes
     NAME.1, with NAME.1.reason.txt); symbolic links and other special files
     are rejected unread, and processed/ and rejected/ must be folders, not
     links out of the inbox;
  2. makes due funds available and expires authorizations past their expiry;
  3. reconciles each provider over the --lookback before the run's time, and
     over every record imported since the last run, whatever its date;
  4. writes the reconciliation summary, open exceptions, trial balance, balance
     transactions, payout reconciliation and journal as CSV to --outbox/<time>/
     (<time>-2/, -3/, … for another run in the same minute).
A file that cannot be imported or moved never stops the others. Without
--http an import takes a SQLite database for itself while nothing else has it
open, as settle import does (see its help).
One run at a time. Runs missed while settle was down are caught up, in order,
when it starts. SIGTERM or Ctrl-C lets the running job finish, then stops.
--once runs one job now and exits: 1 if it compared nothing (no provider
records and no ledger transactions), 3 with --fail-on-exceptions when
exceptions are open.

--http ADDR serves the JSON API and the exceptions workbench (a web page) at
ADDR; with --http the nightly job runs only when --schedule is given too. ADDR
must be a loopback address (127.0.0.1:8080, [::1]:8080, localhost:8080) unless
--token-file names a file holding a bearer token (at least 16 characters),
which every request must then carry (Authorization: Bearer TOKEN; the page
asks for it once). The API is described at /api/openapi.`,
		Example: `  settle serve --schedule "0 2 * * *" --inbox /srv/settle/inbox --outbox /srv/settle/outbox
  settle serve --once --inbox ./inbox --outbox ./reports
  settle serve --http 127.0.0.1:8080
  settle serve --http 0.0.0.0:8443 --token-file /etc/settle/token --schedule "0 2 * * *" --inbox in --outbox out`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			matchingGC()
			mopts, err := match.options(a)
			if err != nil {
				return err
			}
			var token string
			if httpAddr != "" {
				if once {
					return usagef("--once runs one job and exits; it does not serve --http")
				}
				if tokenFile != "" {
					if token, err = web.ReadToken(tokenFile); err != nil {
						return usageError{err}
					}
				}
				if err := web.CheckAddr(httpAddr, token != ""); err != nil {
					return usageError{err}
				}
			} else if tokenFile != "" {
				return usagef("--token-file goes with --http")
			}
			// Without --http nothing else in this process reads the books
			// while the job imports.
			a.exclusiveImport = httpAddr == ""
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			for _, dir := range []string{inbox, outbox} {
				if dir == "" {
					continue
				}
				if err := os.MkdirAll(dir, app.DirMode(a.fileMode())); err != nil {
					return err
				}
			}
			logger := slog.New(slog.NewTextHandler(a.stderr, nil))
			var nightRuns []*reconcile.Run
			mopts.Logger = logger
			job := &app.Nightly{Store: a.store, Books: books, Inbox: inbox, Outbox: outbox, Lookback: lookback,
				Readers: &importers.Options{}, Logger: logger, Now: a.now, Match: mopts,
				Runs: func(rs []*reconcile.Run) { nightRuns = rs }}
			sched, err := schedule.New(spec, job.Run, &schedule.Options{Logger: logger, LastRun: job.LastRun})
			if err != nil {
				return usageError{err}
			}
			if once {
				now := a.now().UTC()
				last, err := job.LastRun(cmd.Context())
				if err != nil {
					return err
				}
				if last.IsZero() || !last.Before(now) {
					last = now.Add(-24 * time.Hour)
				}
				if err := sched.RunOnce(cmd.Context(), schedule.Window{From: last, To: now}); err != nil {
					return err
				}
				var total reconcile.Summary
				for _, r := range nightRuns {
					total.Add(r.Summary)
				}
				fmt.Fprintf(a.stdout, "%d runs: matched=%d mismatched=%d missing_in_ledger=%d missing_at_provider=%d duplicates=%d payout_mismatches=%d\n",
					len(nightRuns), total.Matched, total.Mismatched, total.MissingInLedger, total.MissingAtProvider, total.Duplicates,
					total.PayoutMismatches)
				if failOnExceptions {
					open, err := a.store.CountExceptions(cmd.Context(), reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen})
					if err != nil {
						return err
					}
					if open > 0 {
						return exitCodeError{exitExceptions, fmt.Errorf("%d open exceptions (settle exceptions lists them)", open)}
					}
				}
				return nil
			}
			if httpAddr == "" {
				fmt.Fprintf(a.stderr, "settle serve: schedule %q, next run %s; inbox %q, outbox %q\n",
					spec, sched.Next(a.now()).UTC().Format(time.RFC3339), inbox, outbox)
				return sched.Run(cmd.Context())
			}
			return a.serveHTTP(cmd.Context(), httpAddr, token, books, mopts, logger, func(ctx context.Context) error {
				if !cmd.Flags().Changed("schedule") {
					return nil
				}
				fmt.Fprintf(a.stderr, "settle serve: schedule %q, next run %s; inbox %q, outbox %q\n",
					spec, sched.Next(a.now()).UTC().Format(time.RFC3339), inbox, outbox)
				return sched.Run(ctx)
			})
		},
	}
	cmd.Flags().StringVar(&spec, "schedule", "@daily", "cron schedule of the job (UTC)")
	cmd.Flags().StringVar(&inbox, "inbox", "", "folder of provider exports to import")
	cmd.Flags().StringVar(&outbox, "outbox", "", "folder to write reports to")
	cmd.Flags().DurationVar(&lookback, "lookback", 7*24*time.Hour, "how far back each run reconciles")
	cmd.Flags().BoolVar(&once, "once", false, "run one job now and exit")
	cmd.Flags().BoolVar(&failOnExceptions, "fail-on-exceptions", false, "with --once, exit 3 when exceptions are open")
	cmd.Flags().StringVar(&httpAddr, "http", "", "serve the JSON API and the workbench at this address (e.g. 127.0.0.1:8080)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding the bearer token that --http requires beyond loopback")
	match.register(cmd)
	return cmd
}

// serveHTTP serves the API and the workbench at addr until ctx is done,
// running job (the nightly schedule, if asked for) beside it; either one
// failing stops both.
func (a *cli) serveHTTP(ctx context.Context, addr, token string, books *ledger.Ledger, mopts *app.Options, logger *slog.Logger,
	job func(context.Context) error) error {
	srv, err := web.New(a.store, books, &web.Options{Token: token, Logger: logger, Now: a.now, Match: mopts})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	auth := "no token (loopback)"
	if token != "" {
		auth = "bearer token required"
	}
	fmt.Fprintf(a.stderr, "settle serve: the workbench is at http://%s/ and the API at http://%s/api/ (%s)\n", ln.Addr(), ln.Addr(), auth)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- web.Serve(ctx, ln, srv) }()
	go func() {
		err := job(ctx)
		if err == nil {
			<-ctx.Done()
		}
		errs <- err
	}()
	err = <-errs
	cancel()
	if e := <-errs; err == nil {
		err = e
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
