package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// A movement presented in one currency and settled in another keeps both
// sides through the store: a told conversion, an estimated one, and a
// provider's settlement adopted over the estimate (UpdateBalanceTransaction);
// the payment keeps its booking conversion.
func testMoneyAcrossCurrencies(t *testing.T, open Opener) {
	ctx := context.Background()
	l := books(t, open(t))
	c := must(l.Capture(ctx, ledger.CaptureRequest{Key: "c", PaymentID: "p", Provider: "stripe", ProviderRef: "ch_p",
		Currency: "eur", Amount: dec("100.00"), Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("3.44")}},
		Settlement: &ledger.Settlement{Amount: dec("108.12"), Currency: "usd"}, At: t0})).ok(t)
	r := must(l.Refund(ctx, ledger.RefundRequest{Key: "r", PaymentID: "p", RefundID: "re", Amount: dec("20.00"),
		At: t0.Add(time.Hour)})).ok(t)
	read := func(id string) *ledger.BalanceTransaction {
		t.Helper()
		var bt *ledger.BalanceTransaction
		err := l.View(ctx, func(tx ledger.ReadTx) error {
			var err error
			bt, err = tx.BalanceTransaction(ctx, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return bt
	}
	if b := read(c.BalanceTransaction.ID); b.Currency != "usd" || b.Amount != 10812 || b.Fee != 344 || b.Net != 10468 ||
		b.PresentmentCurrency != "eur" || b.PresentmentAmount != 10000 || b.ExchangeRate.String() != "1.0812" ||
		b.SettlementEstimated || len(b.FeeDetails) != 1 {
		t.Errorf("charge read back %+v", b)
	}
	if b := read(r.BalanceTransaction.ID); !b.SettlementEstimated || b.PresentmentAmount != -2000 || b.Currency != "usd" {
		t.Errorf("estimated refund read back %+v", b)
	}
	if p := payment(t, l, "p"); p.SettlementCurrency != "usd" || p.Settled != 10812 || p.Unwound != 2000 {
		t.Errorf("payment read back: settlement %q settled %d unwound %d", p.SettlementCurrency, p.Settled, p.Unwound)
	}
	must(l.AdoptSettlement(ctx, []ledger.SettlementAdoption{{BalanceTransactionID: r.BalanceTransaction.ID,
		Currency: "usd", Amount: -2250, Net: -2250, PresentmentCurrency: "eur", PresentmentAmount: -2000}}, t0.Add(48*time.Hour))).ok(t)
	if b := read(r.BalanceTransaction.ID); b.SettlementEstimated || b.Amount != -2250 || b.Net != -2250 ||
		b.ExchangeRate.String() != "1.125" {
		t.Errorf("adopted refund read back %+v", b)
	}
	verify(t, l)
	zeroSum(t, l)
}
