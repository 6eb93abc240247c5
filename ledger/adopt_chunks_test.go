package ledger_test

import (
	"errors"
	"fmt"
	"slices"
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

// The next chunk's transactions are read ahead, as the database stood
// before the adoption began; one that an earlier chunk changed must be
// seen as that chunk left it. Every capture's date is adopted, and then
// the first capture's again, in the last chunk: its date is no longer an
// estimate, so the call is refused, as it is when everything is one chunk,
// and the books are left as they were. With the repeat in the second
// chunk instead, the reads ahead are stopped while later chunks are left.
func TestAdoptDatesReadAheadSeesEarlierChunks(t *testing.T) {
	for _, c := range []struct{ chunk, at int }{{3, 10}, {4096, 10}, {3, 4}} {
		chunk := c.chunk
		t.Run(fmt.Sprintf("chunks of %d, again at %d", chunk, c.at), func(t *testing.T) {
			e := newEnv(t, nil)
			for i := range 10 {
				must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: fmt.Sprintf("cap-%d", i), PaymentID: fmt.Sprintf("pay_%d", i),
					Provider: "stripe", Currency: "usd", Amount: dec("10.00"), At: t0.Add(time.Duration(i) * time.Hour)})).ok(t)
			}
			must(e.l.MakeAvailable(e.ctx, t0.Add(52*time.Hour))).ok(t)
			var as []ledger.Adoption
			for _, bt := range e.bts(t) {
				as = append(as, ledger.Adoption{BalanceTransactionID: bt.ID, AvailableOn: bt.AvailableOn.Add(30 * time.Hour)})
			}
			as = slices.Insert(as, c.at, ledger.Adoption{BalanceTransactionID: as[0].BalanceTransactionID,
				AvailableOn: as[0].AvailableOn.Add(time.Hour)})
			before := booksDump(t, e)
			defer ledger.SetAdoptionChunk(chunk)()
			_, err := e.l.AdoptDates(e.ctx, as, t0.Add(60*time.Hour))
			if !errors.Is(err, ledger.ErrInvalidRequest) {
				t.Fatalf("adopting a told date again: %v; want ErrInvalidRequest", err)
			}
			if after := booksDump(t, e); after != before {
				t.Errorf("a refused adoption changed the books:\n%s", diffDumps(before, after))
			}
		})
	}
}
