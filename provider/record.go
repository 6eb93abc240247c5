// Package provider holds what settle knows of a payment provider's own
// records, independent of the export they were read from: the normalized
// provider record at its two grains, and the interface of the store that
// keeps them. Readers (package importers) produce these records; the
// reconciliation engine compares them with the ledger.
package provider

import "time"

// Grain is the level of detail of a provider record.
type Grain string

// The two grains of provider records.
const (
	// BalanceGrain records are one provider balance transaction each.
	BalanceGrain Grain = "balance"
	// PaymentGrain records are one payment each, with its running totals.
	PaymentGrain Grain = "payment"
)

// Record is one normalized provider record. Amounts are integer minor units of
// Currency (lowercase ISO 4217 code, or a registered one).
//
// Balance grain uses Amount (gross, signed), Fee, Net = Amount − Fee, Type,
// ReportingCategory, SourceRef, Status (pending|available), Created,
// AvailableOn and PayoutID.
//
// Payment grain uses Amount (the payment's amount), Captured, Refunded,
// Disputed, Status (the provider's own status word) and Created; ID and
// SourceRef are both the provider's payment id. Type says what the object
// is: "payment" for most providers, and for exports that also list other
// objects as their own records the object's kind (Stripe's charge, refund,
// dispute, payout; Payments API V3 refunds), with PaymentRef naming the
// payment a refund or dispute belongs to. Each reader's doc comment says how
// its fields map.
//
// Signs: balance-grain amounts are signed by their effect on the provider
// balance (a refund, a fee transaction or a payout is negative), and Fee is
// normally ≥ 0; payment-grain amounts are all ≥ 0 as the providers give them.
type Record struct {
	Provider          string // stripe, justifi, whop, paymentsv3, cardpay, or the mapping's name
	Format            string // the reader that produced it, e.g. "stripe-itemized-csv"
	Grain             Grain
	ID                string // the provider's record id: txn_…, pbt_…, py_…, pay_…
	Type              string // balance grain: charge, refund, payout, … (open enum, kept as given)
	ReportingCategory string // balance grain: charge, refund, fee, dispute, … (open enum)
	SourceRef         string // the provider reference of the source object: ch_…, re_…, dp_…, po_…, py_…
	PaymentRef        string // the payment the record concerns, when the export says so
	Currency          string
	Amount            int64
	Fee               int64
	Net               int64
	Captured          int64 // payment grain
	Refunded          int64 // payment grain
	Disputed          int64 // payment grain
	Status            string
	Created           time.Time
	AvailableOn       time.Time
	PayoutID          string
	Description       string
	Test              bool // the provider marks the object as test or sandbox mode (livemode false, is_test, live false)

	// A balance-grain record the provider converted (presented to the
	// customer in one currency, settled in Currency) keeps the customer's
	// side: PresentmentAmount, signed as Amount, in minor units of
	// PresentmentCurrency, and the provider's rate (Currency per one unit
	// of PresentmentCurrency) as the exact decimal string it gave, when it
	// gave one. Empty when the export reports no conversion.
	PresentmentAmount   int64  `json:",omitempty"`
	PresentmentCurrency string `json:",omitempty"`
	ExchangeRate        string `json:",omitempty"`

	// Where it came from, for audit.
	File   string
	Line   int    // 1-based line of the CSV row, or of the start of the JSON object
	Offset int64  // byte offset in the file of Raw's first byte
	Raw    string // the CSV row (without its line break) or JSON object, byte for byte as in the file (in its encoding)
}
