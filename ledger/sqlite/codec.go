package sqlite

import (
	"database/sql"
	"encoding/json"
	"math"
	"time"
)

// Times are stored as Unix nanoseconds in UTC; zero times as 0 or NULL.

// Unix nanoseconds reach from 1677 to 2262 only. Times outside are clamped
// rather than left to UnixNano, which would wrap: "as of the year 3000"
// must still be after every stored time.
var (
	maxTS = time.Unix(0, math.MaxInt64)
	minTS = time.Unix(0, math.MinInt64)
)

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

func fromMeta(s sql.NullString) (map[string]string, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var m map[string]string
	err := json.Unmarshal([]byte(s.String), &m)
	return m, err
}
