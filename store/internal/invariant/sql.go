package invariant

import (
	"fmt"
	"slices"
	"strings"

	"github.com/settlehq/settle/ledger"
)

// Rows are the rows of one query, as *sql.Rows gives them (and the SQLite
// store's packed rows).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Query is an invariant checked in SQL: each row is one violation, a
// subject and a detail.
type Query struct{ Name, SQL string }

// Source is what a store's Check hands to Check: its own pass over the
// entries (each store keeps postings in its own form), a way to run a
// query, and the text of the queries Check runs.
type Source struct {
	// Entries checks the entries, the stored balances and the pending
	// links (Entries, ReadBalances).
	Entries func() ([]ledger.Violation, error)
	// Run runs a query.
	Run func(query string) (Rows, error)
	// AutomaticPayouts selects the automatic payouts' id, provider,
	// currency and time created, in (created, id) order;
	// DerivedTransactions the id, provider, currency, available_on and
	// payout_id of each balance transaction whose payout is derived.
	AutomaticPayouts, DerivedTransactions string
	// RefundSums selects each payment id of the refunds and their sum;
	// Payments each payment's id, authorized, captured, refunded,
	// disputed, currency, settlement_currency and settled.
	RefundSums, Payments string
	// Queries are the invariants checked in SQL.
	Queries []Query
}

// Check checks every invariant, in one order on every store: the entries'
// (Source.Entries), the derived payouts', the payments' first four, those
// checked in SQL, then the converted payments' side of
// conversion_sides_consistent after its transactions' side.
func Check(s Source) ([]ledger.Violation, error) {
	out, err := s.Entries()
	if err != nil {
		return nil, err
	}
	derived, err := readDerivedPayouts(s.Run, s.AutomaticPayouts, s.DerivedTransactions)
	if err != nil {
		return nil, err
	}
	payments, conversions, err := readPayments(s.Run, s.RefundSums, s.Payments)
	if err != nil {
		return nil, err
	}
	queried, err := queries(s.Queries, s.Run)
	if err != nil {
		return nil, err
	}
	out = append(append(append(out, derived...), payments...), queried...)
	return append(out, conversions...), nil
}

// queries runs each query through run and collects the violations, the
// queries' in order.
func queries(queries []Query, run func(query string) (Rows, error)) ([]ledger.Violation, error) {
	var out []ledger.Violation
	for _, q := range queries {
		rows, err := run(q.SQL)
		if err != nil {
			return nil, fmt.Errorf("invariant %s: %w", q.Name, err)
		}
		for rows.Next() {
			v := ledger.Violation{Invariant: q.Name}
			if err := rows.Scan(&v.Subject, &v.Detail); err != nil {
				rows.Close()
				return nil, fmt.Errorf("invariant %s: %w", q.Name, err)
			}
			out = append(out, v)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("invariant %s: %w", q.Name, err)
		}
	}
	return out, nil
}

// ReadBalances reads stored balances from rows of (account id, currency,
// posted, pending), and closes them.
func ReadBalances(rows Rows) ([]Balance, error) {
	defer rows.Close()
	var out []Balance
	for rows.Next() {
		var b Balance
		if err := rows.Scan(&b.Account, &b.Currency, &b.Posted, &b.Pending); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// readDerivedPayouts checks payout_composition_derived (DerivedPayouts)
// over the rows of two queries, run one after the other: the automatic
// payouts, then the balance transactions whose payout is derived, in any
// order (Source). The violations come ordered by transaction id.
func readDerivedPayouts(run func(query string) (Rows, error), payouts, derived string) ([]ledger.Violation, error) {
	var check DerivedPayouts
	prows, err := run(payouts)
	if err != nil {
		return nil, err
	}
	defer prows.Close()
	for prows.Next() {
		var id, prov, cur string
		var created int64
		if err := prows.Scan(&id, &prov, &cur, &created); err != nil {
			return nil, err
		}
		check.AddPayout(id, prov, cur, created)
	}
	if err := prows.Err(); err != nil {
		return nil, err
	}
	prows.Close()
	rows, err := run(derived)
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
		if v, ok := check.Check(id, prov, cur, on, payoutID); ok {
			out = append(out, v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b ledger.Violation) int { return strings.Compare(a.Subject, b.Subject) })
	return out, nil
}
