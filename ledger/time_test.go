package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// badTimes are times the books cannot store exactly: outside what Unix
// nanoseconds hold, and the Unix epoch, which the store reads back as no time.
var badTimes = []time.Time{
	time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
	ledger.MinTime.Add(-time.Nanosecond),
	ledger.MaxTime.Add(time.Nanosecond),
	time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	time.Unix(0, 0),
}

// Every time a caller supplies is refused with a *TimeError naming its
// field when the books cannot store it exactly, and nothing is written;
// before, such times were clamped to 1677 or 2262 on the way to SQLite.
func TestTimesOutsideTheStorableRangeAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	ctx := e.ctx
	// Something for every operation to act on.
	must(e.l.Authorize(ctx, ledger.AuthorizeRequest{Key: "a1", PaymentID: "pa", Provider: "stripe", Currency: "usd", Amount: dec("10"), At: t0})).ok(t)
	must(e.l.Capture(ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "pc", Provider: "stripe", Currency: "usd", Amount: dec("50"), At: t0})).ok(t)
	must(e.l.OpenDispute(ctx, ledger.DisputeRequest{Key: "d1", PaymentID: "pc", DisputeID: "dp", Amount: dec("5"), At: t0})).ok(t)
	must(e.l.CreatePayout(ctx, ledger.PayoutRequest{Key: "po1", PayoutID: "po", Provider: "stripe", Currency: "usd", Amount: dec("1"), At: t0})).ok(t)
	posted := must(e.l.PostEntry(ctx, ledger.EntryInput{Key: "e1", OccurredAt: t0, Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:owner", "usd", "1")}})).ok(t)
	pending := must(e.l.PostEntry(ctx, ledger.EntryInput{Key: "e2", OccurredAt: t0, Pending: true, Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:owner", "usd", "1")}})).ok(t)
	charge := e.bts(t)[0].ID

	cases := []struct {
		name, field string
		call        func(at time.Time) error
	}{
		{"authorize at", "at", func(at time.Time) error {
			_, err := e.l.Authorize(ctx, ledger.AuthorizeRequest{Key: "x", PaymentID: "px", Provider: "stripe", Currency: "usd", Amount: dec("1"), At: at})
			return err
		}},
		{"authorize expires_at", "expires_at", func(at time.Time) error {
			_, err := e.l.Authorize(ctx, ledger.AuthorizeRequest{Key: "x", PaymentID: "px", Provider: "stripe", Currency: "usd", Amount: dec("1"), At: t0, ExpiresAt: at})
			return err
		}},
		{"capture at", "at", func(at time.Time) error {
			_, err := e.l.Capture(ctx, ledger.CaptureRequest{Key: "x", PaymentID: "pa", At: at})
			return err
		}},
		{"capture available_on", "available_on", func(at time.Time) error {
			_, err := e.l.Capture(ctx, ledger.CaptureRequest{Key: "x", PaymentID: "pa", At: t0, AvailableOn: at})
			return err
		}},
		{"cancel", "at", func(at time.Time) error {
			_, err := e.l.Cancel(ctx, ledger.CancelRequest{Key: "x", PaymentID: "pa", At: at})
			return err
		}},
		{"refund", "at", func(at time.Time) error {
			_, err := e.l.Refund(ctx, ledger.RefundRequest{Key: "x", PaymentID: "pc", RefundID: "re", Amount: dec("1"), At: at})
			return err
		}},
		{"fee refund", "at", func(at time.Time) error {
			_, err := e.l.RefundFee(ctx, ledger.FeeRefundRequest{Key: "x", PaymentID: "pc", Amount: dec("1"), At: at})
			return err
		}},
		{"open dispute", "at", func(at time.Time) error {
			_, err := e.l.OpenDispute(ctx, ledger.DisputeRequest{Key: "x", PaymentID: "pc", DisputeID: "dx", Amount: dec("1"), At: at})
			return err
		}},
		{"win dispute", "at", func(at time.Time) error {
			_, err := e.l.WinDispute(ctx, ledger.DisputeCloseRequest{Key: "x", DisputeID: "dp", At: at})
			return err
		}},
		{"create payout at", "at", func(at time.Time) error {
			_, err := e.l.CreatePayout(ctx, ledger.PayoutRequest{Key: "x", PayoutID: "px", Provider: "stripe", Currency: "usd", Amount: dec("1"), At: at})
			return err
		}},
		{"create payout arrival_date", "arrival_date", func(at time.Time) error {
			_, err := e.l.CreatePayout(ctx, ledger.PayoutRequest{Key: "x", PayoutID: "px", Provider: "stripe", Currency: "usd", Amount: dec("1"), At: t0, ArrivalDate: at})
			return err
		}},
		{"pay payout", "at", func(at time.Time) error {
			_, err := e.l.PayPayout(ctx, ledger.PayoutUpdateRequest{Key: "x", PayoutID: "po", At: at})
			return err
		}},
		{"post entry occurred_at", "occurred_at", func(at time.Time) error {
			_, err := e.l.PostEntry(ctx, ledger.EntryInput{Key: "x", OccurredAt: at, Postings: []ledger.PostingInput{
				ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:owner", "usd", "1")}})
			return err
		}},
		{"post entry expires_at", "expires_at", func(at time.Time) error {
			_, err := e.l.PostEntry(ctx, ledger.EntryInput{Key: "x", OccurredAt: t0, Pending: true, ExpiresAt: at, Postings: []ledger.PostingInput{
				ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:owner", "usd", "1")}})
			return err
		}},
		{"post pending", "occurred_at", func(at time.Time) error {
			_, err := e.l.PostPending(ctx, ledger.PostPendingRequest{Key: "x", EntryID: pending.ID, OccurredAt: at})
			return err
		}},
		{"reverse", "at", func(at time.Time) error {
			_, err := e.l.Reverse(ctx, "x", posted.ID, at, "")
			return err
		}},
		{"book provider transaction created", "created", func(at time.Time) error {
			_, err := e.l.BookProviderTransaction(ctx, ledger.ProviderTransaction{Key: "x", Provider: "stripe", ID: "txn_x", Kind: "charge",
				Currency: "usd", Amount: 100, Net: 100, Status: "available", Created: at})
			return err
		}},
		{"book provider transaction available_on", "available_on", func(at time.Time) error {
			_, err := e.l.BookProviderTransaction(ctx, ledger.ProviderTransaction{Key: "x", Provider: "stripe", ID: "txn_x", Kind: "charge",
				Currency: "usd", Amount: 100, Net: 100, Status: "pending", Created: t0, AvailableOn: at})
			return err
		}},
		{"correct balance transaction", "at", func(at time.Time) error {
			_, err := e.l.CorrectBalanceTransaction(ctx, ledger.CorrectionRequest{Key: "x", BalanceTransactionID: charge, FeeDelta: dec("1"), At: at})
			return err
		}},
		{"close period", "through", func(at time.Time) error { return e.l.ClosePeriod(ctx, at) }},
	}
	before := dump(t, e.store.DB())
	for _, tc := range cases {
		for _, at := range badTimes {
			err := tc.call(at)
			var te *ledger.TimeError
			if !errors.Is(err, ledger.ErrInvalidTime) || !errors.As(err, &te) || te.Field != tc.field {
				t.Errorf("%s %s: err = %v, want a *TimeError for %q", tc.name, at.Format(time.RFC3339), err, tc.field)
			}
		}
	}
	if after := dump(t, e.store.DB()); after != before {
		t.Errorf("refused times changed the database:\n%s", after)
	}
	e.verify(t)
}

// Times at the edges of the storable range, and next to the Unix epoch,
// read back exactly as given.
func TestTimesAtTheEdgesRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	for i, at := range []time.Time{
		ledger.MinTime,
		ledger.MinTime.Add(time.Nanosecond),
		time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, -1),
		time.Unix(0, 1),
		time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC),
		ledger.MaxTime,
	} {
		key := "k" + string(rune('a'+i))
		in := ledger.EntryInput{Key: key, OccurredAt: at, Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:owner", "usd", "1")}}
		posted := must(e.l.PostEntry(e.ctx, in)).ok(t)
		got := must(e.l.Entry(e.ctx, posted.ID)).ok(t)
		if !got.OccurredAt.Equal(at) {
			t.Errorf("entry at %s read back as %s", at.Format(time.RFC3339Nano), got.OccurredAt.Format(time.RFC3339Nano))
		}
		// Replaying it matches: the idempotency hash sees the same time.
		if again := must(e.l.PostEntry(e.ctx, in)).ok(t); !again.Replayed {
			t.Errorf("replay of the entry at %s was not a replay", at.Format(time.RFC3339Nano))
		}
	}
	// A capture's available_on at the very end of the range is kept.
	res := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c", PaymentID: "p", Provider: "stripe", Currency: "usd",
		Amount: dec("1"), At: t0, AvailableOn: ledger.MaxTime})).ok(t)
	if got := e.bt(t, res.BalanceTransaction.ID).AvailableOn; !got.Equal(ledger.MaxTime) {
		t.Errorf("available_on %s read back as %s", ledger.MaxTime, got)
	}
	e.verify(t)
}

// A time the ledger derives (available_on = at + the default delay) that
// falls past the range is refused too, by the store, not clamped.
func TestDerivedTimePastTheRangeIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	before := dump(t, e.store.DB())
	_, err := e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c", PaymentID: "p", Provider: "stripe", Currency: "usd",
		Amount: dec("1"), At: ledger.MaxTime.Add(-time.Hour)})
	var te *ledger.TimeError
	if !errors.Is(err, ledger.ErrInvalidTime) || !errors.As(err, &te) || te.Field != "available_on" {
		t.Fatalf("err = %v, want a *TimeError for available_on", err)
	}
	if after := dump(t, e.store.DB()); after != before {
		t.Errorf("the refused capture wrote:\n%s", after)
	}
}

// The zero time means "now" for a request's own time, as documented.
func TestZeroTimeMeansNow(t *testing.T) {
	e := newEnv(t, nil)
	res := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c", PaymentID: "p", Provider: "stripe", Currency: "usd", Amount: dec("1")})).ok(t)
	if !res.Entry.OccurredAt.Equal(t0) {
		t.Errorf("occurred_at = %s, want the clock's %s", res.Entry.OccurredAt, t0)
	}
}

func TestCheckTime(t *testing.T) {
	for _, tt := range []struct {
		at   time.Time
		want string // "" for no error
	}{
		{time.Time{}, ""},
		{t0, ""},
		{ledger.MinTime, ""},
		{ledger.MaxTime, ""},
		{time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), "at: invalid time: 2263-01-01T00:00:00Z is outside the range the books store exactly (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)"},
		{time.Unix(0, 0), "at: invalid time: 1970-01-01T00:00:00Z is the Unix epoch, which the books keep for \"no time\"; give the real time of the event"},
	} {
		err := ledger.CheckTime("at", tt.at)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckTime(%s) = %q, want %q", tt.at, got, tt.want)
		}
	}
}
