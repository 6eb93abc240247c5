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

// A request saved with the entry it booked under its own key (EntryID) is
// stored by that entry's id (request_entries); any other, by its key. Both
// are found again, one at a time and read ahead, past a buffer's flush,
// also when they are saved in an order of neither their entries nor their
// keys; those stored by their key are written in the order of the keys.
func TestRequestsStoredByTheirEntry(t *testing.T) {
	ctx := context.Background()
	s := openBuffered(t, 8)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	keys := []string{"booked_1", "alone_z", "booked_2", "alone_m", "alone_a"}
	for i := range 10 {
		keys = append(keys, fmt.Sprintf("booked_more_%d", i)) // past the buffer of 8
	}
	alone := func(k string) bool { return strings.HasPrefix(k, "alone") }
	err := s.Update(ctx, func(tx ledger.Tx) error {
		entries := map[string]int64{}
		for _, k := range keys {
			if alone(k) {
				continue
			}
			e := &ledger.Entry{Key: k, Phase: ledger.Posted, OccurredAt: at, Postings: []ledger.Posting{
				{Account: "assets:cash", Currency: "usd", Amount: 100}, {Account: "income:sales", Currency: "usd", Amount: -100}}}
			if err := tx.InsertEntry(ctx, e); err != nil {
				return err
			}
			entries[k] = e.ID
		}
		// Saved last entry first: each buffer's requests by entry arrive
		// out of the order of their ids.
		for _, k := range slices.Backward(keys) {
			r := &ledger.Request{Key: k, Operation: "post", Hash: "h" + k, Result: []byte("r" + k), CreatedAt: at, EntryID: entries[k]}
			if err := tx.SaveRequest(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var byKey, byEntry int
	var keyOrder string
	if err := s.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM request_entries),
		(SELECT group_concat(key, ' ' ORDER BY rowid) FROM requests)`).Scan(&byKey, &byEntry, &keyOrder); err != nil {
		t.Fatal(err)
	}
	if byKey != 3 || byEntry != len(keys)-3 {
		t.Errorf("%d requests by key (want 3), %d by their entry (want %d)", byKey, byEntry, len(keys)-3)
	}
	// All three are in the last buffer, written at the commit.
	if keyOrder != "alone_a alone_m alone_z" {
		t.Errorf("requests by key written in the order %q", keyOrder)
	}
	check := func(tx ledger.Tx, how string) error {
		for _, k := range keys {
			got, err := tx.Request(ctx, k)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", how, k, err)
			}
			if got.Key != k || got.Operation != "post" || got.Hash != "h"+k || string(got.Result) != "r"+k || !got.CreatedAt.Equal(at) {
				return fmt.Errorf("%s: %s came back as %+v", how, k, got)
			}
		}
		if _, err := tx.Request(ctx, "never"); !errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("%s: a request never saved: %v", how, err)
		}
		return nil
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error { return check(tx, "one at a time") }); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(lt ledger.Tx) error {
		if err := lt.(*tx).Prefetch(ctx, ledger.Ahead{Keys: append(slices.Clone(keys), "never")}); err != nil {
			return err
		}
		return check(lt, "read ahead")
	})
	if err != nil {
		t.Fatal(err)
	}
}
