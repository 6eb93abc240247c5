package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// A missing object's error reads as it did when fmt.Errorf made it, and is
// ledger.ErrNotFound.
func TestMissingError(t *testing.T) {
	err := notFound("payment", `p"1`, sql.ErrNoRows)
	if want := fmt.Errorf("payment %q: %w", `p"1`, ledger.ErrNotFound).Error(); err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	if !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("%v is not ErrNotFound", err)
	}
	if other := errors.New("disk"); notFound("payment", "p1", other) != other {
		t.Error("another error was not passed through")
	}
}
