package app

import (
	"testing"
	"time"
)

// A run's timings in milliseconds: each step truncated, the total their
// sum; the totals of several runs add them up without sharing any run's.
func TestTookMS(t *testing.T) {
	a := Timings{Load: 1500 * time.Microsecond, Match: 2 * time.Second, Adopt: 999 * time.Microsecond, Store: 40 * time.Millisecond}.MS()
	if want := (TookMS{Total: 2041, Load: 1, Match: 2000, Adopt: 0, Store: 40}); *a != want {
		t.Fatalf("MS: %+v, want %+v", *a, want)
	}
	b := Timings{Load: time.Second, Store: time.Millisecond}.MS()
	sum := a.Plus(b)
	if want := (TookMS{Total: 3042, Load: 1001, Match: 2000, Adopt: 0, Store: 41}); *sum != want {
		t.Errorf("Plus: %+v, want %+v", *sum, want)
	}
	if (*TookMS)(nil).Plus(nil) != nil {
		t.Error("nil plus nil is not nil")
	}
	first := (*TookMS)(nil).Plus(a)
	if first == a || *first != *a {
		t.Errorf("nil plus a: %p %+v, want a copy of %p %+v", first, *first, a, *a)
	}
	if got := a.Plus(nil); got == a || *got != *a {
		t.Errorf("a plus nil: %p %+v, want a copy of %p %+v", got, *got, a, *a)
	}
}
