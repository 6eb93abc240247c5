// Package booking turns what settle learns from outside the ledger into
// ledger operations: provider records booked as entries, for users whose
// only books are the provider's data, and the fixes that resolve
// reconciliation exceptions.
package booking

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// Book posts a provider record as ledger entries and reports whether it
// wrote anything, for users whose only books
// are the provider's data. It is idempotent: booking the same record again
// changes nothing, and a payment-grain record seen again with more refunded
// books only the difference. A balance transaction already in the ledger
// (seen in another export) is left as it is.
//
// A balance-grain record becomes one entry and one balance transaction with
// the provider's id and figures (ledger.BookProviderTransaction). A
// payment-grain record becomes an automatic capture of what was captured,
// then refunds and disputes up to the record's totals.
func Book(ctx context.Context, l *ledger.Ledger, r *provider.Record) (bool, error) {
	key := fmt.Sprintf("book:%s:%s:%s", r.Provider, r.Grain, r.ID)
	if r.Grain == provider.BalanceGrain {
		// The same balance transaction appears in several exports (the
		// itemized report, the payout report, the API list); it is booked
		// on first sight, and later differences are reconciliation's to find.
		err := l.View(ctx, func(tx ledger.ReadTx) error {
			_, err := tx.BalanceTransaction(ctx, r.ID)
			return err
		})
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, ledger.ErrNotFound) {
			return false, err
		}
		res, err := l.BookProviderTransaction(ctx, ledger.ProviderTransaction{
			Key: key, Provider: r.Provider, ID: r.ID, Kind: ledger.KindOf(r.Type, r.ReportingCategory),
			Type: r.Type, ReportingCategory: r.ReportingCategory, SourceRef: r.SourceRef, PaymentRef: r.PaymentRef,
			Currency: r.Currency, Amount: r.Amount, Fee: r.Fee, Net: r.Net, Status: r.Status,
			Created: r.Created, AvailableOn: r.AvailableOn, PayoutID: r.PayoutID, Description: r.Description,
		})
		return err == nil && !res.Replayed, err
	}
	return bookPayment(ctx, l, r, key)
}

func bookPayment(ctx context.Context, l *ledger.Ledger, r *provider.Record, key string) (bool, error) {
	if r.Captured <= 0 {
		return false, nil // nothing has moved money yet (open, void, authorized, failed)
	}
	cur, err := l.Currency(r.Currency)
	if err != nil {
		return false, err
	}
	booked := false
	major := func(m int64) decimal.Decimal { return ledger.FromMinor(m, cur) }
	var p *ledger.Payment
	err = l.View(ctx, func(tx ledger.ReadTx) error {
		var err error
		p, err = tx.Payment(ctx, r.ID)
		return err
	})
	if errors.Is(err, ledger.ErrNotFound) {
		res, err := l.Capture(ctx, ledger.CaptureRequest{Key: key + ":capture", PaymentID: r.ID, Provider: r.Provider,
			ProviderRef: r.SourceRef, Currency: r.Currency, Amount: major(r.Captured), At: r.Created,
			AvailableOn: r.Created, Description: r.Description})
		if err != nil {
			return false, err
		}
		p, booked = res.Payment, !res.Replayed
	} else if err != nil {
		return false, err
	}
	if r.Refunded > p.Refunded {
		delta := r.Refunded - p.Refunded
		if _, err := l.Refund(ctx, ledger.RefundRequest{Key: fmt.Sprintf("%s:refund:%d", key, r.Refunded), PaymentID: r.ID,
			RefundID: fmt.Sprintf("%s:refund:%d", r.ID, r.Refunded), Amount: major(delta), At: r.Created}); err != nil {
			return false, err
		}
		booked = true
	}
	if r.Disputed > p.Disputed {
		delta := r.Disputed - p.Disputed
		if _, err := l.OpenDispute(ctx, ledger.DisputeRequest{Key: fmt.Sprintf("%s:dispute:%d", key, r.Disputed), PaymentID: r.ID,
			DisputeID: fmt.Sprintf("%s:dispute:%d", r.ID, r.Disputed), Amount: major(delta), At: r.Created}); err != nil {
			return false, err
		}
		booked = true
	}
	return booked, nil
}
