package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reconcile/runner"
)

func newServeCmd(a *app) *cobra.Command {
	var schedule, inbox, outbox string
	var lookback time.Duration
	var once bool
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
  3. reconciles each provider over the --lookback before the run's time;
  4. writes the reconciliation summary, open exceptions, trial balance, balance
     transactions, payout reconciliation and journal as CSV to --outbox/<time>/
     (<time>-2/, -3/, … for another run in the same minute).
A file that cannot be imported or moved never stops the others.
One run at a time. Runs missed while settle was down are caught up, in order,
when it starts. SIGTERM or Ctrl-C lets the running job finish, then stops.
--once runs one job now and exits.`,
		Example: `  settle serve --schedule "0 2 * * *" --inbox /srv/settle/inbox --outbox /srv/settle/outbox
  settle serve --once --inbox ./inbox --outbox ./reports`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			for _, dir := range []string{inbox, outbox} {
				if dir == "" {
					continue
				}
				if err := os.MkdirAll(dir, runner.DirMode(a.fileMode())); err != nil {
					return err
				}
			}
			logger := slog.New(slog.NewTextHandler(a.stderr, nil))
			job := &runner.Nightly{Store: a.store, Books: books, Inbox: inbox, Outbox: outbox, Lookback: lookback,
				Readers: &importers.Options{}, Logger: logger, Now: a.now}
			sched, err := reconcile.NewScheduler(schedule, job.Run, &reconcile.SchedulerOptions{Logger: logger, LastRun: job.LastRun})
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
				return sched.RunOnce(cmd.Context(), reconcile.Window{From: last, To: now})
			}
			fmt.Fprintf(a.stderr, "settle serve: schedule %q, next run %s; inbox %q, outbox %q\n",
				schedule, sched.Next(a.now()).UTC().Format(time.RFC3339), inbox, outbox)
			return sched.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&schedule, "schedule", "@daily", "cron schedule of the job (UTC)")
	cmd.Flags().StringVar(&inbox, "inbox", "", "folder of provider exports to import")
	cmd.Flags().StringVar(&outbox, "outbox", "", "folder to write reports to")
	cmd.Flags().DurationVar(&lookback, "lookback", 7*24*time.Hour, "how far back each run reconciles")
	cmd.Flags().BoolVar(&once, "once", false, "run one job now and exit")
	return cmd
}
