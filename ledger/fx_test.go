package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// TestConvertedLifecycle books a EUR charge settled in USD, a partial refund
// and a dispute converted at their own rates, and a won dispute, and checks
// every balance: income in EUR, the provider balance and fees in USD, the
// conversion account closing in both currencies once everything is taken
// back, and the realized FX gain or loss on income:fx.
func TestConvertedLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	usd := func(s string) *ledger.Settlement { return &ledger.Settlement{Amount: dec(s), Currency: "USD"} }
	res := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c1", PaymentID: "p1", Provider: "stripe", ProviderRef: "ch_1",
		Currency: "eur", Amount: dec("100.00"), Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("3.44")}},
		Settlement: usd("108.12"), At: t0})).ok(t)
	bt := res.BalanceTransaction
	if bt.Currency != "usd" || bt.Amount != 10812 || bt.Fee != 344 || bt.Net != 10468 ||
		bt.PresentmentCurrency != "eur" || bt.PresentmentAmount != 10000 || bt.ExchangeRate.String() != "1.0812" || bt.SettlementEstimated {
		t.Fatalf("charge %+v", bt)
	}
	e.wantBalances(t, map[string]bal{
		"assets:stripe:pending usd":    {10468, 0},
		"expenses:fees:stripe_fee usd": {344, 0},
		"equity:conversion usd":        {-10812, 0},
		"equity:conversion eur":        {10000, 0},
		"income:sales eur":             {-10000, 0},
	})
	must(e.l.MakeAvailable(e.ctx, t0.Add(72*time.Hour))).ok(t)

	// A refund of 40.00 settled at 1.10 (44.00 USD); booked 43.25 (40% of
	// 108.12, half to even): a loss of 0.75.
	ref := must(e.l.Refund(e.ctx, ledger.RefundRequest{Key: "r1", PaymentID: "p1", RefundID: "re_1", ProviderRef: "re_1",
		Amount: dec("40.00"), Settlement: usd("44.00"), At: t0.Add(96 * time.Hour)})).ok(t)
	if b := ref.BalanceTransaction; b.Currency != "usd" || b.Amount != -4400 || b.PresentmentAmount != -4000 || b.ExchangeRate.String() != "1.1" {
		t.Fatalf("refund %+v", b)
	}
	// A dispute of the other 60.00, not told: estimated at the booking
	// rate (64.87), then won back, told at 66.00: a gain of 1.13.
	dis := must(e.l.OpenDispute(e.ctx, ledger.DisputeRequest{Key: "d1", PaymentID: "p1", DisputeID: "dp_1", ProviderRef: "dp_1",
		Amount: dec("60.00"), Fee: dec("15.00"), At: t0.Add(100 * time.Hour)})).ok(t)
	if b := dis.BalanceTransaction; b.Amount != -6487 || b.Fee != 1500 || !b.SettlementEstimated || b.PresentmentAmount != -6000 {
		t.Fatalf("dispute %+v", b)
	}
	must(e.l.WinDispute(e.ctx, ledger.DisputeCloseRequest{Key: "d1w", DisputeID: "dp_1", Settlement: usd("66.00"),
		At: t0.Add(200 * time.Hour)})).ok(t)
	e.wantBalances(t, map[string]bal{
		"assets:stripe:available usd":  {10468 - 4400 - 6487 - 1500 + 6600, 0},
		"expenses:fees:stripe_fee usd": {344, 0},
		"expenses:fees:dispute usd":    {1500, 0},
		"equity:conversion usd":        {-10812 + 4325 + 6487 - 6487, 0},
		"equity:conversion eur":        {10000 - 4000 - 6000 + 6000, 0},
		"income:sales eur":             {-10000, 0},
		"income:refunds eur":           {4000, 0},
		"income:fx usd":                {75 - 113, 0},
	})
	// The rest refunded at its own rate: the conversion account closes.
	must(e.l.Refund(e.ctx, ledger.RefundRequest{Key: "r2", PaymentID: "p1", RefundID: "re_2", Settlement: usd("60.00"),
		At: t0.Add(300 * time.Hour)})).ok(t)
	b := e.balances(t)
	if b["equity:conversion usd"] != (bal{}) || b["equity:conversion eur"] != (bal{}) {
		t.Errorf("conversion account left %v / %v", b["equity:conversion usd"], b["equity:conversion eur"])
	}
	if got, want := b["income:fx usd"].posted, int64(75-113)+(6000-6487); got != want {
		t.Errorf("income:fx %d, want %d", got, want)
	}
	e.verify(t)
	// Verify checks that the two sides stay two.
	if _, err := e.store.DB().Exec(`UPDATE bt_core SET presentment_currency = (SELECT currency FROM bt_settlements AS s WHERE s.id = bt_core.id)
		WHERE presentment_currency <> ''`); err != nil {
		t.Fatal(err)
	}
	vs := must(e.l.Verify(e.ctx)).ok(t)
	if len(vs) == 0 || vs[0].Invariant != "conversion_sides_consistent" {
		t.Errorf("violations %v", vs)
	}
}

func TestConvertedRefusals(t *testing.T) {
	e := newEnv(t, nil)
	must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "plain", PaymentID: "plain", Provider: "stripe", Currency: "eur",
		Amount: dec("10.00"), At: t0})).ok(t)
	for _, c := range []struct {
		name string
		call func() error
		want error
	}{
		{"settlement in the presentment currency", func() error {
			_, err := e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "k1", PaymentID: "x1", Provider: "stripe", Currency: "eur",
				Amount: dec("10.00"), Settlement: &ledger.Settlement{Amount: dec("10.00"), Currency: "EUR"}, At: t0})
			return err
		}, ledger.ErrInvalidRequest},
		{"settlement with too many decimals", func() error {
			_, err := e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "k2", PaymentID: "x2", Provider: "stripe", Currency: "eur",
				Amount: dec("10.00"), Settlement: &ledger.Settlement{Amount: dec("10.001"), Currency: "usd"}, At: t0})
			return err
		}, ledger.ErrInvalidAmount},
		{"refund settlement on a payment that settles in its own currency", func() error {
			_, err := e.l.Refund(e.ctx, ledger.RefundRequest{Key: "k3", PaymentID: "plain", RefundID: "r",
				Settlement: &ledger.Settlement{Amount: dec("11.00"), Currency: "usd"}, At: t0})
			return err
		}, ledger.ErrCurrencyMismatch},
	} {
		if err := c.call(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestAdoptSettlement adopts the provider's conversion of a capture and a
// refund the ledger booked in EUR, and of a refund it estimated, and refuses
// to adopt over told figures.
func TestAdoptSettlement(t *testing.T) {
	e := newEnv(t, nil)
	c := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c", PaymentID: "p", Provider: "stripe", ProviderRef: "ch_p",
		Currency: "eur", Amount: dec("50.00"), At: t0})).ok(t)
	r := must(e.l.Refund(e.ctx, ledger.RefundRequest{Key: "r", PaymentID: "p", RefundID: "re", Amount: dec("20.00"),
		At: t0.Add(time.Hour)})).ok(t)
	adopt := []ledger.SettlementAdoption{
		// Given refund first: the capture still fixes the rate first.
		{BalanceTransactionID: r.BalanceTransaction.ID, Currency: "usd", Amount: -2250, Net: -2250, PresentmentCurrency: "eur", PresentmentAmount: -2000},
		{BalanceTransactionID: c.BalanceTransaction.ID, Currency: "usd", Amount: 5400, Fee: 186, Net: 5214, PresentmentCurrency: "eur", PresentmentAmount: 5000},
	}
	if n := must(e.l.AdoptSettlement(e.ctx, adopt, t0.Add(48*time.Hour))).ok(t); n != 2 {
		t.Fatalf("adopted %d", n)
	}
	p := e.payment(t, "p")
	if p.SettlementCurrency != "usd" || p.Settled != 5400 || p.Unwound != 2000 {
		t.Errorf("payment %+v", p)
	}
	// Booked: 20/50 of 54.00 = 21.60; settled 22.50: a loss of 0.90.
	e.wantBalances(t, map[string]bal{
		"assets:stripe:pending usd":    {5214, 0},
		"assets:stripe:available usd":  {-2250, 0},
		"expenses:fees:stripe_fee usd": {186, 0},
		"equity:conversion usd":        {-5400 + 2160, 0},
		"equity:conversion eur":        {5000 - 2000, 0},
		"income:sales eur":             {-5000, 0},
		"income:refunds eur":           {2000, 0},
		"income:fx usd":                {90, 0},
	})
	if b := e.bt(t, c.BalanceTransaction.ID); b.Currency != "usd" || b.PresentmentAmount != 5000 || b.ExchangeRate.String() != "1.08" {
		t.Errorf("charge %+v", b)
	}
	// An estimated refund, adopted at the provider's figure.
	r2 := must(e.l.Refund(e.ctx, ledger.RefundRequest{Key: "r2", PaymentID: "p", RefundID: "re2", Amount: dec("10.00"),
		At: t0.Add(2 * time.Hour)})).ok(t)
	if b := r2.BalanceTransaction; b.Amount != -1080 || !b.SettlementEstimated {
		t.Fatalf("estimated refund %+v", b)
	}
	must(e.l.AdoptSettlement(e.ctx, []ledger.SettlementAdoption{{BalanceTransactionID: r2.BalanceTransaction.ID,
		Currency: "usd", Amount: -1050, Net: -1050, PresentmentCurrency: "eur", PresentmentAmount: -1000}}, t0.Add(72*time.Hour))).ok(t)
	if got := e.balances(t)["income:fx usd"].posted; got != 90-30 {
		t.Errorf("income:fx %d, want 60", got)
	}
	// Told now: adopting again is refused.
	_, err := e.l.AdoptSettlement(e.ctx, []ledger.SettlementAdoption{{BalanceTransactionID: r2.BalanceTransaction.ID,
		Currency: "usd", Amount: -1000, Net: -1000}}, t0.Add(72*time.Hour))
	if !errors.Is(err, ledger.ErrInvalidRequest) {
		t.Errorf("adopting over a told settlement: %v", err)
	}
	e.verify(t)
}
