package sqlite

import (
	"context"
	"fmt"
	"sort"

	"github.com/settlehq/settle/ledger"
)

// invariants are SQL queries that return one row per violation: a subject
// and a detail. Each is one of the ledger's invariants (docs/architecture.md); those over postings
// are checked by checkPostings.
var invariants = []struct{ name, query string }{
	{"captured_le_authorized", `SELECT 'payment ' || id, 'captured ' || captured || ' > authorized ' || authorized
		FROM payments WHERE captured > authorized`},
	{"refunded_le_captured", `SELECT 'payment ' || id, 'refunded ' || refunded || ' > captured ' || captured
		FROM payments WHERE refunded > captured`},
	{"amounts_non_negative", `SELECT 'payment ' || id, 'negative amount' FROM payments
		WHERE authorized < 0 OR captured < 0 OR refunded < 0 OR disputed < 0`},
	{"refunds_sum", `SELECT 'payment ' || p.id, 'refunded ' || p.refunded || ' but refunds sum to ' || COALESCE(SUM(r.amount), 0)
		FROM payments p LEFT JOIN refunds r ON r.payment_id = p.id GROUP BY p.id HAVING p.refunded <> COALESCE(SUM(r.amount), 0)`},
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
	{"balance_transaction_has_entry", `SELECT 'balance transaction ' || b.id, 'entry ' || b.entry_id || ' missing'
		FROM balance_transactions b LEFT JOIN entries e ON e.id = b.entry_id WHERE e.id IS NULL`},
	{"reversed_once", `SELECT 'entry ' || reverses, COUNT(*) || ' entries reverse it'
		FROM entries WHERE reverses IS NOT NULL GROUP BY reverses HAVING COUNT(*) > 1`},
	{"pending_resolved_once", `SELECT 'entry ' || pending_of, COUNT(*) || ' entries post it'
		FROM entries WHERE pending_of IS NOT NULL GROUP BY pending_of HAVING COUNT(*) > 1`},
	{"pending_resolution_consistent", `SELECT 'entry ' || e.id, 'phase ' || e.phase || ' resolution ' || quote(e.resolution) || ' resolved_by ' || quote(e.resolved_by)
		FROM entries e WHERE (e.phase = 'posted' AND e.resolution <> '')
			OR (e.phase = 'pending' AND e.resolution = 'posted' AND NOT EXISTS
				(SELECT 1 FROM entries x WHERE x.id = e.resolved_by AND x.pending_of = e.id))
			OR (e.phase = 'pending' AND e.resolution NOT IN ('', 'posted', 'voided', 'expired'))`},
	// A derived payout is the first automatic payout of the transaction's
	// provider and currency, in (time, id) order, at or after its
	// available_on (ledger/settlement.go).
	{"payout_composition_derived", `SELECT 'balance transaction ' || b.id, 'in payout ' || quote(b.payout_id) || ' but the rule gives ' ||
		quote(COALESCE((SELECT p.id FROM payouts p WHERE p.provider = b.provider AND p.currency = b.currency AND p.automatic = 1
			AND p.created_at >= b.available_on ORDER BY p.created_at, p.id LIMIT 1), ''))
		FROM balance_transactions b WHERE b.payout_derived = 1 AND b.payout_id <> COALESCE((SELECT p.id FROM payouts p
			WHERE p.provider = b.provider AND p.currency = b.currency AND p.automatic = 1 AND p.created_at >= b.available_on
			ORDER BY p.created_at, p.id LIMIT 1), '')`},
	// A converted movement's two sides (ledger/fx.go): another currency,
	// the same direction, and a converted payment's booking conversion.
	{"conversion_sides_consistent", `SELECT 'balance transaction ' || id, 'presented ' || presentment_amount || ' ' || presentment_currency ||
		', settled ' || amount || ' ' || currency
		FROM balance_transactions WHERE presentment_currency <> '' AND (presentment_currency = currency
			OR presentment_amount = 0 OR (presentment_amount < 0) <> (amount < 0))
		UNION ALL SELECT 'payment ' || id, 'settles in ' || settlement_currency || ' with a settled amount of ' || settled
		FROM payments WHERE settlement_currency <> '' AND (settlement_currency = currency OR settled <= 0)`},
	{"posts_a_pending_entry", `SELECT 'entry ' || e.id, 'posts entry ' || e.pending_of || ' which is not a pending entry resolved by it'
		FROM entries e LEFT JOIN entries p ON p.id = e.pending_of
		WHERE e.pending_of IS NOT NULL AND (p.id IS NULL OR p.phase <> 'pending' OR p.resolved_by IS NOT e.id)`},
}

// Check runs every invariant query and collects the violations.
func (t *tx) Check(ctx context.Context) ([]ledger.Violation, error) {
	if err := t.flushPending(ctx); err != nil {
		return nil, err
	}
	out, err := t.checkPostings(ctx)
	if err != nil {
		return nil, err
	}
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

// checkPostings checks the invariants over postings in one pass over the
// entries, decoding each postings column:
//   - postings_well_formed: the column is what the ledger writes;
//   - entry_has_postings: at least two postings;
//   - posting_valid: a non-zero amount to an account that exists;
//   - entry_balanced: the postings sum to zero in each currency;
//   - balance_matches_postings: every stored balance (posted, and pending
//     for unresolved pending entries) equals the sum of its postings.
func (t *tx) checkPostings(ctx context.Context) ([]ledger.Violation, error) {
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
	rows, err := t.q.QueryContext(ctx, `SELECT id, phase, resolution, postings FROM entries ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []rawPosting
	for rows.Next() {
		var id int64
		var phase, resolution, col string
		if err := rows.Scan(&id, &phase, &resolution, &col); err != nil {
			return nil, err
		}
		subject := fmt.Sprintf("entry %d", id)
		if ps, err = decodePostings(col, ps[:0]); err != nil {
			add("postings_well_formed", subject, err.Error())
			continue
		}
		if len(ps) < 2 {
			add("entry_has_postings", subject, fmt.Sprintf("has %d postings", len(ps)))
		}
		sums := map[string]int64{}
		var currencies []string
		for i, p := range ps {
			if _, ok := names[p.account]; !ok {
				add("posting_valid", fmt.Sprintf("%s posting %d", subject, i+1), fmt.Sprintf("account %d does not exist", p.account))
			}
			if p.amount == 0 {
				add("posting_valid", fmt.Sprintf("%s posting %d", subject, i+1), "zero amount")
			}
			if _, seen := sums[p.currency]; !seen {
				currencies = append(currencies, p.currency)
			}
			if sums[p.currency], err = ledger.AddMinor(sums[p.currency], p.amount); err != nil {
				return nil, fmt.Errorf("%s: %w", subject, err)
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
				return nil, fmt.Errorf("%s: %w", subject, err)
			}
		}
		for _, c := range currencies {
			if sums[c] != 0 {
				add("entry_balanced", subject, fmt.Sprintf("%s postings sum to %d", c, sums[c]))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()

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
