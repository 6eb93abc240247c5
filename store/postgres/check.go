package postgres

import (
	"context"
	"fmt"

	"github.com/settlehq/settle/ledger"
)

// invariants are queries that return one row per violation: a subject and
// a detail. They are the SQLite store's (ledger/sqlite/check.go), in
// PostgreSQL: those over postings first, then those over the objects. Sums
// are compared as numeric, so a corrupt database reports rather than
// overflows.
var invariants = []struct{ name, query string }{
	{"entry_has_postings", `SELECT 'entry ' || id, 'has ' || cardinality(amounts) || ' postings'
		FROM {schema}.entries WHERE cardinality(amounts) < 2 ORDER BY id`},
	{"posting_valid", `SELECT 'entry ' || p.entry_id || ' posting ' || p.seq,
		CASE WHEN a.id IS NULL THEN 'account ' || p.account_id || ' does not exist' ELSE 'zero amount' END
		FROM {schema}.postings p LEFT JOIN {schema}.accounts a ON a.id = p.account_id
		WHERE a.id IS NULL OR p.amount = 0 ORDER BY p.entry_id, p.seq`},
	{"postings_well_formed", `SELECT 'entry ' || id, 'a posting has no account, currency or amount'
		FROM {schema}.entries WHERE array_position(account_ids, NULL) IS NOT NULL OR array_position(currencies, NULL) IS NOT NULL
			OR array_position(amounts, NULL) IS NOT NULL ORDER BY id`},
	{"entry_balanced", `SELECT 'entry ' || entry_id, currency || ' postings sum to ' || SUM(amount::numeric)
		FROM {schema}.postings GROUP BY entry_id, currency HAVING SUM(amount::numeric) <> 0 ORDER BY entry_id, currency COLLATE "C"`},
	// Every stored balance (posted, and pending for unresolved pending
	// entries) equals the sum of its postings, and every sum has its
	// balance.
	{"balance_matches_postings", `WITH c AS (
			SELECT p.account_id, p.currency,
				COALESCE(SUM(p.amount::numeric) FILTER (WHERE e.phase = 'posted'), 0) AS posted,
				COALESCE(SUM(p.amount::numeric) FILTER (WHERE e.phase = 'pending' AND e.resolution = ''), 0) AS pending
			FROM {schema}.entries e CROSS JOIN LATERAL unnest(e.account_ids, e.currencies, e.amounts) AS p (account_id, currency, amount)
			GROUP BY p.account_id, p.currency),
		x AS (
			SELECT COALESCE(c.account_id, b.account_id) AS account_id, COALESCE(c.currency, b.currency) AS currency,
				COALESCE(b.posted, 0) AS sp, COALESCE(b.pending, 0) AS spe, COALESCE(c.posted, 0) AS cp, COALESCE(c.pending, 0) AS cpe
			FROM c FULL JOIN {schema}.balances b ON b.account_id = c.account_id AND b.currency = c.currency)
		SELECT subject, detail FROM (
			SELECT COALESCE(a.name, 'account ' || x.account_id) || ' ' || x.currency AS subject,
				'stored posted ' || x.sp || ' pending ' || x.spe || ', postings give ' || x.cp || ' and ' || x.cpe AS detail
			FROM x LEFT JOIN {schema}.accounts a ON a.id = x.account_id
			WHERE x.sp <> x.cp OR x.spe <> x.cpe) v
		ORDER BY subject COLLATE "C"`},
	{"captured_le_authorized", `SELECT 'payment ' || id, 'captured ' || captured || ' > authorized ' || authorized
		FROM {schema}.payments WHERE captured > authorized ORDER BY id COLLATE "C"`},
	{"refunded_le_captured", `SELECT 'payment ' || id, 'refunded ' || refunded || ' > captured ' || captured
		FROM {schema}.payments WHERE refunded > captured ORDER BY id COLLATE "C"`},
	{"amounts_non_negative", `SELECT 'payment ' || id, 'negative amount' FROM {schema}.payments
		WHERE authorized < 0 OR captured < 0 OR refunded < 0 OR disputed < 0 ORDER BY id COLLATE "C"`},
	{"refunds_sum", `SELECT 'payment ' || p.id, 'refunded ' || p.refunded || ' but refunds sum to ' || COALESCE(SUM(r.amount::numeric), 0)
		FROM {schema}.payments p LEFT JOIN {schema}.refunds r ON r.payment_id = p.id
		GROUP BY p.id, p.refunded HAVING p.refunded <> COALESCE(SUM(r.amount::numeric), 0) ORDER BY p.id COLLATE "C"`},
	{"net_is_amount_minus_fee", `SELECT 'balance transaction ' || id, 'net ' || net || ' <> amount ' || amount || ' - fee ' || fee
		FROM {schema}.balance_transactions WHERE net::numeric <> amount::numeric - fee ORDER BY id COLLATE "C"`},
	{"balance_transaction_has_entry", `SELECT 'balance transaction ' || b.id, 'entry ' || b.entry_id || ' missing'
		FROM {schema}.balance_transactions b LEFT JOIN {schema}.entries e ON e.id = b.entry_id WHERE e.id IS NULL ORDER BY b.id COLLATE "C"`},
	{"reversed_once", `SELECT 'entry ' || reverses, COUNT(*) || ' entries reverse it'
		FROM {schema}.entries WHERE reverses IS NOT NULL GROUP BY reverses HAVING COUNT(*) > 1 ORDER BY reverses`},
	{"pending_resolved_once", `SELECT 'entry ' || pending_of, COUNT(*) || ' entries post it'
		FROM {schema}.entries WHERE pending_of IS NOT NULL GROUP BY pending_of HAVING COUNT(*) > 1 ORDER BY pending_of`},
	{"pending_resolution_consistent", `SELECT 'entry ' || e.id, 'phase ' || e.phase || ' resolution ' || quote_literal(e.resolution)
			|| ' resolved_by ' || COALESCE(e.resolved_by::text, 'NULL')
		FROM {schema}.entries e WHERE (e.phase = 'posted' AND e.resolution <> '')
			OR (e.phase = 'pending' AND e.resolution = 'posted' AND NOT EXISTS
				(SELECT 1 FROM {schema}.entries x WHERE x.id = e.resolved_by AND x.pending_of = e.id))
			OR (e.phase = 'pending' AND e.resolution NOT IN ('', 'posted', 'voided', 'expired'))
		ORDER BY e.id`},
	// A derived payout is the first automatic payout of the transaction's
	// provider and currency, in (time, id) order, at or after its
	// available_on (ledger/settlement.go).
	{"payout_composition_derived", `SELECT 'balance transaction ' || b.id, 'in payout ' || quote_literal(b.payout_id)
			|| ' but the rule gives ' || quote_literal(r.id)
		FROM {schema}.balance_transactions b CROSS JOIN LATERAL (SELECT COALESCE((SELECT p.id FROM {schema}.payouts p
			WHERE p.provider = b.provider AND p.currency = b.currency AND p.automatic AND p.created_at >= b.available_on
			ORDER BY p.created_at, p.id COLLATE "C" LIMIT 1), '') AS id) r
		WHERE b.payout_derived AND b.payout_id <> r.id ORDER BY b.id COLLATE "C"`},
	// A converted movement's two sides (ledger/fx.go): another currency,
	// the same direction, and a converted payment's booking conversion.
	{"conversion_sides_consistent", `SELECT subject, detail FROM (
		SELECT 'balance transaction ' || id AS subject, 'presented ' || presentment_amount || ' ' || presentment_currency ||
			', settled ' || amount || ' ' || currency AS detail, 1 AS k, id AS id
		FROM {schema}.balance_transactions WHERE presentment_currency <> '' AND (presentment_currency = currency
			OR presentment_amount = 0 OR (presentment_amount < 0) <> (amount < 0))
		UNION ALL SELECT 'payment ' || id, 'settles in ' || settlement_currency || ' with a settled amount of ' || settled, 2, id
		FROM {schema}.payments WHERE settlement_currency <> '' AND (settlement_currency = currency OR settled <= 0)) v
		ORDER BY k, id COLLATE "C"`},
	{"posts_a_pending_entry", `SELECT 'entry ' || e.id, 'posts entry ' || e.pending_of || ' which is not a pending entry resolved by it'
		FROM {schema}.entries e LEFT JOIN {schema}.entries p ON p.id = e.pending_of
		WHERE e.pending_of IS NOT NULL AND (p.id IS NULL OR p.phase <> 'pending' OR p.resolved_by IS DISTINCT FROM e.id)
		ORDER BY e.id`},
}

// Check runs every invariant query and collects the violations.
func (t *tx) Check(ctx context.Context) ([]ledger.Violation, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	var out []ledger.Violation
	for _, inv := range invariants {
		rows, err := t.query(ctx, inv.query)
		if err != nil {
			return nil, fmt.Errorf("invariant %s: %w", inv.name, err)
		}
		for rows.Next() {
			v := ledger.Violation{Invariant: inv.name}
			if err := rows.Scan(&v.Subject, &v.Detail); err != nil {
				rows.Close()
				return nil, t.fail(err)
			}
			out = append(out, v)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("invariant %s: %w", inv.name, t.fail(err))
		}
	}
	return out, nil
}
