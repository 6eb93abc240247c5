package reports_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reports"
)

func TestReadRates(t *testing.T) {
	rs, err := reports.ReadRates("rates.csv", strings.NewReader("date,pair,rate\n"+
		"2026-01-02,EUR/USD,1.10\n2026-01-01,eurusd,1.08\n2026-01-03,USD-JPY,150\n2026-01-02,EUR/USD,1.11\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		base, quote string
		on          time.Time
		want        string
		ok          bool
	}{
		{"eur", "usd", day(1), "1.08", true},
		{"eur", "usd", day(2), "1.11", true}, // the later line of a day wins
		{"eur", "usd", day(9), "1.11", true},
		{"eur", "usd", time.Time{}, "1.11", true},
		{"eur", "usd", day(0), "", false},
		{"jpy", "usd", day(3), "0.0066666666666666666666666667", true}, // inverted
		{"usd", "usd", day(1), "1", true},
		{"gbp", "usd", day(3), "", false},
	} {
		got, ok := rs.On(c.base, c.quote, c.on)
		if ok != c.ok || (ok && got.String() != c.want) {
			t.Errorf("%s/%s on %s: %s %v, want %s %v", c.base, c.quote, c.on.Format(time.DateOnly), got, ok, c.want, c.ok)
		}
	}
	if _, err := reports.ReadRates("b.csv", strings.NewReader("date,base,quote,rate\n2026-01-01,EUR,USD,1.08\n"), nil); err != nil {
		t.Errorf("base and quote columns: %v", err)
	}
	for _, bad := range []struct{ in, want string }{
		{"day,pair,rate\n", "b.csv:1: invalid rates file: the header needs"},
		{"date,pair,rate\n2026-13-01,EUR/USD,1\n", "b.csv:2: invalid rates file: date"},
		{"date,pair,rate\n2026-01-01,EUR/USD,-1\n", `b.csv:2: invalid rates file: rate "-1" is not a positive decimal`},
		{"date,pair,rate\n2026-01-01,EUR/USD,1e3\n", `b.csv:2: invalid rates file: rate "1e3" is not a positive decimal`},
		{"date,pair,rate\n2026-01-01,EUR/XXX,1\n", "b.csv:2: invalid rates file: unknown currency"},
		{"date,pair,rate\n2026-01-01,EUR/EUR,1\n", "b.csv:2: invalid rates file: a rate of EUR in itself"},
		{"date,pair,rate\n2026-01-01,EURO,1\n", `b.csv:2: invalid rates file: pair "EURO" is not like EUR/USD`},
	} {
		_, err := reports.ReadRates("b.csv", strings.NewReader(bad.in), nil)
		if !errors.Is(err, reports.ErrBadRates) || !strings.HasPrefix(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %s…", bad.in, err, bad.want)
		}
	}
}

// The valued trial balance converts each account's currencies at the
// day's rates, sums exactly and rounds once, half to even; a currency with
// no rate is refused.
func TestValuedTrialBalance(t *testing.T) {
	l := openLedger(t)
	ctx := context.Background()
	for i, c := range []struct{ cur, amt string }{{"eur", "1.00"}, {"eur", "3.00"}, {"usd", "0.01"}, {"jpy", "1234"}} {
		_, err := l.PostEntry(ctx, ledger.EntryInput{Key: fmt.Sprint("e", i), OccurredAt: at(1, 0), Postings: []ledger.PostingInput{
			ledger.Debit(fmt.Sprint("assets:a", i%2), c.cur, c.amt), ledger.Credit("equity:x", c.cur, c.amt)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	rates, err := reports.ReadRates("r.csv", strings.NewReader("date,base,quote,rate\n2026-01-01,eur,usd,1.005\n2026-01-01,jpy,usd,0.00671234\n"), l)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w, _ := reports.NewWriter(&b, reports.CSV)
	if err := reports.TrialBalance(ctx, l, reports.Options{ValueIn: "USD", Rates: rates}, w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// a0: 1.005 + 0.01 = 1.015 (half to even: 1.02); a1: 3.015 + 8.28302756
	// = 11.29802756; equity:x: −12.31302756. The rows' rounding shows in
	// the totals.
	want := "account,type,currency,debit,credit\nassets:a0,asset,USD,1.02,\nassets:a1,asset,USD,11.30,\nequity:x,equity,USD,,12.31\ntotal,,USD,12.32,12.31\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	none, _ := reports.ReadRates("r.csv", strings.NewReader("date,pair,rate\n2026-01-01,EUR/USD,1.1\n"), l)
	err = reports.TrialBalance(ctx, l, reports.Options{ValueIn: "usd", Rates: none}, w)
	if !errors.Is(err, reports.ErrInvalidOptions) || !strings.Contains(err.Error(), "no JPY rate in USD") {
		t.Errorf("missing rate: %v", err)
	}
}
