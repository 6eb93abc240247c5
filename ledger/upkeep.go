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
	due, err := tx.DueBalanceTransactions(ctx, asOf)
	if err != nil {
		return 0, err
	}
	closed, err := tx.ClosedThrough(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, bt := range due {
		if (provider != "" && bt.Provider != provider) || (currency != "" && bt.Currency != currency) {
			continue
		}
		n++
		if err := l.makeOneAvailable(ctx, tx, bt, asOf, closed); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// makeOneAvailable books Dr assets:P:available / Cr assets:P:pending for a
// due balance transaction, dated at its available_on (or asOf, if that lies
// in a closed period), and marks it available.
func (l *Ledger) makeOneAvailable(ctx context.Context, tx Tx, bt BalanceTransaction, asOf, closed time.Time) error {
	if e := l.availability(bt, asOf, closed); e != nil {
		if err := l.insert(ctx, tx, e); err != nil {
			return fmt.Errorf("making %s available: %w", bt.ID, err)
		}
	}
	return tx.SetBalanceTransactionStatus(ctx, bt.ID, BTAvailable)
}

// availability is the entry that makes bt's funds available: nil when its
// net is zero and there is nothing to move.
func (l *Ledger) availability(bt BalanceTransaction, asOf, closed time.Time) *Entry {
	if bt.Net == 0 {
		return nil
	}
	return &Entry{Key: availabilityKey(bt.ID, bt.AvailableOn), Phase: Posted, OccurredAt: datedOpen(bt.AvailableOn, closed, asOf),
		Description: "Funds available for " + bt.ID,
		Source:      Source{Provider: bt.Provider, Type: bt.SourceType, ID: bt.SourceID, Ref: bt.SourceRef},
		Postings: []Posting{
			{Account: fill(l.chart.Available, bt.Provider, ""), Currency: bt.Currency, Amount: bt.Net},
			{Account: fill(l.chart.Pending, bt.Provider, ""), Currency: bt.Currency, Amount: -bt.Net},
		}}
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
