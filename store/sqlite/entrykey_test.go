package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// A transaction that writes into an empty entries table drops the key's
// index while it writes, builds it again before a statement that looks an
// entry up by key and before it commits, and the keys stay unique all the
// while: a key written twice is refused as before.
func TestEntryKeyIndexWhileTheTableIsEmpty(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		if err := tx.InsertEntry(ctx, keyedEntry("k1")); err != nil {
			return err
		}
		if err := tx.InsertEntry(ctx, keyedEntry("k2")); err != nil {
			return err
		}
		if !tx.entryKey.gone || hasEntryKeyIndex(ctx, t, tx) {
			t.Errorf("writing into the empty table: dropped %v, index there %v; want it dropped", tx.entryKey.gone, hasEntryKeyIndex(ctx, t, tx))
		}
		// An entry read by its id needs no index of the keys.
		if _, err := tx.Entry(ctx, 1); err != nil {
			return err
		}
		if !tx.entryKey.gone {
			t.Error("reading an entry by its id built the key's index")
		}
		// A lookup by key builds it, and finds the entry.
		e, err := tx.EntryByKey(ctx, "k2")
		if err != nil {
			return err
		}
		if e.ID != 2 || tx.entryKey.gone || !hasEntryKeyIndex(ctx, t, tx) {
			t.Errorf("lookup by key: entry %d, dropped %v, index there %v", e.ID, tx.entryKey.gone, hasEntryKeyIndex(ctx, t, tx))
		}
		if err := tx.InsertEntry(ctx, keyedEntry("k1")); !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Errorf("k1 written twice: %v, want ErrIdempotencyConflict", err)
		}
		return tx.InsertEntry(ctx, keyedEntry("k3"))
	})
	if err != nil {
		t.Fatal(err)
	}
	checkEntryKeys(ctx, t, s, "k1 k2 k3")

	// Written without a lookup, the index is built at the commit; a batch
	// of new entries drops it as a single entry does.
	s = tempStore(t)
	err = s.Update(ctx, func(lt ledger.Tx) error {
		if _, err := lt.InsertEntries(ctx, []*ledger.Entry{keyedEntry("y"), keyedEntry("x")}); err != nil {
			return err
		}
		if tx := lt.(*tx); !tx.entryKey.gone || hasEntryKeyIndex(ctx, t, tx) {
			t.Error("a first batch of entries into the empty table did not drop the key's index")
		}
		for _, k := range []string{"b", "a", "c"} {
			if err := lt.InsertEntry(ctx, keyedEntry(k)); err != nil {
				return err
			}
		}
		_, err := lt.InsertEntries(ctx, []*ledger.Entry{keyedEntry("e"), keyedEntry("d")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checkEntryKeys(ctx, t, s, "y x b a c e d")
	// The next transaction finds the table holding entries: the index
	// stays, and refuses a key stored.
	err = s.Update(ctx, func(lt ledger.Tx) error {
		err := lt.InsertEntry(ctx, keyedEntry("a"))
		if tx := lt.(*tx); tx.entryKey.gone || !hasEntryKeyIndex(ctx, t, tx) {
			t.Error("a transaction into a table with entries dropped the key's index")
		}
		if !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Errorf("a stored key written again: %v, want ErrIdempotencyConflict", err)
		}
		_, err = lt.InsertEntries(ctx, []*ledger.Entry{keyedEntry("f"), keyedEntry("c")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checkEntryKeys(ctx, t, s, "y x b a c e d f")
}

// A savepoint rolled back around the index's drop brings the index back,
// and one around its build drops it again; the transaction goes on writing
// and commits with the index whole.
func TestEntryKeyIndexAcrossARolledBackSavepoint(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	errUndo := errors.New("undo")
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		err := tx.Nested(ctx, func() error {
			if err := tx.InsertEntry(ctx, keyedEntry("gone")); err != nil {
				return err
			}
			if !tx.entryKey.gone {
				t.Error("the index was not dropped inside the savepoint")
			}
			return errUndo
		})
		if !errors.Is(err, errUndo) {
			return err
		}
		if !hasEntryKeyIndex(ctx, t, tx) {
			t.Error("the rolled-back savepoint did not bring the index back")
		}
		if err := tx.InsertEntry(ctx, keyedEntry("kept")); err != nil {
			return err
		}
		if err := tx.InsertEntry(ctx, keyedEntry("kept")); !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Errorf("kept written twice: %v, want ErrIdempotencyConflict", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkEntryKeys(ctx, t, s, "kept")

	// A build inside a savepoint rolled back is undone too: the index is
	// dropped again, and the transaction knows it.
	s = tempStore(t)
	err = s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		if err := tx.InsertEntry(ctx, keyedEntry("first")); err != nil {
			return err
		}
		err := tx.Nested(ctx, func() error {
			if _, err := tx.EntryByKey(ctx, "first"); err != nil {
				return err
			}
			return errUndo
		})
		if !errors.Is(err, errUndo) {
			return err
		}
		if !tx.entryKey.gone || hasEntryKeyIndex(ctx, t, tx) {
			t.Errorf("after the savepoint that built it: dropped %v, index there %v; want it dropped", tx.entryKey.gone, hasEntryKeyIndex(ctx, t, tx))
		}
		if err := tx.InsertEntry(ctx, keyedEntry("first")); !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Errorf("first written twice: %v, want ErrIdempotencyConflict", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkEntryKeys(ctx, t, s, "first")
}

// Which statements need the entries' key index.
func TestNeedsEntryKey(t *testing.T) {
	for query, want := range map[string]bool{
		insertEntrySQL: true,
		strings.TrimSuffix(insertEntrySQL, onKeyConflict):                                                                 false,
		insertEntriesSQL(true, 3):                                                                                         true,
		strings.TrimSuffix(insertEntriesSQL(true, 3), onKeyConflict):                                                      false,
		`SELECT ` + entryCols + ` FROM entries e WHERE e.key = ?`:                                                         true,
		`SELECT ` + entryCols + ` FROM entries e WHERE e.id = ?`:                                                          false,
		`SELECT id, key FROM entries WHERE key IN (?, ?)`:                                                                 true,
		`SELECT key FROM entries WHERE key	IN (?)`:                                                                        true,
		`SELECT ` + requestByEntryCols + ` FROM entries e JOIN request_entries q ON q.entry_id = e.id WHERE e.key IN (?)`: true,
		`INSERT OR FAIL INTO request_entries (entry_id, operation, hash, result, created_at) VALUES (?, ?, ?, ?, ?)`:      false,
		`SELECT key, hash FROM requests WHERE key = ?`:                                                                    false,
		`UPDATE entries SET resolution = ?, resolved_by = ? WHERE id = ?`:                                                 false,
		`SELECT count(*) FROM sqlite_schema WHERE name = 'entries_key'`:                                                   false,
		`SELECT id FROM entries WHERE monkey = 1`:                                                                         false,
		`SELECT id FROM entries WHERE key LIKE 'evt%'`:                                                                    true,
		`SELECT id FROM entries WHERE keys IN (1)`:                                                                        false,
	} {
		if got := needsEntryKey(query); got != want {
			t.Errorf("needsEntryKey(%.90q) = %v, want %v", query, got, want)
		}
	}
}

func keyedEntry(key string) *ledger.Entry {
	return &ledger.Entry{Key: key, Phase: ledger.Posted, OccurredAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Postings: []ledger.Posting{{Account: "assets:cash", Currency: "usd", Amount: 100}, {Account: "income:sales", Currency: "usd", Amount: -100}}}
}

func hasEntryKeyIndex(ctx context.Context, t *testing.T, tx *tx) bool {
	t.Helper()
	create, err := tx.indexSQL(ctx, entryKeyIndex)
	if err != nil {
		t.Fatal(err)
	}
	return create != ""
}

// checkEntryKeys checks that the store holds entries with the keys want
// (in id order), has the key's index, and passes SQLite's integrity check.
func checkEntryKeys(ctx context.Context, t *testing.T, s *Store, want string) {
	t.Helper()
	var keys, check string
	var n int
	err := s.DB().QueryRowContext(ctx, `SELECT (SELECT group_concat(key, ' ' ORDER BY id) FROM entries),
		(SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'entries_key'), (SELECT group_concat(integrity_check) FROM pragma_integrity_check)`).Scan(&keys, &n, &check)
	if err != nil {
		t.Fatal(err)
	}
	if keys != want || n != 1 || check != "ok" {
		t.Errorf("entries %q (want %q), key index %d, integrity %q", keys, want, n, check)
	}
}

// entryKeyNeeded answers as needsEntryKey while the index is dropped, and
// false while it is there; it remembers at most maxKeyNeeds statements,
// and answers for the rest all the same.
func TestEntryKeyNeededRemembersStatements(t *testing.T) {
	tx := &tx{}
	if tx.entryKeyNeeded(insertEntrySQL) {
		t.Error("a statement needs the index while it is there")
	}
	tx.entryKey.gone = true
	for range 2 { // worked out, then remembered
		if !tx.entryKeyNeeded(insertEntrySQL) {
			t.Error("the insert that skips stored keys does not need the dropped index")
		}
		if tx.entryKeyNeeded(`UPDATE entries SET resolution = ?, resolved_by = ? WHERE id = ?`) {
			t.Error("an update by id needs the dropped index")
		}
	}
	for i := range maxKeyNeeds + 10 {
		q := fmt.Sprintf(`SELECT id FROM entries WHERE key = ? AND id > %d`, i)
		if !tx.entryKeyNeeded(q) || !tx.entryKeyNeeded(q) {
			t.Fatalf("statement %d: a read by key does not need the dropped index", i)
		}
	}
	if n := len(tx.entryKeyNeeds); n != maxKeyNeeds {
		t.Errorf("%d statements remembered, want %d", n, maxKeyNeeds)
	}
}
