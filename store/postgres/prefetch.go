package postgres

import (
	"context"
	"database/sql"
	"slices"

	"github.com/settlehq/settle/ledger"
)

var _ ledger.Prefetcher = (*tx)(nil)

// Prefetch reads ahead, in a write transaction, what the next operations of
// a batch will look up one at a time (ledger.Prefetcher): a recorded feed
// asked the server two questions an event, its request key and its
// payment, each a round trip.
//
// The keys not stored yet are claimed in one statement, as Request claims
// one (a placeholder row that a concurrent transaction looking up the same
// key waits on), in key order so that two transactions claiming at once
// take their locks in the same order; the stored ones are read in a second.
// The payments are read and locked in one statement, as Payment locks one.
// What was read ahead is answered once: Payment hands a payment over and
// forgets it (a second lookup asks the server, and sees this transaction's
// writes), SavePayment and SaveRequest forget what they change, and a
// nested transaction that rolls back forgets everything read ahead, since
// its rollback lets go of the locks and claims taken inside it. The
// refunds, disputes and payouts named are not read ahead: a feed names few.
func (t *tx) Prefetch(ctx context.Context, ahead ledger.Ahead) error {
	if !t.write {
		return nil
	}
	if err := t.prefetchRequests(ctx, ahead.Keys); err != nil {
		return err
	}
	return t.prefetchPayments(ctx, ahead.Payments)
}

func (t *tx) prefetchRequests(ctx context.Context, keys []string) error {
	ask := make([]string, 0, len(keys))
	for _, k := range keys {
		_, known := t.aheadRequests[k]
		_, saved := t.saved[k]
		if !known && !saved && !t.claims[k] {
			ask = append(ask, k)
		}
	}
	slices.Sort(ask)
	ask = slices.Compact(ask)
	if len(ask) == 0 {
		return nil
	}
	rows, err := t.query(ctx, `INSERT INTO {schema}.requests (key, operation, hash, result, created_at)
		SELECT k, '', '', '', 0 FROM unnest($1::text[]) AS k ORDER BY k
		ON CONFLICT (key) DO NOTHING RETURNING key`, ask)
	if err != nil {
		return err
	}
	claimed := make(map[string]bool, len(ask))
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return t.fail(err)
		}
		claimed[k] = true
		t.claims[k] = true
	}
	if err := rows.Close(); err != nil {
		return t.fail(err)
	}
	if err := rows.Err(); err != nil {
		return t.fail(err)
	}
	stored := make([]string, 0, len(ask)-len(claimed))
	for _, k := range ask {
		if !claimed[k] {
			stored = append(stored, k)
		}
	}
	if len(stored) == 0 {
		return nil
	}
	rows, err = t.query(ctx, `SELECT `+requestCols+` FROM {schema}.requests WHERE key = ANY($1) AND operation <> ''`, stored)
	if err != nil {
		return err
	}
	defer rows.Close()
	if t.aheadRequests == nil {
		t.aheadRequests = make(map[string]*ledger.Request, len(stored))
	}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return t.fail(err)
		}
		t.aheadRequests[r.Key] = r
	}
	return t.fail(rows.Err())
}

func (t *tx) prefetchPayments(ctx context.Context, ids []string) error {
	ask := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, known := t.aheadPayments[id]; !known && id != "" && !t.isLocked("payment", id) {
			ask = append(ask, id)
		}
	}
	slices.Sort(ask)
	ask = slices.Compact(ask)
	if len(ask) == 0 {
		return nil
	}
	var rows []paymentRow
	if err := t.selectAll(ctx, &rows, `SELECT `+paymentCols+` FROM {schema}.payments WHERE id = ANY($1)
		ORDER BY id COLLATE "C"`+t.lockClause(), ask); err != nil {
		return err
	}
	if t.aheadPayments == nil {
		t.aheadPayments = make(map[string]*paymentRow, len(ask))
	}
	for _, id := range ask {
		t.aheadPayments[id] = nil // missing, unless read
	}
	for i := range rows {
		r := &rows[i]
		t.aheadPayments[r.ID] = r
		t.markLocked("payment", r.ID)
	}
	return nil
}

// aheadPayment answers Payment, once, for a payment read ahead.
func (t *tx) aheadPayment(id string) (*ledger.Payment, bool, error) {
	r, ok := t.aheadPayments[id]
	if !ok {
		return nil, false, nil
	}
	delete(t.aheadPayments, id)
	if r == nil {
		return nil, true, t.notFound("payment", id, sql.ErrNoRows)
	}
	p, err := r.payment()
	return p, true, err
}

// forgetAhead drops what was read ahead: after a nested transaction rolled
// back, what was read inside it is no longer locked or claimed.
func (t *tx) forgetAhead() {
	clear(t.aheadRequests)
	clear(t.aheadPayments)
}
