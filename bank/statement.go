package bank

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// Format names a bank statement format.
type Format string

// The formats Read understands.
const (
	BAI2    Format = "bai2"
	Camt053 Format = "camt.053"
	MT940   Format = "mt940"
)

// Formats returns the supported formats.
func Formats() []Format { return []Format{BAI2, Camt053, MT940} }

// StatusBooked is the status of a line that moved the balance. BAI2 and
// MT940 statements report booked lines only; camt.053 says so per entry.
const StatusBooked = "BOOK"

// Statement is one account's statement for a period: a BAI2 account (03 to
// 49), a camt.053 Stmt, or an MT940 message. Amounts are signed integer minor
// units of Currency (a lowercase ISO 4217 code): a positive balance is in the
// account holder's favour, a credit line is positive and a debit negative.
//
// A statement that Read delivers always balances: OpeningBalance plus the
// Amount of every booked line is ClosingBalance (see Check).
type Statement struct {
	Format   Format
	Account  string // as the bank gives it: an IBAN, an account number, MT940's "bank/account"
	Currency string
	ID       string // camt Stmt/Id, MT940 :20:, BAI2 the file identification number
	Sequence string // camt ElctrncSeqNb (or LglSeqNb), MT940 :28C:; empty for BAI2

	OpeningBalance int64
	ClosingBalance int64
	OpeningDate    time.Time // the date of the opening balance
	ClosingDate    time.Time // the date of the closing balance

	Lines []Line
	Info  string `json:",omitempty"` // MT940 :86: for the whole statement, camt AddtlStmtInf

	// Where it came from, for audit.
	File string
	Line int // 1-based line where the statement begins
}

// Line is one entry of a statement. Dates without a time of day are midnight
// UTC; a camt date-time keeps the offset the bank wrote.
type Line struct {
	Amount      int64 // signed minor units: credit +, debit −
	Currency    string
	BookingDate time.Time `json:",omitzero"`
	ValueDate   time.Time `json:",omitzero"`
	// Status is BOOK for an entry that moved the balance; a camt.053 entry
	// may also be PDNG (pending) or INFO, which the balance does not include
	// and which a reconciliation should not count as money arrived.
	Status   string
	Reversal bool // camt RvslInd, MT940 RC/RD: the line undoes an earlier one

	BankRef     string // camt AcctSvcrRef, MT940 the reference after //, BAI2 bank reference
	CustomerRef string // camt EndToEndId, MT940 the customer reference, BAI2 customer reference
	MessageRef  string // camt TxDtls/Refs/MsgId
	TypeCode    string // BAI2 type code, MT940 transaction type (NTRF), camt BkTxCd (PMNT/RCDT/ESCT or proprietary)
	Remittance  string // camt RmtInf/Ustrd, MT940 :86:, BAI2 text; the file's line breaks kept as \n
	Info        string // camt AddtlNtryInf, MT940 supplementary details

	// Where it came from, for audit.
	Line   int    // 1-based line of the BAI2 16 record, the MT940 :61: tag or the camt <Ntry>
	Offset int64  // byte offset in the file of Raw's first byte
	Raw    string // the record with its continuations, the :61: with its :86:, or the Ntry element, as in the file
}

// Check verifies the statement's integrity: every line is in the
// statement's currency, and the opening balance plus the booked lines is
// the closing balance. The error wraps ErrOutOfBalance or
// ledger.ErrCurrencyMismatch and names the difference.
func (st *Statement) Check() error {
	// Only messages need the digits: a code registered outside ISO 4217
	// shows its amounts in minor units.
	cur, lookupErr := ledger.LookupCurrency(st.Currency)
	unit := cur.Upper()
	if lookupErr != nil {
		cur, unit = ledger.Currency{Code: st.Currency}, strings.ToUpper(st.Currency)+" minor units"
	}
	sum := st.OpeningBalance
	var err error
	for i := range st.Lines {
		l := &st.Lines[i]
		if l.Currency != st.Currency {
			return fmt.Errorf("%s: the line on line %d is in %s, the statement in %s: %w", st.name(), l.Line, strings.ToUpper(l.Currency), strings.ToUpper(st.Currency), ledger.ErrCurrencyMismatch)
		}
		if l.Status != StatusBooked {
			continue
		}
		if sum, err = ledger.AddMinor(sum, l.Amount); err != nil {
			return fmt.Errorf("%s: %w", st.name(), err)
		}
	}
	if sum == st.ClosingBalance {
		return nil
	}
	money := func(m int64) string { return ledger.FormatMinor(m, cur.Digits) }
	moved, _ := ledger.AddMinor(sum, -st.OpeningBalance)
	diff, _ := ledger.AddMinor(st.ClosingBalance, -sum)
	return fmt.Errorf("%w: %s: opening balance %s + lines %s = %s %s, but the closing balance is %s (difference %s)",
		ErrOutOfBalance, st.name(), money(st.OpeningBalance), money(moved), money(sum), unit, money(st.ClosingBalance), money(diff))
}

// name says which statement this is, for messages.
func (st *Statement) name() string {
	var b strings.Builder
	b.WriteString("statement")
	if st.ID != "" {
		fmt.Fprintf(&b, " %q", st.ID)
	}
	if st.Sequence != "" {
		fmt.Fprintf(&b, " (sequence %s)", st.Sequence)
	}
	fmt.Fprintf(&b, " of account %q", st.Account)
	return b.String()
}

// Options configure Read. A nil *Options is the defaults.
type Options struct {
	// File names the input in statements and errors.
	File string
	// Format, when set, skips detection.
	Format Format
	// Currencies resolves currency codes; nil knows ISO 4217 only.
	Currencies *ledger.Currencies
}

// headSize is how much of the input detection looks at.
const headSize = 64 << 10

// Read reads the bank statements in r and calls fn with each one once it is
// complete and balances. Read streams: it holds one statement at a time, so
// memory grows with the longest statement, never with the file.
//
// A file is accepted or refused whole. When Read returns an error the file
// is refused, and the caller must discard the statements fn was given
// (store them in one transaction and roll it back). fn is not called again
// after the first problem; reading goes on to list every problem, and the
// error is then an ErrorList of *ParseError, each naming the file, the line
// and the field. An error returned by fn stops reading and is returned as it
// is.
func Read(r io.Reader, opts *Options, fn func(*Statement) error) error {
	if opts == nil {
		opts = &Options{}
	}
	format := opts.Format
	size := 16 << 10
	if format == "" {
		size = headSize
	}
	br := bufio.NewReaderSize(r, size)
	if format == "" {
		head, err := br.Peek(headSize)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%s: %w", opts.File, err)
		}
		if format, err = Detect(opts.File, head); err != nil {
			return err
		}
	}
	s := &session{file: opts.File, currencies: opts.Currencies, fn: fn}
	switch format {
	case BAI2:
		readBAI2(br, s)
	case Camt053:
		readCamt053(br, s)
	case MT940:
		readMT940(br, s)
	default:
		return fmt.Errorf("%s: %w %q: the formats are %s, %s and %s", opts.File, ErrUnknownFormat, format, BAI2, Camt053, MT940)
	}
	if s.abort != nil {
		return s.abort
	}
	if len(s.problems) > 0 {
		return s.problems
	}
	return nil
}

// ReadAll reads every statement of r. On any problem it returns no
// statements and the error Read gives.
func ReadAll(r io.Reader, opts *Options) ([]*Statement, error) {
	var out []*Statement
	err := Read(r, opts, func(st *Statement) error {
		out = append(out, st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// session is the state the three format readers share: where problems go
// and where good statements go.
type session struct {
	file       string
	currencies *ledger.Currencies
	fn         func(*Statement) error
	problems   ErrorList
	abort      error // fn's error or a read error: stop at once
	halted     bool  // a problem after which nothing more can be read
}

// fail records a problem at a line of the file.
func (s *session) fail(line int, element string, err error) {
	if len(s.problems) > maxProblems {
		return
	}
	if len(s.problems) == maxProblems {
		err, element = errTooMany, ""
	}
	s.problems = append(s.problems, &ParseError{File: s.file, Line: line, Element: element, Err: err})
}

// stopped reports whether reading should end now.
func (s *session) stopped() bool {
	return s.abort != nil || s.halted || len(s.problems) > maxProblems
}

// readError stops reading for a failure of the underlying reader.
func (s *session) readError(err error) {
	if s.abort == nil {
		s.abort = fmt.Errorf("%s: %w", s.file, err)
	}
}

// emit checks a complete statement and hands it on while the file is clean
// so far. line is where a problem with the whole statement is reported:
// its closing balance or end.
func (s *session) emit(st *Statement, line int) {
	st.File = s.file
	if err := st.Check(); err != nil {
		s.fail(line, "", err)
		return
	}
	if len(s.problems) > 0 || s.abort != nil {
		return
	}
	if err := s.fn(st); err != nil {
		s.abort = err
	}
}

// currency resolves a currency code to its lowercase form and digits.
func (s *session) currency(code string) (ledger.Currency, error) {
	if strings.TrimSpace(code) == "" {
		return ledger.Currency{}, fmt.Errorf("%w: no currency", ErrMissingField)
	}
	return s.currencies.Lookup(code)
}

// parseYYMMDD reads the six-digit dates of BAI2 and MT940. Two-digit years
// are 1969–2068, as Go's time package reads them.
func parseYYMMDD(s string) (time.Time, error) {
	if len(s) != 6 || !allDigits(s) {
		return time.Time{}, fmt.Errorf("%w: %q is not a YYMMDD date", ErrBadDate, s)
	}
	t, err := time.Parse("060102", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is not a YYMMDD date", ErrBadDate, s)
	}
	return t, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
