package ledger

import (
	"testing"
	"time"
)

// A capture that gives no available_on becomes available at the start of
// the UTC day on which its delay ends, wherever in its day it was made.
func TestEstimateAvailableIsTheStartOfADay(t *testing.T) {
	day := 24 * time.Hour
	want := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{
		time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC),
		time.Date(2026, 3, 2, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 3, 2, 18, 0, 0, 0, time.FixedZone("UTC-6", -6*3600)), // 03-03 00:00 UTC
	} {
		d := 2 * day
		if at.Location() != time.UTC {
			d = day
		}
		if got := estimateAvailable(at, d); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("captured %s, delay %s: available %s, want %s", at, d, got, want)
		}
	}
	if got := estimateAvailable(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), 7*day); !got.Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a seven-day delay: %s", got)
	}
	// Never before the capture: a delay under a day is kept exact, and a
	// longer one rounds down by less than a day.
	at := time.Date(2026, 3, 2, 22, 30, 0, 0, time.UTC)
	for _, d := range []time.Duration{time.Hour, 23 * time.Hour, day, 36 * time.Hour} {
		got := estimateAvailable(at, d)
		if got.Before(at) || got.After(at.Add(d)) {
			t.Errorf("captured %s, delay %s: available %s, outside [capture, capture + delay]", at, d, got)
		}
	}
	if got := estimateAvailable(at, time.Hour); !got.Equal(at.Add(time.Hour)) {
		t.Errorf("a one-hour delay: %s, want %s", got, at.Add(time.Hour))
	}
}
