package bank

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// camtNamespace is the namespace of camt.053 without its version; the
// versions read are .02 to .08, whose elements used here are the same but
// for Ntry/Sts, plain text up to .07 and a Cd or Prtry child in .08.
const camtNamespace = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."

func camtVersionOK(ns string) bool {
	v, ok := strings.CutPrefix(ns, camtNamespace)
	return ok && len(v) == 2 && v >= "02" && v <= "08"
}

// Bounds that keep a hostile file from growing memory: no camt element
// nests this deep or holds this much text.
const (
	maxXMLDepth = 64
	maxXMLText  = 64 << 10
)

// keepReader hands the XML decoder its input a byte at a time (so that the
// decoder's offsets are exact) and keeps the bytes from a mark on, so that
// an Ntry element can be cut out as the file has it.
type keepReader struct {
	br   *bufio.Reader
	buf  []byte // the input from offset base on, as far as read
	base int64
}

func (k *keepReader) ReadByte() (byte, error) {
	c, err := k.br.ReadByte()
	if err == nil {
		k.buf = append(k.buf, c)
	}
	return c, err
}

func (k *keepReader) Read(p []byte) (int, error) {
	n, err := k.br.Read(p)
	k.buf = append(k.buf, p[:n]...)
	return n, err
}

// forget drops the bytes before off, in steps of a few KiB so that the
// copying stays small.
func (k *keepReader) forget(off int64) {
	if n := off - k.base; n >= 4<<10 {
		k.buf = append(k.buf[:0], k.buf[n:]...)
		k.base = off
	}
}

func (k *keepReader) slice(from, to int64) []byte { return k.buf[from-k.base : to-k.base] }

// camtFrame is an open element.
type camtFrame struct {
	name   string
	line   int
	ccy    string // the Ccy attribute of an Amt
	parent bool   // it has child elements: its text is only layout
	text   strings.Builder
}

// camtBalance is the Bal element being read.
type camtBalance struct {
	line                    int
	code                    string
	amount, ccy, ind, date  string
	amtLine, indLine, dLine int
	dateTime                bool
}

// camtEntry is the Ntry element being read.
type camtEntry struct {
	line      int
	off       int64
	l         Line
	hasAmount bool
	amount    string
	hasInd    bool
	amtLine   int
	credit    bool
	bankRef   string // TxDtls/Refs/AcctSvcrRef, used when the entry has none
	ustrd     []string
	bad       bool
}

type camtReader struct {
	s      *session
	in     *keepReader
	d      *xml.Decoder
	origin int64 // file offset of the decoder's first byte (after a byte order mark)

	stack  []*camtFrame // open elements from Document down
	path   string       // their names below Document, joined with /
	doc    bool         // inside the camt.053 Document
	sawDoc bool

	st       *Statement
	stBad    bool
	acctCcy  string
	balCcy   []string // currencies of the opening and closing balances
	opening  string   // the code of the balance taken as opening
	closing  bool
	closeAt  int
	bal      *camtBalance
	ntry     *camtEntry
	curCache map[string]ledger.Currency
}

func readCamt053(br *bufio.Reader, s *session) {
	r := &camtReader{s: s}
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
		r.origin = int64(len(utf8BOM))
	}
	r.in = &keepReader{br: br}
	r.d = xml.NewDecoder(r.in)
	for !s.stopped() {
		if r.ntry == nil {
			r.in.forget(r.d.InputOffset())
		}
		off := r.d.InputOffset()
		line, _ := r.d.InputPos()
		tok, err := r.d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg := se.Msg
				if msg == "unexpected EOF" {
					msg += ": truncated?"
				}
				s.fail(se.Line, r.element(), fmt.Errorf("%w: XML: %s", ErrMalformed, msg))
			} else if strings.HasPrefix(err.Error(), "xml: ") {
				s.fail(line, r.element(), fmt.Errorf("%w: %v", ErrMalformed, err))
			} else {
				s.readError(err)
			}
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			r.start(t, line, off)
		case xml.EndElement:
			r.end()
		case xml.CharData:
			if n := len(r.stack); r.doc && n > 0 && !r.stack[n-1].parent {
				f := r.stack[n-1]
				if f.text.Len()+len(t) > maxXMLText {
					s.fail(line, r.element(), fmt.Errorf("%w: more than %d KiB of text in one element", ErrMalformed, maxXMLText>>10))
					return
				}
				f.text.Write(t)
			}
		}
	}
	if s.stopped() {
		return
	}
	if !r.sawDoc {
		line, _ := r.d.InputPos()
		s.fail(line, "", fmt.Errorf("%w: no camt.053 Document element (namespace %s02 to 08)", ErrMalformed, camtNamespace))
	}
}

// element names the open element for messages, from BkToCstmrStmt down.
func (r *camtReader) element() string {
	return strings.TrimPrefix(r.path, "BkToCstmrStmt/")
}

func (r *camtReader) start(t xml.StartElement, line int, off int64) {
	if !r.doc {
		if t.Name.Local != "Document" {
			return // an envelope around the Document
		}
		if !camtVersionOK(t.Name.Space) {
			r.s.fail(line, "Document", fmt.Errorf("%w: namespace %q is not camt.053.001.02 to .08", ErrUnknownFormat, t.Name.Space))
			r.s.halted = true // nothing more can be read
			return
		}
		r.doc, r.sawDoc = true, true
		r.stack = append(r.stack, &camtFrame{name: "Document", line: line})
		return
	}
	if len(r.stack) >= maxXMLDepth {
		r.s.fail(line, r.element(), fmt.Errorf("%w: elements nested more than %d deep", ErrMalformed, maxXMLDepth))
		r.s.halted = true
		return
	}
	parent := r.stack[len(r.stack)-1]
	parent.parent = true
	parent.text.Reset()
	f := &camtFrame{name: t.Name.Local, line: line}
	if f.name == "Amt" {
		for _, a := range t.Attr {
			if a.Name.Local == "Ccy" {
				f.ccy = a.Value
			}
		}
	}
	r.stack = append(r.stack, f)
	if len(r.stack) == 2 {
		r.path = f.name
	} else {
		r.path += "/" + f.name
	}
	switch r.path {
	case "BkToCstmrStmt/Stmt":
		r.st = &Statement{Format: Camt053, Line: line}
		r.stBad, r.acctCcy, r.balCcy, r.opening, r.closing = false, "", nil, "", false
	case "BkToCstmrStmt/Stmt/Bal":
		r.bal = &camtBalance{line: line}
	case "BkToCstmrStmt/Stmt/Ntry":
		r.ntry = &camtEntry{line: line, off: off, l: Line{Line: line, Offset: r.origin + off}}
	}
}

func (r *camtReader) end() {
	if !r.doc {
		return
	}
	n := len(r.stack)
	f := r.stack[n-1]
	r.stack = r.stack[:n-1]
	if n == 1 { // </Document>
		r.doc = false
		return
	}
	path := r.path
	if n == 2 {
		r.path = ""
	} else {
		r.path = path[:len(path)-len(f.name)-1]
	}
	rel, ok := strings.CutPrefix(path, "BkToCstmrStmt/Stmt")
	if !ok || r.st == nil {
		return
	}
	rel = strings.TrimPrefix(rel, "/")
	text := strings.TrimSpace(f.text.String())
	switch {
	case rel == "":
		r.endStatement(f.line)
	case strings.HasPrefix(rel, "Bal"):
		r.balance(rel, f, text)
	case rel == "Ntry" && r.ntry != nil:
		r.endEntry()
	case strings.HasPrefix(rel, "Ntry/") && r.ntry != nil:
		r.entry(strings.TrimPrefix(rel, "Ntry/"), f, text)
	default:
		r.statementField(rel, f, text)
	}
}

// fail reports a problem at an element, and spoils the statement (and the
// entry) it is in.
func (r *camtReader) fail(line int, element string, err error) {
	r.stBad = true
	if r.ntry != nil {
		r.ntry.bad = true
	}
	r.s.fail(line, element, err)
}

func (r *camtReader) statementField(rel string, f *camtFrame, text string) {
	st := r.st
	switch rel {
	case "Id":
		st.ID = text
	case "ElctrncSeqNb":
		st.Sequence = text
	case "LglSeqNb":
		if st.Sequence == "" {
			st.Sequence = text
		}
	case "Acct/Id/IBAN", "Acct/Id/Othr/Id":
		st.Account = text
	case "Acct/Ccy":
		r.acctCcy = text
	case "AddtlStmtInf":
		st.Info = text
	}
}

func (r *camtReader) balance(rel string, f *camtFrame, text string) {
	b := r.bal
	if b == nil {
		return
	}
	switch rel {
	case "Bal/Tp/CdOrPrtry/Cd":
		b.code = text
	case "Bal/Amt":
		b.amount, b.ccy, b.amtLine = text, f.ccy, f.line
	case "Bal/CdtDbtInd":
		b.ind, b.indLine = text, f.line
	case "Bal/Dt/Dt", "Bal/Dt/DtTm":
		b.date, b.dLine, b.dateTime = text, f.line, rel == "Bal/Dt/DtTm"
	case "Bal":
		r.bal = nil
		r.endBalance(b)
	}
}

// endBalance takes the booked opening and closing balances. The opening is
// OPBD, or PRCD (the previous statement's closing) when there is no OPBD;
// the closing is CLBD. Other balances (available, interim, forward) do not
// bear on the lines and are passed over.
func (r *camtReader) endBalance(b *camtBalance) {
	st := r.st
	var opening bool
	switch b.code {
	case "OPBD":
		opening = true
		if r.opening == "OPBD" {
			r.fail(b.line, "Stmt/Bal", fmt.Errorf("%w: a second OPBD balance", ErrBadValue))
			return
		}
	case "PRCD":
		if r.opening != "" {
			return
		}
		opening = true
	case "CLBD":
		if r.closing {
			r.fail(b.line, "Stmt/Bal", fmt.Errorf("%w: a second CLBD balance", ErrBadValue))
			return
		}
	default:
		return
	}
	amt, ok := r.amount(b.amount, b.ccy, b.ind, b.amtLine, b.indLine, b.line, "Stmt/Bal")
	if !ok {
		return
	}
	if b.date == "" {
		r.fail(b.line, "Stmt/Bal/Dt", fmt.Errorf("%w: %s balance without a date", ErrMissingField, b.code))
		return
	}
	d, err := parseISODate(b.date, b.dateTime)
	if err != nil {
		r.fail(b.dLine, "Stmt/Bal/Dt", err)
		return
	}
	r.balCcy = append(r.balCcy, b.ccy)
	if opening {
		st.OpeningBalance, st.OpeningDate, r.opening = amt, d, b.code
	} else {
		st.ClosingBalance, st.ClosingDate, r.closing, r.closeAt = amt, d, true, b.line
	}
}

// amount reads an Amt with its Ccy and CdtDbtInd as signed minor units.
func (r *camtReader) amount(text, ccy, ind string, amtLine, indLine, line int, element string) (int64, bool) {
	if amtLine == 0 {
		r.fail(line, element+"/Amt", fmt.Errorf("%w: no Amt", ErrMissingField))
		return 0, false
	}
	cur, err := r.currency(ccy)
	if err != nil {
		r.fail(amtLine, element+"/Amt", fmt.Errorf("Ccy: %w", err))
		return 0, false
	}
	if strings.HasPrefix(text, "-") || strings.HasPrefix(text, "+") {
		r.fail(amtLine, element+"/Amt", fmt.Errorf("%w: %q: camt amounts carry no sign; CdtDbtInd gives it", ledger.ErrInvalidAmount, text))
		return 0, false
	}
	v, err := ledger.ParseAmount(text, cur)
	if err != nil {
		r.fail(amtLine, element+"/Amt", err)
		return 0, false
	}
	switch ind {
	case "CRDT":
		return v, true
	case "DBIT":
		return -v, true
	case "":
		r.fail(line, element+"/CdtDbtInd", fmt.Errorf("%w: no CdtDbtInd", ErrMissingField))
	default:
		r.fail(indLine, element+"/CdtDbtInd", fmt.Errorf("%w: %q is neither CRDT nor DBIT", ErrBadValue, ind))
	}
	return 0, false
}

func (r *camtReader) currency(code string) (ledger.Currency, error) {
	if c, ok := r.curCache[code]; ok {
		return c, nil
	}
	c, err := r.s.currency(code)
	if err != nil {
		return c, err
	}
	if r.curCache == nil {
		r.curCache = make(map[string]ledger.Currency)
	}
	if len(r.curCache) < 16 {
		r.curCache[code] = c
	}
	return c, nil
}

func (r *camtReader) entry(rel string, f *camtFrame, text string) {
	e := r.ntry
	l := &e.l
	switch rel {
	case "Amt":
		e.hasAmount, e.amtLine = true, f.line
		e.amount, l.Currency = text, f.ccy // read in endEntry, when the sign is known
	case "CdtDbtInd":
		e.hasInd = true
		switch text {
		case "CRDT":
			e.credit = true
		case "DBIT":
		default:
			r.fail(f.line, "Stmt/Ntry/CdtDbtInd", fmt.Errorf("%w: %q is neither CRDT nor DBIT", ErrBadValue, text))
		}
	case "RvslInd":
		switch text {
		case "true", "1":
			l.Reversal = true
		case "false", "0":
		default:
			r.fail(f.line, "Stmt/Ntry/RvslInd", fmt.Errorf("%w: %q is not a boolean", ErrBadValue, text))
		}
	case "Sts", "Sts/Cd", "Sts/Prtry":
		if text != "" {
			l.Status = text
		}
	case "BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt", "ValDt/DtTm":
		d, err := parseISODate(text, strings.HasSuffix(rel, "DtTm"))
		if err != nil {
			r.fail(f.line, "Stmt/Ntry/"+rel, err)
			return
		}
		if strings.HasPrefix(rel, "BookgDt") {
			l.BookingDate = d
		} else {
			l.ValueDate = d
		}
	case "AcctSvcrRef":
		l.BankRef = text
	case "BkTxCd/Domn/Cd":
		l.TypeCode = text + l.TypeCode
	case "BkTxCd/Domn/Fmly/Cd", "BkTxCd/Domn/Fmly/SubFmlyCd":
		l.TypeCode += "/" + text
	case "BkTxCd/Prtry/Cd":
		if l.TypeCode == "" {
			l.TypeCode = text
		}
	case "NtryDtls/TxDtls/Refs/EndToEndId":
		if l.CustomerRef == "" {
			l.CustomerRef = text
		}
	case "NtryDtls/TxDtls/Refs/MsgId":
		if l.MessageRef == "" {
			l.MessageRef = text
		}
	case "NtryDtls/TxDtls/Refs/AcctSvcrRef":
		if e.bankRef == "" {
			e.bankRef = text
		}
	case "NtryDtls/TxDtls/RmtInf/Ustrd":
		if text != "" {
			e.ustrd = append(e.ustrd, text)
		}
	case "AddtlNtryInf":
		l.Info = text
	}
}

func (r *camtReader) endEntry() {
	e := r.ntry
	r.ntry = nil
	l := &e.l
	if l.Status == "" {
		r.fail(e.line, "Stmt/Ntry/Sts", fmt.Errorf("%w: an entry without a status (Sts)", ErrMissingField))
	}
	if !e.hasAmount {
		r.fail(e.line, "Stmt/Ntry/Amt", fmt.Errorf("%w: an entry without an amount (Amt)", ErrMissingField))
	}
	if !e.hasInd {
		r.fail(e.line, "Stmt/Ntry/CdtDbtInd", fmt.Errorf("%w: an entry without CdtDbtInd", ErrMissingField))
	}
	if e.bad {
		return
	}
	ind := "DBIT"
	if e.credit {
		ind = "CRDT"
	}
	amt, ok := r.amount(e.amount, l.Currency, ind, e.amtLine, 0, e.line, "Stmt/Ntry")
	if !ok {
		return
	}
	l.Amount = amt
	l.Currency = strings.ToLower(l.Currency)
	if r.acctCcy != "" && !strings.EqualFold(r.acctCcy, l.Currency) {
		r.fail(e.amtLine, "Stmt/Ntry/Amt", fmt.Errorf("the entry is in %s, the account in %s: %w", strings.ToUpper(l.Currency), strings.ToUpper(r.acctCcy), ledger.ErrCurrencyMismatch))
		return
	}
	if l.BankRef == "" {
		l.BankRef = e.bankRef
	}
	l.Remittance = strings.Join(e.ustrd, "\n")
	end := r.d.InputOffset()
	l.Raw = string(r.in.slice(e.off, end))
	r.st.Lines = append(r.st.Lines, *l)
}

func (r *camtReader) endStatement(line int) {
	st := r.st
	r.st = nil
	if r.stBad {
		return
	}
	if st.Account == "" {
		r.s.fail(line, "Stmt/Acct/Id", fmt.Errorf("%w: statement %q has no account IBAN or Othr/Id", ErrMissingField, st.ID))
		return
	}
	if r.opening == "" {
		r.s.fail(line, "Stmt/Bal", fmt.Errorf("%w: %s has no opening balance (OPBD or PRCD)", ErrMissingField, st.name()))
		return
	}
	if !r.closing {
		r.s.fail(line, "Stmt/Bal", fmt.Errorf("%w: %s has no closing balance (CLBD)", ErrMissingField, st.name()))
		return
	}
	code := r.acctCcy
	if code == "" {
		code = r.balCcy[0]
	}
	cur, err := r.currency(code)
	if err != nil {
		r.s.fail(line, "Stmt/Acct/Ccy", err)
		return
	}
	st.Currency = cur.Code
	for _, c := range r.balCcy {
		if !strings.EqualFold(c, code) {
			r.s.fail(line, "Stmt/Bal", fmt.Errorf("%s: a balance is in %s, the account in %s: %w", st.name(), strings.ToUpper(c), cur.Upper(), ledger.ErrCurrencyMismatch))
			return
		}
	}
	r.s.emit(st, r.closeAt)
}

// parseISODate reads an ISO 20022 date (2024-01-31) or date-time
// (2024-01-31T17:00:00+01:00, the offset and fraction optional). A date
// is midnight UTC; a date-time keeps its offset, or is UTC without one.
func parseISODate(s string, dateTime bool) (time.Time, error) {
	if dateTime {
		for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("%w: %q is not an ISO date-time", ErrBadDate, s)
	}
	// A date may carry an offset (xs:date allows one); the date is what
	// counts.
	for _, layout := range []string{"2006-01-02", "2006-01-02Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q is not an ISO date (YYYY-MM-DD)", ErrBadDate, s)
}
