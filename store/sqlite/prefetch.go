package sqlite

import (
	"context"
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
	if err := t.lookupAbsent(ctx, &t.freshEntries, anyEntry, a.Keys, t.StoredEntryKeys); err != nil {
		return err
	}
	err := t.lookupAbsent(ctx, &t.freshRefunds, anyRefund, a.Refunds, func(ctx context.Context, ids []string) (map[string]bool, error) {
		return t.storedIn(ctx, `SELECT id FROM refunds WHERE id`, ids, func(sc scanner) (string, error) {
			var id string
			return id, sc.Scan(&id)
		})
	})
	if err != nil {
		return err
	}
	disputes := slices.DeleteFunc(slices.Clone(a.Disputes), func(id string) bool { _, known := t.disputes[id]; return known })
	err = t.lookupAbsent(ctx, &t.freshDisputes, anyDispute, disputes, func(ctx context.Context, ids []string) (map[string]bool, error) {
		return t.storedIn(ctx, `SELECT `+disputeCols+` FROM disputes WHERE id`, ids, func(sc scanner) (string, error) {
			d, err := scanDispute(sc)
			if err == nil {
				t.rememberDispute(d)
			}
			return d.ID, err
		})
	})
	if err != nil {
		return err
	}
	payouts := slices.DeleteFunc(slices.Clone(a.Payouts), func(id string) bool { _, known := t.payouts[id]; return known })
	err = t.lookupAbsent(ctx, &t.freshPayouts, anyPayout, payouts, func(ctx context.Context, ids []string) (map[string]bool, error) {
		return t.storedIn(ctx, `SELECT `+payoutCols+` FROM payouts WHERE id`, ids, func(sc scanner) (string, error) {
			p, err := scanPayout(sc)
			if err == nil {
				t.rememberPayout(p.ID, p)
			}
			return p.ID, err
		})
	})
	if err != nil {
		return err
	}
	// A dispute's close names the dispute, not its payment, which the
	// close reads: those are read with the rest.
	payments := a.Payments
	if len(a.Disputes) > 0 {
		payments = slices.Clone(payments) // a's, not to be appended to
	}
	for _, id := range a.Disputes {
		if d := t.disputes[id]; d != nil {
			payments = append(payments, d.PaymentID)
		}
	}
	return t.prefetchPayments(ctx, payments)
}

// lookupAbsent notes in f which of keys the table f describes does not
// hold, as stored (given the keys to ask, sorted and distinct) reports the
// stored ones. A table that was empty when the transaction first looked is
// not asked: it answers from the keys the transaction wrote (fresh.go).
func (t *tx) lookupAbsent(ctx context.Context, f *freshness, anyRow string, keys []string,
	stored func(context.Context, []string) (map[string]bool, error)) error {
	f.noteAbsent(nil)
	ask := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "" })
	if len(ask) == 0 {
		return nil
	}
	if _, err := f.missing(ctx, t, anyRow, ask[0]); err != nil { // the first call looks at the table
		return err
	}
	if f.empty {
		return nil
	}
	slices.Sort(ask)
	ask = slices.Compact(ask)
	found, err := stored(ctx, ask)
	if err != nil {
		return err
	}
	f.noteAbsent(slices.DeleteFunc(ask, func(k string) bool { return found[k] }))
	return nil
}

// storedIn runs query, which ends in a key column, with an IN (…) list of
// keys, lookupChunk keys a statement, reads each row with scan, and returns
// the keys of the rows found.
func (t *tx) storedIn(ctx context.Context, query string, keys []string, scan func(scanner) (string, error)) (map[string]bool, error) {
	found := map[string]bool{}
	err := chunkArgs(keys, func(args []any) error {
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
			found[k] = true
		}
		return rows.Err()
	})
	return found, err
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
	keep := func(sc scanner) (string, error) {
		r, err := scanRequest(sc)
		if err != nil {
			return "", err
		}
		t.prefetched[r.Key] = r
		return r.Key, nil
	}
	_, err := t.storedIn(ctx, `SELECT `+requestCols+` FROM requests WHERE key`, ask, keep)
	if err == nil {
		_, err = t.storedIn(ctx, `SELECT `+requestByEntryCols+` FROM entries e JOIN request_entries q ON q.entry_id = e.id WHERE e.key`, ask, keep)
	}
	return err
}

func (t *tx) prefetchPayments(ctx context.Context, ids []string) error {
	missing := make(map[string]bool, len(ids))
	ask := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, known := t.payments.get(id); known || t.held[id] != nil || id == "" || missing[id] {
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
		return t.eachPayment(ctx, t.beforePayments, `id IN (`+placeholders(len(args))+`)`, args, func(p *ledger.Payment) error {
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
