package importers

import "github.com/settlehq/settle/provider"

// justifi-balance-json reads JustiFi payment balance transactions (pbt_):
// {"type":"array","data":[…],"page_info":…} or a bare array. Amounts are
// cents, times RFC 3339.
//
// Normalization (balance grain): ID is the pbt_ id; Type is
// payment_balance_txn_type as given (open enum); PaymentRef is payment_id;
// SourceRef is source_id, else payment_id. JustiFi books each fee as its own
// transaction (payment_fee, dispute_fee), so Fee is 0 and Net = Amount, the
// way Stripe books a stripe_fee transaction. ReportingCategory is the
// Stripe-style category of the type (payment → charge, payment_fee,
// dispute_fee, fee_refund, dispute_fee_refund and application_fee_returned →
// fee, refund → refund, dispute → dispute, dispute_refund →
// dispute_reversal, payout → payout; others keep the type's name).
//
// Signs: JustiFi documents none, and its examples show positive amounts.
// settle signs balance amounts by their effect on the balance, as Stripe
// does, so a positive amount of a type that takes money out of the payment's
// balance (payment_fee, refund, dispute, dispute_fee, payout) is negated.
// Types that put money in (payment, fee_refund, dispute_fee_refund,
// dispute_refund — funds returned after a dispute — and
// application_fee_returned) keep their sign. A negative amount is taken as
// already signed and kept, as is the amount of any unknown type.
func justifiBalanceConv(cc *currencyCache) jsonConv {
	return func(o *jobj, rec *provider.Record) {
		rec.Grain = provider.BalanceGrain
		rec.ID = o.reqStr("id")
		rec.Type = o.reqStr("payment_balance_txn_type")
		rec.ReportingCategory = justifiCategory(rec.Type)
		cur := o.currency("currency", cc)
		rec.Currency = cur.Code
		rec.Amount = o.minor("amount", true)
		if rec.Amount > 0 && justifiDebit(rec.Type) {
			rec.Amount = -rec.Amount
		}
		rec.Net = rec.Amount
		rec.PaymentRef = o.str("payment_id")
		rec.SourceRef = o.str("source_id")
		if rec.SourceRef == "" {
			rec.SourceRef = rec.PaymentRef
		}
		rec.Created = o.rfc3339("created_at", true)
		rec.Description = o.str("source_type")
	}
}

// justifiDebit reports whether a payment balance transaction type takes
// money out of the balance.
func justifiDebit(typ string) bool {
	switch typ {
	case "payment_fee", "refund", "dispute", "dispute_fee", "payout":
		return true
	}
	return false
}

func justifiCategory(typ string) string {
	switch typ {
	case "payment", "seller_payment":
		return "charge"
	case "payment_fee", "dispute_fee", "fee_refund", "dispute_fee_refund", "application_fee_returned",
		"processing_fee", "platform_fee":
		return "fee"
	case "dispute_refund":
		return "dispute_reversal"
	case "seller_payment_refund":
		return "refund"
	}
	return typ // refund, dispute, payout, fee, and unknown types
}
