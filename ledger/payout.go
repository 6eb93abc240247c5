package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// PayoutRequest records a payout from a provider balance to the bank.
type PayoutRequest struct {
	Key         string
	PayoutID    string
	Provider    string
	ProviderRef string
	Amount      decimal.Decimal
	Currency    string
	ArrivalDate time.Time
	At          time.Time
	// Automatic marks a payout the provider made on its schedule (Stripe's
	// payout.automatic): it holds the balance transactions available by At
	// and not in an earlier automatic payout, and reconciliation checks that
	// composition. A manual payout (the default) is a sum taken from the
	// balance and claims no composition.
	Automatic bool `json:",omitempty"`
}

// CreatePayout books Dr assets:payouts:in_transit / Cr assets:P:available and
// a payout balance transaction of −P. Funds due by then are made available
// first. An automatic payout then claims its composition (see putBT): the
// balance transactions of its provider and currency available after the
// previous automatic payout's time and by its own.
func (l *Ledger) CreatePayout(ctx context.Context, req PayoutRequest) (*Result, error) {
	// The request is hashed before At defaults to now, so that a retry
	// which leaves At to the clock replays instead of conflicting.
	req.At = req.At.UTC()
	if err := normalizeProvider(&req.Provider); err != nil {
		return nil, fmt.Errorf("payout: %w", err)
	}
	if !req.ArrivalDate.IsZero() {
		req.ArrivalDate = req.ArrivalDate.UTC()
	}
	cur, err := l.currencies.Lookup(req.Currency)
	if err != nil {
		return nil, err
	}
	amt, err := minor("amount", req.Amount, cur, false)
	if err != nil {
		return nil, err
	}
	if req.PayoutID == "" || req.Provider == "" {
		return nil, fmt.Errorf("payout: %w: payout and provider are required", ErrInvalidRequest)
	}
	return l.idempotent(ctx, "payout_create", req.Key, req, func(tx Tx, res *Result) error {
		req.At = l.at(req.At)
		_, err := tx.Payout(ctx, req.PayoutID)
		if err := mustBeNew("payout", req.PayoutID, err); err != nil {
			return err
		}
		// Funds due by now are available before the payout sweeps them.
		if _, err := l.makeAvailable(ctx, tx, req.At, req.Provider, cur.Code); err != nil {
			return err
		}
		src := Source{Provider: req.Provider, Type: "payout", ID: req.PayoutID, Ref: req.ProviderRef}
		e := &Entry{Key: req.Key, Phase: Posted, OccurredAt: req.At, Description: "Payout " + req.PayoutID, Source: src,
			Postings: []Posting{
				{Account: l.chart.InTransit, Currency: cur.Code, Amount: amt},
				{Account: fill(l.chart.Available, req.Provider, ""), Currency: cur.Code, Amount: -amt},
			}}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		arrival := req.ArrivalDate
		if arrival.IsZero() {
			arrival = req.At
		}
		bt := &BalanceTransaction{ID: btID(e.ID, 0), Provider: req.Provider, EntryID: e.ID, Type: "payout",
			ReportingCategory: "payout", SourceType: "payout", SourceID: req.PayoutID, SourceRef: req.ProviderRef,
			Amount: -amt, Net: -amt, Currency: cur.Code, Status: BTAvailable, Description: e.Description,
			Created: req.At, AvailableOn: arrival, AvailableOnEstimated: req.ArrivalDate.IsZero()}
		if err := tx.InsertBalanceTransaction(ctx, bt); err != nil {
			return err
		}
		po := &Payout{ID: req.PayoutID, Provider: req.Provider, ProviderRef: req.ProviderRef, Amount: amt,
			Currency: cur.Code, Status: PayoutInTransit, ArrivalDate: arrival, Automatic: req.Automatic,
			CreatedAt: req.At, UpdatedAt: req.At}
		if err := tx.SavePayout(ctx, po); err != nil {
			return err
		}
		if po.Automatic {
			if err := claimComposition(ctx, tx, po); err != nil {
				return err
			}
		}
		res.Entry, res.BalanceTransaction, res.Payout = e, bt, po
		return nil
	})
}

// PayoutUpdateRequest marks a payout paid or failed.
type PayoutUpdateRequest struct {
	Key      string
	PayoutID string
	At       time.Time
	// Account is the asset account a paid payout arrived in, when the bank
	// says which (a bank statement mapped to assets:bank:operating); empty
	// is the chart's bank account of the provider. Not for a failure.
	Account string `json:",omitempty"`
}

// PayPayout books Dr assets:bank:<provider> (or req.Account) / Cr
// assets:payouts:in_transit.
func (l *Ledger) PayPayout(ctx context.Context, req PayoutUpdateRequest) (*Result, error) {
	return l.settlePayout(ctx, req, PayoutPaid)
}

// FailPayout books Dr assets:P:available / Cr assets:payouts:in_transit and a
// payout_failure balance transaction of +P.
func (l *Ledger) FailPayout(ctx context.Context, req PayoutUpdateRequest) (*Result, error) {
	return l.settlePayout(ctx, req, PayoutFailed)
}

func (l *Ledger) settlePayout(ctx context.Context, req PayoutUpdateRequest, outcome PayoutStatus) (*Result, error) {
	// The request is hashed before At defaults to now, so that a retry
	// which leaves At to the clock replays instead of conflicting.
	req.At = req.At.UTC()
	if req.Account != "" {
		if outcome != PayoutPaid {
			return nil, fmt.Errorf("payout %s: %w: only a paid payout names the account it arrived in", outcome, ErrInvalidRequest)
		}
		if t, err := AccountTypeOf(req.Account); err != nil {
			return nil, fmt.Errorf("payout paid: %w", err)
		} else if t != Asset {
			return nil, fmt.Errorf("payout paid: %w: %q is not an asset account", ErrInvalidAccount, req.Account)
		}
	}
	return l.idempotent(ctx, "payout_"+string(outcome), req.Key, req, func(tx Tx, res *Result) error {
		req.At = l.at(req.At)
		po, err := tx.Payout(ctx, req.PayoutID)
		if err != nil {
			return err
		}
		if po.Status != PayoutInTransit {
			return fmt.Errorf("%w: payout %q is already %s", ErrAlreadyResolved, po.ID, po.Status)
		}
		src := Source{Provider: po.Provider, Type: "payout", ID: po.ID, Ref: po.ProviderRef}
		dest := fill(l.chart.Bank, po.Provider, "")
		if req.Account != "" {
			dest = req.Account
		}
		if outcome == PayoutFailed {
			dest = fill(l.chart.Available, po.Provider, "")
		}
		e := &Entry{Key: req.Key, Phase: Posted, OccurredAt: req.At, Source: src,
			Description: fmt.Sprintf("Payout %s %s", po.ID, outcome),
			Postings: []Posting{
				{Account: dest, Currency: po.Currency, Amount: po.Amount},
				{Account: l.chart.InTransit, Currency: po.Currency, Amount: -po.Amount},
			}}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		if outcome == PayoutFailed {
			bt := &BalanceTransaction{ID: btID(e.ID, 0), Provider: po.Provider, EntryID: e.ID, Type: "payout_failure",
				ReportingCategory: "payout_reversal", SourceType: "payout", SourceID: po.ID, SourceRef: po.ProviderRef,
				Amount: po.Amount, Net: po.Amount, Currency: po.Currency, Status: BTAvailable, Description: e.Description,
				Created: req.At, AvailableOn: req.At, AvailableOnEstimated: true}
			if err := l.putBT(ctx, tx, bt); err != nil {
				return err
			}
			res.BalanceTransaction = bt
		}
		po.Status, po.UpdatedAt = outcome, req.At
		if err := tx.SavePayout(ctx, po); err != nil {
			return err
		}
		res.Entry, res.Payout = e, po
		return nil
	})
}
