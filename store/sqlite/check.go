package sqlite

import (
	"context"
	"database/sql"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/internal/invariant"
)

// invariants are SQL queries that return one row per violation: a subject
// and a detail. Each is one of the ledger's invariants (docs/architecture.md).
// Those over an entry's postings and over the links between pending entries
// and the entries that post them are checked by checkEntries, in one pass
// over the entries table; derived payouts and payments by invariant.Check,
// in one pass over each. As queries of their own, each read a large table
// again, the derived payouts each transaction's row joined at a random
// place and refunds_sum each payment's refunds by an index probe: verify of
// a month of a million payments took 15–21 s, 7.5–9.6 s with the passes
// over entries and transactions, 5.2–5.3 s with all of them (BENCHMARKS.md,
// twenty-eighth and twenty-ninth rounds).
var invariants = []invariant.Query{
	{Name: "net_is_amount_minus_fee", SQL: `SELECT 'balance transaction ' || id, 'net ' || net || ' <> amount ' || amount || ' - fee ' || fee
		FROM balance_transactions WHERE net <> amount - fee`},
	// A balance transaction is a row of bt_core and one of bt_settlements
	// (schema.sql, migration 13); the view of them shows only those with
	// both. A transaction without its settlement and one whose settlement
	// names another provider are found in one pass over bt_core (three
	// passes took 1.14 s of a million transactions, two 0.78 s).
	{Name: "balance_transaction_whole", SQL: `SELECT 'balance transaction ' || b.id, CASE WHEN s.id IS NULL
			THEN 'no settlement stored' ELSE 'of ' || b.provider || ' but its settlement says ' || s.provider END
		FROM bt_core b LEFT JOIN bt_settlements s ON s.id = b.id WHERE s.id IS NULL OR s.provider <> b.provider
		UNION ALL SELECT 'balance transaction ' || s.id, 'a settlement stored without the transaction'
		FROM bt_settlements s WHERE NOT EXISTS (SELECT 1 FROM bt_core b WHERE b.id = s.id)`},
	// bt_core alone, not the view: a transaction without its settlement
	// is balance_transaction_whole's, and the join doubled the time.
	{Name: "balance_transaction_has_entry", SQL: `SELECT 'balance transaction ' || b.id, 'entry ' || b.entry_id || ' missing'
		FROM bt_core b LEFT JOIN entries e ON e.id = b.entry_id WHERE e.id IS NULL`},
	{Name: "reversed_once", SQL: `SELECT 'entry ' || reverses, COUNT(*) || ' entries reverse it'
		FROM entries WHERE reverses IS NOT NULL GROUP BY reverses HAVING COUNT(*) > 1`},
	// A converted movement's two sides (ledger/fx.go): another currency,
	// the same direction; a converted payment's booking conversion is
	// checked with the payments (invariant.Payments).
	{Name: "conversion_sides_consistent", SQL: `SELECT 'balance transaction ' || id, 'presented ' || presentment_amount || ' ' || presentment_currency ||
		', settled ' || amount || ' ' || currency
		FROM balance_transactions WHERE presentment_currency <> '' AND (presentment_currency = currency
			OR presentment_amount = 0 OR (presentment_amount < 0) <> (amount < 0))`},
}

// Check checks every invariant and collects the violations
// (invariant.Check). Every query is read in packed batches (rawRows) on
// the transaction's connection.
func (t *tx) Check(ctx context.Context) ([]ledger.Violation, error) {
	if err := t.flushPending(ctx); err != nil {
		return nil, err
	}
	return invariant.Check(invariant.Source{
		Entries: func() ([]ledger.Violation, error) { return t.checkEntries(ctx) },
		Run:     func(query string) (invariant.Rows, error) { return t.rows(ctx, query) },
		// Automatic payouts are few and kept in memory; the derived
		// transactions are read in table order.
		AutomaticPayouts:    `SELECT id, provider, currency, created_at FROM payouts WHERE automatic = 1 ORDER BY created_at, id`,
		DerivedTransactions: `SELECT id, provider, currency, available_on, payout_id FROM bt_settlements NOT INDEXED WHERE payout_derived = 1`,
		// The refunds summed per payment, few; the payments in table order.
		RefundSums: `SELECT payment_id, SUM(amount) FROM refunds GROUP BY payment_id`,
		Payments:   `SELECT id, authorized, captured, refunded, disputed, currency, settlement_currency, settled FROM payments`,
		Queries:    invariants,
	})
}

// checkEntries checks, in one pass over the entries, the invariants over
// their postings, the stored balances and the links between pending
// entries and the entries that post them (invariant.Entries).
func (t *tx) checkEntries(ctx context.Context) ([]ledger.Violation, error) {
	accounts, err := t.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	check := invariant.NewEntries(accounts)
	banks, err := t.bankLedgerAccounts(ctx)
	if err != nil {
		return nil, err
	}
	check.BankAccounts(banks)
	rows, err := t.rows(ctx, `SELECT id, phase, resolution, resolved_by, pending_of, postings, bank FROM entries ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []rawPosting
	var e invariant.Entry
	for rows.Next() {
		var col string
		var resolvedBy, pendingOf sql.NullInt64
		if err := rows.Scan(&e.ID, &e.Phase, &e.Resolution, &resolvedBy, &pendingOf, &col, &e.Bank); err != nil {
			return nil, err
		}
		e.ResolvedBy, e.PendingOf = resolvedBy.Int64, pendingOf.Int64
		if ps, err = decodePostings(col, ps[:0]); err != nil {
			check.Malformed(&e, err.Error())
			continue
		}
		e.Postings = e.Postings[:0]
		for _, p := range ps {
			e.Postings = append(e.Postings, invariant.Posting{Account: p.account, Currency: p.currency, Amount: p.amount})
		}
		if err := check.Add(&e); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()

	brows, err := t.q.QueryContext(ctx, `SELECT account_id, currency, posted, pending FROM balances`)
	if err != nil {
		return nil, err
	}
	stored, err := invariant.ReadBalances(brows)
	if err != nil {
		return nil, err
	}
	return check.Violations(stored), nil
}
