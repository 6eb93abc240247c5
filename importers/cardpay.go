package importers

import (
	"encoding/json"

	"github.com/settlehq/settle/provider"
)

// cardpay-json reads the card payments API's payment objects
// ({"object":"payment",…}): a bare array, a {"data":[…]} list or one object.
// Amounts are cents; created_at is MILLISECONDS since the Unix epoch. The
// API documents amounts "in USD cents" and its payment has no currency
// field, so Currency is usd unless the object has a currency field.
//
// Normalization (payment grain, Type "payment"): ID, SourceRef and PaymentRef
// are the id; Amount is amount; Captured is amount_received; Refunded is
// amount_refunded; Status is kept as given (requires_capture, succeeded,
// failed, canceled, …); Test is true when live is false. The API names a
// dispute but not its amount unless expanded: Disputed is the expanded
// dispute's amount, else amount_received when a dispute id is present.
func cardPayConv(cc *currencyCache) jsonConv {
	return func(o *jobj, rec *provider.Record) {
		rec.Grain = provider.PaymentGrain
		rec.Type = "payment"
		if obj := o.str("object"); obj != "" && obj != "payment" {
			o.fail("object", errUnexpectedObject(obj, "payment"))
		}
		rec.ID = o.reqStr("id")
		rec.SourceRef = rec.ID
		rec.PaymentRef = rec.ID
		if o.get("currency") != nil {
			rec.Currency = o.currency("currency", cc).Code
		} else {
			rec.Currency = "usd" // the API documents amounts "in USD cents"
		}
		rec.Amount = o.minor("amount", true)
		rec.Captured = o.minor("amount_received", false)
		rec.Refunded = o.minor("amount_refunded", false)
		rec.Status = o.reqStr("status")
		rec.Created = o.unix("created_at", true, true)
		rec.Description = o.str("description")
		rec.Test = o.get("live") != nil && !o.boolean("live")
		if d := o.get("dispute"); d != nil {
			rec.Disputed = rec.Captured
			if d[0] == '{' {
				sub := &jobj{file: o.file, line: o.line, raw: o.raw}
				if err := json.Unmarshal(d, &sub.f); err == nil && sub.get("amount") != nil {
					rec.Disputed = sub.minor("amount", false)
					if sub.err != nil {
						o.fail("dispute", sub.err.(*ParseError).Err)
					}
				}
			}
		}
	}
}
