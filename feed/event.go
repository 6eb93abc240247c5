// Package feed reads settle's event feed: JSON Lines, one event per line,
// each mirroring a ledger call. It is how a billing backend that does not
// embed the Go library records its payments (`settle record FILE.jsonl`).
//
// The feed is strict, because a ledger must not guess: amounts are decimal
// strings in major units ("29.99") — a JSON number is refused, because
// cents-versus-dollars is the classic ledger bug — and only plain ones
// (digits, optionally a point and more digits: no sign, spaces, exponent or
// separators); unknown fields and duplicate keys are refused at every level;
// times are RFC 3339 and must be ones the books store exactly. A UTF-8 byte
// order mark at the start of the file is skipped. Every problem names its
// place as FILE:LINE:field.
package feed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// Event is one parsed line of the feed. Which fields are set depends on Type.
type Event struct {
	File string
	Line int

	ID   string // the idempotency key
	Type string
	At   time.Time

	Payment, Provider, ProviderRef, Currency string
	Customer, Description, Reason            string
	Refund, Dispute, Payout                  string
	Amount, Fee, FeeRefund                   decimal.Decimal
	Metadata                                 map[string]string
	ExpiresAt, AvailableOn, ArrivalDate      time.Time
	Automatic                                bool // payout.created: a payout on the provider's schedule
	Fees                                     []ledger.Fee
	Postings                                 []ledger.PostingInput
	// Settlement is the provider's settlement side of a capture, refund or
	// dispute presented in another currency: {"amount","currency"}.
	Settlement *ledger.Settlement
}

// Error is a problem with one line of a feed file: a line that is not a
// valid event (errors.Is(err, ErrBadLine)), or an event the ledger refused
// (Err wraps the ledger's error).
type Error struct {
	File  string
	Line  int
	Field string // the field at fault, e.g. "at" or "fees[0].amount"; empty for the whole line
	Err   error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d:%s: %v", e.File, e.Line, e.Field, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrBadLine marks a line that is not a valid event.
var ErrBadLine = errors.New("invalid event")

// invalid is why a line is not a valid event. It matches ErrBadLine without
// saying so in its message, and unwraps to the error behind it, if any
// (ledger.ErrInvalidTime, for example).
type invalid struct {
	msg string
	err error
}

func (e *invalid) Error() string        { return e.msg }
func (e *invalid) Is(target error) bool { return target == ErrBadLine }
func (e *invalid) Unwrap() error        { return e.err }

// bad returns the *Error for a problem with field (empty for the whole
// line); File and Line are filled in by the Reader. A %w in format is
// unwrapped to.
func bad(field, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Field: field, Err: &invalid{msg: err.Error(), err: errors.Unwrap(err)}}
}

// fieldSpec lists, per event type, the required and optional fields besides
// id, type and at; allowed, every field a line of the type may give, is
// made from them once, not for every line.
var fieldSpec = map[string]eventFields{
	"payment.authorized": fields([]string{"payment", "provider", "amount", "currency"}, []string{"provider_ref", "customer", "description", "metadata", "expires_at"}),
	"payment.captured":   fields([]string{"payment"}, []string{"amount", "fees", "available_on", "provider", "provider_ref", "currency", "customer", "description", "metadata", "settlement"}),
	"payment.canceled":   fields([]string{"payment"}, nil),
	"payment.refunded":   fields([]string{"payment", "refund"}, []string{"provider_ref", "amount", "currency", "reason", "fee_refund", "settlement"}),
	"dispute.opened":     fields([]string{"payment", "dispute", "amount"}, []string{"provider_ref", "fee", "settlement"}),
	"dispute.won":        fields([]string{"dispute"}, []string{"fee_refund", "settlement"}),
	"dispute.lost":       fields([]string{"dispute"}, nil),
	"payout.created":     fields([]string{"payout", "provider", "amount", "currency"}, []string{"provider_ref", "arrival_date", "automatic"}),
	"payout.paid":        fields([]string{"payout"}, nil),
	"payout.failed":      fields([]string{"payout"}, nil),
	"entry.posted":       fields([]string{"postings"}, []string{"description", "metadata"}),
}

// eventFields are the fields of one event type.
type eventFields struct {
	required, optional []string
	allowed            []string // id, type, at, then the required and the optional
}

func fields(required, optional []string) eventFields {
	return eventFields{required, optional, slices.Concat([]string{"id", "type", "at"}, required, optional)}
}

// Types returns the event types the feed knows, sorted.
func Types() []string {
	out := make([]string, 0, len(fieldSpec))
	for t := range fieldSpec {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// MaxLine is the longest line, in bytes, that the feed reads. A longer line
// is refused as a whole; the lines after it are read.
const MaxLine = 16 << 20

var bom = []byte("\xef\xbb\xbf")

// Reader reads a feed one event at a time, in the manner of encoding/csv's
// Reader: it holds one line at a time, so memory does not grow with the
// file, and it reads its input once, so a pipe or FIFO works.
type Reader struct {
	name string
	br   *bufio.Reader
	line int
	buf  []byte
}

// NewReader returns a Reader of r; name is the file name its errors give.
func NewReader(name string, r io.Reader) *Reader {
	return &Reader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next event. A line that is not a valid event gives an
// *Error matching ErrBadLine, and the next call goes on with the next line.
// After the last event Next returns io.EOF; a failure to read the input is
// returned as it is (not an *Error), and ends the feed. Blank lines are
// skipped, and so is a UTF-8 byte order mark at the start of the file.
func (r *Reader) Next() (Event, error) {
	for {
		b, err := r.readLine()
		if err != nil {
			return Event{}, err
		}
		if r.line == 1 {
			b = bytes.TrimPrefix(b, bom)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		ev, err := parseLine(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{Err: err}
			}
			e.File, e.Line = r.name, r.line
			return Event{}, e
		}
		ev.File, ev.Line = r.name, r.line
		return ev, nil
	}
}

// readLine returns the next line, without its end, in a buffer that the next
// call reuses; io.EOF after the last line.
func (r *Reader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	tooLong := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.buf)+len(chunk) > MaxLine+1 { // +1: the line's \n
			tooLong, r.buf = true, r.buf[:0]
		}
		if !tooLong {
			r.buf = append(r.buf, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if len(r.buf) == 0 && !tooLong {
				return nil, io.EOF
			}
		case err != nil:
			return nil, fmt.Errorf("%s: reading line %d: %w", r.name, r.line+1, err)
		}
		r.line++
		if tooLong {
			return nil, &Error{File: r.name, Line: r.line, Err: &invalid{msg: fmt.Sprintf("the line is longer than %d MiB", MaxLine>>20)}}
		}
		return r.buf, nil
	}
}

// Read parses a whole feed. It returns the valid events and an error for
// every bad line (an *Error), or for a failure to read, after which it stops.
func Read(name string, r io.Reader) ([]Event, []error) {
	var events []Event
	var errs []error
	rd := NewReader(name, r)
	for {
		ev, err := rd.Next()
		var e *Error
		switch {
		case err == io.EOF:
			return events, errs
		case errors.As(err, &e):
			errs = append(errs, err)
		case err != nil:
			return events, append(errs, err)
		default:
			events = append(events, ev)
		}
	}
}
