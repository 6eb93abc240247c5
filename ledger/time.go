package ledger

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"time"
)

// The range of times the ledger stores exactly. Stores keep a time as
// nanoseconds since the Unix epoch in a 64-bit integer, which reaches from
// 1677-09-21 to 2262-04-11; a time outside is refused with a *TimeError
// rather than clamped or wrapped, so that every stored time reads back as
// it was given.
var (
	MinTime = time.Unix(0, math.MinInt64).UTC() // 1677-09-21T00:12:43.145224192Z
	MaxTime = time.Unix(0, math.MaxInt64).UTC() // 2262-04-11T23:47:16.854775807Z
)

// unixEpoch is the one instant inside the range that cannot be stored: the
// stores write the zero time.Time ("no time") as 0 nanoseconds, which is
// also 1970-01-01T00:00:00Z, so that instant would read back as no time.
var unixEpoch = time.Unix(0, 0).UTC()

// TimeError is a time the ledger refuses to store. It wraps ErrInvalidTime.
type TimeError struct {
	Field string // the request field, e.g. "at" or "expires_at"; may be empty
	Time  time.Time
}

func (e *TimeError) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(ErrInvalidTime.Error() + ": ")
	if e.Time.Equal(unixEpoch) {
		b.WriteString("1970-01-01T00:00:00Z is the Unix epoch, which the books keep for \"no time\"; give the real time of the event")
	} else {
		fmt.Fprintf(&b, "%s is outside the range the books store exactly (%s to %s)",
			e.Time.UTC().Format(time.RFC3339Nano), MinTime.Format(time.RFC3339Nano), MaxTime.Format(time.RFC3339Nano))
	}
	return b.String()
}

func (e *TimeError) Unwrap() error { return ErrInvalidTime }

// CheckTime reports, as a *TimeError naming field, a time the books cannot
// store exactly: one before MinTime or after MaxTime, or the Unix epoch
// itself. The zero time passes: callers give it its meaning (now, or none).
func CheckTime(field string, t time.Time) error {
	if storable(t) {
		return nil
	}
	return &TimeError{Field: field, Time: t}
}

// storable reports whether CheckTime passes t.
func storable(t time.Time) bool {
	return t.IsZero() || !t.Before(MinTime) && !t.After(MaxTime) && !t.Equal(unixEpoch)
}

var timeType = reflect.TypeFor[time.Time]()

// checkTimes checks every exported time.Time field of a request struct with
// CheckTime, naming it in snake case (ExpiresAt is "expires_at"). It runs on
// every request an idempotent operation receives, before the request is
// hashed, so that no operation can store a time out of range and a new
// request type is covered without having to remember it.
func checkTimes(req any) error {
	v := reflect.ValueOf(req)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	for _, i := range timeFields(v.Type()) {
		if t, _ := reflect.TypeAssert[time.Time](v.Field(i)); !storable(t) {
			// The field's name is spelled out only for an error.
			return &TimeError{Field: snake(v.Type().Field(i).Name), Time: t}
		}
	}
	return nil
}

// timeFieldsOf holds timeFields' answer for each request type it was asked
// about, a reflect.Type to an []int.
var timeFieldsOf sync.Map

// timeFields returns the indexes of the exported time.Time fields of the
// struct type typ. checkTimes runs for every event of a feed: walking each
// request's fields by reflection every time took 0.7 s of recording a
// million payments (BENCHMARKS.md, thirty-ninth round).
func timeFields(typ reflect.Type) []int {
	if f, ok := timeFieldsOf.Load(typ); ok {
		return f.([]int)
	}
	var fields []int
	for i := range typ.NumField() {
		if f := typ.Field(i); f.IsExported() && f.Type == timeType {
			fields = append(fields, i)
		}
	}
	timeFieldsOf.Store(typ, fields)
	return fields
}

// snake turns a Go field name into the snake case of the feed and the
// documents: OccurredAt → occurred_at.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
