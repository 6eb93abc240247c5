package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/settlehq/settle/ledger"
)

// invariants are SQL queries that return one row per violation: a subject
// and a detail. Each is one of the ledger's invariants (docs/architecture.md).
// Those over an entry's postings and over the links between pending entries
// and the entries that post them are checked by checkEntries, in one pass
// over the entries table; a derived payout by checkDerivedPayouts. As
// queries of their own, each read a large table again, and the derived
// payouts each transaction's row joined at a random place: verify of a
// month of a million payments took 15–21 s, and 7.5–9.6 s with these
// passes (BENCHMARKS.md, twenty-eighth round).
var invariants = []struct{ name, query string }{
	{"captured_le_authorized", `SELECT 'payment ' || id, 'captured ' || captured || ' > authorized ' || authorized
		FROM payments WHERE captured > authorized`},
	{"refunded_le_captured", `SELECT 'payment ' || id, 'refunded ' || refunded || ' > captured ' || captured
		FROM payments WHERE refunded > captured`},
	{"amounts_non_negative", `SELECT 'payment ' || id, 'negative amount' FROM payments
		WHERE authorized < 0 OR captured < 0 OR refunded < 0 OR disputed < 0`},
	// The payments in table order, each one's refunds summed by their
	// index: grouping a join by payment id read the payments in id order,
	// each row at a random place (5 s of a million payments, against 1 s).
	{"refunds_sum", `SELECT 'payment ' || id, 'refunded ' || refunded || ' but refunds sum to ' || summed
		FROM (SELECT p.id, p.refunded, COALESCE((SELECT SUM(r.amount) FROM refunds r WHERE r.payment_id = p.id), 0) AS summed
			FROM payments p)
		WHERE refunded <> summed`},
	{"net_is_amount_minus_fee", `SELECT 'balance transaction ' || id, 'net ' || net || ' <> amount ' || amount || ' - fee ' || fee
		FROM balance_transactions WHERE net <> amount - fee`},
	// A balance transaction is a row of bt_core and one of bt_settlements
	// (schema.sql, migration 13); the view of them shows only those with
	// both.
	{"balance_transaction_whole", `SELECT 'balance transaction ' || b.id, 'no settlement stored'
		FROM bt_core b WHERE NOT EXISTS (SELECT 1 FROM bt_settlements s WHERE s.id = b.id)
		UNION ALL SELECT 'balance transaction ' || s.id, 'a settlement stored without the transaction'
		FROM bt_settlements s WHERE NOT EXISTS (SELECT 1 FROM bt_core b WHERE b.id = s.id)
		UNION ALL SELECT 'balance transaction ' || b.id, 'of ' || b.provider || ' but its settlement says ' || s.provider
		FROM bt_core b JOIN bt_settlements s ON s.id = b.id WHERE s.provider <> b.provider`},
	// bt_core alone, not the view: a transaction without its settlement
	// is balance_transaction_whole's, and the join doubled the time.
	{"balance_transaction_has_entry", `SELECT 'balance transaction ' || b.id, 'entry ' || b.entry_id || ' missing'
		FROM bt_core b LEFT JOIN entries e ON e.id = b.entry_id WHERE e.id IS NULL`},
	{"reversed_once", `SELECT 'entry ' || reverses, COUNT(*) || ' entries reverse it'
		FROM entries WHERE reverses IS NOT NULL GROUP BY reverses HAVING COUNT(*) > 1`},
	// A converted movement's two sides (ledger/fx.go): another currency,
	// the same direction, and a converted payment's booking conversion.
	{"conversion_sides_consistent", `SELECT 'balance transaction ' || id, 'presented ' || presentment_amount || ' ' || presentment_currency ||
		', settled ' || amount || ' ' || currency
		FROM balance_transactions WHERE presentment_currency <> '' AND (presentment_currency = currency
			OR presentment_amount = 0 OR (presentment_amount < 0) <> (amount < 0))
		UNION ALL SELECT 'payment ' || id, 'settles in ' || settlement_currency || ' with a settled amount of ' || settled
		FROM payments WHERE settlement_currency <> '' AND (settlement_currency = currency OR settled <= 0)`},
}

// Check runs every invariant query and collects the violations.
func (t *tx) Check(ctx context.Context) ([]ledger.Violation, error) {
	if err := t.flushPending(ctx); err != nil {
		return nil, err
	}
	out, err := t.checkEntries(ctx)
	if err != nil {
		return nil, err
	}
	derived, err := t.checkDerivedPayouts(ctx)
	if err != nil {
		return nil, err
	}
	out = append(out, derived...)
	for _, inv := range invariants {
		rows, err := t.q.QueryContext(ctx, inv.query)
		if err != nil {
			return nil, fmt.Errorf("invariant %s: %w", inv.name, err)
		}
		for rows.Next() {
			v := ledger.Violation{Invariant: inv.name}
			if err := rows.Scan(&v.Subject, &v.Detail); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, v)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkEntries checks, in one pass over the entries, the invariants over
// postings:
//   - postings_well_formed: the column is what the ledger writes;
//   - entry_has_postings: at least two postings;
//   - posting_valid: a non-zero amount to an account that exists;
//   - entry_balanced: the postings sum to zero in each currency;
//   - balance_matches_postings: every stored balance (posted, and pending
//     for unresolved pending entries) equals the sum of its postings;
//
// and those over pending entries and the entries that post them
// (pending_of), from what it keeps of them for after the pass (pendingLinks).
func (t *tx) checkEntries(ctx context.Context) ([]ledger.Violation, error) {
	accounts, err := t.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(accounts))
	for _, a := range accounts {
		names[a.ID] = a.Name
	}
	var out []ledger.Violation
	add := func(invariant, subject, detail string) {
		out = append(out, ledger.Violation{Invariant: invariant, Subject: subject, Detail: detail})
	}
	computed := map[balKey]*delta{}
	var links pendingLinks
	rows, err := t.rows(ctx, `SELECT id, phase, resolution, resolved_by, pending_of, postings FROM entries ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []rawPosting
	type currencySum struct {
		currency string
		amount   int64
	}
	var sums []currencySum // of an entry's postings, by currency in order of appearance
	for rows.Next() {
		var id int64
		var phase, resolution, col string
		var resolvedBy, pendingOf sql.NullInt64
		if err := rows.Scan(&id, &phase, &resolution, &resolvedBy, &pendingOf, &col); err != nil {
			return nil, err
		}
		links.note(id, phase, resolution, resolvedBy, pendingOf)
		if ps, err = decodePostings(col, ps[:0]); err != nil {
			add("postings_well_formed", entrySubject(id), err.Error())
			continue
		}
		if len(ps) < 2 {
			add("entry_has_postings", entrySubject(id), fmt.Sprintf("has %d postings", len(ps)))
		}
		sums = sums[:0]
		for i, p := range ps {
			if _, ok := names[p.account]; !ok {
				add("posting_valid", fmt.Sprintf("entry %d posting %d", id, i+1), fmt.Sprintf("account %d does not exist", p.account))
			}
			if p.amount == 0 {
				add("posting_valid", fmt.Sprintf("entry %d posting %d", id, i+1), "zero amount")
			}
			j := 0
			for j < len(sums) && sums[j].currency != p.currency {
				j++
			}
			if j == len(sums) {
				sums = append(sums, currencySum{currency: p.currency})
			}
			if sums[j].amount, err = ledger.AddMinor(sums[j].amount, p.amount); err != nil {
				return nil, fmt.Errorf("entry %d: %w", id, err)
			}
			k := balKey{p.account, p.currency}
			d := computed[k]
			if d == nil {
				d = &delta{}
				computed[k] = d
			}
			switch {
			case phase == string(ledger.Posted):
				d.posted, err = ledger.AddMinor(d.posted, p.amount)
			case phase == string(ledger.Pending) && resolution == "":
				d.pending, err = ledger.AddMinor(d.pending, p.amount)
			}
			if err != nil {
				return nil, fmt.Errorf("entry %d: %w", id, err)
			}
		}
		for _, c := range sums {
			if c.amount != 0 {
				add("entry_balanced", entrySubject(id), fmt.Sprintf("%s postings sum to %d", c.currency, c.amount))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	out = append(out, links.check()...)

	stored := map[balKey]delta{}
	brows, err := t.q.QueryContext(ctx, `SELECT account_id, currency, posted, pending FROM balances`)
	if err != nil {
		return nil, err
	}
	defer brows.Close()
	for brows.Next() {
		var k balKey
		var d delta
		if err := brows.Scan(&k.account, &k.currency, &d.posted, &d.pending); err != nil {
			return nil, err
		}
		stored[k] = d
	}
	if err := brows.Err(); err != nil {
		return nil, err
	}
	var mismatched []ledger.Violation
	report := func(k balKey, s, c delta) {
		if s != c {
			mismatched = append(mismatched, ledger.Violation{Invariant: "balance_matches_postings",
				Subject: names[k.account] + " " + k.currency,
				Detail:  fmt.Sprintf("stored posted %d pending %d, postings give %d and %d", s.posted, s.pending, c.posted, c.pending)})
		}
	}
	for k, c := range computed {
		report(k, stored[k], *c)
	}
	for k, s := range stored {
		if _, ok := computed[k]; !ok {
			report(k, s, delta{})
		}
	}
	sort.Slice(mismatched, func(i, j int) bool { return mismatched[i].Subject < mismatched[j].Subject })
	return append(out, mismatched...), nil
}

func entrySubject(id int64) string { return fmt.Sprintf("entry %d", id) }

// pendingLinks is what checkEntries keeps of the links between pending
// entries and the entries that post them: a few hundred thousand ids in a
// month of a million payments.
type pendingLinks struct {
	// pending holds each pending entry's resolved_by (0 for none; ids
	// start at 1).
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
func (l *pendingLinks) note(id int64, phase, resolution string, resolvedBy, pendingOf sql.NullInt64) {
	if pendingOf.Valid {
		l.posters = append(l.posters, poster{id, pendingOf.Int64})
	}
	consistent := true
	switch phase {
	case string(ledger.Posted):
		consistent = resolution == ""
	case string(ledger.Pending):
		if l.pending == nil {
			l.pending = map[int64]int64{}
		}
		l.pending[id] = resolvedBy.Int64
		switch ledger.Resolution(resolution) {
		case ledger.Unresolved, ledger.Voided, ledger.Expired:
		case ledger.Settled:
			l.resolved = append(l.resolved, id)
		default:
			consistent = false
		}
	}
	if !consistent {
		l.odd = append(l.odd, resolutionViolation(id, phase, resolution, resolvedBy.Int64))
	}
}

// check returns the violations of the links, entry by entry:
//   - pending_resolved_once: no pending entry is posted by two entries;
//   - pending_resolution_consistent: a posted entry has no resolution, a
//     pending one a known resolution, and one resolved as posted names
//     the entry that posts it;
//   - posts_a_pending_entry: an entry that posts a pending entry names
//     one that is pending and resolved by it.
func (l *pendingLinks) check() []ledger.Violation {
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

// checkDerivedPayouts checks payout_composition_derived: a balance
// transaction whose payout is derived is in the first automatic payout of
// its provider and currency, in (time, id) order, created at or after its
// available_on (ledger/settlement.go), or in none if there is none. The
// automatic payouts are few and kept in memory; the transactions are read
// in table order.
func (t *tx) checkDerivedPayouts(ctx context.Context) ([]ledger.Violation, error) {
	type payout struct {
		id      string
		created int64
	}
	byPair := map[[2]string][]payout{}
	prows, err := t.rows(ctx, `SELECT id, provider, currency, created_at FROM payouts WHERE automatic = 1 ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer prows.Close()
	for prows.Next() {
		var p payout
		var prov, cur string
		if err := prows.Scan(&p.id, &prov, &cur, &p.created); err != nil {
			return nil, err
		}
		k := [2]string{prov, cur}
		byPair[k] = append(byPair[k], p)
	}
	if err := prows.Err(); err != nil {
		return nil, err
	}
	prows.Close()
	rows, err := t.rows(ctx, `SELECT id, provider, currency, available_on, payout_id FROM bt_settlements NOT INDEXED
		WHERE payout_derived = 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.Violation
	for rows.Next() {
		var id, prov, cur, payoutID string
		var on int64
		if err := rows.Scan(&id, &prov, &cur, &on, &payoutID); err != nil {
			return nil, err
		}
		ps := byPair[[2]string{prov, cur}]
		rule := ""
		if i := sort.Search(len(ps), func(i int) bool { return ps[i].created >= on }); i < len(ps) {
			rule = ps[i].id
		}
		if payoutID != rule {
			out = append(out, ledger.Violation{Invariant: "payout_composition_derived", Subject: "balance transaction " + id,
				Detail: "in payout " + quote(payoutID) + " but the rule gives " + quote(rule)})
		}
	}
	return out, rows.Err()
}
