package bank

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// This reader is our own rather than github.com/moov-io/bai2's. That
// library parses a whole file into a tree of groups, accounts and details
// (amounts kept as strings, errors as formatted text), so a large file is
// held whole and a problem cannot be told apart by line and field as our
// *ParseError does; and the Go module proxy here refuses to serve it. BAI2
// is a small line format: a state machine over its records streams and
// reports every problem where it is.

// bai2Record is one logical record: a physical record and its 88
// continuations.
type bai2Record struct {
	code  string
	line  int
	parts []string // each physical record after its "NN,"
	lines []int    // the line of each part
	raw   rawText
}

// bai2Fields walks the comma-separated fields of a logical record across
// its physical records. A slash ends a physical record's fields; the next
// continuation goes on with the next field.
type bai2Fields struct {
	rec  *bai2Record
	p    int    // the part being read
	s    string // what is left of it
	open bool   // s still has fields
}

func newBAI2Fields(rec *bai2Record) *bai2Fields {
	return &bai2Fields{rec: rec, s: rec.parts[0], open: true}
}

// next returns the next field, trimmed, or false when the record has no
// more.
func (f *bai2Fields) next() (string, bool) {
	for !f.open {
		if f.p+1 >= len(f.rec.parts) {
			return "", false
		}
		f.p++
		f.s, f.open = f.rec.parts[f.p], true
	}
	i := strings.IndexAny(f.s, ",/")
	if i < 0 {
		v := f.s
		f.s, f.open = "", false
		return strings.TrimSpace(v), true
	}
	v := f.s[:i]
	if f.s[i] == '/' {
		f.s, f.open = "", false
	} else {
		f.s = f.s[i+1:]
	}
	return strings.TrimSpace(v), true
}

// line is the file line of the field last read.
func (f *bai2Fields) line() int { return f.rec.lines[f.p] }

// text returns the free text that ends a 16 record: the rest of the record,
// commas and slashes included, through its continuations, joined with \n.
// BAI2 ends the text with the record rather than a slash, but writers
// commonly add one, so a single trailing slash is dropped.
func (f *bai2Fields) text() string {
	var pieces []string
	add := func(s string) {
		s = strings.TrimRight(s, " ")
		s = strings.TrimSuffix(s, "/")
		if s = strings.TrimSpace(s); s != "" {
			pieces = append(pieces, s)
		}
	}
	if f.open {
		add(f.s)
	}
	for f.p+1 < len(f.rec.parts) {
		f.p++
		add(f.rec.parts[f.p])
	}
	f.s, f.open = "", false
	return strings.Join(pieces, "\n")
}

// bai2Group is an open group (02 to 98).
type bai2Group struct {
	line     int
	problems int // the session's problems when the group opened
	currency string
	asOf     time.Time
	total    int64 // the account control totals so far
	accounts int
	records  int
}

// bai2Account is an open account (03 to 49).
type bai2Account struct {
	st         *Statement
	cur        ledger.Currency
	total      int64 // the amounts of its 03 and 16 records
	records    int
	hasOpening bool
	hasClosing bool
	bad        bool // a problem was reported: skip the integrity check
}

type bai2Reader struct {
	s        *session
	header   bool // an 01 was read
	trailer  bool // a 99 was read
	fileID   string
	group    *bai2Group
	acct     *bai2Account
	total    int64 // the group control totals so far
	groups   int
	records  int
	lastLine int
}

func readBAI2(br *bufio.Reader, s *session) {
	r := &bai2Reader{s: s}
	sc := newLineScanner(br, s)
	var rec *bai2Record
	for !s.stopped() {
		l, ok := sc.next()
		if !ok {
			break
		}
		r.lastLine = l.num
		text := strings.TrimRight(l.text, " \t")
		if text == "" {
			continue // blank lines are no records
		}
		code, rest, _ := strings.Cut(text, ",")
		if code == "88" {
			if rec == nil {
				s.fail(l.num, "88", fmt.Errorf("%w: a continuation record with no record before it", ErrMalformed))
				continue
			}
			rec.parts = append(rec.parts, rest)
			rec.lines = append(rec.lines, l.num)
			rec.raw.add(l)
			continue
		}
		if rec != nil {
			r.record(rec)
		}
		rec = &bai2Record{code: code, line: l.num, parts: []string{rest}, lines: []int{l.num}}
		rec.raw.reset(l)
	}
	if s.stopped() {
		return
	}
	if rec != nil {
		r.record(rec)
	}
	r.end()
}

// end reports what a complete file would have closed.
func (r *bai2Reader) end() {
	switch {
	case !r.header && r.lastLine == 0:
		r.s.fail(1, "", fmt.Errorf("%w: the file is empty", ErrMalformed))
	case r.trailer:
	case r.acct != nil:
		r.s.fail(r.lastLine, "", fmt.Errorf("%w: the file ends inside account %q, before its 49 trailer: truncated?", ErrMalformed, r.acct.st.Account))
	case r.group != nil:
		r.s.fail(r.lastLine, "", fmt.Errorf("%w: the file ends inside the group of line %d, before its 98 trailer: truncated?", ErrMalformed, r.group.line))
	default:
		r.s.fail(r.lastLine, "", fmt.Errorf("%w: the file ends without its 99 trailer: truncated?", ErrMalformed))
	}
}

// fail reports a problem in a record, marking the open account as bad.
func (r *bai2Reader) fail(line int, element string, err error) {
	if r.acct != nil {
		r.acct.bad = true
	}
	r.s.fail(line, element, err)
}

func (r *bai2Reader) record(rec *bai2Record) {
	n := len(rec.parts)
	if r.trailer {
		r.fail(rec.line, "", fmt.Errorf("%w: record %q after the 99 file trailer", ErrMalformed, rec.code))
		return
	}
	if rec.code != "01" && !r.header {
		r.fail(rec.line, "", fmt.Errorf("%w: record %q before the 01 file header: not a BAI2 file?", ErrMalformed, rec.code))
		r.header = true // report this once
	}
	r.records += n
	if r.group != nil {
		r.group.records += n
	}
	if r.acct != nil {
		r.acct.records += n
	}
	f := newBAI2Fields(rec)
	switch rec.code {
	case "01":
		r.fileHeader(rec, f)
	case "02":
		r.groupHeader(rec, f)
	case "03":
		r.accountHeader(rec, f)
	case "16":
		r.detail(rec, f)
	case "49":
		r.accountTrailer(rec, f)
	case "98":
		r.groupTrailer(rec, f)
	case "99":
		r.fileTrailer(rec, f)
	default:
		r.fail(rec.line, "", fmt.Errorf("%w: unknown record code %q", ErrMalformed, rec.code))
	}
}

func (r *bai2Reader) fileHeader(rec *bai2Record, f *bai2Fields) {
	if r.header {
		r.fail(rec.line, "01", fmt.Errorf("%w: a second file header", ErrMalformed))
		return
	}
	r.header = true
	var fields [8]string // sender, receiver, date, time, file id, record length, block size, version
	for i := range fields {
		fields[i], _ = f.next()
	}
	if _, err := parseYYMMDD(fields[2]); err != nil {
		r.fail(f.line(), "01 file creation date", err)
	}
	r.fileID = fields[4]
	if fields[7] != "2" {
		r.fail(f.line(), "01 version number", fmt.Errorf("%w: version %q: only BAI version 2 is read", ErrBadValue, fields[7]))
	}
}

func (r *bai2Reader) groupHeader(rec *bai2Record, f *bai2Fields) {
	if r.group != nil {
		r.fail(rec.line, "02", fmt.Errorf("%w: a group header before the 98 trailer of the group of line %d", ErrMalformed, r.group.line))
	}
	r.acct = nil
	g := &bai2Group{line: rec.line, records: len(rec.parts), problems: len(r.s.problems)}
	r.group = g
	var fields [7]string // receiver, originator, status, as-of date, as-of time, currency, modifier
	for i := range fields {
		fields[i], _ = f.next()
	}
	var err error
	if g.asOf, err = parseYYMMDD(fields[3]); err != nil {
		r.fail(f.line(), "02 as-of date", err)
	}
	// A group without a currency reports in US dollars.
	g.currency = fields[5]
	if g.currency == "" {
		g.currency = "USD"
	}
}

func (r *bai2Reader) accountHeader(rec *bai2Record, f *bai2Fields) {
	if r.group == nil {
		r.fail(rec.line, "03", fmt.Errorf("%w: an account outside a group (no 02 before it)", ErrMalformed))
		return
	}
	if r.acct != nil {
		r.fail(rec.line, "03", fmt.Errorf("%w: an account header before the 49 trailer of account %q", ErrMalformed, r.acct.st.Account))
	}
	g := r.group
	g.accounts++
	a := &bai2Account{records: len(rec.parts)}
	r.acct = a
	number, _ := f.next()
	if number == "" {
		r.fail(f.line(), "03 account number", fmt.Errorf("%w: empty account number", ErrMissingField))
	}
	code, _ := f.next()
	if code == "" {
		code = g.currency // an account without a currency has its group's
	}
	cur, err := r.s.currency(code)
	if err != nil {
		r.fail(f.line(), "03 currency", err)
	}
	a.cur = cur
	a.st = &Statement{Format: BAI2, Account: number, Currency: cur.Code, ID: r.fileID,
		OpeningDate: g.asOf, ClosingDate: g.asOf, Line: rec.line}
	for {
		tc, ok := f.next()
		if !ok {
			break
		}
		if tc == "" {
			for { // only empty fields may follow: "03,acct,USD,,/"
				v, more := f.next()
				if !more {
					break
				}
				if v != "" {
					r.fail(f.line(), "03 type code", fmt.Errorf("%w: empty type code before %q", ErrMissingField, v))
					return
				}
			}
			break
		}
		if !isTypeCode(tc) {
			r.fail(f.line(), "03 type code", fmt.Errorf("%w: type code %q is not three digits", ErrBadValue, tc))
			return
		}
		s, _ := f.next()
		amt, empty, err := parseBAI2Amount(s, true)
		if err != nil {
			r.fail(f.line(), "03 amount", err)
			return
		}
		r.addTotal(&a.total, amt, f.line(), "03 amount")
		if cnt, _ := f.next(); cnt != "" && !allDigits(cnt) {
			r.fail(f.line(), "03 item count", fmt.Errorf("%w: item count %q is not a number", ErrBadValue, cnt))
			return
		}
		if _, err := r.funds(f, "03"); err != nil {
			return
		}
		switch tc {
		case "010", "015":
			name, has, bal := "opening", &a.hasOpening, &a.st.OpeningBalance
			if tc == "015" {
				name, has, bal = "closing", &a.hasClosing, &a.st.ClosingBalance
			}
			switch {
			case empty:
				r.fail(f.line(), "03 amount", fmt.Errorf("%w: type code %s (%s ledger) without an amount", ErrMissingField, tc, name))
			case *has:
				r.fail(f.line(), "03 type code", fmt.Errorf("%w: a second %s ledger balance (type code %s)", ErrBadValue, name, tc))
			}
			*has, *bal = true, amt
		}
	}
}

// funds reads a funds type and the fields it brings, returning the value
// date of type V.
func (r *bai2Reader) funds(f *bai2Fields, code string) (time.Time, error) {
	ft, _ := f.next()
	need := func(what string, check func(string) error) error {
		v, ok := f.next()
		if !ok {
			err := fmt.Errorf("%w: funds type %s without its %s", ErrMissingField, ft, what)
			r.fail(f.line(), code+" funds type", err)
			return err
		}
		if err := check(v); err != nil {
			r.fail(f.line(), code+" "+what, err)
			return err
		}
		return nil
	}
	amount := func(v string) error { _, _, err := parseBAI2Amount(v, true); return err }
	var value time.Time
	switch ft {
	case "", "Z", "0", "1", "2":
	case "S": // immediate, one-day and two-or-more-day amounts
		for _, what := range []string{"immediate amount", "one-day amount", "two-day amount"} {
			if err := need(what, amount); err != nil {
				return value, err
			}
		}
	case "V": // value date and time
		err := need("value date", func(v string) error {
			var err error
			value, err = parseYYMMDD(v)
			return err
		})
		if err != nil {
			return value, err
		}
		if err := need("value time", func(string) error { return nil }); err != nil {
			return value, err
		}
	case "D": // a count, then that many (days, amount) pairs
		var n int
		err := need("distribution count", func(v string) error {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < 0 {
				return fmt.Errorf("%w: distribution count %q is not a number", ErrBadValue, v)
			}
			return nil
		})
		for i := 0; err == nil && i < n; i++ {
			err = need("distribution days", func(v string) error {
				if !allDigits(v) || v == "" {
					return fmt.Errorf("%w: days %q is not a number", ErrBadValue, v)
				}
				return nil
			})
			if err == nil {
				err = need("distribution amount", amount)
			}
		}
		if err != nil {
			return value, err
		}
	default:
		err := fmt.Errorf("%w: funds type %q is none of 0, 1, 2, S, V, D, Z", ErrBadValue, ft)
		r.fail(f.line(), code+" funds type", err)
		return value, err
	}
	return value, nil
}

func (r *bai2Reader) detail(rec *bai2Record, f *bai2Fields) {
	a := r.acct
	if a == nil {
		r.fail(rec.line, "16", fmt.Errorf("%w: a transaction detail outside an account (no 03 before it)", ErrMalformed))
		return
	}
	tc, _ := f.next()
	if !isTypeCode(tc) {
		r.fail(f.line(), "16 type code", fmt.Errorf("%w: type code %q is not three digits", ErrBadValue, tc))
		return
	}
	// Type codes 100–399 are credits and 400–699 debits; any other code
	// (890, information only) cannot move money, so it must carry none.
	n, _ := strconv.Atoi(tc)
	money := n >= 100 && n <= 699
	s, _ := f.next()
	amt, empty, err := parseBAI2Amount(s, false)
	if err == nil && empty && money {
		err = fmt.Errorf("%w: empty amount", ErrMissingField)
	}
	if err == nil && !money && amt != 0 {
		err = fmt.Errorf("%w: type code %s is neither a credit (100–399) nor a debit (400–699) but has an amount", ErrBadValue, tc)
	}
	if err != nil {
		r.fail(f.line(), "16 amount", err)
		return
	}
	r.addTotal(&a.total, amt, f.line(), "16 amount")
	if n >= 400 {
		amt = -amt
	}
	value, err := r.funds(f, "16")
	if err != nil {
		return
	}
	bankRef, _ := f.next()
	custRef, _ := f.next()
	text := f.text()
	a.st.Lines = append(a.st.Lines, Line{
		Amount:      amt,
		Currency:    a.cur.Code,
		BookingDate: r.group.asOf,
		ValueDate:   value,
		Status:      StatusBooked,
		BankRef:     bankRef,
		CustomerRef: custRef,
		TypeCode:    tc,
		Remittance:  text,
		Line:        rec.line,
		Offset:      rec.raw.off,
		Raw:         rec.raw.String(),
	})
}

func (r *bai2Reader) accountTrailer(rec *bai2Record, f *bai2Fields) {
	a := r.acct
	if a == nil {
		r.fail(rec.line, "49", fmt.Errorf("%w: an account trailer with no account open", ErrMalformed))
		return
	}
	r.acct = nil
	// A trailer over records already found wrong proves nothing more: its
	// own total is carried up, and it is compared only over clean records,
	// so that one problem is reported once and not at every level above.
	total, ok := r.trailerTotal(f, "49 account control total", a.total, !a.bad)
	count := r.trailerCount(f, "49 number of records", a.records, !a.bad)
	if r.group != nil {
		r.addTotal(&r.group.total, total, rec.line, "49 account control total")
	}
	switch {
	case a.bad || !ok || !count:
	case !a.hasOpening:
		r.s.fail(a.st.Line, "03", fmt.Errorf("%w: account %q has no opening ledger balance (type code 010): its lines cannot be checked", ErrMissingField, a.st.Account))
	case !a.hasClosing:
		r.s.fail(a.st.Line, "03", fmt.Errorf("%w: account %q has no closing ledger balance (type code 015): its lines cannot be checked", ErrMissingField, a.st.Account))
	default:
		r.s.emit(a.st, rec.line)
	}
}

func (r *bai2Reader) groupTrailer(rec *bai2Record, f *bai2Fields) {
	g := r.group
	if g == nil {
		r.fail(rec.line, "98", fmt.Errorf("%w: a group trailer with no group open", ErrMalformed))
		return
	}
	if r.acct != nil {
		r.fail(rec.line, "98", fmt.Errorf("%w: a group trailer before the 49 trailer of account %q", ErrMalformed, r.acct.st.Account))
		r.acct = nil
	}
	r.group = nil
	r.groups++
	clean := len(r.s.problems) == g.problems
	total, _ := r.trailerTotal(f, "98 group control total", g.total, clean)
	r.trailerCount(f, "98 number of accounts", g.accounts, clean)
	r.trailerCount(f, "98 number of records", g.records, clean)
	r.addTotal(&r.total, total, rec.line, "98 group control total")
}

func (r *bai2Reader) fileTrailer(rec *bai2Record, f *bai2Fields) {
	if r.group != nil {
		r.fail(rec.line, "99", fmt.Errorf("%w: the file trailer before the 98 trailer of the group of line %d", ErrMalformed, r.group.line))
		r.group, r.acct = nil, nil
	}
	r.trailer = true
	clean := len(r.s.problems) == 0
	r.trailerTotal(f, "99 file control total", r.total, clean)
	r.trailerCount(f, "99 number of groups", r.groups, clean)
	r.trailerCount(f, "99 number of records", r.records, clean)
}

// trailerTotal reads a control total and compares it with the sum of what
// it closes. It returns the total the trailer states, so that one bad sum
// is reported once and not again at every level above it.
func (r *bai2Reader) trailerTotal(f *bai2Fields, element string, want int64, compare bool) (int64, bool) {
	s, _ := f.next()
	got, empty, err := parseBAI2Amount(s, true)
	if err == nil && empty {
		err = fmt.Errorf("%w: empty control total", ErrMissingField)
	}
	if err != nil {
		r.fail(f.line(), element, err)
		return want, false
	}
	if compare && got != want {
		r.fail(f.line(), element, fmt.Errorf("%w: the trailer says %d, the records add up to %d (minor units)", ErrControlTotal, got, want))
		return got, false
	}
	return got, true
}

// trailerCount reads a count and compares it with what was counted.
func (r *bai2Reader) trailerCount(f *bai2Fields, element string, want int, compare bool) bool {
	s, _ := f.next()
	got, err := strconv.Atoi(s)
	if err != nil || !allDigits(s) {
		r.fail(f.line(), element, fmt.Errorf("%w: %q is not a count", ErrBadValue, s))
		return false
	}
	if compare && got != want {
		r.fail(f.line(), element, fmt.Errorf("%w: the trailer says %d, the file has %d", ErrControlTotal, got, want))
		return false
	}
	return true
}

// addTotal adds to a running control total, reporting overflow.
func (r *bai2Reader) addTotal(total *int64, v int64, line int, element string) {
	sum, err := ledger.AddMinor(*total, v)
	if err != nil {
		r.fail(line, element, err)
		return
	}
	*total = sum
}

func isTypeCode(s string) bool { return len(s) == 3 && allDigits(s) }

// parseBAI2Amount reads an amount in minor units: BAI2 writes no decimal
// point, the currency's digits being implied, so the number is already in
// minor units. Balances and control totals may carry a sign; detail
// amounts may not. An empty field is reported as such, with no error.
func parseBAI2Amount(s string, signed bool) (v int64, empty bool, err error) {
	if s == "" {
		return 0, true, nil
	}
	body := s
	if signed && (s[0] == '+' || s[0] == '-') {
		body = s[1:]
	}
	if body == "" || !allDigits(body) {
		return 0, false, fmt.Errorf("%w: amount %q is not a whole number of minor units", ledger.ErrInvalidAmount, s)
	}
	v, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%w: amount %q overflows a 64-bit amount", ledger.ErrInvalidAmount, s)
	}
	return v, false, nil
}
