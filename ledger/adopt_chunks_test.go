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

// Adopting many dates at once moves the funds in one entry for each
// currency, direction and date, where adopting them one at a time books an
// entry for each transaction. Both must leave the same balances at every
// hour, the same transactions, and sound books; and the entries of the
// many at once must be the one-at-a-time entries added up by currency,
// direction and date.
func TestAdoptDatesMoveFundsOncePerDate(t *testing.T) {
	asOf := t0.Add(60 * time.Hour)
	setup := func() (*env, []ledger.Adoption, int64) {
		e := newEnv(t, nil)
		for i := range 12 {
			cur := "usd"
			if i%4 == 3 {
				cur = "eur"
			}
			must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: fmt.Sprintf("cap-%d", i), PaymentID: fmt.Sprintf("pay_%d", i),
				Provider: "stripe", Currency: cur, Amount: dec(fmt.Sprintf("%d.00", 10+i)), Fees: []ledger.Fee{{Amount: dec("0.59")}},
				At: t0.Add(time.Duration(i) * time.Hour)})).ok(t)
		}
		// The first half are due (estimated two days on) and made available.
		must(e.l.MakeAvailable(e.ctx, t0.Add(54*time.Hour))).ok(t)
		var as []ledger.Adoption
		for i, bt := range e.bts(t) {
			// Earlier by a day, later by a day, or later than asOf; every
			// shift lands on midnight, as a provider's dates do.
			to := bt.AvailableOn.Add([]time.Duration{-24 * time.Hour, 24 * time.Hour, 96 * time.Hour}[i%3]).Truncate(24 * time.Hour)
			as = append(as, ledger.Adoption{BalanceTransactionID: bt.ID, AvailableOn: to})
		}
		var last int64
		err := e.l.View(e.ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(e.ctx, ledger.EntryFilter{}, func(en *ledger.Entry) error {
				last = max(last, en.ID)
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return e, as, last
	}
	// moved returns the entries booked after id last, by currency,
	// direction and date: the net moved to available, and how many entries.
	type group struct {
		currency string
		undo     bool
		on       time.Time
	}
	moved := func(e *env, last int64) (map[group]int64, map[group]int) {
		net, count := map[group]int64{}, map[group]int{}
		err := e.l.View(e.ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(e.ctx, ledger.EntryFilter{}, func(en *ledger.Entry) error {
				if en.ID <= last {
					return nil
				}
				undo := strings.HasPrefix(en.Key, "unavailable:")
				if !undo && !strings.HasPrefix(en.Key, "available:") {
					t.Errorf("adopting booked %q", en.Key)
				}
				for _, p := range en.Postings {
					if p.Account == "assets:stripe:available" {
						g := group{p.Currency, undo, en.OccurredAt.UTC()}
						net[g] += p.Amount
						count[g]++
					}
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return net, count
	}
	one, as, oneLast := setup()
	for _, a := range as {
		must(one.l.AdoptDates(one.ctx, []ledger.Adoption{a}, asOf)).ok(t)
	}
	all, as2, allLast := setup()
	must(all.l.AdoptDates(all.ctx, as2, asOf)).ok(t)
	one.verify(t)
	all.verify(t)

	if a, b := fmt.Sprint(derefBTs(one.bts(t))), fmt.Sprint(derefBTs(all.bts(t))); a != b {
		t.Errorf("the transactions differ:\none at a time %s\nall at once   %s", a, b)
	}
	for h := 0; h <= 200; h++ {
		at := t0.Add(time.Duration(h) * time.Hour)
		a := must(one.l.BalancesAsOf(one.ctx, "assets:stripe", at)).ok(t)
		b := must(all.l.BalancesAsOf(all.ctx, "assets:stripe", at)).ok(t)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("balances as of %s: one at a time %v, all at once %v", at, a, b)
		}
	}
	oneNet, oneCount := moved(one, oneLast)
	allNet, allCount := moved(all, allLast)
	if fmt.Sprint(oneNet) != fmt.Sprint(allNet) {
		t.Errorf("funds moved: one at a time %v, all at once %v", oneNet, allNet)
	}
	several := 0
	for g, n := range allCount {
		if n != 1 {
			t.Errorf("%v: %d entries, want one", g, n)
		}
		if oneCount[g] > 1 {
			several++
		}
	}
	if several == 0 {
		t.Errorf("no date moved several transactions (%v): the test shows nothing", oneCount)
	}
}

func derefBTs(bts []*ledger.BalanceTransaction) []ledger.BalanceTransaction {
	out := make([]ledger.BalanceTransaction, len(bts))
	for i, b := range bts {
		out[i] = *b
	}
	return out
}
