package reports

import (
	"context"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// exportHeader is the comment both journal exports start with.
const exportHeader = `settle export of the posted entries of the ledger, in entry order.
Pending entries (authorizations not yet captured) are left out, as they are of
settle's trial balance; the balances at the end are asserted so that the tool
checks them.`

// snapshot is what an export reads before streaming the entries: the
// accounts, the currencies in use and the maintained posted balances.
type snapshot struct {
	accounts   []ledger.Account
	currencies []ledger.Currency
	balances   []ledger.Balance // posted, non-zero, by account then currency
}

func readSnapshot(ctx context.Context, tx ledger.ReadTx, curs *currencies) (*snapshot, error) {
	accts, err := tx.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	bals, err := tx.Balances(ctx, "")
	if err != nil {
		return nil, err
	}
	s := &snapshot{accounts: accts}
	seen := totals{}
	for _, b := range bals {
		seen[b.Currency] = 0
		if b.Posted != 0 {
			s.balances = append(s.balances, b)
		}
	}
	for _, code := range seen.currencies() {
		c, err := curs.get(code)
		if err != nil {
			return nil, err
		}
		s.currencies = append(s.currencies, c)
	}
	return s, nil
}

// eachPosted streams the posted entries of the ledger in order.
func eachPosted(ctx context.Context, tx ledger.ReadTx, fn func(*ledger.Entry) error) error {
	return tx.EachEntry(ctx, ledger.EntryFilter{PostedOnly: true}, fn)
}

// oneLine flattens line breaks and tabs into spaces, since both journal
// formats are line-based.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', '\t', '\v', '\f', '\u2028', '\u2029':
			return ' '
		}
		return r
	}, s)
}

// commentLines prefixes each line of text with a comment marker.
func commentLines(marker, text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		b.WriteString(marker)
		if line != "" {
			b.WriteByte(' ')
			b.WriteString(line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// day returns the UTC date of t.
func day(t time.Time) string { return t.UTC().Format(dateLayout) }
