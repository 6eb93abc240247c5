package importers

// stripe-itemized-csv reads Stripe's itemized report CSVs:
// balance_change_from_activity.itemized.*, payout_reconciliation.itemized.*
// and payouts.itemized.*. Columns are found by header name. Amounts are
// decimal strings in major units; times are "YYYY-MM-DD HH:MM:SS" in UTC (a
// bare date is accepted too).
//
// Required columns: balance_transaction_id, currency, gross, fee, net,
// reporting_category, and a time: created_utc, created, effective_at_utc or
// effective_at (payouts.itemized has only the last two). Version 3 reports'
// "created" is in the report's time zone, which the file does not state: it
// is read as UTC, so prefer the _utc columns when both are present.
//
// Normalization (balance grain): Amount is gross, Fee fee, Net net (checked:
// net = gross − fee). ReportingCategory is kept as given; the report has no
// type column, so Type is derived from the category (charge → charge, fee →
// stripe_fee, dispute → adjustment, …; an unknown category becomes its own
// Type). SourceRef is source_id; PaymentRef is charge_id, else
// payment_intent_id; PayoutID is automatic_payout_id, else payout_id. The
// reports carry no balance status, so Status is empty. customer_facing_amount
// and customer_facing_currency, when a row has them in another currency than
// its own, are its presentment side (PresentmentAmount, signed as gross, and
// PresentmentCurrency).

import (
	"fmt"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// stripeTypeOfCategory is the balance-transaction type most transactions of
// a reporting category have (Stripe's own mapping, inverted).
func stripeTypeOfCategory(cat string) string {
	switch cat {
	case "fee":
		return "stripe_fee"
	case "tax":
		return "tax_fee"
	case "dispute", "dispute_reversal", "other_adjustment":
		return "adjustment"
	case "partial_capture_reversal":
		return "refund"
	case "charge_failure":
		return "payment_failure_refund"
	case "platform_earning":
		return "application_fee"
	case "platform_earning_refund":
		return "application_fee_refund"
	case "payout_reversal":
		return "payout_failure"
	case "connect_reserved_funds":
		return "reserve_transaction"
	case "risk_reserved_funds":
		return "reserved_funds"
	}
	// charge, refund, payout, transfer, transfer_reversal, topup, advance, …
	// share their type's name; unknown categories are kept as they are.
	return cat
}

type stripeItemized struct {
	cc                                        *currencyCache
	id, currency, gross, fee, net, category   int
	created, availableOn, source, description int
	payout, charge, paymentIntent             int
	facingAmount, facingCurrency              int
	lastCur                                   string
	cur                                       ledger.Currency
}

func newStripeItemized(cc *currencyCache, _ *Options) (csvFormat, rune, error) {
	return &stripeItemized{cc: cc}, ',', nil
}

func (s *stripeItemized) header(h *csvHeader) error {
	if err := h.require(map[string][]string{
		"id":       {"balance_transaction_id"},
		"currency": {"currency"},
		"gross":    {"gross"},
		"fee":      {"fee"},
		"net":      {"net"},
		"category": {"reporting_category"},
		"created":  {"created_utc", "created", "effective_at_utc", "effective_at"},
	}); err != nil {
		return err
	}
	s.id = h.index("balance_transaction_id")
	s.currency = h.index("currency")
	s.gross = h.index("gross")
	s.fee = h.index("fee")
	s.net = h.index("net")
	s.category = h.index("reporting_category")
	s.created = h.index("created_utc", "created", "effective_at_utc", "effective_at")
	s.availableOn = h.index("available_on_utc", "available_on")
	s.source = h.index("source_id")
	s.description = h.index("description")
	s.payout = h.index("automatic_payout_id", "payout_id")
	s.charge = h.index("charge_id")
	s.paymentIntent = h.index("payment_intent_id")
	s.facingAmount = h.index("customer_facing_amount")
	s.facingCurrency = h.index("customer_facing_currency")
	return nil
}

func (s *stripeItemized) row(r *csvRow, rec *provider.Record) {
	rec.Grain = provider.BalanceGrain
	rec.ID = r.req(s.id)
	// Rows of one report nearly always share a currency: skip the lookup.
	if c := r.get(s.currency); c == "" || c != s.lastCur {
		cur := r.currency(s.currency, s.cc)
		if r.err != nil {
			return
		}
		s.cur, s.lastCur = cur, c
	}
	rec.Currency = s.cur.Code
	rec.Amount = r.major(s.gross, s.cur, true)
	rec.Fee = r.major(s.fee, s.cur, true)
	rec.Net = r.major(s.net, s.cur, true)
	rec.ReportingCategory = r.req(s.category)
	rec.Type = stripeTypeOfCategory(rec.ReportingCategory)
	rec.Created = r.time(s.created, true, layoutStripeReport, layoutDate)
	rec.AvailableOn = r.time(s.availableOn, false, layoutStripeReport, layoutDate)
	rec.SourceRef = r.get(s.source)
	rec.Description = r.get(s.description)
	rec.PayoutID = r.get(s.payout)
	rec.PaymentRef = r.get(s.charge)
	if rec.PaymentRef == "" {
		rec.PaymentRef = r.get(s.paymentIntent)
	}
	r.checkNet(s.net, rec)
	s.presentment(r, rec)
}

// presentment reads customer_facing_amount and customer_facing_currency:
// the amount the customer paid or got back, in the currency they saw.
// Stripe gives it unsigned; it takes the sign of gross. A row presented in
// its own settlement currency is no conversion and keeps no presentment.
func (s *stripeItemized) presentment(r *csvRow, rec *provider.Record) {
	amt, code := r.get(s.facingAmount), r.get(s.facingCurrency)
	if amt == "" && code == "" {
		return
	}
	if amt == "" || code == "" {
		col, missing := s.facingAmount, "customer_facing_amount"
		if amt == "" {
			col = s.facingCurrency
		} else {
			missing = "customer_facing_currency"
		}
		r.fail(col, fmt.Errorf("%w: %s is missing beside the other customer_facing column", ErrMissingField, missing))
		return
	}
	cur := r.currency(s.facingCurrency, s.cc)
	m := r.major(s.facingAmount, cur, true)
	if r.err != nil || cur.Code == rec.Currency {
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
