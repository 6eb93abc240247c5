package ledger_test

import (
	"errors"
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

// AdoptDates reads each chunk's transactions ahead, on a snapshot taken
// before it writes, while it writes the chunk before. What an earlier chunk
// changes must not be read stale: a correction moves with the transaction
// it corrects (its date becomes told), so a correction adopted in a later
// chunk than its target must be read as that chunk left it, and refused.
// The same adoptions in chunks of three, read ahead and not, must leave the
// same books and report the same changes, or fail alike.
func TestAdoptDatesReadAheadReadsWhatEarlierChunksChanged(t *testing.T) {
	// run adopts new dates for ten charges, five of them available, and
	// for the corrections of the charges fixed, each after every charge.
	run := func(ahead, adoptCorrected bool) (*env, []ledger.SettlementChange, error) {
		e := newEnv(t, nil)
		for i := range 10 {
			must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: fmt.Sprintf("cap-%d", i), PaymentID: fmt.Sprintf("pay_%d", i),
				Provider: "stripe", Currency: "usd", Amount: dec("10.00"), Fees: []ledger.Fee{{Amount: dec("0.59")}},
				At: t0.Add(time.Duration(i) * time.Hour)})).ok(t)
		}
		must(e.l.MakeAvailable(e.ctx, t0.Add(52*time.Hour))).ok(t)
		charges := e.bts(t)
		var as, fixes []ledger.Adoption
		for i, bt := range charges {
			if i == 0 || i == 6 {
				r := must(e.l.CorrectBalanceTransaction(e.ctx, ledger.CorrectionRequest{Key: fmt.Sprintf("fix-%d", i),
					BalanceTransactionID: bt.ID, FeeDelta: dec("0.10")})).ok(t)
				fixes = append(fixes, ledger.Adoption{BalanceTransactionID: r.BalanceTransaction.ID,
					AvailableOn: r.BalanceTransaction.AvailableOn.Add(90 * time.Hour)})
				if !adoptCorrected {
					continue
				}
			}
			as = append(as, ledger.Adoption{BalanceTransactionID: bt.ID, AvailableOn: bt.AvailableOn.Add(time.Duration(i%3+1) * 20 * time.Hour)})
		}
		as = append(as, fixes...)
		defer ledger.SetAdoptionChunk(3)()
		defer ledger.SetReadAhead(ahead)()
		changed, err := e.l.AdoptDates(e.ctx, as, t0.Add(200*time.Hour))
		e.verify(t)
		return e, changed, err
	}
	// The corrected charges are not adopted: their corrections are.
	ahead, aheadChanged, err := run(true, false)
	must(0, err).ok(t)
	inTx, inTxChanged, err := run(false, false)
	must(0, err).ok(t)
	if len(aheadChanged) != 10 {
		t.Fatalf("%d transactions changed, want 8 charges and 2 corrections", len(aheadChanged))
	}
	if fmt.Sprint(aheadChanged) != fmt.Sprint(inTxChanged) {
		t.Errorf("changes read ahead:\n%v\nread in the transaction:\n%v", aheadChanged, inTxChanged)
	}
	if a, b := booksDump(t, ahead), booksDump(t, inTx); a != b {
		t.Errorf("the books differ when read ahead:\n%s", diffDumps(a, b))
	}
	// The corrected charges are adopted first: their corrections' dates
	// are then told, and adopting them again is refused, read ahead or not.
	for _, ahead := range []bool{true, false} {
		e, _, err := run(ahead, true)
		if !errors.Is(err, ledger.ErrInvalidRequest) || !strings.Contains(err.Error(), "told") {
			t.Errorf("read ahead %v: adopting a correction its target moved: %v, want ErrInvalidRequest (told)", ahead, err)
		}
		if bt := e.bts(t)[0]; !bt.AvailableOnEstimated {
			t.Errorf("read ahead %v: a refused adoption changed %s", ahead, bt.ID)
		}
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
