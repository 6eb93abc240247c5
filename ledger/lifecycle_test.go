package ledger_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// Account and currency keys of the balances the lifecycle tests expect.
const (
	pendingUSD   = "assets:stripe:pending usd"
	availUSD     = "assets:stripe:available usd"
	salesUSD     = "income:sales usd"
	refundsUSD   = "income:refunds usd"
	stripeFeeUSD = "expenses:fees:stripe_fee usd"
	disputesUSD  = "assets:disputes:open usd"
	disputeFee   = "expenses:fees:dispute usd"
	chargebacks  = "expenses:chargebacks usd"
	inTransitUSD = "assets:payouts:in_transit usd"
	bankUSD      = "assets:bank:stripe usd"
)

// authorizeReq authorizes a USD payment through stripe at t0.
func authorizeReq(id, amount string) ledger.AuthorizeRequest {
	return ledger.AuthorizeRequest{Key: "auth-" + id, PaymentID: id, Provider: "stripe", ProviderRef: "pi_" + id,
		Amount: dec(amount), Currency: "usd", At: t0}
}

// chargeReq captures a USD payment automatically at t0, with a stripe_fee if
// fee is not empty.
func chargeReq(id, amount, fee string) ledger.CaptureRequest {
	r := ledger.CaptureRequest{Key: "charge-" + id, PaymentID: id, Provider: "stripe", ProviderRef: "ch_" + id,
		Currency: "usd", Amount: dec(amount), At: t0}
	if fee != "" {
		r.Fees = []ledger.Fee{{Type: "stripe_fee", Amount: dec(fee)}}
	}
	return r
}

func refundReq(key, payment, refund, amount string, at time.Time) ledger.RefundRequest {
	r := ledger.RefundRequest{Key: key, PaymentID: payment, RefundID: refund, ProviderRef: "re_" + refund, At: at}
	if amount != "" {
		r.Amount = dec(amount)
	}
	return r
}

// Setup steps, each failing the test on error.

func (e *env) authorize(t testing.TB, id, amount string) *ledger.Result {
	t.Helper()
	return must(e.l.Authorize(e.ctx, authorizeReq(id, amount))).ok(t)
}

func (e *env) charge(t testing.TB, id, amount, fee string) *ledger.Result {
	t.Helper()
	return must(e.l.Capture(e.ctx, chargeReq(id, amount, fee))).ok(t)
}

func (e *env) capture(t testing.TB, id, amount string) *ledger.Result {
	t.Helper()
	r := ledger.CaptureRequest{Key: "capture-" + id, PaymentID: id, At: t0.Add(time.Hour)}
	if amount != "" {
		r.Amount = dec(amount)
	}
	return must(e.l.Capture(e.ctx, r)).ok(t)
}

func (e *env) makeAvailable(t testing.TB, at time.Time) int {
	t.Helper()
	return must(e.l.MakeAvailable(e.ctx, at)).ok(t)
}

func (e *env) refund(t testing.TB, key, payment, refund, amount string, at time.Time) *ledger.Result {
	t.Helper()
	return must(e.l.Refund(e.ctx, refundReq(key, payment, refund, amount, at))).ok(t)
}

func (e *env) post(t testing.TB, in ledger.EntryInput) *ledger.Entry {
	t.Helper()
	return must(e.l.PostEntry(e.ctx, in)).ok(t)
}

func (e *env) entry(t testing.TB, id int64) *ledger.Entry {
	t.Helper()
	return must(e.l.Entry(e.ctx, id)).ok(t)
}

func (e *env) dispute(t testing.TB, payment, id, amount, fee string) *ledger.Result {
	t.Helper()
	return must(e.l.OpenDispute(e.ctx, ledger.DisputeRequest{Key: "dispute-" + id, PaymentID: payment, DisputeID: id,
		ProviderRef: "dp_" + id, Amount: dec(amount), Fee: dec(fee), At: t0.Add(72 * time.Hour)})).ok(t)
}

func (e *env) payout(t testing.TB, id, amount string, at time.Time) *ledger.Result {
	t.Helper()
	return must(e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "payout-" + id, PayoutID: id, Provider: "stripe",
		ProviderRef: "po_" + id, Amount: dec(amount), Currency: "usd", At: at})).ok(t)
}

// pendingEntry is a manual two-phase entry of 100.00 USD.
func pendingEntry(key string) ledger.EntryInput {
	return ledger.EntryInput{Key: key, OccurredAt: t0, Description: "hold", Pending: true, Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "100.00"), ledger.Credit("liabilities:customers", "usd", "100.00")}}
}

// lifecycleCase is one step of the payment lifecycle: preconditions, the
// call under test, and what it must do. A case with err set must fail with
// that error and leave every table exactly as it was.
type lifecycleCase struct {
	name  string
	opts  *ledger.Options
	setup func(t *testing.T, e *env)
	act   func(e *env) (any, error)
	err   error
	want  map[string]bal // every non-zero balance afterwards (checked unless err is set and want is nil)
	check func(t *testing.T, e *env, res any)
}

func runLifecycle(t *testing.T, cases []lifecycleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has a database of its own
			e := newEnv(t, c.opts)
			if c.setup != nil {
				c.setup(t, e)
			}
			before := dump(t, e.store.DB())
			res, err := c.act(e)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				if after := dump(t, e.store.DB()); after != before {
					t.Errorf("a refused call changed the database: %s", diffDumps(before, after))
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if c.err == nil || c.want != nil {
				e.wantBalances(t, c.want)
			}
			if c.check != nil {
				c.check(t, e, res)
			}
			e.verify(t)
		})
	}
}

func wantPayment(t *testing.T, p *ledger.Payment, status ledger.PaymentStatus, authorized, captured, refunded, disputed, fees int64) {
	t.Helper()
	if p.Status != status || p.Authorized != authorized || p.Captured != captured || p.Refunded != refunded ||
		p.Disputed != disputed || p.Fees != fees {
		t.Errorf("payment %s: status %s authorized %d captured %d refunded %d disputed %d fees %d; want %s %d %d %d %d %d",
			p.ID, p.Status, p.Authorized, p.Captured, p.Refunded, p.Disputed, p.Fees,
			status, authorized, captured, refunded, disputed, fees)
	}
}

// sameJSON fails unless a and b marshal to the same JSON.
func sameJSON(t *testing.T, what string, a, b any) {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(ja) != string(jb) {
		t.Errorf("%s differ:\n  %s\n  %s", what, ja, jb)
	}
}

func wantBT(t *testing.T, got *ledger.BalanceTransaction, want ledger.BalanceTransaction) {
	t.Helper()
	if got.Type != want.Type || got.ReportingCategory != want.ReportingCategory || got.Amount != want.Amount ||
		got.Fee != want.Fee || got.Net != want.Net || got.Status != want.Status || got.Currency != "usd" ||
		got.Net != got.Amount-got.Fee || got.PayoutID != want.PayoutID {
		t.Errorf("balance transaction %s: %s/%s amount %d fee %d net %d %s %s payout %q; want %s/%s amount %d fee %d net %d %s payout %q",
			got.ID, got.Type, got.ReportingCategory, got.Amount, got.Fee, got.Net, got.Currency, got.Status, got.PayoutID,
			want.Type, want.ReportingCategory, want.Amount, want.Fee, want.Net, want.Status, want.PayoutID)
	}
	if want.SourceID != "" && (got.SourceID != want.SourceID || got.SourceType != want.SourceType) {
		t.Errorf("balance transaction %s: source %s %s, want %s %s", got.ID, got.SourceType, got.SourceID, want.SourceType, want.SourceID)
	}
	if want.FeeDetails != nil && !reflect.DeepEqual(got.FeeDetails, want.FeeDetails) {
		t.Errorf("balance transaction %s: fee_details %+v, want %+v", got.ID, got.FeeDetails, want.FeeDetails)
	}
	if !want.AvailableOn.IsZero() && !got.AvailableOn.Equal(want.AvailableOn) {
		t.Errorf("balance transaction %s: available_on %s, want %s", got.ID, got.AvailableOn, want.AvailableOn)
	}
}

func TestLifecycleSteps(t *testing.T) {
	runLifecycle(t, []lifecycleCase{
		{
			name: "authorize affects pending balances only",
			act: func(e *env) (any, error) {
				return e.l.Authorize(e.ctx, authorizeReq("pay_1", "100.00"))
			},
			want: map[string]bal{pendingUSD: {0, 10000}, salesUSD: {0, -10000}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				if r.Entry.Phase != ledger.Pending || r.BalanceTransaction != nil || r.Replayed {
					t.Errorf("phase %s bt %v replayed %v", r.Entry.Phase, r.BalanceTransaction, r.Replayed)
				}
				p := e.payment(t, "pay_1")
				wantPayment(t, p, ledger.PaymentAuthorized, 10000, 0, 0, 0, 0)
				if p.CaptureMethod != "manual" || p.PendingEntryID != r.Entry.ID || p.ProviderRef != "pi_pay_1" {
					t.Errorf("payment %+v", p)
				}
				sameJSON(t, "stored and returned payment", p, r.Payment)
				if b := must(e.l.Balance(e.ctx, "assets:stripe:pending", "USD")).ok(t); b != 0 {
					t.Errorf("posted pending-account balance %d, want 0", b)
				}
				if n := len(e.bts(t)); n != 0 {
					t.Errorf("%d balance transactions, want none", n)
				}
				if asOf := must(e.l.BalancesAsOf(e.ctx, "", t0.Add(time.Hour))).ok(t); len(asOf) != 0 {
					t.Errorf("BalancesAsOf counts a pending entry: %+v", asOf)
				}
			},
		},
		{
			name:  "capture in full with a fee",
			setup: func(t *testing.T, e *env) { e.authorize(t, "pay_1", "100.00") },
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1", At: t0.Add(time.Hour),
					Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("3.20")}}})
			},
			want: map[string]bal{pendingUSD: {9680, 0}, stripeFeeUSD: {320, 0}, salesUSD: {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				p := e.payment(t, "pay_1")
				wantPayment(t, p, ledger.PaymentCaptured, 10000, 10000, 0, 0, 320)
				auth := e.entry(t, p.PendingEntryID)
				if auth.Resolution != ledger.Settled || auth.ResolvedBy != r.Entry.ID || r.Entry.PendingOf != auth.ID {
					t.Errorf("authorization resolution %q by %d; capture posts %d", auth.Resolution, auth.ResolvedBy, r.Entry.PendingOf)
				}
				wantBT(t, e.bt(t, r.BalanceTransaction.ID), ledger.BalanceTransaction{Type: "charge", ReportingCategory: "charge",
					Amount: 10000, Fee: 320, Net: 9680, Status: ledger.BTPending, SourceType: "payment", SourceID: "pay_1",
					FeeDetails:  []ledger.FeeDetail{{Type: "stripe_fee", Amount: 320}},
					AvailableOn: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)}) // captured 03-02 11:00; two days on, at 00:00 UTC
			},
		},
		{
			name:  "partial capture releases the rest",
			setup: func(t *testing.T, e *env) { e.authorize(t, "pay_1", "100.00") },
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1", Amount: dec("60"), At: t0.Add(time.Hour)})
			},
			want: map[string]bal{pendingUSD: {6000, 0}, salesUSD: {-6000, 0}},
			check: func(t *testing.T, e *env, res any) {
				wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentCaptured, 10000, 6000, 0, 0, 0)
				wantBT(t, res.(*ledger.Result).BalanceTransaction, ledger.BalanceTransaction{Type: "charge", ReportingCategory: "charge",
					Amount: 6000, Net: 6000, Status: ledger.BTPending})
			},
		},
		{
			name: "automatic capture",
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, chargeReq("pay_1", "50.00", "1.75"))
			},
			want: map[string]bal{pendingUSD: {4825, 0}, stripeFeeUSD: {175, 0}, salesUSD: {-5000, 0}},
			check: func(t *testing.T, e *env, res any) {
				p := e.payment(t, "pay_1")
				wantPayment(t, p, ledger.PaymentCaptured, 5000, 5000, 0, 0, 175)
				if p.CaptureMethod != "automatic" || p.PendingEntryID != 0 || p.Currency != "usd" || p.Provider != "stripe" {
					t.Errorf("payment %+v", p)
				}
				if r := res.(*ledger.Result); r.Entry.Phase != ledger.Posted || r.Entry.PendingOf != 0 {
					t.Errorf("entry %+v", r.Entry)
				}
			},
		},
		{
			name: "fees give fee_details and net, the charge pending until available_on",
			act: func(e *env) (any, error) {
				r := chargeReq("pay_1", "200.00", "")
				r.Fees = []ledger.Fee{{Type: "stripe_fee", Amount: dec("5.80")}, {Type: "application_fee", Amount: dec("2")},
					{Type: "other", Amount: dec("0")}}
				r.AvailableOn = t0.Add(72 * time.Hour).In(time.FixedZone("X", 3600))
				return e.l.Capture(e.ctx, r)
			},
			want: map[string]bal{pendingUSD: {19220, 0}, stripeFeeUSD: {580, 0}, "expenses:fees:application_fee usd": {200, 0},
				salesUSD: {-20000, 0}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				wantBT(t, e.bt(t, r.BalanceTransaction.ID), ledger.BalanceTransaction{Type: "charge", ReportingCategory: "charge",
					Amount: 20000, Fee: 780, Net: 19220, Status: ledger.BTPending, SourceType: "payment", SourceID: "pay_1",
					FeeDetails:  []ledger.FeeDetail{{Type: "stripe_fee", Amount: 580}, {Type: "application_fee", Amount: 200}},
					AvailableOn: t0.Add(72 * time.Hour)})
				wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentCaptured, 20000, 20000, 0, 0, 780)
			},
		},
		{
			name:  "cancel voids the authorization",
			setup: func(t *testing.T, e *env) { e.authorize(t, "pay_1", "100.00") },
			act: func(e *env) (any, error) {
				return e.l.Cancel(e.ctx, ledger.CancelRequest{Key: "cancel", PaymentID: "pay_1", At: t0.Add(time.Hour)})
			},
			want: nil,
			check: func(t *testing.T, e *env, res any) {
				p := e.payment(t, "pay_1")
				wantPayment(t, p, ledger.PaymentCanceled, 10000, 0, 0, 0, 0)
				if pe := e.entry(t, p.PendingEntryID); pe.Resolution != ledger.Voided {
					t.Errorf("authorization resolution %q, want voided", pe.Resolution)
				}
			},
		},
		{
			name: "make available moves pending to available, once",
			setup: func(t *testing.T, e *env) {
				e.charge(t, "pay_1", "100.00", "3.20")
				e.authorize(t, "pay_2", "40.00")
				// Captured at 03-02 10:00, estimated available 03-04 00:00.
				if n := e.makeAvailable(t, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)); n != 0 {
					t.Fatalf("made %d available before available_on", n)
				}
			},
			act: func(e *env) (any, error) { return e.l.MakeAvailable(e.ctx, t0.Add(48*time.Hour)) },
			want: map[string]bal{availUSD: {9680, 0}, stripeFeeUSD: {320, 0}, salesUSD: {-10000, -4000},
				pendingUSD: {0, 4000}},
			check: func(t *testing.T, e *env, res any) {
				if n := res.(int); n != 1 {
					t.Errorf("made %d available, want 1", n)
				}
				bts := e.bts(t)
				if len(bts) != 1 || bts[0].Status != ledger.BTAvailable {
					t.Fatalf("balance transactions %+v", bts)
				}
				before := dump(t, e.store.DB())
				if n := e.makeAvailable(t, t0.Add(96*time.Hour)); n != 0 {
					t.Errorf("second MakeAvailable made %d available", n)
				}
				if after := dump(t, e.store.DB()); after != before {
					t.Errorf("second MakeAvailable changed the database: %s", diffDumps(before, after))
				}
			},
		},
		{
			name: "partial refund",
			setup: func(t *testing.T, e *env) {
				e.charge(t, "pay_1", "100.00", "")
				e.makeAvailable(t, t0.Add(48*time.Hour))
			},
			act: func(e *env) (any, error) {
				r := refundReq("rf", "pay_1", "re_1", "30", t0.Add(50*time.Hour))
				r.Currency = "USD"
				r.Reason = "requested_by_customer"
				return e.l.Refund(e.ctx, r)
			},
			want: map[string]bal{availUSD: {7000, 0}, refundsUSD: {3000, 0}, salesUSD: {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentPartiallyRefunded, 10000, 10000, 3000, 0, 0)
				wantBT(t, e.bt(t, r.BalanceTransaction.ID), ledger.BalanceTransaction{Type: "refund", ReportingCategory: "refund",
					Amount: -3000, Net: -3000, Status: ledger.BTAvailable, SourceType: "refund", SourceID: "re_1"})
				if r.Refund.Amount != 3000 || r.Refund.PaymentID != "pay_1" || r.Refund.EntryID != r.Entry.ID ||
					r.Entry.Metadata["reason"] != "requested_by_customer" {
					t.Errorf("refund %+v entry metadata %v", r.Refund, r.Entry.Metadata)
				}
				if b := must(e.l.Balance(e.ctx, "income:refunds", "usd")).ok(t); b != -3000 {
					t.Errorf("income:refunds on its normal side = %d, want -3000", b)
				}
			},
		},
		{
			name: "repeated refunds up to the amount captured",
			setup: func(t *testing.T, e *env) {
				e.charge(t, "pay_1", "100.00", "")
				e.makeAvailable(t, t0.Add(48*time.Hour))
				e.refund(t, "rf1", "pay_1", "re_1", "30.00", t0.Add(50*time.Hour))
				e.refund(t, "rf2", "pay_1", "re_2", "50.00", t0.Add(51*time.Hour))
			},
			act: func(e *env) (any, error) {
				return e.l.Refund(e.ctx, refundReq("rf3", "pay_1", "re_3", "", t0.Add(52*time.Hour)))
			},
			want: map[string]bal{refundsUSD: {10000, 0}, salesUSD: {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				if r := res.(*ledger.Result); r.Refund.Amount != 2000 {
					t.Errorf("refund of the rest = %d, want 2000", r.Refund.Amount)
				}
				wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentRefunded, 10000, 10000, 10000, 0, 0)
			},
		},
		{
			name:  "refund before the funds are available takes the available balance negative",
			setup: func(t *testing.T, e *env) { e.charge(t, "pay_1", "100.00", "") },
			act: func(e *env) (any, error) {
				return e.l.Refund(e.ctx, refundReq("rf", "pay_1", "re_1", "10", t0.Add(time.Hour)))
			},
			want: map[string]bal{pendingUSD: {10000, 0}, availUSD: {-1000, 0}, refundsUSD: {1000, 0}, salesUSD: {-10000, 0}},
		},
		{
			name: "refund returning the processing fee",
			setup: func(t *testing.T, e *env) {
				r := chargeReq("pay_1", "100.00", "")
				r.Fees = []ledger.Fee{{Amount: dec("3.20")}} // default type: processing
				must(e.l.Capture(e.ctx, r)).ok(t)
				e.makeAvailable(t, t0.Add(48*time.Hour))
			},
			act: func(e *env) (any, error) {
				r := refundReq("rf", "pay_1", "re_1", "100", t0.Add(50*time.Hour))
				r.FeeRefund = dec("3.20")
				return e.l.Refund(e.ctx, r)
			},
			want: map[string]bal{refundsUSD: {10000, 0}, salesUSD: {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentRefunded, 10000, 10000, 10000, 0, 0)
				bts := e.bts(t)
				if len(bts) != 3 {
					t.Fatalf("%d balance transactions, want charge, refund and fee_refund", len(bts))
				}
				wantBT(t, bts[1], ledger.BalanceTransaction{Type: "refund", ReportingCategory: "refund", Amount: -10000, Net: -10000, Status: ledger.BTAvailable})
				wantBT(t, bts[2], ledger.BalanceTransaction{Type: "fee_refund", ReportingCategory: "fee", Amount: 320, Net: 320, Status: ledger.BTAvailable})
				if r := res.(*ledger.Result); r.Refund.FeeRefund != 320 {
					t.Errorf("refund fee_refund %d", r.Refund.FeeRefund)
				}
			},
		},
		{
			name: "application fee returned",
			setup: func(t *testing.T, e *env) {
				r := chargeReq("pay_1", "100.00", "")
				r.Fees = []ledger.Fee{{Type: "application_fee", Amount: dec("2.00")}}
				must(e.l.Capture(e.ctx, r)).ok(t)
			},
			act: func(e *env) (any, error) {
				return e.l.RefundFee(e.ctx, ledger.FeeRefundRequest{Key: "fr", PaymentID: "pay_1", Type: "application_fee",
					Amount: dec("2"), At: t0.Add(time.Hour)})
			},
			want: map[string]bal{pendingUSD: {9800, 0}, availUSD: {200, 0}, salesUSD: {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				wantBT(t, res.(*ledger.Result).BalanceTransaction, ledger.BalanceTransaction{Type: "fee_refund", ReportingCategory: "fee",
					Amount: 200, Net: 200, Status: ledger.BTAvailable})
				wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentCaptured, 10000, 10000, 0, 0, 0)
			},
		},
		{
			name: "dispute opened with a dispute fee",
			setup: func(t *testing.T, e *env) {
				e.charge(t, "pay_1", "100.00", "3.20")
				e.makeAvailable(t, t0.Add(48*time.Hour))
			},
			act: func(e *env) (any, error) {
				return e.l.OpenDispute(e.ctx, ledger.DisputeRequest{Key: "dp", PaymentID: "pay_1", DisputeID: "dp_1",
					Amount: dec("100"), Fee: dec("15"), At: t0.Add(72 * time.Hour)})
			},
			want: map[string]bal{availUSD: {-1820, 0}, disputesUSD: {10000, 0}, disputeFee: {1500, 0}, stripeFeeUSD: {320, 0},
				salesUSD: {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				wantBT(t, e.bt(t, r.BalanceTransaction.ID), ledger.BalanceTransaction{Type: "adjustment", ReportingCategory: "dispute",
					Amount: -10000, Fee: 1500, Net: -11500, Status: ledger.BTAvailable, SourceType: "dispute", SourceID: "dp_1",
					FeeDetails: []ledger.FeeDetail{{Type: "dispute", Amount: 1500}}})
				wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentDisputed, 10000, 10000, 0, 10000, 1820)
				if r.Dispute.Status != ledger.DisputeOpen || r.Dispute.Amount != 10000 || r.Dispute.Fee != 1500 {
					t.Errorf("dispute %+v", r.Dispute)
				}
			},
		},
		{
			name: "dispute won with the fee returned",
			setup: func(t *testing.T, e *env) {
				e.charge(t, "pay_1", "100.00", "3.20")
				e.makeAvailable(t, t0.Add(48*time.Hour))
				e.dispute(t, "pay_1", "dp_1", "100", "15")
			},
			act: func(e *env) (any, error) {
				return e.l.WinDispute(e.ctx, ledger.DisputeCloseRequest{Key: "won", DisputeID: "dp_1", FeeRefund: dec("15"),
					At: t0.Add(30 * 24 * time.Hour)})
			},
			want: map[string]bal{availUSD: {9680, 0}, stripeFeeUSD: {320, 0}, salesUSD: {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				wantBT(t, e.bt(t, r.BalanceTransaction.ID), ledger.BalanceTransaction{Type: "adjustment", ReportingCategory: "dispute_reversal",
					Amount: 10000, Fee: -1500, Net: 11500, Status: ledger.BTAvailable,
					FeeDetails: []ledger.FeeDetail{{Type: "dispute", Amount: -1500}}})
				wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentCaptured, 10000, 10000, 0, 0, 320)
				if r.Dispute.Status != ledger.DisputeWon || r.Dispute.FeeRefund != 1500 {
					t.Errorf("dispute %+v", r.Dispute)
				}
			},
		},
		{
			name: "dispute won without the fee",
			setup: func(t *testing.T, e *env) {
				e.charge(t, "pay_1", "100.00", "")
				e.dispute(t, "pay_1", "dp_1", "40", "15")
			},
			act: func(e *env) (any, error) {
				return e.l.WinDispute(e.ctx, ledger.DisputeCloseRequest{Key: "won", DisputeID: "dp_1", At: t0.Add(30 * 24 * time.Hour)})
			},
			want: map[string]bal{pendingUSD: {10000, 0}, availUSD: {-1500, 0}, disputeFee: {1500, 0}, salesUSD: {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				wantBT(t, res.(*ledger.Result).BalanceTransaction, ledger.BalanceTransaction{Type: "adjustment",
					ReportingCategory: "dispute_reversal", Amount: 4000, Net: 4000, Status: ledger.BTAvailable})
			},
		},
		{
			name: "dispute lost",
			setup: func(t *testing.T, e *env) {
				e.charge(t, "pay_1", "100.00", "3.20")
				e.makeAvailable(t, t0.Add(48*time.Hour))
				e.dispute(t, "pay_1", "dp_1", "100", "15")
			},
			act: func(e *env) (any, error) {
				return e.l.LoseDispute(e.ctx, ledger.DisputeCloseRequest{Key: "lost", DisputeID: "dp_1", At: t0.Add(30 * 24 * time.Hour)})
			},
			want: map[string]bal{availUSD: {-1820, 0}, chargebacks: {10000, 0}, disputeFee: {1500, 0}, stripeFeeUSD: {320, 0},
				salesUSD: {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				if r.BalanceTransaction != nil || len(e.bts(t)) != 2 {
					t.Errorf("a lost dispute made a balance transaction")
				}
				if r.Dispute.Status != ledger.DisputeLost {
					t.Errorf("dispute %+v", r.Dispute)
				}
				wantPayment(t, e.payment(t, "pay_1"), ledger.PaymentDisputed, 10000, 10000, 0, 10000, 1820)
			},
		},
		{
			name:  "automatic payout created holds the balance transactions available by its time",
			setup: payoutSetup,
			act: func(e *env) (any, error) {
				return e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "po", PayoutID: "po_1", Provider: "stripe", ProviderRef: "po_X",
					Amount: dec("50"), Currency: "USD", At: t0.Add(50 * time.Hour), Automatic: true})
			},
			want: map[string]bal{availUSD: {3680, 0}, inTransitUSD: {5000, 0}, pendingUSD: {5000, 0}, stripeFeeUSD: {320, 0},
				refundsUSD: {1000, 0}, salesUSD: {-15000, 0}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				if r.Payout.Status != ledger.PayoutInTransit || r.Payout.Amount != 5000 || !r.Payout.ArrivalDate.Equal(t0.Add(50*time.Hour)) {
					t.Errorf("payout %+v", r.Payout)
				}
				bts := e.bts(t)
				if len(bts) != 4 {
					t.Fatalf("%d balance transactions, want 4", len(bts))
				}
				wantBT(t, bts[0], ledger.BalanceTransaction{Type: "charge", ReportingCategory: "charge", Amount: 10000, Fee: 320, Net: 9680,
					Status: ledger.BTAvailable, PayoutID: "po_1"})
				wantBT(t, bts[1], ledger.BalanceTransaction{Type: "refund", ReportingCategory: "refund", Amount: -1000, Net: -1000,
					Status: ledger.BTAvailable, PayoutID: "po_1"})
				wantBT(t, bts[2], ledger.BalanceTransaction{Type: "charge", ReportingCategory: "charge", Amount: 5000, Net: 5000,
					Status: ledger.BTPending})
				wantBT(t, bts[3], ledger.BalanceTransaction{Type: "payout", ReportingCategory: "payout", Amount: -5000, Net: -5000,
					Status: ledger.BTAvailable, SourceType: "payout", SourceID: "po_1"})
				var swept int
				must(0, e.l.View(e.ctx, func(tx ledger.ReadTx) error {
					return tx.EachBalanceTransaction(e.ctx, ledger.BTFilter{PayoutID: "po_1"}, func(*ledger.BalanceTransaction) error {
						swept++
						return nil
					})
				})).ok(t)
				if swept != 2 {
					t.Errorf("BTFilter{PayoutID} found %d, want 2", swept)
				}
			},
		},
		{
			name: "payout paid",
			setup: func(t *testing.T, e *env) {
				payoutSetup(t, e)
				e.payout(t, "po_1", "50", t0.Add(50*time.Hour))
			},
			act: func(e *env) (any, error) {
				return e.l.PayPayout(e.ctx, ledger.PayoutUpdateRequest{Key: "paid", PayoutID: "po_1", At: t0.Add(72 * time.Hour)})
			},
			want: map[string]bal{availUSD: {3680, 0}, bankUSD: {5000, 0}, pendingUSD: {5000, 0}, stripeFeeUSD: {320, 0},
				refundsUSD: {1000, 0}, salesUSD: {-15000, 0}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				if r.Payout.Status != ledger.PayoutPaid || r.BalanceTransaction != nil || len(e.bts(t)) != 4 {
					t.Errorf("payout %+v, balance transaction %+v", r.Payout, r.BalanceTransaction)
				}
			},
		},
		{
			name: "payout failed",
			setup: func(t *testing.T, e *env) {
				payoutSetup(t, e)
				e.payout(t, "po_1", "50", t0.Add(50*time.Hour))
			},
			act: func(e *env) (any, error) {
				return e.l.FailPayout(e.ctx, ledger.PayoutUpdateRequest{Key: "failed", PayoutID: "po_1", At: t0.Add(72 * time.Hour)})
			},
			want: map[string]bal{availUSD: {8680, 0}, pendingUSD: {5000, 0}, stripeFeeUSD: {320, 0},
				refundsUSD: {1000, 0}, salesUSD: {-15000, 0}},
			check: func(t *testing.T, e *env, res any) {
				r := res.(*ledger.Result)
				if r.Payout.Status != ledger.PayoutFailed {
					t.Errorf("payout %+v", r.Payout)
				}
				wantBT(t, e.bt(t, r.BalanceTransaction.ID), ledger.BalanceTransaction{Type: "payout_failure",
					ReportingCategory: "payout_reversal", Amount: 5000, Net: 5000, Status: ledger.BTAvailable, SourceType: "payout", SourceID: "po_1"})
			},
		},
		{
			name: "manual adjustment of a provider balance",
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "adj", OccurredAt: t0, Description: "correction",
					Postings: []ledger.PostingInput{ledger.Debit("assets:stripe:available", "usd", "5.00"),
						ledger.Credit("income:adjustments", "usd", "5.00")}})
			},
			want: map[string]bal{availUSD: {500, 0}, "income:adjustments usd": {-500, 0}},
			check: func(t *testing.T, e *env, res any) {
				en := res.(*ledger.Entry)
				bts := e.bts(t)
				if len(bts) != 1 {
					t.Fatalf("%d balance transactions, want 1", len(bts))
				}
				wantBT(t, bts[0], ledger.BalanceTransaction{Type: "adjustment", ReportingCategory: "other_adjustment",
					Amount: 500, Net: 500, Status: ledger.BTAvailable, SourceType: "entry", SourceID: "adj"})
				if bts[0].EntryID != en.ID || bts[0].Provider != "stripe" {
					t.Errorf("balance transaction %+v", bts[0])
				}
			},
		},
		{
			name: "manual transfer between two providers makes one adjustment each",
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "xfer", OccurredAt: t0, Postings: []ledger.PostingInput{
					ledger.Debit("assets:stripe:available", "usd", "7.00"), ledger.Credit("assets:adyen:available", "usd", "7.00"),
					ledger.Debit("assets:bank:ops", "eur", "1.00"), ledger.Credit("equity:capital", "eur", "1.00")}})
			},
			want: map[string]bal{availUSD: {700, 0}, "assets:adyen:available usd": {-700, 0}, "assets:bank:ops eur": {100, 0},
				"equity:capital eur": {-100, 0}},
			check: func(t *testing.T, e *env, res any) {
				bts := e.bts(t)
				if len(bts) != 2 {
					t.Fatalf("%d balance transactions, want 2: %+v", len(bts), bts)
				}
				got := map[string]int64{bts[0].Provider: bts[0].Amount, bts[1].Provider: bts[1].Amount}
				if !reflect.DeepEqual(got, map[string]int64{"stripe": 700, "adyen": -700}) || bts[0].ID == bts[1].ID {
					t.Errorf("balance transactions %+v", bts)
				}
			},
		},
		{
			name: "manual entry outside provider balances makes no balance transaction",
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "cap", OccurredAt: t0, Metadata: map[string]string{"by": "cfo"},
					Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "jpy", "1500"), ledger.Credit("equity:capital", "JPY", "1500")}})
			},
			want: map[string]bal{"assets:bank:ops jpy": {1500, 0}, "equity:capital jpy": {-1500, 0}},
			check: func(t *testing.T, e *env, res any) {
				if n := len(e.bts(t)); n != 0 {
					t.Errorf("%d balance transactions", n)
				}
				en := e.entry(t, res.(*ledger.Entry).ID)
				if en.Metadata["by"] != "cfo" || en.Phase != ledger.Posted || len(en.Postings) != 2 {
					t.Errorf("stored entry %+v", en)
				}
			},
		},
		{
			name: "reversal",
			setup: func(t *testing.T, e *env) {
				e.post(t, ledger.EntryInput{Key: "adj", OccurredAt: t0, Postings: []ledger.PostingInput{
					ledger.Debit("assets:stripe:available", "usd", "5.00"), ledger.Credit("income:adjustments", "usd", "5.00")}})
			},
			act: func(e *env) (any, error) {
				return e.l.Reverse(e.ctx, "rev", 1, t0.Add(time.Hour), "")
			},
			want: nil,
			check: func(t *testing.T, e *env, res any) {
				en := res.(*ledger.Entry)
				if en.Reverses != 1 || en.Postings[0].Amount != -500 {
					t.Errorf("reversal %+v", en)
				}
				bts := e.bts(t)
				if len(bts) != 2 {
					t.Fatalf("%d balance transactions, want 2", len(bts))
				}
				wantBT(t, bts[1], ledger.BalanceTransaction{Type: "adjustment", ReportingCategory: "other_adjustment",
					Amount: -500, Net: -500, Status: ledger.BTAvailable})
				if asOf := must(e.l.BalancesAsOf(e.ctx, "", t0.Add(time.Minute))).ok(t); len(asOf) != 2 {
					t.Errorf("before the reversal: %+v", asOf)
				}
			},
		},
		{
			name: "pending entry",
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, pendingEntry("hold"))
			},
			want: map[string]bal{"assets:bank:ops usd": {0, 10000}, "liabilities:customers usd": {0, -10000}},
		},
		{
			name:  "post a pending entry in full",
			setup: func(t *testing.T, e *env) { e.post(t, pendingEntry("hold")) },
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1, OccurredAt: t0.Add(time.Hour)})
			},
			want: map[string]bal{"assets:bank:ops usd": {10000, 0}, "liabilities:customers usd": {-10000, 0}},
			check: func(t *testing.T, e *env, res any) {
				en := res.(*ledger.Entry)
				pe := e.entry(t, 1)
				if en.PendingOf != 1 || pe.Resolution != ledger.Settled || pe.ResolvedBy != en.ID || en.Description != "hold" {
					t.Errorf("posted %+v, pending %+v", en, pe)
				}
			},
		},
		{
			name:  "post a pending entry in part releases the rest",
			setup: func(t *testing.T, e *env) { e.post(t, pendingEntry("hold")) },
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1, OccurredAt: t0.Add(time.Hour),
					Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "40"), ledger.Credit("liabilities:customers", "usd", "40")}})
			},
			want: map[string]bal{"assets:bank:ops usd": {4000, 0}, "liabilities:customers usd": {-4000, 0}},
		},
		{
			name:  "void a pending entry",
			setup: func(t *testing.T, e *env) { e.post(t, pendingEntry("hold")) },
			act:   func(e *env) (any, error) { return nil, e.l.VoidPending(e.ctx, "void", 1) },
			want:  nil,
			check: func(t *testing.T, e *env, res any) {
				if pe := e.entry(t, 1); pe.Resolution != ledger.Voided {
					t.Errorf("resolution %q", pe.Resolution)
				}
			},
		},
		{
			name: "expire authorizations",
			setup: func(t *testing.T, e *env) {
				r := authorizeReq("pay_1", "100.00")
				r.ExpiresAt = t0.Add(7 * 24 * time.Hour)
				must(e.l.Authorize(e.ctx, r)).ok(t)
				e.authorize(t, "pay_2", "30.00")
				must(e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "hold", OccurredAt: t0, Pending: true, ExpiresAt: t0.Add(24 * time.Hour),
					Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("liabilities:customers", "usd", "1")}})).ok(t)
				if n := must(e.l.ExpireAuthorizations(e.ctx, t0.Add(time.Hour))).ok(t); n != 0 {
					t.Fatalf("expired %d early", n)
				}
			},
			act:  func(e *env) (any, error) { return e.l.ExpireAuthorizations(e.ctx, t0.Add(7*24*time.Hour)) },
			want: map[string]bal{pendingUSD: {0, 3000}, salesUSD: {0, -3000}},
			check: func(t *testing.T, e *env, res any) {
				if n := res.(int); n != 2 {
					t.Errorf("expired %d, want 2", n)
				}
				p := e.payment(t, "pay_1")
				wantPayment(t, p, ledger.PaymentCanceled, 10000, 0, 0, 0, 0)
				if pe := e.entry(t, p.PendingEntryID); pe.Resolution != ledger.Expired {
					t.Errorf("resolution %q, want expired", pe.Resolution)
				}
				wantPayment(t, e.payment(t, "pay_2"), ledger.PaymentAuthorized, 3000, 0, 0, 0, 0)
				if n := must(e.l.ExpireAuthorizations(e.ctx, t0.Add(30*24*time.Hour))).ok(t); n != 0 {
					t.Errorf("expired %d again", n)
				}
			},
		},
		{
			name:  "books stay open after the closed period",
			setup: func(t *testing.T, e *env) { must(0, e.l.ClosePeriod(e.ctx, t0.Add(24*time.Hour))).ok(t) },
			act: func(e *env) (any, error) {
				r := chargeReq("pay_1", "10", "")
				r.At = t0.Add(24*time.Hour + time.Nanosecond)
				return e.l.Capture(e.ctx, r)
			},
			want: map[string]bal{pendingUSD: {1000, 0}, salesUSD: {-1000, 0}},
		},
		{
			name: "make available after the period closed books at asOf",
			setup: func(t *testing.T, e *env) {
				e.charge(t, "pay_1", "10", "")
				must(0, e.l.ClosePeriod(e.ctx, t0.Add(72*time.Hour))).ok(t)
			},
			act:  func(e *env) (any, error) { return e.l.MakeAvailable(e.ctx, t0.Add(96*time.Hour)) },
			want: map[string]bal{availUSD: {1000, 0}, salesUSD: {-1000, 0}},
			check: func(t *testing.T, e *env, res any) {
				if asOf := must(e.l.BalancesAsOf(e.ctx, "assets:stripe", t0.Add(72*time.Hour))).ok(t); len(asOf) != 1 || asOf[0].Account != "assets:stripe:pending" {
					t.Errorf("the closed period changed: %+v", asOf)
				}
			},
		},
	})
}

// payoutSetup: pay_1 100.00 (fee 3.20) captured and available, 10.00 of it
// refunded; pay_2 50.00 captured, not yet available.
func payoutSetup(t *testing.T, e *env) {
	e.charge(t, "pay_1", "100.00", "3.20")
	e.makeAvailable(t, t0.Add(48*time.Hour))
	e.refund(t, "rf1", "pay_1", "re_1", "10.00", t0.Add(49*time.Hour))
	r := chargeReq("pay_2", "50.00", "")
	r.At = t0.Add(49 * time.Hour)
	must(e.l.Capture(e.ctx, r)).ok(t)
}

func TestLifecycleRefusals(t *testing.T) {
	authorized := func(t *testing.T, e *env) { e.authorize(t, "pay_1", "100.00") }
	captured := func(t *testing.T, e *env) { e.charge(t, "pay_1", "100.00", "3.20") }
	pending := func(t *testing.T, e *env) { e.post(t, pendingEntry("hold")) }
	runLifecycle(t, []lifecycleCase{
		// Captures.
		{name: "over-capture", setup: authorized, err: ledger.ErrOverCapture,
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1", Amount: dec("100.01")})
			}},
		{name: "double capture", err: ledger.ErrAlreadyCaptured,
			setup: func(t *testing.T, e *env) { authorized(t, e); e.capture(t, "pay_1", "50") },
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap2", PaymentID: "pay_1", Amount: dec("10")})
			}},
		{name: "second automatic capture of a payment", setup: captured, err: ledger.ErrAlreadyCaptured,
			act: func(e *env) (any, error) {
				r := chargeReq("pay_1", "100.00", "")
				r.Key = "again"
				return e.l.Capture(e.ctx, r)
			}},
		{name: "capture after cancel", err: ledger.ErrAlreadyVoided,
			setup: func(t *testing.T, e *env) {
				authorized(t, e)
				must(e.l.Cancel(e.ctx, ledger.CancelRequest{Key: "cancel", PaymentID: "pay_1"})).ok(t)
			},
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1"})
			}},
		{name: "cancel after capture", err: ledger.ErrAlreadyCaptured,
			setup: func(t *testing.T, e *env) { authorized(t, e); e.capture(t, "pay_1", "") },
			act: func(e *env) (any, error) {
				return e.l.Cancel(e.ctx, ledger.CancelRequest{Key: "cancel", PaymentID: "pay_1"})
			}},
		{name: "cancel an automatic capture", setup: captured, err: ledger.ErrAlreadyCaptured,
			act: func(e *env) (any, error) {
				return e.l.Cancel(e.ctx, ledger.CancelRequest{Key: "cancel", PaymentID: "pay_1"})
			}},
		{name: "cancel twice", err: ledger.ErrAlreadyVoided,
			setup: func(t *testing.T, e *env) {
				authorized(t, e)
				must(e.l.Cancel(e.ctx, ledger.CancelRequest{Key: "cancel", PaymentID: "pay_1"})).ok(t)
			},
			act: func(e *env) (any, error) {
				return e.l.Cancel(e.ctx, ledger.CancelRequest{Key: "cancel2", PaymentID: "pay_1"})
			}},
		{name: "capture with fees that do not fit the currency", setup: authorized, err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1",
					Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("0.005")}}})
			}},
		{name: "negative fee", setup: authorized, err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1",
					Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("-1")}}})
			}},
		{name: "authorize an existing payment", setup: authorized, err: ledger.ErrInvalidState,
			act: func(e *env) (any, error) {
				r := authorizeReq("pay_1", "100.00")
				r.Key = "other"
				return e.l.Authorize(e.ctx, r)
			}},

		// Pending entries.
		{name: "void after post", err: ledger.ErrAlreadyCaptured,
			setup: func(t *testing.T, e *env) {
				pending(t, e)
				must(e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1})).ok(t)
			},
			act: func(e *env) (any, error) { return nil, e.l.VoidPending(e.ctx, "void", 1) }},
		{name: "post after void", err: ledger.ErrAlreadyVoided,
			setup: func(t *testing.T, e *env) { pending(t, e); must(0, e.l.VoidPending(e.ctx, "void", 1)).ok(t) },
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1})
			}},
		{name: "post twice", err: ledger.ErrAlreadyCaptured,
			setup: func(t *testing.T, e *env) {
				pending(t, e)
				must(e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1})).ok(t)
			},
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post2", EntryID: 1})
			}},
		{name: "void twice", err: ledger.ErrAlreadyVoided,
			setup: func(t *testing.T, e *env) { pending(t, e); must(0, e.l.VoidPending(e.ctx, "void", 1)).ok(t) },
			act:   func(e *env) (any, error) { return nil, e.l.VoidPending(e.ctx, "void2", 1) }},
		{name: "void an expired entry", err: ledger.ErrAlreadyVoided,
			setup: func(t *testing.T, e *env) {
				in := pendingEntry("hold")
				in.ExpiresAt = t0.Add(time.Hour)
				e.post(t, in)
				if n := must(e.l.ExpireAuthorizations(e.ctx, t0.Add(time.Hour))).ok(t); n != 1 {
					t.Fatalf("expired %d", n)
				}
			},
			act: func(e *env) (any, error) { return nil, e.l.VoidPending(e.ctx, "void", 1) }},
		{name: "post more than pending", setup: pending, err: ledger.ErrOverCapture,
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1, Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "usd", "100.01"), ledger.Credit("liabilities:customers", "usd", "100.01")}})
			}},
		{name: "post more than pending in several postings", setup: pending, err: ledger.ErrOverCapture,
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1, Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "usd", "80"), ledger.Debit("assets:bank:ops", "usd", "80"),
					ledger.Credit("liabilities:customers", "usd", "80"), ledger.Credit("liabilities:customers", "usd", "80")}})
			}},
		{name: "post a pending entry with the sign reversed", setup: pending, err: ledger.ErrOverCapture,
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1, Postings: []ledger.PostingInput{
					ledger.Credit("assets:bank:ops", "usd", "10"), ledger.Debit("liabilities:customers", "usd", "10")}})
			}},
		{name: "post to an account not in the pending entry", setup: pending, err: ledger.ErrInvalidRequest,
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1, Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:other", "usd", "10"), ledger.Credit("liabilities:customers", "usd", "10")}})
			}},
		{name: "post a posted entry", err: ledger.ErrInvalidState,
			setup: func(t *testing.T, e *env) { captured(t, e) },
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "post", EntryID: 1})
			}},
		{name: "void a posted entry", setup: captured, err: ledger.ErrInvalidState,
			act: func(e *env) (any, error) { return nil, e.l.VoidPending(e.ctx, "void", 1) }},
		{name: "reverse a pending entry", setup: pending, err: ledger.ErrInvalidState,
			act: func(e *env) (any, error) { return e.l.Reverse(e.ctx, "rev", 1, t0, "") }},
		{name: "expiry on a posted entry", err: ledger.ErrInvalidRequest,
			act: func(e *env) (any, error) {
				in := pendingEntry("x")
				in.Pending = false
				in.ExpiresAt = t0.Add(time.Hour)
				return e.l.PostEntry(e.ctx, in)
			}},

		// Currencies.
		{name: "refund in another currency", setup: captured, err: ledger.ErrCurrencyMismatch,
			act: func(e *env) (any, error) {
				r := refundReq("rf", "pay_1", "re_1", "10", t0)
				r.Currency = "eur"
				return e.l.Refund(e.ctx, r)
			}},
		{name: "capture in another currency", setup: authorized, err: ledger.ErrCurrencyMismatch,
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1", Currency: "EUR"})
			}},
		{name: "unknown currency", err: ledger.ErrUnknownCurrency,
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "x", Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "eth", "1"), ledger.Credit("equity:capital", "eth", "1")}})
			}},

		// Unbalanced and malformed entries.
		{name: "unbalanced entry", err: ledger.ErrUnbalanced, setup: captured,
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "x", Postings: []ledger.PostingInput{
					ledger.Debit("assets:stripe:available", "usd", "10.00"), ledger.Credit("income:adjustments", "usd", "9.99")}})
			},
			want: map[string]bal{pendingUSD: {9680, 0}, stripeFeeUSD: {320, 0}, salesUSD: {-10000, 0}}},
		{name: "entry balanced in total but not per currency", err: ledger.ErrUnbalanced,
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "x", Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "usd", "10"), ledger.Credit("equity:capital", "eur", "10")}})
			}},
		{name: "single posting", err: ledger.ErrUnbalanced,
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "x", Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "usd", "0")}})
			}},
		{name: "zero posting", err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "x", Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1"),
					ledger.Debit("assets:bank:other", "usd", "0")}})
			}},
		{name: "bad account name", err: ledger.ErrInvalidAccount,
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "x", Postings: []ledger.PostingInput{
					ledger.Debit("cash:Main", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}})
			}},
		{name: "entry without a key", err: ledger.ErrInvalidRequest,
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}})
			}},
		{name: "operation without a key", setup: captured, err: ledger.ErrInvalidRequest,
			act: func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq(" ", "pay_1", "re_1", "1", t0)) }},
		{name: "a batch with a bad entry writes none", err: ledger.ErrIdempotencyConflict,
			setup: func(t *testing.T, e *env) { e.post(t, pendingEntry("hold")) },
			act: func(e *env) (any, error) {
				good := ledger.EntryInput{Key: "good", OccurredAt: t0, Postings: []ledger.PostingInput{
					ledger.Debit("assets:stripe:available", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}}
				conflict := pendingEntry("hold")
				conflict.Description = "changed"
				return e.l.PostEntries(e.ctx, []ledger.EntryInput{good, conflict})
			}},
		{name: "non-negative account", err: ledger.ErrInsufficientFunds,
			opts: &ledger.Options{NonNegative: []string{"assets:bank"}},
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "x", Postings: []ledger.PostingInput{
					ledger.Credit("assets:bank:ops", "usd", "1"), ledger.Debit("expenses:rent", "usd", "1")}})
			}},

		// Amounts.
		{name: "capture of an inexact amount", setup: authorized, err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1", Amount: dec("10.001")})
			}},
		{name: "authorization of 12.345 USD", err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) { return e.l.Authorize(e.ctx, authorizeReq("pay_1", "12.345")) }},
		{name: "fractional yen", err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) {
				r := chargeReq("pay_1", "1500.5", "")
				r.Currency = "jpy"
				return e.l.Capture(e.ctx, r)
			}},
		{name: "refund of an inexact amount", setup: captured, err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq("rf", "pay_1", "re_1", "0.001", t0)) }},
		{name: "negative refund", setup: captured, err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq("rf", "pay_1", "re_1", "-1", t0)) }},
		{name: "zero authorization", err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) { return e.l.Authorize(e.ctx, authorizeReq("pay_1", "0")) }},
		{name: "inexact manual posting", err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "x", Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "kwd", "1.0001"), ledger.Credit("equity:capital", "kwd", "1.0001")}})
			}},
		{name: "overflowing amount", err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) {
				return e.l.Authorize(e.ctx, authorizeReq("pay_1", "92233720368547758.08"))
			}},
		{name: "balance overflow", err: ledger.ErrInvalidAmount,
			setup: func(t *testing.T, e *env) {
				e.post(t, ledger.EntryInput{Key: "big", OccurredAt: t0, Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "usd", "92233720368547758.07"), ledger.Credit("equity:capital", "usd", "92233720368547758.07")}})
			},
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "more", OccurredAt: t0, Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "usd", "0.01"), ledger.Credit("equity:other", "usd", "0.01")}})
			}},
		{name: "dispute larger than captured", setup: captured, err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) {
				return e.l.OpenDispute(e.ctx, ledger.DisputeRequest{Key: "dp", PaymentID: "pay_1", DisputeID: "dp_1", Amount: dec("100.01")})
			}},
		{name: "dispute of an uncaptured payment", setup: authorized, err: ledger.ErrInvalidAmount,
			act: func(e *env) (any, error) {
				return e.l.OpenDispute(e.ctx, ledger.DisputeRequest{Key: "dp", PaymentID: "pay_1", DisputeID: "dp_1", Amount: dec("1")})
			}},
		{name: "second dispute beyond what is left", err: ledger.ErrInvalidAmount,
			setup: func(t *testing.T, e *env) { captured(t, e); e.dispute(t, "pay_1", "dp_1", "60", "0") },
			act: func(e *env) (any, error) {
				return e.l.OpenDispute(e.ctx, ledger.DisputeRequest{Key: "dp2", PaymentID: "pay_1", DisputeID: "dp_2", Amount: dec("40.01")})
			}},

		// Refunds.
		{name: "over-refund", setup: captured, err: ledger.ErrOverRefund,
			act: func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq("rf", "pay_1", "re_1", "100.01", t0)) }},
		{name: "over-refund after partial refunds", err: ledger.ErrOverRefund,
			setup: func(t *testing.T, e *env) {
				captured(t, e)
				e.refund(t, "rf1", "pay_1", "re_1", "60", t0)
				e.refund(t, "rf2", "pay_1", "re_2", "39.99", t0)
			},
			act: func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq("rf3", "pay_1", "re_3", "0.02", t0)) }},
		{name: "refund of a fully refunded payment", err: ledger.ErrOverRefund,
			setup: func(t *testing.T, e *env) { captured(t, e); e.refund(t, "rf1", "pay_1", "re_1", "", t0) },
			act:   func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq("rf2", "pay_1", "re_2", "", t0)) }},
		{name: "refund of an uncaptured payment", setup: authorized, err: ledger.ErrOverRefund,
			act: func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq("rf", "pay_1", "re_1", "1", t0)) }},
		{name: "fee refund larger than the fees", setup: captured, err: ledger.ErrOverRefund,
			act: func(e *env) (any, error) {
				r := refundReq("rf", "pay_1", "re_1", "10", t0)
				r.FeeRefund = dec("3.21")
				return e.l.Refund(e.ctx, r)
			}},
		{name: "fee returned larger than the fees", setup: captured, err: ledger.ErrOverRefund,
			act: func(e *env) (any, error) {
				return e.l.RefundFee(e.ctx, ledger.FeeRefundRequest{Key: "fr", PaymentID: "pay_1", Amount: dec("3.21")})
			}},
		{name: "dispute fee returned larger than charged", err: ledger.ErrOverRefund,
			setup: func(t *testing.T, e *env) { captured(t, e); e.dispute(t, "pay_1", "dp_1", "10", "15") },
			act: func(e *env) (any, error) {
				return e.l.WinDispute(e.ctx, ledger.DisputeCloseRequest{Key: "won", DisputeID: "dp_1", FeeRefund: dec("15.01")})
			}},
		{name: "lost dispute with a fee refund", err: ledger.ErrInvalidRequest,
			setup: func(t *testing.T, e *env) { captured(t, e); e.dispute(t, "pay_1", "dp_1", "10", "15") },
			act: func(e *env) (any, error) {
				return e.l.LoseDispute(e.ctx, ledger.DisputeCloseRequest{Key: "lost", DisputeID: "dp_1", FeeRefund: dec("15")})
			}},
		{name: "duplicate refund id", err: ledger.ErrInvalidState,
			setup: func(t *testing.T, e *env) { captured(t, e); e.refund(t, "rf1", "pay_1", "re_1", "1", t0) },
			act:   func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq("rf2", "pay_1", "re_1", "1", t0)) }},
		{name: "duplicate dispute id", err: ledger.ErrInvalidState,
			setup: func(t *testing.T, e *env) { captured(t, e); e.dispute(t, "pay_1", "dp_1", "10", "0") },
			act: func(e *env) (any, error) {
				return e.l.OpenDispute(e.ctx, ledger.DisputeRequest{Key: "other", PaymentID: "pay_1", DisputeID: "dp_1",
					Amount: dec("5")})
			}},

		// Closing disputes and payouts twice.
		{name: "dispute closed twice", err: ledger.ErrAlreadyResolved,
			setup: func(t *testing.T, e *env) {
				captured(t, e)
				e.dispute(t, "pay_1", "dp_1", "10", "0")
				must(e.l.LoseDispute(e.ctx, ledger.DisputeCloseRequest{Key: "lost", DisputeID: "dp_1"})).ok(t)
			},
			act: func(e *env) (any, error) {
				return e.l.WinDispute(e.ctx, ledger.DisputeCloseRequest{Key: "won", DisputeID: "dp_1"})
			}},
		{name: "payout failed after it was paid", err: ledger.ErrAlreadyResolved,
			setup: func(t *testing.T, e *env) {
				e.payout(t, "po_1", "10", t0)
				must(e.l.PayPayout(e.ctx, ledger.PayoutUpdateRequest{Key: "paid", PayoutID: "po_1"})).ok(t)
			},
			act: func(e *env) (any, error) {
				return e.l.FailPayout(e.ctx, ledger.PayoutUpdateRequest{Key: "failed", PayoutID: "po_1"})
			}},
		{name: "duplicate payout id", err: ledger.ErrInvalidState,
			setup: func(t *testing.T, e *env) { e.payout(t, "po_1", "10", t0) },
			act: func(e *env) (any, error) {
				return e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "other", PayoutID: "po_1", Provider: "stripe",
					Amount: dec("10"), Currency: "usd"})
			}},

		// Not found.
		{name: "capture of an unknown payment", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) {
				return e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "k", PaymentID: "nope"})
			}},
		{name: "refund of an unknown payment", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq("k", "nope", "re_1", "1", t0)) }},
		{name: "cancel of an unknown payment", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) { return e.l.Cancel(e.ctx, ledger.CancelRequest{Key: "k", PaymentID: "nope"}) }},
		{name: "fee refund of an unknown payment", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) {
				return e.l.RefundFee(e.ctx, ledger.FeeRefundRequest{Key: "k", PaymentID: "nope", Amount: dec("1")})
			}},
		{name: "dispute of an unknown payment", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) {
				return e.l.OpenDispute(e.ctx, ledger.DisputeRequest{Key: "k", PaymentID: "nope", DisputeID: "dp", Amount: dec("1")})
			}},
		{name: "unknown dispute", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) {
				return e.l.WinDispute(e.ctx, ledger.DisputeCloseRequest{Key: "k", DisputeID: "nope"})
			}},
		{name: "unknown payout", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) {
				return e.l.PayPayout(e.ctx, ledger.PayoutUpdateRequest{Key: "k", PayoutID: "nope"})
			}},
		{name: "reverse an unknown entry", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) { return e.l.Reverse(e.ctx, "k", 42, t0, "") }},
		{name: "void an unknown entry", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) { return nil, e.l.VoidPending(e.ctx, "k", 42) }},
		{name: "post an unknown entry", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) {
				return e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "k", EntryID: 42})
			}},
		{name: "read an unknown entry", err: ledger.ErrNotFound,
			act: func(e *env) (any, error) { return e.l.Entry(e.ctx, 42) }},

		// Idempotency conflicts.
		{name: "same key, different refund amount", err: ledger.ErrIdempotencyConflict,
			setup: func(t *testing.T, e *env) { captured(t, e); e.refund(t, "rf", "pay_1", "re_1", "10", t0) },
			act:   func(e *env) (any, error) { return e.l.Refund(e.ctx, refundReq("rf", "pay_1", "re_1", "20", t0)) }},
		{name: "same key, different capture amount", setup: captured, err: ledger.ErrIdempotencyConflict,
			act: func(e *env) (any, error) { return e.l.Capture(e.ctx, chargeReq("pay_1", "100.01", "3.20")) }},
		{name: "same key, different operation", setup: authorized, err: ledger.ErrIdempotencyConflict,
			act: func(e *env) (any, error) {
				return e.l.Cancel(e.ctx, ledger.CancelRequest{Key: "auth-pay_1", PaymentID: "pay_1"})
			}},
		{name: "same key, different entry", err: ledger.ErrIdempotencyConflict,
			setup: func(t *testing.T, e *env) { e.post(t, pendingEntry("hold")) },
			act: func(e *env) (any, error) {
				in := pendingEntry("hold")
				in.Postings[0].Amount, in.Postings[1].Amount = dec("100.01"), dec("-100.01")
				return e.l.PostEntry(e.ctx, in)
			}},
		{name: "entry key already used by an operation", setup: captured, err: ledger.ErrIdempotencyConflict,
			act: func(e *env) (any, error) {
				return e.l.PostEntry(e.ctx, ledger.EntryInput{Key: "charge-pay_1", Postings: []ledger.PostingInput{
					ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}})
			}},

		// Closed periods.
		{name: "capture dated in a closed period", err: ledger.ErrClosedPeriod,
			setup: func(t *testing.T, e *env) { must(0, e.l.ClosePeriod(e.ctx, t0.Add(24*time.Hour))).ok(t) },
			act: func(e *env) (any, error) {
				r := chargeReq("pay_1", "10", "")
				r.At = t0.Add(24 * time.Hour)
				return e.l.Capture(e.ctx, r)
			}},
		{name: "entry dated in a closed period", err: ledger.ErrClosedPeriod,
			setup: func(t *testing.T, e *env) { must(0, e.l.ClosePeriod(e.ctx, t0.Add(24*time.Hour))).ok(t) },
			act:   func(e *env) (any, error) { return e.l.PostEntry(e.ctx, pendingEntry("hold")) }},
		{name: "refund dated in a closed period", err: ledger.ErrClosedPeriod,
			setup: func(t *testing.T, e *env) {
				captured(t, e)
				must(0, e.l.ClosePeriod(e.ctx, t0.Add(24*time.Hour))).ok(t)
			},
			act: func(e *env) (any, error) {
				return e.l.Refund(e.ctx, refundReq("rf", "pay_1", "re_1", "1", t0.Add(time.Hour)))
			}},
		{name: "closing backwards", err: ledger.ErrInvalidRequest,
			setup: func(t *testing.T, e *env) { must(0, e.l.ClosePeriod(e.ctx, t0.Add(48*time.Hour))).ok(t) },
			act:   func(e *env) (any, error) { return nil, e.l.ClosePeriod(e.ctx, t0.Add(24*time.Hour)) }},
	})
}

// TestFeeErrorsNameTheFee checks that a fee the ledger refuses is named by
// its type in the error, whether its amount is negative or does not fit
// the currency's minor units: minorOf names it only on the error's path.
func TestFeeErrorsNameTheFee(t *testing.T) {
	for amount, want := range map[string]string{
		"-1":    "capture cap: invalid amount: fee stripe_fee must be positive, got -1",
		"0.005": "capture cap: fee stripe_fee: invalid amount: 0.005 has more than 2 decimals for USD",
	} {
		e := newEnv(t, nil)
		e.authorize(t, "pay_1", "100.00")
		_, err := e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap", PaymentID: "pay_1",
			Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec(amount)}}})
		if !errors.Is(err, ledger.ErrInvalidAmount) || err.Error() != want {
			t.Errorf("fee of %s: %v, want %q", amount, err, want)
		}
	}
}
