package reconcile

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
	payoutKind, failureKind := kindCode(KindPayout), kindCode(KindPayoutFailure)
	isPayout := func(k uint8) bool { return k == payoutKind || k == failureKind }

	var res []Outcome
	provSweeps := map[string]*sweep{}
	for i := range p.recs {
		if st := m.pState[i]; st == dup || st == out || isPayout(p.kind[i]) || p.recs[i].PayoutID == "" {
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
		for j := range l.bts {
			bt := &l.bts[j]
			if l.kind[j] != payoutKind {
				continue
			}
			s := total(ledSweeps, bt.SourceID, bt.SourceRef)
			if s.n == 0 || s.net == -bt.Net {
				continue
			}
			o := Outcome{Kind: PayoutMismatch, Provider: bt.Provider, Subject: KindPayout, LedgerID: bt.ID, Ref: bt.SourceRef,
				Currency: bt.Currency, Amount: bt.Amount, At: bt.Created,
				Payout: &PayoutFigures{Side: "ledger", Amount: -bt.Net, SweptNet: s.net, Swept: s.n}}
			if i := m.lMate[j]; i >= 0 && m.lState[j] == paired {
				o.ProviderID = p.recs[i].ID
				o.At = p.recs[i].Created
			}
			res = append(res, o)
		}
	}
	return res
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
