package reconcile

import (
	"strings"

	"github.com/settlehq/settle/ledger"
)

// NotCollected is the status of a provider payment that collected nothing
// and never will as it stands (failed, a draft or open invoice, an
// uncollectible one): the ledger need not hold it, so one missing from the
// ledger is not reported.
const NotCollected ledger.PaymentStatus = "not_collected"

// settledWord marks provider words that only say the money was taken; the
// ledger status then follows from the amounts, as the ledger derives it.
const settledWord ledger.PaymentStatus = ""

// paymentStatuses maps providers' payment status words onto ledger payment
// statuses. The words do not clash between the providers settle reads:
// JustiFi succeeded, partially_refunded, fully_refunded, disputed,
// authorized, canceled, failed; Whop paid, open, void, draft, uncollectible;
// Stripe charges succeeded (with refunded and disputed amounts); Payments
// API V3 succeeded; the card payments API requires_capture, succeeded,
// canceled. A word not listed (pending, processing, …) is not compared.
var paymentStatuses = map[string]ledger.PaymentStatus{
	"succeeded":               settledWord,
	"paid":                    settledWord,
	"captured":                settledWord,
	"partially_refunded":      ledger.PaymentPartiallyRefunded,
	"fully_refunded":          ledger.PaymentRefunded,
	"refunded":                ledger.PaymentRefunded,
	"disputed":                ledger.PaymentDisputed,
	"authorized":              ledger.PaymentAuthorized,
	"requires_capture":        ledger.PaymentAuthorized,
	"canceled":                ledger.PaymentCanceled,
	"cancelled":               ledger.PaymentCanceled,
	"void":                    ledger.PaymentCanceled,
	"failed":                  NotCollected,
	"uncollectible":           NotCollected,
	"open":                    NotCollected,
	"draft":                   NotCollected,
	"requires_payment_method": NotCollected,
	"requires_confirmation":   NotCollected,
	"requires_action":         NotCollected,
}

// PaymentStatusOf maps a provider's payment status word, with the payment's
// captured, refunded and disputed amounts, onto a ledger payment status. It
// reports false for a word it does not know. The provider is taken for
// words that would mean different things at different providers; none
// does yet.
func PaymentStatusOf(provider, word string, captured, refunded, disputed int64) (ledger.PaymentStatus, bool) {
	_ = provider
	st, ok := paymentStatuses[strings.ToLower(strings.TrimSpace(word))]
	if !ok {
		return "", false
	}
	if st != settledWord {
		return st, true
	}
	switch {
	case disputed > 0:
		return ledger.PaymentDisputed, true
	case refunded == 0:
		return ledger.PaymentCaptured, true
	case refunded >= captured:
		return ledger.PaymentRefunded, true
	default:
		return ledger.PaymentPartiallyRefunded, true
	}
}
