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

// Queries runs each query through run and collects the violations, the
// queries' in order.
func Queries(queries []Query, run func(query string) (Rows, error)) ([]ledger.Violation, error) {
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

// ReadDerivedPayouts checks payout_composition_derived (DerivedPayouts)
// over the rows of two queries, run one after the other: the automatic
// payouts (id, provider, currency, created) in (created, id) order, then
// the balance transactions whose payout is derived (id, provider,
// currency, available_on, payout_id) in any order. The violations come
// ordered by transaction id.
func ReadDerivedPayouts(payouts, derived func() (Rows, error)) ([]ledger.Violation, error) {
	var check DerivedPayouts
	prows, err := payouts()
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
	rows, err := derived()
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
