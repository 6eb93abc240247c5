package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A capture presented in EUR and settled in USD, recorded from the feed,
// valued in USD at a rates file; and the flags' usage errors.
func TestReportValueIn(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "books.db")
	feed := filepath.Join(dir, "events.jsonl")
	rates := filepath.Join(dir, "rates.csv")
	if err := os.WriteFile(feed, []byte(`{"id":"e1","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p1","provider":"stripe","provider_ref":"ch_1","currency":"eur","amount":"100.00","fees":[{"type":"stripe_fee","amount":"3.44"}],"settlement":{"amount":"108.12","currency":"usd"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rates, []byte("date,pair,rate\n2026-11-01,EUR/USD,1.09\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"--db", db, "record", feed}, &out, &errOut); code != 0 {
		t.Fatalf("record: exit %d: %s", code, errOut.String())
	}
	out.Reset()
	if code := run([]string{"--db", db, "report", "trial-balance", "--value-in", "usd", "--rates", rates, "--format", "csv"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	// equity:conversion holds EUR 100.00 (109.00 USD at 1.09) and USD −108.12.
	want := "account,type,currency,debit,credit\n" +
		"assets:stripe:pending,asset,USD,104.68,\n" +
		"equity:conversion,equity,USD,0.88,\n" +
		"expenses:fees:stripe_fee,expense,USD,3.44,\n" +
		"income:sales,income,USD,,109.00\n" +
		"total,,USD,109.00,109.00\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if code := run([]string{"--db", db, "export", "hledger", "--rates", rates}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "P 2026-11-01 EUR 1.09 USD\n") {
		t.Errorf("export: exit %d, %s", code, out.String())
	}
	for _, args := range [][]string{
		{"report", "trial-balance", "--value-in", "usd"},
		{"report", "journal", "--value-in", "usd", "--rates", rates},
		{"report", "trial-balance", "--value-in", "usd", "--rates", filepath.Join(dir, "none.csv")},
	} {
		errOut.Reset()
		if code := run(append([]string{"--db", db}, args...), &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errOut.String())
		}
	}
}
