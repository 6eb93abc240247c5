package sqlite

import (
	"context"
	"database/sql"
	"slices"

	"github.com/settlehq/settle/ledger"
)

var _ ledger.Prefetcher = (*tx)(nil)

// Prefetch reads, a few hundred at a time, the stored requests under the
// keys ahead and the payments, disputes and payouts named, so that the
// operations about to run find them (or find them missing) without asking
// the database one at a time. Of the entries those operations book (keyed
// by their requests' keys) and the refunds they name it notes which are
// not stored (fresh.go). Only a write transaction remembers them; what it
// already knows is not read again.
func (t *tx) Prefetch(ctx context.Context, a ledger.Ahead) error {
	if !t.write {
		return nil
	}
	if err := t.prefetchRequests(ctx, a.Keys); err != nil {
		return err
	}
	keyOnly := func(rows *sql.Rows) (string, error) {
		var k string
		err := rows.Scan(&k)
		return k, err
	}
	if err := t.lookupAbsent(ctx, &t.freshEntries, anyEntry, `SELECT key FROM entries WHERE key`, a.Keys, keyOnly); err != nil {
		return err
	}
	if err := t.lookupAbsent(ctx, &t.freshRefunds, anyRefund, `SELECT id FROM refunds WHERE id`, a.Refunds, keyOnly); err != nil {
		return err
	}
	disputes := slices.DeleteFunc(slices.Clone(a.Disputes), func(id string) bool { _, known := t.disputes[id]; return known })
	err := t.lookupAbsent(ctx, &t.freshDisputes, anyDispute, `SELECT `+disputeCols+` FROM disputes WHERE id`, disputes,
		func(rows *sql.Rows) (string, error) {
			d, err := scanDispute(rows)
			if err == nil {
				t.rememberDispute(d)
			}
			return d.ID, err
		})
	if err != nil {
		return err
	}
	payouts := slices.DeleteFunc(slices.Clone(a.Payouts), func(id string) bool { _, known := t.payouts[id]; return known })
	err = t.lookupAbsent(ctx, &t.freshPayouts, anyPayout, `SELECT `+payoutCols+` FROM payouts WHERE id`, payouts,
		func(rows *sql.Rows) (string, error) {
			p, err := scanPayout(rows)
			if err == nil {
				t.rememberPayout(p.ID, p)
			}
			return p.ID, err
		})
	if err != nil {
		return err
	}
	return t.prefetchPayments(ctx, a.Payments)
}

// lookupAbsent looks up which of keys the table f describes does not hold,
// and notes those absent in f. A table that was empty when the transaction
// first looked is not asked: it answers from the keys the transaction
// wrote (fresh.go). The lookup is query (ending in the key's column) with an
// IN (…) list of keys; scan reads one of its rows and returns the row's key.
func (t *tx) lookupAbsent(ctx context.Context, f *freshness, anyRow, query string, keys []string,
	scan func(*sql.Rows) (string, error)) error {
	f.noteAbsent(nil)
	var ask []string
	for _, k := range keys {
		if k == "" {
			continue
		}
		gone, err := f.missing(ctx, t, anyRow, k) // the first call looks at the table
		if err != nil {
			return err
		}
		if f.empty {
			return nil
		}
		if !gone {
			ask = append(ask, k)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	slices.Sort(ask)
	ask = slices.Compact(ask)
	stored := make(map[string]bool)
	err := chunkArgs(ask, func(args []any) error {
		rows, err := t.query(ctx, query+` IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scan(rows)
			if err != nil {
				return err
			}
			stored[k] = true
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	f.noteAbsent(slices.DeleteFunc(ask, func(k string) bool { return stored[k] }))
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
