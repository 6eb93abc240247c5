package ledger

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// SettlementAdoption is the settlement side a provider reported for a
// balance transaction whose settlement the ledger did not know: Amount, Fee
// and Net in minor units of Currency, and the presentment amount (signed
// as Amount) in PresentmentCurrency. A zero ExchangeRate is derived from
// the amounts.
type SettlementAdoption struct {
	BalanceTransactionID string
	Currency             string
	Amount, Fee, Net     int64
	PresentmentCurrency  string
	PresentmentAmount    int64
	ExchangeRate         decimal.Decimal
}

// AdoptSettlement books the provider's settlement side for balance
// transactions whose settlement the ledger was not told, in one transaction,
// as of asOf. Two cases:
//
//   - A movement of a converted payment that the ledger converted at the
//     booking rate (SettlementEstimated): the provider's amount replaces the
//     estimate, and the difference is realized FX gain or loss, booked
//     between the provider balance and income:fx. The fee was told and
//     must agree.
//   - A movement booked in the presentment currency because the ledger did
//     not know the provider converts it: the provider balance moves from
//     the presentment currency into the settlement currency across the
//     conversion account, with the provider's fee. A capture fixes the
//     payment's booking rate; a refund or dispute is converted at it, with
//     FX gain or loss (at its own rate, with none, when the payment's
//     capture is not converted yet). The ledger's fee must be zero: a fee
//     told in the presentment currency cannot be a settlement fact.
//
// The adjusting entry is dated at the transaction (or asOf, when that lies
// in a closed period); the transaction takes the provider's figures, and a
// derived payout follows its new currency. Transactions are taken in
// (created, id) order, so a capture's rate is fixed before its refunds are
// converted. It returns how many transactions changed. Anything else — a
// settlement the ledger was told, a presentment amount or fee that
// differs — is refused with ErrInvalidRequest: it is a real difference.
func (l *Ledger) AdoptSettlement(ctx context.Context, adoptions []SettlementAdoption, asOf time.Time) (int, error) {
	asOf = asOf.UTC()
	n := 0
	err := l.store.Update(ctx, func(tx Tx) error {
		n = 0
		closed, err := tx.ClosedThrough(ctx)
		if err != nil {
			return err
		}
		type item struct {
			a  SettlementAdoption
			bt *BalanceTransaction
		}
		items := make([]item, 0, len(adoptions))
		for _, a := range adoptions {
			bt, err := tx.BalanceTransaction(ctx, a.BalanceTransactionID)
			if err != nil {
				return fmt.Errorf("adopting the settlement of %s: %w", a.BalanceTransactionID, err)
			}
			items = append(items, item{a, bt})
		}
		slices.SortStableFunc(items, func(x, y item) int {
			return cmp.Or(x.bt.Created.Compare(y.bt.Created), cmp.Compare(x.bt.ID, y.bt.ID))
		})
		for _, it := range items {
			changed, err := l.adoptSettlement(ctx, tx, it.a, it.bt, FirstOpen(it.bt.Created, closed))
			if err != nil {
				return fmt.Errorf("adopting the settlement of %s: %w", it.bt.ID, err)
			}
			if changed {
				n++
			}
		}
		return nil
	})
	return n, err
}

func (l *Ledger) adoptSettlement(ctx context.Context, tx Tx, a SettlementAdoption, bt *BalanceTransaction, at time.Time) (bool, error) {
	if a.Net != a.Amount-a.Fee {
		return false, fmt.Errorf("%w: net %d is not amount %d − fee %d", ErrInvalidAmount, a.Net, a.Amount, a.Fee)
	}
	scur, err := l.currencies.Lookup(a.Currency)
	if err != nil {
		return false, err
	}
	balance := fill(l.chart.Available, bt.Provider, "")
	if bt.Status == BTPending {
		balance = fill(l.chart.Pending, bt.Provider, "")
	}
	var ps []Posting
	var pay *Payment
	switch {
	case bt.PresentmentCurrency != "" && bt.SettlementEstimated:
		if scur.Code != bt.Currency || (a.PresentmentCurrency != "" && a.PresentmentCurrency != bt.PresentmentCurrency) ||
			(a.PresentmentAmount != 0 && a.PresentmentAmount != bt.PresentmentAmount) || a.Fee != bt.Fee {
			return false, fmt.Errorf("%w: the provider's %s %d (fee %d, presented %s %d) is not an estimate's settlement of %s %d (fee %d, presented %s %d)",
				ErrInvalidRequest, scur.Upper(), a.Amount, a.Fee, a.PresentmentCurrency, a.PresentmentAmount,
				bt.Currency, bt.Amount, bt.Fee, bt.PresentmentCurrency, bt.PresentmentAmount)
		}
		delta := a.Amount - bt.Amount
		ps = []Posting{{Account: balance, Currency: scur.Code, Amount: delta}, {Account: l.chart.FX, Currency: scur.Code, Amount: -delta}}
	case bt.PresentmentCurrency == "" && bt.Currency != scur.Code:
		if a.PresentmentCurrency != "" && a.PresentmentCurrency != bt.Currency {
			return false, fmt.Errorf("%w: presented in %s, the ledger has %s", ErrInvalidRequest, a.PresentmentCurrency, bt.Currency)
		}
		if a.PresentmentAmount != bt.Amount || bt.Fee != 0 {
			return false, fmt.Errorf("%w: the ledger's %s %d (fee %d) is not the provider's presentment %d with a settlement fee",
				ErrInvalidRequest, bt.Currency, bt.Amount, bt.Fee, a.PresentmentAmount)
		}
		bookedSM := a.Amount
		if bt.PaymentID != "" {
			if pay, err = tx.Payment(ctx, bt.PaymentID); err != nil {
				return false, err
			}
			switch {
			case pay.converted() && pay.SettlementCurrency != scur.Code:
				return false, fmt.Errorf("%w: payment %q settles in %s, not %s", ErrCurrencyMismatch, pay.ID, pay.SettlementCurrency, scur.Code)
			case pay.converted():
				if bookedSM, err = pay.unwind(bt.Amount); err != nil {
					return false, err
				}
			case bt.Type == "charge":
				pay.SettlementCurrency, pay.Settled = scur.Code, a.Amount
			}
			pay.Fees += a.Fee
		}
		ps = []Posting{
			{Account: balance, Currency: bt.Currency, Amount: -bt.Net},
			{Account: balance, Currency: scur.Code, Amount: a.Net},
			{Account: fill(l.chart.Fees, bt.Provider, feeType(bt)), Currency: scur.Code, Amount: a.Fee},
		}
		ps = l.convert(withoutZeros(ps), bt.Currency, scur.Code, bt.Amount, bookedSM)
		bt.PresentmentCurrency, bt.PresentmentAmount = bt.Currency, bt.Amount
		bt.Currency = scur.Code
		if a.Fee != 0 {
			bt.FeeDetails = []FeeDetail{{Type: feeType(bt), Amount: a.Fee}}
		}
	default:
		return false, fmt.Errorf("%w: its settlement (%s %d) was told, not estimated", ErrInvalidRequest, bt.Currency, bt.Amount)
	}
	pcur, err := l.currencies.Lookup(bt.PresentmentCurrency)
	if err != nil {
		return false, err
	}
	bt.Amount, bt.Fee, bt.Net, bt.SettlementEstimated = a.Amount, a.Fee, a.Net, false
	bt.ExchangeRate = a.ExchangeRate
	if bt.ExchangeRate.IsZero() {
		bt.ExchangeRate = RateOf(abs(bt.Amount), scur, abs(bt.PresentmentAmount), pcur)
	}
	if ps = withoutZeros(ps); len(ps) > 0 {
		e := &Entry{Key: "settlement:" + bt.ID, Phase: Posted, OccurredAt: at,
			Description: fmt.Sprintf("Settlement of %s: %s %s as the provider converted %s %s", bt.ID,
				scur.Upper(), FormatMinor(bt.Amount, scur.Digits), pcur.Upper(), FormatMinor(bt.PresentmentAmount, pcur.Digits)),
			Source: btSource(bt), Postings: ps}
		if err := l.insert(ctx, tx, e); err != nil {
			return false, err
		}
	}
	if bt.PayoutDerived {
		if bt.PayoutID, err = tx.AutomaticPayoutFor(ctx, bt.Provider, bt.Currency, bt.AvailableOn); err != nil {
			return false, err
		}
	}
	if err := tx.UpdateBalanceTransaction(ctx, bt); err != nil {
		return false, err
	}
	if pay != nil {
		if err := tx.SavePayment(ctx, pay); err != nil {
			return false, err
		}
	}
	return true, nil
}

// feeType names the fee account of a balance transaction's fee, as the
// lifecycle names them: dispute fees apart, the provider's fee otherwise.
func feeType(bt *BalanceTransaction) string {
	if bt.SourceType == "dispute" {
		return "dispute"
	}
	return bt.Provider + "_fee"
}
