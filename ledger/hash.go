package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// entryHash is a canonical hash of an entry request, for idempotency. It is
// written field by field into one buffer, hashed once, rather than through
// JSON, because bulk loads hash every entry. The byte layout is fixed:
// stored entries carry this hash, and a replay must reproduce it.
func entryHash(in *EntryInput) string {
	var arr [512]byte
	b := arr[:0]
	b = hashStr(b, "entry/v1")
	b = hashStr(b, in.Key)
	b = hashTime(b, in.OccurredAt)
	b = hashStr(b, in.Description)
	b = hashMap(b, in.Metadata)
	b = hashStr(b, in.Source.Provider)
	b = hashStr(b, in.Source.Type)
	b = hashStr(b, in.Source.ID)
	b = hashStr(b, in.Source.Ref)
	if in.Pending {
		b = hashNum(b, 1)
	} else {
		b = hashNum(b, 0)
	}
	b = hashTime(b, in.ExpiresAt)
	b = hashNum(b, int64(len(in.Postings)))
	var num [40]byte
	for _, p := range in.Postings {
		b = hashStr(b, p.Account)
		b = hashStr(b, p.Currency)
		b = hashStr(b, appendDecimal(num[:0], p.Amount))
	}
	sum := sha256.Sum256(b)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// hashStr appends s with its length in front, so that field boundaries
// cannot shift.
func hashStr[T string | []byte](b []byte, s T) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func hashNum(b []byte, v int64) []byte {
	return binary.LittleEndian.AppendUint64(b, uint64(v))
}

// hashTime appends a time as Unix nanoseconds, or 0 for the zero time.
func hashTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return hashNum(b, 0)
	}
	return hashNum(b, t.UnixNano())
}

// hashMap appends a map in key order, after its size written as the UTF-8
// encoding of a rune (the layout version 1 has always used).
func hashMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var n [utf8.UTFMax]byte
	b = hashStr(b, utf8.AppendRune(n[:0], rune(len(keys))))
	for _, k := range keys {
		b = hashStr(b, k)
		b = hashStr(b, m[k])
	}
	return b
}

// appendDecimal appends d exactly as d.String() writes it (trailing
// fractional zeros trimmed: "12.50" is "12.5"), without big-integer
// allocations when the coefficient has at most 18 digits.
func appendDecimal(b []byte, d decimal.Decimal) []byte {
	if d.NumDigits() > 18 {
		return append(b, d.String()...)
	}
	c, exp := d.CoefficientInt64(), int(d.Exponent())
	if exp >= 0 {
		b = strconv.AppendInt(b, c, 10)
		for i := 0; i < exp && c != 0; i++ {
			b = append(b, '0')
		}
		return b
	}
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	var buf [24]byte
	digits := strconv.AppendInt(buf[:0], c, 10)
	scale := -exp
	zeros := 0 // zeros between the point and the digits
	if len(digits) > scale {
		b = append(b, digits[:len(digits)-scale]...)
		digits = digits[len(digits)-scale:]
	} else {
		b = append(b, '0')
		zeros = scale - len(digits)
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		return b
	}
	b = append(b, '.')
	for range zeros {
		b = append(b, '0')
	}
	return append(b, digits...)
}
