package bank

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// mt940Field is one tagged field and its continuation lines.
type mt940Field struct {
	tag   string     // "61", "60F", ...
	lines []textLine // the tag's line first
	first string     // the tag's line after the tag
}

// element names the field in messages: ":61:".
func (f *mt940Field) element() string { return ":" + f.tag + ":" }

// content is the field's text, its lines joined with \n.
func (f *mt940Field) content() string {
	parts := []string{f.first}
	for _, l := range f.lines[1:] {
		parts = append(parts, strings.TrimRight(l.text, " \t"))
	}
	return strings.Join(parts, "\n")
}

// mt940Msg is the statement message being read.
type mt940Msg struct {
	line     int
	st       *Statement
	cur      ledger.Currency
	sawOpen  bool // an opening balance field was there, read or not
	opening  bool
	closing  bool
	closeAt  int
	closeCcy string
	bad      bool
	last     string // the tag of the previous field
	pending  *Line  // the last :61:, which an :86: may still complete
	raw      rawText
	info     []string
}

type mt940Reader struct {
	s        *session
	block    bool // inside a SWIFT {4: block
	msg      *mt940Msg
	field    *mt940Field
	lastLine int
}

func readMT940(br *bufio.Reader, s *session) {
	r := &mt940Reader{s: s}
	sc := newLineScanner(br, s)
	seen := false
	for !s.stopped() {
		l, ok := sc.next()
		if !ok {
			break
		}
		r.lastLine = l.num
		text := strings.TrimRight(l.text, " \t")
		if text != "" {
			seen = true
		}
		r.line(l, text)
	}
	if s.stopped() {
		return
	}
	switch {
	case !seen:
		s.fail(1, "", fmt.Errorf("%w: the file is empty", ErrMalformed))
	case r.msg != nil && (r.block || !r.msg.closing):
		r.msg.bad = true // what it lacks is the truncation's doing: say that once
		r.endMessage()
		s.fail(r.lastLine, "", fmt.Errorf("%w: the file ends inside a statement: truncated?", ErrMalformed))
	case r.msg != nil:
		r.endMessage() // a plain file may leave out the last "-"
	case r.block:
		s.fail(r.lastLine, "", fmt.Errorf("%w: the file ends inside a {4: block: truncated?", ErrMalformed))
	}
}

// line handles one line of the file.
func (r *mt940Reader) line(l textLine, text string) {
	switch {
	case r.block && strings.HasPrefix(text, "-}"):
		r.endMessage()
		r.block = false
		r.blockHeader(l, text[2:])
		return
	case text == "-":
		if r.msg == nil && !r.block {
			r.s.fail(l.num, "", fmt.Errorf("%w: an end of statement (-) with no statement open", ErrMalformed))
			return
		}
		r.endMessage()
		return
	}
	if tag, rest, ok := cutTag(text); ok {
		r.flush()
		if tag == "20" && r.msg != nil {
			r.endMessage() // a plain file may leave out the "-" between statements
		}
		if r.msg == nil {
			if tag != "20" {
				r.s.fail(l.num, ":"+tag+":", fmt.Errorf("%w: a statement must begin with :20:", ErrMalformed))
				r.msg = &mt940Msg{line: l.num, st: &Statement{Format: MT940, Line: l.num}, bad: true}
			} else {
				r.msg = &mt940Msg{line: l.num, st: &Statement{Format: MT940, Line: l.num}}
			}
		}
		r.field = &mt940Field{tag: tag, lines: []textLine{l}, first: rest}
		return
	}
	switch {
	case r.field != nil:
		r.field.lines = append(r.field.lines, l)
	case text == "":
	case r.msg == nil && (text[0] == '{' || text[0] == '}'):
		r.blockHeader(l, text)
	case r.msg == nil && text == ":940:":
		// Some banks head the file with the message type.
	default:
		r.s.fail(l.num, "", fmt.Errorf("%w: text %q outside a statement field", ErrMalformed, clip(text)))
	}
}

// blockHeader reads the SWIFT envelope ({1:…}{2:…}{3:…}{4:) before a
// message: block 4 holds the statement; the others name sender and
// receiver and are not needed here.
func (r *mt940Reader) blockHeader(l textLine, text string) {
	if rest, ok := strings.CutPrefix(text, "}"); ok {
		r.block, text = false, rest // the end of a block whose "-" stood alone
	}
	i := strings.Index(text, "{4:")
	if i < 0 {
		return
	}
	r.block = true
	if rest := strings.TrimSpace(text[i+3:]); rest != "" {
		r.line(l, rest)
	}
}

// flush handles the field gathered so far.
func (r *mt940Reader) flush() {
	f := r.field
	r.field = nil
	if f == nil || r.msg == nil {
		return
	}
	m := r.msg
	st := m.st
	defer func() { m.last = f.tag }()
	if f.tag != "86" {
		m.settle()
	}
	switch f.tag {
	case "20":
		st.ID = f.first
	case "25", "25P":
		st.Account = f.first
	case "28C", "28":
		st.Sequence = f.first
	case "60F", "60M":
		if m.sawOpen {
			r.fail(f, fmt.Errorf("%w: a second opening balance", ErrMalformed))
			return
		}
		m.sawOpen = true
		bal, d, cur, err := r.balance(f)
		if err != nil {
			return
		}
		m.opening, m.cur = true, cur
		st.OpeningBalance, st.OpeningDate, st.Currency = bal, d, cur.Code
	case "61":
		switch {
		case !m.sawOpen:
			r.fail(f, fmt.Errorf("%w: a statement line before the opening balance :60F:", ErrMalformed))
		case !m.opening:
			m.bad = true // the opening balance was reported: its currency is unknown
		case m.closing:
			r.fail(f, fmt.Errorf("%w: a statement line after the closing balance :62F:", ErrMalformed))
		default:
			r.statementLine(f)
		}
	case "86":
		if m.pending != nil && m.last == "61" {
			m.pending.Remittance = f.content()
			for _, l := range f.lines {
				m.raw.add(l)
			}
			m.settle()
		} else {
			m.info = append(m.info, f.content())
		}
	case "62F", "62M":
		if m.closing {
			r.fail(f, fmt.Errorf("%w: a second closing balance", ErrMalformed))
			return
		}
		bal, d, cur, err := r.balance(f)
		if err != nil {
			return
		}
		m.closing, m.closeAt, m.closeCcy = true, f.lines[0].num, cur.Code
		st.ClosingBalance, st.ClosingDate = bal, d
	}
}

// settle adds the pending statement line to the statement.
func (m *mt940Msg) settle() {
	if m.pending == nil {
		return
	}
	m.pending.Raw = m.raw.String()
	m.st.Lines = append(m.st.Lines, *m.pending)
	m.pending = nil
}

func (r *mt940Reader) fail(f *mt940Field, err error) {
	r.msg.bad = true
	r.s.fail(f.lines[0].num, f.element(), err)
}

// endMessage closes the open statement and hands it on if it is whole.
func (r *mt940Reader) endMessage() {
	r.flush()
	m := r.msg
	r.msg = nil
	if m == nil {
		return
	}
	m.settle()
	st := m.st
	st.Info = strings.Join(m.info, "\n")
	if m.bad {
		return
	}
	missing := func(what string) {
		r.s.fail(m.line, "", fmt.Errorf("%w: statement %q has no %s", ErrMissingField, st.ID, what))
	}
	switch {
	case st.ID == "":
		r.s.fail(m.line, ":20:", fmt.Errorf("%w: empty transaction reference", ErrMissingField))
	case st.Account == "":
		missing("account :25:")
	case !m.opening:
		missing("opening balance :60F:")
	case !m.closing:
		missing("closing balance :62F:")
	case m.closeCcy != st.Currency:
		r.s.fail(m.closeAt, ":62F:", fmt.Errorf("%s: the closing balance is in %s, the opening in %s: %w", st.name(), strings.ToUpper(m.closeCcy), strings.ToUpper(st.Currency), ledger.ErrCurrencyMismatch))
	default:
		r.s.emit(st, m.closeAt)
	}
}

// balance reads an opening or closing balance: a C or D mark, the date
// (YYMMDD), the currency and the amount with a decimal comma.
func (r *mt940Reader) balance(f *mt940Field) (int64, time.Time, ledger.Currency, error) {
	s := f.first
	fail := func(err error) (int64, time.Time, ledger.Currency, error) {
		r.fail(f, err)
		return 0, time.Time{}, ledger.Currency{}, err
	}
	if len(s) < 11 {
		return fail(fmt.Errorf("%w: %q is too short for mark, date, currency and amount", ErrBadValue, s))
	}
	var sign int64
	switch s[0] {
	case 'C':
		sign = 1
	case 'D':
		sign = -1
	default:
		return fail(fmt.Errorf("%w: debit/credit mark %q is neither C nor D", ErrBadValue, s[:1]))
	}
	d, err := parseYYMMDD(s[1:7])
	if err != nil {
		return fail(err)
	}
	cur, err := r.s.currency(s[7:10])
	if err != nil {
		return fail(err)
	}
	amt, err := parseSwiftAmount(s[10:], cur)
	if err != nil {
		return fail(err)
	}
	return sign * amt, d, cur, nil
}

// statementLine reads a :61: field: value date (YYMMDD), optional entry
// date (MMDD), mark (C, D, RC, RD), optional funds code, amount,
// transaction type (N, F or S and three characters), customer reference,
// optional //bank reference, and on a second line optional supplementary
// details.
func (r *mt940Reader) statementLine(f *mt940Field) {
	m := r.msg
	s := f.first
	fail := func(err error) { r.fail(f, err) }
	if len(s) < 6 {
		fail(fmt.Errorf("%w: %q has no value date", ErrBadValue, s))
		return
	}
	value, err := parseYYMMDD(s[:6])
	if err != nil {
		fail(fmt.Errorf("value date: %w", err))
		return
	}
	s = s[6:]
	booking := value
	if len(s) >= 4 && allDigits(s[:4]) {
		if booking, err = entryDate(s[:4], value); err != nil {
			fail(fmt.Errorf("entry date: %w", err))
			return
		}
		s = s[4:]
	}
	l := Line{Currency: m.cur.Code, BookingDate: booking, ValueDate: value, Status: StatusBooked,
		Line: f.lines[0].num, Offset: f.lines[0].off}
	var sign int64
	switch {
	case strings.HasPrefix(s, "RC"): // a reversed credit takes money out
		sign, l.Reversal, s = -1, true, s[2:]
	case strings.HasPrefix(s, "RD"): // a reversed debit puts it back
		sign, l.Reversal, s = 1, true, s[2:]
	case strings.HasPrefix(s, "C"):
		sign, s = 1, s[1:]
	case strings.HasPrefix(s, "D"):
		sign, s = -1, s[1:]
	default:
		fail(fmt.Errorf("%w: debit/credit mark in %q is none of C, D, RC, RD", ErrBadValue, clip(s)))
		return
	}
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		s = s[1:] // the funds code, the currency's third letter
	}
	end := strings.IndexAny(s, "NFS")
	if end < 0 {
		fail(fmt.Errorf("%w: no transaction type (N, F or S and three characters) after the amount in %q", ErrBadValue, clip(s)))
		return
	}
	amt, err := parseSwiftAmount(s[:end], m.cur)
	if err != nil {
		fail(err)
		return
	}
	l.Amount = sign * amt
	s = s[end:]
	if len(s) < 4 || !isAlnum(s[1:4]) {
		fail(fmt.Errorf("%w: transaction type %q is not N, F or S and three characters", ErrBadValue, clip(s)))
		return
	}
	l.TypeCode, s = s[:4], s[4:]
	l.CustomerRef, l.BankRef, _ = strings.Cut(s, "//")
	if len(f.lines) > 1 {
		l.Info = strings.TrimPrefix(f.content(), f.first+"\n")
	}
	m.pending = &l
	m.raw.reset(f.lines[0])
	for _, x := range f.lines[1:] {
		m.raw.add(x)
	}
}

// entryDate reads a :61: entry date (MMDD), whose year is the one that puts
// it nearest the value date: an entry booked on 31 December may have the
// value date 2 January.
func entryDate(mmdd string, value time.Time) (time.Time, error) {
	best := time.Time{}
	for _, y := range []int{value.Year() - 1, value.Year(), value.Year() + 1} {
		t, err := time.Parse("20060102", fmt.Sprintf("%04d%s", y, mmdd))
		if err != nil {
			continue // 29 February of a year without it
		}
		if best.IsZero() || absDuration(t.Sub(value)) < absDuration(best.Sub(value)) {
			best = t
		}
	}
	if best.IsZero() {
		return best, fmt.Errorf("%w: %q is not an MMDD date", ErrBadDate, mmdd)
	}
	return best, nil
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// parseSwiftAmount reads a SWIFT amount: digits with a decimal comma that
// is always there ("1234,56", "1234,"), exact to the currency's digits.
func parseSwiftAmount(s string, cur ledger.Currency) (int64, error) {
	whole, frac, ok := strings.Cut(s, ",")
	if !ok || whole == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("amount %q: %w: not digits with a decimal comma", s, ledger.ErrInvalidAmount)
	}
	dec := whole
	if frac != "" {
		dec += "." + frac
	}
	v, err := ledger.ParseAmount(dec, cur)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	return v, nil
}

// cutTag splits a field's first line into its tag and the rest:
// ":61:2401..." is "61" and "2401...". A tag is two digits and an
// optional letter between colons.
func cutTag(s string) (tag, rest string, ok bool) {
	if len(s) < 4 || s[0] != ':' || !allDigits(s[1:3]) {
		return "", "", false
	}
	n := 3
	if s[3] >= 'A' && s[3] <= 'Z' {
		n = 4
	}
	if len(s) <= n || s[n] != ':' {
		return "", "", false
	}
	return s[1:n], s[n+1:], true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// clip shortens text quoted in a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
