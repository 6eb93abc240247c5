package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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

// BalancesAsOf computes posted balances from postings at a point in time.
func (t *tx) BalancesAsOf(ctx context.Context, prefix string, asOf time.Time) ([]ledger.Balance, error) {
	where, args := prefixFilter("a.name", prefix)
	args = append([]any{ts(asOf)}, args...)
	return t.balances(ctx, `SELECT a.name, a.type, p.currency, SUM(p.amount), 0 FROM postings p
		JOIN entries e ON e.id = p.entry_id JOIN accounts a ON a.id = p.account_id
		WHERE e.phase = 'posted' AND e.occurred_at <= ? AND `+where+`
		GROUP BY a.name, a.type, p.currency HAVING SUM(p.amount) <> 0 ORDER BY a.name, p.currency`, args...)
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

// accountNames maps account ids to names.
func (t *tx) accountNames(ctx context.Context) (map[int64]string, error) {
	rows, err := t.query(ctx, `SELECT id, name FROM accounts`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		names[id] = name
	}
	return names, rows.Err()
}
