package importers

import (
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// stripe-balance-json reads Stripe balance transactions as the API lists
// them: {"object":"list","data":[{"object":"balance_transaction",…}],…} or
// a bare array of them. Amounts are signed minor units, times Unix seconds.
//
// Normalization (balance grain): ID is the txn_ id; Amount, Fee and Net are
// taken as given and net = amount − fee is checked; Type and
// ReportingCategory are kept as given (open enums); SourceRef is source,
// whether an id or an expanded object with an id; Status is pending or
// available. A balance transaction does not name the payout that swept it,
// so PayoutID is set only on a payout's own transaction (type payout,
// payout_cancel or payout_failure), from its po_ source. A converted
// transaction's exchange_rate is kept as an exact decimal string; the
// presentment side is read only from an expanded source object (a charge's
// amount and currency), since the transaction itself does not carry it.
func stripeBalanceConv(cc *currencyCache) jsonConv {
	return func(o *jobj, rec *provider.Record) {
		rec.Grain = provider.BalanceGrain
		if obj := o.str("object"); obj != "" && obj != "balance_transaction" {
			o.fail("object", errUnexpectedObject(obj, "balance_transaction"))
		}
		rec.ID = o.reqStr("id")
		cur := o.currency("currency", cc)
		rec.Currency = cur.Code
		rec.Amount = o.minor("amount", true)
		rec.Fee = o.minor("fee", true)
		rec.Net = o.minor("net", true)
		rec.Type = o.reqStr("type")
		rec.ReportingCategory = o.str("reporting_category")
		rec.SourceRef = o.ref("source")
		rec.Status = o.str("status")
		rec.Created = o.unix("created", false, true)
		rec.AvailableOn = o.unix("available_on", false, false)
		rec.Description = o.str("description")
		switch rec.Type {
		case "payout", "payout_cancel", "payout_failure":
			rec.PayoutID = rec.SourceRef
		}
		o.checkNet(rec)
		stripeConversion(o, rec)
	}
}

// stripeConversion reads exchange_rate (a JSON number, read as an exact
// decimal) and, when source is an expanded charge, refund or dispute in
// another currency, the presentment side from its amount and currency,
// signed as amount.
func stripeConversion(o *jobj, rec *provider.Record) {
	lit, ok := o.number("exchange_rate", false)
	if !ok {
		return
	}
	rate, err := decimal.NewFromString(lit)
	if err != nil || rate.Sign() <= 0 {
		o.fail("exchange_rate", fmt.Errorf("%w: %s is not a positive exchange rate", ErrBadValue, lit))
		return
	}
	rec.ExchangeRate = rate.String()
	src := o.get("source")
	if len(src) == 0 || src[0] != '{' {
		return
	}
	var x struct {
		Amount   *json.Number `json:"amount"`
		Currency string       `json:"currency"`
	}
	if json.Unmarshal(src, &x) != nil || x.Amount == nil || x.Currency == "" {
		return
	}
	cur, err := ledger.LookupCurrency(x.Currency)
	if err != nil || cur.Code == rec.Currency {
		return
	}
	m, err := parseMinorString(x.Amount.String())
	if err != nil {
		o.fail("source", fmt.Errorf("source amount: %w", err))
		return
	}
	if m < 0 {
		m = -m
	}
	if rec.Amount < 0 {
		m = -m
	}
	rec.PresentmentAmount, rec.PresentmentCurrency = m, cur.Code
}
