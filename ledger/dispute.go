package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// DisputeRequest opens a dispute (chargeback) on a captured payment.
type DisputeRequest struct {
	Key         string
	PaymentID   string
	DisputeID   string
	ProviderRef string
	Amount      decimal.Decimal
	Fee         decimal.Decimal // the provider's dispute fee, if any
	At          time.Time
	// Settlement is what the provider debited in the settlement currency
	// of a converted payment (see fx.go); Fee is then in that currency
	// too. Left out, the disputed amount is converted at the payment's
	// booking rate until the provider's record tells (AdoptSettlement).
	Settlement *Settlement `json:",omitempty"`
}

// OpenDispute books Dr assets:disputes:open D, Dr expenses:fees:dispute DF /
// Cr assets:P:available D+DF, and an adjustment (dispute) balance transaction
// of −D with fee DF.
func (l *Ledger) OpenDispute(ctx context.Context, req DisputeRequest) (*Result, error) {
	// The request is hashed before At defaults to now, so that a retry
	// which leaves At to the clock replays instead of conflicting.
	req.At = req.At.UTC()
	return l.idempotent(ctx, "dispute_open", req.Key, req, func(tx Tx, res *Result) error {
		req.At = l.at(req.At)
		p, cur, err := l.paymentOf(ctx, tx, req.PaymentID, "")
		if err != nil {
			return err
		}
		if req.DisputeID == "" {
			return fmt.Errorf("%w: a dispute id is required", ErrInvalidRequest)
		}
		_, err = tx.Dispute(ctx, req.DisputeID)
		if err := mustBeNew("dispute", req.DisputeID, err); err != nil {
			return err
		}
		amt, err := minor("amount", req.Amount, cur, false)
		if err != nil {
			return err
		}
		if amt > p.Captured-p.Disputed {
			return fmt.Errorf("%w: disputing %s of payment %q with %s captured and %s already disputed", ErrInvalidAmount,
				FormatMinor(amt, cur.Digits), p.ID, FormatMinor(p.Captured, cur.Digits), FormatMinor(p.Disputed, cur.Digits))
		}
		scur, sm, bookedSM, estimated, err := l.settleMovement(p, cur, -amt, req.Settlement)
		if err != nil {
			return err
		}
		fee, err := minor("fee", req.Fee, scur, true)
		if err != nil {
			return err
		}
		ps := []Posting{{Account: l.chart.DisputesOpen, Currency: cur.Code, Amount: amt}}
		var details []FeeDetail
		if fee > 0 {
			ps = append(ps, Posting{Account: fill(l.chart.Fees, p.Provider, "dispute"), Currency: scur.Code, Amount: fee})
			details = []FeeDetail{{Type: "dispute", Amount: fee}}
		}
		ps = append(ps, Posting{Account: fill(l.chart.Available, p.Provider, ""), Currency: scur.Code, Amount: sm - fee})
		if scur != cur {
			ps = l.convert(ps, cur.Code, scur.Code, -amt, bookedSM)
		}
		src := Source{Provider: p.Provider, Type: "dispute", ID: req.DisputeID, Ref: req.ProviderRef}
		e := &Entry{Key: req.Key, Phase: Posted, OccurredAt: req.At, Description: "Dispute " + req.DisputeID + " on " + p.ID,
			Source: src, Postings: ps}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		bt := &BalanceTransaction{ID: btID(e.ID, 0), Provider: p.Provider, EntryID: e.ID, Type: "adjustment",
			ReportingCategory: "dispute", SourceType: "dispute", SourceID: req.DisputeID, SourceRef: req.ProviderRef,
			PaymentID: p.ID, Amount: sm, Fee: fee, Net: sm - fee, FeeDetails: details, Currency: scur.Code,
			Status: BTAvailable, Description: e.Description, Created: req.At, AvailableOn: req.At, AvailableOnEstimated: true}
		setConversion(bt, cur, -amt, scur, estimated)
		if err := l.putBT(ctx, tx, bt); err != nil {
			return err
		}
		d := &Dispute{ID: req.DisputeID, PaymentID: p.ID, Provider: p.Provider, ProviderRef: req.ProviderRef,
			Amount: amt, Fee: fee, Currency: cur.Code, Status: DisputeOpen, CreatedAt: req.At, UpdatedAt: req.At}
		if err := tx.SaveDispute(ctx, d); err != nil {
			return err
		}
		p.Disputed += amt
		p.Fees += fee
		p.Status, p.UpdatedAt = PaymentDisputed, req.At
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		res.Entry, res.BalanceTransaction, res.Payment, res.Dispute = e, bt, p, d
		return nil
	})
}

// DisputeCloseRequest closes a dispute as won or lost.
type DisputeCloseRequest struct {
	Key       string
	DisputeID string
	// FeeRefund is the part of the dispute fee the provider returned (won
	// disputes only, where the provider does so).
	FeeRefund decimal.Decimal
	At        time.Time
	// Settlement is what the provider credited back in the settlement
	// currency of a converted payment when the dispute is won (see fx.go);
	// FeeRefund is then in that currency too. Won only.
	Settlement *Settlement `json:",omitempty"`
}

// WinDispute books Dr assets:P:available D (+ returned fee) / Cr
// assets:disputes:open D (and expenses:fees:dispute), with an adjustment
// (dispute_reversal) balance transaction of +D.
func (l *Ledger) WinDispute(ctx context.Context, req DisputeCloseRequest) (*Result, error) {
	return l.closeDispute(ctx, req, DisputeWon)
}

// LoseDispute books Dr expenses:chargebacks D / Cr assets:disputes:open D.
// The provider balance already moved when the dispute opened, so there is no
// balance transaction.
func (l *Ledger) LoseDispute(ctx context.Context, req DisputeCloseRequest) (*Result, error) {
	if !req.FeeRefund.IsZero() || req.Settlement != nil {
		return nil, fmt.Errorf("dispute lost: %w: a lost dispute returns no fee and moves no provider balance", ErrInvalidRequest)
	}
	return l.closeDispute(ctx, req, DisputeLost)
}

func (l *Ledger) closeDispute(ctx context.Context, req DisputeCloseRequest, outcome DisputeStatus) (*Result, error) {
	// The request is hashed before At defaults to now, so that a retry
	// which leaves At to the clock replays instead of conflicting.
	req.At = req.At.UTC()
	return l.idempotent(ctx, "dispute_"+string(outcome), req.Key, req, func(tx Tx, res *Result) error {
		req.At = l.at(req.At)
		d, err := tx.Dispute(ctx, req.DisputeID)
		if err != nil {
			return err
		}
		if d.Status != DisputeOpen {
			return fmt.Errorf("%w: dispute %q is already %s", ErrAlreadyResolved, d.ID, d.Status)
		}
		p, cur, err := l.paymentOf(ctx, tx, d.PaymentID, "")
		if err != nil {
			return err
		}
		scur, sm, bookedSM, estimated := cur, d.Amount, d.Amount, false
		if outcome == DisputeWon {
			if scur, sm, bookedSM, estimated, err = l.settleMovement(p, cur, d.Amount, req.Settlement); err != nil {
				return err
			}
		}
		feeRefund, err := minor("fee_refund", req.FeeRefund, scur, true)
		if err != nil {
			return err
		}
		if feeRefund > d.Fee {
			return fmt.Errorf("%w: fee refund %s exceeds the dispute fee %s", ErrOverRefund,
				FormatMinor(feeRefund, scur.Digits), FormatMinor(d.Fee, scur.Digits))
		}
		src := Source{Provider: d.Provider, Type: "dispute", ID: d.ID, Ref: d.ProviderRef}
		e := &Entry{Key: req.Key, Phase: Posted, OccurredAt: req.At, Source: src,
			Description: fmt.Sprintf("Dispute %s %s", d.ID, outcome)}
		if outcome == DisputeWon {
			e.Postings = []Posting{
				{Account: fill(l.chart.Available, d.Provider, ""), Currency: scur.Code, Amount: sm + feeRefund},
				{Account: l.chart.DisputesOpen, Currency: cur.Code, Amount: -d.Amount},
			}
			if feeRefund > 0 {
				e.Postings = append(e.Postings, Posting{Account: fill(l.chart.Fees, d.Provider, "dispute"), Currency: scur.Code, Amount: -feeRefund})
			}
			if scur != cur {
				e.Postings = l.convert(e.Postings, cur.Code, scur.Code, d.Amount, bookedSM)
			}
		} else {
			e.Postings = []Posting{
				{Account: l.chart.Chargebacks, Currency: cur.Code, Amount: d.Amount},
				{Account: l.chart.DisputesOpen, Currency: cur.Code, Amount: -d.Amount},
			}
		}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		if outcome == DisputeWon {
			var details []FeeDetail
			if feeRefund > 0 {
				details = []FeeDetail{{Type: "dispute", Amount: -feeRefund}}
			}
			bt := &BalanceTransaction{ID: btID(e.ID, 0), Provider: d.Provider, EntryID: e.ID, Type: "adjustment",
				ReportingCategory: "dispute_reversal", SourceType: "dispute", SourceID: d.ID, SourceRef: d.ProviderRef,
				PaymentID: p.ID, Amount: sm, Fee: -feeRefund, Net: sm + feeRefund, FeeDetails: details,
				Currency: scur.Code, Status: BTAvailable, Description: e.Description, Created: req.At, AvailableOn: req.At,
				AvailableOnEstimated: true}
			setConversion(bt, cur, d.Amount, scur, estimated)
			if err := l.putBT(ctx, tx, bt); err != nil {
				return err
			}
			res.BalanceTransaction = bt
			p.Disputed -= d.Amount
			p.Fees -= feeRefund
			p.Status = settledStatus(p)
		}
		d.Status, d.FeeRefund, d.UpdatedAt = outcome, feeRefund, req.At
		p.UpdatedAt = req.At
		if err := tx.SaveDispute(ctx, d); err != nil {
			return err
		}
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		res.Entry, res.Payment, res.Dispute = e, p, d
		return nil
	})
}

// settledStatus is a captured payment's status from its refunds and disputes.
func settledStatus(p *Payment) PaymentStatus {
	switch {
	case p.Disputed > 0:
		return PaymentDisputed
	case p.Refunded == 0:
		return PaymentCaptured
	case p.Refunded == p.Captured:
		return PaymentRefunded
	default:
		return PaymentPartiallyRefunded
	}
}
