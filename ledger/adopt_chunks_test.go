package ledger_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// AdoptDates works in chunks; where a chunk ends must not change the
// books. The same captures, some made available at their estimated date,
// get the same adoptions — dates before and after the estimate, before
// and after the adoption's time, one transaction twice in the list, in
// different chunks — once in chunks of three and once in one chunk: the
// two databases must hold the same rows, and both verify.
func TestAdoptDatesChunksDoNotChangeTheBooks(t *testing.T) {
	run := func(chunk int) (*env, []ledger.SettlementChange) {
		e := newEnv(t, nil)
		for i := range 10 {
			must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: fmt.Sprintf("cap-%d", i), PaymentID: fmt.Sprintf("pay_%d", i),
				Provider: "stripe", Currency: "usd", Amount: dec("10.00"), Fees: []ledger.Fee{{Amount: dec("0.59")}},
				At: t0.Add(time.Duration(i) * time.Hour)})).ok(t)
		}
		// The first five are due (estimated two days on) and made available.
		must(e.l.MakeAvailable(e.ctx, t0.Add(52*time.Hour))).ok(t)
		var as []ledger.Adoption
		for i, bt := range e.bts(t) {
			shift := time.Duration(i%3-1) * 30 * time.Hour // a day and a bit earlier, the same (no change), or later
			as = append(as, ledger.Adoption{BalanceTransactionID: bt.ID, AvailableOn: bt.AvailableOn.Add(shift)})
		}
		// The second transaction again, in a later chunk, with yet another date.
		as = append(as, ledger.Adoption{BalanceTransactionID: as[1].BalanceTransactionID, AvailableOn: as[1].AvailableOn.Add(5 * time.Hour)})
		defer ledger.SetAdoptionChunk(chunk)()
		changed := must(e.l.AdoptDates(e.ctx, as, t0.Add(60*time.Hour))).ok(t)
		e.verify(t)
		return e, changed
	}
	small, smallChanged := run(3)
	whole, wholeChanged := run(4096)
	if len(smallChanged) == 0 {
		t.Fatal("nothing adopted")
	}
	if fmt.Sprint(smallChanged) != fmt.Sprint(wholeChanged) {
		t.Errorf("changes in chunks of 3:\n%v\nin one chunk:\n%v", smallChanged, wholeChanged)
	}
	if a, b := booksDump(t, small), booksDump(t, whole); a != b {
		t.Errorf("the books differ by chunk size:\n%s", diffDumps(a, b))
	}
}

// booksDump is dump without schema_migrations, whose times are when each
// database was created.
func booksDump(t *testing.T, e *env) string {
	t.Helper()
	var b strings.Builder
	skip := false
	for _, line := range strings.SplitAfter(dump(t, e.store.DB()), "\n") {
		if strings.HasPrefix(line, "== ") {
			skip = strings.HasPrefix(line, "== schema_migrations ")
		}
		if !skip {
			b.WriteString(line)
		}
	}
	return b.String()
}
