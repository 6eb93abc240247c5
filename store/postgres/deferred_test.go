package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// TestPostEntryOneRoundTrip exercises the optimistic single-entry path
// (deferEntry): ids come from the store's drawn block, a replayed key and
// a reused key get the ledger's answers through the retry, and writers
// racing on one key store it once, with balances to match.
func TestPostEntryOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, nil)
	l := ledger.New(s, nil)
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	in := func(key, amount string) ledger.EntryInput {
		return ledger.EntryInput{Key: key, OccurredAt: at, Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", amount), ledger.Credit("income:sales", "usd", amount)}}
	}
	// The first entry creates the accounts (the usual path); the next
	// ones are deferred and take ids from the block.
	first, err := l.PostEntry(ctx, in("k0", "1.00"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := 1; i <= 3; i++ {
		e, err := l.PostEntry(ctx, in(fmt.Sprint("k", i), "1.00"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	if ids[0] <= first.ID || ids[1] <= ids[0] || ids[2] <= ids[1] {
		t.Errorf("ids %d then %v", first.ID, ids)
	}
	s.idMu.Lock()
	left := len(s.entryIDs)
	s.idMu.Unlock()
	if left != entryIDBlock-3 {
		t.Errorf("%d ids left in the block, want %d: the deferred path was not taken", left, entryIDBlock-3)
	}
	again, err := l.PostEntry(ctx, in("k2", "1.00"))
	if err != nil || !again.Replayed || again.ID != ids[1] {
		t.Fatalf("replay: %+v, %v", again, err)
	}
	if _, err := l.PostEntry(ctx, in("k2", "2.00")); !errors.Is(err, ledger.ErrIdempotencyConflict) {
		t.Fatalf("reused key: %v", err)
	}
	// Eight writers, each posting the same ten keys.
	var wg sync.WaitGroup
	replays := make([]int, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				e, err := l.PostEntry(ctx, in(fmt.Sprint("race", i), "3.00"))
				if err != nil {
					t.Error(err)
					return
				}
				if e.Replayed {
					replays[w]++
				}
			}
		})
	}
	wg.Wait()
	n := 0
	for _, r := range replays {
		n += r
	}
	if n != 70 {
		t.Errorf("%d replays among 80 posts of 10 keys, want 70", n)
	}
	bal, err := l.Balances(ctx, "assets:bank:ops")
	if err != nil {
		t.Fatal(err)
	}
	if len(bal) != 1 || bal[0].Posted != 4*100+10*300 {
		t.Errorf("balances %+v, want %d", bal, 4*100+10*300)
	}
	// A replay is answered even after its period was closed, and a new
	// entry in the closed period is refused, as on the checked path.
	if err := l.ClosePeriod(ctx, at); err != nil {
		t.Fatal(err)
	}
	// (Twice each: the first transaction after closing reads the closed
	// period from the database, which begins it; the next ones answer
	// from the store's cache and defer their entry.)
	for range 2 {
		if e, err := l.PostEntry(ctx, in("k3", "1.00")); err != nil || !e.Replayed || e.ID != ids[2] {
			t.Errorf("replay in a closed period: %+v, %v", e, err)
		}
		if _, err := l.PostEntry(ctx, in("k-new", "1.00")); !errors.Is(err, ledger.ErrClosedPeriod) {
			t.Errorf("new entry in a closed period: %v", err)
		}
	}
	if v, err := l.Verify(ctx); err != nil || len(v) > 0 {
		t.Errorf("verify: %v %v", v, err)
	}
}
