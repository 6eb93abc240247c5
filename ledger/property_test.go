package ledger_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// The shadow model the property test keeps beside the ledger.

type mPayment struct {
	id, provider, cur string
	digits            int
	status            ledger.PaymentStatus
	authorized        int64
	captured          int64
	refunded          int64
	disputed          int64
	fees              int64
	expiresAt         time.Time
}

type mDispute struct {
	id, payment string
	amount, fee int64
	status      ledger.DisputeStatus
}

type mPayout struct {
	id, provider, cur string
	amount            int64
	status            ledger.PayoutStatus
}

type mCharge struct {
	provider, cur string
	availableOn   time.Time
	available     bool
}

// keyed is a successful refund, kept to replay it and to reuse its key.
type keyed struct {
	req   ledger.RefundRequest
	entry int64
}

type model struct {
	payments    map[string]*mPayment
	paymentIDs  []string
	disputes    map[string]*mDispute
	disputeIDs  []string
	payouts     map[string]*mPayout
	payoutIDs   []string
	charges     []*mCharge
	refunds     []keyed
	adjustments []int64 // entry ids of manual adjustments, to reverse
	sales       map[string]int64
	refunded    map[string]int64
	lost        map[string]int64
}

var (
	propProviders  = []string{"stripe", "adyen", "justifi"}
	propCurrencies = []string{"usd", "eur", "jpy", "kwd"}
)

// propTest drives the ledger and the model with one random generator.
type propTest struct {
	t     *testing.T
	e     *env
	rng   *rand.Rand
	m     *model
	now   time.Time
	n     int // operations so far, for unique ids
	fails map[string]int
	ok    map[string]int
	probe *sql.Conn // for fingerprint
}

func (p *propTest) cur(code string) ledger.Currency {
	c, err := ledger.LookupCurrency(code)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// amount is m minor units of code as a decimal in major units.
func (p *propTest) amount(m int64, code string) decimal.Decimal {
	return ledger.FromMinor(m, p.cur(code))
}

// inexact is an amount with one decimal more than code allows.
func (p *propTest) inexact(code string) decimal.Decimal {
	c := p.cur(code)
	return decimal.New(p.rng.Int63n(100000)*10+3, -int32(c.Digits+1))
}

// randMinor is a random amount: about 0.01 to 1,000 major units.
func (p *propTest) randMinor(code string) int64 {
	scale := map[string]int64{"usd": 100, "eur": 100, "jpy": 1, "kwd": 1000}[code]
	return 1 + p.rng.Int63n(1000*scale)
}

func (p *propTest) pick(ids []string) string { return ids[p.rng.Intn(len(ids))] }

func (p *propTest) id(prefix string) string {
	p.n++
	return fmt.Sprintf("%s_%d", prefix, p.n)
}

// fingerprint changes whenever a transaction commits a change to the
// database: SQLite's data_version, read on a connection of its own, moves
// when another connection (the store's writer) commits.
func (p *propTest) fingerprint() string {
	var v int64
	if err := p.probe.QueryRowContext(p.e.ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		p.t.Fatal(err)
	}
	return fmt.Sprint(v)
}

// expect checks an operation's outcome against the model's prediction; a
// refused operation must have written nothing.
func (p *propTest) expect(op string, want error, before string, err error) bool {
	p.t.Helper()
	if want == nil {
		if err != nil {
			p.t.Fatalf("op %d %s: unexpected error: %v", p.n, op, err)
		}
		p.ok[op]++
		return true
	}
	if !errors.Is(err, want) {
		p.t.Fatalf("op %d %s: err = %v, want %v", p.n, op, err, want)
	}
	if after := p.fingerprint(); after != before {
		p.t.Fatalf("op %d %s: refused with %v but wrote: %s -> %s", p.n, op, err, before, after)
	}
	p.fails[op]++
	return false
}

func (p *propTest) fees(code string, amt int64) ([]ledger.Fee, int64) {
	if p.rng.Intn(3) == 0 {
		return nil, 0
	}
	var fees []ledger.Fee
	var total int64
	for _, typ := range []string{"processing", "application_fee"}[:1+p.rng.Intn(2)] {
		f := p.rng.Int63n(amt/10 + 1)
		fees = append(fees, ledger.Fee{Type: typ, Amount: p.amount(f, code)})
		total += f
	}
	return fees, total
}

func (p *propTest) authorize() {
	code, prov := p.pick(propCurrencies), p.pick(propProviders)
	id := p.id("pay")
	amt := p.randMinor(code)
	req := ledger.AuthorizeRequest{Key: "auth-" + id, PaymentID: id, Provider: prov, ProviderRef: "ref_" + id,
		Amount: p.amount(amt, code), Currency: code, At: p.now}
	if p.rng.Intn(3) == 0 {
		req.ExpiresAt = p.now.Add(time.Duration(1+p.rng.Intn(48)) * time.Hour)
	}
	var want error
	if p.rng.Intn(20) == 0 {
		req.Amount, want = p.inexact(code), ledger.ErrInvalidAmount
	}
	before := p.fingerprint()
	_, err := p.e.l.Authorize(p.e.ctx, req)
	if p.expect("authorize", want, before, err) {
		p.m.payments[id] = &mPayment{id: id, provider: prov, cur: code, status: ledger.PaymentAuthorized,
			authorized: amt, expiresAt: req.ExpiresAt}
		p.m.paymentIDs = append(p.m.paymentIDs, id)
	}
}

func (p *propTest) autoCapture() {
	code, prov := p.pick(propCurrencies), p.pick(propProviders)
	id := p.id("pay")
	amt := p.randMinor(code)
	fees, fee := p.fees(code, amt)
	req := ledger.CaptureRequest{Key: "cap-" + id, PaymentID: id, Provider: prov, ProviderRef: "ref_" + id, Currency: code,
		Amount: p.amount(amt, code), Fees: fees, At: p.now}
	avail := estimated(p.now) // the ledger's estimate
	if p.rng.Intn(2) == 0 {
		avail = p.now.Add(time.Duration(p.rng.Intn(96)) * time.Hour)
		req.AvailableOn = avail
	}
	var want error
	if p.rng.Intn(20) == 0 {
		req.Amount, want = p.inexact(code), ledger.ErrInvalidAmount
	}
	before := p.fingerprint()
	_, err := p.e.l.Capture(p.e.ctx, req)
	if p.expect("auto capture", want, before, err) {
		p.m.payments[id] = &mPayment{id: id, provider: prov, cur: code, status: ledger.PaymentCaptured,
			authorized: amt, captured: amt, fees: fee}
		p.m.paymentIDs = append(p.m.paymentIDs, id)
		p.m.charges = append(p.m.charges, &mCharge{provider: prov, cur: code, availableOn: avail})
		p.m.sales[code] += amt
	}
}

// estimated is the model's available_on for a capture at at that gives
// none: the start of the UTC day two days later.
func estimated(at time.Time) time.Time {
	y, m, d := at.UTC().Date()
	return time.Date(y, m, d+2, 0, 0, 0, 0, time.UTC)
}

func (p *propTest) capture() {
	pm := p.m.payments[p.pick(p.m.paymentIDs)]
	req := ledger.CaptureRequest{Key: p.id("cap"), PaymentID: pm.id, At: p.now}
	amt := pm.authorized
	if p.rng.Intn(3) > 0 {
		amt = 1 + p.rng.Int63n(pm.authorized+pm.authorized/10+1)
		req.Amount = p.amount(amt, pm.cur)
	}
	fees, fee := p.fees(pm.cur, amt)
	req.Fees = fees
	var want error
	switch {
	case pm.status == ledger.PaymentCanceled:
		want = ledger.ErrAlreadyVoided
	case pm.status != ledger.PaymentAuthorized:
		want = ledger.ErrAlreadyCaptured
	case amt > pm.authorized:
		want = ledger.ErrOverCapture
	}
	before := p.fingerprint()
	_, err := p.e.l.Capture(p.e.ctx, req)
	if p.expect("capture", want, before, err) {
		pm.captured, pm.fees, pm.status = amt, pm.fees+fee, ledger.PaymentCaptured
		p.m.charges = append(p.m.charges, &mCharge{provider: pm.provider, cur: pm.cur, availableOn: estimated(p.now)})
		p.m.sales[pm.cur] += amt
	}
}

func (p *propTest) cancel() {
	pm := p.m.payments[p.pick(p.m.paymentIDs)]
	var want error
	switch pm.status {
	case ledger.PaymentAuthorized:
	case ledger.PaymentCanceled:
		want = ledger.ErrAlreadyVoided
	default:
		want = ledger.ErrAlreadyCaptured
	}
	before := p.fingerprint()
	_, err := p.e.l.Cancel(p.e.ctx, ledger.CancelRequest{Key: p.id("cancel"), PaymentID: pm.id, At: p.now})
	if p.expect("cancel", want, before, err) {
		pm.status = ledger.PaymentCanceled
	}
}

func settled(pm *mPayment) ledger.PaymentStatus {
	switch {
	case pm.disputed > 0:
		return ledger.PaymentDisputed
	case pm.refunded == 0:
		return ledger.PaymentCaptured
	case pm.refunded == pm.captured:
		return ledger.PaymentRefunded
	default:
		return ledger.PaymentPartiallyRefunded
	}
}

func (p *propTest) refund() {
	pm := p.m.payments[p.pick(p.m.paymentIDs)]
	id := p.id("re")
	req := ledger.RefundRequest{Key: "rf-" + id, PaymentID: pm.id, RefundID: id, At: p.now}
	left := pm.captured - pm.refunded
	amt := left
	switch r := p.rng.Intn(10); {
	case r < 6 && left > 0:
		amt = 1 + p.rng.Int63n(left)
		req.Amount = p.amount(amt, pm.cur)
	case r < 8:
		amt = left + 1 + p.rng.Int63n(1000)
		req.Amount = p.amount(amt, pm.cur)
	}
	var feeRefund int64
	if p.rng.Intn(5) == 0 {
		feeRefund = p.rng.Int63n(pm.fees + 2)
		req.FeeRefund = p.amount(feeRefund, pm.cur)
	}
	if p.rng.Intn(2) == 0 {
		req.Currency = pm.cur
	}
	var want error
	switch {
	case pm.captured == 0 || amt > left || amt == 0:
		want = ledger.ErrOverRefund
	case feeRefund > pm.fees:
		want = ledger.ErrOverRefund
	}
	before := p.fingerprint()
	res, err := p.e.l.Refund(p.e.ctx, req)
	if p.expect("refund", want, before, err) {
		pm.refunded += amt
		pm.fees -= feeRefund
		pm.status = ledger.PaymentPartiallyRefunded
		if pm.refunded == pm.captured {
			pm.status = ledger.PaymentRefunded
		}
		if pm.disputed > 0 {
			pm.status = ledger.PaymentDisputed
		}
		p.m.refunded[pm.cur] += amt
		p.m.refunds = append(p.m.refunds, keyed{req, res.Entry.ID})
	}
}

func (p *propTest) feeRefund() {
	pm := p.m.payments[p.pick(p.m.paymentIDs)]
	amt := 1 + p.rng.Int63n(pm.fees+2)
	var want error
	if amt > pm.fees {
		want = ledger.ErrOverRefund
	}
	before := p.fingerprint()
	_, err := p.e.l.RefundFee(p.e.ctx, ledger.FeeRefundRequest{Key: p.id("fee"), PaymentID: pm.id, Type: "processing",
		Amount: p.amount(amt, pm.cur), At: p.now})
	if p.expect("fee refund", want, before, err) {
		pm.fees -= amt
	}
}

func (p *propTest) openDispute() {
	pm := p.m.payments[p.pick(p.m.paymentIDs)]
	id := p.id("dp")
	open := pm.captured - pm.disputed
	amt := 1 + p.rng.Int63n(open+open/5+1)
	fee := int64(0)
	if p.rng.Intn(2) == 0 {
		fee = p.randMinor(pm.cur) / 10
	}
	var want error
	if amt > open {
		want = ledger.ErrInvalidAmount
	}
	before := p.fingerprint()
	_, err := p.e.l.OpenDispute(p.e.ctx, ledger.DisputeRequest{Key: "dp-" + id, PaymentID: pm.id, DisputeID: id,
		Amount: p.amount(amt, pm.cur), Fee: p.amount(fee, pm.cur), At: p.now})
	if p.expect("open dispute", want, before, err) {
		pm.disputed += amt
		pm.fees += fee
		pm.status = ledger.PaymentDisputed
		p.m.disputes[id] = &mDispute{id: id, payment: pm.id, amount: amt, fee: fee, status: ledger.DisputeOpen}
		p.m.disputeIDs = append(p.m.disputeIDs, id)
	}
}

func (p *propTest) closeDispute() {
	d := p.m.disputes[p.pick(p.m.disputeIDs)]
	pm := p.m.payments[d.payment]
	win := p.rng.Intn(2) == 0
	var feeRefund int64
	if win && p.rng.Intn(2) == 0 {
		feeRefund = p.rng.Int63n(d.fee + 2)
	}
	var want error
	switch {
	case d.status != ledger.DisputeOpen:
		want = ledger.ErrAlreadyResolved
	case feeRefund > d.fee:
		want = ledger.ErrOverRefund
	}
	req := ledger.DisputeCloseRequest{Key: p.id("close"), DisputeID: d.id, FeeRefund: p.amount(feeRefund, pm.cur), At: p.now}
	before := p.fingerprint()
	var err error
	if win {
		_, err = p.e.l.WinDispute(p.e.ctx, req)
	} else {
		_, err = p.e.l.LoseDispute(p.e.ctx, req)
	}
	if !p.expect("close dispute", want, before, err) {
		return
	}
	if win {
		d.status = ledger.DisputeWon
		pm.disputed -= d.amount
		pm.fees -= feeRefund
		pm.status = settled(pm)
	} else {
		d.status = ledger.DisputeLost
		p.m.lost[pm.cur] += d.amount
	}
}

func (p *propTest) createPayout() {
	code, prov := p.pick(propCurrencies), p.pick(propProviders)
	id := p.id("po")
	amt := p.randMinor(code)
	before := p.fingerprint()
	_, err := p.e.l.CreatePayout(p.e.ctx, ledger.PayoutRequest{Key: "po-" + id, PayoutID: id, Provider: prov, Currency: code,
		Amount: p.amount(amt, code), At: p.now, ArrivalDate: p.now.Add(48 * time.Hour)})
	if p.expect("create payout", nil, before, err) {
		// A payout first makes its provider's due funds available.
		for _, c := range p.m.charges {
			if c.provider == prov && c.cur == code && !c.availableOn.After(p.now) {
				c.available = true
			}
		}
		p.m.payouts[id] = &mPayout{id: id, provider: prov, cur: code, amount: amt, status: ledger.PayoutInTransit}
		p.m.payoutIDs = append(p.m.payoutIDs, id)
	}
}

func (p *propTest) settlePayout() {
	po := p.m.payouts[p.pick(p.m.payoutIDs)]
	var want error
	if po.status != ledger.PayoutInTransit {
		want = ledger.ErrAlreadyResolved
	}
	req := ledger.PayoutUpdateRequest{Key: p.id("settle"), PayoutID: po.id, At: p.now}
	paid := p.rng.Intn(3) > 0
	before := p.fingerprint()
	var err error
	if paid {
		_, err = p.e.l.PayPayout(p.e.ctx, req)
	} else {
		_, err = p.e.l.FailPayout(p.e.ctx, req)
	}
	if p.expect("settle payout", want, before, err) {
		po.status = ledger.PayoutFailed
		if paid {
			po.status = ledger.PayoutPaid
		}
	}
}

func (p *propTest) makeAvailable() {
	want := 0
	for _, c := range p.m.charges {
		if !c.available && !c.availableOn.After(p.now) {
			c.available = true
			want++
		}
	}
	n, err := p.e.l.MakeAvailable(p.e.ctx, p.now)
	if err != nil || n != want {
		p.t.Fatalf("op %d MakeAvailable = %d, %v; the model expects %d", p.n, n, err, want)
	}
}

func (p *propTest) expire() {
	want := 0
	for _, id := range p.m.paymentIDs {
		pm := p.m.payments[id]
		if pm.status == ledger.PaymentAuthorized && !pm.expiresAt.IsZero() && !pm.expiresAt.After(p.now) {
			pm.status = ledger.PaymentCanceled
			want++
		}
	}
	n, err := p.e.l.ExpireAuthorizations(p.e.ctx, p.now)
	if err != nil || n != want {
		p.t.Fatalf("op %d ExpireAuthorizations = %d, %v; the model expects %d", p.n, n, err, want)
	}
}

func (p *propTest) adjust() {
	code, prov := p.pick(propCurrencies), p.pick(propProviders)
	amt := p.amount(p.randMinor(code), code)
	if p.rng.Intn(2) == 0 {
		amt = amt.Neg()
	}
	in := ledger.EntryInput{Key: p.id("adj"), OccurredAt: p.now, Description: "adjustment", Postings: []ledger.PostingInput{
		{Account: "assets:" + prov + ":available", Currency: code, Amount: amt},
		{Account: "income:adjustments", Currency: code, Amount: amt.Neg()}}}
	var want error
	if p.rng.Intn(10) == 0 {
		in.Postings[1].Amount = in.Postings[1].Amount.Add(p.amount(1, code))
		want = ledger.ErrUnbalanced
	}
	before := p.fingerprint()
	e, err := p.e.l.PostEntry(p.e.ctx, in)
	if p.expect("adjustment", want, before, err) {
		p.m.adjustments = append(p.m.adjustments, e.ID)
	}
}

func (p *propTest) reverse() {
	i := p.rng.Intn(len(p.m.adjustments))
	id := p.m.adjustments[i]
	p.m.adjustments = append(p.m.adjustments[:i], p.m.adjustments[i+1:]...)
	before := p.fingerprint()
	_, err := p.e.l.Reverse(p.e.ctx, p.id("rev"), id, p.now, "")
	p.expect("reverse", nil, before, err)
}

// misuse makes a call that must be refused.
func (p *propTest) misuse() {
	pm := p.m.payments[p.pick(p.m.paymentIDs)]
	before := p.fingerprint()
	switch p.rng.Intn(4) {
	case 0: // another currency than the payment's
		other := p.pick(propCurrencies)
		for other == pm.cur {
			other = p.pick(propCurrencies)
		}
		_, err := p.e.l.Refund(p.e.ctx, ledger.RefundRequest{Key: p.id("rf"), PaymentID: pm.id, RefundID: p.id("re"),
			Currency: other, At: p.now})
		p.expect("currency mismatch", ledger.ErrCurrencyMismatch, before, err)
	case 1: // unknown payment
		_, err := p.e.l.Refund(p.e.ctx, ledger.RefundRequest{Key: p.id("rf"), PaymentID: "nope", RefundID: p.id("re"), At: p.now})
		p.expect("not found", ledger.ErrNotFound, before, err)
	case 2: // an inexact amount on a payment with something left to refund
		if pm.captured == pm.refunded {
			return
		}
		_, err := p.e.l.Refund(p.e.ctx, ledger.RefundRequest{Key: p.id("rf"), PaymentID: pm.id, RefundID: p.id("re"),
			Amount: p.inexact(pm.cur), At: p.now})
		p.expect("inexact refund", ledger.ErrInvalidAmount, before, err)
	case 3: // unknown dispute
		_, err := p.e.l.WinDispute(p.e.ctx, ledger.DisputeCloseRequest{Key: p.id("won"), DisputeID: "nope", At: p.now})
		p.expect("not found", ledger.ErrNotFound, before, err)
	}
}

// replay repeats an earlier refund: the same request returns the original
// entry, a different amount under its key is a conflict.
func (p *propTest) replay() {
	k := p.m.refunds[p.rng.Intn(len(p.m.refunds))]
	before := p.fingerprint()
	if p.rng.Intn(2) == 0 {
		res, err := p.e.l.Refund(p.e.ctx, k.req)
		p.expect("replay", nil, before, err)
		if !res.Replayed || res.Entry.ID != k.entry {
			p.t.Fatalf("op %d: replay of %s gave entry %d (replayed %v), want %d", p.n, k.req.Key, res.Entry.ID, res.Replayed, k.entry)
		}
		if after := p.fingerprint(); after != before {
			p.t.Fatalf("op %d: replay wrote", p.n)
		}
		return
	}
	req := k.req
	req.Amount = req.Amount.Add(decimal.New(1, 0))
	_, err := p.e.l.Refund(p.e.ctx, req)
	p.expect("conflict", ledger.ErrIdempotencyConflict, before, err)
}

func (p *propTest) step() {
	p.now = p.now.Add(time.Duration(1+p.rng.Intn(120)) * time.Minute)
	p.e.clock.Set(p.now)
	type op struct {
		weight int
		ready  bool
		run    func()
	}
	m := p.m
	ops := []op{
		{8, true, p.authorize},
		{8, true, p.autoCapture},
		{10, len(m.paymentIDs) > 0, p.capture},
		{3, len(m.paymentIDs) > 0, p.cancel},
		{16, len(m.paymentIDs) > 0, p.refund},
		{3, len(m.paymentIDs) > 0, p.feeRefund},
		{5, len(m.paymentIDs) > 0, p.openDispute},
		{4, len(m.disputeIDs) > 0, p.closeDispute},
		{3, true, p.createPayout},
		{3, len(m.payoutIDs) > 0, p.settlePayout},
		{4, true, p.makeAvailable},
		{2, true, p.expire},
		{3, true, p.adjust},
		{1, len(m.adjustments) > 0, p.reverse},
		{3, len(m.paymentIDs) > 0, p.misuse},
		{3, len(m.refunds) > 0, p.replay},
	}
	total := 0
	for _, o := range ops {
		if o.ready {
			total += o.weight
		}
	}
	r := p.rng.Intn(total)
	for _, o := range ops {
		if !o.ready {
			continue
		}
		if r < o.weight {
			o.run()
			return
		}
		r -= o.weight
	}
}

func TestPropertyRandomLifecycle(t *testing.T) {
	ops := 2000
	if testing.Short() {
		ops = 400
	}
	for _, seed := range []int64{1, 20260302} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			p := &propTest{t: t, e: newEnv(t, nil), rng: rand.New(rand.NewSource(seed)), now: t0,
				fails: map[string]int{}, ok: map[string]int{},
				m: &model{payments: map[string]*mPayment{}, disputes: map[string]*mDispute{}, payouts: map[string]*mPayout{},
					sales: map[string]int64{}, refunded: map[string]int64{}, lost: map[string]int64{}}}
			probe, err := p.e.store.DB().Conn(p.e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer probe.Close()
			p.probe = probe
			// The probe itself must notice a write: check it does.
			v0 := p.fingerprint()
			p.e.post(t, ledger.EntryInput{Key: "probe", OccurredAt: t0, Postings: []ledger.PostingInput{
				ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}})
			if p.fingerprint() == v0 {
				t.Fatal("data_version did not move after a write")
			}
			v0 = p.fingerprint()
			if _, err := p.e.l.Refund(p.e.ctx, ledger.RefundRequest{Key: "x", PaymentID: "nope", RefundID: "x"}); !errors.Is(err, ledger.ErrNotFound) || p.fingerprint() != v0 {
				t.Fatalf("a refused call moved data_version (%v)", err)
			}
			for i := 0; i < ops; i++ {
				p.step()
			}
			t.Logf("succeeded: %v", p.ok)
			t.Logf("refused as expected: %v", p.fails)
			for _, op := range []string{"refund", "capture", "open dispute", "close dispute"} {
				if p.ok[op] == 0 || p.fails[op] == 0 {
					t.Errorf("the generator never made a %s succeed and fail: %d / %d", op, p.ok[op], p.fails[op])
				}
			}
			p.checkInvariants(t)
		})
	}
}

func (p *propTest) checkInvariants(t *testing.T) {
	ctx := context.Background()
	l := p.e.l
	p.e.verify(t)

	// Every currency balances to zero, posted and pending.
	bals := must(l.Balances(ctx, "")).ok(t)
	posted, pending := map[string]int64{}, map[string]int64{}
	maintained := map[string]int64{}
	for _, b := range bals {
		posted[b.Currency] += b.Posted
		pending[b.Currency] += b.Pending
		if b.Posted != 0 {
			maintained[b.Account+" "+b.Currency] = b.Posted
		}
	}
	for _, code := range propCurrencies {
		if posted[code] != 0 || pending[code] != 0 {
			t.Errorf("%s: posted balances sum to %d, pending to %d", code, posted[code], pending[code])
		}
	}

	// Maintained balances equal balances recomputed from the postings.
	recomputed := map[string]int64{}
	for _, b := range must(l.BalancesAsOf(ctx, "", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))).ok(t) {
		recomputed[b.Account+" "+b.Currency] = b.Posted
	}
	if fmt.Sprint(sortedMap(maintained)) != fmt.Sprint(sortedMap(recomputed)) {
		t.Errorf("maintained balances %v\n  differ from postings %v", sortedMap(maintained), sortedMap(recomputed))
	}

	// Sales, refunds and chargebacks match the model, per currency.
	for _, code := range propCurrencies {
		for _, c := range []struct {
			account string
			want    int64
		}{{"income:sales", p.m.sales[code]}, {"income:refunds", -p.m.refunded[code]}, {"expenses:chargebacks", p.m.lost[code]}} {
			if got := must(l.Balance(ctx, c.account, code)).ok(t); got != c.want {
				t.Errorf("%s %s = %d, model says %d", c.account, code, got, c.want)
			}
		}
	}

	// Provider balances equal the nets of their balance transactions:
	// pending ones in assets:P:pending, available ones in assets:P:available.
	btNet := map[string]int64{}
	var bts int
	must(0, l.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachBalanceTransaction(ctx, ledger.BTFilter{}, func(b *ledger.BalanceTransaction) error {
			bts++
			btNet["assets:"+b.Provider+":"+b.Status+" "+b.Currency] += b.Net
			return nil
		})
	})).ok(t)
	for _, prov := range propProviders {
		for _, code := range propCurrencies {
			for _, acct := range []string{"assets:" + prov + ":pending", "assets:" + prov + ":available"} {
				k := acct + " " + code
				if maintained[k] != btNet[k] {
					t.Errorf("%s = %d but its balance transactions net %d", k, maintained[k], btNet[k])
				}
			}
		}
	}

	// The stored payments are the model's.
	stored := map[string]*ledger.Payment{}
	must(0, l.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachPayment(ctx, "", func(pay *ledger.Payment) error {
			stored[pay.ID] = pay
			return nil
		})
	})).ok(t)
	if len(stored) != len(p.m.payments) {
		t.Errorf("%d payments stored, model has %d", len(stored), len(p.m.payments))
	}
	for id, pm := range p.m.payments {
		s := stored[id]
		if s == nil {
			t.Errorf("payment %s missing", id)
			continue
		}
		if s.Status != pm.status || s.Authorized != pm.authorized || s.Captured != pm.captured || s.Refunded != pm.refunded ||
			s.Disputed != pm.disputed || s.Fees != pm.fees || s.Currency != pm.cur || s.Provider != pm.provider {
			t.Errorf("payment %s stored %s %s/%s auth %d cap %d ref %d disp %d fees %d; model %s %s/%s auth %d cap %d ref %d disp %d fees %d",
				id, s.Status, s.Provider, s.Currency, s.Authorized, s.Captured, s.Refunded, s.Disputed, s.Fees,
				pm.status, pm.provider, pm.cur, pm.authorized, pm.captured, pm.refunded, pm.disputed, pm.fees)
		}
	}
	t.Logf("%d payments, %d disputes, %d payouts, %d balance transactions, %d balances",
		len(p.m.payments), len(p.m.disputes), len(p.m.payouts), bts, len(bals))
}

func sortedMap(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}
