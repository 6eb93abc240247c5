package ledger

import (
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Phase says whether an entry affects posted or pending balances.
type Phase string

// Entry phases.
const (
	Posted  Phase = "posted"
	Pending Phase = "pending"
)

// Resolution is how a pending entry ended.
type Resolution string

// Pending entry resolutions. A pending entry is resolved at most once.
const (
	Unresolved Resolution = ""
	Settled    Resolution = "posted"  // posted in full or in part by another entry
	Voided     Resolution = "voided"  // canceled
	Expired    Resolution = "expired" // voided by the scheduler at ExpiresAt
)

// Posting moves an amount of one currency into or out of one account.
// Amount is in minor units: positive is a debit, negative a credit.
type Posting struct {
	Account  string
	Currency string
	Amount   int64
}

// Source says which provider object an entry records.
type Source struct {
	Provider string // e.g. "stripe"
	Type     string // payment, refund, dispute, payout, ...
	ID       string // the object's id in settle (the caller's id)
	Ref      string // the provider's reference (ch_…, re_…), if known
}

// Entry is an immutable, balanced journal entry.
type Entry struct {
	ID          int64
	Key         string // idempotency key; unique
	Hash        string `json:",omitempty"` // hash of the request that wrote it, for replays
	Phase       Phase
	OccurredAt  time.Time // effective time
	RecordedAt  time.Time // when settle wrote it
	Description string
	Metadata    map[string]string
	Source      Source
	Reverses    int64 // the entry this one reverses, or 0
	PendingOf   int64 // the pending entry this one posts, or 0
	ExpiresAt   time.Time
	Resolution  Resolution // pending entries only
	ResolvedBy  int64      // the entry that posted it, if any
	Postings    []Posting
	// Replayed is true when PostEntry found the entry already recorded under
	// its key with the same content and returned it instead of posting.
	Replayed bool `json:"-"`
}

// PostingInput is one posting of an EntryInput, in major units. Amount is
// signed: positive debits the account, negative credits it.
type PostingInput struct {
	Account  string
	Currency string
	Amount   decimal.Decimal
}

// Debit returns a posting that debits account by amount (major units).
func Debit(account, currency, amount string) PostingInput {
	return PostingInput{Account: account, Currency: currency, Amount: decimal.RequireFromString(amount)}
}

// Credit returns a posting that credits account by amount (major units).
func Credit(account, currency, amount string) PostingInput {
	return PostingInput{Account: account, Currency: currency, Amount: decimal.RequireFromString(amount).Neg()}
}

// EntryInput is a request to post a journal entry.
type EntryInput struct {
	Key         string
	OccurredAt  time.Time
	Description string
	Metadata    map[string]string
	Source      Source
	Postings    []PostingInput
	Pending     bool      // two-phase: affects pending balances until posted or voided
	ExpiresAt   time.Time // pending only: the scheduler voids it after this
}

// checkBalanced verifies that postings balance per currency and that there
// are at least two, with valid accounts and non-zero amounts.
func checkBalanced(ps []Posting) error {
	if len(ps) < 2 {
		return fmt.Errorf("%w: an entry needs at least two postings, got %d", ErrUnbalanced, len(ps))
	}
	// Entries carry one or two currencies: a slice beats a map here.
	type sum struct {
		currency string
		amount   int64
	}
	sums := make([]sum, 0, 2)
	for i, p := range ps {
		if _, err := AccountTypeOf(p.Account); err != nil {
			return fmt.Errorf("posting %d: %w", i+1, err)
		}
		if p.Amount == 0 {
			return fmt.Errorf("posting %d: %w: zero amount", i+1, ErrInvalidAmount)
		}
		j := 0
		for j < len(sums) && sums[j].currency != p.Currency {
			j++
		}
		if j == len(sums) {
			sums = append(sums, sum{currency: p.Currency})
		}
		s, err := AddMinor(sums[j].amount, p.Amount)
		if err != nil {
			return fmt.Errorf("posting %d: %w", i+1, err)
		}
		sums[j].amount = s
	}
	var off []string
	for _, s := range sums {
		if s.amount != 0 {
			off = append(off, fmt.Sprintf("%s off by %d minor units", s.currency, s.amount))
		}
	}
	if len(off) > 0 {
		sort.Strings(off)
		return fmt.Errorf("%w: %v", ErrUnbalanced, off)
	}
	return nil
}

// Balance is one account's balance in one currency, in minor units, signed
// debit-positive. Pending is the sum of unresolved pending postings.
type Balance struct {
	Account  string
	Type     AccountType
	Currency string
	Posted   int64
	Pending  int64
}

// PostedOnly keeps of maintained balances what BalancesAsOf reports: each
// account's posted balance in each currency where it is not zero, without
// the pending part. A store's BalancesAsOf answers with it when no posted
// entry occurred after its time. It filters bs in place.
func PostedOnly(bs []Balance) []Balance {
	out := bs[:0]
	for _, b := range bs {
		if b.Posted != 0 {
			b.Pending = 0
			out = append(out, b)
		}
	}
	return out
}

// Normal returns the posted balance with the sign of the account's normal
// side: a credit-normal account (income) with credits shows positive.
func (b Balance) Normal() int64 {
	if b.Type.DebitNormal() {
		return b.Posted
	}
	return -b.Posted
}
