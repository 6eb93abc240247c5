package sqlite

import (
	"database/sql"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/settlehq/settle/ledger"
)

// Times are stored as Unix nanoseconds in UTC; zero times as 0 or NULL.

// storeTS encodes a time to store. Unix nanoseconds reach from 1677 to 2262
// only, and 0 stands for the zero time: a time the encoding cannot hold
// exactly (see ledger.CheckTime) is refused, never clamped, so that every
// stored time reads back as it was given. field names the column in the
// error.
func storeTS(field string, t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	if err := ledger.CheckTime(field, t); err != nil {
		return 0, err
	}
	return t.UnixNano(), nil
}

// storeTimes2 is storeTS for the two times most rows carry.
func storeTimes2(f1 string, t1 time.Time, f2 string, t2 time.Time) (int64, int64, error) {
	n1, err := storeTS(f1, t1)
	if err != nil {
		return 0, 0, err
	}
	n2, err := storeTS(f2, t2)
	return n1, n2, err
}

// Query bounds beyond the encodable range are clamped rather than left to
// UnixNano, which would wrap: "as of the year 3000" must still be after
// every stored time, and "from 1600" before every one. A clamped bound
// selects the same rows as the time itself would, since no stored time lies
// beyond the range (storeTS refuses them).
var (
	maxTS = time.Unix(0, math.MaxInt64)
	minTS = time.Unix(0, math.MinInt64)
)

// ts encodes a query bound (an "as of" time, a window's from or to), or a
// clock time the store takes itself, clamping to the encodable range. Times
// a caller asks to store go through storeTS instead.
func ts(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(maxTS):
		return math.MaxInt64
	case t.Before(minTS):
		return math.MinInt64
	}
	return t.UnixNano()
}

func fromTS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func fromNullTS(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromTS(n.Int64)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// meta encodes metadata as JSON text, or NULL when empty.
func meta(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// metadata adds m as meta encodes it: JSON text, or NULL when empty.
func (p *params) metadata(m map[string]string) error {
	md, err := meta(m)
	if err != nil {
		return err
	}
	if md == nil {
		p.null()
	} else {
		p.text(md.(string))
	}
	return nil
}

func fromMeta(s sql.NullString) (map[string]string, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var m map[string]string
	err := json.Unmarshal([]byte(s.String), &m)
	return m, err
}

// encodeFeeDetails writes a fee_details column, byte for byte as
// json.Marshal does, without its reflection when every type is printable
// ASCII that encoding/json writes as it is: recording a feed stores fee
// details for nearly every balance transaction, and json.Marshal took 0.4 s
// of recording a million payments (BENCHMARKS.md, thirty-ninth round).
func encodeFeeDetails(ds []ledger.FeeDetail) (string, error) {
	b := make([]byte, 0, 40*len(ds))
	b = append(b, '[')
	for i, d := range ds {
		if !asIsJSON(d.Type) {
			js, err := json.Marshal(ds)
			return string(js), err
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":"`...)
		b = append(b, d.Type...)
		b = append(b, `","amount":`...)
		b = strconv.AppendInt(b, d.Amount, 10)
		b = append(b, '}')
	}
	return string(append(b, ']')), nil
}

// asIsJSON reports whether encoding/json writes s between its quotes as it
// is: printable ASCII but the quote, the backslash and the three characters
// it escapes for HTML.
func asIsJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// decodeFeeDetails reads a fee_details column as json.Marshal wrote it,
// [{"type":"…","amount":n},…], without encoding/json's reflection: a
// reconciliation run decodes one for nearly every balance transaction. Any
// other shape (an escaped type, spaces) goes through encoding/json.
func decodeFeeDetails(s string) ([]ledger.FeeDetail, error) {
	if out, ok := fastFeeDetails(s); ok {
		return out, nil
	}
	var out []ledger.FeeDetail
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

func fastFeeDetails(s string) ([]ledger.FeeDetail, bool) {
	const open, mid = `{"type":"`, `","amount":`
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	rest := s[1 : len(s)-1]
	out := []ledger.FeeDetail{} // "[]" is an empty list, not none, as encoding/json reads it
	for len(rest) > 0 {
		if !strings.HasPrefix(rest, open) {
			return nil, false
		}
		rest = rest[len(open):]
		i := strings.IndexByte(rest, '"')
		if i < 0 || !plainJSONText(rest[:i]) || !strings.HasPrefix(rest[i:], mid) {
			return nil, false
		}
		typ := rest[:i]
		rest = rest[i+len(mid):]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return nil, false
		}
		if !jsonInteger(rest[:j]) {
			return nil, false
		}
		amount, err := strconv.ParseInt(rest[:j], 10, 64)
		if err != nil {
			return nil, false
		}
		out = append(out, ledger.FeeDetail{Type: typ, Amount: amount})
		rest = rest[j+1:]
		if len(rest) > 0 {
			if rest[0] != ',' || len(rest) == 1 {
				return nil, false
			}
			rest = rest[1:]
		}
	}
	return out, true
}

// plainJSONText reports whether s, between quotes, is a JSON string that
// reads as itself: valid UTF-8, no escapes, no control characters.
func plainJSONText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '\\' {
			return false
		}
	}
	return utf8.ValidString(s)
}

// jsonInteger reports whether s is an integer as JSON writes one: an
// optional minus, then 0 or digits without a leading zero.
func jsonInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
