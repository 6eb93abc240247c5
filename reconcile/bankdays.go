package reconcile

import "time"

// Calendar tells bank business days from weekends and bank holidays, for
// the days on which a payout can arrive. The zero Calendar knows weekends
// only.
type Calendar struct {
	holidays map[time.Time]bool
}

// NewCalendar returns a calendar with the given bank holidays (only their
// dates count).
func NewCalendar(holidays []time.Time) Calendar {
	c := Calendar{holidays: make(map[time.Time]bool, len(holidays))}
	for _, h := range holidays {
		c.holidays[Day(h)] = true
	}
	return c
}

// Day truncates t to midnight UTC of its date as written: a bank's date
// is a date, whatever its offset.
func Day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// BusinessDay reports whether banks settle on t's date.
func (c Calendar) BusinessDay(t time.Time) bool {
	t = Day(t)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !c.holidays[t]
}

// Next returns t's date if it is a business day, else the next one.
func (c Calendar) Next(t time.Time) time.Time {
	t = Day(t)
	for i := 0; i < 366 && !c.BusinessDay(t); i++ {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// Add moves n business days from t's date (back for a negative n). From a
// day that is not a business day, the first step lands on the nearest
// business day in that direction.
func (c Calendar) Add(t time.Time, n int) time.Time {
	t = Day(t)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		t = t.AddDate(0, 0, step)
		if c.BusinessDay(t) {
			n--
		}
	}
	return t
}
