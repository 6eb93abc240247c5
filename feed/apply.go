package feed

import (
	"context"
	"fmt"
	"io"

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
	return apply(ctx, l, func(fn func(Event) error) ([]error, error) {
		for _, ev := range events {
			if err := fn(ev); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}, skipInvalid)
}

// ApplyFile records a feed file in two streaming passes, so that memory does
// not grow with the file: the first pass lists every bad line (and, without
// skipInvalid, stops there with nothing written); the second reads the file
// again and applies its events as Apply does, in one transaction. open is
// called once per pass.
func ApplyFile(ctx context.Context, l *ledger.Ledger, name string, open func() (io.ReadCloser, error), skipInvalid bool) (Summary, []error) {
	f, err := open()
	if err != nil {
		return Summary{}, []error{err}
	}
	bad, _ := Each(name, f, func(Event) error { return nil })
	f.Close()
	if len(bad) > 0 && !skipInvalid {
		return Summary{}, bad
	}
	sum, errs := apply(ctx, l, func(fn func(Event) error) ([]error, error) {
		f, err := open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return Each(name, f, fn)
	}, skipInvalid)
	sum.Skipped += len(bad)
	return sum, append(bad, errs...)
}

// apply runs the events that each yields in one transaction.
func apply(ctx context.Context, l *ledger.Ledger, each func(fn func(Event) error) ([]error, error), skipInvalid bool) (Summary, []error) {
	var sum Summary
	var errs []error
	err := l.Atomic(ctx, func(tl *ledger.Ledger) error {
		_, err := each(func(ev Event) error {
			replayed, err := applyOne(ctx, tl, ev)
			if err != nil {
				err = &Error{File: ev.File, Line: ev.Line, Err: fmt.Errorf("%s %q: %w", ev.Type, ev.ID, err)}
				if !skipInvalid {
					return err
				}
				errs = append(errs, err)
				sum.Skipped++
				return nil
			}
			if replayed {
				sum.Replayed++
			} else {
				sum.Applied++
			}
			return nil
		})
		return err
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
			ProviderRef: ev.ProviderRef, Amount: ev.Amount, Currency: ev.Currency, ArrivalDate: ev.ArrivalDate, At: ev.At,
			Automatic: ev.Automatic})
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
