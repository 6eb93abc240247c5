package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/settlehq/settle/ledger"
)

// Summary counts what applying a feed did.
type Summary struct {
	Applied  int // events that wrote something new
	Replayed int // events already recorded earlier (same id, same content)
	Skipped  int // bad events skipped with skipInvalid
	// Commit is the time from the last event applied to the end of the
	// transaction: the writes the store still held, and the commit.
	Commit time.Duration
}

// MaxErrors is how many problems ApplyFile lists; past it, it counts them.
const MaxErrors = 1000

// errRolledBack ends the transaction of a feed that had a bad line.
var errRolledBack = errors.New("feed rolled back")

// Apply records events through the ledger. Without skipInvalid it is all or
// nothing: the first failing event rolls every event back and its error is
// returned. With skipInvalid each failing event is skipped, reported in the
// returned errors, and the rest are applied.
func Apply(ctx context.Context, l *ledger.Ledger, events []Event, skipInvalid bool) (Summary, []error) {
	i := 0
	next := func() []item {
		if i == len(events) {
			return []item{{err: io.EOF}}
		}
		n := min(chunkSize, len(events)-i)
		chunk := make([]item, n)
		for j := range chunk {
			chunk[j].ev = events[i+j]
		}
		i += n
		return chunk
	}
	rewind := func() bool { i = 0; return true }
	return apply(ctx, l, next, rewind, skipInvalid, false)
}

// chunkSize is how many events apply takes at a time: the store reads
// their requests, payments and the rest ahead in a few queries (ledger.Prefetch).
const chunkSize = 1024

// item is what a feed yields for one line: an event or an error.
type item struct {
	ev  Event
	err error
}

// readAhead runs next on its own goroutine, chunkSize lines ahead of the
// caller (parsing a line costs about as much as recording it, and the
// machine has more than one CPU). The chunk holding io.EOF or a read error
// is the last. stop tells the goroutine to end early; it does not wait for
// a read in progress.
func readAhead(next func() (Event, error)) (chunks func() []item, stop func()) {
	ch := make(chan []item, 4)
	quit := make(chan struct{})
	go func() {
		defer close(ch)
		// A one-event body (the HTTP API) stays small; after a full
		// chunk the next is made full size at once, rather than grown
		// to it again.
		size := 16
		for {
			chunk := make([]item, 0, size)
			last := false
			for len(chunk) < chunkSize && !last {
				ev, err := next()
				var bad *Error
				last = err != nil && !errors.As(err, &bad)
				chunk = append(chunk, item{ev, err})
			}
			if len(chunk) == chunkSize {
				size = chunkSize
			}
			select {
			case ch <- chunk:
			case <-quit:
				return
			}
			if last {
				return
			}
		}
	}()
	chunks = func() []item {
		if chunk, ok := <-ch; ok {
			return chunk
		}
		return []item{{err: errors.New("the feed's reader stopped")}}
	}
	return chunks, func() { close(quit) }
}

// ApplyFile reads a feed from r once, validating and applying each line as
// it comes, in one database transaction; memory does not grow with the
// file. Without skipInvalid it is all or nothing: after the first bad line
// (one that does not parse or that the ledger refuses) it applies no more,
// reads on to list the rest of the lines that do not parse, and rolls
// everything back. With skipInvalid bad lines are reported and skipped and
// the rest is applied. A failure to read r, or of the database, rolls
// everything back in either case. At most MaxErrors problems are listed.
func ApplyFile(ctx context.Context, l *ledger.Ledger, name string, r io.Reader, skipInvalid bool) (Summary, []error) {
	once := func() bool { return false }
	chunks, stop := readAhead(NewReader(name, r).Next)
	defer stop()
	return apply(ctx, l, chunks, once, skipInvalid, true)
}

// apply runs the events that next yields, a chunk at a time, in one
// transaction. With readOn, a bad line without skipInvalid stops the
// applying but not the reading, so that every line that does not parse is
// listed. rewind starts
// next again if the store runs the transaction again (a PostgreSQL store
// retries serialization failures), or reports that it cannot.
func apply(ctx context.Context, l *ledger.Ledger, next func() []item, rewind func() bool, skipInvalid, readOn bool) (Summary, []error) {
	var sum Summary
	var errs []error
	more := 0
	report := func(err error) {
		if len(errs) < MaxErrors {
			errs = append(errs, err)
		} else {
			more++
		}
	}
	failed := false
	runs := 0
	var applied time.Time // when the feed's last line was done with: the transaction's work after it is the commit
	// Without skipInvalid the first bad event rolls everything back, so the
	// events need no savepoint each (a statement journal of every page they
	// touch): they run as one batch. With it, each event is a savepoint that
	// a refusal undoes alone.
	inTx := l.Batch
	if skipInvalid {
		inTx = l.Atomic
	}
	err := inTx(ctx, func(tl *ledger.Ledger) error {
		if runs++; runs > 1 {
			if !rewind() {
				return errors.New("the database asked to run the transaction again, and the feed was read once; record it again")
			}
			sum, errs, more, failed = Summary{}, nil, 0, false
		}
		var chunk []item
		var ahead ledger.Ahead
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(chunk) == 0 {
				if chunk = next(); !failed {
					ahead.Reset()
					for _, it := range chunk {
						if it.err == nil {
							ahead.Keys, ahead.Payments = append(ahead.Keys, it.ev.ID), append(ahead.Payments, it.ev.Payment)
							ahead.Refunds = appendID(ahead.Refunds, it.ev.Refund)
							ahead.Disputes = appendID(ahead.Disputes, it.ev.Dispute)
							ahead.Payouts = appendID(ahead.Payouts, it.ev.Payout)
						}
					}
					if err := tl.Prefetch(ctx, ahead); err != nil {
						return err
					}
				}
			}
			ev, err := chunk[0].ev, chunk[0].err
			chunk = chunk[1:]
			var bad *Error
			switch {
			case err == io.EOF:
				if failed {
					return errRolledBack
				}
				applied = time.Now()
				return nil
			case errors.As(err, &bad):
				report(err)
				sum.Skipped++
				failed = failed || !skipInvalid
				continue
			case err != nil:
				return err
			}
			if failed {
				if !readOn {
					return errRolledBack
				}
				continue
			}
			replayed, err := applyOne(ctx, tl, ev)
			if err != nil {
				if !refused(err) {
					return fmt.Errorf("%s:%d: %w", ev.File, ev.Line, err)
				}
				report(lineError(ev, err))
				sum.Skipped++
				failed = !skipInvalid
				continue
			}
			if replayed {
				sum.Replayed++
			} else {
				sum.Applied++
			}
		}
	})
	if more > 0 {
		errs = append(errs, fmt.Errorf("… and %d more problems", more))
	}
	switch {
	case errors.Is(err, errRolledBack):
		return Summary{}, errs
	case err != nil:
		return Summary{}, append(errs, err)
	}
	sum.Commit = time.Since(applied)
	return sum, errs
}

// lineError places an error of the ledger's at its event's line, naming
// the field when the feed checked it itself.
func lineError(ev Event, err error) error {
	var e *Error
	if errors.As(err, &e) {
		e.File, e.Line = ev.File, ev.Line
		return e
	}
	return &Error{File: ev.File, Line: ev.Line, Err: fmt.Errorf("%s %q: %w", ev.Type, ev.ID, err)}
}

// refusals are the ledger's errors that are an event's own fault. Any other
// error (the database's, a canceled context) is no reason to skip the line:
// it stops the whole feed.
var refusals = []error{
	ledger.ErrNotFound, ledger.ErrUnbalanced, ledger.ErrIdempotencyConflict, ledger.ErrOverCapture,
	ledger.ErrOverRefund, ledger.ErrAlreadyCaptured, ledger.ErrAlreadyVoided, ledger.ErrAlreadyResolved,
	ledger.ErrCurrencyMismatch, ledger.ErrInvalidAmount, ledger.ErrUnknownCurrency, ledger.ErrInvalidAccount,
	ledger.ErrInvalidRequest, ledger.ErrClosedPeriod, ledger.ErrInsufficientFunds, ledger.ErrInvalidState,
	ledger.ErrInvalidTime, ErrBadLine,
}

func refused(err error) bool {
	for _, r := range refusals {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// checkCurrencies resolves an event's currency codes with the ledger's
// registry, so that a refusal names the field.
func checkCurrencies(l *ledger.Ledger, ev Event) error {
	if ev.Currency != "" {
		if _, err := l.Currency(ev.Currency); err != nil {
			return &Error{Field: "currency", Err: err}
		}
	}
	for i, p := range ev.Postings {
		if _, err := l.Currency(p.Currency); err != nil {
			return &Error{Field: fmt.Sprintf("postings[%d].currency", i), Err: err}
		}
	}
	return nil
}

func applyOne(ctx context.Context, l *ledger.Ledger, ev Event) (bool, error) {
	if err := checkCurrencies(l, ev); err != nil {
		return false, err
	}
	var res *ledger.Result
	var err error
	switch ev.Type {
	case "payment.authorized":
		res, err = l.Authorize(ctx, ledger.AuthorizeRequest{Key: ev.ID, PaymentID: ev.Payment, Provider: ev.Provider,
			ProviderRef: ev.ProviderRef, Amount: ev.Amount, Currency: ev.Currency, Customer: ev.Customer,
			Description: ev.Description, Metadata: ev.Metadata, At: ev.At, ExpiresAt: ev.ExpiresAt})
	case "payment.captured":
		res, err = l.Capture(ctx, ledger.CaptureRequest{Key: ev.ID, PaymentID: ev.Payment, Amount: ev.Amount, Fees: ev.Fees,
			AvailableOn: ev.AvailableOn, At: ev.At, Provider: ev.Provider, ProviderRef: ev.ProviderRef, Currency: ev.Currency,
			Customer: ev.Customer, Description: ev.Description, Metadata: ev.Metadata, Settlement: ev.Settlement})
	case "payment.canceled":
		res, err = l.Cancel(ctx, ledger.CancelRequest{Key: ev.ID, PaymentID: ev.Payment, At: ev.At})
	case "payment.refunded":
		res, err = l.Refund(ctx, ledger.RefundRequest{Key: ev.ID, PaymentID: ev.Payment, RefundID: ev.Refund,
			ProviderRef: ev.ProviderRef, Amount: ev.Amount, Currency: ev.Currency, Reason: ev.Reason, FeeRefund: ev.FeeRefund, At: ev.At,
			Settlement: ev.Settlement})
	case "dispute.opened":
		res, err = l.OpenDispute(ctx, ledger.DisputeRequest{Key: ev.ID, PaymentID: ev.Payment, DisputeID: ev.Dispute,
			ProviderRef: ev.ProviderRef, Amount: ev.Amount, Fee: ev.Fee, At: ev.At, Settlement: ev.Settlement})
	case "dispute.won":
		res, err = l.WinDispute(ctx, ledger.DisputeCloseRequest{Key: ev.ID, DisputeID: ev.Dispute, FeeRefund: ev.FeeRefund, At: ev.At,
			Settlement: ev.Settlement})
	case "dispute.lost":
		res, err = l.LoseDispute(ctx, ledger.DisputeCloseRequest{Key: ev.ID, DisputeID: ev.Dispute, At: ev.At})
	case "payout.created":
		res, err = l.CreatePayout(ctx, ledger.PayoutRequest{Key: ev.ID, PayoutID: ev.Payout, Provider: ev.Provider,
			ProviderRef: ev.ProviderRef, Amount: ev.Amount, Currency: ev.Currency, ArrivalDate: ev.ArrivalDate, At: ev.At,
			Automatic: ev.Automatic})
	case "payout.paid":
		res, err = l.PayPayout(ctx, ledger.PayoutUpdateRequest{Key: ev.ID, PayoutID: ev.Payout, At: ev.At})
	case "payout.failed":
		res, err = l.FailPayout(ctx, ledger.PayoutUpdateRequest{Key: ev.ID, PayoutID: ev.Payout, At: ev.At})
	case "entry.posted":
		var e *ledger.Entry
		e, err = l.PostEntry(ctx, ledger.EntryInput{Key: ev.ID, OccurredAt: ev.At, Description: ev.Description,
			Metadata: ev.Metadata, Postings: ev.Postings})
		if err == nil {
			return e.Replayed, nil
		}
	default:
		err = fmt.Errorf("%w: unknown event type %q", ErrBadLine, ev.Type)
	}
	if err != nil {
		return false, err
	}
	return res != nil && res.Replayed, nil
}

// appendID appends id to ids unless it is empty.
func appendID(ids []string, id string) []string {
	if id == "" {
		return ids
	}
	return append(ids, id)
}
