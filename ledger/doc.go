// Package ledger is settle's domain: money and currencies, accounts,
// balanced journal entries, payments with their lifecycle, and the balance
// transactions that reconciliation compares with a provider's.
//
// A Ledger holds the posting rules and runs on a Store (package
// ledger/sqlite implements it); it never speaks SQL itself. Amounts are
// integer minor units inside and decimal.Decimal major units at the API.
// Every call that records a fact takes an idempotency key: replaying it
// returns the original result, reusing it for a different request is
// ErrIdempotencyConflict. Errors can be tested with errors.Is against the
// sentinels in errors.go.
//
// Times: a request whose own time (At, OccurredAt, Created) is the zero time is
// dated now, by Options.Now; other times left zero (ExpiresAt, AvailableOn,
// ArrivalDate) take their documented defaults. Every non-zero time a caller
// gives must lie between MinTime and MaxTime (1677-09-21 to 2262-04-11, what
// Unix nanoseconds hold) and not be the Unix epoch itself, which the stores
// keep for "no time"; any other is refused with a *TimeError wrapping
// ErrInvalidTime, never clamped, so every stored time reads back as given.
//
// The payment lifecycle books, on the accounts of a Chart (DefaultChart by
// default; P is the provider):
//
//	Authorize           pending: Dr assets:P:pending / Cr income:sales
//	Capture             Dr assets:P:pending C−F, Dr expenses:fees:<type> F / Cr income:sales C
//	MakeAvailable       Dr assets:P:available / Cr assets:P:pending
//	Refund              Dr income:refunds / Cr assets:P:available
//	OpenDispute         Dr assets:disputes:open, Dr expenses:fees:dispute / Cr assets:P:available
//	WinDispute          Dr assets:P:available / Cr assets:disputes:open
//	LoseDispute         Dr expenses:chargebacks / Cr assets:disputes:open
//	CreatePayout        Dr assets:payouts:in_transit / Cr assets:P:available
//	PayPayout           Dr assets:bank:P / Cr assets:payouts:in_transit
//	FailPayout          Dr assets:P:available / Cr assets:payouts:in_transit
package ledger
