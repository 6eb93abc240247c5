package importers

import "github.com/settlehq/settle/provider"

// paymentsv3-json reads "Payments API V3" payments and refunds: a bare array,
// a {"data":[…]} list or one object. Amounts are cents, times ISO 8601
// (RFC 3339).
//
// Payments and refunds may be mixed; an object is a refund when its object
// field is "refund" or it names the refunded payment (payment_id or
// payment). Refunds are emitted as records of their own rather than folded
// into their payment, which would need the whole file in memory:
//   - payment (pay_): payment grain, Type "payment"; ID, SourceRef and
//     PaymentRef are the pay_ id; Amount is amount; the API has no separate
//     capture, so Captured is amount when the status is succeeded; Status
//     is kept as given.
//   - refund: payment grain, Type "refund"; ID and SourceRef are the
//     refund's id, PaymentRef the payment's; Amount and Refunded are the
//     refund's amount, Status its status, Description its reason. The API
//     defaults a refund's amount to the whole payment, which the refund
//     object alone cannot tell, so an export must state it: a refund without
//     amount (or currency) is an error rather than a guess.
func paymentsV3Conv(cc *currencyCache) jsonConv {
	return func(o *jobj, rec *provider.Record) {
		rec.Grain = provider.PaymentGrain
		rec.ID = o.reqStr("id")
		rec.SourceRef = rec.ID
		cur := o.currency("currency", cc)
		rec.Currency = cur.Code
		rec.Amount = o.minor("amount", true)
		rec.Status = o.str("status")
		rec.Created = o.rfc3339("created_at", false)
		payment := o.str("payment_id")
		if payment == "" {
			payment = o.ref("payment")
		}
		if obj := o.str("object"); obj == "refund" || payment != "" {
			rec.Type = "refund"
			rec.PaymentRef = payment
			if payment == "" {
				o.missing("payment_id")
			}
			rec.Refunded = rec.Amount
			rec.Description = o.str("reason")
			return
		} else if obj != "" && obj != "payment" {
			o.fail("object", errUnexpectedObject(obj, "payment", "refund"))
		}
		rec.Type = "payment"
		rec.PaymentRef = rec.ID
		if rec.Status == "succeeded" {
			rec.Captured = rec.Amount
		}
		rec.Description = o.str("description")
		if o.err == nil && o.get("created_at") == nil {
			o.missing("created_at")
		}
	}
}
