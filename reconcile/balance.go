package reconcile

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// MatchBalances reconciles one provider's balance-grain records with the
// ledger's balance transactions for the same provider and window.
//
// Before matching, duplicate record ids are set aside and split movements are
// folded (see foldSplits). Then three passes pair records with balance
// transactions: (1) opt.Links from earlier runs; (2) the provider's source
// reference (ch_, re_, dp_, po_, py_ …) together with the canonical Kind;
// when several records or transactions share a key, those with equal amounts
// pair first, then the rest in time order, and records beyond the number of
// transactions are duplicates; (3) currency, kind and amount within
// opt.HeuristicWindow, when exactly one candidate exists on each side
// (flagged Heuristic). Pairs are compared on amount, fee, net, currency,
// status and dates. Finally each payout is checked against the sum of the
// nets it swept, on each side.
//
// The inputs are read, never modified. MatchBalances is MatchSides on
// sides made of records and bts; times in the Result are in UTC.
func MatchBalances(records []provider.Record, bts []ledger.BalanceTransaction, opts *Options) *Result {
	p, l := NewProviderSide(len(records)), NewLedgerSide(len(bts))
	for i := range records {
		p.Add(&records[i])
	}
	for j := range bts {
		l.Add(&bts[j])
	}
	return MatchSides(p, l, opts)
}

// MatchSides is MatchBalances on compact sides, which a caller can fill
// as rows stream from a store instead of holding every record and
// transaction whole. The sides are read, never modified; the engine keeps
// a few dozen bytes per item.
func MatchSides(ps *ProviderSide, ls *LedgerSide, opts *Options) *Result {
	return PairSides(ps, ls, opts).Result()
}

// Pairing holds the pairs a balance-grain match found, so that they can be
// compared again (Result) after the ledger side's settlements changed.
type Pairing struct {
	ps     *ProviderSide
	ls     *LedgerSide
	p      *providerBalances
	l      *ledgerBalances
	m      *matcher
	folded int
	// links are the pairs as links, made and sorted by the first Result
	// (nil until then, or when nothing paired): the pairs do not change
	// after PairSides, and a million links take a while to make and, when
	// the provider's ids are random, to sort.
	links []Link
}

// PairSides runs the passes of MatchSides that pair records with balance
// transactions: Result compares the pairs.
func PairSides(ps *ProviderSide, ls *LedgerSide, opts *Options) *Pairing {
	opt := opts.withDefaults()
	p := &providerBalances{s: ps}
	l := &ledgerBalances{s: ls}
	m := newMatcher(p, l, opt)
	m.dedupe()
	folded := p.foldSplits(m)
	m.linkPass(opt.Links, opt.LinkList)
	m.refPass(p.Ref)
	m.heuristicPass()
	return &Pairing{ps: ps, ls: ls, p: p, l: l, m: m, folded: folded}
}

// Result compares the pairs, and checks the payouts, as the sides now
// stand. After LedgerSide.PatchSettlements it gives what MatchSides would
// when the ledger side's ids are unique (as a ledger's are): the dates,
// statuses and payouts it patches enter pairing only through the content
// order (Compare), after the id. Any other change to a side needs
// MatchSides. The Results of one Pairing share their Links; each sorts
// them in place the same way (finish), so the second finds them sorted.
func (pr *Pairing) Result() *Result {
	ps, ls, p, l, m, opt := pr.ps, pr.ls, pr.p, pr.l, pr.m, &pr.m.opt
	folded := pr.folded
	if pr.links == nil {
		pr.links = m.links()
	}
	r := &Result{Links: pr.links}
	r.Summary.ProviderRecords, r.Summary.LedgerRecords, r.Summary.Folded = ps.Len(), ls.Len(), folded
	var list outcomeList
	// A record others were folded into lists their ids: its outcome is
	// found by the record's index (few records are folded, and a run can
	// have a million outcomes).
	parents := map[int32]int{} // folded-into record's index → its outcome, -1 while it has none
	for _, parent := range p.foldedInto {
		parents[parent] = -1
	}
	for i := range ps.items {
		rec := &ps.items[i]
		o := Outcome{Provider: ps.providers.at(rec.provider), Subject: kinds[p.Kind(i)], ProviderID: rec.id, Ref: rec.ref,
			Currency: ps.currency(i), Amount: rec.amount, At: timeOf(rec.created)}
		switch m.pState[i] {
		case paired:
			j := int(m.pMate[i])
			o.LedgerID, o.Heuristic = ls.items[j].id, m.pHow[i] == viaHeuristic
			var adopt bool
			var settle *Settlement
			o.Diffs, adopt, settle = compareBalance(p, i, ls, j, opt)
			if adopt || settle != nil {
				r.Adoptions = append(r.Adoptions, pr.adoption(i, j, adopt, settle))
			}
			if o.Heuristic {
				r.Summary.Heuristic++
			}
			if len(o.Diffs) == 0 {
				r.Summary.Matched++
				if !opt.ListMatched {
					continue
				}
				o.Kind = Matched
			} else {
				o.Kind = Mismatched
			}
		case dup:
			o.Kind = Duplicate
			if k, ok := m.dupOf[int32(i)]; ok && m.pState[k] == paired {
				o.LedgerID = ls.items[m.pMate[k]].id
			} else if j, ok := m.dupLedger[int32(i)]; ok {
				o.LedgerID = ls.items[j].id
			}
		case free:
			if rec.test {
				// A test-mode object the books never had is no part of
				// live books: skipped, not missing. (Sandbox books that
				// recorded it pair with it like any other.)
				r.Summary.Skipped++
				continue
			}
			o.Kind = MissingInLedger
		default:
			continue
		}
		k := list.add(o)
		if _, ok := parents[int32(i)]; ok && o.Kind != Matched {
			parents[int32(i)] = k
		}
	}
	for j := range ls.items {
		if m.lState[j] != free {
			continue
		}
		bt := &ls.items[j]
		list.add(Outcome{Kind: MissingAtProvider, Provider: ls.provider(j), Subject: kinds[l.Kind(j)],
			LedgerID: bt.id, Ref: bt.ref, Currency: ls.currency(j), Amount: bt.amount, At: timeOf(bt.created)})
	}
	r.Outcomes = list.all(checkPayouts(p, l, m)...)
	for member, parent := range p.foldedInto {
		if k := parents[parent]; k >= 0 {
			r.Outcomes[k].FoldedIDs = append(r.Outcomes[k].FoldedIDs, ps.items[member].id)
		}
	}
	for _, k := range parents {
		if k >= 0 {
			slices.Sort(r.Outcomes[k].FoldedIDs)
		}
	}
	r.finish()
	return r
}

// Adoptions are the adoptions Result would list, in the same order,
// without the rest of its comparing: a run that adopts the provider's
// dates compares again once they are booked, and only that Result is kept.
func (pr *Pairing) Adoptions() []Adoption {
	var out []Adoption
	for i := range pr.ps.items {
		if pr.m.pState[i] != paired {
			continue
		}
		j := int(pr.m.pMate[i])
		if _, adopt, settle := compareBalance(pr.p, i, pr.ls, j, &pr.m.opt); adopt || settle != nil {
			out = append(out, pr.adoption(i, j, adopt, settle))
		}
	}
	sortAdoptions(out)
	return out
}

// adoption is the adoption of record i's facts by its pair j.
func (pr *Pairing) adoption(i, j int, adopt bool, settle *Settlement) Adoption {
	rec := &pr.ps.items[i]
	a := Adoption{LedgerID: pr.ls.items[j].id, ProviderID: rec.id, Settlement: settle}
	if adopt {
		a.AvailableOn = timeOf(rec.availableOn)
	}
	return a
}

// compareBalance lists the fields on which a provider record and a balance
// transaction differ. A status or date the provider does not give is not
// compared. Where the ledger only estimated available_on (and the status
// that follows from it), a provider date that differs is a fact to adopt,
// not a difference: adopt reports it.
//
// A converted pair is compared on its presentment side, and its settlement
// side is adopted where the ledger did not know it (see fx.go): settle
// reports it.
func compareBalance(p *providerBalances, i int, ls *LedgerSide, j int, opt *Options) (ds []Diff, adopt bool, settle *Settlement) {
	rec, bt := &p.s.items[i], &ls.items[j]
	tol := opt.DateTolerance
	conv, converted := convertedPair(p.s, i, ls, j)
	ds = append(ds, conv.diffs...)
	if !converted || conv.comparable {
		if rec.amount != bt.amount {
			ds = append(ds, diffInt(FieldAmount, bt.amount, rec.amount))
		}
		if rc, lc := p.s.currency(i), ls.currency(j); !strings.EqualFold(rc, lc) && opt.compares(FieldCurrency) {
			ds = append(ds, Diff{FieldCurrency, lc, rc})
		}
	}
	if !converted || conv.comparable || conv.keepFee {
		if f := p.Fee(i); f != bt.fee && opt.compares(FieldFee) {
			ds = append(ds, diffInt(FieldFee, bt.fee, f))
		}
		// Where the amount is adopted, a net that differs only by it is no
		// difference: the fee's is.
		adoptedAmount := rec.amount - bt.amount
		if !converted || conv.comparable {
			adoptedAmount = 0
		}
		if n := p.Net(i); n-adoptedAmount != bt.net && opt.compares(FieldNet) {
			ds = append(ds, diffInt(FieldNet, bt.net, n))
		}
	}
	settle = conv.adopt
	adopt = bt.estimated && rec.availableOn != noTime && rec.availableOn != bt.availableOn
	if rs, ls := p.s.status(i), ls.status(j); rs != "" && ls != "" && !strings.EqualFold(rs, ls) && !adopt && opt.compares(FieldStatus) {
		ds = append(ds, Diff{FieldStatus, ls, rs})
	}
	if farApart(timeOf(rec.created), timeOf(bt.created), tol) && opt.compares(FieldDate) {
		ds = append(ds, diffTime(FieldDate, timeOf(bt.created), timeOf(rec.created)))
	}
	if !adopt && farApart(timeOf(rec.availableOn), timeOf(bt.availableOn), tol) && opt.compares(FieldAvailableOn) {
		ds = append(ds, diffTime(FieldAvailableOn, timeOf(bt.availableOn), timeOf(rec.availableOn)))
	}
	return ds, adopt, settle
}

// providerBalances is the provider side of the balance grain, as one
// match sees it.
type providerBalances struct {
	s *ProviderSide
	// fee and net are set only when foldSplits folded something; otherwise
	// the records' own figures stand.
	fee, net   []int64
	foldedInto map[int32]int32 // folded record → the record it was folded into
}

func (p *providerBalances) Len() int         { return len(p.s.items) }
func (p *providerBalances) ID(i int) string  { return p.s.items[i].id }
func (p *providerBalances) Ref(i int) string { return p.s.items[i].ref }
func (p *providerBalances) Kind(i int) uint8 { return p.s.typeCat(i).kind }
func (p *providerBalances) Currency(i int) string {
	if x := p.s.items[i].x; x != nil && x.presentmentCurrency != "" {
		return x.presentmentCurrency // a converted movement pairs on what the customer saw
	}
	return p.s.currency(i)
}
func (p *providerBalances) Amount(i int) int64 {
	if x := p.s.items[i].x; x != nil && x.presentmentCurrency != "" {
		return x.presentmentAmount
	}
	return p.s.items[i].amount
}
func (p *providerBalances) Time(i int) time.Time { return timeOf(p.s.items[i].created) }
func (p *providerBalances) Compare(i, j int) int { return p.s.compare(i, j) }
func (p *providerBalances) Fee(i int) int64 {
	if p.fee != nil {
		return p.fee[i]
	}
	return p.s.items[i].fee
}
func (p *providerBalances) Net(i int) int64 {
	if p.net != nil {
		return p.net[i]
	}
	return p.s.items[i].net
}

// compare is a total order on provider records' contents: created, id,
// amount, fee, net, type, reference, currency, captured, refunded,
// disputed, status, reporting category, payment, payout, available_on,
// provider, description, file, line and raw row.
func (p *ProviderSide) compare(i, j int) int {
	a, b := &p.items[i], &p.items[j]
	if c := cmp.Compare(a.created, b.created); c != 0 {
		return c
	}
	if c := strings.Compare(a.id, b.id); c != 0 {
		return c
	}
	if c := cmp.Compare(a.amount, b.amount); c != 0 {
		return c
	}
	if c := cmp.Compare(a.fee, b.fee); c != 0 {
		return c
	}
	if c := cmp.Compare(a.net, b.net); c != 0 {
		return c
	}
	ta, tb := p.typeCat(i), p.typeCat(j)
	if c := strings.Compare(ta.typ, tb.typ); c != 0 {
		return c
	}
	if c := strings.Compare(a.ref, b.ref); c != 0 {
		return c
	}
	if c := strings.Compare(p.currency(i), p.currency(j)); c != 0 {
		return c
	}
	xa, xb := p.extra(i), p.extra(j)
	for _, c := range [...]int{cmp.Compare(xa.captured, xb.captured), cmp.Compare(xa.refunded, xb.refunded),
		cmp.Compare(xa.disputed, xb.disputed), strings.Compare(p.status(i), p.status(j)),
		strings.Compare(ta.cat, tb.cat), strings.Compare(xa.paymentRef, xb.paymentRef),
		strings.Compare(a.payoutID, b.payoutID), cmp.Compare(a.availableOn, b.availableOn),
		strings.Compare(p.providers.at(a.provider), p.providers.at(b.provider)), strings.Compare(a.desc, b.desc),
		strings.Compare(p.files.at(a.file), p.files.at(b.file)), cmp.Compare(a.line, b.line), strings.Compare(xa.raw, xb.raw)} {
		if c != 0 {
			return c
		}
	}
	return 0
}

// ledgerBalances is the ledger side of the balance grain, as one match
// sees it.
type ledgerBalances struct {
	s *LedgerSide
}

func (l *ledgerBalances) Len() int         { return len(l.s.items) }
func (l *ledgerBalances) ID(j int) string  { return l.s.items[j].id }
func (l *ledgerBalances) Ref(j int) string { return l.s.items[j].ref }
func (l *ledgerBalances) Kind(j int) uint8 { return l.s.typeCat(j).kind }
func (l *ledgerBalances) Currency(j int) string {
	if pc := l.s.presentmentCurrency(j); pc != "" {
		return pc
	}
	return l.s.currency(j)
}
func (l *ledgerBalances) Amount(j int) int64 {
	if it := &l.s.items[j]; l.s.presentmentCurrency(j) != "" {
		return it.presentmentAmount
	}
	return l.s.items[j].amount
}
func (l *ledgerBalances) Time(j int) time.Time { return timeOf(l.s.items[j].created) }

// Compare is a total order on balance transactions' contents: created, id,
// amount, fee, net, type, reference, currency, reporting category, status,
// payout, available_on and source.
func (l *ledgerBalances) Compare(i, j int) int {
	s := l.s
	a, b := &s.items[i], &s.items[j]
	if c := cmp.Compare(a.created, b.created); c != 0 {
		return c
	}
	if c := strings.Compare(a.id, b.id); c != 0 {
		return c
	}
	ta, tb := s.typeCat(i), s.typeCat(j)
	for _, c := range [...]int{cmp.Compare(a.amount, b.amount), cmp.Compare(a.fee, b.fee), cmp.Compare(a.net, b.net),
		strings.Compare(ta.typ, tb.typ), strings.Compare(a.ref, b.ref), strings.Compare(s.currency(i), s.currency(j)),
		strings.Compare(ta.cat, tb.cat), strings.Compare(s.status(i), s.status(j)),
		strings.Compare(a.payoutID, b.payoutID), cmp.Compare(a.availableOn, b.availableOn), strings.Compare(a.sourceID, b.sourceID)} {
		if c != 0 {
			return c
		}
	}
	return 0
}
