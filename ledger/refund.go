package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// RefundRequest refunds part or all of a captured payment.
type RefundRequest struct {
	Key         string
	PaymentID   string
	RefundID    string
	ProviderRef string
	Amount      decimal.Decimal // zero means all that is left
	Currency    string          // optional; must match the payment's
	Reason      string
	// FeeRefund is a part of the processing fee the provider returned with
	// the refund, booked as its own fee_refund balance transaction.
	FeeRefund decimal.Decimal
	At        time.Time
	// Settlement is what the provider debited in the settlement currency
	// of a converted payment (see fx.go); FeeRefund is then in that
	// currency too. Left out, the refund is converted at the payment's
	// booking rate until the provider's record tells (AdoptSettlement).
	Settlement *Settlement `json:",omitempty"`
}

// Refund books Dr income:refunds R / Cr assets:P:available R and a refund
// balance transaction of −R. R may not exceed captured − refunded.
func (l *Ledger) Refund(ctx context.Context, req RefundRequest) (*Result, error) {
	// The request is hashed before At defaults to now, so that a retry
	// which leaves At to the clock replays instead of conflicting.
	req.At = req.At.UTC()
	return l.idempotent(ctx, "refund", req.Key, req, func(tx Tx, res *Result) error {
		req.At = l.at(req.At)
		p, cur, err := l.paymentOf(ctx, tx, req.PaymentID, req.Currency)
		if err != nil {
			return err
		}
		if req.RefundID == "" {
			return fmt.Errorf("%w: a refund id is required", ErrInvalidRequest)
		}
		_, err = tx.Refund(ctx, req.RefundID)
		if err := mustBeNew("refund", req.RefundID, err); err != nil {
			return err
		}
		if p.Captured == 0 {
			return fmt.Errorf("payment %q has nothing captured: %w", p.ID, ErrOverRefund)
		}
		left := p.Captured - p.Refunded
		amt := left
		if !req.Amount.IsZero() {
			if amt, err = minor("amount", req.Amount, cur, false); err != nil {
				return err
			}
		}
		if amt > left || amt == 0 {
			return fmt.Errorf("payment %q: refunding %s with %s left: %w", p.ID,
				FormatMinor(amt, cur.Digits), FormatMinor(left, cur.Digits), ErrOverRefund)
		}
		scur, sm, bookedSM, estimated, err := l.settleMovement(p, cur, -amt, req.Settlement)
		if err != nil {
			return err
		}
		feeRefund, err := minor("fee_refund", req.FeeRefund, scur, true)
		if err != nil {
			return err
		}
		avail := fill(l.chart.Available, p.Provider, "")
		ps := []Posting{
			{Account: l.chart.Refunds, Currency: cur.Code, Amount: amt},
			{Account: avail, Currency: scur.Code, Amount: sm},
		}
		if scur != cur {
			ps = l.convert(ps, cur.Code, scur.Code, -amt, bookedSM)
		}
		e := &Entry{Key: req.Key, Phase: Posted, OccurredAt: req.At,
			Description: "Refund " + req.RefundID + " of " + p.ID,
			Metadata:    reasonMeta(req.Reason),
			Source:      Source{Provider: p.Provider, Type: "refund", ID: req.RefundID, Ref: req.ProviderRef},
			Postings:    ps}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		bt := &BalanceTransaction{ID: btID(e.ID, 0), Provider: p.Provider, EntryID: e.ID, Type: "refund",
			ReportingCategory: "refund", SourceType: "refund", SourceID: req.RefundID, SourceRef: req.ProviderRef,
			PaymentID: p.ID, Amount: sm, Net: sm, Currency: scur.Code, Status: BTAvailable,
			Description: e.Description, Created: req.At, AvailableOn: req.At, AvailableOnEstimated: true}
		setConversion(bt, cur, -amt, scur, estimated)
		if err := l.putBT(ctx, tx, bt); err != nil {
			return err
		}
		r := &Refund{ID: req.RefundID, PaymentID: p.ID, ProviderRef: req.ProviderRef, Amount: amt, FeeRefund: feeRefund,
			Currency: cur.Code, Reason: req.Reason, EntryID: e.ID, CreatedAt: req.At}
		if feeRefund > 0 {
			if _, _, err := l.bookFeeRefund(ctx, tx, p, scur, "processing", feeRefund, req.Key+":fee_refund", req.At,
				Source{Provider: p.Provider, Type: "refund", ID: req.RefundID, Ref: req.ProviderRef}); err != nil {
				return err
			}
		}
		p.Refunded += amt
		p.Status = PaymentPartiallyRefunded
		if p.Refunded == p.Captured {
			p.Status = PaymentRefunded
		}
		if p.Disputed > 0 {
			p.Status = PaymentDisputed
		}
		p.UpdatedAt = req.At
		if err := tx.SaveRefund(ctx, r); err != nil {
			return err
		}
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		res.Entry, res.BalanceTransaction, res.Payment, res.Refund = e, bt, p, r
		return nil
	})
}

func reasonMeta(reason string) map[string]string {
	if reason == "" {
		return nil
	}
	return map[string]string{"reason": reason}
}

// bookFeeRefund books Dr assets:P:available / Cr expenses:fees:<type> and a
// fee_refund balance transaction.
func (l *Ledger) bookFeeRefund(ctx context.Context, tx Tx, p *Payment, cur Currency, typ string, amt int64, key string, at time.Time, src Source) (*Entry, *BalanceTransaction, error) {
	if amt > p.Fees {
		return nil, nil, fmt.Errorf("%w: fee refund %s exceeds the %s of fees charged on payment %q", ErrOverRefund,
			FormatMinor(amt, cur.Digits), FormatMinor(p.Fees, cur.Digits), p.ID)
	}
	e := &Entry{Key: key, Phase: Posted, OccurredAt: at, Description: "Fee refund on " + p.ID, Source: src,
		Postings: []Posting{
			{Account: fill(l.chart.Available, p.Provider, ""), Currency: cur.Code, Amount: amt},
			{Account: fill(l.chart.Fees, p.Provider, typ), Currency: cur.Code, Amount: -amt},
		}}
	if err := l.insert(ctx, tx, e); err != nil {
		return nil, nil, err
	}
	bt := &BalanceTransaction{ID: btID(e.ID, 0), Provider: p.Provider, EntryID: e.ID, Type: "fee_refund",
		ReportingCategory: "fee", SourceType: src.Type, SourceID: src.ID, SourceRef: src.Ref, PaymentID: p.ID,
		Amount: amt, Net: amt, Currency: cur.Code, Status: BTAvailable, Description: e.Description,
		Created: at, AvailableOn: at, AvailableOnEstimated: true}
	if err := l.putBT(ctx, tx, bt); err != nil {
		return nil, nil, err
	}
	p.Fees -= amt
	return e, bt, nil
}

// FeeRefundRequest records fees the provider returned outside a refund, such
// as an application fee returned.
type FeeRefundRequest struct {
	Key       string
	PaymentID string
	Type      string // fee type; default processing
	Amount    decimal.Decimal
	At        time.Time
}

// RefundFee books a fee refund on a payment.
func (l *Ledger) RefundFee(ctx context.Context, req FeeRefundRequest) (*Result, error) {
	// The request is hashed before At defaults to now, so that a retry
	// which leaves At to the clock replays instead of conflicting.
	req.At = req.At.UTC()
	return l.idempotent(ctx, "fee_refund", req.Key, req, func(tx Tx, res *Result) error {
		req.At = l.at(req.At)
		p, cur, err := l.paymentOf(ctx, tx, req.PaymentID, "")
		if err != nil {
			return err
		}
		if p.converted() {
			// Fees are charged, and returned, in the settlement currency.
			if cur, err = l.currencies.Lookup(p.SettlementCurrency); err != nil {
				return err
			}
		}
		amt, err := minor("amount", req.Amount, cur, false)
		if err != nil {
			return err
		}
		typ := req.Type
		if typ == "" {
			typ = "processing"
		}
		e, bt, err := l.bookFeeRefund(ctx, tx, p, cur, typ, amt, req.Key, req.At,
			Source{Provider: p.Provider, Type: "payment", ID: p.ID, Ref: p.ProviderRef})
		if err != nil {
			return err
		}
		p.UpdatedAt = req.At
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		res.Entry, res.BalanceTransaction, res.Payment = e, bt, p
		return nil
	})
}
