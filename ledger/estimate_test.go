package ledger

import (
	"testing"
	"time"
)

// A capture that gives no available_on becomes available at the start of
// the UTC day on which its delay ends, wherever in its day it was made; a
// delay shorter than a day is kept exact, so that funds never become
// available before their capture.
func TestEstimateAvailableIsTheStartOfADay(t *testing.T) {
	day := 24 * time.Hour
	utc := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	for _, c := range []struct {
		at    time.Time
		delay time.Duration
		want  time.Time
	}{
		{utc(2, 0, 0), 2 * day, utc(4, 0, 0)},
		{utc(2, 10, 30), 2 * day, utc(4, 0, 0)},
		{time.Date(2026, 3, 2, 23, 59, 59, 999999999, time.UTC), 2 * day, utc(4, 0, 0)},
		{time.Date(2026, 3, 2, 18, 0, 0, 0, time.FixedZone("UTC-6", -6*3600)), day, utc(4, 0, 0)}, // 03-03 00:00 UTC
		{utc(2, 10, 0), 7 * day, utc(9, 0, 0)},
		{utc(2, 22, 30), 36 * time.Hour, utc(4, 0, 0)},
		{utc(2, 22, 30), day, utc(3, 0, 0)},
		{utc(2, 22, 30), 23 * time.Hour, utc(3, 21, 30)},
		{utc(2, 22, 30), time.Hour, utc(2, 23, 30)},
	} {
		got := estimateAvailable(c.at, c.delay)
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("captured %s, delay %s: available %s, want %s", c.at, c.delay, got, c.want)
		}
		if got.Before(c.at) {
			t.Errorf("captured %s, delay %s: available %s, before the capture", c.at, c.delay, got)
		}
	}
}
