package reconcile

import (
	"math"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// ProviderSide and LedgerSide hold the two sides of a balance-grain match
// compactly: only the fields that matching, its outcomes and its order
// read, with the few distinct texts of a column (currencies, types,
// statuses, files) numbered, and times as Unix nanoseconds. A provider
// record takes about a third of a provider.Record, a balance transaction
// of a ledger.BalanceTransaction, so a million of each are loaded (and
// their memory first touched) in a fraction of the time. Add copies what
// it keeps: a caller may stream rows through one reused struct.
//
// Times come back in UTC (the stores' own); a time is kept to the
// nanosecond between the years 1678 and 2262.

// noTime stands for the zero time.Time.
const noTime = math.MinInt64

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixNano()
}

func timeOf(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// texts numbers the distinct strings of a column. Columns hold a handful
// of values, mostly repeating the previous row's.
type texts struct {
	list []string
	code map[string]uint32
	last uint32
}

func (t *texts) of(s string) uint32 {
	if t.list == nil {
		t.list, t.code = []string{""}, map[string]uint32{"": 0}
	}
	if t.list[t.last] == s {
		return t.last
	}
	c, ok := t.code[s]
	if !ok {
		c = uint32(len(t.list))
		t.list = append(t.list, s)
		t.code[s] = c
	}
	t.last = c
	return c
}

func (t *texts) at(c uint32) string {
	if t.list == nil {
		return ""
	}
	return t.list[c]
}

// typeCat is a (type, reporting category) pair and its canonical kind.
type typeCat struct {
	typ, cat string
	kind     uint8
}

// typeCats numbers the (type, reporting category) pairs of a side.
type typeCats struct {
	list []typeCat
	code map[[2]string]uint32
	last uint32
}

func (t *typeCats) of(typ, cat string) uint32 {
	if t.list != nil {
		if l := &t.list[t.last]; l.typ == typ && l.cat == cat {
			return t.last
		}
	} else {
		t.code = map[[2]string]uint32{}
	}
	k := [2]string{typ, cat}
	c, ok := t.code[k]
	if !ok {
		c = uint32(len(t.list))
		t.list = append(t.list, typeCat{typ, cat, kindCode(Kind(typ, cat))})
		t.code[k] = c
	}
	t.last = c
	return c
}

// ProviderSide is the provider side of a balance-grain match: balance
// records added one by one (see MatchSides).
type ProviderSide struct {
	items []recItem
	// The numbered texts of the records' columns.
	providers, currencies, statuses, files texts
	types                                  typeCats
}

// recItem is one provider record.
type recItem struct {
	id, ref, payoutID, desc string
	amount, fee, net        int64
	created, availableOn    int64 // Unix nanoseconds, or noTime
	provider, currency      uint32
	typ, status, file       uint32
	line                    int32
	test                    bool
	x                       *recExtra // fields most balance records leave empty, or nil
}

// recExtra holds what most balance records do not have.
type recExtra struct {
	paymentRef                   string
	captured, refunded, disputed int64
	presentmentAmount            int64
	presentmentCurrency          string
	exchangeRate                 string
	raw                          string
}

// NewProviderSide returns an empty provider side with room for n records.
func NewProviderSide(n int) *ProviderSide {
	return &ProviderSide{items: make([]recItem, 0, n)}
}

// Len returns how many records were added.
func (p *ProviderSide) Len() int { return len(p.items) }

// Add adds a provider record. It keeps the record's figures, references,
// dates, status, type, description and origin (file and line), not its
// format or offset.
func (p *ProviderSide) Add(r *provider.Record) {
	it := recItem{id: r.ID, ref: r.SourceRef, payoutID: r.PayoutID, desc: r.Description,
		amount: r.Amount, fee: r.Fee, net: r.Net, created: nanos(r.Created), availableOn: nanos(r.AvailableOn),
		provider: p.providers.of(r.Provider), currency: p.currencies.of(r.Currency),
		typ: p.types.of(r.Type, r.ReportingCategory), status: p.statuses.of(r.Status), file: p.files.of(r.File),
		line: int32(r.Line), test: r.Test}
	if r.Line != int(it.line) {
		it.line = math.MaxInt32 // a line beyond 2³¹ orders last; no export has one
	}
	if r.PaymentRef != "" || r.Captured != 0 || r.Refunded != 0 || r.Disputed != 0 || r.PresentmentAmount != 0 ||
		r.PresentmentCurrency != "" || r.ExchangeRate != "" || r.Raw != "" {
		it.x = &recExtra{paymentRef: r.PaymentRef, captured: r.Captured, refunded: r.Refunded, disputed: r.Disputed,
			presentmentAmount: r.PresentmentAmount, presentmentCurrency: r.PresentmentCurrency,
			exchangeRate: r.ExchangeRate, raw: r.Raw}
	}
	p.items = append(p.items, it)
}

// Record returns record i as added, less what Add does not keep.
func (p *ProviderSide) Record(i int) provider.Record {
	it := &p.items[i]
	tc := p.types.list[it.typ]
	r := provider.Record{Provider: p.providers.at(it.provider), Grain: provider.BalanceGrain, ID: it.id,
		Type: tc.typ, ReportingCategory: tc.cat, SourceRef: it.ref, Currency: p.currencies.at(it.currency),
		Amount: it.amount, Fee: it.fee, Net: it.net, Status: p.statuses.at(it.status),
		Created: timeOf(it.created), AvailableOn: timeOf(it.availableOn), PayoutID: it.payoutID,
		Description: it.desc, Test: it.test, File: p.files.at(it.file), Line: int(it.line)}
	if x := it.x; x != nil {
		r.PaymentRef, r.Captured, r.Refunded, r.Disputed = x.paymentRef, x.captured, x.refunded, x.disputed
		r.PresentmentAmount, r.PresentmentCurrency, r.ExchangeRate, r.Raw = x.presentmentAmount, x.presentmentCurrency, x.exchangeRate, x.raw
	}
	return r
}

func (p *ProviderSide) typeCat(i int) *typeCat { return &p.types.list[p.items[i].typ] }

func (p *ProviderSide) currency(i int) string { return p.currencies.at(p.items[i].currency) }

func (p *ProviderSide) status(i int) string { return p.statuses.at(p.items[i].status) }

func (p *ProviderSide) paymentRef(i int) string {
	if x := p.items[i].x; x != nil {
		return x.paymentRef
	}
	return ""
}

func (p *ProviderSide) extra(i int) *recExtra {
	if x := p.items[i].x; x != nil {
		return x
	}
	return &noExtra
}

var noExtra recExtra

// LedgerSide is the ledger side of a balance-grain match: balance
// transactions added one by one (see MatchSides).
type LedgerSide struct {
	items []btItem
	// The numbered texts of the transactions' columns.
	providers, currencies, statuses texts
	types                           typeCats
}

// btItem is one balance transaction.
type btItem struct {
	id, ref, sourceID, payoutID   string
	amount, fee, net              int64
	presentmentAmount             int64
	created, availableOn          int64 // Unix nanoseconds, or noTime
	provider, currency            uint32
	presentmentCurrency           uint32
	typ, status                   uint32
	estimated, settlementEstimate bool
}

// NewLedgerSide returns an empty ledger side with room for n transactions.
func NewLedgerSide(n int) *LedgerSide {
	return &LedgerSide{items: make([]btItem, 0, n)}
}

// Len returns how many transactions were added.
func (l *LedgerSide) Len() int { return len(l.items) }

// ID returns the id of transaction i.
func (l *LedgerSide) ID(i int) string { return l.items[i].id }

// Add adds a balance transaction. It keeps the transaction's figures,
// presentment side, references, dates, status, type, payout and estimate
// flags, not its entry, payment, fee details, description, exchange rate
// or whether its payout was derived.
func (l *LedgerSide) Add(b *ledger.BalanceTransaction) {
	l.items = append(l.items, btItem{id: b.ID, ref: b.SourceRef, sourceID: b.SourceID, payoutID: b.PayoutID,
		amount: b.Amount, fee: b.Fee, net: b.Net, presentmentAmount: b.PresentmentAmount,
		created: nanos(b.Created), availableOn: nanos(b.AvailableOn),
		provider: l.providers.of(b.Provider), currency: l.currencies.of(b.Currency),
		presentmentCurrency: l.currencies.of(b.PresentmentCurrency),
		typ:                 l.types.of(b.Type, b.ReportingCategory), status: l.statuses.of(b.Status),
		estimated: b.AvailableOnEstimated, settlementEstimate: b.SettlementEstimated})
}

// Transaction fills b with transaction i as added, less what Add does not
// keep (left zero).
func (l *LedgerSide) Transaction(i int, b *ledger.BalanceTransaction) {
	it := &l.items[i]
	tc := l.types.list[it.typ]
	*b = ledger.BalanceTransaction{ID: it.id, Provider: l.providers.at(it.provider), Type: tc.typ, ReportingCategory: tc.cat,
		SourceID: it.sourceID, SourceRef: it.ref, Amount: it.amount, Fee: it.fee, Net: it.net,
		Currency: l.currencies.at(it.currency), Status: l.statuses.at(it.status),
		Created: timeOf(it.created), AvailableOn: timeOf(it.availableOn), PayoutID: it.payoutID,
		AvailableOnEstimated: it.estimated, PresentmentAmount: it.presentmentAmount,
		PresentmentCurrency: l.currencies.at(it.presentmentCurrency), SettlementEstimated: it.settlementEstimate}
}

// PatchSettlements gives the transactions the settlement dates, estimate
// flags, statuses and payouts that changed (ledger.Ledger.AdoptDates
// returns them), so that a run need not read the whole ledger again after
// adopting. Changes of transactions not in the side are ignored.
func (l *LedgerSide) PatchSettlements(changed []ledger.SettlementChange) {
	if len(changed) == 0 {
		return
	}
	byID := make(map[string]*ledger.SettlementChange, len(changed))
	for i := range changed {
		byID[changed[i].ID] = &changed[i]
	}
	for j := range l.items {
		it := &l.items[j]
		if c, ok := byID[it.id]; ok {
			it.availableOn, it.estimated = nanos(c.AvailableOn), c.Estimated
			it.status, it.payoutID = l.statuses.of(c.Status), c.PayoutID
		}
	}
}

func (l *LedgerSide) typeCat(j int) *typeCat { return &l.types.list[l.items[j].typ] }

func (l *LedgerSide) currency(j int) string { return l.currencies.at(l.items[j].currency) }

func (l *LedgerSide) presentmentCurrency(j int) string {
	return l.currencies.at(l.items[j].presentmentCurrency)
}

func (l *LedgerSide) status(j int) string { return l.statuses.at(l.items[j].status) }

func (l *LedgerSide) provider(j int) string { return l.providers.at(l.items[j].provider) }
