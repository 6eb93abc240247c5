package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Options configure a Ledger. A nil *Options means all defaults.
type Options struct {
	// Now returns the current time; defaults to time.Now.
	Now func() time.Time
	// Logger receives debug logs; defaults to a logger that discards.
	Logger *slog.Logger
	// Currencies resolves currency codes; nil knows ISO 4217 only.
	Currencies *Currencies
	// Chart maps the lifecycle's accounts; zero fields take DefaultChart's.
	Chart Chart
	// AvailableAfter is how long captured funds stay pending when a capture
	// gives no available_on; defaults to two days (Stripe's usual delay).
	// The funds become available at the start (00:00 UTC) of the day on
	// which the delay ends, as providers date availability (a delay under
	// a day is kept exact).
	AvailableAfter time.Duration
	// NonNegative lists account-name prefixes whose posted balance, on its
	// normal side, may not go below zero. Empty by default: provider
	// balances do go negative, and settle records what happened.
	NonNegative []string
}

// Ledger is the double-entry ledger service. It is safe for concurrent use.
type Ledger struct {
	store      Store
	now        func() time.Time
	log        *slog.Logger
	currencies *Currencies
	chart      Chart
	// balanceForms are chart.Available and chart.Pending, split.
	balanceForms []balanceForm
	availAfter   time.Duration
	nonNeg       []string
}

// New returns a Ledger over store.
func New(store Store, opts *Options) *Ledger {
	if opts == nil {
		opts = &Options{}
	}
	l := &Ledger{
		store:      store,
		now:        opts.Now,
		log:        opts.Logger,
		currencies: opts.Currencies,
		chart:      opts.Chart.withDefaults(),
		availAfter: opts.AvailableAfter,
		nonNeg:     opts.NonNegative,
	}
	l.balanceForms = balanceForms(l.chart)
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.availAfter == 0 {
		l.availAfter = 48 * time.Hour
	}
	return l
}

// Chart returns the account names the ledger posts to.
func (l *Ledger) Chart() Chart { return l.chart }

// Currency resolves a currency code with the ledger's registered currencies.
func (l *Ledger) Currency(code string) (Currency, error) { return l.currencies.Lookup(code) }

// View runs fn with a consistent read-only view of the ledger.
func (l *Ledger) View(ctx context.Context, fn func(ReadTx) error) error {
	return l.store.View(ctx, fn)
}

// at returns t in UTC, or now when t is zero: a request that leaves its
// time (At, OccurredAt, Created) zero is dated by the Ledger's clock.
func (l *Ledger) at(t time.Time) time.Time {
	if t.IsZero() {
		return l.now().UTC()
	}
	return t.UTC()
}

// Result is what a lifecycle operation did. Fields that do not apply are nil.
type Result struct {
	Entry              *Entry              `json:",omitempty"`
	BalanceTransaction *BalanceTransaction `json:",omitempty"`
	Payment            *Payment            `json:",omitempty"`
	Refund             *Refund             `json:",omitempty"`
	Dispute            *Dispute            `json:",omitempty"`
	Payout             *Payout             `json:",omitempty"`
	// Replayed is true when the key had been used before with the same
	// request and this is the original result.
	Replayed bool `json:"-"`
}

// requestHash hashes an operation name and its request for idempotency:
// SHA-256 of the name, a zero byte and the request's JSON, as encoding/json
// writes it (appendRequestJSON writes the commonest requests faster, to
// the same bytes).
func requestHash(op string, req any) (string, error) {
	bp := hashBufs.Get().(*[]byte)
	prefix := append(append((*bp)[:0], op...), 0)
	b, ok := appendRequestJSON(prefix, req)
	if !ok {
		js, err := json.Marshal(req)
		if err != nil {
			return "", err
		}
		b = append(prefix, js...)
	}
	sum := sha256.Sum256(b)
	if cap(b) <= maxPooledBuf {
		*bp = b[:0]
		hashBufs.Put(bp)
	}
	return hex.EncodeToString(sum[:]), nil
}

// hashBufs are requestHash's buffers between requests. A buffer on the
// stack escaped to the heap (the request's JSON is appended to it through
// appendRequestJSON): 512 bytes allocated for every event a feed records.
var hashBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// maxPooledBuf is the largest buffer kept in a pool for the next request
// or result (hashBufs, writers): one with a great deal of metadata should
// not hold its memory after.
const maxPooledBuf = 64 << 10

// idempotent runs fn in one write transaction under key: a replay of the same
// request returns the stored result, a different request under the same key
// is ErrIdempotencyConflict.
func (l *Ledger) idempotent(ctx context.Context, op, key string, req any, fn func(tx Tx, res *Result) error) (*Result, error) {
	if strings.TrimSpace(key) == "" {
		return nil, fmt.Errorf("%s: %w: an idempotency key is required", op, ErrInvalidRequest)
	}
	if err := checkTimes(req); err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, key, err)
	}
	hash, err := requestHash(op, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var res Result
	err = l.store.Update(ctx, func(tx Tx) error {
		res = Result{}
		prev, err := tx.Request(ctx, key)
		switch {
		case err == nil:
			if prev.Operation != op || prev.Hash != hash {
				return fmt.Errorf("key %q was used for a different %s request: %w", key, prev.Operation, ErrIdempotencyConflict)
			}
			if err := decodeResult(prev.Result, &res); err != nil {
				return fmt.Errorf("decoding stored result of %q: %w", key, err)
			}
			res.Replayed = true
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if err := fn(tx, &res); err != nil {
			return err
		}
		r := &Request{Key: key, Operation: op, Hash: hash, Result: encodeResult(&res), CreatedAt: l.now().UTC()}
		if e := res.Entry; e != nil && e.Key == key {
			r.EntryID = e.ID
		}
		return tx.SaveRequest(ctx, r)
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, key, err)
	}
	return &res, nil
}

// checkOpen refuses writes dated inside a closed period.
func checkOpen(ctx context.Context, tx Tx, at time.Time) error {
	closed, err := tx.ClosedThrough(ctx)
	if err != nil {
		return err
	}
	return openAt(at, closed)
}

// inClosed reports whether at lies in the period closed through closed.
func inClosed(at, closed time.Time) bool { return !closed.IsZero() && !at.After(closed) }

// openAt refuses a time inside the period closed through closed.
func openAt(at, closed time.Time) error {
	if inClosed(at, closed) {
		return fmt.Errorf("%w: %s is on or before %s", ErrClosedPeriod, at.Format(time.RFC3339), closed.Format(time.RFC3339))
	}
	return nil
}

// ClosePeriod closes the books through t: later writes dated at or before t
// fail with ErrClosedPeriod. Closing never moves backwards.
func (l *Ledger) ClosePeriod(ctx context.Context, t time.Time) error {
	if err := CheckTime("through", t); err != nil {
		return err
	}
	return l.store.Update(ctx, func(tx Tx) error {
		cur, err := tx.ClosedThrough(ctx)
		if err != nil {
			return err
		}
		if !cur.IsZero() && t.Before(cur) {
			return fmt.Errorf("%w: books are already closed through %s", ErrInvalidRequest, cur.Format(time.RFC3339))
		}
		return tx.SetClosedThrough(ctx, t.UTC())
	})
}

// insert writes an entry after checking it balances, that its period is
// open and, if configured, that guarded balances stay non-negative.
func (l *Ledger) insert(ctx context.Context, tx Tx, e *Entry) error {
	if err := checkBalanced(e.Postings); err != nil {
		return err
	}
	if err := checkOpen(ctx, tx, e.OccurredAt); err != nil {
		return err
	}
	// One clock per transaction: the ledger's, not the store's.
	e.RecordedAt = l.now().UTC()
	if err := tx.InsertEntry(ctx, e); err != nil {
		return err
	}
	return l.checkNonNegative(ctx, tx, e.Postings)
}

// insertMany writes entries as insert does, through the store's bulk
// path: the rules are checked for every entry first, then all are written.
// An entry whose key is already stored is ErrIdempotencyConflict, as it is
// for insert.
func (l *Ledger) insertMany(ctx context.Context, tx Tx, es []*Entry, closed time.Time) error {
	if len(es) == 0 {
		return nil
	}
	now := l.now().UTC()
	for _, e := range es {
		if err := checkBalanced(e.Postings); err != nil {
			return fmt.Errorf("entry %q: %w", e.Key, err)
		}
		if err := openAt(e.OccurredAt, closed); err != nil {
			return fmt.Errorf("entry %q: %w", e.Key, err)
		}
		e.RecordedAt = now
	}
	existing, err := tx.InsertEntries(ctx, es)
	if err != nil {
		return err
	}
	for i, e := range es {
		if _, ok := existing[i]; ok {
			return fmt.Errorf("entry key %q exists: %w", e.Key, ErrIdempotencyConflict)
		}
	}
	if len(l.nonNeg) == 0 {
		return nil
	}
	for _, e := range es {
		if err := l.checkNonNegative(ctx, tx, e.Postings); err != nil {
			return err
		}
	}
	return nil
}

func (l *Ledger) checkNonNegative(ctx context.Context, tx Tx, ps []Posting) error {
	if len(l.nonNeg) == 0 {
		return nil
	}
	for _, p := range ps {
		guarded := false
		for _, pre := range l.nonNeg {
			if strings.HasPrefix(p.Account, pre) {
				guarded = true
			}
		}
		if !guarded {
			continue
		}
		bals, err := tx.Balances(ctx, p.Account)
		if err != nil {
			return err
		}
		for _, b := range bals {
			if b.Account == p.Account && b.Currency == p.Currency && b.Normal() < 0 {
				return fmt.Errorf("%w: %s would be %d %s", ErrInsufficientFunds, p.Account, b.Normal(), p.Currency)
			}
		}
	}
	return nil
}

// postings converts postings in major units to minor units.
func (l *Ledger) postings(in []PostingInput) ([]Posting, error) {
	out := make([]Posting, 0, len(in))
	for i, p := range in {
		cur, err := l.currencies.Lookup(p.Currency)
		if err != nil {
			return nil, fmt.Errorf("posting %d: %w", i+1, err)
		}
		m, err := ToMinor(p.Amount, cur)
		if err != nil {
			return nil, fmt.Errorf("posting %d: %w", i+1, err)
		}
		out = append(out, Posting{Account: p.Account, Currency: cur.Code, Amount: m})
	}
	return out, nil
}

// minor converts a non-negative amount in major units of cur to minor units;
// zero is refused unless allowZero. what names the amount in an error.
func minor(what string, d decimal.Decimal, cur Currency, allowZero bool) (int64, error) {
	return minorOf(what, "", d, cur, allowZero)
}

// minorOf is minor for an amount named by two words, kind and name ("fee"
// and its type), put together only for an error: a name made for every
// fee before converting it cost an allocation a fee.
func minorOf(kind, name string, d decimal.Decimal, cur Currency, allowZero bool) (int64, error) {
	what := func() string {
		if name == "" {
			return kind
		}
		return kind + " " + name
	}
	if d.Sign() < 0 || (d.Sign() == 0 && !allowZero) {
		return 0, fmt.Errorf("%w: %s must be positive, got %s", ErrInvalidAmount, what(), d.String())
	}
	m, err := ToMinor(d, cur)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what(), err)
	}
	return m, nil
}
