package importers

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// Mapping describes a CSV export that has no reader of its own, in the
// manner of hledger's CSV rules. It is written as a small text file of
// "key value" lines; blank lines and lines starting with # or ; are
// comments. The value is the rest of the line, so column names may contain
// spaces (and #); column names match the header case-insensitively.
//
//	# acme.rules: Acme Pay's settlement report
//	provider     acme
//	# grain: balance or payment; units: major (12.34) or minor (1234)
//	grain        balance
//	units        major
//	# separator: one character or "tab"; default ","
//	separator    ,
//	id           Transaction ID
//	type         Type
//	category     Category
//	amount       Gross
//	fee          Fee
//	net          Net
//	currency     Currency         # or: fixed-currency usd
//	date         Created
//	# date-format: a Go layout, unix or unix_ms; default RFC 3339
//	date-format  2006-01-02 15:04:05
//	available-on Available On
//	source       Source
//	payment      Payment ID
//	status       Status
//	payout       Payout ID
//	description  Description
//
// Payment-grain mappings may also name captured, refunded and disputed
// columns (not net). The provider name is normalized by
// ledger.NormalizeProvider ("Acme" is acme; "acme.pay" is refused). Required: provider, grain, units, id, amount, date, and
// currency or fixed-currency. Keys may be written with - or _.
type Mapping struct {
	Name          string // the mapping file's name, for errors
	Provider      string
	Grain         provider.Grain
	Units         string // "major" or "minor"
	Comma         rune
	FixedCurrency string
	DateFormat    string // a Go layout, "unix" or "unix_ms"

	// Column names, lower case; empty when not mapped.
	ID, Type, Category, Amount, Fee, Net, Currency, Date, AvailableOn string
	Source, Payment, Status, Payout, Description                      string
	Captured, Refunded, Disputed                                      string
}

// column returns the address of the column field for a key, or nil.
func (m *Mapping) column(key string) *string {
	switch key {
	case "id":
		return &m.ID
	case "type":
		return &m.Type
	case "category":
		return &m.Category
	case "amount":
		return &m.Amount
	case "fee":
		return &m.Fee
	case "net":
		return &m.Net
	case "currency":
		return &m.Currency
	case "date":
		return &m.Date
	case "available-on":
		return &m.AvailableOn
	case "source":
		return &m.Source
	case "payment":
		return &m.Payment
	case "status":
		return &m.Status
	case "payout":
		return &m.Payout
	case "description":
		return &m.Description
	case "captured":
		return &m.Captured
	case "refunded":
		return &m.Refunded
	case "disputed":
		return &m.Disputed
	}
	return nil
}

// ParseMapping reads a mapping file. Problems are *ParseError values naming
// the file, the line and the key, wrapping ErrBadMapping.
func ParseMapping(name string, r io.Reader) (*Mapping, error) {
	m := &Mapping{Name: name, Comma: ','}
	seen := map[string]int{}
	fail := func(line int, key, format string, args ...any) error {
		return &ParseError{File: name, Line: line, Column: key, Err: fmt.Errorf("%w: "+format, append([]any{ErrBadMapping}, args...)...)}
	}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		if !utf8.Valid(sc.Bytes()) {
			return nil, fail(line, "", "the line is not UTF-8 text")
		}
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if text == "" || text[0] == '#' || text[0] == ';' {
			continue
		}
		key, value := text, ""
		if i := strings.IndexAny(text, " \t"); i >= 0 {
			key, value = text[:i], strings.TrimSpace(text[i:])
		}
		key = strings.ReplaceAll(strings.ToLower(key), "_", "-")
		if value == "" {
			return nil, fail(line, key, "%q has no value", key)
		}
		if prev, dup := seen[key]; dup {
			return nil, fail(line, key, "%q is already set on line %d", key, prev)
		}
		seen[key] = line
		switch key {
		case "provider":
			p, err := ledger.NormalizeProvider(value)
			if err != nil {
				return nil, &ParseError{File: name, Line: line, Column: key, Err: fmt.Errorf("%w: %w", ErrBadMapping, err)}
			}
			m.Provider = p
		case "grain":
			switch provider.Grain(value) {
			case provider.BalanceGrain, provider.PaymentGrain:
				m.Grain = provider.Grain(value)
			default:
				return nil, fail(line, key, "grain %q is not balance or payment", value)
			}
		case "units":
			if value != "major" && value != "minor" {
				return nil, fail(line, key, "units %q is not major or minor", value)
			}
			m.Units = value
		case "separator":
			switch {
			case value == "tab" || value == `\t`:
				m.Comma = '\t'
			case len([]rune(value)) == 1 && value != `"` && value != "\r" && value != "\n":
				m.Comma = []rune(value)[0]
			default:
				return nil, fail(line, key, "separator %q is not one character or tab", value)
			}
		case "fixed-currency":
			m.FixedCurrency = strings.ToLower(value)
		case "date-format":
			if err := checkLayout(value); err != nil {
				return nil, fail(line, key, "%v", err)
			}
			m.DateFormat = value
		default:
			col := m.column(key)
			if col == nil {
				return nil, fail(line, key, "unknown key %q", key)
			}
			*col = strings.ToLower(value)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fail(line, "", "%v", err)
	}
	for _, k := range []string{"provider", "grain", "units", "id", "amount", "date"} {
		if _, ok := seen[k]; !ok {
			return nil, fail(line+1, k, "%q is required", k)
		}
	}
	if (m.Currency == "") == (m.FixedCurrency == "") {
		return nil, fail(line+1, "currency", "set exactly one of currency (a column) and fixed-currency (a code)")
	}
	wrong := []string{"captured", "refunded", "disputed"}
	if m.Grain == provider.PaymentGrain {
		wrong = []string{"net"}
	}
	for _, k := range wrong {
		if l, ok := seen[k]; ok {
			return nil, fail(l, k, "%q does not apply to %s grain", k, m.Grain)
		}
	}
	return m, nil
}

// checkLayout accepts unix, unix_ms and Go layouts that can read back a time
// they wrote, which catches layouts that are not layouts at all.
func checkLayout(layout string) error {
	if layout == "unix" || layout == "unix_ms" {
		return nil
	}
	ref := time.Date(2021, 3, 14, 15, 9, 26, 0, time.UTC)
	s := ref.Format(layout)
	t, err := time.Parse(layout, s)
	if err != nil || s == layout || t.Year() != 2021 {
		return fmt.Errorf("date-format %q is not a Go time layout (such as 2006-01-02 15:04:05), unix or unix_ms", layout)
	}
	return nil
}
