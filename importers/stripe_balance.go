package importers

import "github.com/settlehq/settle/provider"

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
// payout_cancel or payout_failure), from its po_ source.
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
	}
}
