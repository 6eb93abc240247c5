package bank

import (
	"errors"
	"fmt"
	"strings"
)

// Errors a caller can test with errors.Is. Problems with amounts and
// currencies wrap ledger.ErrInvalidAmount, ledger.ErrUnknownCurrency and
// ledger.ErrCurrencyMismatch.
var (
	// ErrUnknownFormat: the format is not one of BAI2, camt.053 and MT940,
	// or the input looks like none of them.
	ErrUnknownFormat = errors.New("unknown bank statement format")
	// ErrMalformed: the file's structure is broken: a record or tag out of
	// place, a missing header or trailer, a truncated file, broken XML.
	ErrMalformed = errors.New("malformed statement file")
	// ErrMissingField: a required field, tag or element is absent or empty.
	ErrMissingField = errors.New("missing required value")
	// ErrBadValue: a field cannot be read (a wrong code, mark or number).
	ErrBadValue = errors.New("invalid value")
	// ErrBadDate: a date cannot be parsed or does not exist.
	ErrBadDate = errors.New("invalid date")
	// ErrOutOfBalance: a statement's opening balance plus its lines is not
	// its closing balance.
	ErrOutOfBalance = errors.New("out of balance")
	// ErrControlTotal: a BAI2 trailer's control total or record count
	// disagrees with the records it closes.
	ErrControlTotal = errors.New("control total mismatch")
)

// ParseError is a problem at a place in a statement file, in the manner of
// encoding/csv's ParseError.
type ParseError struct {
	File    string
	Line    int    // 1-based; 0 if unknown
	Element string // the BAI2 record field, MT940 tag or camt element path, if known
	Err     error
}

// Error renders the problem as file:line: element: reason, the form
// compilers use, so that editors can jump to it.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Element != "" {
		b.WriteString(e.Element)
		if !strings.HasSuffix(e.Element, ":") { // an MT940 tag brings its own colon
			b.WriteString(":")
		}
		b.WriteString(" ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrorList is every problem found in a refused file, in file order. Read
// returns one whenever the file is refused for what it holds (a failing
// callback or reader is returned as it is).
type ErrorList []*ParseError

// Error lists the problems one a line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.Is and errors.As look at every problem.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// maxProblems bounds the list of a hopeless file: past it reading stops.
const maxProblems = 100

var errTooMany = fmt.Errorf("%w: more than %d problems; stopped reading", ErrMalformed, maxProblems)
