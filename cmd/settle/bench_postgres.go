package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reports"
	"github.com/settlehq/settle/store/postgres"
)

// pgBatch is how many entries one PostEntries call carries on PostgreSQL,
// where a batch is written with one COPY.
const pgBatch = 5000

// pgBench measures the PostgreSQL store on the database of url, each
// measurement in a fresh, randomly named schema that is dropped
// afterwards, and prints its own table.
func (b *bencher) pgBench(ctx context.Context, dbURL string) error {
	// The URL's own schema parameter, if any, is not used: every
	// measurement gets a schema of its own.
	if u, err := url.Parse(dbURL); err == nil {
		q := u.Query()
		if q.Has("schema") {
			q.Del("schema")
			u.RawQuery = q.Encode()
			dbURL = u.String()
		}
	}
	pb := &bencher{a: b.a, dir: b.dir, sizes: b.sizes, quick: b.quick}
	steps := []func(context.Context, string) error{pb.pgBatched, pb.pgSingle, pb.pgConcurrent, pb.pgRecord, pb.pgImport}
	for _, step := range steps {
		if err := step(ctx, dbURL); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	fmt.Fprintf(b.a.stdout, "\nPostgreSQL (%s; each figure on a fresh schema, dropped afterwards):\n", redactURL(dbURL))
	tw := tabwriter.NewWriter(b.a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tMEASURED\tTARGET\tRESULT")
	for _, r := range pb.rows {
		res := "—"
		if r.target != "" {
			res = "FAIL"
			if r.pass {
				res = "pass"
			}
		}
		if b.quick {
			res = "(quick) " + res
		}
		line := r.figure + "\t" + r.measured + "\t" + r.target + "\t" + res
		if r.note != "" {
			line += "  " + r.note
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// redactURL hides a password in a URL that is printed.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the --db database"
	}
	return u.Redacted()
}

// pgOpen opens a store on a fresh schema with at most conns connections;
// drop closes it and drops the schema.
func (b *bencher) pgOpen(ctx context.Context, dbURL string, conns int) (st *postgres.Store, drop func(), err error) {
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "settle_bench_" + hex.EncodeToString(r[:])
	openURL := dbURL
	if conns > 0 {
		sep := "?"
		if strings.Contains(dbURL, "?") {
			sep = "&"
		}
		openURL += sep + "pool_max_conns=" + fmt.Sprint(conns)
	}
	dropSchema := func() {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(dctx, dbURL)
		if err != nil {
			fmt.Fprintf(b.a.stderr, "settle bench: dropping schema %s: %v\n", schema, err)
			return
		}
		defer conn.Close(dctx)
		if _, err := conn.Exec(dctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			fmt.Fprintf(b.a.stderr, "settle bench: dropping schema %s: %v\n", schema, err)
		}
	}
	st, err = postgres.Open(ctx, openURL, &postgres.Options{Schema: schema})
	if err != nil {
		dropSchema() // Open may have created it before failing
		return nil, nil, err
	}
	return st, func() { st.Close(); dropSchema() }, nil
}

// pgBatched posts the batched-posting entries in batches of pgBatch.
func (b *bencher) pgBatched(ctx context.Context, dbURL string) error {
	st, drop, err := b.pgOpen(ctx, dbURL, 0)
	if err != nil {
		return err
	}
	defer drop()
	books := ledger.New(st, nil)
	n := b.sizes.batched
	posting, err := b.postBatched(ctx, books, n, pgBatch, "postgres: batched posting")
	if err != nil {
		return err
	}
	rate := float64(n) / posting.Seconds()
	b.add("batched posting (5,000 a tx, 4 postings, COPY)", fmt.Sprintf("%s entries/s", count(int(rate))),
		"≥ 50,000 entries/s", rate >= 50_000, fmt.Sprintf("(%s entries in %s)", count(n), dur(posting)))
	return nil
}

// pgSingle posts one entry per transaction on one connection.
func (b *bencher) pgSingle(ctx context.Context, dbURL string) error {
	st, drop, err := b.pgOpen(ctx, dbURL, 1)
	if err != nil {
		return err
	}
	defer drop()
	books := ledger.New(st, nil)
	n := b.sizes.single
	elapsed, err := b.postSingly(ctx, books, n, "postgres: one entry per transaction")
	if err != nil {
		return err
	}
	rate := float64(n) / elapsed.Seconds()
	b.add("one entry per transaction, 1 connection", fmt.Sprintf("%s entries/s", count(int(rate))), "≥ 2,000 entries/s",
		rate >= 2000, fmt.Sprintf("(%s entries in %s; bounded by the server's WAL flush at each commit)", count(n), dur(elapsed)))
	return nil
}

// pgConcurrent posts one entry per transaction from 1, 2, 4 and 8 writers,
// each on its own connection and its own accounts.
func (b *bencher) pgConcurrent(ctx context.Context, dbURL string) error {
	per := b.sizes.single / 4
	for _, conns := range []int{1, 2, 4, 8} {
		st, drop, err := b.pgOpen(ctx, dbURL, conns)
		if err != nil {
			return err
		}
		books := ledger.New(st, nil)
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		b.progress("postgres: concurrent writers: %d connections", conns)
		var wg sync.WaitGroup
		errs := make([]error, conns)
		start := time.Now()
		for w := range conns {
			wg.Go(func() {
				for i := range per {
					if _, err := books.PostEntry(ctx, ledger.EntryInput{Key: fmt.Sprint("w", w, "-", i), OccurredAt: at,
						Postings: []ledger.PostingInput{
							ledger.Debit(fmt.Sprintf("assets:receivables:w%d", w), "usd", "10.00"),
							ledger.Credit(fmt.Sprintf("income:sales:w%d", w), "usd", "10.00")}}); err != nil {
						errs[w] = err
						return
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		drop()
		b.progress("")
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("concurrent writers: %w", err)
			}
		}
		rate := float64(per*conns) / elapsed.Seconds()
		target, pass := "", false
		if conns == 8 {
			target, pass = "≥ 2,000 entries/s", rate >= 2000
		}
		b.add(fmt.Sprintf("concurrent writers, %d connection(s)", conns), fmt.Sprintf("%s entries/s", count(int(rate))),
			target, pass, fmt.Sprintf("(%s entries, one per transaction)", count(per*conns)))
	}
	return nil
}

// pgRecordPayments is how many payments the month pgRecord records has
// (--quick: a hundredth).
const pgRecordPayments = 10_000

// pgRecord records a generated month's feed as settle record does: one
// transaction, the feed read once.
func (b *bencher) pgRecord(ctx context.Context, dbURL string) error {
	n := pgRecordPayments
	if b.quick {
		n /= 100
	}
	dir, err := os.MkdirTemp(b.dir, "pg-record-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b.progress("postgres: record: generating a month of %s payments", count(n))
	feedName := filepath.Join(dir, "feed.jsonl")
	sum, err := generateFiles(n, feedName, filepath.Join(dir, "itemized.csv"), b.randomIDs)
	if err != nil {
		return err
	}
	st, drop, err := b.pgOpen(ctx, dbURL, 0)
	if err != nil {
		return err
	}
	defer drop()
	f, err := os.Open(feedName)
	if err != nil {
		return err
	}
	defer f.Close()
	b.progress("postgres: record: %s events", count(sum.Events))
	start := time.Now()
	got, errs := feed.ApplyFile(ctx, ledger.New(st, nil), feedName, f, false)
	elapsed := time.Since(start)
	b.progress("")
	if len(errs) > 0 {
		return fmt.Errorf("record: %w", errs[0])
	}
	rate := float64(got.Applied) / elapsed.Seconds()
	b.add("settle record of a month's feed, one transaction", fmt.Sprintf("%s events/s", count(int(rate))), "", false,
		fmt.Sprintf("(%s events of %s payments in %s: a round trip an event, for its entry)", count(got.Applied), count(n), dur(elapsed)))

	// The journal of the books just recorded, as settle report journal
	// writes it: read in pages of entries in time order, planned on the
	// statistics the record gathered.
	b.progress("postgres: the journal of the recorded month")
	w := &rowCounter{Writer: reports.NewCSVWriter(io.Discard)}
	start = time.Now()
	if err := reports.Journal(ctx, ledger.New(st, nil), reports.Options{}, w); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := w.Close(); err != nil {
		return err
	}
	elapsed = time.Since(start)
	b.progress("")
	rate = float64(w.rows) / elapsed.Seconds()
	b.add("journal report of the recorded month", fmt.Sprintf("%s postings/s", count(int(rate))), "", false,
		fmt.Sprintf("(%s postings in %s)", count(w.rows), dur(elapsed)))

	// settle verify of the same books: one pass over the entries and one
	// over the payments, checked in Go, and the balance transactions'
	// invariants in SQL.
	b.progress("postgres: verify the recorded month")
	start = time.Now()
	vs, err := ledger.New(st, nil).Verify(ctx)
	elapsed = time.Since(start)
	b.progress("")
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if len(vs) > 0 {
		return fmt.Errorf("verify: the recorded month breaks %d invariants, first %s", len(vs), vs[0])
	}
	b.add("verify of the recorded month", dur(elapsed), "", false, fmt.Sprintf("(%s postings)", count(w.rows)))
	return nil
}

// rowCounter counts the rows written through a report Writer.
type rowCounter struct {
	reports.Writer
	rows int
}

func (c *rowCounter) WriteRow(cells []string) error {
	c.rows++
	return c.Writer.WriteRow(cells)
}

// pgImport imports the itemized report as settle import does, then loads
// the stored records as reconciliation does (one provider and grain,
// without raw rows) and matches them against as many generated ledger
// balance transactions.
func (b *bencher) pgImport(ctx context.Context, dbURL string) error {
	name := filepath.Join(b.dir, "pg.itemized.csv")
	b.progress("postgres: import: generating the itemized report")
	if err := writeItemized(name, b.sizes.imported, b.randomIDs); err != nil {
		return err
	}
	defer os.Remove(name)
	st, drop, err := b.pgOpen(ctx, dbURL, 0)
	if err != nil {
		return err
	}
	defer drop()
	b.progress("postgres: import: importing %s MiB", mibN(fileSize(name)))
	start := time.Now()
	stats, problems, err := app.ImportFile(ctx, st, name, app.ImportOptions{Format: importers.FormatStripeItemizedCSV})
	elapsed := time.Since(start)
	b.progress("")
	if err == nil && len(problems) > 0 {
		err = problems[0]
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	rate := float64(stats.Records) / elapsed.Seconds()
	b.add("Stripe itemized CSV import", fmt.Sprintf("%s rows/s", count(int(rate))), "", false,
		fmt.Sprintf("(%s rows in %s to commit: binary COPY to a staging table, then INSERT … SELECT)",
			count(stats.Records), dur(elapsed)))

	b.progress("postgres: loading and matching the records")
	start = time.Now()
	var recs []provider.Record
	if err := st.EachRecord(ctx, provider.RecordFilter{Provider: "stripe", Grain: provider.BalanceGrain, NoRaw: true},
		func(r *provider.Record) error {
			recs = append(recs, *r)
			return nil
		}); err != nil {
		return fmt.Errorf("loading records: %w", err)
	}
	loading := time.Since(start)
	_, bts, _ := generate.Pairs(generate.PairOptions{N: len(recs), DiffRate: 0.001, RandomIDs: b.randomIDs})
	start = time.Now()
	res := reconcile.MatchBalances(recs, bts, nil)
	matching := time.Since(start)
	b.progress("")
	rate = float64(len(recs)) / (loading + matching).Seconds()
	b.add("load records and match them", fmt.Sprintf("%s records/s", count(int(rate))), "", false,
		fmt.Sprintf("(%s records read in %s as reconciliation reads them, then matched in %s against as many balance transactions generated apart, so %s are unmatched: the matcher's cost, not a reconciliation)",
			count(len(recs)), dur(loading), dur(matching), count(len(res.Exceptions()))))
	return nil
}
