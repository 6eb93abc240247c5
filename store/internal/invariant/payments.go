package invariant

import (
	"fmt"
	"slices"
	"strings"

	"github.com/settlehq/settle/ledger"
)

// Payment is what the checks need of one payment.
type Payment struct {
	ID                                       string
	Authorized, Captured, Refunded, Disputed int64
	Currency, SettlementCurrency             string
	Settled                                  int64
}

// Payments checks the invariants over payments, in one pass over them:
//   - captured_le_authorized, refunded_le_captured, amounts_non_negative;
//   - refunds_sum: a payment's refunded amount is the sum of its refunds
//     (summed by the store beforehand, a small table);
//   - conversion_sides_consistent, the payments' half: a converted payment
//     settles in another currency, a positive amount.
//
// As queries of their own they read the payments four times, refunds_sum
// each payment's refunds by an index probe (1.5–2 s of a million payments
// in SQLite's shell).
type Payments struct {
	refunds map[string]int64
	found   [5][]ledger.Violation // in the order of the names below
}

var paymentInvariants = [5]string{"captured_le_authorized", "refunded_le_captured", "amounts_non_negative", "refunds_sum",
	"conversion_sides_consistent"}

// NewPayments returns the check of payments whose refunds sum to refunds,
// by payment id (a payment without refunds need not be there).
func NewPayments(refunds map[string]int64) *Payments { return &Payments{refunds: refunds} }

// Add checks one payment.
func (c *Payments) Add(p *Payment) {
	subject := "payment " + p.ID
	if p.Captured > p.Authorized {
		c.add(0, subject, fmt.Sprintf("captured %d > authorized %d", p.Captured, p.Authorized))
	}
	if p.Refunded > p.Captured {
		c.add(1, subject, fmt.Sprintf("refunded %d > captured %d", p.Refunded, p.Captured))
	}
	if p.Authorized < 0 || p.Captured < 0 || p.Refunded < 0 || p.Disputed < 0 {
		c.add(2, subject, "negative amount")
	}
	if summed := c.refunds[p.ID]; p.Refunded != summed {
		c.add(3, subject, fmt.Sprintf("refunded %d but refunds sum to %d", p.Refunded, summed))
	}
	if p.SettlementCurrency != "" && (p.SettlementCurrency == p.Currency || p.Settled <= 0) {
		c.add(4, subject, fmt.Sprintf("settles in %s with a settled amount of %d", p.SettlementCurrency, p.Settled))
	}
}

func (c *Payments) add(i int, subject, detail string) {
	c.found[i] = append(c.found[i], ledger.Violation{Invariant: paymentInvariants[i], Subject: subject, Detail: detail})
}

// Violations returns the violations of the first four invariants, each
// invariant's by payment id, and apart those of
// conversion_sides_consistent, by payment id.
func (c *Payments) Violations() (payments, conversions []ledger.Violation) {
	for i := range c.found {
		slices.SortStableFunc(c.found[i], func(a, b ledger.Violation) int { return strings.Compare(a.Subject, b.Subject) })
	}
	for _, vs := range c.found[:4] {
		payments = append(payments, vs...)
	}
	return payments, c.found[4]
}

// readPayments checks the payments over the rows of two queries, run one
// after the other: the refunds summed by payment, then the payments in any
// order (Source).
func readPayments(run func(query string) (Rows, error), refunds, payments string) (checked, conversions []ledger.Violation, err error) {
	rrows, err := run(refunds)
	if err != nil {
		return nil, nil, err
	}
	defer rrows.Close()
	sums := map[string]int64{}
	for rrows.Next() {
		var id string
		var sum int64
		if err := rrows.Scan(&id, &sum); err != nil {
			return nil, nil, err
		}
		sums[id] = sum
	}
	if err := rrows.Err(); err != nil {
		return nil, nil, err
	}
	rrows.Close()
	check := NewPayments(sums)
	rows, err := run(payments)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var p Payment
	for rows.Next() {
		if err := rows.Scan(&p.ID, &p.Authorized, &p.Captured, &p.Refunded, &p.Disputed, &p.Currency, &p.SettlementCurrency, &p.Settled); err != nil {
			return nil, nil, err
		}
		check.Add(&p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	checked, conversions = check.Violations()
	return checked, conversions, nil
}
