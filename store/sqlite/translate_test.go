package sqlite

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// A CHECK that guards against SQLite's silent overflow of an integer sum
// into a real number (typeof(…) = 'integer') reports an amount that
// overflowed; any other CHECK failure is reported as SQLite words it,
// naming the rule, not as an overflow.
func TestTranslateTellsOverflowFromOtherChecks(t *testing.T) {
	db := tempStore(t).DB()
	var id int64
	if err := db.QueryRow(`INSERT INTO accounts (name, type) VALUES ('assets:check', 'asset') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO balances (account_id, currency, posted) VALUES (?, 'usd', ?)`, id, int64(math.MaxInt64)); err != nil {
		t.Fatal(err)
	}
	_, err := db.Exec(`UPDATE balances SET posted = posted + 1 WHERE account_id = ?`, id)
	if got := translate(err); !errors.Is(got, ledger.ErrInvalidAmount) || !strings.Contains(got.Error(), "overflowed") {
		t.Errorf("a balance past the largest integer: %v, want an overflowed amount", got)
	}
	_, err = db.Exec(`INSERT INTO accounts (name, type) VALUES ('assets:odd', 'treasure')`)
	got := translate(err)
	if got == nil || errors.Is(got, ledger.ErrInvalidAmount) || strings.Contains(got.Error(), "overflow") ||
		!strings.Contains(got.Error(), "CHECK constraint failed: type IN") {
		t.Errorf("an account of no known type: %v, want SQLite's CHECK failure naming the rule", got)
	}
}
