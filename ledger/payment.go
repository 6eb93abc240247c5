package ledger

import (
	"time"

	"github.com/shopspring/decimal"
)

// PaymentStatus is where a payment is in its lifecycle.
type PaymentStatus string

// Payment statuses.
const (
	PaymentAuthorized        PaymentStatus = "authorized"
	PaymentCaptured          PaymentStatus = "captured"
	PaymentCanceled          PaymentStatus = "canceled"
	PaymentPartiallyRefunded PaymentStatus = "partially_refunded"
	PaymentRefunded          PaymentStatus = "refunded"
	PaymentDisputed          PaymentStatus = "disputed"
)

// Payment is a customer payment through a provider. Amounts are minor units
// of Currency. Captured never exceeds Authorized and Refunded never exceeds
// Captured.
type Payment struct {
	ID             string // the caller's payment id
	Provider       string
	ProviderRef    string // the provider's id: ch_…, py_…, pay_…
	Currency       string
	Customer       string
	Description    string
	Metadata       map[string]string
	CaptureMethod  string // automatic or manual
	Status         PaymentStatus
	Authorized     int64
	Captured       int64
	Refunded       int64
	Disputed       int64
	Fees           int64 // fees charged on capture, less fee refunds (in SettlementCurrency when converted)
	PendingEntryID int64 // the authorization, for manual capture
	// A payment presented in Currency and settled by the provider in
	// another currency keeps its booking conversion: SettlementCurrency,
	// and Settled, the settlement amount of its capture (so Settled per
	// Captured is its booking rate). Unwound counts the presentment minor
	// units that refunds and disputes have since taken back across the
	// conversion (less those won back), which fx.go converts at the
	// booking rate. All zero when the payment settles in its own currency.
	SettlementCurrency string `json:",omitempty"`
	Settled            int64  `json:",omitempty"`
	Unwound            int64  `json:",omitempty"`
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Refund is money returned to the customer of a payment.
type Refund struct {
	ID          string
	PaymentID   string
	ProviderRef string
	Amount      int64
	FeeRefund   int64
	Currency    string
	Reason      string
	EntryID     int64
	CreatedAt   time.Time
}

// DisputeStatus is where a dispute stands.
type DisputeStatus string

// Dispute statuses.
const (
	DisputeOpen DisputeStatus = "open"
	DisputeWon  DisputeStatus = "won"
	DisputeLost DisputeStatus = "lost"
)

// Dispute is a chargeback on a payment.
type Dispute struct {
	ID          string
	PaymentID   string
	Provider    string
	ProviderRef string
	Amount      int64
	Fee         int64
	FeeRefund   int64
	Currency    string
	Status      DisputeStatus
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// PayoutStatus is where a payout stands.
type PayoutStatus string

// Payout statuses.
const (
	PayoutInTransit PayoutStatus = "in_transit"
	PayoutPaid      PayoutStatus = "paid"
	PayoutFailed    PayoutStatus = "failed"
)

// Payout moves a provider balance to the merchant's bank.
type Payout struct {
	ID          string
	Provider    string
	ProviderRef string
	Amount      int64
	Currency    string
	Status      PayoutStatus
	ArrivalDate time.Time
	// Automatic payouts claim a composition: the balance transactions
	// available by the payout's time (CreatedAt, its cutoff) and not in an
	// earlier automatic payout. A manual payout claims none.
	Automatic bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Balance transaction statuses.
const (
	BTPending   = "pending"
	BTAvailable = "available"
)

// FeeDetail is one component of a balance transaction's fee.
type FeeDetail struct {
	Type   string `json:"type"`
	Amount int64  `json:"amount"`
}

// BalanceTransaction is a movement of a provider balance, as Stripe reports
// it: Net = Amount − Fee, all in minor units of Currency. Every entry that
// moves money in a provider balance produces exactly one.
type BalanceTransaction struct {
	ID                string
	Provider          string
	EntryID           int64
	Type              string // charge, refund, adjustment, payout, payout_failure, fee_refund, ...
	ReportingCategory string // charge, refund, dispute, dispute_reversal, payout, payout_reversal, fee, ...
	SourceType        string // payment, refund, dispute, payout
	SourceID          string // settle's id of the source object
	SourceRef         string // the provider's reference for the source
	PaymentID         string // the payment it concerns, if any
	Amount            int64
	Fee               int64
	Net               int64
	FeeDetails        []FeeDetail
	Currency          string
	Status            string // pending or available
	Description       string
	Created           time.Time
	AvailableOn       time.Time
	PayoutID          string // the automatic payout it went into, if any
	// AvailableOnEstimated is set when the ledger chose AvailableOn itself
	// (a default delay, or the transaction's own time) rather than being
	// told it. A provider's differing available_on is then adopted, not
	// raised as a mismatch.
	AvailableOnEstimated bool
	// PayoutDerived is set when PayoutID follows from the ledger's own
	// automatic payouts (see Ledger.CreatePayout) rather than from a
	// provider's report; the ledger keeps it up to date.
	PayoutDerived bool
	// A movement presented in one currency and settled in another keeps
	// both sides: Amount, Fee and Net are the settlement side in Currency
	// (what moved the provider balance, what payouts sum), and
	// PresentmentAmount (signed as Amount) in PresentmentCurrency is what
	// the customer paid or got back. ExchangeRate is Currency per one unit
	// of PresentmentCurrency, in major units, as the provider reports it or
	// as the two amounts give it (rounded half to even to 10 decimals).
	// SettlementEstimated is set when the ledger converted at the payment's
	// booking rate because it was not told the settlement: a provider's
	// differing settlement is then adopted (AdoptSettlement), not raised.
	PresentmentAmount   int64           `json:",omitempty"`
	PresentmentCurrency string          `json:",omitempty"`
	ExchangeRate        decimal.Decimal `json:",omitzero"`
	SettlementEstimated bool            `json:",omitempty"`
}
