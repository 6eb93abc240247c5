package ledger

import (
	"errors"
	"fmt"
)

// Errors a caller can test with errors.Is. Operations wrap them with context.
var (
	ErrNotFound            = errors.New("not found")
	ErrUnbalanced          = errors.New("entry does not balance")
	ErrIdempotencyConflict = errors.New("idempotency key reused with a different request")
	ErrOverCapture         = errors.New("capture exceeds the amount authorized")
	ErrOverRefund          = errors.New("refund exceeds the amount captured and not yet refunded")
	ErrAlreadyCaptured     = errors.New("already captured")
	ErrAlreadyVoided       = errors.New("already voided")
	ErrAlreadyResolved     = errors.New("already resolved")
	ErrCurrencyMismatch    = errors.New("currency mismatch")
	ErrInvalidAmount       = errors.New("invalid amount")
	ErrUnknownCurrency     = errors.New("unknown currency")
	ErrInvalidAccount      = errors.New("invalid account")
	ErrInvalidRequest      = errors.New("invalid request")
	ErrClosedPeriod        = errors.New("period is closed")
	// ErrLockTimeout: the store waited as long as it was allowed for a
	// write lock another writer held. Trying again later may succeed.
	ErrLockTimeout       = errors.New("timed out waiting for the database's write lock")
	ErrInsufficientFunds = errors.New("balance would go negative")
	ErrInvalidState      = errors.New("invalid state for this operation")
	ErrInvalidTime       = errors.New("invalid time")
)

// Violation is one broken invariant found by Verify.
type Violation struct {
	Invariant string // short name, e.g. "entry_balanced"
	Subject   string // what it concerns, e.g. "entry 42" or "payment pay_1"
	Detail    string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s: %s", v.Invariant, v.Subject, v.Detail)
}
