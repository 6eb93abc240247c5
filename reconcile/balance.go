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
// The inputs are read, never modified or copied; the engine keeps a few
// dozen bytes per item.
func MatchBalances(records []provider.Record, bts []ledger.BalanceTransaction, opts *Options) *Result {
	opt := opts.withDefaults()
	p := newProviderBalances(records)
	l := newLedgerBalances(bts)
	m := newMatcher(p, l, opt)
	m.dedupe()
	folded := p.foldSplits(m)
	m.linkPass(opt.Links)
	m.refPass(p.Ref)
	m.heuristicPass()

	r := &Result{Links: m.links()}
	r.Summary.ProviderRecords, r.Summary.LedgerRecords, r.Summary.Folded = len(records), len(bts), folded
	nonMatched := map[int32]int{} // provider index → outcome, for the folded ids
	for i := range records {
		rec := &records[i]
		o := Outcome{Provider: rec.Provider, Subject: kinds[p.kind[i]], ProviderID: rec.ID, Ref: rec.SourceRef,
			Currency: rec.Currency, Amount: rec.Amount, At: rec.Created}
		switch m.pState[i] {
		case paired:
			bt := &bts[m.pMate[i]]
			o.LedgerID, o.Heuristic = bt.ID, m.pHow[i] == viaHeuristic
			var adopt bool
			var settle *Settlement
			o.Diffs, adopt, settle = compareBalance(p, i, bt, &opt)
			if adopt || settle != nil {
				a := Adoption{LedgerID: bt.ID, ProviderID: rec.ID, Settlement: settle}
				if adopt {
					a.AvailableOn = rec.AvailableOn.UTC()
				}
				r.Adoptions = append(r.Adoptions, a)
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
				o.LedgerID = bts[m.pMate[k]].ID
			} else if j, ok := m.dupLedger[int32(i)]; ok {
				o.LedgerID = bts[j].ID
			}
		case free:
			if rec.Test {
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
		if o.Kind != Matched {
			nonMatched[int32(i)] = len(r.Outcomes)
		}
		r.Outcomes = append(r.Outcomes, o)
	}
	for member, parent := range p.foldedInto {
		if k, ok := nonMatched[parent]; ok {
			r.Outcomes[k].FoldedIDs = append(r.Outcomes[k].FoldedIDs, records[member].ID)
		}
	}
	for _, k := range nonMatched {
		slices.Sort(r.Outcomes[k].FoldedIDs)
	}
	for j := range bts {
		if m.lState[j] != free {
			continue
		}
		bt := &bts[j]
		r.Outcomes = append(r.Outcomes, Outcome{Kind: MissingAtProvider, Provider: bt.Provider, Subject: kinds[l.kind[j]],
			LedgerID: bt.ID, Ref: bt.SourceRef, Currency: bt.Currency, Amount: bt.Amount, At: bt.Created})
	}
	r.Outcomes = append(r.Outcomes, checkPayouts(p, l, m)...)
	r.finish()
	return r
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
func compareBalance(p *providerBalances, i int, bt *ledger.BalanceTransaction, opt *Options) (ds []Diff, adopt bool, settle *Settlement) {
	rec := &p.recs[i]
	tol := opt.DateTolerance
	conv, converted := convertedPair(rec, bt)
	ds = append(ds, conv.diffs...)
	if !converted || conv.comparable {
		if rec.Amount != bt.Amount {
			ds = append(ds, diffInt(FieldAmount, bt.Amount, rec.Amount))
		}
		if !strings.EqualFold(rec.Currency, bt.Currency) && opt.compares(FieldCurrency) {
			ds = append(ds, Diff{FieldCurrency, bt.Currency, rec.Currency})
		}
	}
	if !converted || conv.comparable || conv.keepFee {
		if f := p.Fee(i); f != bt.Fee && opt.compares(FieldFee) {
			ds = append(ds, diffInt(FieldFee, bt.Fee, f))
		}
		// Where the amount is adopted, a net that differs only by it is no
		// difference: the fee's is.
		adoptedAmount := rec.Amount - bt.Amount
		if !converted || conv.comparable {
			adoptedAmount = 0
		}
		if n := p.Net(i); n-adoptedAmount != bt.Net && opt.compares(FieldNet) {
			ds = append(ds, diffInt(FieldNet, bt.Net, n))
		}
	}
	settle = conv.adopt
	adopt = bt.AvailableOnEstimated && !rec.AvailableOn.IsZero() && !rec.AvailableOn.Equal(bt.AvailableOn)
	if rec.Status != "" && bt.Status != "" && !strings.EqualFold(rec.Status, bt.Status) && !adopt && opt.compares(FieldStatus) {
		ds = append(ds, Diff{FieldStatus, bt.Status, rec.Status})
	}
	if farApart(rec.Created, bt.Created, tol) && opt.compares(FieldDate) {
		ds = append(ds, diffTime(FieldDate, bt.Created, rec.Created))
	}
	if !adopt && farApart(rec.AvailableOn, bt.AvailableOn, tol) && opt.compares(FieldAvailableOn) {
		ds = append(ds, diffTime(FieldAvailableOn, bt.AvailableOn, rec.AvailableOn))
	}
	return ds, adopt, settle
}

// providerBalances is the provider side of the balance grain.
type providerBalances struct {
	recs []provider.Record
	kind []uint8
	// fee and net are set only when foldSplits folded something; otherwise
	// the records' own figures stand.
	fee, net   []int64
	foldedInto map[int32]int32 // folded record → the record it was folded into
}

func newProviderBalances(recs []provider.Record) *providerBalances {
	p := &providerBalances{recs: recs, kind: make([]uint8, len(recs))}
	cache := map[[2]string]uint8{}
	for i := range recs {
		r := &recs[i]
		k := [2]string{r.Type, r.ReportingCategory}
		c, ok := cache[k]
		if !ok {
			c = kindCode(Kind(r.Type, r.ReportingCategory))
			cache[k] = c
		}
		p.kind[i] = c
	}
	return p
}

func (p *providerBalances) Len() int         { return len(p.recs) }
func (p *providerBalances) ID(i int) string  { return p.recs[i].ID }
func (p *providerBalances) Ref(i int) string { return p.recs[i].SourceRef }
func (p *providerBalances) Kind(i int) uint8 { return p.kind[i] }
func (p *providerBalances) Currency(i int) string {
	if r := &p.recs[i]; r.PresentmentCurrency != "" {
		return r.PresentmentCurrency // a converted movement pairs on what the customer saw
	}
	return p.recs[i].Currency
}
func (p *providerBalances) Amount(i int) int64 {
	if r := &p.recs[i]; r.PresentmentCurrency != "" {
		return r.PresentmentAmount
	}
	return p.recs[i].Amount
}
func (p *providerBalances) Time(i int) time.Time { return p.recs[i].Created }
func (p *providerBalances) Compare(i, j int) int { return compareRecords(&p.recs[i], &p.recs[j]) }
func (p *providerBalances) Fee(i int) int64 {
	if p.fee != nil {
		return p.fee[i]
	}
	return p.recs[i].Fee
}
func (p *providerBalances) Net(i int) int64 {
	if p.net != nil {
		return p.net[i]
	}
	return p.recs[i].Net
}

// compareRecords is a total order on provider records' contents.
func compareRecords(a, b *provider.Record) int {
	if c := compareTimeID(a.Created, b.Created, a.ID, b.ID); c != 0 {
		return c
	}
	for _, c := range []int{cmp.Compare(a.Amount, b.Amount), cmp.Compare(a.Fee, b.Fee), cmp.Compare(a.Net, b.Net),
		strings.Compare(a.Type, b.Type), strings.Compare(a.SourceRef, b.SourceRef), strings.Compare(a.Currency, b.Currency),
		cmp.Compare(a.Captured, b.Captured), cmp.Compare(a.Refunded, b.Refunded), cmp.Compare(a.Disputed, b.Disputed),
		strings.Compare(a.Status, b.Status), strings.Compare(a.ReportingCategory, b.ReportingCategory),
		strings.Compare(a.PaymentRef, b.PaymentRef), strings.Compare(a.PayoutID, b.PayoutID), a.AvailableOn.Compare(b.AvailableOn),
		strings.Compare(a.Provider, b.Provider), strings.Compare(a.Description, b.Description),
		strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), strings.Compare(a.Raw, b.Raw)} {
		if c != 0 {
			return c
		}
	}
	return 0
}

// ledgerBalances is the ledger side of the balance grain.
type ledgerBalances struct {
	bts  []ledger.BalanceTransaction
	kind []uint8
}

func newLedgerBalances(bts []ledger.BalanceTransaction) *ledgerBalances {
	l := &ledgerBalances{bts: bts, kind: make([]uint8, len(bts))}
	cache := map[[2]string]uint8{}
	for i := range bts {
		b := &bts[i]
		k := [2]string{b.Type, b.ReportingCategory}
		c, ok := cache[k]
		if !ok {
			c = kindCode(Kind(b.Type, b.ReportingCategory))
			cache[k] = c
		}
		l.kind[i] = c
	}
	return l
}

func (l *ledgerBalances) Len() int         { return len(l.bts) }
func (l *ledgerBalances) ID(i int) string  { return l.bts[i].ID }
func (l *ledgerBalances) Ref(i int) string { return l.bts[i].SourceRef }
func (l *ledgerBalances) Kind(i int) uint8 { return l.kind[i] }
func (l *ledgerBalances) Currency(i int) string {
	if b := &l.bts[i]; b.PresentmentCurrency != "" {
		return b.PresentmentCurrency
	}
	return l.bts[i].Currency
}
func (l *ledgerBalances) Amount(i int) int64 {
	if b := &l.bts[i]; b.PresentmentCurrency != "" {
		return b.PresentmentAmount
	}
	return l.bts[i].Amount
}
func (l *ledgerBalances) Time(i int) time.Time { return l.bts[i].Created }
func (l *ledgerBalances) Compare(i, j int) int {
	a, b := &l.bts[i], &l.bts[j]
	if c := compareTimeID(a.Created, b.Created, a.ID, b.ID); c != 0 {
		return c
	}
	for _, c := range []int{cmp.Compare(a.Amount, b.Amount), cmp.Compare(a.Fee, b.Fee), cmp.Compare(a.Net, b.Net),
		strings.Compare(a.Type, b.Type), strings.Compare(a.SourceRef, b.SourceRef), strings.Compare(a.Currency, b.Currency),
		strings.Compare(a.ReportingCategory, b.ReportingCategory), strings.Compare(a.Status, b.Status),
		strings.Compare(a.PayoutID, b.PayoutID), a.AvailableOn.Compare(b.AvailableOn), strings.Compare(a.SourceID, b.SourceID)} {
		if c != 0 {
			return c
		}
	}
	return 0
}
