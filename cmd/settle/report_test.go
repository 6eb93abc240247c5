package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// bookFew books a capture with a fee in USD and JPY, a refund and an owner
// contribution through the library, on the database at path.
func bookFew(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := ledger.New(st, nil)
	at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	d := decimal.RequireFromString
	if _, err := l.Capture(ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", ProviderRef: "ch_1",
		Currency: "usd", Amount: d("29.99"), Fees: []ledger.Fee{{Type: "stripe_fee", Amount: d("1.17")}}, At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Capture(ctx, ledger.CaptureRequest{Key: "c2", PaymentID: "p2", Provider: "stripe", ProviderRef: "ch_2",
		Currency: "jpy", Amount: d("5000"), Fees: []ledger.Fee{{Type: "stripe_fee", Amount: d("180")}}, At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.MakeAvailable(ctx, at.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Refund(ctx, ledger.RefundRequest{Key: "r1", PaymentID: "p1", RefundID: "re_1",
		Amount: d("10.00"), At: at.Add(96 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "owner", OccurredAt: at, Description: "=owner funds",
		Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "500.00"), ledger.Credit("equity:owner", "usd", "500.00")}}); err != nil {
		t.Fatal(err)
	}
}

func TestReportTrialBalanceCSV(t *testing.T) {
	db := filepath.Join(t.TempDir(), "books.db")
	bookFew(t, db)
	var out, errOut bytes.Buffer
	code := run([]string{"--db", db, "report", "trial-balance", "--format", "csv"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := `account,type,currency,debit,credit
assets:bank:ops,asset,USD,500.00,
assets:stripe:available,asset,JPY,4820,
assets:stripe:available,asset,USD,18.82,
equity:owner,equity,USD,,500.00
expenses:fees:stripe_fee,expense,JPY,180,
expenses:fees:stripe_fee,expense,USD,1.17,
income:refunds,income,USD,10.00,
income:sales,income,JPY,,5000
income:sales,income,USD,,29.99
total,,JPY,5000,5000
total,,USD,529.99,529.99
`
	if out.String() != want {
		t.Errorf("trial balance:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "books.db")
	bookFew(t, db)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"table by default", []string{"report", "trial-balance"}, 0, "----"},
		{"json", []string{"report", "journal", "--format", "json", "--from", "2026-11-02", "--to", "2026-11-03"}, 0, `"description":"=owner funds"`},
		{"statement", []string{"report", "account-statement", "--account", "assets:stripe:available", "--format", "csv"}, 0, ",10.00,18.82\n"},
		{"neutralized", []string{"report", "journal", "--format", "csv"}, 0, "'=owner funds"},
		{"stripe layout", []string{"report", "balance-transactions", "--format", "csv"}, 0, "2026-11-02 09:30:00,2026-11-04 00:00:00,usd,29.99,1.17,28.82,charge,ch_1"},
		{"unknown report", []string{"report", "profit"}, 2, "trial-balance, journal"},
		{"no report", []string{"report"}, 2, "trial-balance"},
		{"statement without account", []string{"report", "account-statement"}, 2, "--account"},
		{"bad format", []string{"report", "journal", "--format", "xlsx"}, 2, "--format"},
		{"bad date", []string{"report", "journal", "--from", "yesterday"}, 2, "--from"},
		{"empty period", []string{"report", "journal", "--from", "2026-11-03", "--to", "2026-11-03"}, 2, "not before"},
		{"flag the report does not take", []string{"report", "journal", "--as-of", "2026-11-02"}, 2, "does not take --as-of"},
		{"unknown flag", []string{"report", "journal", "--since", "2026-01-01"}, 2, "--since"},
		{"export unknown", []string{"export", "gnucash"}, 2, "hledger"},
		{"export hledger", []string{"export", "hledger"}, 0, "    assets:stripe:available  0 USD = 18.82 USD"},
		{"export beancount", []string{"export", "beancount"}, 0, "Assets:Stripe:Available  18.82 USD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"--db", db}, tt.args...), &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tt.code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String()+errOut.String(), tt.contains) {
				t.Errorf("output lacks %q:\n%s%s", tt.contains, out.String(), errOut.String())
			}
		})
	}
}

func TestReportOutFileIsCSV(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "books.db")
	bookFew(t, db)
	path := filepath.Join(dir, "tb.csv")
	var out, errOut bytes.Buffer
	if code := run([]string{"--db", db, "report", "trial-balance", "--as-of", "2026-11-02", "--out", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// As of the end of 2 November, funds are still pending and the refund
	// (6 November) has not happened.
	want := map[string]bool{"assets:stripe:pending USD 28.82": true, "total USD 529.99": true}
	for _, r := range recs[1:] {
		delete(want, r[0]+" "+r[2]+" "+r[3])
		if r[0] == "income:refunds" {
			t.Errorf("refund of 6 November in a trial balance as of 2 November: %q", r)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing rows %v in:\n%s", want, b)
	}
}
