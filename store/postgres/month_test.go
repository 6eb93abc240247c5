package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reports"
	"github.com/settlehq/settle/store/postgres"
	"github.com/settlehq/settle/store/sqlite"
)

// A generated month — captures, refunds, disputes, payouts, foreign
// payments, Stripe's own settlement dates and injected differences — is
// recorded, imported and reconciled on SQLite and on PostgreSQL, and gives
// the same reconciliation counts, exceptions, reports and exports on both.
func TestGeneratedMonthSameOnBothStores(t *testing.T) {
	url := serverURL(t)
	ctx := context.Background()
	o := generate.Options{Payments: 3000, PerDay: 100, Seed: 11, TailDays: 20, DiffRate: 0.02, StripeDates: true, ForeignShare: 0.1}
	var fd, csv bytes.Buffer
	sum, err := generate.Generate(o, generate.Output{Feed: &fd, ItemizedCSV: &csv})
	if err != nil {
		t.Fatal(err)
	}
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "books.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := postgres.Open(ctx, url, &postgres.Options{Schema: testSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()

	onSQLite := month(t, lite, sum, fd.Bytes(), csv.Bytes())
	onPostgres := month(t, pg, sum, fd.Bytes(), csv.Bytes())
	for _, name := range []string{"runs", "exceptions", "trial-balance", "journal", "balance-transactions",
		"payout-reconciliation", "reconciliation-summary", "open-exceptions", "hledger", "beancount"} {
		a, b := onSQLite[name], onPostgres[name]
		if a == "" {
			t.Errorf("%s: empty on SQLite", name)
		}
		if a != b {
			t.Errorf("%s differs (%d bytes on SQLite, %d on PostgreSQL):\n%s", name, len(a), len(b), firstDiff(a, b))
		}
	}
	t.Logf("%d events, %d bytes of itemized CSV; %s", sum.Events, csv.Len(), onSQLite["runs"])
}

// month records the feed, makes funds available, imports the export,
// reconciles every scope, and returns what each report and export wrote.
func month(t *testing.T, st app.Store, sum *generate.Summary, fd, csv []byte) map[string]string {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return sum.End }
	l := ledger.New(st, &ledger.Options{Now: now})
	if _, errs := feed.ApplyFile(ctx, l, "feed.jsonl", bytes.NewReader(fd), false); len(errs) > 0 {
		t.Fatalf("recording: %v", errs)
	}
	if _, err := l.MakeAvailable(ctx, sum.End); err != nil {
		t.Fatal(err)
	}
	if _, problems, err := app.Import(ctx, st, "itemized.csv", bytes.NewReader(csv), app.ImportOptions{}); err != nil || len(problems) > 0 {
		t.Fatalf("importing: %v %v", err, problems)
	}
	scopes, err := app.Scopes(ctx, st, "", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, sc := range scopes {
		rep, err := app.Reconcile(ctx, st, l, sc, &app.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		r := rep.Run
		out["runs"] += fmt.Sprintf("%s %s: %+v adopted=%d opened=%d closed=%d digest=%s\n", r.Provider, r.Grain, r.Summary,
			r.Adopted, r.Opened, r.Closed, r.InputsDigest)
	}
	exc, err := st.Exceptions(ctx, reconcile.ExceptionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exc {
		out["exceptions"] += fmt.Sprintf("%d %s %s %s %s %s %d %v\n", e.ID, e.Kind, e.Subject, e.ProviderID, e.LedgerID, e.Currency, e.Amount, e.Diffs)
	}
	for _, rp := range app.Reports(st) {
		switch rp.Name {
		case "trial-balance", "journal", "balance-transactions", "payout-reconciliation", "reconciliation-summary", "open-exceptions":
		default:
			continue
		}
		var b bytes.Buffer
		w := reports.NewCSVWriter(&b)
		if err := rp.Run(ctx, l, reports.Options{}, w); err != nil {
			t.Fatalf("%s: %v", rp.Name, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out[rp.Name] = b.String()
	}
	var h, bc bytes.Buffer
	if err := reports.ExportHledger(ctx, l, &h); err != nil {
		t.Fatal(err)
	}
	if err := reports.ExportBeancount(ctx, l, &bc); err != nil {
		t.Fatal(err)
	}
	out["hledger"], out["beancount"] = h.String(), bc.String()
	if vs, err := l.Verify(ctx); err != nil || len(vs) > 0 {
		t.Errorf("verify: %v %v", vs, err)
	}
	return out
}

// firstDiff shows where two texts part.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return fmt.Sprintf("at byte %d:\n--- SQLite: %q\n--- PostgreSQL: %q", i, a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
}
