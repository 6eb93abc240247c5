package importers

import "github.com/settlehq/settle/provider"

// justifi-payments-json reads JustiFi payments: the list response
// {"id":…,"type":"array","data":[…],"page_info":…}, a single payment response
// {"type":"payment","data":{…}}, or a bare array. Amounts are cents, times
// RFC 3339.
//
// Normalization (payment grain, Type "payment"): ID, SourceRef and PaymentRef
// are the py_ id; Amount is amount; Captured is amount when captured is true
// (JustiFi captures a payment whole) and 0 otherwise; Refunded is
// amount_refunded; Disputed amount_disputed; Fee fee_amount (informational);
// Status is kept as given (pending, authorized, succeeded, …, disputed);
// Test is is_test.
func justifiPaymentsConv(cc *currencyCache) jsonConv {
	return func(o *jobj, rec *provider.Record) {
		rec.Grain = provider.PaymentGrain
		rec.Type = "payment"
		rec.ID = o.reqStr("id")
		rec.SourceRef = rec.ID
		rec.PaymentRef = rec.ID
		cur := o.currency("currency", cc)
		rec.Currency = cur.Code
		rec.Amount = o.minor("amount", true)
		if o.boolean("captured") {
			rec.Captured = rec.Amount
		}
		rec.Refunded = o.minor("amount_refunded", false)
		rec.Disputed = o.minor("amount_disputed", false)
		rec.Fee = o.minor("fee_amount", false)
		rec.Status = o.reqStr("status")
		rec.Created = o.rfc3339("created_at", true)
		rec.Description = o.str("description")
		rec.Test = o.boolean("is_test")
	}
}
