package sqlite

import (
	"context"
	"fmt"

	"github.com/settlehq/settle/ledger"
)

// invariants are SQL queries that return one row per violation: a subject
// and a detail. Each is one of DESIGN.md's invariants.
var invariants = []struct{ name, query string }{
	{"entry_balanced", `SELECT 'entry ' || entry_id, currency || ' postings sum to ' || SUM(amount)
		FROM postings GROUP BY entry_id, currency HAVING SUM(amount) <> 0`},
	{"entry_has_postings", `SELECT 'entry ' || e.id, 'has ' || COUNT(p.entry_id) || ' postings'
		FROM entries e LEFT JOIN postings p ON p.entry_id = e.id GROUP BY e.id HAVING COUNT(p.entry_id) < 2`},
	{"posting_has_entry", `SELECT 'posting ' || p.entry_id || '/' || p.seq, 'no such entry'
		FROM postings p LEFT JOIN entries e ON e.id = p.entry_id WHERE e.id IS NULL`},
	{"balance_matches_postings", `WITH computed AS (
			SELECT p.account_id, p.currency,
				SUM(CASE WHEN e.phase = 'posted' THEN p.amount ELSE 0 END) AS posted,
				SUM(CASE WHEN e.phase = 'pending' AND e.resolution = '' THEN p.amount ELSE 0 END) AS pending
			FROM postings p JOIN entries e ON e.id = p.entry_id GROUP BY p.account_id, p.currency),
		joined AS (
			SELECT c.account_id, c.currency, c.posted AS cp, c.pending AS cq, COALESCE(b.posted, 0) AS bp, COALESCE(b.pending, 0) AS bq
			FROM computed c LEFT JOIN balances b ON b.account_id = c.account_id AND b.currency = c.currency
			UNION ALL
			SELECT b.account_id, b.currency, 0, 0, b.posted, b.pending FROM balances b
			WHERE NOT EXISTS (SELECT 1 FROM computed c WHERE c.account_id = b.account_id AND c.currency = b.currency))
		SELECT a.name || ' ' || j.currency, 'stored posted ' || j.bp || ' pending ' || j.bq || ', postings give ' || j.cp || ' and ' || j.cq
		FROM joined j JOIN accounts a ON a.id = j.account_id WHERE j.cp <> j.bp OR j.cq <> j.bq`},
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
	{"posts_a_pending_entry", `SELECT 'entry ' || e.id, 'posts entry ' || e.pending_of || ' which is not a pending entry resolved by it'
		FROM entries e LEFT JOIN entries p ON p.id = e.pending_of
		WHERE e.pending_of IS NOT NULL AND (p.id IS NULL OR p.phase <> 'pending' OR p.resolved_by IS NOT e.id)`},
}

// Check runs every invariant query and collects the violations.
func (t *tx) Check(ctx context.Context) ([]ledger.Violation, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	var out []ledger.Violation
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
