package reconcile

import "github.com/settlehq/settle/ledger"

// Canonical kinds of balance movements, shared by both sides of a match.
const (
	KindCharge          = ledger.KindCharge
	KindRefund          = ledger.KindRefund
	KindDispute         = ledger.KindDispute
	KindDisputeReversal = ledger.KindDisputeReversal
	KindPayout          = ledger.KindPayout
	KindPayoutFailure   = ledger.KindPayoutFailure
	KindFee             = ledger.KindFee
	KindFeeRefund       = ledger.KindFeeRefund
	KindOther           = ledger.KindOther
)

// kinds numbers the canonical kinds for compact join keys.
var kinds = []string{KindOther, KindCharge, KindRefund, KindDispute, KindDisputeReversal,
	KindPayout, KindPayoutFailure, KindFee, KindFeeRefund}

func kindCode(k string) uint8 {
	for i, s := range kinds {
		if s == k {
			return uint8(i)
		}
	}
	return 0
}

// Kind maps a balance transaction's type and reporting category, in the
// vocabulary of the provider or of the ledger, to a canonical kind: charge,
// refund, dispute, dispute_reversal, payout, payout_failure, fee, fee_refund
// or other. The ledger's own types (charge, refund, adjustment with category
// dispute or dispute_reversal, payout, payout_failure, fee_refund) and
// Stripe's and JustiFi's types all go through the one table the ledger
// books provider transactions with (ledger.KindOf), so that what settle
// books from a provider export is matched back to that export. No two
// providers' vocabularies clash, so the provider does not enter into it.
func Kind(typ, reportingCategory string) string {
	return ledger.KindOf(typ, reportingCategory)
}
