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
		if bt.Net != 0 {
			at := bt.AvailableOn
			if !closed.IsZero() && !at.After(closed) {
				at = asOf
			}
			e := &Entry{Key: "available:" + bt.ID, Phase: Posted, OccurredAt: at,
				Description: "Funds available for " + bt.ID,
				Source:      Source{Provider: bt.Provider, Type: bt.SourceType, ID: bt.SourceID, Ref: bt.SourceRef},
				Postings: []Posting{
					{Account: fill(l.chart.Available, bt.Provider, ""), Currency: bt.Currency, Amount: bt.Net},
					{Account: fill(l.chart.Pending, bt.Provider, ""), Currency: bt.Currency, Amount: -bt.Net},
				}}
			if err := l.insert(ctx, tx, e); err != nil {
				return 0, fmt.Errorf("making %s available: %w", bt.ID, err)
			}
		}
		if err := tx.SetBalanceTransactionStatus(ctx, bt.ID, BTAvailable); err != nil {
			return 0, err
		}
	}
	return n, nil
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
