package feed_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/settlehq/settle/feed"
)

// FuzzFeed reads arbitrary feeds and applies them to fresh books. Nothing
// panics; every problem is an *Error at a line of the input; a file is
// recorded all or nothing, and recording it again changes nothing; with
// skipInvalid every event is applied, replayed or skipped; and the books
// always verify clean.
func FuzzFeed(f *testing.F) {
	demo, err := os.ReadFile("../testdata/demo/events.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(demo)
	for _, line := range bytes.SplitAfter(demo, []byte("\n")) {
		f.Add(line)
	}
	for _, s := range []string{mixed, lifecycleFeed, string(demo) + mixed} {
		f.Add([]byte(s))
	}
	for _, tc := range laxLines {
		f.Add([]byte(tc.line))
		f.Add([]byte(lifecycleFeed + tc.line))
	}
	for _, line := range goodLines {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		events, readErrs := feed.Read("fuzz.jsonl", bytes.NewReader(data))
		lines := 1 + bytes.Count(data, []byte("\n"))
		for _, err := range readErrs {
			checkLineError(t, err, lines)
			if !errors.Is(err, feed.ErrBadLine) {
				t.Fatalf("a read error that is not ErrBadLine: %v", err)
			}
		}

		if len(events) == 0 {
			return // nothing to apply; the books are opened for feeds with events only
		}

		// All or nothing.
		l, _ := books(t)
		sum, errs := feed.ApplyFile(ctx, l, "fuzz.jsonl", bytes.NewReader(data), false)
		for _, err := range errs {
			checkLineError(t, err, lines)
		}
		if len(errs) == 0 {
			if len(readErrs) != 0 || sum.Applied+sum.Replayed != len(events) || sum.Skipped != 0 {
				t.Fatalf("recorded %+v of %d events with %d bad lines", sum, len(events), len(readErrs))
			}
			again, errs := feed.ApplyFile(ctx, l, "fuzz.jsonl", bytes.NewReader(data), false)
			if len(errs) != 0 || again.Applied != 0 || again.Replayed != len(events) {
				t.Fatalf("recording again: %+v %v", again, errs)
			}
			verify(t, l)
			return // skipping would skip nothing
		}
		if sum != (feed.Summary{}) {
			t.Fatalf("a refused file reports %+v", sum)
		}
		if bals, err := l.Balances(ctx, ""); err != nil || len(bals) != 0 {
			t.Fatalf("a refused file wrote balances %v (%v)", bals, err)
		}

		// Skipping bad events.
		l, _ = books(t)
		sum, errs = feed.Apply(ctx, l, events, true)
		for _, err := range errs {
			checkLineError(t, err, lines)
		}
		if sum.Applied+sum.Replayed+sum.Skipped != len(events) || sum.Skipped != len(errs) {
			t.Fatalf("applied %+v of %d events, %d errors", sum, len(events), len(errs))
		}
		verify(t, l)
	})
}

// checkLineError fails unless err is an *Error at a line of the input.
func checkLineError(t *testing.T, err error, lines int) {
	t.Helper()
	var e *feed.Error
	if !errors.As(err, &e) || e.File != "fuzz.jsonl" || e.Line < 1 || e.Line > lines || !strings.HasPrefix(err.Error(), "fuzz.jsonl:") {
		t.Fatalf("not an error at a line of the input: %v", err)
	}
}
