package importers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// jobj gives typed access to the top-level fields of one JSON record. The
// first problem is kept, located at the line of the offending field, and
// later accessors return zero values, so a converter reads straight through.
type jobj struct {
	file string
	line int
	raw  []byte
	f    map[string]json.RawMessage
	err  error
}

func newJobj(file string, line int, raw []byte) *jobj {
	o := &jobj{file: file, line: line, raw: raw}
	if len(raw) == 0 || raw[0] != '{' {
		o.err = &ParseError{File: file, Line: line, Err: fmt.Errorf("%w: expected a JSON object", ErrBadValue)}
		return o
	}
	if err := json.Unmarshal(raw, &o.f); err != nil {
		o.err = &ParseError{File: file, Line: line, Err: fmt.Errorf("%w: %v", ErrBadValue, err)}
	}
	return o
}

// fail records the first problem, at the line of field name.
func (o *jobj) fail(name string, err error) {
	if o.err == nil {
		o.err = &ParseError{File: o.file, Line: o.fieldLine(name), Column: name, Err: err}
	}
}

// fieldLine finds the line of a top-level key by walking the raw object; it
// is only called on the error path.
func (o *jobj) fieldLine(name string) int {
	dec := json.NewDecoder(bytes.NewReader(o.raw))
	depth, isKey := 0, false
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return o.line
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
				isKey = depth == 1
			} else {
				depth--
				isKey = depth == 1 // a composite value ended: a key follows
			}
			continue
		}
		if depth != 1 {
			continue
		}
		if isKey && tok == name {
			_, start := skipSpaceComma(o.raw, off)
			return o.line + bytes.Count(o.raw[:start], []byte{'\n'})
		}
		isKey = !isKey
	}
}

// fieldAt names the top-level field whose key or value holds byte off of
// the raw object, "" if none does; it is only called on the error path.
func (o *jobj) fieldAt(off int64) string {
	dec := json.NewDecoder(bytes.NewReader(o.raw))
	depth, isKey, key := 0, false, ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
				isKey = depth == 1
			} else {
				depth--
				isKey = depth == 1
			}
		} else if depth == 1 {
			if isKey {
				key, _ = tok.(string)
			}
			isKey = !isKey
		}
		if dec.InputOffset() > off {
			if depth == 0 { // the closing brace
				return ""
			}
			return key
		}
	}
}

// skipSpaceComma skips white space and a comma from off.
func skipSpaceComma(b []byte, off int64) (byte, int64) {
	for i := off; i < int64(len(b)); i++ {
		switch b[i] {
		case ' ', '\t', '\r', '\n', ',':
		default:
			return b[i], i
		}
	}
	return 0, int64(len(b))
}

// get returns a field's raw value, or nil if absent or null.
func (o *jobj) get(name string) json.RawMessage {
	if o.err != nil {
		return nil
	}
	v, ok := o.f[name]
	if !ok || string(v) == "null" {
		return nil
	}
	return v
}

func (o *jobj) missing(name string) {
	o.fail(name, fmt.Errorf("%w: %s is missing", ErrMissingField, name))
}

func kind(v json.RawMessage) string {
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// str returns a string field ("" if absent or null).
func (o *jobj) str(name string) string {
	v := o.get(name)
	if v == nil {
		return ""
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		o.fail(name, fmt.Errorf("%w: expected a string, got %s", ErrBadValue, kind(v)))
	}
	return s
}

// reqStr returns a string field that must be present and non-empty.
func (o *jobj) reqStr(name string) string {
	s := o.str(name)
	if s == "" {
		o.missing(name)
	}
	return s
}

// ref returns an id given as a string or as an expanded object with an id.
func (o *jobj) ref(name string) string {
	v := o.get(name)
	if v == nil {
		return ""
	}
	if v[0] == '{' {
		var x struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(v, &x); err != nil {
			o.fail(name, fmt.Errorf("%w: expanded object without a string id", ErrBadValue))
		}
		return x.ID
	}
	return o.str(name)
}

// number returns the literal of a number field, ok=false if absent or null.
func (o *jobj) number(name string, required bool) (string, bool) {
	v := o.get(name)
	if v == nil {
		if required {
			o.missing(name)
		}
		return "", false
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		o.fail(name, fmt.Errorf("%w: expected a number, got %s", ErrBadValue, kind(v)))
		return "", false
	}
	return string(v), true
}

// minor returns an integer amount in minor units.
func (o *jobj) minor(name string, required bool) int64 {
	s, ok := o.number(name, required)
	if !ok {
		return 0
	}
	v, err := parseMinorString(s)
	if err != nil {
		o.fail(name, err)
	}
	return v
}

// major returns an amount in major units (a JSON number read as a decimal,
// never a float) converted exactly to minor units of cur.
func (o *jobj) major(name string, cur ledger.Currency, required bool) int64 {
	s, ok := o.number(name, required)
	if !ok {
		return 0
	}
	v, err := parseMajor(s, cur)
	if err != nil {
		o.fail(name, err)
	}
	return v
}

// boolean returns a boolean field (false if absent or null).
func (o *jobj) boolean(name string) bool {
	v := o.get(name)
	if v == nil {
		return false
	}
	switch string(v) {
	case "true":
		return true
	case "false":
		return false
	}
	o.fail(name, fmt.Errorf("%w: expected a boolean, got %s", ErrBadValue, kind(v)))
	return false
}

// unix returns a time given in seconds (or milliseconds) since the epoch.
func (o *jobj) unix(name string, ms, required bool) time.Time {
	s, ok := o.number(name, required)
	if !ok {
		return time.Time{}
	}
	t, err := parseUnix(s, ms)
	if err != nil {
		o.fail(name, err)
	}
	return t
}

// rfc3339 returns a time given as an RFC 3339 string.
func (o *jobj) rfc3339(name string, required bool) time.Time {
	s := o.str(name)
	if s == "" {
		if required {
			o.missing(name)
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		err = fmt.Errorf("%w: %q is not an RFC 3339 time", ErrBadTime, s)
	} else {
		err = checkTime(t, s)
	}
	if err != nil {
		o.fail(name, err)
		return time.Time{}
	}
	return t.UTC()
}

// currency resolves a required currency field.
func (o *jobj) currency(name string, cc *currencyCache) ledger.Currency {
	s := o.str(name)
	if o.err != nil {
		return ledger.Currency{}
	}
	if s == "" {
		o.missing(name)
		return ledger.Currency{}
	}
	cur, err := cc.lookup(s)
	if err != nil {
		o.fail(name, err)
	}
	return cur
}

// checkNet verifies net = amount − fee for a balance-grain record.
func (o *jobj) checkNet(rec *provider.Record) {
	if o.err == nil && rec.Amount-rec.Fee != rec.Net {
		o.fail("net", fmt.Errorf("%w: %d − %d = %d, but net is %d", ErrNetMismatch, rec.Amount, rec.Fee, rec.Amount-rec.Fee, rec.Net))
	}
}

// jsonConv fills rec from one record object; problems go to o.
type jsonConv func(o *jobj, rec *provider.Record)

// jsonReader is a Reader over a jsonStream.
type jsonReader struct {
	s        *jsonStream
	format   string
	provider string
	enc      *textEncoding
	conv     jsonConv
	reuse    bool             // Options.ReuseRecord
	rec      *provider.Record // the record returned each time, with reuse
}

// newRecord returns the record a Read fills: a new one, or with reuse the
// one kept at kept (made the first time).
func newRecord(reuse bool, kept **provider.Record) *provider.Record {
	if !reuse {
		return &provider.Record{}
	}
	if *kept == nil {
		*kept = &provider.Record{}
	}
	return *kept
}

func (r *jsonReader) Read() (*provider.Record, error) {
	raw, line, off, err := r.s.next()
	if err != nil {
		return nil, err
	}
	text := raw
	if !r.enc.plain(raw) {
		// Bytes past ASCII are only ever inside strings (the decoder
		// refused any other), so the record converts as a whole.
		s, bad, err := r.enc.decode(string(raw))
		if err != nil {
			o := &jobj{file: r.s.file, line: line, raw: raw}
			return nil, &ParseError{File: r.s.file, Line: line + bytes.Count(raw[:bad], []byte{'\n'}), Column: o.fieldAt(int64(bad)), Err: err}
		}
		text = []byte(s)
	}
	o := newJobj(r.s.file, line, text)
	rec := newRecord(r.reuse, &r.rec)
	*rec = provider.Record{
		Provider: r.provider,
		Format:   r.format,
		File:     r.s.file,
		Line:     line,
		Offset:   off,
		Raw:      string(raw),
	}
	if o.err == nil {
		r.conv(o, rec)
	}
	if o.err != nil {
		return nil, o.err
	}
	return rec, nil
}

var _ io.Reader = (*lineCounter)(nil)
