package ledger

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Settlement facts — when funds become available and which payout they go
// into — are the provider's to tell. The ledger estimates them where it was
// not told (a default delay for a capture, the transaction's own time for a
// refund) and keeps, per balance transaction, which values are estimates so
// that reconciliation can adopt the provider's facts instead of raising them.
//
// Payout composition is derived, never recorded in the order events arrive:
// a balance transaction whose payout is not told belongs to the first
// automatic payout of its provider and currency, in (cutoff, id) order,
// whose cutoff (the payout's time) is at or after its available_on. Every
// write that could change that answer (a new transaction, a new automatic
// payout, an adopted available_on) re-derives what it touches, so the books
// are the same whatever order their events were recorded in. Verify checks
// the rule over the whole database.

// putBT derives bt's payout when it is not told, then stores it.
func (l *Ledger) putBT(ctx context.Context, tx Tx, bt *BalanceTransaction) error {
	if bt.PayoutID == "" && sweepable(bt.Type) {
		id, err := tx.AutomaticPayoutFor(ctx, bt.Provider, bt.Currency, bt.AvailableOn)
		if err != nil {
			return err
		}
		bt.PayoutID, bt.PayoutDerived = id, true
	}
	return tx.InsertBalanceTransaction(ctx, bt)
}

// sweepable reports whether a balance transaction of this type can go into
// a payout: everything but the payouts themselves. A failed payout's funds
// return to the balance and go out with the next automatic payout.
func sweepable(typ string) bool {
	return typ != "payout"
}

// claimComposition gives an automatic payout the balance transactions it
// holds: those whose payout is derived and whose available_on lies after the
// previous automatic payout's cutoff and at or before this one's.
func claimComposition(ctx context.Context, tx Tx, po *Payout) error {
	prev, ok, err := tx.PreviousAutomaticPayout(ctx, po.Provider, po.Currency, po.CreatedAt, po.ID)
	if err != nil {
		return err
	}
	if !ok {
		prev = time.Time{}
	}
	_, err = tx.AssignPayout(ctx, po.Provider, po.Currency, prev, !ok, po.CreatedAt, po.ID)
	return err
}

// Adoption is a settlement fact a provider reported for a balance
// transaction whose ledger value was an estimate.
type Adoption struct {
	BalanceTransactionID string
	AvailableOn          time.Time
}

// AdoptAvailableOn replaces estimated available_on dates with the
// provider's, in one transaction, as of asOf:
//   - the date becomes told, and the derived payout follows it;
//   - a transaction still pending is made available now if the new date
//     has come (dated at the new date), or waits for it;
//   - a transaction already made available at the estimate is moved: an
//     entry dated at the estimate undoes the availability, and a new one is
//     booked at the new date if it has come (or the transaction is pending
//     again until then). Dates inside a closed period move to asOf.
//
// It returns how many transactions changed. A transaction whose date was
// told, not estimated, is refused with ErrInvalidRequest: a told date that
// differs is a real mismatch for a person to look at.
func (l *Ledger) AdoptAvailableOn(ctx context.Context, adoptions []Adoption, asOf time.Time) (int, error) {
	asOf = asOf.UTC()
	n := 0
	err := l.store.Update(ctx, func(tx Tx) error {
		n = 0
		closed, err := tx.ClosedThrough(ctx)
		if err != nil {
			return err
		}
		cs := corrections{}
		for _, a := range adoptions {
			changed, err := l.adoptOne(ctx, tx, a, asOf, closed, cs)
			if err != nil {
				return fmt.Errorf("adopting available_on of %s: %w", a.BalanceTransactionID, err)
			}
			if changed {
				n++
			}
		}
		return nil
	})
	return n, err
}

// corrections are the correction balance transactions of each provider,
// by the id of the transaction they correct: read once per adoption batch
// rather than once per adopted transaction. Adopting creates none.
type corrections map[string]map[string][]*BalanceTransaction

func (cs corrections) of(ctx context.Context, tx Tx, provider, btID string) ([]*BalanceTransaction, error) {
	byID, ok := cs[provider]
	if !ok {
		byID = map[string][]*BalanceTransaction{}
		err := tx.EachBalanceTransaction(ctx, BTFilter{Provider: provider, SourceType: SourceCorrection}, func(c *BalanceTransaction) error {
			byID[c.SourceID] = append(byID[c.SourceID], c)
			return nil
		})
		if err != nil {
			return nil, err
		}
		cs[provider] = byID
	}
	return byID[btID], nil
}

func (l *Ledger) adoptOne(ctx context.Context, tx Tx, a Adoption, asOf, closed time.Time, cs corrections) (bool, error) {
	bt, err := tx.BalanceTransaction(ctx, a.BalanceTransactionID)
	if err != nil {
		return false, err
	}
	to := a.AvailableOn.UTC()
	if a.AvailableOn.IsZero() || to.Equal(bt.AvailableOn) {
		return false, nil
	}
	if !bt.AvailableOnEstimated {
		return false, fmt.Errorf("%w: its available_on was told, not estimated", ErrInvalidRequest)
	}
	from := bt.AvailableOn
	dated := func(t time.Time) time.Time {
		if !closed.IsZero() && !t.After(closed) {
			return asOf
		}
		return t
	}
	if bt.Status == BTAvailable && bt.Net != 0 {
		// Only a transaction that went through pending has an availability
		// entry to move; the others moved their funds when booked.
		made, err := availabilityEntry(ctx, tx, bt)
		if err != nil {
			return false, err
		}
		if made != nil {
			undo := &Entry{Key: "unavailable:" + bt.ID + "@" + stamp(from), Phase: Posted, OccurredAt: dated(from),
				Description: "Funds of " + bt.ID + " not yet available (provider's date " + to.Format(time.DateOnly) + ")",
				Source:      made.Source,
				Postings: []Posting{
					{Account: fill(l.chart.Pending, bt.Provider, ""), Currency: bt.Currency, Amount: bt.Net},
					{Account: fill(l.chart.Available, bt.Provider, ""), Currency: bt.Currency, Amount: -bt.Net},
				}}
			if err := l.insert(ctx, tx, undo); err != nil {
				return false, err
			}
			if err := tx.SetBalanceTransactionStatus(ctx, bt.ID, BTPending); err != nil {
				return false, err
			}
			bt.Status = BTPending
		}
	}
	bt.AvailableOn, bt.AvailableOnEstimated = to, false
	if bt.PayoutDerived {
		if bt.PayoutID, err = tx.AutomaticPayoutFor(ctx, bt.Provider, bt.Currency, to); err != nil {
			return false, err
		}
	}
	if err := tx.SetBalanceTransactionSettlement(ctx, bt.ID, to, false, bt.PayoutID); err != nil {
		return false, err
	}
	// A correction follows the transaction it corrects.
	cors, err := cs.of(ctx, tx, bt.Provider, bt.ID)
	if err != nil {
		return false, err
	}
	for _, c := range cors {
		if c.PayoutDerived {
			c.PayoutID = bt.PayoutID
		}
		c.AvailableOn, c.AvailableOnEstimated = to, false
		if err := tx.SetBalanceTransactionSettlement(ctx, c.ID, to, false, c.PayoutID); err != nil {
			return false, err
		}
	}
	if bt.Status == BTPending && !to.After(asOf) {
		if err := l.makeOneAvailable(ctx, tx, *bt, asOf, closed); err != nil {
			return false, err
		}
	}
	return true, nil
}

// availabilityEntry returns the entry that made bt available, or nil.
func availabilityEntry(ctx context.Context, tx Tx, bt *BalanceTransaction) (*Entry, error) {
	for _, key := range []string{availabilityKey(bt.ID, bt.AvailableOn), "available:" + bt.ID} {
		e, err := tx.EntryByKey(ctx, key)
		if err == nil {
			return e, nil
		}
		if !isNotFound(err) {
			return nil, err
		}
	}
	return nil, nil
}

// availabilityKey is the idempotency key of the entry that makes a balance
// transaction available on a date; a moved date gets a new entry.
func availabilityKey(btID string, on time.Time) string {
	return "available:" + btID + "@" + stamp(on)
}

func stamp(t time.Time) string { return strconv.FormatInt(t.UTC().Unix(), 10) }

// FirstOpen returns t, or, when t lies in the period closed through closed,
// the start of the first whole day after it: where an entry that belongs
// at t is dated when its own date can no longer be written.
func FirstOpen(t, closed time.Time) time.Time {
	if closed.IsZero() || t.After(closed) {
		return t
	}
	next := closed.Add(time.Nanosecond)
	day := next.Truncate(24 * time.Hour)
	if day.Before(next) {
		day = day.Add(24 * time.Hour)
	}
	return day
}
