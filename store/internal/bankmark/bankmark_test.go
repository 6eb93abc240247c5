package bankmark

import (
	"slices"
	"testing"

	"github.com/settlehq/settle/ledger"
)

func TestMarked(t *testing.T) {
	mapped := []string{"assets:bank:operating", "assets:bank:reserve"}
	for account, want := range map[string]bool{
		"assets:bank:operating": true, "assets:bank:operating:fees": true, "assets:bank:reserve": true,
		"assets:bank": false, "assets:bank:operatingx": false, "income:sales": false,
	} {
		e := &ledger.Entry{Postings: []ledger.Posting{{Account: "income:sales"}, {Account: account}}}
		if got := Marked(e, mapped); got != want {
			t.Errorf("entry to %s marked %v, want %v", account, got, want)
		}
		if Marked(e, nil) || Marked(e, []string{""}) {
			t.Errorf("entry to %s marked with no mapping", account)
		}
	}
}

// Parse gives a non-nil list even for none: the store takes nil for "not
// read yet".
func TestParse(t *testing.T) {
	for setting, want := range map[string][]string{"": {}, "assets:bank:operating": {"assets:bank:operating"},
		"assets:bank:a\nassets:bank:b": {"assets:bank:a", "assets:bank:b"}} {
		if got := Parse(setting); !slices.Equal(got, want) || got == nil {
			t.Errorf("Parse(%q) = %q, want %q", setting, got, want)
		}
	}
}
