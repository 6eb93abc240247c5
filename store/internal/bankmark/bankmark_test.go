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

func TestSettingRoundTrip(t *testing.T) {
	for _, names := range [][]string{{}, {"assets:bank:operating"}, {"assets:bank:a", "assets:bank:b"}} {
		if got := Parse(Setting(names)); !slices.Equal(got, names) {
			t.Errorf("Parse(Setting(%q)) = %q", names, got)
		}
	}
}
