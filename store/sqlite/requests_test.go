package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// Requests saved in a transaction are found before and after the
// transaction writes them, every one is stored once, and each batch written
// goes in the order of its keys (requestBuffer).
func TestRequestsBuffered(t *testing.T) {
	ctx := context.Background()
	s := openBuffered(t, 8)
	// Keys in an order of their own, 20 of them: two full buffers and four
	// written at the commit.
	var keys []string
	for i := range 20 {
		keys = append(keys, fmt.Sprintf("evt_%02d", (i*7)%20))
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx ledger.Tx) error {
		for i, k := range keys {
			if _, err := tx.Request(ctx, k); !errors.Is(err, ledger.ErrNotFound) {
				return fmt.Errorf("%s before it was saved: %v", k, err)
			}
			r := &ledger.Request{Key: k, Operation: "capture", Hash: "h" + k, Result: []byte("r" + k), CreatedAt: at}
			if err := tx.SaveRequest(ctx, r); err != nil {
				return err
			}
			// Every request saved so far is found, written or not.
			for _, seen := range keys[:i+1] {
				got, err := tx.Request(ctx, seen)
				if err != nil {
					return fmt.Errorf("after saving %d: %s: %w", i+1, seen, err)
				}
				if got.Hash != "h"+seen || string(got.Result) != "r"+seen || !got.CreatedAt.Equal(at) {
					return fmt.Errorf("after saving %d: %s came back as %+v", i+1, seen, got)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := s.DB().QueryRowContext(ctx, `SELECT group_concat(key, ' ' ORDER BY rowid) FROM requests`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	// Written in three batches: the first eight saved, the next eight, the
	// last four, each sorted.
	var want []string
	for _, part := range [][]string{keys[:8], keys[8:16], keys[16:]} {
		want = append(want, slices.Sorted(slices.Values(part))...)
	}
	if stored != strings.Join(want, " ") {
		t.Errorf("stored in this order:\n%s\nwant\n%s", stored, strings.Join(want, " "))
	}
}

// openBuffered opens a store on a new database file, closed when the test
// ends, with write transactions keeping n saved requests before writing
// them (requestBuffer, restored after).
func openBuffered(t *testing.T, n int) *Store {
	t.Helper()
	was := requestBuffer
	t.Cleanup(func() { requestBuffer = was })
	requestBuffer = n
	return tempStore(t)
}
