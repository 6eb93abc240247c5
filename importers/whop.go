package importers

import "github.com/settlehq/settle/provider"

// whop-payments-json reads Whop v5 payments: a list {"data":[…],
// "pagination":…}, a bare array, or one payment object. Amounts are MAJOR
// units given as JSON numbers (6.9 is $6.90); they are read as exact
// decimals, never floats, and converted to the currency's minor units (too
// many decimals is an error). Times are Unix seconds. Whop lists "eth",
// which is not ISO 4217: it is refused unless registered in
// Options.Currencies.
//
// Normalization (payment grain, Type "payment"): ID, SourceRef and PaymentRef
// are the pay_ id; Amount is final_amount (what the user paid, after
// discounts and taxes); Captured is final_amount when the status is paid and
// 0 otherwise (an open, draft, void or uncollectible invoice collected
// nothing); Refunded is refunded_amount; Status is kept as given; Created is
// created_at. Whop has no disputed amount.
func whopPaymentsConv(cc *currencyCache) jsonConv {
	return func(o *jobj, rec *provider.Record) {
		rec.Grain = provider.PaymentGrain
		rec.Type = "payment"
		rec.ID = o.reqStr("id")
		rec.SourceRef = rec.ID
		rec.PaymentRef = rec.ID
		cur := o.currency("currency", cc)
		rec.Currency = cur.Code
		rec.Amount = o.major("final_amount", cur, true)
		rec.Status = o.reqStr("status")
		if rec.Status == "paid" {
			rec.Captured = rec.Amount
		}
		rec.Refunded = o.major("refunded_amount", cur, false)
		rec.Created = o.unix("created_at", false, true)
		rec.Description = o.str("calculated_statement_descriptor")
	}
}
