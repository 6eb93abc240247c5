package storetest

import (
	"context"
	"testing"
	"time"
)

// A lease is held by one holder at a time until it expires or is given up.
func testLease(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	take := func(holder string, ttl time.Duration) bool {
		t.Helper()
		return must(st.Lease(ctx, "nightly", holder, ttl)).ok(t)
	}
	if !take("a", time.Hour) {
		t.Fatal("a free lease was refused")
	}
	if take("b", time.Hour) {
		t.Error("a lease held by a was given to b")
	}
	if !take("a", time.Hour) {
		t.Error("its holder could not renew the lease")
	}
	take("b", 0) // giving up what b does not hold changes nothing
	if take("b", time.Hour) {
		t.Error("b took a lease a holds after b gave up its own")
	}
	take("a", 0)
	if !take("b", time.Hour) {
		t.Error("a lease given up was refused")
	}
	// An expired lease goes to the next taker.
	if !take("b", time.Nanosecond) {
		t.Error("b could not shorten its lease")
	}
	time.Sleep(time.Millisecond)
	if !take("c", time.Hour) {
		t.Error("an expired lease was refused")
	}
}
