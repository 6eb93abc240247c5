package reconcile

import (
	"slices"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

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
	for i := range p.recs {
		if !p.heldByPayout(i, m) {
			continue
		}
		add(provSweeps, p.recs[i].PayoutID, p.Net(i))
	}
	if len(provSweeps) > 0 {
		for i := range p.recs {
			rec := &p.recs[i]
			if st := m.pState[i]; st == dup || st == out || p.kind[i] != payoutKind {
				continue
			}
			ref := rec.SourceRef
			if ref == "" {
				ref = rec.ID
			}
			s := total(provSweeps, ref, rec.ID)
			if s.n == 0 || s.net == -p.Net(i) {
				continue
			}
			o := Outcome{Kind: PayoutMismatch, Provider: rec.Provider, Subject: KindPayout, ProviderID: rec.ID, Ref: ref,
				Currency: rec.Currency, Amount: rec.Amount, At: rec.Created,
				Payout: &PayoutFigures{Side: "provider", Amount: -p.Net(i), SweptNet: s.net, Swept: s.n}}
			if j := m.pMate[i]; j >= 0 && m.pState[i] == paired {
				o.LedgerID = l.bts[j].ID
			}
			res = append(res, o)
		}
	}

	ledSweeps := map[string]*sweep{}
	for j := range l.bts {
		if isPayout(l.kind[j]) || l.bts[j].PayoutID == "" {
			continue
		}
		add(ledSweeps, l.bts[j].PayoutID, l.bts[j].Net)
	}
	if len(ledSweeps) > 0 {
		c := newComposition(p, l, m, isPayout)
		for j := range l.bts {
			bt := &l.bts[j]
			if l.kind[j] != payoutKind {
				continue
			}
			s := total(ledSweeps, bt.SourceID, bt.SourceRef)
			if s.n == 0 {
				continue
			}
			fig := &PayoutFigures{Side: "ledger", Amount: -bt.Net, SweptNet: s.net, Swept: s.n}
			i := m.lMate[j]
			if i >= 0 && m.lState[j] == paired {
				c.compare(fig, &p.recs[i], bt)
			}
			if s.net == -bt.Net && fig.MissingCount == 0 && fig.ExtraCount == 0 {
				continue
			}
			o := Outcome{Kind: PayoutMismatch, Provider: bt.Provider, Subject: KindPayout, LedgerID: bt.ID, Ref: bt.SourceRef,
				Currency: bt.Currency, Amount: bt.Amount, At: bt.Created, Payout: fig}
			if i >= 0 && m.lState[j] == paired {
				o.ProviderID = p.recs[i].ID
				o.At = p.recs[i].Created
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
	for i := range p.recs {
		if !p.heldByPayout(i, m) {
			continue
		}
		c.byProv[p.recs[i].PayoutID] = append(c.byProv[p.recs[i].PayoutID], int32(i))
	}
	for j := range l.bts {
		if isPayout(l.kind[j]) || l.bts[j].PayoutID == "" {
			continue
		}
		c.byLed[l.bts[j].PayoutID] = append(c.byLed[l.bts[j].PayoutID], int32(j))
	}
	return c
}

// compare fills fig's Missing and Extra for a ledger payout bt paired with
// the provider's payout record rec, when the provider's export groups its
// records by payout; otherwise there is nothing to compare against.
func (c *composition) compare(fig *PayoutFigures, rec *provider.Record, bt *ledger.BalanceTransaction) {
	provIDs := []string{rec.SourceRef, rec.ID}
	provMembers := slices.Concat(c.byProv[rec.SourceRef], c.byProv[rec.ID])
	if rec.SourceRef == rec.ID {
		provMembers = c.byProv[rec.ID]
	}
	if len(provMembers) == 0 {
		return
	}
	ledIDs := []string{bt.SourceID, bt.SourceRef}
	ledMembers := slices.Concat(c.byLed[bt.SourceID], c.byLed[bt.SourceRef])
	if bt.SourceID == bt.SourceRef {
		ledMembers = c.byLed[bt.SourceID]
	}
	var missing, extra []string
	for _, i := range provMembers {
		if j := c.m.pMate[i]; j >= 0 && c.m.pState[i] == paired && slices.Contains(ledIDs, c.l.bts[j].PayoutID) {
			continue
		}
		missing = append(missing, c.p.recs[i].ID)
	}
	for _, j := range ledMembers {
		if i := c.m.lMate[j]; i >= 0 && c.m.lState[j] == paired && slices.Contains(provIDs, c.p.recs[i].PayoutID) {
			continue
		}
		extra = append(extra, c.l.bts[j].ID)
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
	r := &p.recs[i]
	if st := m.pState[i]; st == dup || st == out || r.PayoutID == "" {
		return false
	}
	switch p.kind[i] {
	case kindCode(KindPayout):
		return false
	case kindCode(KindPayoutFailure):
		return r.PayoutID != r.SourceRef && r.PayoutID != r.ID
	}
	return true
}
