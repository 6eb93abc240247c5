package reconcile

// Bank reconciliation: the third leg. A payout is not done when the
// provider says it was sent but when the bank says it arrived. MatchPayouts
// pairs the ledger's payouts with the deposits of bank statements, pure and
// in memory like MatchBalances.

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/provider"
)

// BankGrain is the grain of bank reconciliation runs, and BankProvider the
// provider their runs and exceptions are stored under.
const (
	BankGrain    provider.Grain = "bank"
	BankProvider                = "bank"
)

// Outcome kinds of bank reconciliation.
const (
	// PayoutMatched: the payout arrived in the bank, in full.
	PayoutMatched OutcomeKind = "payout_matched"
	// AmountDiffers: the payout (or payouts) and the deposit (or deposits)
	// were paired, but the bank shows another amount: a bank fee, most often.
	AmountDiffers OutcomeKind = "amount_differs"
	// PayoutNotInBank: the payout is past its expected arrival plus the
	// tolerance, within the days the statements cover, and no deposit is it.
	PayoutNotInBank OutcomeKind = "payout_not_in_bank"
	// DepositUnexplained: a booked credit on a statement that no payout and
	// no ledger entry on the bank's ledger account explains.
	DepositUnexplained OutcomeKind = "deposit_unexplained"
)

// Subjects of bank outcomes.
const (
	SubjectPayout  = "payout"
	SubjectDeposit = "deposit"
)

// BankPayout is a payout as bank reconciliation sees it. A failed payout
// is not expected in the bank and should not be given.
type BankPayout struct {
	ID       string // settle's payout id
	Provider string
	Ref      string // the provider's reference (po_…)
	Currency string
	Amount   int64 // what the provider sent, positive
	// Fees are the bank fees already booked against the payout: the bank is
	// expected to show Amount − Fees.
	Fees    int64
	Arrival time.Time // the provider's expected arrival date
	Paid    bool      // the ledger has it paid already
}

// Expected is the amount the bank should show.
func (p *BankPayout) Expected() int64 { return p.Amount - p.Fees }

// BankDeposit is a booked credit line of a bank statement.
type BankDeposit struct {
	ID            string // bank.LineID
	Account       string // the bank's account
	LedgerAccount string // the ledger account that mirrors it
	Currency      string
	Amount        int64 // positive
	Date          time.Time
	// Texts are where a payout's reference may be found: the bank's and
	// the customer's references, the remittance information.
	Texts []string
}

// BankEntry is a movement of a bank's ledger account that comes neither
// from a payout nor from a bank fee booked against one: a deposit the
// ledger was told about another way.
type BankEntry struct {
	ID            string // "entry_" and the entry's id
	LedgerAccount string
	Currency      string
	Amount        int64 // the posting: positive for money in
	At            time.Time
}

// Coverage is the span of days the statements of one currency cover.
type Coverage struct{ From, Through time.Time }

// Default bank matching tolerances.
const (
	DefaultEarlyDays     = 1   // business days before the expected arrival
	DefaultLateDays      = 3   // business days after it
	DefaultMaxGroup      = 3   // payouts in one deposit, or deposits of one payout
	DefaultMaxCandidates = 12  // candidates a subset search looks at
	DefaultFeeTolerance  = 100 // basis points of a payout a bank fee may take
)

// BankOptions tune MatchPayouts. A nil *BankOptions means the defaults.
type BankOptions struct {
	// Links are earlier runs' pairs: payout id → comma-separated deposit
	// ids. They are tried first.
	Links map[string]string
	// Coverage gives, per currency, the days the statements cover: a
	// payout is reported not in the bank only when its expected arrival
	// lies at or after From and its last possible day at or before Through.
	// A currency without coverage has no bank account: its payouts are not
	// expected anywhere.
	Coverage map[string]Coverage
	// Calendar says which days banks settle on (weekends and holidays
	// shift an arrival to the next business day).
	Calendar Calendar
	// EarlyDays and LateDays bound, in business days around the expected
	// arrival, when a deposit can be a payout's by its amount alone;
	// LateDays is also the tolerance after which a payout is missing.
	EarlyDays, LateDays int
	// MaxGroup bounds the payouts summed into one deposit and the deposits
	// summed into one payout; MaxCandidates bounds the candidates such a
	// search looks at (beyond it the search is not made).
	MaxGroup, MaxCandidates int
	// FeeTolerance is how much short, in basis points of the payout, a
	// unique deposit may be and still be taken for the payout less a fee.
	FeeTolerance int64
	// ListMatched also lists PayoutMatched outcomes.
	ListMatched bool
	// From and To bound the deposits reported: one dated outside [From,
	// To) may pair with a payout but is neither counted nor reported
	// unexplained. Zero ends are open.
	From, To time.Time
}

// inRun reports whether a deposit lies in the run's window.
func (o *BankOptions) inRun(d *BankDeposit) bool {
	return (o.From.IsZero() || !d.Date.Before(o.From)) && (o.To.IsZero() || d.Date.Before(o.To))
}

func (o *BankOptions) withDefaults() BankOptions {
	var v BankOptions
	if o != nil {
		v = *o
	}
	if v.EarlyDays <= 0 {
		v.EarlyDays = DefaultEarlyDays
	}
	if v.LateDays <= 0 {
		v.LateDays = DefaultLateDays
	}
	if v.MaxGroup <= 1 {
		v.MaxGroup = DefaultMaxGroup
	}
	if v.MaxCandidates <= 0 {
		v.MaxCandidates = DefaultMaxCandidates
	}
	if v.FeeTolerance <= 0 {
		v.FeeTolerance = DefaultFeeTolerance
	}
	return v
}

// BankMatch is one pairing of payouts with deposits: one with one, one
// payout split over several deposits, or several payouts in one deposit.
type BankMatch struct {
	Payouts   []string // payout ids
	Deposits  []string // deposit ids
	Currency  string
	Expected  int64 // what the payouts should bring, fees booked deducted
	Banked    int64 // what the deposits brought
	Date      time.Time
	Heuristic bool   // found by amount and date, not by reference
	Via       string // links, reference, amount, sum, fee
	// LedgerAccount is the first deposit's: where the payouts were paid.
	LedgerAccount string
}

// BankSummary counts what MatchPayouts found.
type BankSummary struct {
	Payouts             int `json:"payouts"`              // payouts considered
	Deposits            int `json:"deposits"`             // deposits considered
	PayoutsMatched      int `json:"payouts_matched"`      // payouts that arrived in full
	PayoutsNotInBank    int `json:"payouts_not_in_bank"`  // payouts past due and not found
	DepositsUnexplained int `json:"deposits_unexplained"` // deposits nothing explains
	AmountDiffers       int `json:"amount_differs"`       // pairings whose amounts differ
	PayoutsPending      int `json:"payouts_pending"`      // not found, and not yet due (or before the statements)
	ExplainedByLedger   int `json:"explained_by_ledger"`  // deposits matching another ledger entry on the bank account
	Heuristic           int `json:"heuristic"`            // pairings found by amount and date
}

// Summary maps the bank counts onto a run's: the bank is the "provider"
// side, the ledger's payouts the ledger side.
func (s BankSummary) Summary() Summary {
	return Summary{ProviderRecords: s.Deposits, LedgerRecords: s.Payouts, Matched: s.PayoutsMatched,
		Mismatched: s.AmountDiffers, MissingInLedger: s.DepositsUnexplained, MissingAtProvider: s.PayoutsNotInBank,
		Heuristic: s.Heuristic, Skipped: s.PayoutsPending}
}

// BankSummaryOf reads a stored run's summary back into bank counts.
func BankSummaryOf(s Summary) BankSummary {
	return BankSummary{Deposits: s.ProviderRecords, Payouts: s.LedgerRecords, PayoutsMatched: s.Matched,
		AmountDiffers: s.Mismatched, DepositsUnexplained: s.MissingInLedger, PayoutsNotInBank: s.MissingAtProvider,
		Heuristic: s.Heuristic, PayoutsPending: s.Skipped}
}

// BankResult is what MatchPayouts found.
type BankResult struct {
	Summary BankSummary
	// Outcomes lists the exceptions (and, with ListMatched, the matched
	// payouts), ordered by kind, time and fingerprint.
	Outcomes []Outcome
	// Matches lists every pairing, ordered by date and first payout.
	Matches []BankMatch
	// Links are the pairings to remember: payout id → deposit ids.
	Links []Link
	// Pending lists the payouts not found and not yet due.
	Pending []string
}

// MatchPayouts pairs payouts with bank deposits, in passes:
//
//  1. links from earlier runs, and references: a payout's id or provider
//     reference found in a deposit's texts (as a word, or with its
//     punctuation dropped). Payouts and deposits joined by references form
//     groups, so one payout may be split over deposits and one deposit may
//     hold several payouts;
//  2. amount: a deposit of exactly the expected amount within the payout's
//     window (EarlyDays before to LateDays after its expected arrival, in
//     business days), the only candidate on both sides;
//  3. sums: a deposit that is the sum of a unique set of up to MaxGroup
//     payouts whose windows hold it, or a payout that is the sum of a
//     unique set of deposits in its window;
//  4. fee: a deposit short of the payout by at most FeeTolerance, the only
//     candidate on both sides (reported as AmountDiffers);
//  5. deposits left are compared with the bank's other ledger entries
//     (others) by account, currency, amount and window.
//
// Passes 2–5 are heuristic and flagged so. A group whose sums differ is
// AmountDiffers; a payout left and due is PayoutNotInBank; a deposit left
// is DepositUnexplained. The result does not depend on the order of the
// inputs.
func MatchPayouts(payouts []BankPayout, deposits []BankDeposit, others []BankEntry, opts *BankOptions) *BankResult {
	o := opts.withDefaults()
	m := &bankMatcher{o: o, res: &BankResult{}}
	for i := range payouts {
		p := &payouts[i]
		if _, ok := o.Coverage[p.Currency]; ok {
			m.payouts = append(m.payouts, p)
		}
	}
	for i := range deposits {
		m.deposits = append(m.deposits, &deposits[i])
	}
	slices.SortFunc(m.payouts, func(a, b *BankPayout) int {
		return cmp.Or(a.Arrival.Compare(b.Arrival), strings.Compare(a.ID, b.ID))
	})
	slices.SortFunc(m.deposits, func(a, b *BankDeposit) int {
		return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.ID, b.ID))
	})
	m.res.Summary.Payouts = len(m.payouts)
	for _, d := range m.deposits {
		if o.inRun(d) {
			m.res.Summary.Deposits++
		}
	}
	m.matchedP = make(map[string]bool, len(m.payouts))
	m.matchedD = make(map[string]bool, len(m.deposits))
	m.references()
	m.byAmount()
	m.bySums()
	m.byFee()
	m.leftovers(others)
	m.finish()
	return m.res
}

type bankMatcher struct {
	o        BankOptions
	payouts  []*BankPayout
	deposits []*BankDeposit
	matchedP map[string]bool
	matchedD map[string]bool
	res      *BankResult
}

// window returns the days a payout's deposit may be on, and its expected day.
func (m *bankMatcher) window(p *BankPayout) (from, expected, to time.Time) {
	expected = m.o.Calendar.Next(p.Arrival)
	return m.o.Calendar.Add(expected, -m.o.EarlyDays), expected, m.o.Calendar.Add(expected, m.o.LateDays)
}

func (m *bankMatcher) inWindow(p *BankPayout, d *BankDeposit) bool {
	from, _, to := m.window(p)
	day := Day(d.Date)
	return p.Currency == d.Currency && !day.Before(from) && !day.After(to)
}

// pair records a pairing of payouts and deposits.
func (m *bankMatcher) pair(ps []*BankPayout, ds []*BankDeposit, heuristic bool, via string) {
	bm := BankMatch{Currency: ps[0].Currency, Heuristic: heuristic, Via: via, LedgerAccount: ds[0].LedgerAccount}
	for _, p := range ps {
		m.matchedP[p.ID] = true
		bm.Payouts = append(bm.Payouts, p.ID)
		bm.Expected += p.Expected()
	}
	for _, d := range ds {
		m.matchedD[d.ID] = true
		bm.Deposits = append(bm.Deposits, d.ID)
		bm.Banked += d.Amount
		if d.Date.After(bm.Date) {
			bm.Date = d.Date
		}
	}
	slices.Sort(bm.Payouts)
	slices.Sort(bm.Deposits)
	m.res.Matches = append(m.res.Matches, bm)
}

// references groups payouts and deposits joined by links or by a payout's
// reference in a deposit's texts (union-find over both).
func (m *bankMatcher) references() {
	byRef := map[string]*BankPayout{}
	for _, p := range m.payouts {
		for _, r := range []string{p.ID, p.Ref} {
			for _, k := range refKeys(r) {
				if q, ok := byRef[k]; !ok || q.ID > p.ID {
					byRef[k] = p
				}
			}
		}
	}
	byID := make(map[string]*BankDeposit, len(m.deposits))
	for _, d := range m.deposits {
		byID[d.ID] = d
	}
	// Nodes: payouts 0..P-1, deposits P..P+D-1.
	np := len(m.payouts)
	parent := make([]int, np+len(m.deposits))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		if ra, rb := find(a), find(b); ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	pIndex := make(map[string]int, np)
	for i, p := range m.payouts {
		pIndex[p.ID] = i
	}
	dIndex := make(map[string]int, len(m.deposits))
	for i, d := range m.deposits {
		dIndex[d.ID] = np + i
	}
	linked := make([]bool, len(parent))
	for i, p := range m.payouts {
		for _, id := range strings.Split(m.o.Links[p.ID], ",") {
			if j, ok := dIndex[id]; ok && byID[id].Currency == p.Currency {
				union(i, j)
				linked[i], linked[j] = true, true
			}
		}
	}
	for i, d := range m.deposits {
		for _, text := range d.Texts {
			for _, w := range words(text) {
				for _, k := range refKeys(w) {
					if p, ok := byRef[k]; ok && p.Currency == d.Currency {
						union(pIndex[p.ID], np+i)
					}
				}
			}
		}
	}
	groups := map[int]*struct {
		ps     []*BankPayout
		ds     []*BankDeposit
		linked bool
	}{}
	var roots []int
	for i := range parent {
		r := find(i)
		g, ok := groups[r]
		if !ok {
			g = &struct {
				ps     []*BankPayout
				ds     []*BankDeposit
				linked bool
			}{}
			groups[r] = g
			roots = append(roots, r)
		}
		if i < np {
			g.ps = append(g.ps, m.payouts[i])
		} else {
			g.ds = append(g.ds, m.deposits[i-np])
		}
		g.linked = g.linked || linked[i]
	}
	slices.Sort(roots)
	for _, r := range roots {
		g := groups[r]
		if len(g.ps) == 0 || len(g.ds) == 0 {
			continue
		}
		via := "reference"
		if g.linked {
			via = "links"
		}
		m.pair(g.ps, g.ds, false, via)
	}
}

// words splits free text at anything but letters, digits, '_' and '-'.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	})
}

// refKeys returns the keys a reference is found by: itself in lower case
// and, when long enough not to be found by chance, its letters and digits
// alone (banks drop punctuation: po_1Nx → PO1NX).
func refKeys(r string) []string {
	r = strings.ToLower(strings.TrimSpace(r))
	if len(r) < 3 {
		return nil
	}
	keys := []string{r}
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		if c := r[i]; c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	if a := b.String(); len(a) >= 8 {
		keys = append(keys, "~"+a)
	}
	return keys
}

// byAmount pairs a payout with the one deposit of its expected amount in
// its window, when that deposit has no other such payout.
func (m *bankMatcher) byAmount() {
	type key struct {
		cur    string
		amount int64
	}
	deps := map[key][]*BankDeposit{}
	for _, d := range m.deposits {
		if !m.matchedD[d.ID] {
			k := key{d.Currency, d.Amount}
			deps[k] = append(deps[k], d)
		}
	}
	cands := map[string][]*BankDeposit{}
	claims := map[string]int{}
	for _, p := range m.payouts {
		if m.matchedP[p.ID] {
			continue
		}
		for _, d := range deps[key{p.Currency, p.Expected()}] {
			if m.inWindow(p, d) {
				cands[p.ID] = append(cands[p.ID], d)
				claims[d.ID]++
			}
		}
	}
	for _, p := range m.payouts {
		if c := cands[p.ID]; len(c) == 1 && claims[c[0].ID] == 1 {
			m.pair([]*BankPayout{p}, c, true, "amount")
		}
	}
}

// bySums pairs a deposit with a unique set of payouts summing to it, and a
// payout with a unique set of deposits summing to it, bounded by MaxGroup
// and MaxCandidates. Proposals that share a payout or a deposit are dropped.
func (m *bankMatcher) bySums() {
	type proposal struct {
		ps []*BankPayout
		ds []*BankDeposit
	}
	var props []proposal
	for _, d := range m.deposits {
		if m.matchedD[d.ID] {
			continue
		}
		var cands []*BankPayout
		for _, p := range m.payouts {
			if !m.matchedP[p.ID] && p.Expected() > 0 && p.Expected() < d.Amount && m.inWindow(p, d) {
				cands = append(cands, p)
			}
		}
		if set, ok := uniqueSubset(cands, d.Amount, m.o, func(p *BankPayout) int64 { return p.Expected() }); ok {
			props = append(props, proposal{set, []*BankDeposit{d}})
		}
	}
	for _, p := range m.payouts {
		if m.matchedP[p.ID] {
			continue
		}
		var cands []*BankDeposit
		for _, d := range m.deposits {
			if !m.matchedD[d.ID] && d.Amount < p.Expected() && m.inWindow(p, d) {
				cands = append(cands, d)
			}
		}
		if set, ok := uniqueSubset(cands, p.Expected(), m.o, func(d *BankDeposit) int64 { return d.Amount }); ok {
			props = append(props, proposal{[]*BankPayout{p}, set})
		}
	}
	uses := map[string]int{}
	for _, pr := range props {
		for _, p := range pr.ps {
			uses["p"+p.ID]++
		}
		for _, d := range pr.ds {
			uses["d"+d.ID]++
		}
	}
	for _, pr := range props {
		shared := false
		for _, p := range pr.ps {
			shared = shared || uses["p"+p.ID] > 1
		}
		for _, d := range pr.ds {
			shared = shared || uses["d"+d.ID] > 1
		}
		if !shared {
			m.pair(pr.ps, pr.ds, true, "sum")
		}
	}
}

// uniqueSubset finds the one subset of 2 to MaxGroup candidates whose
// amounts sum to target; ok is false when there is none, more than one,
// or too many candidates to search.
func uniqueSubset[T any](cands []T, target int64, o BankOptions, amount func(T) int64) ([]T, bool) {
	if len(cands) < 2 || len(cands) > o.MaxCandidates {
		return nil, false
	}
	var found []int
	count := 0
	var idx []int
	var walk func(start int, sum int64)
	walk = func(start int, sum int64) {
		if count > 1 {
			return
		}
		if len(idx) >= 2 && sum == target {
			count++
			found = slices.Clone(idx)
		}
		if len(idx) == o.MaxGroup {
			return
		}
		for i := start; i < len(cands); i++ {
			a := amount(cands[i])
			if a <= 0 || sum+a > target {
				continue
			}
			idx = append(idx, i)
			walk(i+1, sum+a)
			idx = idx[:len(idx)-1]
		}
	}
	walk(0, 0)
	if count != 1 {
		return nil, false
	}
	out := make([]T, len(found))
	for i, j := range found {
		out[i] = cands[j]
	}
	return out, true
}

// byFee pairs a payout with the one deposit in its window that is short of
// it by no more than FeeTolerance, when that deposit has no other such
// payout. The pair is an AmountDiffers.
func (m *bankMatcher) byFee() {
	cands := map[string][]*BankDeposit{}
	claims := map[string]int{}
	for _, p := range m.payouts {
		if m.matchedP[p.ID] {
			continue
		}
		want := p.Expected()
		tol := max(want*m.o.FeeTolerance/10000, 1)
		for _, d := range m.deposits {
			if !m.matchedD[d.ID] && d.Amount < want && d.Amount >= want-tol && m.inWindow(p, d) {
				cands[p.ID] = append(cands[p.ID], d)
				claims[d.ID]++
			}
		}
	}
	for _, p := range m.payouts {
		if c := cands[p.ID]; len(c) == 1 && claims[c[0].ID] == 1 {
			m.pair([]*BankPayout{p}, c, true, "fee")
		}
	}
}

// leftovers explains deposits by other ledger entries, then reports what
// is left: payouts past due and deposits unexplained.
func (m *bankMatcher) leftovers(others []BankEntry) {
	type key struct {
		account, cur string
		amount       int64
	}
	entries := map[key][]*BankEntry{}
	for i := range others {
		e := &others[i]
		if e.Amount > 0 {
			k := key{e.LedgerAccount, e.Currency, e.Amount}
			entries[k] = append(entries[k], e)
		}
	}
	near := func(d *BankDeposit, e *BankEntry) bool {
		from := m.o.Calendar.Add(d.Date, -m.o.LateDays)
		to := m.o.Calendar.Add(d.Date, m.o.LateDays)
		day := Day(e.At)
		return !day.Before(from) && !day.After(to)
	}
	cands := map[string][]*BankEntry{}
	claims := map[string]int{}
	for _, d := range m.deposits {
		if m.matchedD[d.ID] {
			continue
		}
		for _, e := range entries[key{d.LedgerAccount, d.Currency, d.Amount}] {
			if near(d, e) {
				cands[d.ID] = append(cands[d.ID], e)
				claims[e.ID]++
			}
		}
	}
	for _, d := range m.deposits {
		if m.matchedD[d.ID] || !m.o.inRun(d) {
			continue
		}
		if c := cands[d.ID]; len(c) == 1 && claims[c[0].ID] == 1 {
			m.res.Summary.ExplainedByLedger++
			continue
		}
		m.res.Outcomes = append(m.res.Outcomes, Outcome{Kind: DepositUnexplained, Provider: BankProvider, Subject: SubjectDeposit,
			ProviderID: d.ID, Ref: firstText(d.Texts), Currency: d.Currency, Amount: d.Amount, At: d.Date})
		m.res.Summary.DepositsUnexplained++
	}
	for _, p := range m.payouts {
		if m.matchedP[p.ID] {
			continue
		}
		_, expected, last := m.window(p)
		cov := m.o.Coverage[p.Currency]
		if expected.Before(Day(cov.From)) || last.After(Day(cov.Through)) {
			m.res.Summary.PayoutsPending++
			m.res.Pending = append(m.res.Pending, p.ID)
			continue
		}
		m.res.Outcomes = append(m.res.Outcomes, Outcome{Kind: PayoutNotInBank, Provider: BankProvider, Subject: SubjectPayout,
			LedgerID: p.ID, Ref: p.Ref, Currency: p.Currency, Amount: p.Expected(), At: expected})
		m.res.Summary.PayoutsNotInBank++
	}
}

func firstText(ts []string) string {
	for _, t := range ts {
		if t = strings.TrimSpace(t); t != "" {
			return t
		}
	}
	return ""
}

// finish turns pairings into outcomes and links, counts them, and sorts.
func (m *bankMatcher) finish() {
	r := m.res
	refs := make(map[string]string, len(m.payouts))
	for _, p := range m.payouts {
		refs[p.ID] = p.Ref
	}
	slices.SortFunc(r.Matches, func(a, b BankMatch) int {
		return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.Payouts[0], b.Payouts[0]))
	})
	for _, bm := range r.Matches {
		if bm.Heuristic {
			r.Summary.Heuristic++
		}
		deposits := strings.Join(bm.Deposits, ",")
		for _, id := range bm.Payouts {
			r.Links = append(r.Links, Link{ProviderID: id, LedgerID: deposits, Heuristic: bm.Heuristic})
		}
		var prefs []string
		for _, id := range bm.Payouts {
			if refs[id] != "" {
				prefs = append(prefs, refs[id])
			}
		}
		o := Outcome{Provider: BankProvider, Subject: SubjectPayout, ProviderID: deposits, LedgerID: strings.Join(bm.Payouts, ","),
			Ref: strings.Join(prefs, ","), Currency: bm.Currency, Amount: bm.Banked, At: bm.Date, Heuristic: bm.Heuristic}
		if bm.Expected == bm.Banked {
			r.Summary.PayoutsMatched += len(bm.Payouts)
			if !m.o.ListMatched {
				continue
			}
			o.Kind = PayoutMatched
		} else {
			r.Summary.AmountDiffers++
			o.Kind = AmountDiffers
			o.Diffs = []Diff{{Field: FieldAmount, Ledger: strconv.FormatInt(bm.Expected, 10), Provider: strconv.FormatInt(bm.Banked, 10)}}
		}
		r.Outcomes = append(r.Outcomes, o)
	}
	rank := map[OutcomeKind]int{PayoutMatched: 0, AmountDiffers: 1, PayoutNotInBank: 2, DepositUnexplained: 3}
	for i := range r.Outcomes {
		r.Outcomes[i].Fingerprint = r.Outcomes[i].fingerprint()
	}
	slices.SortFunc(r.Outcomes, func(a, b Outcome) int {
		return cmp.Or(rank[a.Kind]-rank[b.Kind], a.At.Compare(b.At), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	slices.SortFunc(r.Links, func(a, b Link) int { return strings.Compare(a.ProviderID, b.ProviderID) })
}
