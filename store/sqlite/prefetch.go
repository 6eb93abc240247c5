package sqlite

import (
	"context"

	"github.com/settlehq/settle/ledger"
)

var _ ledger.Prefetcher = (*tx)(nil)

// Prefetch reads, a few hundred at a time, the stored requests under keys
// and the payments ids names, so that the operations about to run find them
// (or find them missing) without asking the database one at a time. Only a
// write transaction remembers them; what it already knows is not read
// again. The entries those operations write are keyed by their requests'
// keys, so it also notes which of keys no entry has (fresh.go).
func (t *tx) Prefetch(ctx context.Context, keys, ids []string) error {
	if !t.write {
		return nil
	}
	if err := t.prefetchRequests(ctx, keys); err != nil {
		return err
	}
	if err := t.prefetchEntryKeys(ctx, keys); err != nil {
		return err
	}
	return t.prefetchPayments(ctx, ids)
}

// prefetchEntryKeys looks up which of keys no stored entry has, unless the
// entries' table was empty when the transaction began (then none is
// asked), and notes them absent.
func (t *tx) prefetchEntryKeys(ctx context.Context, keys []string) error {
	t.freshEntries.noteAbsent(nil)
	ask := make([]string, 0, len(keys))
	for _, k := range keys {
		if gone, err := t.freshEntries.missing(ctx, t, anyEntry, k); err != nil {
			return err
		} else if !gone {
			ask = append(ask, k)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	absent := make(map[string]bool, len(ask))
	for _, k := range ask {
		absent[k] = true
	}
	err := chunkArgs(ask, func(args []any) error {
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
			delete(absent, k)
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	gone := make([]string, 0, len(absent))
	for k := range absent {
		gone = append(gone, k)
	}
	t.freshEntries.noteAbsent(gone)
	return nil
}

func (t *tx) prefetchRequests(ctx context.Context, keys []string) error {
	t.prefetched = make(map[string]*ledger.Request, len(keys))
	ask := make([]string, 0, len(keys))
	for _, k := range keys {
		if _, mine := t.requestIdx[k]; mine {
			continue
		}
		t.prefetched[k] = nil // missing, unless the query finds it
		if gone, err := t.freshRequests.missing(ctx, t, anyRequest, k); err != nil {
			return err
		} else if !gone {
			ask = append(ask, k)
		}
	}
	return chunkArgs(ask, func(args []any) error {
		rows, err := t.query(ctx, `SELECT `+requestCols+` FROM requests WHERE key IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRequest(rows)
			if err != nil {
				return err
			}
			t.prefetched[r.Key] = r
		}
		return rows.Err()
	})
}

func (t *tx) prefetchPayments(ctx context.Context, ids []string) error {
	missing := make(map[string]bool, len(ids))
	ask := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, known := t.payments.get(id); known || id == "" || missing[id] {
			continue
		}
		missing[id] = true
		if gone, err := t.freshPayments.missing(ctx, t, anyPayment, id); err != nil {
			return err
		} else if !gone {
			ask = append(ask, id)
		}
	}
	err := chunkArgs(ask, func(args []any) error {
		return t.eachPayment(ctx, `id IN (`+placeholders(len(args))+`)`, args, func(p *ledger.Payment) error {
			t.cachePayment(p.ID, p)
			delete(missing, p.ID)
			return nil
		})
	})
	if err != nil {
		return err
	}
	for id := range missing {
		t.cachePayment(id, nil)
	}
	return nil
}

// padded fills vs up to a power of two with empty strings (no request key,
// payment id or balance transaction id is empty), so that the statements of
// the IN (…) lookups come in a few sizes rather than one per length.
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
