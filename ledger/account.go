package ledger

import (
	"fmt"
	"strings"
	"sync"
)

// AccountType fixes an account's normal balance.
type AccountType string

// The five account types of double-entry bookkeeping.
const (
	Asset     AccountType = "asset"
	Liability AccountType = "liability"
	Equity    AccountType = "equity"
	Income    AccountType = "income"
	Expense   AccountType = "expense"
)

// DebitNormal reports whether accounts of this type normally carry a debit
// balance (assets and expenses) rather than a credit balance.
func (t AccountType) DebitNormal() bool { return t == Asset || t == Expense }

// roots maps the first segment of an account name to its type.
var roots = map[string]AccountType{
	"assets":      Asset,
	"liabilities": Liability,
	"equity":      Equity,
	"income":      Income,
	"expenses":    Expense,
}

// Account is a named place that holds one balance per currency. Names are
// colon-separated paths whose first segment gives the type:
// assets, liabilities, equity, income or expenses.
type Account struct {
	ID       int64
	Name     string
	Type     AccountType
	Metadata map[string]string
}

// AccountTypeOf validates an account name and returns its type. Segments are
// lowercase letters, digits, '_' and '-'; the first segment is the root.
func AccountTypeOf(name string) (AccountType, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty name", ErrInvalidAccount)
	}
	root, _, _ := strings.Cut(name, ":")
	t, ok := roots[root]
	if !ok {
		return "", fmt.Errorf("%w: %q must start with assets, liabilities, equity, income or expenses", ErrInvalidAccount, name)
	}
	// One pass over the bytes, segment by segment: this runs for every
	// posting of a bulk load.
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != ':' {
			if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				seg, _, _ := strings.Cut(name[start:], ":")
				return "", fmt.Errorf("%w: %q: segment %q may hold only a-z, 0-9, '_' and '-'", ErrInvalidAccount, name, seg)
			}
			continue
		}
		if i == start {
			return "", fmt.Errorf("%w: %q has an empty segment", ErrInvalidAccount, name)
		}
		start = i + 1
	}
	return t, nil
}

// Slug turns a free-form name (a provider, a fee type) into one valid account
// segment: lowercase, with anything else replaced by '_'.
func Slug(s string) string {
	if isSlug(s) {
		return s // what slugRunes would make of it, without a copy
	}
	return slugRunes(s)
}

// slugRunes is Slug rune by rune.
func slugRunes(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// isSlug reports whether s is non-empty and made only of the characters
// Slug keeps.
func isSlug(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// Chart names the accounts the payment lifecycle posts to. Provider-specific
// names contain "{provider}" and fee accounts "{type}"; the zero value of any
// field takes its default from DefaultChart. An embedding application maps
// them to its own chart, for example Sales to "assets:receivables".
type Chart struct {
	Pending      string // assets:{provider}:pending
	Available    string // assets:{provider}:available
	Sales        string // income:sales
	Refunds      string // income:refunds
	Fees         string // expenses:fees:{type}
	DisputesOpen string // assets:disputes:open
	Chargebacks  string // expenses:chargebacks
	InTransit    string // assets:payouts:in_transit
	Bank         string // assets:bank:{provider}
	// Conversion is the trading account a movement crosses when the
	// provider settles it in another currency than the customer paid in
	// (see fx.go); FX takes realized exchange gains (credits) and losses
	// (debits).
	Conversion string // equity:conversion
	FX         string // income:fx
}

// DefaultChart is the chart of the lifecycle table in docs/architecture.md.
var DefaultChart = Chart{
	Pending:      "assets:{provider}:pending",
	Available:    "assets:{provider}:available",
	Sales:        "income:sales",
	Refunds:      "income:refunds",
	Fees:         "expenses:fees:{type}",
	DisputesOpen: "assets:disputes:open",
	Chargebacks:  "expenses:chargebacks",
	InTransit:    "assets:payouts:in_transit",
	Bank:         "assets:bank:{provider}",
	Conversion:   "equity:conversion",
	FX:           "income:fx",
}

func (c Chart) withDefaults() Chart {
	d := DefaultChart
	pick := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	return Chart{
		Pending:      pick(c.Pending, d.Pending),
		Available:    pick(c.Available, d.Available),
		Sales:        pick(c.Sales, d.Sales),
		Refunds:      pick(c.Refunds, d.Refunds),
		Fees:         pick(c.Fees, d.Fees),
		DisputesOpen: pick(c.DisputesOpen, d.DisputesOpen),
		Chargebacks:  pick(c.Chargebacks, d.Chargebacks),
		InTransit:    pick(c.InTransit, d.InTransit),
		Bank:         pick(c.Bank, d.Bank),
		Conversion:   pick(c.Conversion, d.Conversion),
		FX:           pick(c.FX, d.FX),
	}
}

// fill fills in a template's {provider} and {type}.
//
// Every posting of the payment lifecycle names its account so, three or
// four for each event of a feed: filling the templates in each time, each
// name a new string, took 0.6 s of recording a million payments
// (BENCHMARKS.md, thirty-ninth round). The names made are kept, up to
// maxFilled of them (a chart has a handful of templates, and a book a few
// providers and fee types), and given out again.
func fill(tmpl, provider, typ string) string {
	k := filledKey{tmpl, provider, typ}
	filledMu.RLock()
	s, ok := filled[k]
	filledMu.RUnlock()
	if ok {
		return s
	}
	s = strings.ReplaceAll(strings.ReplaceAll(tmpl, "{provider}", Slug(provider)), "{type}", Slug(typ))
	filledMu.Lock()
	if len(filled) < maxFilled {
		filled[k] = s
	}
	filledMu.Unlock()
	return s
}

// filledKey is what fill was asked.
type filledKey struct{ tmpl, provider, typ string }

// maxFilled is how many names fill keeps: past it, a name is made each time.
const maxFilled = 4096

var (
	filledMu sync.RWMutex
	filled   = map[filledKey]string{}
)
