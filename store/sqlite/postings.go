package sqlite

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// An entry's postings are stored in its own row, in the column
// entries.postings, as a JSON array of [account_id, currency, amount]
// triples in posting order:
//
//	[[12,"usd",4941],[3,"usd",159],[7,"usd",-5100]]
//
// One row per entry instead of one row per posting (plus an index entry per
// posting) is what lets batched posting reach its target: SQLite writes a
// third as many B-tree cells and dirties no per-account index pages at each
// commit. JSON keeps the postings readable with SQL: the view `postings`
// (schema.sql, migration 4) unpacks them with json_each, so that
//
//	SELECT account_id, currency, SUM(amount) FROM postings GROUP BY 1, 2
//
// still works in the sqlite3 shell. Go code decodes the column itself
// (decodePostings), which is strict about the shape.

// rawPosting is a posting as stored: an account id instead of its name.
type rawPosting struct {
	account  int64
	currency string
	amount   int64
}

// appendPostings appends the JSON encoding of ps to b.
func appendPostings(b []byte, ps []rawPosting) []byte {
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, p.account, 10)
		b = append(b, ',')
		b = appendJSONString(b, p.currency)
		b = append(b, ',')
		b = strconv.AppendInt(b, p.amount, 10)
		b = append(b, ']')
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string. Currency codes are plain
// letters, so the loop is the whole story in practice; anything else is
// escaped by encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// errPostings reports a postings column that is not what appendPostings
// writes (it was edited behind the ledger's back).
var errPostings = errors.New("malformed postings")

// decodePostings parses a postings column, appending to ps. Whitespace is
// allowed between tokens, as SQLite's json functions and a hand edit may
// produce it; anything else off the shape is an error.
func decodePostings(s string, ps []rawPosting) ([]rawPosting, error) {
	d := postingDecoder{s: s}
	if !d.byte('[') {
		return ps, d.fail()
	}
	if d.peek() == ']' {
		d.i++
		return ps, d.end()
	}
	for {
		var p rawPosting
		var ok bool
		if !d.byte('[') {
			return ps, d.fail()
		}
		if p.account, ok = d.int(); !ok || !d.byte(',') {
			return ps, d.fail()
		}
		if p.currency, ok = d.str(); !ok || !d.byte(',') {
			return ps, d.fail()
		}
		if p.amount, ok = d.int(); !ok || !d.byte(']') {
			return ps, d.fail()
		}
		ps = append(ps, p)
		switch d.skip(); d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return ps, d.end()
		default:
			return ps, d.fail()
		}
	}
}

type postingDecoder struct {
	s string
	i int
}

func (d *postingDecoder) skip() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *postingDecoder) peek() byte {
	d.skip()
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

func (d *postingDecoder) byte(c byte) bool {
	if d.peek() != c {
		return false
	}
	d.i++
	return true
}

// int reads a JSON integer that fits in int64 (no fraction, no exponent).
func (d *postingDecoder) int() (int64, bool) {
	d.skip()
	start := d.i
	if d.i < len(d.s) && d.s[d.i] == '-' {
		d.i++
	}
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
	}
	v, err := strconv.ParseInt(d.s[start:d.i], 10, 64)
	return v, err == nil
}

// str reads a JSON string; one with escapes goes through encoding/json.
func (d *postingDecoder) str() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.s) {
		switch c := d.s[d.i]; {
		case c == '"':
			d.i++
			v := d.s[start : d.i-1]
			return v, utf8.ValidString(v)
		case c == '\\':
			return d.escaped(start - 1)
		case c < 0x20:
			return "", false
		}
		d.i++
	}
	return "", false
}

// escaped decodes the string starting at the quote at start.
func (d *postingDecoder) escaped(start int) (string, bool) {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case '\\':
			d.i += 2
			continue
		case '"':
			d.i++
			var v string
			if err := json.Unmarshal([]byte(d.s[start:d.i]), &v); err != nil {
				return "", false
			}
			return v, true
		}
		d.i++
	}
	return "", false
}

func (d *postingDecoder) end() error {
	if d.skip(); d.i != len(d.s) {
		return d.fail()
	}
	return nil
}

func (d *postingDecoder) fail() error {
	return fmt.Errorf("%w at byte %d of %q", errPostings, d.i, d.s)
}
