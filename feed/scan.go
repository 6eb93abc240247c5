package feed

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// A feed line is one JSON object of a dozen members, most of them short
// strings. encoding/json decoded it into a map of raw values in about ten
// microseconds and a hundred allocations, with reflection, and checked
// its syntax first in a pass of its own: a sixth of recording a feed. The
// scanner below reads such an object in one pass, checking the syntax as
// it goes, and keeps each member's value as written (a slice of the line).
// It answers only for what it fully understands: anything else (a key
// with an escape or not UTF-8, a key given twice, bad syntax, deep nesting) is handed
// back, and encoding/json decodes it and says what is wrong.

// member is one member of a JSON object: its key and its value as written.
type member struct {
	key string
	raw json.RawMessage
}

var colon = []byte{':'}

// maxScanDepth is how deeply nested a value the scanner follows.
const maxScanDepth = 32

type jsonScanner struct {
	b []byte
	i int
}

// scanObject reads b, a JSON object with nothing but whitespace around it,
// into its members in order. ok is false if b is not one, or is one the
// scanner leaves to encoding/json.
func scanObject(b []byte) (members []member, ok bool) {
	s := jsonScanner{b: b}
	s.space()
	// An object has at most as many members as colons, which a small one
	// (a fee, a settlement) has few of: room for 16 made for each of them
	// was a tenth of the bytes recording allocated.
	members = make([]member, 0, min(bytes.Count(b, colon), 16))
	if !s.object(0, &members) || !s.end() {
		return nil, false
	}
	return members, true
}

// scanArray reads b, a JSON array with nothing but whitespace around it,
// into its elements as written.
func scanArray(b []byte) (items []json.RawMessage, ok bool) {
	s := jsonScanner{b: b}
	s.space()
	items = []json.RawMessage{}
	if !s.array(0, &items) || !s.end() {
		return nil, false
	}
	return items, true
}

// object reads an object, whose members are at depth+1; with out, it
// appends them to *out, and leaves to encoding/json (returns false) an
// object with a key it would have to unescape or mend, or a key twice.
func (s *jsonScanner) object(depth int, out *[]member) bool {
	more, ok := s.open('{', '}')
	for more {
		start, end, plain := s.str()
		if end < 0 {
			return false
		}
		s.space()
		if !s.eat(':') {
			return false
		}
		s.space()
		from := s.i
		if !s.value(depth + 1) {
			return false
		}
		if out != nil {
			if !plain || !utf8.Valid(s.b[start:end]) {
				return false // encoding/json unescapes the key, or mends its UTF-8
			}
			key := internKey(s.b[start:end])
			for _, m := range *out {
				if m.key == key {
					return false
				}
			}
			*out = append(*out, member{key: key, raw: s.b[from:s.i:s.i]})
		}
		more, ok = s.next('}')
	}
	return ok
}

// array reads an array, whose elements are at depth+1; with out, it
// appends them to *out.
func (s *jsonScanner) array(depth int, out *[]json.RawMessage) bool {
	more, ok := s.open('[', ']')
	for more {
		from := s.i
		if !s.value(depth + 1) {
			return false
		}
		if out != nil {
			*out = append(*out, s.b[from:s.i:s.i])
		}
		more, ok = s.next(']')
	}
	return ok
}

// open reads the start of an object or array (the byte open) and reports
// whether a member or element follows (more), or the close at once; ok is
// false if it does not start with open.
func (s *jsonScanner) open(open, close byte) (more, ok bool) {
	if !s.eat(open) {
		return false, false
	}
	s.space()
	if s.eat(close) {
		return false, true
	}
	return true, true
}

// next reads what follows a member or element: the close, which ends the
// object or array, or a comma and the start of the next one (more); ok is
// false for anything else.
func (s *jsonScanner) next(close byte) (more, ok bool) {
	s.space()
	if s.eat(close) {
		return false, true
	}
	if !s.eat(',') {
		return false, false
	}
	s.space()
	return true, true
}

// end reports whether only whitespace is left.
func (s *jsonScanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string and returns where its contents start and end (end
// -1: not a valid string) and whether it has no escapes.
func (s *jsonScanner) str() (start, end int, plain bool) {
	if !s.eat('"') {
		return 0, -1, false
	}
	start, plain = s.i, true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return start, s.i - 1, plain
		case c < 0x20:
			return 0, -1, false
		case c == '\\':
			plain = false
			if s.i+1 >= len(s.b) {
				return 0, -1, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return 0, -1, false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return 0, -1, false
					}
				}
				s.i += 6
			default:
				return 0, -1, false
			}
		default:
			s.i++
		}
	}
	return 0, -1, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// value reads any JSON value, at the given depth of nesting.
func (s *jsonScanner) value(depth int) bool {
	if s.i >= len(s.b) || depth > maxScanDepth {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, end, _ := s.str()
		return end >= 0
	case c == '{':
		return s.object(depth, nil)
	case c == '[':
		return s.array(depth, nil)
	case c == 't':
		return s.word("true")
	case c == 'f':
		return s.word("false")
	case c == 'n':
		return s.word("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

func (s *jsonScanner) word(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) number() bool {
	s.eat('-')
	switch {
	case s.eat('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.eat('.') && !s.digits() {
		return false
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits reads one digit or more.
func (s *jsonScanner) digits() bool {
	from := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > from
}

// internKey returns a feed's own field names without allocating; other
// keys (metadata's) are copied.
func internKey(k []byte) string {
	switch string(k) {
	case "id":
		return "id"
	case "type":
		return "type"
	case "at":
		return "at"
	case "payment":
		return "payment"
	case "provider":
		return "provider"
	case "provider_ref":
		return "provider_ref"
	case "currency":
		return "currency"
	case "customer":
		return "customer"
	case "description":
		return "description"
	case "amount":
		return "amount"
	case "fee":
		return "fee"
	case "fees":
		return "fees"
	case "fee_refund":
		return "fee_refund"
	case "available_on":
		return "available_on"
	case "expires_at":
		return "expires_at"
	case "arrival_date":
		return "arrival_date"
	case "metadata":
		return "metadata"
	case "reason":
		return "reason"
	case "refund":
		return "refund"
	case "dispute":
		return "dispute"
	case "payout":
		return "payout"
	case "automatic":
		return "automatic"
	case "settlement":
		return "settlement"
	case "postings":
		return "postings"
	case "account":
		return "account"
	case "debit":
		return "debit"
	case "credit":
		return "credit"
	}
	return string(k)
}
