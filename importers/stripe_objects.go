package importers

import "github.com/settlehq/settle/provider"

// stripe-objects-json reads Stripe charge, refund, dispute and payout objects
// as the API lists them ({"object":"list","data":[…]} or a bare array; one
// file may mix kinds). Amounts are minor units, times Unix seconds.
//
// Every object becomes one payment-grain record whose Type is the object kind
// and whose ID and SourceRef are the object's own id:
//   - charge (ch_): Amount amount, Captured amount_captured, Refunded
//     amount_refunded, Status status; a charge only says whether it is
//     disputed, so Disputed is amount_captured when disputed is true (the
//     dispute object has the exact amount). PaymentRef is payment_intent,
//     else the charge itself.
//   - refund (re_): Amount and Refunded are the refund's amount, Status its
//     status; PaymentRef is the charge it refunds.
//   - dispute (dp_): Amount and Disputed are the disputed amount, Status the
//     dispute status (warning_needs_response … won, lost); PaymentRef is the
//     charge.
//   - payout (po_): Amount is the payout amount, Status its status,
//     AvailableOn its arrival_date and PayoutID its id.
//
// Test is true when livemode is false.
func stripeObjectsConv(cc *currencyCache) jsonConv {
	return func(o *jobj, rec *provider.Record) {
		rec.Grain = provider.PaymentGrain
		obj := o.reqStr("object")
		rec.Type = obj
		rec.ID = o.reqStr("id")
		rec.SourceRef = rec.ID
		cur := o.currency("currency", cc)
		rec.Currency = cur.Code
		rec.Amount = o.minor("amount", true)
		rec.Status = o.str("status")
		rec.Created = o.unix("created", false, true)
		rec.Description = o.str("description")
		rec.Test = o.get("livemode") != nil && !o.boolean("livemode")
		switch obj {
		case "charge":
			rec.Captured = o.minor("amount_captured", false)
			rec.Refunded = o.minor("amount_refunded", false)
			if o.boolean("disputed") {
				rec.Disputed = rec.Captured
			}
			rec.PaymentRef = o.ref("payment_intent")
			if rec.PaymentRef == "" {
				rec.PaymentRef = rec.ID
			}
		case "refund":
			rec.Refunded = rec.Amount
			rec.PaymentRef = o.ref("charge")
			if rec.PaymentRef == "" {
				rec.PaymentRef = o.ref("payment_intent")
			}
		case "dispute":
			rec.Disputed = rec.Amount
			rec.PaymentRef = o.ref("charge")
			if rec.PaymentRef == "" {
				rec.PaymentRef = o.ref("payment_intent")
			}
		case "payout":
			rec.AvailableOn = o.unix("arrival_date", false, false)
			rec.PayoutID = rec.ID
		case "":
		default:
			o.fail("object", errUnexpectedObject(obj, "charge", "refund", "dispute", "payout"))
		}
	}
}
