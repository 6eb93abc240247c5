package ledger

import "testing"

func TestKindOf(t *testing.T) {
	cases := []struct{ typ, cat, want string }{
		{"charge", "charge", KindCharge},
		{"payment", "charge", KindCharge},
		{"refund", "partial_capture_reversal", KindRefund},
		{"adjustment", "dispute", KindDispute},
		{"adjustment", "dispute_reversal", KindDisputeReversal},
		{"adjustment", "other_adjustment", KindOther},
		{"payout", "payout", KindPayout},
		{"payout_failure", "payout_reversal", KindPayoutFailure},
		{"stripe_fee", "fee", KindFee},
		{"fee_refund", "fee", KindFeeRefund},
		{"payment_fee", "", KindFee},
		{"dispute_fee", "", KindFee},
		{"dispute_refund", "", KindDisputeReversal},
		{"application_fee_returned", "", KindFeeRefund},
		{"", "dispute", KindDispute},
		{"", "refund", KindRefund},
		{"issuing_transaction", "issuing_transaction", KindOther},
		{"CHARGE", "", KindCharge},
	}
	for _, c := range cases {
		if got := KindOf(c.typ, c.cat); got != c.want {
			t.Errorf("KindOf(%q, %q) = %q, want %q", c.typ, c.cat, got, c.want)
		}
	}
}
