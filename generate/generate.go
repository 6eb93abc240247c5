// Package generate produces realistic, reproducible payment data at any size
// for settle's tests and benchmarks: an event feed of payment lifecycles in
// settle's JSON Lines format, the matching Stripe exports of the same
// simulated history (the balance_change_from_activity.itemized report CSV and
// the balance transaction list JSON), and direct in-memory provider records
// and ledger balance transactions for reconciliation benchmarks.
//
// Everything is drawn from math/rand/v2 with a fixed seed: the same Options
// give the same bytes. Generate streams: it holds only the payments that
// still have something to happen and the balance transactions not yet swept
// into a payout, never the whole history.
//
// Money is integer minor units throughout; fees are computed with integer
// basis points and half-even rounding.
package generate

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// DefaultSeed is the seed used when Options.Seed is zero.
const DefaultSeed = 20261102

// Provider is the provider the generated history runs through.
const Provider = "stripe"

// Options describe the history to simulate. The zero value of each field
// takes its default.
type Options struct {
	// Seed seeds the random source; zero means DefaultSeed.
	Seed uint64
	// Payments is how many payments are created. Required (≥ 1).
	Payments int
	// PerDay is how many payments arrive a day; default 1,000.
	PerDay int
	// Start is the first day, truncated to midnight UTC; default 2026-01-01.
	Start time.Time
	// TailDays is how long the simulation runs after the last payment
	// arrives, so that refunds, disputes and payouts play out; default 45.
	// Anything that would happen after the end is not generated: the
	// exports are a snapshot taken at End.
	TailDays int
	// DiffRate is the probability, per exported balance transaction, that
	// a difference is injected into the provider exports (see DiffKind).
	// Zero injects none.
	DiffRate float64
	// StripeDates gives the exports settlement dates as Stripe sets them
	// and leaves them out of the feed, as a billing backend that only sees
	// its own events would: charges become available at midnight UTC two
	// days after capture, or seven for one payment in five; refunds the day
	// after; disputes two days after. The feed's captures carry no
	// available_on (the ledger estimates it), except one, whose told date
	// is 25 hours before the provider's (Summary.ToldAvailableOn): a real
	// difference, in the same payout.
	StripeDates bool
	// ForeignShare is the share of payments (0 to 1) presented to the
	// customer in EUR, GBP or JPY and settled by the provider in USD at
	// the day's rate (see fx.go). The itemized report then carries
	// customer_facing_amount and customer_facing_currency, and the balance
	// transaction JSON exchange_rate. Zero generates none.
	ForeignShare float64
	// RandomIDs makes ids look like a provider's: the prefix and 24
	// letters and digits in no order (evt_9xQ2…), rather than numbered in
	// the order they were made (evt_00000001). Every table and index keyed
	// by an id then fills at random places, as it does with real exports;
	// numbered ids fill them in order, which is faster.
	RandomIDs bool
	// IDBase is added to the number of every id made (the n-th payment's
	// is made from IDBase+n), so that a feed generated with it shares no
	// id with one generated with a smaller base and fewer than the
	// difference of every kind: the next day's events, say, for books
	// that hold a month's. Zero starts at 1, as always.
	IDBase int
}

func (o Options) withDefaults() (Options, error) {
	if o.Payments < 1 {
		return o, errors.New("generate: Options.Payments must be at least 1")
	}
	if o.IDBase < 0 {
		return o, fmt.Errorf("generate: Options.IDBase %d is negative", o.IDBase)
	}
	if o.DiffRate < 0 || o.DiffRate > 1 {
		return o, fmt.Errorf("generate: Options.DiffRate %v is not a probability", o.DiffRate)
	}
	if o.ForeignShare < 0 || o.ForeignShare > 1 {
		return o, fmt.Errorf("generate: Options.ForeignShare %v is not a share", o.ForeignShare)
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.PerDay <= 0 {
		o.PerDay = 1000
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	o.Start = o.Start.UTC().Truncate(24 * time.Hour)
	if o.TailDays <= 0 {
		o.TailDays = 45
	}
	return o, nil
}

// End returns the end of the simulated history for these options: every
// generated event happens at or before it, and the exports are as of it.
func (o Options) End() time.Time {
	o, err := o.withDefaults()
	if err != nil {
		return time.Time{}
	}
	days := (o.Payments + o.PerDay - 1) / o.PerDay
	return o.Start.AddDate(0, 0, days+o.TailDays)
}

// Output says where Generate writes. A nil writer is not written; Generate
// does not close the writers.
type Output struct {
	// Feed receives the event feed (settle record FILE.jsonl).
	Feed io.Writer
	// ItemizedCSV receives Stripe's balance_change_from_activity.itemized
	// report: major units, "YYYY-MM-DD HH:MM:SS" UTC times.
	ItemizedCSV io.Writer
	// BalanceJSON receives a Stripe balance transaction list
	// ({"object":"list","data":[…]}): minor units, Unix seconds.
	BalanceJSON io.Writer
	// RatesCSV receives the daily rates foreign payments were converted
	// at (date,base,quote,rate), the rates file of settle's valuation.
	RatesCSV io.Writer
}

// Summary says what Generate produced.
type Summary struct {
	Seed       uint64
	Start, End time.Time
	// Events is the number of feed lines.
	Events int
	// Counts of lifecycle objects in the feed.
	Payments, Authorizations, PartialCaptures, Cancellations int
	Captures, Refunds, Disputes, DisputesWon, DisputesLost   int
	Payouts, PayoutsFailed                                   int
	// LedgerTransactions is the number of balance transactions recording
	// the feed produces in the ledger (one per charge, refund, dispute,
	// won dispute, payout and failed payout).
	LedgerTransactions int
	// ExportRows is the number of records in each export: the ledger's
	// transactions, less those missing at the provider, plus the extra and
	// duplicated ones.
	ExportRows int
	// Diffs lists every difference injected into the exports, in export
	// order.
	Diffs []Diff
	// ToldAvailableOn is, with Options.StripeDates, the source reference
	// (ch_…) of the one capture whose feed line tells an available_on that
	// differs from the provider's.
	ToldAvailableOn string
	// Foreign is how many payments were presented in another currency
	// than they settle in (Options.ForeignShare).
	Foreign int
	// Rates are the daily rates of the presentment currencies in USD.
	Rates []Rate
}

// Generate simulates opts.Payments payments and writes the feed and the
// exports of that history to out. The feed is in time order; every event
// is accepted by feed.Read and feed.Apply. To reproduce the provider's view
// in a ledger, record the feed and then make funds available as of
// Summary.End (ledger.MakeAvailable), as the nightly job does.
func Generate(opts Options, out Output) (*Summary, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := newSim(o, out)
	if err := s.run(); err != nil {
		return nil, err
	}
	return &s.sum, nil
}

// newRand returns the generator's random source for a seed and a stream,
// so that independent parts draw independent, reproducible numbers.
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}
