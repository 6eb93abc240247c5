package generate

import (
	"errors"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// EntryOptions describe a stream of journal entries for bulk posting.
type EntryOptions struct {
	// Seed seeds the random source; zero means DefaultSeed.
	Seed uint64
	// N is the number of entries. Required (≥ 1).
	N int
	// Batch is how many entries each call of the callback gets; default 1,000.
	Batch int
	// Start is the time of the first entry; default 2026-01-01. Entries are
	// a few seconds apart.
	Start time.Time
	// Channels is the number of receivable accounts sales are spread over
	// (assets:receivables:c000 …); default 200.
	Channels int
}

// Entries calls fn with successive batches of o.N sales entries of four
// postings each, in several currencies: Dr assets:receivables:cNNN (gross −
// fee), Dr expenses:fees:stripe_fee (fee), Cr liabilities:tax:sales (8% of
// gross), Cr income:sales (gross − tax). The accounts lie outside the
// provider balances, so posting them produces no balance transactions: they
// measure the journal itself. Keys are "sale-N". The batch slice is reused
// between calls.
func Entries(o EntryOptions, fn func([]ledger.EntryInput) error) error {
	if o.N < 1 {
		return errors.New("generate: EntryOptions.N must be at least 1")
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Channels <= 0 {
		o.Channels = 200
	}
	r := newRand(o.Seed, 5)
	accounts := make([]string, o.Channels)
	for i := range accounts {
		accounts[i] = "assets:receivables:c" + pad3(i)
	}
	batch := make([]ledger.EntryInput, 0, o.Batch)
	postings := make([]ledger.PostingInput, 4*o.Batch)
	at := o.Start.UTC()
	for i := range o.N {
		at = at.Add(time.Duration(1+r.IntN(4)) * time.Second)
		c := pickCurrency(r)
		gross := cartAmount(r, c)
		fee := processingFee(c, gross)
		tax := mulBP(gross, 800)
		dec := func(m int64) decimal.Decimal { return decimal.New(m, -int32(c.digits)) }
		ps := postings[4*len(batch) : 4*len(batch)+4 : 4*len(batch)+4]
		ps[0] = ledger.PostingInput{Account: accounts[r.IntN(len(accounts))], Currency: c.code, Amount: dec(gross - fee)}
		ps[1] = ledger.PostingInput{Account: "expenses:fees:stripe_fee", Currency: c.code, Amount: dec(fee)}
		ps[2] = ledger.PostingInput{Account: "liabilities:tax:sales", Currency: c.code, Amount: dec(-tax)}
		ps[3] = ledger.PostingInput{Account: "income:sales", Currency: c.code, Amount: dec(-gross + tax)}
		n := strconv.Itoa(i + 1)
		batch = append(batch, ledger.EntryInput{Key: "sale-" + n, OccurredAt: at, Description: "Sale " + n, Postings: ps})
		if len(batch) == o.Batch || i == o.N-1 {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

func pad3(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}
