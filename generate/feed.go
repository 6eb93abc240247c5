package generate

import (
	"strconv"
	"time"
)

// The feed is written by hand rather than with encoding/json: every value is
// a string the generator made (ids, codes, decimal amounts, times), none
// needs escaping, and a million-payment feed is written in seconds.

// begin starts a feed line with its id, type and time.
func (s *sim) begin(typ string, at time.Time) {
	s.nEvent++
	s.sum.Events++
	b := append(s.line[:0], `{"id":"`...)
	b = s.ids.append(b, "evt_", s.nEvent)
	b = append(b, `","type":"`...)
	b = append(b, typ...)
	b = append(b, `","at":"`...)
	b = at.AppendFormat(b, time.RFC3339)
	s.line = append(b, '"')
}

// str adds a string field.
func (s *sim) str(key, val string) {
	b := append(s.line, `,"`...)
	b = append(b, key...)
	b = append(b, `":"`...)
	b = append(b, val...)
	s.line = append(b, '"')
}

// flag adds a boolean.
func (s *sim) flag(key string, v bool) {
	b := append(s.line, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	s.line = strconv.AppendBool(b, v)
}

// amount adds an amount as a decimal string in major units.
func (s *sim) amount(key string, m int64, c *currency) {
	b := append(s.line, `,"`...)
	b = append(b, key...)
	b = append(b, `":"`...)
	b = appendMinor(b, m, c.digits)
	s.line = append(b, '"')
}

// fees adds a capture's processing fee.
func (s *sim) fees(m int64, c *currency) {
	b := append(s.line, `,"fees":[{"type":"stripe_fee","amount":"`...)
	b = appendMinor(b, m, c.digits)
	s.line = append(b, `"}]`...)
}

// endLine finishes the line and writes it.
func (s *sim) endLine() {
	s.line = append(s.line, "}\n"...)
	if s.feed != nil && s.err == nil {
		_, s.err = s.feed.Write(s.line)
	}
}

// appendUnix appends t as Unix seconds.
func appendUnix(b []byte, t time.Time) []byte { return strconv.AppendInt(b, t.Unix(), 10) }
