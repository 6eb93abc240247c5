package sqlite

import (
	"context"
	"strings"

	"github.com/settlehq/settle/ledger"
)

// lookupChunk is how many ids one IN (…) lookup carries.
const lookupChunk = 256

// chunkArgs calls fn with the values of vs, lookupChunk at a time, padded
// (see padded) so that few statement sizes are prepared.
func chunkArgs(vs []string, fn func(args []any) error) error {
	for start := 0; start < len(vs); start += lookupChunk {
		part := vs[start:min(start+lookupChunk, len(vs))]
		args := make([]any, len(part), lookupChunk)
		for i, v := range part {
			args[i] = v
		}
		if err := fn(padded(args)); err != nil {
			return err
		}
	}
	return nil
}

// BalanceTransactionsByID returns the balance transactions of ids.
func (t *tx) BalanceTransactionsByID(ctx context.Context, ids []string) (map[string]*ledger.BalanceTransaction, error) {
	out := make(map[string]*ledger.BalanceTransaction, len(ids))
	err := chunkArgs(ids, func(args []any) error {
		return t.eachBT(ctx, `id IN (`+placeholders(len(args))+`)`, args, func(b *ledger.BalanceTransaction) error {
			out[b.ID] = b
			return nil
		})
	})
	return out, err
}

// StoredEntryKeys reports which of keys are stored: a read of the key
// index alone, not of the entries.
func (t *tx) StoredEntryKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	err := chunkArgs(keys, func(args []any) error {
		rows, err := t.query(ctx, `SELECT key FROM entries WHERE key IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			out[k] = true
		}
		return rows.Err()
	})
	return out, err
}

// settlementChunk is how many balance transactions one UPDATE changes.
const settlementChunk = 128

// SetSettlements applies settlement changes, settlementChunk a statement.
func (t *tx) SetSettlements(ctx context.Context, cs []ledger.SettlementChange) error {
	var p params
	for start := 0; start < len(cs); start += settlementChunk {
		chunk := cs[start:min(start+settlementChunk, len(cs))]
		p.reset()
		for _, c := range chunk {
			avail, err := storeTS("available_on", c.AvailableOn)
			if err != nil {
				return err
			}
			p.text(c.ID)
			p.int(avail)
			if c.Estimated {
				p.int(1)
			} else {
				p.int(0)
			}
			p.text(c.PayoutID)
			p.text(c.Status)
		}
		tuples := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)), ", ")
		_, err := t.s.execParams(ctx, `UPDATE balance_transactions SET available_on = v.column2,
			available_on_estimated = v.column3, payout_id = v.column4, status = v.column5
			FROM (VALUES `+tuples+`) AS v WHERE balance_transactions.id = v.column1`, &p)
		if err != nil {
			return translate(err)
		}
	}
	return nil
}
