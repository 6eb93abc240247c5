package ledger

import (
	"context"
	"fmt"
	"time"
)

// MakeAvailable moves every pending charge whose available_on has come from
// assets:P:pending to assets:P:available and marks it available. It returns
// how many balance transactions it made available. The scheduler calls it.
func (l *Ledger) MakeAvailable(ctx context.Context, asOf time.Time) (int, error) {
	n := 0
	err := l.store.Update(ctx, func(tx Tx) error {
		var err error
		n, err = l.makeAvailable(ctx, tx, asOf.UTC(), "", "")
		return err
	})
	return n, err
}

// makeAvailable does MakeAvailable's work inside tx, for one provider and
// currency when they are given.
func (l *Ledger) makeAvailable(ctx context.Context, tx Tx, asOf time.Time, provider, currency string) (int, error) {
	due, err := tx.DueBalanceTransactions(ctx, asOf, provider, currency)
	if err != nil {
		return 0, err
	}
	closed, err := tx.ClosedThrough(ctx)
	if err != nil {
		return 0, err
	}
	// The entries go through the bulk path and the statuses change in a
	// few statements: a payout's sweep makes a day or more of charges
	// available at once. Captures' charges due at the same moment move in
	// one entry (sweptTogether); any other transaction in one of its own.
	var es []*Entry
	changes := make([]SettlementChange, 0, len(due))
	swept := fundsMoves{sweep: true}
	for i := range due {
		bt := &due[i]
		if sweptTogether(bt) {
			swept.add(false, bt, bt.AvailableOn, bt.AvailableOn)
		} else if e := l.availability(*bt, asOf, closed); e != nil {
			es = append(es, e)
		}
		changes = append(changes, SettlementChange{ID: bt.ID, AvailableOn: bt.AvailableOn,
			Estimated: bt.AvailableOnEstimated, PayoutID: bt.PayoutID, Status: BTAvailable, Changes: ChangesStatus})
	}
	es = append(es, swept.entries(l, asOf, closed)...)
	if err := l.insertMany(ctx, tx, es, closed); err != nil {
		return 0, fmt.Errorf("making funds available: %w", err)
	}
	if err := tx.SetSettlements(ctx, changes); err != nil {
		return 0, err
	}
	return len(changes), nil
}

// sweptTogether reports whether bt is a capture's charge, whose funds a
// sweep moves with the other captures' charges due at the same moment, in
// one entry for their provider, currency and moment rather than one each.
// A month of a million payments had 979,870 availability entries, one for
// each capture and nearly half its journal; booked so, it has one for each
// currency and day, 102 (BENCHMARKS.md, forty-second round). A capture books its
// charge to pending, and the charge becomes available only by an entry
// that moves its funds (a sweep's, or an adoption's), so its status says
// where its funds are without looking for an entry of its own
// (adopting.adopt). Every other transaction made available by a sweep
// (an adjustment booked to pending, a provider's pending charge) keeps an
// entry of its own, under its own key, which is how an adoption knows
// that its funds went through pending.
func sweptTogether(bt *BalanceTransaction) bool {
	return bt.Type == "charge" && bt.SourceType == "payment"
}

// availability is the entry that makes bt's funds available: nil when its
// net is zero and there is nothing to move.
func (l *Ledger) availability(bt BalanceTransaction, asOf, closed time.Time) *Entry {
	if bt.Net == 0 {
		return nil
	}
	return &Entry{Key: availabilityKey(bt.ID, bt.AvailableOn), Phase: Posted, OccurredAt: datedOpen(bt.AvailableOn, closed, asOf),
		Description: "Funds available for " + bt.ID,
		Source:      btSource(&bt),
		Postings: []Posting{
			{Account: fill(l.chart.Available, bt.Provider, ""), Currency: bt.Currency, Amount: bt.Net},
			{Account: fill(l.chart.Pending, bt.Provider, ""), Currency: bt.Currency, Amount: -bt.Net},
		}}
}

// btSource is the source of the entries booked for a balance transaction
// (moving its funds between pending and available, adopting its
// settlement): the transaction's own.
func btSource(bt *BalanceTransaction) Source {
	return Source{Provider: bt.Provider, Type: bt.SourceType, ID: bt.SourceID, Ref: bt.SourceRef}
}

// ExpireAuthorizations voids every authorization whose expiry has passed and
// cancels its payment. It returns how many it expired.
func (l *Ledger) ExpireAuthorizations(ctx context.Context, asOf time.Time) (int, error) {
	asOf = asOf.UTC()
	n := 0
	err := l.store.Update(ctx, func(tx Tx) error {
		n = 0
		expired, err := tx.ExpiredPending(ctx, asOf)
		if err != nil {
			return err
		}
		for _, pe := range expired {
			if pe.Source.Type == "payment" && pe.Source.ID != "" {
				p, err := tx.Payment(ctx, pe.Source.ID)
				if err == nil && p.PendingEntryID == pe.ID {
					if err := l.voidAuthorization(ctx, tx, p, Expired, asOf, &Result{}); err != nil {
						return err
					}
					n++
					continue
				}
				if err != nil && !isNotFound(err) {
					return err
				}
			}
			if err := tx.ResolvePending(ctx, pe.ID, Expired, 0); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// datedOpen is t, or asOf when t lies in the period closed through closed:
// the date of an entry that belongs at t.
func datedOpen(t, closed, asOf time.Time) time.Time {
	if inClosed(t, closed) {
		return asOf
	}
	return t
}
