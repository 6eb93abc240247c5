package feed

import (
	"context"
	"fmt"

	"github.com/settlehq/settle/ledger"
)

// Summary counts what applying a feed did.
type Summary struct {
	Applied  int // events that wrote something new
	Replayed int // events already recorded earlier (same id, same content)
	Skipped  int // bad events skipped with SkipInvalid
}

// Apply records events through the ledger. Without skipInvalid it is all or
// nothing: the first failing event rolls every event back and its error is
// returned. With skipInvalid each failing event is skipped, reported in the
// returned errors, and the rest are applied.
func Apply(ctx context.Context, l *ledger.Ledger, events []Event, skipInvalid bool) (Summary, []error) {
	var sum Summary
	var errs []error
	err := l.Atomic(ctx, func(tl *ledger.Ledger) error {
		for _, ev := range events {
			replayed, err := applyOne(ctx, tl, ev)
			if err != nil {
				err = &Error{File: ev.File, Line: ev.Line, Err: fmt.Errorf("%s %q: %w", ev.Type, ev.ID, err)}
				if !skipInvalid {
					return err
				}
				errs = append(errs, err)
				sum.Skipped++
				continue
			}
			if replayed {
				sum.Replayed++
			} else {
				sum.Applied++
			}
		}
		return nil
	})
	if err != nil {
		return Summary{}, append(errs, err)
	}
	return sum, errs
}

func applyOne(ctx context.Context, l *ledger.Ledger, ev Event) (bool, error) {
	var res *ledger.Result
	var err error
	switch ev.Type {
	case "payment.authorized":
		res, err = l.Authorize(ctx, ledger.AuthorizeRequest{Key: ev.ID, PaymentID: ev.Payment, Provider: ev.Provider,
			ProviderRef: ev.ProviderRef, Amount: ev.Amount, Currency: ev.Currency, Customer: ev.Customer,
			Description: ev.Description, Metadata: ev.Metadata, At: ev.At, ExpiresAt: ev.ExpiresAt})
	case "payment.captured":
		res, err = l.Capture(ctx, ledger.CaptureRequest{Key: ev.ID, PaymentID: ev.Payment, Amount: ev.Amount, Fees: ev.Fees,
			AvailableOn: ev.AvailableOn, At: ev.At, Provider: ev.Provider, ProviderRef: ev.ProviderRef, Currency: ev.Currency,
			Customer: ev.Customer, Description: ev.Description, Metadata: ev.Metadata})
	case "payment.canceled":
		res, err = l.Cancel(ctx, ledger.CancelRequest{Key: ev.ID, PaymentID: ev.Payment, At: ev.At})
	case "payment.refunded":
		res, err = l.Refund(ctx, ledger.RefundRequest{Key: ev.ID, PaymentID: ev.Payment, RefundID: ev.Refund,
			ProviderRef: ev.ProviderRef, Amount: ev.Amount, Currency: ev.Currency, Reason: ev.Reason, FeeRefund: ev.FeeRefund, At: ev.At})
	case "dispute.opened":
		res, err = l.OpenDispute(ctx, ledger.DisputeRequest{Key: ev.ID, PaymentID: ev.Payment, DisputeID: ev.Dispute,
			ProviderRef: ev.ProviderRef, Amount: ev.Amount, Fee: ev.Fee, At: ev.At})
	case "dispute.won":
		res, err = l.WinDispute(ctx, ledger.DisputeCloseRequest{Key: ev.ID, DisputeID: ev.Dispute, FeeRefund: ev.FeeRefund, At: ev.At})
	case "dispute.lost":
		res, err = l.LoseDispute(ctx, ledger.DisputeCloseRequest{Key: ev.ID, DisputeID: ev.Dispute, At: ev.At})
	case "payout.created":
		res, err = l.CreatePayout(ctx, ledger.PayoutRequest{Key: ev.ID, PayoutID: ev.Payout, Provider: ev.Provider,
			ProviderRef: ev.ProviderRef, Amount: ev.Amount, Currency: ev.Currency, ArrivalDate: ev.ArrivalDate, At: ev.At})
	case "payout.paid":
		res, err = l.PayPayout(ctx, ledger.PayoutUpdateRequest{Key: ev.ID, PayoutID: ev.Payout, At: ev.At})
	case "payout.failed":
		res, err = l.FailPayout(ctx, ledger.PayoutUpdateRequest{Key: ev.ID, PayoutID: ev.Payout, At: ev.At})
	case "entry.posted":
		var e *ledger.Entry
		e, err = l.PostEntry(ctx, ledger.EntryInput{Key: ev.ID, OccurredAt: ev.At, Description: ev.Description,
			Metadata: ev.Metadata, Postings: ev.Postings})
		if err == nil {
			return e.Replayed, nil
		}
	default:
		err = fmt.Errorf("%w: unknown event type %q", ErrBadLine, ev.Type)
	}
	if err != nil {
		return false, err
	}
	return res != nil && res.Replayed, nil
}
