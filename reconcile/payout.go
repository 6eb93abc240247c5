package reconcile

import "slices"

// sweep totals the balance transactions a payout swept.
type sweep struct {
	net int64
	n   int
}

// checkPayouts checks each payout, on each side, against the balance
// transactions that name it: the payout's amount (minus its net: a payout is
// a debit of the balance) must equal the sum of their nets. The provider's
// records name their payout by the provider's id (PayoutID = po_…); the
// ledger's transactions by settle's payout id (the payout transaction's
// SourceID) or, when booked from provider data, by the provider's id. A
// payout none of whose swept transactions is in the input is not checked:
// its window lies elsewhere.
func checkPayouts(p *providerBalances, l *ledgerBalances, m *matcher) []Outcome {
	// A failed payout's returned funds (payout_failure) go out with the next
	// payout, so they count among what a payout holds; payouts do not.
	payoutKind := kindCode(KindPayout)
	isPayout := func(k uint8) bool { return k == payoutKind }

	var res []Outcome
	provSweeps := map[string]*sweep{}
	for i := range p.s.items {
		if !p.heldByPayout(i, m) {
			continue
		}
		add(provSweeps, p.s.items[i].payoutID, p.Net(i))
	}
	if len(provSweeps) > 0 {
		for i := range p.s.items {
			rec := &p.s.items[i]
			if st := m.pState[i]; st == dup || st == out || p.Kind(i) != payoutKind {
				continue
			}
			ref := rec.ref
			if ref == "" {
				ref = rec.id
			}
			s := total(provSweeps, ref, rec.id)
			if s.n == 0 || s.net == -p.Net(i) {
				continue
			}
			o := Outcome{Kind: PayoutMismatch, Provider: p.s.providers.at(rec.provider), Subject: KindPayout, ProviderID: rec.id, Ref: ref,
				Currency: p.s.currency(i), Amount: rec.amount, At: timeOf(rec.created),
				Payout: &PayoutFigures{Side: "provider", Amount: -p.Net(i), SweptNet: s.net, Swept: s.n}}
			if j := m.pMate[i]; j >= 0 && m.pState[i] == paired {
				o.LedgerID = l.s.items[j].id
			}
			res = append(res, o)
		}
	}

	ledSweeps := map[string]*sweep{}
	for j := range l.s.items {
		if bt := &l.s.items[j]; bt.payoutID != "" && !isPayout(l.Kind(j)) {
			add(ledSweeps, bt.payoutID, bt.net)
		}
	}
	if len(ledSweeps) > 0 {
		c := newComposition(p, l, m, isPayout)
		for j := range l.s.items {
			bt := &l.s.items[j]
			if l.Kind(j) != payoutKind {
				continue
			}
			s := total(ledSweeps, bt.sourceID, bt.ref)
			if s.n == 0 {
				continue
			}
			fig := &PayoutFigures{Side: "ledger", Amount: -bt.net, SweptNet: s.net, Swept: s.n}
			i := m.lMate[j]
			if i >= 0 && m.lState[j] == paired {
				c.compare(fig, &p.s.items[i], bt)
			}
			if s.net == -bt.net && fig.MissingCount == 0 && fig.ExtraCount == 0 {
				continue
			}
			o := Outcome{Kind: PayoutMismatch, Provider: l.s.provider(j), Subject: KindPayout, LedgerID: bt.id, Ref: bt.ref,
				Currency: l.s.currency(j), Amount: bt.amount, At: timeOf(bt.created), Payout: fig}
			if i >= 0 && m.lState[j] == paired {
				o.ProviderID = p.s.items[i].id
				o.At = timeOf(p.s.items[i].created)
			}
			res = append(res, o)
		}
	}
	return res
}

// composition compares a ledger payout's members with the provider's
// grouping of the payout it is paired with (automatic_payout_id).
type composition struct {
	p      *providerBalances
	l      *ledgerBalances
	m      *matcher
	byProv map[string][]int32 // provider payout id → its provider records
	byLed  map[string][]int32 // ledger payout id → its balance transactions
}

func newComposition(p *providerBalances, l *ledgerBalances, m *matcher, isPayout func(uint8) bool) *composition {
	c := &composition{p: p, l: l, m: m, byProv: map[string][]int32{}, byLed: map[string][]int32{}}
	for i := range p.s.items {
		if !p.heldByPayout(i, m) {
			continue
		}
		id := p.s.items[i].payoutID
		c.byProv[id] = append(c.byProv[id], int32(i))
	}
	for j := range l.s.items {
		if id := l.s.items[j].payoutID; id != "" && !isPayout(l.Kind(j)) {
			c.byLed[id] = append(c.byLed[id], int32(j))
		}
	}
	return c
}

// compare fills fig's Missing and Extra for a ledger payout bt paired with
// the provider's payout record rec, when the provider's export groups its
// records by payout; otherwise there is nothing to compare against.
func (c *composition) compare(fig *PayoutFigures, rec *recItem, bt *btItem) {
	provIDs := []string{rec.ref, rec.id}
	provMembers := slices.Concat(c.byProv[rec.ref], c.byProv[rec.id])
	if rec.ref == rec.id {
		provMembers = c.byProv[rec.id]
	}
	if len(provMembers) == 0 {
		return
	}
	ledIDs := []string{bt.sourceID, bt.ref}
	ledMembers := slices.Concat(c.byLed[bt.sourceID], c.byLed[bt.ref])
	if bt.sourceID == bt.ref {
		ledMembers = c.byLed[bt.sourceID]
	}
	var missing, extra []string
	for _, i := range provMembers {
		if j := c.m.pMate[i]; j >= 0 && c.m.pState[i] == paired && slices.Contains(ledIDs, c.l.s.items[j].payoutID) {
			continue
		}
		missing = append(missing, c.p.s.items[i].id)
	}
	for _, j := range ledMembers {
		if i := c.m.lMate[j]; i >= 0 && c.m.lState[j] == paired && slices.Contains(provIDs, c.p.s.items[i].payoutID) {
			continue
		}
		extra = append(extra, c.l.s.items[j].id)
	}
	slices.Sort(missing)
	slices.Sort(extra)
	fig.MissingCount, fig.ExtraCount = len(missing), len(extra)
	fig.Missing, fig.Extra = missing[:min(len(missing), MaxListed)], extra[:min(len(extra), MaxListed)]
}

func add(m map[string]*sweep, id string, net int64) {
	s := m[id]
	if s == nil {
		s = &sweep{}
		m[id] = s
	}
	s.net += net
	s.n++
}

// total sums the sweeps recorded under either id of a payout.
func total(m map[string]*sweep, a, b string) sweep {
	var t sweep
	if s := m[a]; a != "" && s != nil {
		t.net, t.n = s.net, s.n
	}
	if s := m[b]; b != "" && b != a && s != nil {
		t.net += s.net
		t.n += s.n
	}
	return t
}

// heldByPayout reports whether provider record i names the payout that
// holds it: not a duplicate or out of play, not a payout, and not a payout
// failure whose payout id is the failed payout it reverses (as balance
// transaction exports name it) rather than the payout that took its funds.
func (p *providerBalances) heldByPayout(i int, m *matcher) bool {
	r := &p.s.items[i]
	if st := m.pState[i]; st == dup || st == out || r.payoutID == "" {
		return false
	}
	switch p.Kind(i) {
	case kindCode(KindPayout):
		return false
	case kindCode(KindPayoutFailure):
		return r.payoutID != r.ref && r.payoutID != r.id
	}
	return true
}
