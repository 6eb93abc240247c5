package importers

import (
	"time"

	"github.com/settlehq/settle/provider"
)

// justifi-payout-csv reads JustiFi's payout report CSV: one row per account
// balance transaction swept into a payout, amounts in cents. Columns are
// found by header name; required: id, type, currency, amount, fee, net,
// created_at. Times may be RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC) or a date.
//
// Normalization (balance grain): ID is id; Type is type as given (open enum:
// seller_payment, seller_payment_refund, processing_fee, platform_fee,
// payout, refund, fee, …) and ReportingCategory its Stripe-style category
// (seller_payment → charge, seller_payment_refund → refund, processing_fee
// and platform_fee → fee, others their own name). The report carries amount,
// fee and net side by side, so they are kept exactly as signed in the file
// and net = amount − fee is checked. SourceRef is source_id; PaymentRef is
// payment_id, else source_payment_id; PayoutID is payout_id; AvailableOn is
// available_on; Description is source_type.
type justifiPayout struct {
	cc                                    *currencyCache
	id, typ, currency, amount, fee, net   int
	created, availableOn, source, payment int
	sourcePayment, payout, sourceType     int
	layouts                               []string
}

func newJustiFiPayout(cc *currencyCache, _ *Options) (csvFormat, rune, error) {
	return &justifiPayout{cc: cc, layouts: []string{time.RFC3339Nano, layoutStripeReport, "2006-01-02T15:04:05", layoutDate}}, ',', nil
}

func (j *justifiPayout) header(h *csvHeader) error {
	req := map[string][]string{}
	for _, c := range []string{"id", "type", "currency", "amount", "fee", "net", "created_at"} {
		req[c] = []string{c}
	}
	if err := h.require(req); err != nil {
		return err
	}
	j.id, j.typ, j.currency = h.index("id"), h.index("type"), h.index("currency")
	j.amount, j.fee, j.net = h.index("amount"), h.index("fee"), h.index("net")
	j.created, j.availableOn = h.index("created_at"), h.index("available_on")
	j.source, j.payment, j.sourcePayment = h.index("source_id"), h.index("payment_id"), h.index("source_payment_id")
	j.payout, j.sourceType = h.index("payout_id"), h.index("source_type")
	return nil
}

func (j *justifiPayout) row(r *csvRow, rec *provider.Record) {
	rec.Grain = provider.BalanceGrain
	rec.ID = r.req(j.id)
	rec.Type = r.req(j.typ)
	rec.ReportingCategory = justifiCategory(rec.Type)
	cur := r.currency(j.currency, j.cc)
	rec.Currency = cur.Code
	rec.Amount = r.minor(j.amount, true)
	rec.Fee = r.minor(j.fee, true)
	rec.Net = r.minor(j.net, true)
	rec.Created = r.time(j.created, true, j.layouts...)
	rec.AvailableOn = r.time(j.availableOn, false, j.layouts...)
	rec.SourceRef = r.get(j.source)
	rec.PaymentRef = r.get(j.payment)
	if rec.PaymentRef == "" {
		rec.PaymentRef = r.get(j.sourcePayment)
	}
	rec.PayoutID = r.get(j.payout)
	rec.Description = r.get(j.sourceType)
	r.checkNet(j.net, rec)
}
