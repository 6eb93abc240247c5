package ledger

import "strings"

// Canonical kinds of balance transactions. Providers name their types and
// reporting categories differently; KindOf maps both vocabularies onto these.
const (
	KindCharge          = "charge"
	KindRefund          = "refund"
	KindFee             = "fee"
	KindFeeRefund       = "fee_refund"
	KindDispute         = "dispute"
	KindDisputeReversal = "dispute_reversal"
	KindPayout          = "payout"
	KindPayoutFailure   = "payout_failure"
	KindOther           = "other"
)

// kindByCategory maps reporting categories (Stripe's vocabulary, which the
// ledger's balance transactions use too).
var kindByCategory = map[string]string{
	"charge":                   KindCharge,
	"refund":                   KindRefund,
	"partial_capture_reversal": KindRefund,
	"charge_failure":           KindRefund,
	"refund_failure":           KindCharge,
	"fee":                      KindFee,
	"tax":                      KindFee,
	"platform_earning_refund":  KindFeeRefund,
	"dispute":                  KindDispute,
	"dispute_reversal":         KindDisputeReversal,
	"payout":                   KindPayout,
	"payout_reversal":          KindPayoutFailure,
}

// kindByType maps provider types: Stripe's and JustiFi's
// payment_balance_txn_type values.
var kindByType = map[string]string{
	"charge":                   KindCharge,
	"payment":                  KindCharge,
	"refund":                   KindRefund,
	"payment_refund":           KindRefund,
	"payment_failure_refund":   KindRefund,
	"stripe_fee":               KindFee,
	"stripe_fx_fee":            KindFee,
	"tax_fee":                  KindFee,
	"payment_fee":              KindFee,
	"dispute_fee":              KindFee,
	"processing_fee":           KindFee,
	"fee_refund":               KindFeeRefund,
	"dispute_fee_refund":       KindFeeRefund,
	"application_fee_returned": KindFeeRefund,
	"application_fee_refund":   KindFeeRefund,
	"dispute":                  KindDispute,
	"dispute_refund":           KindDisputeReversal,
	"payout":                   KindPayout,
	"payout_failure":           KindPayoutFailure,
	"payout_cancel":            KindPayoutFailure,
}

// KindOf returns the canonical kind of a balance transaction from its type
// and reporting category. A type the provider is specific about (JustiFi's
// payment_fee, say) wins over a generic category; otherwise the category
// decides; an unknown pair is KindOther.
func KindOf(typ, category string) string {
	t, c := strings.ToLower(typ), strings.ToLower(category)
	if k, ok := kindByType[t]; ok && t != "adjustment" {
		if ck, ok := kindByCategory[c]; ok && (t == "charge" || t == "payment" || t == "refund") {
			return ck
		}
		return k
	}
	if k, ok := kindByCategory[c]; ok {
		return k
	}
	return KindOther
}
