package sqlite

import (
	"context"

	"github.com/settlehq/settle/ledger"
)

var _ ledger.Prefetcher = (*tx)(nil)

// Prefetch reads, in one query each, the stored requests under keys and
// the payments ids names, so that the operations about to run find them
// (or find them missing) without asking the database one at a time. Only a
// write transaction remembers them; what it already knows is not read
// again.
func (t *tx) Prefetch(ctx context.Context, keys, ids []string) error {
	if !t.write {
		return nil
	}
	t.prefetched = make(map[string]*ledger.Request, len(keys))
	var ask []any
	for _, k := range keys {
		if _, mine := t.requestIdx[k]; !mine {
			t.prefetched[k] = nil
			ask = append(ask, k)
		}
	}
	if len(ask) > 0 {
		ask = padded(ask)
		rows, err := t.query(ctx, `SELECT key, operation, hash, result, created_at FROM requests WHERE key IN (`+
			placeholders(len(ask))+`)`, ask...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r ledger.Request
			var created int64
			if err := rows.Scan(&r.Key, &r.Operation, &r.Hash, &r.Result, &created); err != nil {
				return err
			}
			r.CreatedAt = fromTS(created)
			t.prefetched[r.Key] = &r
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
	}
	ask = ask[:0]
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if _, known := t.payments[id]; !known && id != "" && !seen[id] {
			seen[id] = true
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	ask = padded(ask)
	rows, err := t.query(ctx, `SELECT `+paymentCols+` FROM payments WHERE id IN (`+placeholders(len(ask))+`)`, ask...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return err
		}
		t.cachePayment(p.ID, p)
		delete(seen, p.ID)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for id := range seen {
		t.cachePayment(id, nil)
	}
	return nil
}

// padded fills vs up to a power of two with empty strings (no request key
// or payment id is empty), so that the statements prepared for Prefetch come
// in a few sizes rather than one per length.
func padded(vs []any) []any {
	n := 1
	for n < len(vs) {
		n *= 2
	}
	for len(vs) < n {
		vs = append(vs, "")
	}
	return vs
}
