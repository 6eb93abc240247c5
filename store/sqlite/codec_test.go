package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// The store refuses to write a time it cannot hold exactly, whoever asks:
// it used to clamp 1600 to 1677-09-21 and 2263 or 9999 to 2262.
func TestStoreRefusesTimesItCannotHold(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "books.db"))
	defer s.Close()
	writes := []struct {
		name  string
		write func(tx ledger.Tx, at time.Time) error
	}{
		{"entry", func(tx ledger.Tx, at time.Time) error {
			return tx.InsertEntry(ctx, &ledger.Entry{Key: "k", Phase: ledger.Posted, OccurredAt: at, Postings: []ledger.Posting{
				{Account: "assets:bank:ops", Currency: "usd", Amount: 1}, {Account: "equity:owner", Currency: "usd", Amount: -1}}})
		}},
		{"payment", func(tx ledger.Tx, at time.Time) error {
			return tx.SavePayment(ctx, &ledger.Payment{ID: "p", Provider: "stripe", Currency: "usd", CreatedAt: t0, UpdatedAt: at})
		}},
		{"refund", func(tx ledger.Tx, at time.Time) error {
			return tx.SaveRefund(ctx, &ledger.Refund{ID: "r", PaymentID: "p", Currency: "usd", CreatedAt: at})
		}},
		{"dispute", func(tx ledger.Tx, at time.Time) error {
			return tx.SaveDispute(ctx, &ledger.Dispute{ID: "d", PaymentID: "p", Currency: "usd", CreatedAt: at, UpdatedAt: t0})
		}},
		{"payout", func(tx ledger.Tx, at time.Time) error {
			return tx.SavePayout(ctx, &ledger.Payout{ID: "po", Provider: "stripe", Currency: "usd", ArrivalDate: at, CreatedAt: t0, UpdatedAt: t0})
		}},
		{"settlement date", func(tx ledger.Tx, at time.Time) error {
			return tx.SetBalanceTransactionSettlement(ctx, "b", at, false, "")
		}},
		{"balance transaction", func(tx ledger.Tx, at time.Time) error {
			return tx.InsertBalanceTransaction(ctx, &ledger.BalanceTransaction{ID: "b", Provider: "stripe", Currency: "usd", Created: t0, AvailableOn: at})
		}},
	}
	for _, w := range writes {
		for _, at := range []time.Time{
			time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
			time.Unix(0, 0),
		} {
			err := s.Update(ctx, func(tx ledger.Tx) error { return w.write(tx, at) })
			if !errors.Is(err, ledger.ErrInvalidTime) {
				t.Errorf("%s at %s: err = %v, want ErrInvalidTime", w.name, at.Format(time.RFC3339), err)
			}
		}
	}
}

// A provider record dated where the store cannot hold it fails the import
// with its line, instead of being stored as 2262. (The importers refuse
// such dates first; this is the store's own guard, for any reader.)
func TestImportRefusesRecordTimesItCannotHold(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "books.db"))
	defer s.Close()
	f := provider.ImportFile{File: "far.csv", SHA256: strings.Repeat("0", 64)}
	_, err := s.Import(context.Background(), f, func(sink provider.Sink) error {
		return sink.Add(&provider.Record{Provider: "stripe", Format: "stripe-itemized-csv", Grain: provider.BalanceGrain,
			ID: "txn_1", Currency: "usd", Amount: 100, Net: 100, Created: t0,
			AvailableOn: time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), File: "far.csv", Line: 2})
	})
	if !errors.Is(err, ledger.ErrInvalidTime) || !strings.Contains(err.Error(), "far.csv:2: available_on: ") {
		t.Fatalf("err = %v, want far.csv:2: available_on: … ErrInvalidTime", err)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM provider_records`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d records stored (%v)", n, err)
	}
}
