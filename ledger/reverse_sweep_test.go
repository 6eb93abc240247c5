package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

func TestReverseAtMostOnce(t *testing.T) {
	e := newEnv(t, nil)
	orig := must(e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "owner", Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "100.00"), ledger.Credit("equity:owner", "usd", "100.00")}})).ok(t)
	rev := must(e.l.Reverse(e.ctx, "rev-1", orig.ID, time.Time{}, "")).ok(t)
	if _, err := e.l.Reverse(e.ctx, "rev-2", orig.ID, time.Time{}, ""); !errors.Is(err, ledger.ErrAlreadyResolved) {
		t.Errorf("second reversal: %v, want ErrAlreadyResolved", err)
	}
	// Replaying the first reversal still returns it.
	if again := must(e.l.Reverse(e.ctx, "rev-1", orig.ID, time.Time{}, "")).ok(t); again.ID != rev.ID {
		t.Errorf("replay returned entry %d, want %d", again.ID, rev.ID)
	}
	e.verify(t)

	// A second reversal written behind the ledger's back is a violation.
	if _, err := e.store.DB().Exec(`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, reverses)
		VALUES (999, 'sneaky', 'posted', 1, 1, ?)`, orig.ID); err != nil {
		t.Fatal(err)
	}
	vs, err := e.l.Verify(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range vs {
		if v.Invariant == "reversed_once" && strings.Contains(v.Subject, "entry ") {
			found = true
		}
	}
	if !found {
		t.Errorf("Verify did not report the double reversal: %v", vs)
	}
}

// Funds returned by a failed payout are swept by the next payout.
func TestNextPayoutSweepsFailedPayout(t *testing.T) {
	e := newEnv(t, nil)
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd",
		Amount: dec("100.00"), At: at, AvailableOn: at})).ok(t)
	must(e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "po1", PayoutID: "po1", Provider: "stripe",
		Amount: dec("100.00"), Currency: "usd", At: at.Add(time.Hour), Automatic: true})).ok(t)
	fail := must(e.l.FailPayout(e.ctx, ledger.PayoutUpdateRequest{Key: "po1-failed", PayoutID: "po1", At: at.Add(48 * time.Hour)})).ok(t)
	must(e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "po2", PayoutID: "po2", Provider: "stripe",
		Amount: dec("100.00"), Currency: "usd", At: at.Add(72 * time.Hour), Automatic: true})).ok(t)
	if got := e.bt(t, fail.BalanceTransaction.ID).PayoutID; got != "po2" {
		t.Errorf("payout_failure swept by %q, want po2", got)
	}
	e.verify(t)
}
