package importers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// lineCounter passes bytes through to a json.Decoder and keeps those the
// decoder has read but whose lines are not yet counted, so a byte offset can
// be turned into a line number. Offsets are asked for in increasing order, so
// the kept bytes never exceed the decoder's own buffer.
//
// It also enforces MaxRowSize. The decoder reads only while the value (or
// token) it is decoding is unfinished, so every byte passed on since mark,
// where the stream started decoding it, belongs to it: once there are more
// than MaxRowSize of them, Read refuses to pass on more and the decoder stops
// with errRowTooLong instead of growing its buffer with the value.
type lineCounter struct {
	r    io.Reader
	buf  []byte // bytes from offset base on
	base int64
	line int   // 1-based line at offset base
	mark int64 // offset where the value being decoded begins, white space included
}

func (l *lineCounter) Read(p []byte) (int, error) {
	room := l.mark + MaxRowSize + 1 - l.end()
	if room <= 0 {
		return 0, errRowTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.buf = appendDoubling(l.buf, p[:n])
	return n, err
}

// lineAt returns the line of byte offset off and forgets the bytes before it.
func (l *lineCounter) lineAt(off int64) int {
	if off <= l.base {
		return l.line
	}
	k := off - l.base
	if k > int64(len(l.buf)) {
		k = int64(len(l.buf))
	}
	l.line += bytes.Count(l.buf[:k], []byte{'\n'})
	l.buf = append(l.buf[:0], l.buf[k:]...)
	l.base += k
	return l.line
}

// end is the offset just past the last byte read.
func (l *lineCounter) end() int64 { return l.base + int64(len(l.buf)) }

// nextByte returns the first byte at or after off that is not JSON white
// space, if the decoder has already read it.
func (l *lineCounter) nextByte(off int64) (byte, int64, bool) {
	for i := off - l.base; i >= 0 && i < int64(len(l.buf)); i++ {
		switch c := l.buf[i]; c {
		case ' ', '\t', '\r', '\n':
		default:
			return c, l.base + i, true
		}
	}
	return 0, 0, false
}

// The JSON shapes the readers accept.
type jsonShape int

const (
	shapeArray   jsonShape = iota + 1 // [ {…}, … ]
	shapeList                         // { …, "data": [ {…}, … ], … }
	shapeWrapped                      // { …, "data": {…}, … }: one record in an envelope
	shapeObject                       // {…}: one bare record
)

// headFields are the top-level fields of an object in a file's head: scalar
// values as json.Decoder tokens (string, json.Number, bool, nil), composite
// ones as the json.Delim that opens them.
type headFields map[string]any

// str returns a string field, "" if absent or not a string.
func (f headFields) str(k string) string {
	s, _ := f[k].(string)
	return s
}

// jsonHead is what the first bytes of a JSON file tell: its shape, the
// fields of the envelope and of the first record. Fields cut off by the end
// of the head are missing.
type jsonHead struct {
	shape jsonShape
	top   headFields
	first headFields
	empty bool // the list holds no records
}

// scanHead reads the head of a JSON file with the Token API, tolerating a
// head cut short.
func scanHead(head []byte) (*jsonHead, error) {
	dec := json.NewDecoder(bytes.NewReader(head))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrMalformed, err)
	}
	h := &jsonHead{}
	switch tok {
	case json.Delim('['):
		h.shape = shapeArray
		h.first, h.empty = scanFirst(dec)
		return h, nil
	case json.Delim('{'):
	default:
		return nil, fmt.Errorf("%w: expected a JSON object or array at the top level", ErrMalformed)
	}
	h.top = headFields{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := kt.(string)
		if key != "data" {
			h.top[key] = scanValue(dec)
			continue
		}
		vt, err := dec.Token()
		if err != nil {
			break
		}
		switch vt {
		case json.Delim('['):
			h.shape = shapeList
			h.first, h.empty = scanFirst(dec)
			return h, nil
		case json.Delim('{'):
			h.shape = shapeWrapped
			h.first = scanFields(dec)
			return h, nil
		}
		h.top[key] = vt
	}
	h.shape = shapeObject
	h.first = h.top
	if _, err := dec.Token(); err != nil && len(head) >= headSize {
		h.first = nil // a big object cut short, and no "data" in sight
	}
	return h, nil
}

// scanFirst reads the fields of the first element of an array whose '[' has
// been read, reporting whether the array is empty.
func scanFirst(dec *json.Decoder) (headFields, bool) {
	if !dec.More() {
		return nil, true
	}
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	return scanFields(dec), false
}

// scanFields reads the fields of an object whose '{' has been read.
func scanFields(dec *json.Decoder) headFields {
	m := headFields{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := kt.(string)
		m[key] = scanValue(dec)
	}
	return m
}

// scanValue reads one value, returning scalar tokens as they are and
// composites as their opening json.Delim after skipping them.
func scanValue(dec *json.Decoder) any {
	tok, err := dec.Token()
	if err != nil {
		return nil
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok
	}
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			break
		}
		if dd, ok := t.(json.Delim); ok {
			if dd == '{' || dd == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return d
}

// jsonStream walks a JSON file of any accepted shape and hands out the raw
// bytes of one record object at a time.
type jsonStream struct {
	file   string
	origin int64 // file offset of the decoder's first byte (after a byte order mark)
	shape  jsonShape
	lc     *lineCounter
	dec    *json.Decoder
	state  int // 0 before the records, 1 in the array, 2 after the records
	nth    int // records handed out
	closed bool
}

func newJSONStream(file string, r io.Reader, shape jsonShape) *jsonStream {
	lc := &lineCounter{r: r, line: 1}
	dec := json.NewDecoder(lc)
	dec.UseNumber()
	return &jsonStream{file: file, shape: shape, lc: lc, dec: dec}
}

// next returns the raw bytes of the next record, the line it starts on and
// its file offset, io.EOF after the last one, or a structural error after
// which it returns io.EOF.
func (s *jsonStream) next() (json.RawMessage, int, int64, error) {
	if s.closed {
		return nil, 0, 0, io.EOF
	}
	s.lc.mark = s.dec.InputOffset()
	raw, line, err := s.advance()
	if err != nil {
		s.closed = true
		if err == io.EOF {
			return nil, 0, 0, io.EOF
		}
		return nil, 0, 0, s.fatal(err)
	}
	s.nth++
	return raw, line, s.origin + s.dec.InputOffset() - int64(len(raw)), nil
}

func (s *jsonStream) advance() (json.RawMessage, int, error) {
	if s.state == 0 {
		s.state = 2
		switch s.shape {
		case shapeObject:
			return s.value()
		case shapeArray:
			if err := s.expect('['); err != nil {
				return nil, 0, err
			}
			s.state = 1
		case shapeList, shapeWrapped:
			if err := s.expect('{'); err != nil {
				return nil, 0, err
			}
			if err := s.skipToData(); err != nil {
				return nil, 0, err
			}
			if s.shape == shapeWrapped {
				return s.value()
			}
			if err := s.expect('['); err != nil {
				return nil, 0, err
			}
			s.state = 1
		}
	}
	if s.state == 1 {
		if s.dec.More() {
			if s.nth > 0 {
				// Check the comma ourselves: the decoder would report its
				// absence at an offset we could not tell from its others.
				if c, off, ok := s.lc.nextByte(s.dec.InputOffset()); ok && c != ',' {
					return nil, 0, &offsetError{off: off, msg: fmt.Sprintf("invalid character %q: expected a comma between records", c)}
				}
			}
			return s.value()
		}
		if err := s.expect(']'); err != nil {
			return nil, 0, err
		}
		s.state = 2
		if s.shape == shapeList {
			if err := s.skipRest(); err != nil {
				return nil, 0, err
			}
		}
	} else if s.shape == shapeWrapped {
		if err := s.skipRest(); err != nil {
			return nil, 0, err
		}
	}
	// Nothing may follow the top-level value.
	off := s.dec.InputOffset()
	if _, err := s.token(); err != io.EOF {
		if err == nil {
			_, at, _ := s.lc.nextByte(off)
			err = &offsetError{off: at, msg: "unexpected data after the end of the JSON value"}
		}
		return nil, 0, err
	}
	return nil, 0, io.EOF
}

// value decodes one value and returns its raw bytes and starting line.
func (s *jsonStream) value() (json.RawMessage, int, error) {
	from := s.dec.InputOffset()
	s.lc.mark = from
	var raw json.RawMessage
	if err := s.dec.Decode(&raw); err != nil {
		return nil, 0, s.located(err, from)
	}
	if len(raw) > MaxRowSize {
		return nil, 0, errRowTooLong // finished within the decoder's read-ahead
	}
	start := s.dec.InputOffset() - int64(len(raw))
	return raw, s.lc.lineAt(start), nil
}

// token reads one token, locating syntax errors.
func (s *jsonStream) token() (json.Token, error) {
	from := s.dec.InputOffset()
	s.lc.mark = from
	tok, err := s.dec.Token()
	if err != nil && err != io.EOF {
		return nil, s.located(err, from)
	}
	return tok, err
}

// offsetError is a syntax error at an absolute byte offset.
type offsetError struct {
	off int64
	msg string
}

func (e *offsetError) Error() string { return e.msg }

// located finds where a syntax error met while reading from offset from
// is. The decoder's own SyntaxError.Offset cannot be trusted for that: its
// scanner counts bytes across Decode calls but not the delimiters Token
// reads. So the bytes from there are scanned again by a fresh decoder,
// whose count starts at the value.
func (s *jsonStream) located(err error, from int64) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	_, at, ok := s.lc.nextByte(from)
	if !ok {
		return &offsetError{off: s.lc.end(), msg: se.Error()}
	}
	i := at - s.lc.base
	if c := s.lc.buf[i]; c == ',' || c == ':' {
		if _, at2, ok := s.lc.nextByte(at + 1); ok {
			at, i = at2, at2-s.lc.base
		}
	}
	var raw json.RawMessage
	fresh := json.NewDecoder(bytes.NewReader(s.lc.buf[i:]))
	if e := fresh.Decode(&raw); errors.As(e, &se) {
		at += se.Offset - 1
	}
	return &offsetError{off: at, msg: se.Error()}
}

// expect reads one delimiter token.
func (s *jsonStream) expect(d json.Delim) error {
	off := s.dec.InputOffset()
	tok, err := s.token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if tok != d {
		_, at, _ := s.lc.nextByte(off)
		return &offsetError{off: at, msg: fmt.Sprintf("expected %q", d.String())}
	}
	return nil
}

// skipToData reads envelope fields up to and including the "data" key.
func (s *jsonStream) skipToData() error {
	for s.dec.More() {
		tok, err := s.token()
		if err != nil {
			return err
		}
		if tok == "data" {
			return nil
		}
		if _, _, err := s.value(); err != nil {
			return err
		}
	}
	return errors.New(`no "data" field in the envelope`)
}

// skipRest reads the envelope fields after "data" and its closing brace.
func (s *jsonStream) skipRest() error {
	for s.dec.More() {
		if _, err := s.token(); err != nil {
			return err
		}
		if _, _, err := s.value(); err != nil {
			return err
		}
	}
	return s.expect('}')
}

// fatal turns a decoder error into a located *ParseError.
func (s *jsonStream) fatal(err error) error {
	var oe *offsetError
	switch {
	case err == errRowTooLong:
		c, at, ok := s.lc.nextByte(s.lc.mark)
		if ok && (c == ',' || c == ':') {
			_, at, ok = s.lc.nextByte(at + 1)
		}
		if !ok {
			at = s.lc.mark
		}
		return &ParseError{File: s.file, Line: s.lc.lineAt(at), Err: fmt.Errorf("record %w; the file is not read past it", ErrTooLong)}
	case errors.As(err, &oe):
		return &ParseError{File: s.file, Line: s.lc.lineAt(oe.off), Err: fmt.Errorf("%w: %s", ErrMalformed, oe.msg)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &ParseError{File: s.file, Line: s.lc.lineAt(s.lc.end()), Err: fmt.Errorf("%w: truncated JSON: unexpected end of file", ErrMalformed)}
	}
	return &ParseError{File: s.file, Line: s.lc.lineAt(s.dec.InputOffset()), Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
}
