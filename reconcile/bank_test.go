package reconcile

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func jan(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }

func po(id string, amount int64, arrival int) BankPayout {
	return BankPayout{ID: id, Provider: "stripe", Ref: id, Currency: "usd", Amount: amount, Arrival: jan(arrival)}
}

func dep(id string, amount int64, day int, texts ...string) BankDeposit {
	return BankDeposit{ID: id, Account: "A", LedgerAccount: "assets:bank:operating", Currency: "usd", Amount: amount, Date: jan(day), Texts: texts}
}

// summarize renders what matters of a result: pairings and exceptions.
func summarize(r *BankResult) []string {
	var out []string
	for _, m := range r.Matches {
		out = append(out, fmt.Sprintf("%s %v=%v %d/%d", m.Via, m.Payouts, m.Deposits, m.Expected, m.Banked))
	}
	for _, o := range r.Outcomes {
		if o.Kind != PayoutMatched {
			out = append(out, fmt.Sprintf("%s %s%s", o.Kind, o.LedgerID, o.ProviderID))
		}
	}
	for _, id := range r.Pending {
		out = append(out, "pending "+id)
	}
	slices.Sort(out)
	return out
}

func TestMatchPayouts(t *testing.T) {
	cov := map[string]Coverage{"usd": {From: jan(1), Through: jan(31)}}
	for _, c := range []struct {
		name     string
		payouts  []BankPayout
		deposits []BankDeposit
		others   []BankEntry
		opts     BankOptions
		want     []string
	}{
		{"reference in remittance", []BankPayout{po("po_1", 1000, 5)},
			[]BankDeposit{dep("d1", 1000, 20, "", "STRIPE PAYOUT po_1")}, nil, BankOptions{},
			[]string{"reference [po_1]=[d1] 1000/1000"}},
		{"reference with punctuation dropped", []BankPayout{po("po_1Nx7Qa", 1000, 5)},
			[]BankDeposit{dep("d1", 1000, 5, "STRIPE PO1NX7QA")}, nil, BankOptions{},
			[]string{"reference [po_1Nx7Qa]=[d1] 1000/1000"}},
		{"weekend arrival lands on Monday", []BankPayout{po("po_1", 1000, 10)}, // Saturday
			[]BankDeposit{dep("d1", 1000, 12)}, nil, BankOptions{},
			[]string{"amount [po_1]=[d1] 1000/1000"}},
		{"a holiday pushes the window", []BankPayout{po("po_1", 1000, 10)},
			[]BankDeposit{dep("d1", 1000, 16)}, nil, BankOptions{Calendar: NewCalendar([]time.Time{jan(12)})},
			[]string{"amount [po_1]=[d1] 1000/1000"}},
		{"outside the window by amount", []BankPayout{po("po_1", 1000, 5)},
			[]BankDeposit{dep("d1", 1000, 20)}, nil, BankOptions{},
			[]string{"deposit_unexplained d1", "payout_not_in_bank po_1"}},
		{"two deposits of the amount: no guess", []BankPayout{po("po_1", 1000, 5)},
			[]BankDeposit{dep("d1", 1000, 5), dep("d2", 1000, 6)}, nil, BankOptions{},
			[]string{"deposit_unexplained d1", "deposit_unexplained d2", "payout_not_in_bank po_1"}},
		{"two payouts in one deposit", []BankPayout{po("po_1", 1000, 5), po("po_2", 2500, 6)},
			[]BankDeposit{dep("d1", 3500, 6)}, nil, BankOptions{},
			[]string{"sum [po_1 po_2]=[d1] 3500/3500"}},
		{"one payout in two deposits", []BankPayout{po("po_1", 3500, 5)},
			[]BankDeposit{dep("d1", 1000, 5), dep("d2", 2500, 6)}, nil, BankOptions{},
			[]string{"sum [po_1]=[d1 d2] 3500/3500"}},
		{"named in two deposits", []BankPayout{po("po_1", 3500, 5)},
			[]BankDeposit{dep("d1", 1000, 5, "po_1 part 1"), dep("d2", 2500, 6, "po_1 part 2")}, nil, BankOptions{},
			[]string{"reference [po_1]=[d1 d2] 3500/3500"}},
		{"short by a fee, named", []BankPayout{po("po_1", 100000, 5)},
			[]BankDeposit{dep("d1", 99750, 5, "po_1")}, nil, BankOptions{},
			[]string{"amount_differs po_1d1", "reference [po_1]=[d1] 100000/99750"}},
		{"short by a fee, unnamed", []BankPayout{po("po_1", 100000, 5)},
			[]BankDeposit{dep("d1", 99750, 6)}, nil, BankOptions{},
			[]string{"amount_differs po_1d1", "fee [po_1]=[d1] 100000/99750"}},
		{"a booked fee is deducted", []BankPayout{{ID: "po_1", Ref: "po_1", Currency: "usd", Amount: 100000, Fees: 250, Arrival: jan(5)}},
			[]BankDeposit{dep("d1", 99750, 5, "po_1")}, nil, BankOptions{},
			[]string{"reference [po_1]=[d1] 99750/99750"}},
		{"not yet due", []BankPayout{po("po_1", 1000, 29)}, nil, nil, BankOptions{},
			[]string{"pending po_1"}},
		{"before the statements", []BankPayout{{ID: "po_0", Currency: "usd", Amount: 5, Arrival: time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC)}}, nil, nil, BankOptions{},
			[]string{"pending po_0"}},
		{"no bank account in the currency", []BankPayout{{ID: "po_e", Currency: "eur", Amount: 5, Arrival: jan(5)}}, nil, nil, BankOptions{},
			nil},
		{"a deposit the ledger booked otherwise", nil, []BankDeposit{dep("d1", 123456, 14)},
			[]BankEntry{{ID: "entry_9", LedgerAccount: "assets:bank:operating", Currency: "usd", Amount: 123456, At: jan(14)}}, BankOptions{},
			nil},
		{"links first", []BankPayout{po("po_1", 1000, 5)},
			[]BankDeposit{dep("d1", 1000, 5), dep("d2", 1000, 6)}, nil, BankOptions{Links: map[string]string{"po_1": "d2"}},
			[]string{"deposit_unexplained d1", "links [po_1]=[d2] 1000/1000"}},
		{"a deposit outside the run is not reported", nil, []BankDeposit{dep("d1", 5, 2)}, nil, BankOptions{From: jan(3)},
			nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.opts
			o.Coverage = cov
			got := summarize(MatchPayouts(c.payouts, c.deposits, c.others, &o))
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
			// The order of the inputs does not matter.
			slices.Reverse(c.payouts)
			slices.Reverse(c.deposits)
			if again := summarize(MatchPayouts(c.payouts, c.deposits, c.others, &o)); !slices.Equal(again, got) {
				t.Errorf("reversed inputs: %q", again)
			}
		})
	}
}

func TestCalendar(t *testing.T) {
	c := NewCalendar([]time.Time{jan(1)})
	for _, tc := range []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{jan(9), 1, jan(12)},  // Friday + 1 → Monday
		{jan(12), -1, jan(9)}, // Monday − 1 → Friday
		{jan(10), 0, jan(10)}, // no move
		{jan(2), -1, time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}, // Friday 2nd − 1 skips the holiday
	} {
		if got := c.Add(tc.from, tc.n); !got.Equal(tc.want) {
			t.Errorf("%s %+d = %s, want %s", tc.from.Format("Mon 2"), tc.n, got.Format("Mon Jan 2"), tc.want.Format("Mon Jan 2"))
		}
	}
	if got := c.Next(time.Date(2025, 12, 31, 15, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Next of a business day: %s", got)
	}
	if got := c.Next(jan(1)); !got.Equal(jan(2)) {
		t.Errorf("Next of the holiday: %s", got)
	}
}
