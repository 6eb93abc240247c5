package reconcile

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OutcomeKind classifies what reconciliation found for one subject.
type OutcomeKind string

// Outcome kinds, in the order Result lists them.
const (
	// Matched: both sides agree.
	Matched OutcomeKind = "matched"
	// Mismatched: a pair was found but fields differ (see Outcome.Diffs).
	Mismatched OutcomeKind = "mismatched"
	// MissingInLedger: the provider reports something the ledger lacks.
	MissingInLedger OutcomeKind = "missing_in_ledger"
	// MissingAtProvider: the ledger has something the provider does not report.
	MissingAtProvider OutcomeKind = "missing_at_provider"
	// Duplicate: a provider record id seen twice, or more provider records
	// claiming a ledger item than the ledger has.
	Duplicate OutcomeKind = "duplicate"
	// PayoutMismatch: a payout's amount differs from the sum of the nets of
	// the balance transactions it swept (see Outcome.Payout).
	PayoutMismatch OutcomeKind = "payout_mismatch"
)

var kindRank = map[OutcomeKind]int{Matched: 0, Mismatched: 1, MissingInLedger: 2, MissingAtProvider: 3, Duplicate: 4, PayoutMismatch: 5}

// Fields that a Diff may name.
const (
	FieldAmount      = "amount"
	FieldFee         = "fee"
	FieldNet         = "net"
	FieldCurrency    = "currency"
	FieldStatus      = "status"
	FieldDate        = "date"         // created time, beyond Options.DateTolerance
	FieldAvailableOn = "available_on" // beyond Options.DateTolerance
	FieldCaptured    = "captured"     // payment grain
	FieldRefunded    = "refunded"     // payment grain
	FieldDisputed    = "disputed"     // payment grain
)

// Diff is one field on which the two sides of a pair disagree. Amounts are
// minor units written in base 10, times RFC 3339 in UTC, other values as
// given.
type Diff struct {
	Field    string
	Ledger   string
	Provider string
}

// PayoutFigures are the two figures of a payout check, on one side.
type PayoutFigures struct {
	Side     string // "provider" or "ledger": whose records disagree
	Amount   int64  // what the payout paid out (positive for money leaving the balance)
	SweptNet int64  // the sum of the nets of the balance transactions it swept
	Swept    int    // how many balance transactions it swept
	// Missing lists the provider records the provider put in this payout
	// that the ledger's composition lacks (not in the books, or in another
	// payout); Extra lists the ledger's balance transactions in its
	// composition that the provider put elsewhere or does not report. Each
	// is cut at MaxListed ids; MissingCount and ExtraCount are the totals.
	Missing      []string `json:",omitempty"`
	MissingCount int      `json:",omitempty"`
	Extra        []string `json:",omitempty"`
	ExtraCount   int      `json:",omitempty"`
}

// MaxListed is how many ids a payout check lists of each kind.
const MaxListed = 20

// Outcome is what reconciliation found for one subject: a pair, an unpaired
// item on either side, a duplicate or a payout that does not add up.
type Outcome struct {
	Kind       OutcomeKind
	Provider   string
	Subject    string // canonical kind (charge, refund, …, payout) or "payment"
	ProviderID string // the provider record id (the primary one of a fold)
	FoldedIDs  []string
	LedgerID   string // balance transaction id or payment id
	Ref        string // the provider's source reference
	Currency   string
	Amount     int64     // the provider's amount if there is one, else the ledger's
	At         time.Time // the provider's created time if there is one, else the ledger's
	Heuristic  bool      // paired by the currency-amount-date fallback
	Diffs      []Diff
	Payout     *PayoutFigures // PayoutMismatch only
	// Fingerprint identifies the issue across runs: the same subject with
	// the same differing fields gives the same fingerprint, whatever the
	// values, so a stored exception is refreshed rather than duplicated.
	Fingerprint string
}

// fingerprint computes Outcome.Fingerprint from the identifying fields.
func (o *Outcome) fingerprint() string {
	var b strings.Builder
	b.WriteString(string(o.Kind))
	for _, s := range []string{o.Provider, o.Subject, o.ProviderID, o.LedgerID} {
		b.WriteByte('|')
		b.WriteString(s)
	}
	b.WriteByte('|')
	for i, d := range o.Diffs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.Field)
	}
	if o.Payout != nil {
		b.WriteString(o.Payout.Side)
	}
	return b.String()
}

// Summary counts outcomes. Matched and Mismatched count pairs; Heuristic
// counts the pairs among them found by the fallback.
type Summary struct {
	ProviderRecords   int `json:"provider_records"`
	LedgerRecords     int `json:"ledger_records"`
	Matched           int `json:"matched"`
	Mismatched        int `json:"mismatched"`
	MissingInLedger   int `json:"missing_in_ledger"`
	MissingAtProvider int `json:"missing_at_provider"`
	Duplicates        int `json:"duplicates"`
	Heuristic         int `json:"heuristic"`
	PayoutMismatches  int `json:"payout_mismatches"`
	Folded            int `json:"folded"`  // provider records folded into another (JustiFi fees)
	Skipped           int `json:"skipped"` // provider records out of the grain's scope (see MatchPayments)
}

// Link pairs a provider record with the ledger item it matched, for the
// next run's first pass.
type Link struct {
	ProviderID string
	LedgerID   string
	Heuristic  bool
}

// LinkMap is links as Options.Links takes them: provider id → ledger id.
func LinkMap(links []Link) map[string]string {
	out := make(map[string]string, len(links))
	for _, l := range links {
		out[l.ProviderID] = l.LedgerID
	}
	return out
}

// Result is the outcome of one matching run.
type Result struct {
	Summary Summary
	// Outcomes lists every non-matched outcome, and the matched pairs too
	// when Options.ListMatched is set, ordered by kind, time and fingerprint.
	Outcomes []Outcome
	// Links are the pairs found by this run's reference and heuristic
	// passes, ordered by provider id; pairs found through the given links
	// are not repeated.
	Links []Link
	// Adoptions are the provider's available_on dates and settlement sides
	// for paired balance transactions whose ledger values were estimates,
	// ordered by ledger id. They are facts to book (ledger.AdoptAvailableOn,
	// ledger.AdoptSettlement), not differences.
	Adoptions []Adoption
}

// Adoption is a provider's settlement fact for a ledger balance transaction
// whose own value was an estimate: its available_on date (zero if not to
// adopt), and the settlement side of a converted movement (nil if none;
// see fx.go).
type Adoption struct {
	LedgerID    string
	ProviderID  string
	AvailableOn time.Time
	Settlement  *Settlement
}

// Exceptions returns the outcomes that are not matches. Unless the run
// listed its matches (Options.ListMatched) that is every outcome, and
// the slice returned is r.Outcomes itself, capped so that an append to it
// cannot write into r.Outcomes.
func (r *Result) Exceptions() []Outcome {
	n := 0
	for i := range r.Outcomes {
		if r.Outcomes[i].Kind != Matched {
			n++
		}
	}
	if n == len(r.Outcomes) {
		return r.Outcomes[:n:n]
	}
	out := make([]Outcome, 0, n)
	for _, o := range r.Outcomes {
		if o.Kind != Matched {
			out = append(out, o)
		}
	}
	return out
}

// outcomeList gathers a run's outcomes in blocks and then hands them over
// in one slice made at their size: a run that finds a million differences
// appended them to one slice, which Go grows by a quarter at a time once
// large, copying 200-byte outcomes over and over.
type outcomeList struct {
	blocks [][]Outcome
	n      int
}

// outcomeBlock is how many outcomes a block of outcomeList holds.
const outcomeBlock = 4096

// add appends o and returns its index in the slice that all will give.
func (l *outcomeList) add(o Outcome) int {
	if len(l.blocks) == 0 || len(l.blocks[len(l.blocks)-1]) == outcomeBlock {
		l.blocks = append(l.blocks, make([]Outcome, 0, outcomeBlock))
	}
	b := &l.blocks[len(l.blocks)-1]
	*b = append(*b, o)
	l.n++
	return l.n - 1
}

// all returns the outcomes added, in order, followed by more, and empties l.
func (l *outcomeList) all(more ...Outcome) []Outcome {
	if l.n+len(more) == 0 {
		return nil
	}
	out := make([]Outcome, 0, l.n+len(more))
	for i, b := range l.blocks {
		out = append(out, b...)
		l.blocks[i] = nil // the collector may take it back meanwhile
	}
	*l = outcomeList{}
	return append(out, more...)
}

// finish fills fingerprints and counts, and sorts outcomes and links.
func (r *Result) finish() {
	for i := range r.Outcomes {
		o := &r.Outcomes[i]
		o.Fingerprint = o.fingerprint()
		switch o.Kind {
		case Mismatched:
			r.Summary.Mismatched++
		case MissingInLedger:
			r.Summary.MissingInLedger++
		case MissingAtProvider:
			r.Summary.MissingAtProvider++
		case Duplicate:
			r.Summary.Duplicates++
		case PayoutMismatch:
			r.Summary.PayoutMismatches++
		}
	}
	sortOutcomes(r.Outcomes)
	sortAdoptions(r.Adoptions)
	if !slices.IsSortedFunc(r.Links, compareLinks) {
		sortLinks(r.Links)
	}
}

// sortOutcomes puts outcomes in the order a run lists them: by kind, then
// time, fingerprint, amount and reference, then as they came. It sorts
// their positions and then moves each outcome once: an Outcome is some
// 200 bytes, and a run that finds a million exceptions spent more time
// swapping them than comparing.
func sortOutcomes(os []Outcome) {
	order := make([]int32, len(os))
	rank := make([]int8, len(os))
	for i := range os {
		order[i], rank[i] = int32(i), int8(kindRank[os[i].Kind])
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &os[i], &os[j]
		if c := int(rank[i]) - int(rank[j]); c != 0 {
			return c
		}
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if c := strings.Compare(a.Fingerprint, b.Fingerprint); c != 0 {
			return c
		}
		// Only repeated duplicates share a fingerprint; their figures tell them apart.
		if c := cmp.Compare(a.Amount, b.Amount); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.Ref, b.Ref), cmp.Compare(i, j))
	})
	arrange(os, order)
}

// arrange reorders s in place so that s[k] becomes what s[order[k]] was,
// moving each element once, along the cycles of the permutation order
// (which it uses up).
func arrange[T any](s []T, order []int32) {
	for start := range s {
		if order[start] < 0 || int(order[start]) == start {
			continue
		}
		held := s[start]
		k := start
		for {
			from := int(order[k])
			order[k] = -1
			if from == start {
				s[k] = held
				break
			}
			s[k] = s[from]
			k = from
		}
	}
}

// sortAdoptions puts adoptions in the order of their balance transactions.
func sortAdoptions(as []Adoption) {
	slices.SortFunc(as, func(a, b Adoption) int { return strings.Compare(a.LedgerID, b.LedgerID) })
}

func diffInt(field string, ledger, provider int64) Diff {
	return Diff{Field: field, Ledger: strconv.FormatInt(ledger, 10), Provider: strconv.FormatInt(provider, 10)}
}

func diffTime(field string, ledger, provider time.Time) Diff {
	return Diff{Field: field, Ledger: fmtTime(ledger), Provider: fmtTime(provider)}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// farApart reports whether two times, both known, differ by more than tol.
func farApart(a, b time.Time, tol time.Duration) bool {
	if a.IsZero() || b.IsZero() {
		return false
	}
	d := a.Sub(b)
	return d > tol || d < -tol
}

// Add adds another summary's counts to s (to total several runs).
func (s *Summary) Add(o Summary) {
	s.ProviderRecords += o.ProviderRecords
	s.LedgerRecords += o.LedgerRecords
	s.Matched += o.Matched
	s.Mismatched += o.Mismatched
	s.MissingInLedger += o.MissingInLedger
	s.MissingAtProvider += o.MissingAtProvider
	s.Duplicates += o.Duplicates
	s.Heuristic += o.Heuristic
	s.PayoutMismatches += o.PayoutMismatches
	s.Folded += o.Folded
	s.Skipped += o.Skipped
}
