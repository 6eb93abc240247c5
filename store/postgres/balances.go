package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/settlehq/settle/ledger"
)

// prefixFilter matches an account name or its subaccounts; $1 and $2 are
// the name and the name followed by ':'. Names sort bytewise (COLLATE "C"),
// as Go and the SQLite store sort them.
const prefixFilter = `($1 = '' OR a.name = $1 OR starts_with(a.name, $2))`

// Balances returns maintained balances.
func (t *tx) Balances(ctx context.Context, prefix string) ([]ledger.Balance, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.balances(ctx, `SELECT a.name, a.type, b.currency, b.posted, b.pending FROM {schema}.balances b
		JOIN {schema}.accounts a ON a.id = b.account_id WHERE `+prefixFilter+` AND (b.posted <> 0 OR b.pending <> 0)
		ORDER BY a.name COLLATE "C", b.currency COLLATE "C"`, prefix, prefix+":")
}

// BalancesAsOf sums in SQL the postings of the posted entries that
// occurred at or before asOf. A sum beyond 64 bits fails the cast
// (ledger.ErrInvalidAmount) rather than wrapping. Where fewer entries
// occurred after asOf than before it, the postings after it are taken off
// the maintained balances instead, as the SQLite store does: a month's
// close asked for a few days after it reads those days, and a time at or
// after the last entry reads only the balances.
func (t *tx) BalancesAsOf(ctx context.Context, prefix string, asOf time.Time) ([]ledger.Balance, error) {
	// Fewer entries after asOf than before: counted through the time
	// index, up to half of all (the largest id), as the SQLite store does.
	var total sql.NullInt64
	if err := t.queryRow(ctx, `SELECT MAX(id) FROM {schema}.entries`).Scan(&total); err != nil {
		return nil, t.fail(err)
	}
	half := total.Int64 / 2
	var after int64
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM {schema}.entries WHERE occurred_at > $1 LIMIT $2) x`,
		ts(asOf), half).Scan(&after); err != nil {
		return nil, t.fail(err)
	}
	if after < half {
		if err := t.flush(ctx); err != nil {
			return nil, err
		}
		// An account whose postings of one transaction summed to nothing
		// has no maintained row (balanceUpsert skips a zero change), yet a
		// balance before that transaction's end: the later postings are
		// added in as rows of their own, not joined to the stored ones.
		return t.balances(ctx, `SELECT a.name, a.type, x.currency, SUM(x.amount)::bigint, 0::bigint
			FROM (SELECT account_id, currency, posted AS amount FROM {schema}.balances WHERE posted <> 0
				UNION ALL
				SELECT p.account_id, p.currency, -p.amount
				FROM {schema}.entries e CROSS JOIN LATERAL unnest(e.account_ids, e.currencies, e.amounts) AS p (account_id, currency, amount)
				WHERE e.phase = 'posted' AND e.occurred_at > $3) x
			JOIN {schema}.accounts a ON a.id = x.account_id
			WHERE `+prefixFilter+`
			GROUP BY a.name, a.type, x.currency HAVING SUM(x.amount) <> 0
			ORDER BY a.name COLLATE "C", x.currency COLLATE "C"`, prefix, prefix+":", ts(asOf))
	}
	return t.balances(ctx, `SELECT a.name, a.type, p.currency, SUM(p.amount)::bigint, 0::bigint
		FROM {schema}.entries e CROSS JOIN LATERAL unnest(e.account_ids, e.currencies, e.amounts) AS p (account_id, currency, amount)
		JOIN {schema}.accounts a ON a.id = p.account_id
		WHERE e.phase = 'posted' AND e.occurred_at <= $3 AND `+prefixFilter+`
		GROUP BY a.name, a.type, p.currency HAVING SUM(p.amount) <> 0
		ORDER BY a.name COLLATE "C", p.currency COLLATE "C"`, prefix, prefix+":", ts(asOf))
}

func (t *tx) balances(ctx context.Context, query string, args ...any) ([]ledger.Balance, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.Balance
	for rows.Next() {
		var b ledger.Balance
		var typ string
		if err := rows.Scan(&b.Account, &typ, &b.Currency, &b.Posted, &b.Pending); err != nil {
			return nil, t.fail(err)
		}
		b.Type = ledger.AccountType(typ)
		out = append(out, b)
	}
	return out, t.fail(rows.Err())
}

// Accounts lists every account by name.
func (t *tx) Accounts(ctx context.Context) ([]ledger.Account, error) {
	rows, err := t.query(ctx, `SELECT id, name, type, metadata FROM {schema}.accounts ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.Account
	for rows.Next() {
		var a ledger.Account
		var typ string
		var md sql.NullString
		if err := rows.Scan(&a.ID, &a.Name, &typ, &md); err != nil {
			return nil, t.fail(err)
		}
		a.Type = ledger.AccountType(typ)
		if a.Metadata, err = fromMeta(md); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, t.fail(rows.Err())
}
