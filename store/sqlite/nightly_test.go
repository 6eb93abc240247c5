package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/ledger"
)

// A month recorded night by night, each night's file in a transaction of
// its own into the books the nights before left, writes the same rows as
// the month recorded at once into a new database. From the second night on
// no table is empty, so the entries, refunds, disputes and payouts the
// nights add are known new only by what Prefetch found absent (fresh.go),
// and the disputes and payouts they close or pay are the ones it read
// ahead. Each night repeats the last lines of the night before, as a feed
// exported with some overlap would: those are recorded once.
func TestMonthInNightsAsInOne(t *testing.T) {
	ctx := context.Background()
	var f bytes.Buffer
	sum, err := generate.Generate(generate.Options{Payments: 2000, PerDay: 100, TailDays: 25, DiffRate: 0.01,
		StripeDates: true, RandomIDs: true}, generate.Output{Feed: &f})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Refunds == 0 || sum.Disputes == 0 || sum.Payouts == 0 {
		t.Fatalf("the month has %d refunds, %d disputes and %d payouts; want some of each", sum.Refunds, sum.Disputes, sum.Payouts)
	}
	now := func() time.Time { return sum.End }
	dir := t.TempDir()
	lines := strings.SplitAfter(f.String(), "\n")

	once := open(t, filepath.Join(dir, "once.db"))
	defer once.Close()
	if _, errs := feed.ApplyFile(ctx, ledger.New(once, &ledger.Options{Now: now}), "month.jsonl", strings.NewReader(f.String()), false); len(errs) > 0 {
		t.Fatalf("the month at once: %v", errs[0])
	}

	nightly := open(t, filepath.Join(dir, "nightly.db"))
	defer nightly.Close()
	books := ledger.New(nightly, &ledger.Options{Now: now})
	const nights, overlap = 12, 40
	per := len(lines)/nights + 1
	recorded, again := 0, 0
	for from := 0; from < len(lines); from += per {
		start := max(0, from-overlap)
		night := strings.Join(lines[start:min(len(lines), from+per)], "")
		s, errs := feed.ApplyFile(ctx, books, fmt.Sprintf("night%d.jsonl", from/per), strings.NewReader(night), false)
		if len(errs) > 0 {
			t.Fatalf("night %d: %v", from/per, errs[0])
		}
		recorded, again = recorded+s.Applied, again+s.Replayed
	}
	if recorded != sum.Events || again == 0 {
		t.Fatalf("the nights recorded %d events and found %d recorded already; want %d, and some", recorded, again, sum.Events)
	}

	// Balances are compared where they are not zero: a night that moves an
	// account's money in and out again leaves a row of zeros.
	for _, table := range []string{"entries", "payments", "refunds", "disputes", "payouts", "bt_core", "bt_settlements",
		"requests", "accounts", "balances WHERE posted <> 0 OR pending <> 0"} {
		query := `SELECT * FROM ` + table + ` ORDER BY 1`
		a, b := dumpRows(t, once.DB(), query), dumpRows(t, nightly.DB(), query)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs (%d rows at once, %d night by night): %s", table, len(a), len(b), firstRowDiff(a, b))
		}
	}
}

// firstRowDiff shows the first row where two dumps (dumpRows) part.
func firstRowDiff(a, b [][]string) string {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Sprintf("row %d:\n  at once:        %v\n  night by night: %v", i+1, a[i], b[i])
		}
	}
	return "one has more rows"
}
