package importers

import (
	"errors"
	"strings"
	"testing"

	"github.com/settlehq/settle/provider"
)

func TestParseMappingErrors(t *testing.T) {
	base := "provider p\ngrain balance\nunits major\nid ID\namount Amount\ndate Date\ncurrency Currency\n"
	cases := []struct {
		name, text string
		line       int
		key        string
	}{
		{"unknown key", "provider p\n# comment\nfoo bar\n", 3, "foo"},
		{"no value", "provider\n", 1, "provider"},
		{"duplicate", "provider p\n\nprovider q\n", 3, "provider"},
		{"bad grain", "grain daily\n", 1, "grain"},
		{"bad units", "units cents\n", 1, "units"},
		{"bad separator", "separator ;;\n", 1, "separator"},
		{"bad layout", "date-format DD/MM/YYYY\n", 1, "date-format"},
		{"missing required", "provider p\ngrain balance\n", 3, "units"},
		{"both currencies", base + "fixed-currency usd\n", 9, "currency"},
		{"captured on balance grain", base + "captured Cap\n", 8, "captured"},
		{"provider that would share accounts", "# acme\nprovider acme.pay\n", 2, "provider"},
		{"provider with a space", "provider acme pay\n", 1, "provider"},
	}
	for _, c := range cases {
		_, err := ParseMapping("m.rules", strings.NewReader(c.text))
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrBadMapping) || pe.Line != c.line || pe.Column != c.key || pe.File != "m.rules" {
			t.Errorf("%s: %v; want m.rules line %d key %s", c.name, err, c.line, c.key)
		}
	}
	m, err := ParseMapping("m.rules", strings.NewReader(strings.Replace(base, "provider p", "provider  Acme_Pay ", 1)+"separator tab\ndate_format unix_ms\npayout Settlement #\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Comma != '\t' || m.DateFormat != "unix_ms" || m.Payout != "settlement #" || m.Grain != provider.BalanceGrain || m.Provider != "acme_pay" {
		t.Errorf("parsed %+v", m)
	}
}

func TestGenericCSVMissingColumn(t *testing.T) {
	m, err := ParseMapping("m.rules", strings.NewReader("provider p\ngrain balance\nunits minor\nid ID\namount Amount\ndate Date\nfixed-currency usd\nfee Fee\n"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := NewReader(FormatGenericCSV, "x.csv", strings.NewReader("id,amount,date\n1,100,2024-01-01T00:00:00Z\n"), &Options{Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rd.Read()
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 || pe.Column != "fee" || !errors.Is(err, ErrMissingColumn) {
		t.Errorf("got %v", err)
	}
	m.FixedCurrency = "zzz"
	if _, err := NewReader(FormatGenericCSV, "x.csv", strings.NewReader(""), &Options{Mapping: m}); err == nil {
		t.Error("unknown fixed currency accepted")
	}
}
