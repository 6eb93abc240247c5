package generate

import (
	"bufio"
	"container/heap"
	"math/rand/v2"
	"time"
)

const day = 24 * time.Hour

// payment is a simulated payment that still has something to happen.
type payment struct {
	id, ref, customer  string // ord_…, ch_…, cus_…
	cur                *currency
	captured, refunded int64
	dispute            string // dp_…, once opened
	disputed           int64
	foreign            bool // presented in cur, settled in USD (Options.ForeignShare)
	told               bool // a foreign payment whose feed tells its capture's settlement
}

// payout is a simulated payout in transit.
type payout struct {
	id  string // po_…, both settle's payout id and the provider's reference
	cur *currency
	amt int64
	ok  bool // paid (true) or failed
}

// actionKind is what happens to a payment or payout at a scheduled time.
type actionKind uint8

const (
	actCapture      actionKind = iota // capture or cancel an authorization
	actRefund                         // refund part or all of what is left
	actDisputeOpen                    // the customer disputes the payment
	actDisputeClose                   // the dispute is won or lost
	actPayoutSettle                   // the payout is paid or fails
)

// action is a scheduled step; seq breaks ties in scheduling order.
type action struct {
	at   time.Time
	seq  uint64
	kind actionKind
	p    *payment
	po   *payout
}

// actions is a min-heap of actions by time, then scheduling order.
type actions []*action

func (h actions) Len() int { return len(h) }
func (h actions) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h actions) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *actions) Push(x any)   { *h = append(*h, x.(*action)) }
func (h *actions) Pop() any {
	old := *h
	a := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return a
}

// btRow is a provider balance transaction as the exports show it. It is
// held from its creation until a payout sweeps it (or it can never be
// swept), because the itemized report names the sweeping payout.
type btRow struct {
	id, typ, category, source, description string
	cur                                    *currency
	amount, fee, net                       int64
	feeDesc                                string // the fee_details description, if fee ≠ 0
	created, availableOn                   time.Time
	payout                                 string
	final                                  bool
	pcur                                   *currency // a foreign payment's: presented in pcur
	pamount                                int64     // signed as amount
	rate                                   string
	untold                                 bool // the ledger books it in pcur until it adopts the settlement
}

// sim runs one simulation.
type sim struct {
	o     Options
	ids   idStyle
	r     *rand.Rand // the history
	dates *rand.Rand // settlement schedules (Options.StripeDates), apart from the history
	fx    *rand.Rand // which payments are foreign (Options.ForeignShare)
	rates *rates
	end   time.Time
	sum   Summary

	h   actions
	seq uint64

	feed *bufio.Writer
	line []byte
	exp  *exporter

	nEvent, nPay, nRefund, nDispute, nPayout, nTxn int

	queue   []*btRow   // rows in creation order, not yet exported
	unswept [][]*btRow // per currency index: rows a payout may still sweep
	err     error
}

func newSim(o Options, out Output) *sim {
	s := &sim{
		o:       o,
		ids:     idStyle{random: o.RandomIDs, base: o.IDBase},
		r:       newRand(o.Seed, 1),
		dates:   newRand(o.Seed, 9),
		fx:      newRand(o.Seed, 11),
		end:     o.End(),
		unswept: make([][]*btRow, len(currencies)),
	}
	s.sum.Seed, s.sum.Start, s.sum.End = o.Seed, o.Start, s.end
	s.rates = newRates(o, s.end)
	if o.ForeignShare > 0 {
		s.sum.Rates = s.rates.list()
	}
	if out.Feed != nil {
		s.feed = bufio.NewWriterSize(out.Feed, 64<<10)
	}
	s.exp = newExporter(o, s.end, out)
	if out.RatesCSV != nil {
		s.err = writeRates(out.RatesCSV, s.rates.list())
	}
	return s
}

// schedule queues an action, unless it would happen after the end.
func (s *sim) schedule(at time.Time, kind actionKind, p *payment, po *payout) {
	if at.After(s.end) {
		return
	}
	s.seq++
	heap.Push(&s.h, &action{at: at, seq: s.seq, kind: kind, p: p, po: po})
}

// after returns t plus a random duration in [lo, hi).
func (s *sim) after(t time.Time, lo, hi time.Duration) time.Time {
	return t.Add(lo + time.Duration(s.r.Int64N(int64((hi-lo)/time.Second)))*time.Second)
}

func (s *sim) run() error {
	n := s.o.Payments
	days := (n + s.o.PerDay - 1) / s.o.PerDay
	span := int64(days) * 86400
	slot := span / int64(n)
	nextPayout := s.o.Start.Add(day + 2*time.Hour)
	for i := 0; s.err == nil; {
		// The next arrival or scheduled action, whichever comes first.
		var next time.Time
		arrival := false
		if i < n {
			next = s.o.Start.Add(time.Duration(int64(i)*span/int64(n)) * time.Second)
			if slot > 1 {
				next = next.Add(time.Duration(s.r.Int64N(slot)) * time.Second)
			}
			arrival = true
		}
		if len(s.h) > 0 && (!arrival || s.h[0].at.Before(next)) {
			next, arrival = s.h[0].at, false
		}
		// Payouts run after everything up to their time.
		if !nextPayout.After(s.end) && (next.IsZero() || nextPayout.Before(next)) {
			s.payouts(nextPayout)
			nextPayout = nextPayout.Add(day)
			s.flush(false)
			continue
		}
		if next.IsZero() {
			break
		}
		if arrival {
			s.arrive(i, next)
			i++
		} else {
			a := heap.Pop(&s.h).(*action)
			s.act(a)
		}
		s.flush(false)
	}
	s.flush(true)
	if s.feed != nil && s.err == nil {
		s.err = s.feed.Flush()
	}
	if err := s.exp.close(); s.err == nil {
		s.err = err
	}
	s.sum.ExportRows = s.exp.rows
	s.sum.Diffs = s.exp.diffs
	return s.err
}

// arrive creates payment i at t: an automatic capture (most), or a manual
// authorization to be captured or canceled later.
func (s *sim) arrive(i int, t time.Time) {
	c := pickCurrency(s.r)
	p := &payment{id: s.ids.id("ord_", i+1), ref: s.ids.id("ch_", i+1), customer: s.ids.id("cus_", 1+s.r.IntN(i/3+1)), cur: c}
	if s.o.ForeignShare > 0 && s.fx.Float64() < s.o.ForeignShare {
		c = pickPresentment(s.fx)
		p.cur, p.foreign, p.told = c, true, s.fx.IntN(2) == 0
		s.sum.Foreign++
	}
	amt := cartAmount(s.r, c)
	s.sum.Payments++
	if s.r.IntN(100) < 20 {
		s.sum.Authorizations++
		s.begin("payment.authorized", t)
		s.str("payment", p.id)
		s.str("provider", Provider)
		s.str("provider_ref", p.ref)
		s.amount("amount", amt, c)
		s.str("currency", c.code)
		s.str("customer", p.customer)
		s.str("description", "Order "+p.id)
		s.str("expires_at", string(t.Add(7*day).AppendFormat(nil, time.RFC3339)))
		s.endLine()
		p.captured = amt // the authorized amount, until captured
		s.schedule(s.after(t, time.Hour, 72*time.Hour), actCapture, p, nil)
		return
	}
	s.capture(p, t, amt, true, false)
}

// capture books a capture of amt: automatic (creating the payment) or of
// an authorization, in full (the feed leaves the amount out) or in part.
func (s *sim) capture(p *payment, t time.Time, amt int64, auto, partial bool) {
	c := p.cur
	fee := processingFee(c, amt)
	sm, feeCur := amt, c
	if p.foreign {
		sm, feeCur = s.rates.convert(amt, c, t), settlementCurrency
		fee = processingFee(feeCur, sm)
	}
	avail := t.Truncate(day).Add(2 * day)
	told := avail
	if s.o.StripeDates {
		if s.dates.IntN(5) == 0 || s.sum.ToldAvailableOn == "" {
			avail = t.Truncate(day).Add(7 * day)
		}
		told = time.Time{}
		if s.sum.ToldAvailableOn == "" {
			s.sum.ToldAvailableOn = p.ref
			told = avail.Add(-25 * time.Hour)
		}
	}
	s.sum.Captures++
	s.begin("payment.captured", t)
	s.str("payment", p.id)
	if auto {
		s.str("provider", Provider)
		s.str("provider_ref", p.ref)
		s.str("currency", c.code)
		s.str("customer", p.customer)
		s.str("description", "Order "+p.id)
	}
	if auto || partial {
		s.amount("amount", amt, c)
	}
	if !p.foreign || p.told {
		s.fees(fee, feeCur)
	}
	if p.foreign && p.told {
		s.settlement(sm)
	}
	if !told.IsZero() {
		s.str("available_on", string(told.AppendFormat(nil, time.RFC3339)))
	}
	s.endLine()
	p.captured = amt
	b := &btRow{typ: "charge", category: "charge", source: p.ref, description: "Order " + p.id, cur: c,
		amount: sm, fee: fee, net: sm - fee, feeDesc: "Stripe processing fees", created: t, availableOn: avail}
	s.foreignRow(p, b, amt, t)
	s.addRow(b)
	// What happens next: 7% are refunded, 1% disputed, the rest are done.
	switch n := s.r.IntN(1000); {
	case n < 70:
		s.schedule(s.after(t, day, 20*day), actRefund, p, nil)
	case n < 80:
		s.schedule(s.after(t, 3*day, 20*day), actDisputeOpen, p, nil)
	}
}

// act runs a scheduled action.
func (s *sim) act(a *action) {
	p, t := a.p, a.at
	switch a.kind {
	case actCapture:
		switch n := s.r.IntN(100); {
		case n < 10:
			s.sum.Cancellations++
			s.begin("payment.canceled", t)
			s.str("payment", p.id)
			s.endLine()
		case n < 40:
			s.sum.PartialCaptures++
			s.capture(p, t, share(p.captured, 50+s.r.IntN(45)), false, true)
		default:
			s.capture(p, t, p.captured, false, false)
		}
	case actRefund:
		s.refund(p, t)
	case actDisputeOpen:
		s.nDispute++
		s.sum.Disputes++
		p.dispute = s.ids.id("dp_", s.nDispute)
		p.disputed = p.captured - p.refunded
		fee, feeCur := p.cur.disputeFee, p.cur
		if p.foreign {
			fee, feeCur = settlementCurrency.disputeFee, settlementCurrency
		}
		sm := s.settle(p, -p.disputed, t)
		s.begin("dispute.opened", t)
		s.str("payment", p.id)
		s.str("dispute", p.dispute)
		s.str("provider_ref", p.dispute)
		s.amount("amount", p.disputed, p.cur)
		if !p.foreign || p.told {
			s.amount("fee", fee, feeCur)
		}
		s.endLine()
		b := &btRow{typ: "adjustment", category: "dispute", source: p.dispute,
			description: "Chargeback withdrawal for " + p.ref, cur: p.cur, amount: sm, fee: fee,
			net: sm - fee, feeDesc: "Dispute fee", created: t, availableOn: s.settles(t, 2)}
		s.foreignRow(p, b, -p.disputed, t)
		s.addRow(b)
		s.schedule(s.after(t, 7*day, 30*day), actDisputeClose, p, nil)
	case actDisputeClose:
		if s.r.IntN(100) < 45 {
			s.sum.DisputesWon++
			s.begin("dispute.won", t)
			s.str("dispute", p.dispute)
			s.endLine()
			sm := s.settle(p, p.disputed, t)
			b := &btRow{typ: "adjustment", category: "dispute_reversal", source: p.dispute,
				description: "Chargeback reversal for " + p.ref, cur: p.cur, amount: sm, net: sm,
				created: t, availableOn: t}
			s.foreignRow(p, b, p.disputed, t)
			s.addRow(b)
		} else {
			s.sum.DisputesLost++
			s.begin("dispute.lost", t)
			s.str("dispute", p.dispute)
			s.endLine()
		}
	case actPayoutSettle:
		po := a.po
		if po.ok {
			s.begin("payout.paid", t)
			s.str("payout", po.id)
			s.endLine()
			return
		}
		s.sum.PayoutsFailed++
		s.begin("payout.failed", t)
		s.str("payout", po.id)
		s.endLine()
		// The returned funds go out with the next automatic payout.
		s.addRow(&btRow{typ: "payout_failure", category: "payout_reversal", source: po.id,
			description: "STRIPE PAYOUT FAILURE", cur: po.cur, amount: po.amt, net: po.amt,
			created: t, availableOn: t})
	}
}

// refund refunds all that is left (half the time) or a part of it; a
// partial refund is followed by another one in three cases out of ten.
func (s *sim) refund(p *payment, t time.Time) {
	left := p.captured - p.refunded
	amt := left
	full := s.r.IntN(2) == 0
	if !full {
		amt = share(left, 10+s.r.IntN(50))
		full = amt == left
	}
	s.nRefund++
	s.sum.Refunds++
	ref := s.ids.id("re_", s.nRefund)
	s.begin("payment.refunded", t)
	s.str("payment", p.id)
	s.str("refund", ref)
	s.str("provider_ref", ref)
	if !full {
		s.amount("amount", amt, p.cur)
	}
	s.str("reason", "requested_by_customer")
	s.endLine()
	p.refunded += amt
	sm := s.settle(p, -amt, t)
	b := &btRow{typ: "refund", category: "refund", source: ref, description: "REFUND FOR CHARGE (Order " + p.id + ")",
		cur: p.cur, amount: sm, net: sm, created: t, availableOn: s.settles(t, 1)}
	s.foreignRow(p, b, -amt, t)
	s.addRow(b)
	if !full && s.r.IntN(10) < 3 {
		s.schedule(s.after(t, day, 10*day), actRefund, p, nil)
	}
}

// payouts pays out, in each currency, the balance transactions available
// by t and not yet swept, as the ledger's CreatePayout sweeps them. A
// currency whose sweepable total is not positive is skipped for the day.
func (s *sim) payouts(t time.Time) {
	for ci, c := range currencies {
		var total int64
		for _, b := range s.unswept[ci] {
			if !b.availableOn.After(t) {
				total += b.net
			}
		}
		if total <= 0 {
			continue
		}
		s.nPayout++
		s.sum.Payouts++
		po := &payout{id: s.ids.id("po_", s.nPayout), cur: c, amt: total, ok: s.r.IntN(100) >= 3}
		rest := s.unswept[ci][:0]
		for _, b := range s.unswept[ci] {
			if b.availableOn.After(t) {
				rest = append(rest, b)
				continue
			}
			b.payout, b.final = po.id, true
		}
		clear(s.unswept[ci][len(rest):])
		s.unswept[ci] = rest
		arrival := t.Truncate(day).Add(2 * day)
		s.begin("payout.created", t)
		s.str("payout", po.id)
		s.str("provider", Provider)
		s.str("provider_ref", po.id)
		s.amount("amount", total, c)
		s.str("currency", c.code)
		s.str("arrival_date", string(arrival.AppendFormat(nil, time.RFC3339)))
		s.flag("automatic", true)
		s.endLine()
		s.addRow(&btRow{typ: "payout", category: "payout", source: po.id, description: "STRIPE PAYOUT", cur: c,
			amount: -total, net: -total, created: t, availableOn: arrival, payout: po.id, final: true})
		if po.ok {
			s.schedule(s.after(arrival, 6*time.Hour, 12*time.Hour), actPayoutSettle, nil, po)
		} else {
			s.schedule(s.after(t, day, 2*day), actPayoutSettle, nil, po)
		}
	}
}

// settles returns when a debit created at t settles: at t, or with
// Options.StripeDates at midnight UTC days later.
func (s *sim) settles(t time.Time, days int) time.Time {
	if !s.o.StripeDates {
		return t
	}
	return t.Truncate(day).Add(time.Duration(days) * day)
}

// addRow numbers a new balance transaction and holds it for export.
func (s *sim) addRow(b *btRow) {
	s.nTxn++
	s.sum.LedgerTransactions++
	b.id = s.ids.id("txn_", s.nTxn)
	s.queue = append(s.queue, b)
	if !b.final {
		for ci, c := range currencies {
			if c == b.cur {
				s.unswept[ci] = append(s.unswept[ci], b)
			}
		}
	}
}

// flush exports the rows at the head of the queue that no payout can
// change any more (or all rows, at the end), keeping creation order.
func (s *sim) flush(all bool) {
	i := 0
	for ; i < len(s.queue) && (all || s.queue[i].final); i++ {
		if s.err == nil {
			s.err = s.exp.write(s.queue[i])
		}
		s.queue[i] = nil
	}
	if i == 0 {
		return
	}
	s.queue = s.queue[i:]
	if cap(s.queue) > 1024 && len(s.queue) < cap(s.queue)/4 {
		s.queue = append([]*btRow(nil), s.queue...)
	}
}
