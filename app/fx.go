package app

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
)

// adoptSettlements books the provider's settlement side of converted
// movements whose settlement the ledger had estimated or not known (through
// ledger.AdoptSettlement, in one transaction), and logs each. It returns how
// many transactions changed.
func adoptSettlements(ctx context.Context, books *ledger.Ledger, as []reconcile.Adoption, o Options) (int, error) {
	var in []ledger.SettlementAdoption
	for _, a := range as {
		s := a.Settlement
		if s == nil {
			continue
		}
		var rate decimal.Decimal
		if s.ExchangeRate != "" {
			var err error
			if rate, err = decimal.NewFromString(s.ExchangeRate); err != nil {
				return 0, fmt.Errorf("record %s: exchange rate %q: %w", a.ProviderID, s.ExchangeRate, err)
			}
		}
		in = append(in, ledger.SettlementAdoption{BalanceTransactionID: a.LedgerID, Currency: s.Currency, Amount: s.Amount,
			Fee: s.Fee, Net: s.Net, PresentmentCurrency: s.PresentmentCurrency, PresentmentAmount: s.PresentmentAmount,
			ExchangeRate: rate})
		o.Logger.Debug("adopting the provider's settlement", "balance_transaction", a.LedgerID, "record", a.ProviderID,
			"currency", s.Currency, "amount", s.Amount, "fee", s.Fee, "presentment_currency", s.PresentmentCurrency,
			"presentment_amount", s.PresentmentAmount)
	}
	if len(in) == 0 {
		return 0, nil
	}
	n, err := books.AdoptSettlement(ctx, in, o.Now())
	if err != nil {
		return 0, fmt.Errorf("adopting the provider's settlements: %w", err)
	}
	if n > 0 {
		o.Logger.Info("adopted the provider's settlement of converted transactions", "transactions", n,
			"at", o.Now().UTC().Format(time.RFC3339))
	}
	return n, nil
}
