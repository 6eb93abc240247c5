package postgres

import (
	"context"

	"github.com/settlehq/settle/ledger"
)

// BalanceTransactionsByID returns the balance transactions of ids, locking
// them in a write transaction as BalanceTransaction does.
func (t *tx) BalanceTransactionsByID(ctx context.Context, ids []string) (map[string]*ledger.BalanceTransaction, error) {
	out := make(map[string]*ledger.BalanceTransaction, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []btRow
	if err := t.selectAll(ctx, &rows, `SELECT `+btCols+` FROM {schema}.balance_transactions WHERE id = ANY($1)
		ORDER BY id COLLATE "C"`+t.lockClause(), ids); err != nil {
		return nil, err
	}
	for i := range rows {
		b, err := rows[i].bt()
		if err != nil {
			return nil, err
		}
		out[b.ID] = b
	}
	return out, nil
}

// StoredEntryKeys reports which of keys are stored.
func (t *tx) StoredEntryKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var found []string
	if err := t.selectAll(ctx, &found, `SELECT key FROM {schema}.entries WHERE key = ANY($1)`, keys); err != nil {
		return nil, err
	}
	for _, k := range found {
		out[k] = true
	}
	return out, nil
}

// SetSettlements applies settlement changes in one statement.
func (t *tx) SetSettlements(ctx context.Context, cs []ledger.SettlementChange) error {
	if len(cs) == 0 {
		return nil
	}
	ids, payouts, statuses := make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs))
	avail, estimated := make([]int64, len(cs)), make([]bool, len(cs))
	for i, c := range cs {
		a, err := storeTS("available_on", c.AvailableOn)
		if err != nil {
			return err
		}
		ids[i], avail[i], estimated[i], payouts[i], statuses[i] = c.ID, a, c.Estimated, c.PayoutID, c.Status
	}
	_, err := t.exec(ctx, `UPDATE {schema}.balance_transactions AS b SET available_on = v.available_on,
		available_on_estimated = v.estimated, payout_id = v.payout_id, status = v.status
		FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::text[], $5::text[]) AS v(id, available_on, estimated, payout_id, status)
		WHERE b.id = v.id`, ids, avail, estimated, payouts, statuses)
	return err
}
