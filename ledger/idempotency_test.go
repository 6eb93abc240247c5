package ledger_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// replayCall is one call of a scenario. at, if set, is where the clock
// stands when the call is first made; calls that leave their own time zero
// then take it from the clock, so a replay later must still match.
type replayCall struct {
	name string
	at   time.Time
	do   func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error)
}

// fullScenario walks every lifecycle operation, in several currencies and
// providers, half of them dated by the clock rather than by the request.
func fullScenario() []replayCall {
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	entry := func(key, amount string) ledger.EntryInput {
		return ledger.EntryInput{Key: key, Description: "adjustment " + key, Metadata: map[string]string{"ticket": key},
			Postings: []ledger.PostingInput{ledger.Debit("assets:stripe:available", "usd", amount),
				ledger.Credit("income:adjustments", "usd", amount)}}
	}
	return []replayCall{
		{"authorize a", h(0), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			r := authorizeReq("pay_a", "100.00")
			r.At = time.Time{}
			r.Metadata = map[string]string{"order": "1001"}
			return l.Authorize(ctx, r)
		}},
		{"capture a", h(1), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Capture(ctx, ledger.CaptureRequest{Key: "cap-a", PaymentID: "pay_a", Amount: dec("80"),
				Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("2.62")}}})
		}},
		{"charge b (eur, adyen)", h(1), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Capture(ctx, ledger.CaptureRequest{Key: "cap-b", PaymentID: "pay_b", Provider: "adyen", ProviderRef: "psp_b",
				Currency: "EUR", Amount: dec("50.00"), Fees: []ledger.Fee{{Type: "processing", Amount: dec("0.90")}},
				AvailableOn: h(30), At: h(1)})
		}},
		{"charge f (jpy)", h(2), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Capture(ctx, ledger.CaptureRequest{Key: "cap-f", PaymentID: "pay_f", Provider: "stripe", Currency: "jpy",
				Amount: dec("1500"), Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("54")}}})
		}},
		{"charge g (kwd)", h(2), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Capture(ctx, ledger.CaptureRequest{Key: "cap-g", PaymentID: "pay_g", Provider: "justifi", Currency: "kwd",
				Amount: dec("12.345"), At: h(2)})
		}},
		{"authorize c", h(2), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			r := authorizeReq("pay_c", "20.00")
			r.At = h(2)
			return l.Authorize(ctx, r)
		}},
		{"cancel c", h(3), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Cancel(ctx, ledger.CancelRequest{Key: "cancel-c", PaymentID: "pay_c"})
		}},
		{"authorize d with expiry", h(3), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			r := authorizeReq("pay_d", "30.00")
			r.At, r.ExpiresAt = time.Time{}, h(4)
			return l.Authorize(ctx, r)
		}},
		{"expire", h(5), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.ExpireAuthorizations(ctx, h(5))
		}},
		{"make available", h(72), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.MakeAvailable(ctx, h(72))
		}},
		{"refund a partly", h(73), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Refund(ctx, ledger.RefundRequest{Key: "rf-a1", PaymentID: "pay_a", RefundID: "re_a1", Amount: dec("30"),
				Reason: "duplicate"})
		}},
		{"refund a with fee refund", h(74), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Refund(ctx, ledger.RefundRequest{Key: "rf-a2", PaymentID: "pay_a", RefundID: "re_a2", Amount: dec("20"),
				FeeRefund: dec("1.00"), Currency: "usd", At: h(74)})
		}},
		{"fee returned on b", h(75), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.RefundFee(ctx, ledger.FeeRefundRequest{Key: "fee-b", PaymentID: "pay_b", Amount: dec("0.40")})
		}},
		{"dispute b", h(76), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.OpenDispute(ctx, ledger.DisputeRequest{Key: "dp-b", PaymentID: "pay_b", DisputeID: "dp_b", Amount: dec("50"),
				Fee: dec("15")})
		}},
		{"win b", h(300), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.WinDispute(ctx, ledger.DisputeCloseRequest{Key: "won-b", DisputeID: "dp_b", FeeRefund: dec("15")})
		}},
		{"charge e", h(76), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Capture(ctx, chargeReq("pay_e", "70.00", "2.33"))
		}},
		{"dispute e", h(77), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.OpenDispute(ctx, ledger.DisputeRequest{Key: "dp-e", PaymentID: "pay_e", DisputeID: "dp_e", Amount: dec("70"),
				Fee: dec("15"), At: h(77)})
		}},
		{"lose e", h(301), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.LoseDispute(ctx, ledger.DisputeCloseRequest{Key: "lost-e", DisputeID: "dp_e"})
		}},
		{"payout 1", h(302), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po-1", PayoutID: "po_1", Provider: "stripe", Currency: "usd",
				Amount: dec("20"), ArrivalDate: h(350)})
		}},
		{"payout 1 paid", h(350), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.PayPayout(ctx, ledger.PayoutUpdateRequest{Key: "po-1-paid", PayoutID: "po_1"})
		}},
		{"payout 2", h(302), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po-2", PayoutID: "po_2", Provider: "adyen", Currency: "eur",
				Amount: dec("10"), At: h(302)})
		}},
		{"payout 2 failed", h(351), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.FailPayout(ctx, ledger.PayoutUpdateRequest{Key: "po-2-failed", PayoutID: "po_2", At: h(351)})
		}},
		{"adjustment", h(352), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.PostEntry(ctx, entry("adj-1", "5.00"))
		}},
		{"reverse adjustment", h(353), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Reverse(ctx, "rev-1", ids["adjustment"], time.Time{}, "undo adj-1")
		}},
		{"pending entry", h(354), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			in := pendingEntry("hold-1")
			in.OccurredAt = h(354)
			return l.PostEntry(ctx, in)
		}},
		{"post pending in part", h(355), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.PostPending(ctx, ledger.PostPendingRequest{Key: "post-1", EntryID: ids["pending entry"],
				Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "60"), ledger.Credit("liabilities:customers", "usd", "60")}})
		}},
		{"pending entry 2", h(356), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			in := pendingEntry("hold-2")
			in.OccurredAt = time.Time{}
			return l.PostEntry(ctx, in)
		}},
		{"void pending 2", h(357), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return nil, l.VoidPending(ctx, "void-2", ids["pending entry 2"])
		}},
		{"batch", h(358), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			a, b := entry("batch-1", "1.00"), entry("batch-2", "2.00")
			a.OccurredAt, b.OccurredAt = h(358), h(358)
			return l.PostEntries(ctx, []ledger.EntryInput{a, b})
		}},
		{"close period", h(400), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return nil, l.ClosePeriod(ctx, h(399))
		}},
		{"charge after close", h(401), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Capture(ctx, ledger.CaptureRequest{Key: "cap-h", PaymentID: "pay_h", Provider: "stripe", Currency: "usd",
				Amount: dec("9.99")})
		}},
		{"refund after close", h(402), func(ctx context.Context, l *ledger.Ledger, ids map[string]int64) (any, error) {
			return l.Refund(ctx, ledger.RefundRequest{Key: "rf-h", PaymentID: "pay_h", RefundID: "re_h"})
		}},
	}
}

// runScenario makes every call of calls with the clock at its time,
// recording the ids of the entries that later calls refer to.
func runScenario(t *testing.T, e *env, l *ledger.Ledger, calls []replayCall, ids map[string]int64) []any {
	t.Helper()
	out := make([]any, len(calls))
	for i, c := range calls {
		e.clock.Set(c.at)
		res, err := c.do(e.ctx, l, ids)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if en, ok := res.(*ledger.Entry); ok {
			ids[c.name] = en.ID
		}
		out[i] = res
	}
	return out
}

// sameResult fails unless a replayed result is the original one.
func sameResult(t *testing.T, name string, orig, replay any) {
	t.Helper()
	switch o := orig.(type) {
	case *ledger.Result:
		r := replay.(*ledger.Result)
		if !r.Replayed {
			t.Errorf("%s: replay not marked Replayed", name)
		}
		if o.Replayed {
			t.Errorf("%s: first call marked Replayed", name)
		}
		if (o.Entry == nil) != (r.Entry == nil) || o.Entry != nil && o.Entry.ID != r.Entry.ID {
			t.Errorf("%s: replay returned entry %+v, first call %+v", name, r.Entry, o.Entry)
		}
		sameJSON(t, name+": original and replayed result", o, r)
	case *ledger.Entry:
		r := replay.(*ledger.Entry)
		if !r.Replayed || o.Replayed {
			t.Errorf("%s: Replayed %v on the first call, %v on the replay", name, o.Replayed, r.Replayed)
		}
		if o.ID != r.ID {
			t.Errorf("%s: replay returned entry %d, first call %d", name, r.ID, o.ID)
		}
		// A replayed entry is read back as it stands now: a pending entry
		// may have been resolved since. Everything else is the original.
		rr := *r
		rr.Resolution, rr.ResolvedBy = o.Resolution, o.ResolvedBy
		sameJSON(t, name+": original and replayed entry", o, &rr)
	case []*ledger.Entry:
		r := replay.([]*ledger.Entry)
		for i := range o {
			sameResult(t, name, o[i], r[i])
		}
	case int:
		// MakeAvailable and ExpireAuthorizations are not keyed: a second
		// run finds nothing left to do.
		if r := replay.(int); r != 0 {
			t.Errorf("%s: replay did %d more", name, r)
		}
	case nil:
	default:
		t.Fatalf("%s: unexpected result type %T", name, orig)
	}
}

// Replaying every call of a full scenario with the same keys and requests
// returns the original results and leaves every table byte-identical — also
// from a new process on the same file, a year later.
func TestReplayFullScenario(t *testing.T) {
	e := newEnv(t, nil)
	calls := fullScenario()
	ids := map[string]int64{}
	first := runScenario(t, e, e.l, calls, ids)
	e.verify(t)
	snapshot := dump(t, e.store.DB())

	replay := func(t *testing.T, l *ledger.Ledger, db *sql.DB) {
		e.clock.Set(t0.AddDate(1, 0, 0))
		for i, c := range calls {
			t.Run(c.name, func(t *testing.T) {
				res, err := c.do(e.ctx, l, ids)
				if err != nil {
					t.Fatalf("replay: %v", err)
				}
				sameResult(t, c.name, first[i], res)
			})
		}
		if after := dump(t, db); after != snapshot {
			t.Errorf("replay changed the database: %s", diffDumps(snapshot, after))
		}
	}

	t.Run("same ledger", func(t *testing.T) {
		replay(t, e.l, e.store.DB())
	})
	t.Run("reopened", func(t *testing.T) {
		store, err := sqlite.Open(e.ctx, e.path)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		replay(t, ledger.New(store, &ledger.Options{Now: e.clock.Now}), store.DB())
	})
	e.verify(t)
}

// Every keyed operation, called twice with the same key and the time left
// to the clock, returns its first result even though the clock moved.
func TestReplayWithDefaultedTime(t *testing.T) {
	e := newEnv(t, nil)
	e.authorize(t, "pay_1", "100")
	calls := []struct {
		name string
		do   func() (any, error)
	}{
		{"capture", func() (any, error) {
			return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1"})
		}},
		{"refund", func() (any, error) {
			return e.l.Refund(e.ctx, ledger.RefundRequest{Key: "rf", PaymentID: "pay_1", RefundID: "re_1", Amount: dec("1")})
		}},
		{"entry", func() (any, error) {
			return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "adj", Postings: []ledger.PostingInput{
				ledger.Debit("assets:stripe:available", "usd", "1"), ledger.Credit("income:adjustments", "usd", "1")}})
		}},
		{"payout", func() (any, error) {
			return e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "po", PayoutID: "po_1", Provider: "stripe", Currency: "usd", Amount: dec("1")})
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			first, err := c.do()
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Minute)
			before := dump(t, e.store.DB())
			again, err := c.do()
			if err != nil {
				t.Fatalf("retry of the same request: %v", err)
			}
			sameResult(t, c.name, first, again)
			if after := dump(t, e.store.DB()); after != before {
				t.Errorf("retry changed the database: %s", diffDumps(before, after))
			}
		})
	}
	e.verify(t)
}

// A key stays bound to its first request even after the state it checked
// has changed: a replay of a refund that emptied the payment is not an
// over-refund, and a different request under the key is still a conflict.
func TestReplayAfterStateChanged(t *testing.T) {
	e := newEnv(t, nil)
	e.charge(t, "pay_1", "10", "")
	first := e.refund(t, "rf", "pay_1", "re_1", "", t0.Add(time.Hour))
	again, err := e.l.Refund(e.ctx, refundReq("rf", "pay_1", "re_1", "", t0.Add(time.Hour)))
	if err != nil {
		t.Fatalf("replay of a refund of everything left: %v", err)
	}
	sameResult(t, "refund", first, again)
	if _, err := e.l.Refund(e.ctx, refundReq("rf", "pay_1", "re_1", "", t0.Add(2*time.Hour))); !errors.Is(err, ledger.ErrIdempotencyConflict) {
		t.Errorf("same key, other time: %v, want ErrIdempotencyConflict", err)
	}
	// Replays of entries survive the period being closed over them.
	en := e.post(t, ledger.EntryInput{Key: "adj", OccurredAt: t0.Add(time.Hour), Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}})
	must(0, e.l.ClosePeriod(e.ctx, t0.Add(24*time.Hour))).ok(t)
	replayed, err := e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "adj", OccurredAt: t0.Add(time.Hour), Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}})
	if err != nil {
		t.Fatalf("replay of an entry in a period closed since: %v", err)
	}
	sameResult(t, "entry", en, replayed)
	e.verify(t)
}
