package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// recordJSON is the output of settle record --format json: each file's
// outcome, and where the time went.
type recordJSON struct {
	Files []recordFileJSON `json:"files"`
	Took  recordTookMS     `json:"took_ms"`
}

// recordFileJSON is one feed file's outcome. Applied is false when nothing
// from the file was written (a bad line without --skip-invalid, or the
// write lock not free in time); its counts are then zero, and its problems
// are on standard error as always.
type recordFileJSON struct {
	File     string `json:"file"`
	Applied  bool   `json:"applied"`
	Recorded int    `json:"recorded"`
	Already  int    `json:"already_recorded"`
	Skipped  int    `json:"skipped"`
	Problems int    `json:"problems"`
	TookMS   int64  `json:"took_ms"`
}

// recordTookMS is where a record's time went, in milliseconds: the whole
// of it (total, from before the database opens to after it closes), opening
// the database (creating it, or bringing its schema up to date), reading
// and booking the files' events, each file's commit (from its last event
// to the end of its transaction: the writes still held, the commit and its
// sync to disk), and closing the database (a new one moved to its path;
// books that existed checkpointed).
type recordTookMS struct {
	Total  int64 `json:"total"`
	Open   int64 `json:"open"`
	Events int64 `json:"events"`
	Commit int64 `json:"commit"`
	Close  int64 `json:"close"`
}

func newRecordCmd(a *cli) *cobra.Command {
	var skipInvalid bool
	var format string
	cmd := &cobra.Command{
		Use:   "record FILE.jsonl...",
		Short: "Record payment events from JSON Lines files",
		Long: `Record payment events, one JSON object a line, each mirroring a ledger call.
Every line has "id" (its idempotency key), "type" and "at" (RFC 3339).
Amounts are decimal strings in major units ("29.99"); JSON numbers are refused.

Event types: ` + strings.Join(feed.Types(), ", ") + `.

A file is read once and applied all or nothing: every bad line is reported as
FILE:LINE:field: reason and nothing from that file is written. With
--skip-invalid the good lines are applied and the bad ones reported. Recording
the same file again changes nothing. The feed is strict: amounts are plain
decimals ("29.99": no sign, spaces, exponent or separators), unknown fields and
duplicate keys are refused, and times must lie between 1677-09-21 and
2262-04-11. A UTF-8 byte order mark at the start is skipped.

On SQLite a feed file of 128 MiB or more (a month of a few hundred thousand
payments), or any feed into books of 1 GiB or more (half a million payments
and up), is recorded with a 256 MiB page cache instead of 64 MiB: a quarter
faster at a million payments, and a day into such books writes half as much
to the write-ahead log, at that much more memory. A database that does
not exist yet is built in PATH.new, without a write-ahead log, and moved to
PATH when every file is recorded: a tenth to a fifth faster at a million
payments, half the disk space at its peak, and a killed run leaves no
database at PATH (the next run starts it again).`,
		Example: `  settle record events.jsonl
  settle record --skip-invalid day1.jsonl day2.jsonl

  A line:
  {"id":"evt_1","type":"payment.captured","at":"2026-11-02T09:30:00Z","payment":"order-1001",
   "provider":"stripe","provider_ref":"ch_3Nx","currency":"usd","amount":"29.99",
   "fees":[{"type":"processing","amount":"1.17"}]}`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usagef("--format must be text or json, not %q", format)
			}
			streamingGC()
			start := time.Now()
			a.writerCache, a.buildNew = recordCache(a.dbPath, args), true
			books, err := a.ledger(cmd.Context())
			if err != nil {
				return err
			}
			out := recordJSON{Files: []recordFileJSON{}}
			out.Took.Open = time.Since(start).Milliseconds()
			failed := 0
			for _, name := range args {
				began := time.Now()
				sum, errs := a.recordFile(cmd.Context(), books, name, skipInvalid)
				took := time.Since(began).Milliseconds()
				commit := sum.Commit.Milliseconds()
				out.Took.Events, out.Took.Commit = out.Took.Events+took-commit, out.Took.Commit+commit
				f := recordFileJSON{File: name, Problems: len(errs), TookMS: took}
				printErrs(a, errs)
				switch {
				case len(errs) > 0 && lockTimedOut(errs):
					fmt.Fprintf(a.stderr, "%s: not recorded: the write lock was not free in time; nothing from it was written. Record it again, or wait longer with --lock-timeout.\n", name)
					failed++
				case len(errs) > 0 && !skipInvalid:
					fmt.Fprintf(a.stderr, "%s: not recorded (%d problems); nothing from it was written. Fix them, or use --skip-invalid to record the rest.\n", name, len(errs))
					failed++
				default:
					f.Applied, f.Recorded, f.Already, f.Skipped = true, sum.Applied, sum.Replayed, sum.Skipped
					if format == "text" {
						fmt.Fprintf(a.stdout, "%s: %d events recorded, %d already recorded, %d skipped\n", name, sum.Applied, sum.Replayed, sum.Skipped)
					}
					if sum.Skipped > 0 {
						failed++
					}
				}
				out.Files = append(out.Files, f)
			}
			// A new database is put at its path as the store closes.
			closing := time.Now()
			if err := a.closeStore(); err != nil {
				return err
			}
			out.Took.Close = time.Since(closing).Milliseconds()
			out.Took.Total = time.Since(start).Milliseconds()
			if format == "json" {
				if err := writeJSON(a, out); err != nil {
					return err
				}
			}
			if failed > 0 {
				return errors.New("some events were not recorded (see above)")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "record the good lines and report the bad ones")
	cmd.Flags().StringVar(&format, "format", "text", "text, or json: each file's counts and where the time went (took_ms)")
	return cmd
}

// recordFile reads a feed file once, validating and applying each line in
// one transaction, so that what is recorded is what was validated even when
// the file is a pipe or changes while it is read. A large file shows its
// progress on a terminal: the feed is read a few hundred lines ahead of
// the recording, so the bar follows the events recorded.
func (a *cli) recordFile(ctx context.Context, books *ledger.Ledger, name string, skipInvalid bool) (feed.Summary, []error) {
	f, err := os.Open(name)
	if err != nil {
		return feed.Summary{}, []error{err}
	}
	defer f.Close()
	var r io.Reader = f
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		r = a.withProgress(f, fi.Size(), "recording "+name)
	}
	return feed.ApplyFile(ctx, books, name, r, skipInvalid)
}

// bulkFeed is the size of a feed file from which record gives the SQLite
// store's writer sqlite.BulkWriterCache (see there): about 300,000
// payments' events, where that cache and the default measured the same.
const bulkFeed = 128 << 20

// bulkBooks is the size of a SQLite database into which record writes with
// sqlite.BulkWriterCache whatever the feed's size. A day's events go into
// its indexes at random places, each on a page of its own: a day of 33,000
// payments into the books of a million (2.2 GB) touched about 25,000 pages
// that the default cache could not hold, and SQLite spilled them to the
// write-ahead log and read them back: 104,405 writes to the log and 71,656
// reads from it, against 49,837 and none with the bulk cache, which ran a
// little faster (2.46 s against 2.63 s, means of nine interleaved pairs;
// BENCHMARKS.md, twenty-seventh round).
const bulkBooks = 1 << 30

// recordCache is the writer cache for recording the feed files names into
// the SQLite database at db: the bulk one when one of the files is a
// regular file of bulkFeed or more, or db is one of bulkBooks or more, else
// the store's default (0).
func recordCache(db string, names []string) int64 {
	if regularOf(db, bulkBooks) {
		return sqlite.BulkWriterCache
	}
	for _, name := range names {
		if regularOf(name, bulkFeed) {
			return sqlite.BulkWriterCache
		}
	}
	return 0
}

// regularOf reports whether name is a regular file of size bytes or more
// (a pipe, a missing file or a URL is not).
func regularOf(name string, size int64) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().IsRegular() && fi.Size() >= size
}

func printErrs(a *cli, errs []error) {
	for _, e := range errs {
		fmt.Fprintln(a.stderr, e)
	}
}

// lockTimedOut reports whether recording failed for want of the write lock
// rather than for the file's lines: --skip-invalid would not help.
func lockTimedOut(errs []error) bool {
	for _, err := range errs {
		if errors.Is(err, sqlite.ErrLockTimeout) {
			return true
		}
	}
	return false
}
