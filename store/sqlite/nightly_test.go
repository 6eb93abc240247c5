package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
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
	lines := strings.SplitAfter(f.String(), "\n")

	once := tempStore(t)
	if _, errs := feed.ApplyFile(ctx, ledger.New(once, &ledger.Options{Now: now}), "month.jsonl", strings.NewReader(f.String()), false); len(errs) > 0 {
		t.Fatalf("the month at once: %v", errs[0])
	}

	nightly := tempStore(t)
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
		a, b := dumpTable(t, once.DB(), table), dumpTable(t, nightly.DB(), table)
		if a != b {
			t.Errorf("%s differs (%d bytes at once, %d night by night):\n%s", table, len(a), len(b), firstLineDiff(a, b))
		}
	}
}

// dumpTable is every row of table (and its WHERE clause, if any), in the
// order of its first column.
func dumpTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM ` + table + ` ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v ", cols[i], v)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// firstLineDiff shows the first line where two dumps part.
func firstLineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(x), len(y)) {
		if x[i] != y[i] {
			return fmt.Sprintf("line %d:\n  at once:        %s\n  night by night: %s", i+1, x[i], y[i])
		}
	}
	return fmt.Sprintf("%d lines against %d", len(x), len(y))
}
