package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/settlehq/settle/ledger"
)

// prefixFilter matches an account name or its subaccounts.
func prefixFilter(col, prefix string) (string, []any) {
	if prefix == "" {
		return "1 = 1", nil
	}
	return fmt.Sprintf("(%s = ? OR substr(%s, 1, ?) = ?)", col, col), []any{prefix, len(prefix) + 1, prefix + ":"}
}

// Balances returns maintained balances.
func (t *tx) Balances(ctx context.Context, prefix string) ([]ledger.Balance, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	where, args := prefixFilter("a.name", prefix)
	return t.balances(ctx, `SELECT a.name, a.type, b.currency, b.posted, b.pending FROM balances b
		JOIN accounts a ON a.id = b.account_id WHERE `+where+` AND (b.posted <> 0 OR b.pending <> 0)
		ORDER BY a.name, b.currency`, args...)
}

// BalancesAsOf sums the postings of the posted entries that occurred at
// or before asOf. Where fewer entries occurred after asOf than before it
// (balancesFromEnd), it starts from the maintained balances and takes off
// the postings after asOf instead: a month's close asked for a few days
// after it reads those days, not every month before, and a time at or
// after the last entry (the nightly job's trial balance) reads none, only
// the balances (at a few million entries, 2 s become a millisecond).
func (t *tx) BalancesAsOf(ctx context.Context, prefix string, asOf time.Time) ([]ledger.Balance, error) {
	fromEnd, err := t.balancesFromEnd(ctx, asOf)
	if err != nil {
		return nil, err
	}
	sums := map[balKey]int64{}
	query, sign := `SELECT postings FROM entries WHERE phase = 'posted' AND occurred_at <= ?`, int64(1)
	if fromEnd {
		// The transaction's own balance changes are written first, as
		// Balances does: inside a write the table lags them.
		if err := t.flush(ctx); err != nil {
			return nil, err
		}
		rows, err := t.query(ctx, `SELECT account_id, currency, posted FROM balances WHERE posted <> 0`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k balKey
			var posted int64
			if err := rows.Scan(&k.account, &k.currency, &posted); err != nil {
				rows.Close()
				return nil, err
			}
			sums[k] = posted
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		query, sign = `SELECT postings FROM entries WHERE phase = 'posted' AND occurred_at > ?`, -1
	}
	rows, err := t.query(ctx, query, ts(asOf))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []rawPosting
	var col string
	for rows.Next() {
		if err := rows.Scan(&col); err != nil {
			return nil, err
		}
		if ps, err = decodePostings(col, ps[:0]); err != nil {
			return nil, err
		}
		for _, p := range ps {
			k := balKey{p.account, p.currency}
			if sums[k], err = ledger.AddMinor(sums[k], sign*p.amount); err != nil {
				return nil, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	accounts, err := t.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]ledger.Account, len(accounts))
	for _, a := range accounts {
		byID[a.ID] = a
	}
	var out []ledger.Balance
	for k, sum := range sums {
		a, ok := byID[k.account]
		if !ok {
			return nil, fmt.Errorf("postings name account %d: %w", k.account, ledger.ErrNotFound)
		}
		if sum != 0 && underAccount(a.Name, prefix) {
			out = append(out, ledger.Balance{Account: a.Name, Type: a.Type, Currency: k.currency, Posted: sum})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		return out[i].Currency < out[j].Currency
	})
	return out, nil
}

// balancesFromEnd reports whether fewer entries occurred after asOf than
// before it. The entries after are counted through the time index, up to
// half of all (the largest id): index keys, not the postings read and
// decoded for the sums, and never more than half of them.
func (t *tx) balancesFromEnd(ctx context.Context, asOf time.Time) (bool, error) {
	var total sql.NullInt64
	if err := t.queryRow(ctx, `SELECT MAX(id) FROM entries`).Scan(&total); err != nil {
		return false, err
	}
	half := total.Int64 / 2
	var after int64
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM entries WHERE occurred_at > ? LIMIT ?)`, ts(asOf), half).
		Scan(&after); err != nil {
		return false, err
	}
	return after < half, nil
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
			return nil, err
		}
		b.Type = ledger.AccountType(typ)
		out = append(out, b)
	}
	return out, rows.Err()
}

// Accounts lists every account by name.
func (t *tx) Accounts(ctx context.Context) ([]ledger.Account, error) {
	rows, err := t.query(ctx, `SELECT id, name, type, metadata FROM accounts ORDER BY name`)
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
			return nil, err
		}
		a.Type = ledger.AccountType(typ)
		if a.Metadata, err = fromMeta(md); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
