package ledger_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// settleOp is one recorded fact of a settlement scenario.
type settleOp struct {
	name string
	do   func(e *env) error
}

// settlementScenario is a week of captures (some with a told available_on),
// refunds, a dispute, automatic payouts, a manual payout and a failed
// automatic payout, as independent facts that may be recorded in any order.
func settlementScenario() []settleOp {
	day := 24 * time.Hour
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var ops []settleOp
	for i := range 12 {
		at := base.Add(time.Duration(i) * 11 * time.Hour)
		key := fmt.Sprintf("c%d", i)
		req := ledger.CaptureRequest{Key: key, PaymentID: "pay" + key, Provider: "stripe", Currency: "usd",
			Amount: dec(fmt.Sprintf("%d.00", 100+i)), Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("3.20")}}, At: at}
		if i%3 == 0 {
			req.AvailableOn = at.Truncate(day).Add(7 * day)
		}
		ops = append(ops, settleOp{key, func(e *env) error { _, err := e.l.Capture(e.ctx, req); return err }})
	}
	// Refunds and the dispute come after their captures in any real feed;
	// they stay together with them below.
	for _, p := range []struct {
		after, po       string
		at              time.Time
		amount          string
		automatic, fail bool
	}{
		{at: base.Add(2 * day), po: "po1", amount: "150.00", automatic: true},
		{at: base.Add(3 * day), po: "po2", amount: "40.00"},
		{at: base.Add(5 * day), po: "po3", amount: "300.00", automatic: true, fail: true},
		{at: base.Add(9 * day), po: "po4", amount: "500.00", automatic: true},
	} {
		req := ledger.PayoutRequest{Key: p.po, PayoutID: p.po, Provider: "stripe", Amount: dec(p.amount), Currency: "usd",
			At: p.at, Automatic: p.automatic}
		fail := p.fail
		ops = append(ops, settleOp{p.po, func(e *env) error {
			if _, err := e.l.CreatePayout(e.ctx, req); err != nil {
				return err
			}
			if fail {
				_, err := e.l.FailPayout(e.ctx, ledger.PayoutUpdateRequest{Key: req.PayoutID + "-failed", PayoutID: req.PayoutID,
					At: req.At.Add(30 * time.Hour)})
				return err
			}
			return nil
		}})
	}
	return ops
}

// followUps are facts that need their capture recorded first.
func followUps() []settleOp {
	day := 24 * time.Hour
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	return []settleOp{
		{"r1", func(e *env) error {
			_, err := e.l.Refund(e.ctx, ledger.RefundRequest{Key: "r1", PaymentID: "payc1", RefundID: "re1",
				Amount: dec("20.00"), At: base.Add(4 * day)})
			return err
		}},
		{"d1", func(e *env) error {
			_, err := e.l.OpenDispute(e.ctx, ledger.DisputeRequest{Key: "d1", PaymentID: "payc2", DisputeID: "dp1",
				Amount: dec("102.00"), Fee: dec("15.00"), At: base.Add(6 * day)})
			return err
		}},
	}
}

// settledState is what must not depend on the order facts were recorded in:
// each balance transaction's settlement values, and the balances.
func settledState(t *testing.T, e *env) string {
	t.Helper()
	var b strings.Builder
	for _, bt := range e.bts(t) {
		// Ids of balance transactions follow entry ids, which follow the
		// recording order; name each by its source instead.
		fmt.Fprintf(&b, "%s %s %s net=%d avail=%s est=%v payout=%q derived=%v\n", bt.Type, bt.SourceType, bt.SourceID,
			bt.Net, bt.AvailableOn.Format(time.RFC3339), bt.AvailableOnEstimated, bt.PayoutID, bt.PayoutDerived)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	sortStrings(lines)
	out := strings.Join(lines, "\n") + "\n"
	for _, bal := range must(e.l.Balances(e.ctx, "")).ok(t) {
		out += fmt.Sprintf("%s %s %d %d\n", bal.Account, bal.Currency, bal.Posted, bal.Pending)
	}
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Recording the same facts in different orders gives the same payout
// compositions and the same balances.
func TestPayoutCompositionIsOrderIndependent(t *testing.T) {
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	record := func(t *testing.T, ops []settleOp) string {
		e := newEnv(t, nil)
		for _, op := range ops {
			if err := op.do(e); err != nil {
				t.Fatalf("%s: %v", op.name, err)
			}
		}
		must(e.l.MakeAvailable(e.ctx, end)).ok(t)
		e.verify(t)
		return settledState(t, e)
	}
	inOrder := append(settlementScenario(), followUps()...)
	want := record(t, inOrder)
	if !strings.Contains(want, `payout="po3" derived=true`) || !strings.Contains(want, `payout="po4" derived=true`) {
		t.Fatalf("the automatic payouts hold nothing:\n%s", want)
	}
	if strings.Contains(want, `payout="po2"`) {
		t.Errorf("the manual payout po2 claims a composition:\n%s", want)
	}
	// The failed payout's returned funds go out with the next automatic payout.
	if !strings.Contains(want, `payout_failure payout po3 net=30000 avail=2026-11-08T15:00:00Z est=true payout="po4"`) {
		t.Errorf("payout_failure of po3 not in po4:\n%s", want)
	}
	for seed := range uint64(6) {
		ops := settlementScenario()
		r := rand.New(rand.NewPCG(seed, 7))
		r.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
		ops = append(ops, followUps()...)
		if got := record(t, ops); got != want {
			t.Errorf("seed %d: another order gives other books:\n%s\nwant\n%s", seed, got, want)
		}
	}
}

// A manual payout claims no composition; an automatic one claims exactly
// what was available by its time and not in an earlier automatic payout.
func TestManualPayoutClaimsNothing(t *testing.T) {
	e := newEnv(t, nil)
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	c := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd",
		Amount: dec("100.00"), At: at, AvailableOn: at})).ok(t)
	must(e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "po1", PayoutID: "po1", Provider: "stripe",
		Amount: dec("60.00"), Currency: "usd", At: at.Add(time.Hour)})).ok(t)
	if got := e.bt(t, c.BalanceTransaction.ID); got.PayoutID != "" || !got.PayoutDerived {
		t.Errorf("after a manual payout: payout %q derived %v, want none, derived", got.PayoutID, got.PayoutDerived)
	}
	must(e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "po2", PayoutID: "po2", Provider: "stripe",
		Amount: dec("40.00"), Currency: "usd", At: at.Add(2 * time.Hour), Automatic: true})).ok(t)
	if got := e.bt(t, c.BalanceTransaction.ID).PayoutID; got != "po2" {
		t.Errorf("automatic payout: capture in %q, want po2", got)
	}
	e.verify(t)

	// A derived payout changed behind the ledger's back is a violation.
	if _, err := e.store.DB().Exec(`UPDATE bt_settlements SET payout_id = 'po1' WHERE id = ?`, c.BalanceTransaction.ID); err != nil {
		t.Fatal(err)
	}
	vs := must(e.l.Verify(e.ctx)).ok(t)
	if len(vs) != 1 || vs[0].Invariant != "payout_composition_derived" {
		t.Errorf("Verify: %v, want one payout_composition_derived violation", vs)
	}
}

// An estimated available_on is replaced by the provider's date: the funds
// move to the provider's date, the derived payout follows, and a told date
// is refused.
func TestAdoptAvailableOn(t *testing.T) {
	day := 24 * time.Hour
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	estimate := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC) // the ledger's default delay, to the day
	provider := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)

	t.Run("made available at the estimate, moved to the provider's date", func(t *testing.T) {
		e := newEnv(t, &ledger.Options{AvailableAfter: 2 * day})
		c := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd",
			Amount: dec("100.00"), At: at})).ok(t)
		bt := c.BalanceTransaction
		if !bt.AvailableOnEstimated || !bt.AvailableOn.Equal(estimate) {
			t.Fatalf("capture without available_on: %s estimated %v", bt.AvailableOn, bt.AvailableOnEstimated)
		}
		must(e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "po1", PayoutID: "po1", Provider: "stripe", Amount: dec("1.00"),
			Currency: "usd", At: at.Add(3 * day), Automatic: true})).ok(t)
		must(e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "po2", PayoutID: "po2", Provider: "stripe", Amount: dec("1.00"),
			Currency: "usd", At: provider.Add(time.Hour), Automatic: true})).ok(t)
		if got := e.bt(t, bt.ID); got.Status != ledger.BTAvailable || got.PayoutID != "po1" {
			t.Fatalf("before: %s in %q", got.Status, got.PayoutID)
		}
		n := must(e.l.AdoptAvailableOn(e.ctx, []ledger.Adoption{{BalanceTransactionID: bt.ID, AvailableOn: provider}},
			provider.Add(5*day))).ok(t)
		if n != 1 {
			t.Errorf("adopted %d, want 1", n)
		}
		got := e.bt(t, bt.ID)
		if !got.AvailableOn.Equal(provider) || got.AvailableOnEstimated || got.Status != ledger.BTAvailable || got.PayoutID != "po2" {
			t.Errorf("after: available_on %s estimated %v status %s payout %q; want %s, told, available, po2",
				got.AvailableOn, got.AvailableOnEstimated, got.Status, got.PayoutID, provider)
		}
		// Between the estimate and the provider's date the funds are pending.
		mid := must(e.l.BalancesAsOf(e.ctx, "assets:stripe", provider.Add(-time.Hour))).ok(t)
		after := must(e.l.BalancesAsOf(e.ctx, "assets:stripe", provider)).ok(t)
		if want := map[string]int64{"assets:stripe:pending": 10000, "assets:stripe:available": -100}; !sameBalances(mid, want) {
			t.Errorf("as of the day before the provider's date: %v, want %v", mid, want)
		}
		if want := map[string]int64{"assets:stripe:pending": 0, "assets:stripe:available": 9900}; !sameBalances(after, want) {
			t.Errorf("as of the provider's date: %v, want %v", after, want)
		}
		// The entries that move the funds carry the transaction's source,
		// as the one that first made them available does.
		moved := 0
		err := e.l.View(e.ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(e.ctx, ledger.EntryFilter{}, func(en *ledger.Entry) error {
				if !strings.HasPrefix(en.Key, "available:") && !strings.HasPrefix(en.Key, "unavailable:") {
					return nil
				}
				moved++
				if want := (ledger.Source{Provider: "stripe", Type: "payment", ID: "p1", Ref: bt.SourceRef}); en.Source != want {
					t.Errorf("entry %s has source %+v, want %+v", en.Key, en.Source, want)
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if moved != 3 {
			t.Errorf("%d entries make the funds available or undo it, want 3 (at the estimate, undone, at the provider's date)", moved)
		}
		// Adopting again changes nothing.
		if n := must(e.l.AdoptAvailableOn(e.ctx, []ledger.Adoption{{BalanceTransactionID: bt.ID, AvailableOn: provider}},
			provider.Add(5*day))).ok(t); n != 0 {
			t.Errorf("second adoption changed %d", n)
		}
		e.verify(t)
	})

	t.Run("a future date sends the funds back to pending until it comes", func(t *testing.T) {
		e := newEnv(t, &ledger.Options{AvailableAfter: 2 * day})
		c := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd",
			Amount: dec("100.00"), At: at})).ok(t)
		must(e.l.MakeAvailable(e.ctx, at.Add(3*day))).ok(t)
		must(e.l.AdoptAvailableOn(e.ctx, []ledger.Adoption{{BalanceTransactionID: c.BalanceTransaction.ID, AvailableOn: provider}},
			at.Add(4*day))).ok(t)
		if got := e.bt(t, c.BalanceTransaction.ID); got.Status != ledger.BTPending {
			t.Errorf("status %s, want pending until %s", got.Status, provider)
		}
		if n := must(e.l.MakeAvailable(e.ctx, provider)).ok(t); n != 1 {
			t.Errorf("made %d available on the provider's date, want 1", n)
		}
		e.wantBalances(t, map[string]bal{"assets:stripe:available usd": {10000, 0}, "income:sales usd": {-10000, 0}})
		e.verify(t)
	})

	t.Run("captures due together move in one entry, one due at another moment in its own, and one moves back alone", func(t *testing.T) {
		e := newEnv(t, &ledger.Options{AvailableAfter: 2 * day})
		var ids []string
		for i, cur := range []string{"usd", "usd", "usd", "eur"} {
			key := fmt.Sprintf("c%d", i)
			c := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: key, PaymentID: "p" + key, Provider: "stripe", Currency: cur,
				Amount: dec(fmt.Sprintf("%d.00", 100*(i+1))), At: at.Add(time.Duration(i) * time.Minute)})).ok(t)
			ids = append(ids, c.BalanceTransaction.ID)
		}
		// A dollar charge due an hour later, as its provider told.
		late := estimate.Add(time.Hour)
		c4 := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c4", PaymentID: "pc4", Provider: "stripe", Currency: "usd",
			Amount: dec("50.00"), At: at, AvailableOn: late})).ok(t)
		if n := must(e.l.MakeAvailable(e.ctx, at.Add(3*day))).ok(t); n != 5 {
			t.Fatalf("made %d available, want 5", n)
		}
		// One entry for the three dollar charges due together, one each for
		// the euro charge and the dollar charge due later, which keep the
		// key, description and source of their own.
		var made []*ledger.Entry
		err := e.l.View(e.ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(e.ctx, ledger.EntryFilter{}, func(en *ledger.Entry) error {
				if strings.HasPrefix(en.Key, "available:") {
					made = append(made, en)
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(made) != 3 {
			t.Fatalf("%d availability entries, want 3", len(made))
		}
		for _, en := range made {
			if en.Source.ID == "pc4" {
				if !en.OccurredAt.Equal(late) || en.Description != "Funds available for "+c4.BalanceTransaction.ID {
					t.Errorf("the later charge's entry: dated %s, description %q", en.OccurredAt, en.Description)
				}
				continue
			}
			if !en.OccurredAt.Equal(estimate) {
				t.Errorf("%s dated %s, want the estimate %s", en.Key, en.OccurredAt, estimate)
			}
			switch en.Postings[0].Currency {
			case "usd":
				if !strings.HasSuffix(en.Key, "+3") || en.Description != "Funds of 3 balance transactions available on 2026-11-04" ||
					en.Source != (ledger.Source{Provider: "stripe"}) {
					t.Errorf("the dollars' entry: key %q, description %q, source %+v", en.Key, en.Description, en.Source)
				}
				if en.Postings[0].Amount != 60000 && en.Postings[1].Amount != 60000 {
					t.Errorf("the dollars' entry moves %+v, want 600.00 in all", en.Postings)
				}
			case "eur":
				if en.Description != "Funds available for "+ids[3] || en.Source.ID != "pc3" {
					t.Errorf("the euro entry: description %q, source %+v", en.Description, en.Source)
				}
			}
		}
		// The provider's later date for the second dollar charge takes its
		// funds, and only its, back to pending until that date.
		if n := must(e.l.AdoptAvailableOn(e.ctx, []ledger.Adoption{{BalanceTransactionID: ids[1], AvailableOn: provider}},
			provider.Add(day))).ok(t); n != 1 {
			t.Errorf("adopted %d, want 1", n)
		}
		mid := must(e.l.BalancesAsOf(e.ctx, "assets:stripe", provider.Add(-time.Hour))).ok(t)
		wantMid := map[string]bal{"assets:stripe:pending usd": {20000, 0}, "assets:stripe:available usd": {45000, 0},
			"assets:stripe:available eur": {40000, 0}}
		for _, b := range mid {
			k := b.Account + " " + b.Currency
			if w, ok := wantMid[k]; ok {
				if b.Posted != w.posted {
					t.Errorf("as of the day before the provider's date, %s %d, want %d", k, b.Posted, w.posted)
				}
				delete(wantMid, k)
			}
		}
		for k := range wantMid {
			t.Errorf("as of the day before the provider's date, no balance of %s", k)
		}
		e.wantBalances(t, map[string]bal{"assets:stripe:available usd": {65000, 0}, "assets:stripe:available eur": {40000, 0},
			"income:sales usd": {-65000, 0}, "income:sales eur": {-40000, 0}})
		e.verify(t)
	})

	t.Run("a told date is not replaced", func(t *testing.T) {
		e := newEnv(t, nil)
		c := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd",
			Amount: dec("100.00"), At: at, AvailableOn: estimate})).ok(t)
		_, err := e.l.AdoptAvailableOn(e.ctx, []ledger.Adoption{{BalanceTransactionID: c.BalanceTransaction.ID, AvailableOn: provider}}, provider)
		if !errors.Is(err, ledger.ErrInvalidRequest) {
			t.Errorf("adopting over a told date: %v, want ErrInvalidRequest", err)
		}
		if got := e.bt(t, c.BalanceTransaction.ID); !got.AvailableOn.Equal(estimate) {
			t.Errorf("told date changed to %s", got.AvailableOn)
		}
	})
}

func sameBalances(bs []ledger.Balance, want map[string]int64) bool {
	got := map[string]int64{}
	for _, b := range bs {
		got[b.Account] = b.Posted
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// A correction is dated at the transaction it corrects, or at the first
// open day after a closed period that holds it.
func TestCorrectionDatedAtItsTransaction(t *testing.T) {
	e := newEnv(t, nil)
	at := time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC)
	c := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", Currency: "usd",
		Amount: dec("100.00"), At: at, AvailableOn: at})).ok(t)
	e.clock.Set(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC))
	r := must(e.l.CorrectBalanceTransaction(e.ctx, ledger.CorrectionRequest{Key: "fix1",
		BalanceTransactionID: c.BalanceTransaction.ID, FeeDelta: dec("0.01")})).ok(t)
	if !r.Entry.OccurredAt.Equal(at) {
		t.Errorf("correction dated %s, want the corrected transaction's %s", r.Entry.OccurredAt, at)
	}
	if !r.BalanceTransaction.AvailableOn.Equal(at) {
		t.Errorf("correction available_on %s, want its target's %s", r.BalanceTransaction.AvailableOn, at)
	}
	closed := time.Date(2026, 11, 30, 23, 59, 59, 999999999, time.UTC)
	must(0, e.l.ClosePeriod(e.ctx, closed)).ok(t)
	r = must(e.l.CorrectBalanceTransaction(e.ctx, ledger.CorrectionRequest{Key: "fix2",
		BalanceTransactionID: c.BalanceTransaction.ID, FeeDelta: dec("0.01")})).ok(t)
	if want := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC); !r.Entry.OccurredAt.Equal(want) {
		t.Errorf("correction of a closed period dated %s, want the first open day %s", r.Entry.OccurredAt, want)
	}
	e.verify(t)
}
