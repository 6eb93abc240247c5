package postgres

import (
	"database/sql"
	"encoding/json"
	"math"
	"time"

	"github.com/settlehq/settle/ledger"
)

// Times are stored as BIGINT Unix nanoseconds in UTC, as in the SQLite
// store; the zero time is 0 or NULL. TIMESTAMPTZ would keep microseconds
// only, and the ledger promises that every time from ledger.MinTime to
// ledger.MaxTime reads back exactly as it was given.

// storeTS encodes a time to store, refusing one the encoding cannot hold
// exactly (ledger.CheckTime) rather than clamping it.
func storeTS(field string, t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	if err := ledger.CheckTime(field, t); err != nil {
		return 0, err
	}
	return t.UnixNano(), nil
}

// storeNullTS is storeTS with the zero time as NULL.
func storeNullTS(field string, t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	return storeTS(field, t)
}

// ts encodes a query bound, clamping it to the encodable range: "as of the
// year 3000" is after every stored time, since none lies beyond the range.
func ts(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(ledger.MaxTime):
		return math.MaxInt64
	case t.Before(ledger.MinTime):
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

// meta encodes metadata as JSON text for a JSONB column, or NULL when empty.
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
