// Package invariant checks, in Go, the ledger's invariants that SQL could
// check only by reading a store's largest tables several times over: those
// over each entry's postings, the stored balances against the postings,
// the links between pending entries and the entries that post them, and
// the payouts a balance transaction's payout is derived from. A store
// reads its rows once, in its own way, and hands each one over; the checks
// and the words of each violation are the same on every store.
package invariant

import (
	"fmt"
	"sort"
	"strings"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/internal/bankmark"
)

// Posting is one posting of an entry as a store keeps it: the account by
// id.
type Posting struct {
	Account  int64
	Currency string
	Amount   int64
}

// Entry is what the checks need of one entry. ResolvedBy and PendingOf are
// 0 for none (ids start at 1).
type Entry struct {
	ID         int64
	Phase      string
	Resolution string
	ResolvedBy int64
	PendingOf  int64
	Postings   []Posting
	// Bank is the store's mark of an entry that posts to a bank account's
	// ledger account (an index of those entries).
	Bank bool
}

// Entries checks the entries handed to Add, in id order:
//   - postings_well_formed: the store could read the postings (Malformed);
//   - entry_has_postings: at least two postings;
//   - posting_valid: a non-zero amount to an account that exists;
//   - entry_balanced: the postings sum to zero in each currency;
//   - bank_entry_marked: an entry that posts to a bank account's ledger
//     account (BankAccounts) carries the store's mark, without which
//     bank reconciliation would not see it;
//
// and, in Violations, with the stored balances and what it kept of the
// pending links:
//   - balance_matches_postings: every stored balance (posted, and pending
//     for unresolved pending entries) equals the sum of its postings;
//   - pending_resolved_once, pending_resolution_consistent and
//     posts_a_pending_entry (see links.check).
type Entries struct {
	names    map[int64]string
	bank     map[int64]bool // accounts whose entries are marked
	computed map[balanceKey]*Amounts
	links    links
	sums     []currencySum // of the current entry's postings, by currency in order of appearance
	out      []ledger.Violation
}

type balanceKey struct {
	account  int64
	currency string
}

// Amounts are a balance's posted and pending amounts.
type Amounts struct{ Posted, Pending int64 }

type currencySum struct {
	currency string
	amount   int64
}

// NewEntries returns a check of the entries of books with these accounts.
func NewEntries(accounts []ledger.Account) *Entries {
	names := make(map[int64]string, len(accounts))
	for _, a := range accounts {
		names[a.ID] = a.Name
	}
	return &Entries{names: names, computed: map[balanceKey]*Amounts{}}
}

// BankAccounts names the ledger accounts that bank accounts map to: the
// entries posting to them or their subaccounts must be marked.
func (c *Entries) BankAccounts(ledgerAccounts []string) {
	c.bank = map[int64]bool{}
	for id, name := range c.names {
		if bankmark.Under(name, ledgerAccounts) {
			c.bank[id] = true
		}
	}
}

// Add checks one entry and keeps what the later checks need. An error is
// an overflow of a sum, which no sound books reach.
func (c *Entries) Add(e *Entry) error {
	c.links.note(e)
	ps := e.Postings
	if len(ps) < 2 {
		c.add("entry_has_postings", entrySubject(e.ID), fmt.Sprintf("has %d postings", len(ps)))
	}
	c.sums = c.sums[:0]
	for i, p := range ps {
		if _, ok := c.names[p.Account]; !ok {
			c.add("posting_valid", fmt.Sprintf("entry %d posting %d", e.ID, i+1), fmt.Sprintf("account %d does not exist", p.Account))
		}
		if p.Amount == 0 {
			c.add("posting_valid", fmt.Sprintf("entry %d posting %d", e.ID, i+1), "zero amount")
		}
		j := 0
		for j < len(c.sums) && c.sums[j].currency != p.Currency {
			j++
		}
		if j == len(c.sums) {
			c.sums = append(c.sums, currencySum{currency: p.Currency})
		}
		var err error
		if c.sums[j].amount, err = ledger.AddMinor(c.sums[j].amount, p.Amount); err != nil {
			return fmt.Errorf("entry %d: %w", e.ID, err)
		}
		k := balanceKey{p.Account, p.Currency}
		d := c.computed[k]
		if d == nil {
			d = &Amounts{}
			c.computed[k] = d
		}
		switch {
		case e.Phase == string(ledger.Posted):
			d.Posted, err = ledger.AddMinor(d.Posted, p.Amount)
		case e.Phase == string(ledger.Pending) && e.Resolution == "":
			d.Pending, err = ledger.AddMinor(d.Pending, p.Amount)
		}
		if err != nil {
			return fmt.Errorf("entry %d: %w", e.ID, err)
		}
	}
	for _, s := range c.sums {
		if s.amount != 0 {
			c.add("entry_balanced", entrySubject(e.ID), fmt.Sprintf("%s postings sum to %d", s.currency, s.amount))
		}
	}
	if !e.Bank {
		for _, p := range ps {
			if c.bank[p.Account] {
				c.add("bank_entry_marked", entrySubject(e.ID), fmt.Sprintf("posts to %s, a bank account's ledger account, and is not marked", c.names[p.Account]))
				break
			}
		}
	}
	return nil
}

// Malformed notes an entry whose postings the store could not read, and
// why; its postings are not checked further, its pending links are.
func (c *Entries) Malformed(e *Entry, why string) {
	c.links.note(e)
	c.add("postings_well_formed", entrySubject(e.ID), why)
}

func (c *Entries) add(invariant, subject, detail string) {
	c.out = append(c.out, ledger.Violation{Invariant: invariant, Subject: subject, Detail: detail})
}

// Balance is a stored balance.
type Balance struct {
	Account  int64
	Currency string
	Amounts
}

// Violations returns every violation found: those of each entry in the
// order of the entries, then those of the pending links entry by entry,
// then each stored balance that is not the sum of its postings (or a sum
// with no stored balance), ordered by account name and currency.
func (c *Entries) Violations(stored []Balance) []ledger.Violation {
	out := append(c.out, c.links.check()...)
	var mismatched []ledger.Violation
	report := func(k balanceKey, s, computed Amounts) {
		if s == computed {
			return
		}
		name, ok := c.names[k.account]
		if !ok {
			name = fmt.Sprintf("account %d", k.account)
		}
		mismatched = append(mismatched, ledger.Violation{Invariant: "balance_matches_postings", Subject: name + " " + k.currency,
			Detail: fmt.Sprintf("stored posted %d pending %d, postings give %d and %d", s.Posted, s.Pending, computed.Posted, computed.Pending)})
	}
	seen := make(map[balanceKey]bool, len(stored))
	for _, b := range stored {
		k := balanceKey{b.Account, b.Currency}
		seen[k] = true
		var computed Amounts
		if d := c.computed[k]; d != nil {
			computed = *d
		}
		report(k, b.Amounts, computed)
	}
	for k, d := range c.computed {
		if !seen[k] {
			report(k, Amounts{}, *d)
		}
	}
	sort.Slice(mismatched, func(i, j int) bool { return mismatched[i].Subject < mismatched[j].Subject })
	return append(out, mismatched...)
}

// entrySubject is how a violation names an entry.
func entrySubject(id int64) string { return fmt.Sprintf("entry %d", id) }

// links is what Entries keeps of the links between pending entries and
// the entries that post them: a few hundred thousand ids in a month of a
// million payments.
type links struct {
	// pending holds each pending entry's resolved_by (0 for none).
	pending map[int64]int64
	// posters are the entries with a pending_of, in id order.
	posters []poster
	// resolved are the pending entries whose resolution says posted.
	resolved []int64
	// odd are the entries whose phase and resolution disagree on their
	// own (pending_resolution_consistent).
	odd []ledger.Violation
}

type poster struct{ id, pendingOf int64 }

// note keeps what the checks need of one entry.
func (l *links) note(e *Entry) {
	if e.PendingOf != 0 {
		l.posters = append(l.posters, poster{e.ID, e.PendingOf})
	}
	consistent := true
	switch e.Phase {
	case string(ledger.Posted):
		consistent = e.Resolution == ""
	case string(ledger.Pending):
		if l.pending == nil {
			l.pending = map[int64]int64{}
		}
		l.pending[e.ID] = e.ResolvedBy
		switch ledger.Resolution(e.Resolution) {
		case ledger.Unresolved, ledger.Voided, ledger.Expired:
		case ledger.Settled:
			l.resolved = append(l.resolved, e.ID)
		default:
			consistent = false
		}
	}
	if !consistent {
		l.odd = append(l.odd, resolutionViolation(e.ID, e.Phase, e.Resolution, e.ResolvedBy))
	}
}

// check returns the violations of the links, entry by entry:
//   - pending_resolved_once: no pending entry is posted by two entries;
//   - pending_resolution_consistent: a posted entry has no resolution, a
//     pending one a known resolution, and one resolved as posted names
//     the entry that posts it;
//   - posts_a_pending_entry: an entry that posts a pending entry names
//     one that is pending and resolved by it.
func (l *links) check() []ledger.Violation {
	var out []ledger.Violation
	pendingOf := make(map[int64]int64, len(l.posters)) // of each poster
	posted := make(map[int64]int, len(l.posters))      // how many entries post each pending one
	for _, p := range l.posters {
		pendingOf[p.id] = p.pendingOf
		posted[p.pendingOf]++
	}
	for _, p := range l.posters {
		if n := posted[p.pendingOf]; n > 1 {
			delete(posted, p.pendingOf) // reported once
			out = append(out, ledger.Violation{Invariant: "pending_resolved_once", Subject: entrySubject(p.pendingOf),
				Detail: fmt.Sprintf("%d entries post it", n)})
		}
	}
	out = append(out, l.odd...)
	for _, id := range l.resolved {
		if by := l.pending[id]; by == 0 || pendingOf[by] != id {
			out = append(out, resolutionViolation(id, string(ledger.Pending), string(ledger.Settled), by))
		}
	}
	for _, p := range l.posters {
		if by, ok := l.pending[p.pendingOf]; !ok || by != p.id {
			out = append(out, ledger.Violation{Invariant: "posts_a_pending_entry", Subject: entrySubject(p.id),
				Detail: fmt.Sprintf("posts entry %d which is not a pending entry resolved by it", p.pendingOf)})
		}
	}
	return out
}

// resolutionViolation describes an entry whose phase, resolution and
// resolved_by (0 for none) do not agree.
func resolutionViolation(id int64, phase, resolution string, resolvedBy int64) ledger.Violation {
	by := "NULL"
	if resolvedBy != 0 {
		by = fmt.Sprint(resolvedBy)
	}
	return ledger.Violation{Invariant: "pending_resolution_consistent", Subject: entrySubject(id),
		Detail: fmt.Sprintf("phase %s resolution %s resolved_by %s", phase, quote(resolution), by)}
}

// quote is a text as SQL's quote() gives it, as the invariants' details
// written in SQL show texts.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// DerivedPayouts checks payout_composition_derived: a balance transaction
// whose payout is derived is in the first automatic payout of its provider
// and currency, in (time, id) order, created at or after its available_on
// (ledger/settlement.go), or in none if there is none. The automatic
// payouts are few and kept in memory; the transactions can come in any
// order.
type DerivedPayouts struct {
	byPair map[[2]string][]payout
}

type payout struct {
	id      string
	created int64
}

// AddPayout notes an automatic payout; they must come in (created, id)
// order.
func (d *DerivedPayouts) AddPayout(id, provider, currency string, created int64) {
	if d.byPair == nil {
		d.byPair = map[[2]string][]payout{}
	}
	k := [2]string{provider, currency}
	d.byPair[k] = append(d.byPair[k], payout{id, created})
}

// Check checks one balance transaction whose payout is derived, and
// reports its violation, if any.
func (d *DerivedPayouts) Check(id, provider, currency string, availableOn int64, payoutID string) (ledger.Violation, bool) {
	ps := d.byPair[[2]string{provider, currency}]
	rule := ""
	if i := sort.Search(len(ps), func(i int) bool { return ps[i].created >= availableOn }); i < len(ps) {
		rule = ps[i].id
	}
	if payoutID == rule {
		return ledger.Violation{}, false
	}
	return ledger.Violation{Invariant: "payout_composition_derived", Subject: "balance transaction " + id,
		Detail: "in payout " + quote(payoutID) + " but the rule gives " + quote(rule)}, true
}
