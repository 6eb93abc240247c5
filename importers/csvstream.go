package importers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// csvHeader maps the header's column names (trimmed, lower case) to their
// positions, so readers find columns by name and never by position.
type csvHeader struct {
	file  string
	line  int
	names []string
	pos   map[string]int
}

// index returns the position of the first of names present, or -1.
func (h *csvHeader) index(names ...string) int {
	for _, n := range names {
		if i, ok := h.pos[n]; ok {
			return i
		}
	}
	return -1
}

// require reports the required columns that are absent; each entry lists
// alternatives, any one of which will do.
func (h *csvHeader) require(cols map[string][]string) error {
	var missing []string
	for _, alts := range cols {
		if h.index(alts...) < 0 {
			missing = append(missing, strings.Join(alts, " or "))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sortStrings(missing)
	return &ParseError{File: h.file, Line: h.line, Column: missing[0],
		Err: fmt.Errorf("%w: %s (the header has: %s)", ErrMissingColumn, strings.Join(missing, ", "), strings.Join(h.names, ", "))}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// csvRow is one data row being converted; like jobj it keeps the first
// problem, located at the row's line and the column's name.
type csvRow struct {
	h      *csvHeader
	line   int
	fields []string
	err    error
}

// get returns the cell of column i ("" if the column is absent).
func (r *csvRow) get(i int) string {
	if i < 0 || i >= len(r.fields) {
		return ""
	}
	return r.fields[i]
}

func (r *csvRow) fail(i int, err error) {
	if r.err == nil {
		col := ""
		if i >= 0 && i < len(r.h.names) {
			col = r.h.names[i]
		}
		r.err = &ParseError{File: r.h.file, Line: r.line, Column: col, Err: err}
	}
}

// req returns a cell that must not be empty.
func (r *csvRow) req(i int) string {
	s := r.get(i)
	if s == "" && r.err == nil {
		r.fail(i, fmt.Errorf("%w: empty cell", ErrMissingField))
	}
	return s
}

// major returns a decimal cell in major units as minor units of cur; an
// empty optional cell is zero.
func (r *csvRow) major(i int, cur ledger.Currency, required bool) int64 {
	s := r.get(i)
	if r.err != nil || (s == "" && !required) {
		return 0
	}
	v, err := parseMajor(s, cur)
	if err != nil {
		r.fail(i, err)
	}
	return v
}

// minor returns an integer cell in minor units; an empty optional cell is zero.
func (r *csvRow) minor(i int, required bool) int64 {
	s := r.get(i)
	if r.err != nil || (s == "" && !required) {
		return 0
	}
	v, err := parseMinorString(s)
	if err != nil {
		r.fail(i, err)
	}
	return v
}

// amount reads a cell in the given units.
func (r *csvRow) amount(i int, cur ledger.Currency, minorUnits, required bool) int64 {
	if minorUnits {
		return r.minor(i, required)
	}
	return r.major(i, cur, required)
}

// time parses a cell with the first fitting layout; an empty optional cell
// is the zero time.
func (r *csvRow) time(i int, required bool, layouts ...string) time.Time {
	s := r.get(i)
	if r.err != nil || (s == "" && !required) {
		return time.Time{}
	}
	if s == "" {
		r.fail(i, fmt.Errorf("%w: empty cell", ErrMissingField))
		return time.Time{}
	}
	t, err := parseTimeLayouts(s, layouts...)
	if err != nil {
		r.fail(i, err)
	}
	return t
}

// currency resolves the currency cell.
func (r *csvRow) currency(i int, cc *currencyCache) ledger.Currency {
	s := r.req(i)
	if r.err != nil {
		return ledger.Currency{}
	}
	cur, err := cc.lookup(s)
	if err != nil {
		r.fail(i, err)
	}
	return cur
}

// checkNet verifies net = amount − fee.
func (r *csvRow) checkNet(i int, rec *provider.Record) {
	if r.err == nil && rec.Amount-rec.Fee != rec.Net {
		r.fail(i, fmt.Errorf("%w: %d − %d = %d, but net is %d (minor units)", ErrNetMismatch, rec.Amount, rec.Fee, rec.Amount-rec.Fee, rec.Net))
	}
}

// csvFormat converts the rows of one CSV format.
type csvFormat interface {
	// header resolves the columns, returning a *ParseError for missing ones.
	header(h *csvHeader) error
	// row fills rec from r; problems go to r.err.
	row(r *csvRow, rec *provider.Record)
}

// rowBytes passes the input through to encoding/csv and keeps the bytes
// from the current row on, so that a row can be cut out exactly as the file
// has it once csv has parsed it: csv gives the cells and the offset where a
// row ends, not the row's text.
//
// It also enforces MaxRowSize. csv asks for more input only while the row it
// is reading is unfinished (its buffer holds no complete line), so every byte
// passed on since the row began belongs to that row: once there are more
// than MaxRowSize of them, Read refuses to pass on more, and csv stops with
// errRowTooLong instead of growing its buffers with the row.
type rowBytes struct {
	r     io.Reader
	buf   []byte // the input from offset base on
	base  int64
	start int64 // offset of the row being read
}

func (b *rowBytes) Read(p []byte) (int, error) {
	room := b.start + MaxRowSize + 1 - (b.base + int64(len(b.buf)))
	if room <= 0 {
		return 0, errRowTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.buf = appendDoubling(b.buf, p[:n])
	return n, err
}

// appendDoubling appends p to b, doubling b's capacity when it must grow
// but not past what a row of MaxRowSize needs (with the 64 KiB kept before
// it): append grows large slices by a quarter, which for such a row read
// 4 KiB at a time allocates five times the row.
func appendDoubling(b, p []byte) []byte {
	if len(b)+len(p) > cap(b) {
		nb := make([]byte, len(b), max(min(2*cap(b), MaxRowSize+128<<10), len(b)+len(p)))
		copy(nb, b)
		b = nb
	}
	return append(b, p...)
}

// cut returns the input in [from, to), the row csv has just read, and
// makes to the start of the next row. from must not be before an earlier
// call's to: the bytes before it are forgotten, in steps of at least 64 KiB
// so that the bytes kept (csv's read-ahead) are not copied on every row.
func (b *rowBytes) cut(from, to int64) []byte {
	if k := from - b.base; k >= 64<<10 {
		b.buf = append(b.buf[:0], b.buf[k:]...)
		b.base = from
	}
	b.start = to
	return b.buf[from-b.base : to-b.base]
}

// rowText trims from the bytes between two rows what encoding/csv does not
// count as the second row: the empty lines it skips before it and the line
// break after it (csv also drops a lone \r before the end of the file). It
// returns the row and how many bytes were trimmed at the front.
func rowText(b []byte) ([]byte, int) {
	n := 0
	for {
		if n < len(b) && b[n] == '\n' {
			n++
		} else if n+1 < len(b) && b[n] == '\r' && b[n+1] == '\n' {
			n += 2
		} else {
			break
		}
	}
	b = bytes.TrimSuffix(bytes.TrimSuffix(b[n:], []byte{'\n'}), []byte{'\r'})
	return b, n
}

// csvReader is a Reader over an encoding/csv reader.
type csvReader struct {
	file     string
	format   string
	provider string
	cr       *csv.Reader
	in       *rowBytes
	origin   int64 // file offset of csv's first byte (after a byte order mark)
	next     int64 // file offset where the bytes of the next row begin
	enc      *textEncoding
	bom      bool // the file starts with a UTF-8 byte order mark
	conv     csvFormat
	h        *csvHeader
	row      csvRow
	done     bool
	reuse    bool             // Options.ReuseRecord
	rec      *provider.Record // the record returned each time, with reuse
}

func newCSVReader(file, format, provider string, r io.Reader, comma rune, enc *textEncoding, conv csvFormat) *csvReader {
	br := bufio.NewReaderSize(r, 64<<10)
	in := &rowBytes{r: br}
	bom := false
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
		in.base, bom = int64(len(utf8BOM)), true
	}
	cr := csv.NewReader(in)
	cr.Comma = comma
	cr.ReuseRecord = true
	in.start = in.base
	return &csvReader{file: file, format: format, provider: provider, cr: cr, in: in, origin: in.base, next: in.base,
		enc: enc, bom: bom, conv: conv}
}

// decodeFields checks the cells of a row csv has read, or converts them to
// UTF-8, in place; it is called for the rows whose bytes are not plain
// (textEncoding.plain). The error names the cell's column, if the header
// has one, and its line.
func (r *csvReader) decodeFields(fields []string, names []string) error {
	for i, f := range fields {
		s, bad, err := r.enc.decode(f)
		if err != nil {
			line, _ := r.cr.FieldPos(i)
			col := ""
			if i < len(names) {
				col = names[i]
			}
			return &ParseError{File: r.file, Line: line + strings.Count(f[:bad], "\n"), Column: col, Err: err}
		}
		fields[i] = s
	}
	return nil
}

// span returns the bytes of the row csv has just read (with the empty
// lines before it and its line break) and their file offset, and moves past
// them.
func (r *csvReader) span() (text []byte, from int64) {
	from, r.next = r.next, r.origin+r.cr.InputOffset()
	return r.in.cut(from, r.next), from
}

// tooLong reports a row longer than MaxRowSize, the one csv has just
// returned (cut short, with errRowTooLong, or whole). Nothing after it is
// read.
func (r *csvReader) tooLong(fields []string) error {
	r.done = true
	line := 0
	if len(fields) > 0 { // csv returns the cells it has with a reader's error
		line, _ = r.cr.FieldPos(0)
	}
	return &ParseError{File: r.file, Line: line, Err: fmt.Errorf("row %w; the file is not read past it", ErrTooLong)}
}

func (r *csvReader) Read() (*provider.Record, error) {
	if r.done {
		return nil, io.EOF
	}
	if r.h == nil {
		if err := r.readHeader(); err != nil {
			r.done = true
			return nil, err
		}
	}
	fields, err := r.cr.Read()
	text, from := r.span() // on every row, bad ones too, so that few bytes are kept
	if err == nil && len(text) > MaxRowSize {
		err = errRowTooLong // finished within csv's read-ahead
	}
	if err != nil {
		var pe *csv.ParseError
		switch {
		case err == errRowTooLong:
			return nil, r.tooLong(fields)
		case err == io.EOF:
			r.done = true
			return nil, io.EOF
		case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
			return nil, &ParseError{File: r.file, Line: pe.StartLine, Err: fmt.Errorf("%w: the row has %d cells, the header has %d", ErrBadValue, len(fields), len(r.h.names))}
		case errors.As(err, &pe):
			// encoding/csv resumes after a broken row, so this is per row.
			return nil, &ParseError{File: r.file, Line: pe.Line, Err: fmt.Errorf("%w: byte %d: %v", ErrBadValue, pe.Column, pe.Err)}
		}
		r.done = true
		return nil, &ParseError{File: r.file, Err: err}
	}
	if !r.enc.plain(text) {
		if err := r.decodeFields(fields, r.h.names); err != nil {
			return nil, err
		}
	}
	line, _ := r.cr.FieldPos(0)
	r.row = csvRow{h: r.h, line: line, fields: fields}
	rec := newRecord(r.reuse, &r.rec)
	*rec = provider.Record{Provider: r.provider, Format: r.format, File: r.file, Line: line}
	r.conv.row(&r.row, rec)
	if r.row.err != nil {
		return nil, r.row.err
	}
	raw, skipped := rowText(text)
	rec.Raw, rec.Offset = string(raw), from+int64(skipped)
	return rec, nil
}

func (r *csvReader) readHeader() error {
	if r.bom && r.enc.cm != nil {
		return bomConflict(r.file, r.enc)
	}
	fields, err := r.cr.Read()
	text, _ := r.span()
	if err == io.EOF {
		return &ParseError{File: r.file, Line: 1, Err: fmt.Errorf("%w: empty file: no header row", ErrMalformed)}
	}
	if err == errRowTooLong || err == nil && len(text) > MaxRowSize {
		return r.tooLong(fields)
	}
	if err != nil {
		line := 1
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = pe.Line
		}
		return &ParseError{File: r.file, Line: line, Err: fmt.Errorf("%w: header: %v", ErrMalformed, err)}
	}
	if !r.enc.plain(text) {
		if err := r.decodeFields(fields, nil); err != nil {
			return err
		}
	}
	line, _ := r.cr.FieldPos(0)
	h := &csvHeader{file: r.file, line: line, names: make([]string, len(fields)), pos: make(map[string]int, len(fields))}
	for i, f := range fields {
		n := strings.ToLower(strings.TrimSpace(f))
		h.names[i] = n
		if _, dup := h.pos[n]; !dup {
			h.pos[n] = i
		}
	}
	if err := r.conv.header(h); err != nil {
		return err
	}
	r.h = h
	return nil
}
