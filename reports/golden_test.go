package reports_test

import (
	"bytes"
	"context"
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/settlehq/settle/internal/golden"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reports"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/reports")

// goldenDir holds the golden files, at the module's testdata.
var goldenDir = filepath.Join("..", "testdata", "reports")

// checkGolden compares got with the golden file name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join(goldenDir, name+".golden"), got, *update, "./reports")
}

// endOf returns the last instant of the day of t, for inclusive as-of dates.
func endOf(t time.Time) time.Time { return t.AddDate(0, 0, 1).Add(-time.Nanosecond) }

func TestReportsGolden(t *testing.T) {
	ctx := context.Background()
	l := fixtureLedger(t)
	tests := []struct {
		golden string
		report string
		format reports.Format
		opts   reports.Options
	}{
		{"trial-balance.csv", "trial-balance", reports.CSV, reports.Options{}},
		{"trial-balance.json", "trial-balance", reports.JSON, reports.Options{}},
		{"trial-balance.table", "trial-balance", reports.Table, reports.Options{}},
		{"trial-balance-as-of.csv", "trial-balance", reports.CSV, reports.Options{AsOf: endOf(at(3, 0))}},
		{"journal.csv", "journal", reports.CSV, reports.Options{}},
		{"journal.table", "journal", reports.Table, reports.Options{}},
		{"journal-period.json", "journal", reports.JSON, reports.Options{From: at(1, 0), To: at(5, 0)}},
		{"account-statement.csv", "account-statement", reports.CSV, reports.Options{Account: "assets:stripe:available"}},
		{"account-statement-from.csv", "account-statement", reports.CSV, reports.Options{Account: "assets:stripe", From: at(4, 0)}},
		{"account-statement-income.csv", "account-statement", reports.CSV, reports.Options{Account: "income"}},
		{"balance-sheet.csv", "balance-sheet", reports.CSV, reports.Options{}},
		{"balance-sheet.table", "balance-sheet", reports.Table, reports.Options{}},
		{"balance-sheet-as-of.csv", "balance-sheet", reports.CSV, reports.Options{AsOf: endOf(at(3, 0))}},
		{"income-statement.csv", "income-statement", reports.CSV, reports.Options{}},
		{"income-statement-period.csv", "income-statement", reports.CSV, reports.Options{From: at(4, 0), To: at(10, 0)}},
		{"balance-transactions.csv", "balance-transactions", reports.CSV, reports.Options{}},
		{"balance-transactions-stripe.csv", "balance-transactions", reports.CSV, reports.Options{Provider: "stripe", From: at(4, 0)}},
		{"payout-reconciliation.csv", "payout-reconciliation", reports.CSV, reports.Options{}},
		{"payout-reconciliation.table", "payout-reconciliation", reports.Table, reports.Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			r, ok := reports.Find(tt.report)
			if !ok {
				t.Fatalf("no report %q", tt.report)
			}
			var buf bytes.Buffer
			w, err := reports.NewWriter(&buf, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Run(ctx, l, tt.opts, w); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, buf.Bytes())
		})
	}
}

func TestExportsGolden(t *testing.T) {
	ctx := context.Background()
	l := fixtureLedger(t)
	for _, tt := range []struct {
		golden string
		export func(context.Context, *ledger.Ledger, *bytes.Buffer) error
	}{
		{"export.hledger", func(ctx context.Context, l *ledger.Ledger, b *bytes.Buffer) error {
			return reports.ExportHledger(ctx, l, b)
		}},
		{"export.beancount", func(ctx context.Context, l *ledger.Ledger, b *bytes.Buffer) error {
			return reports.ExportBeancount(ctx, l, b)
		}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.export(ctx, l, &buf); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, buf.Bytes())
		})
	}
}
