//go:build unix

package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// entryKeys lists the entries' keys of the database at path, opened as
// any process would open it.
func entryKeys(t *testing.T, path string) []string {
	t.Helper()
	st, err := sqlite.OpenWith(context.Background(), path, &sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var keys []string
	err = st.View(context.Background(), func(tx ledger.ReadTx) error {
		return tx.EachEntry(context.Background(), ledger.EntryFilter{}, func(e *ledger.Entry) error {
			keys = append(keys, e.Key)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// pragma reads one PRAGMA of the database file at path.
func pragma(t *testing.T, path, name string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// buildOne opens a store that builds the new database at path and posts
// one entry under key.
func buildOne(t *testing.T, path, key string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.OpenWith(context.Background(), path, &sqlite.Options{BuildNew: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := postOne(context.Background(), st, key); err != nil {
		t.Fatal(err)
	}
	return st
}

// A new database opened with BuildNew is written in PATH.new and appears
// at PATH, whole, in WAL mode, with settle's page size and the file's
// permission, only when the store closes.
func TestBuildNewPutsTheDatabaseInPlaceOnClose(t *testing.T) {
	withUmask(t, 0o022)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "books.db")
	st, err := sqlite.OpenWith(ctx, path, &sqlite.Options{BuildNew: true, Mode: 0o640})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if err := postOne(ctx, st, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("while it is built, %s: %v; want it not to exist", path, err)
	}
	if _, err := os.Stat(path + ".new"); err != nil {
		t.Fatalf("the database is not built in books.db.new: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, side := range []string{".new", ".new-journal", ".new-wal", ".new-shm"} {
		if _, err := os.Stat(path + side); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after Close, books.db%s: %v; want it gone", side, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("books.db is %v, want 0640", fi.Mode().Perm())
	}
	if got := pragma(t, path, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %s, want wal", got)
	}
	if got := pragma(t, path, "page_size"); got != "8192" {
		t.Errorf("page_size = %s, want 8192", got)
	}
	if got := pragma(t, path, "integrity_check"); got != "ok" {
		t.Errorf("integrity_check: %s", got)
	}
	if got := entryKeys(t, path); strings.Join(got, ",") != "a,b" {
		t.Errorf("entries %v, want a and b", got)
	}
}

// A build that never closed (the process was killed) leaves no database,
// and the next one starts again from nothing.
func TestBuildNewStartsAnAbandonedBuildAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "books.db")
	if err := os.WriteFile(path+".new", []byte("the first bytes of a build that was killed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".new-journal", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := buildOne(t, path, "c")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if got := entryKeys(t, path); strings.Join(got, ",") != "c" {
		t.Errorf("entries %v, want c", got)
	}
}

// Two builders of the same new database: the second waits, as a write
// waits for the write lock, and opens the database the first put in place
// (not the file it had opened before the first moved it there, which it
// would otherwise start again); with no time to wait it gives up at once.
func TestBuildNewSecondBuilderWaits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "books.db")
	first := buildOne(t, path, "first")
	_, err := sqlite.OpenWith(ctx, path, &sqlite.Options{BuildNew: true, LockTimeout: -1})
	if !errors.Is(err, sqlite.ErrLockTimeout) || !strings.Contains(err.Error(), "building the database in "+path+".new") {
		t.Fatalf("a second builder that may not wait: %v; want a lock timeout naming books.db.new", err)
	}
	closed := make(chan error, 1)
	waits := 0
	second, err := sqlite.OpenWith(ctx, path, &sqlite.Options{BuildNew: true, LockTimeout: time.Minute,
		OnLockWait: func(w sqlite.LockWait) {
			waits++
			go func() {
				time.Sleep(200 * time.Millisecond)
				closed <- first.Close()
			}()
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if waits != 1 {
		t.Errorf("OnLockWait called %d times, want once", waits)
	}
	if err := postOne(ctx, second, "second"); err != nil {
		t.Fatal(err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if got := entryKeys(t, path); strings.Join(got, ",") != "first,second" {
		t.Errorf("entries %v, want the first builder's and then the second's", got)
	}
	if _, err := os.Stat(path + ".new"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("books.db.new: %v; want none", err)
	}
}

// A database that appears at the path while another is built (a process
// that did not build it created it) is left alone: Close says so and
// where the built one is.
func TestBuildNewLeavesADatabaseThatAppeared(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "books.db")
	built := buildOne(t, path, "built")
	other, err := sqlite.OpenWith(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := postOne(ctx, other, "other"); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	err = built.Close()
	if err == nil || !strings.Contains(err.Error(), "a database appeared at") || !strings.Contains(err.Error(), path+".new") {
		t.Fatalf("Close = %v; want it to say a database appeared and where the built one is", err)
	}
	if got := entryKeys(t, path); strings.Join(got, ",") != "other" {
		t.Errorf("the database that appeared has %v, want only its own entry", got)
	}
	if _, err := os.Stat(path + ".new"); err != nil {
		t.Errorf("the built database was not kept: %v", err)
	}
}

// A database that exists is opened as without BuildNew: written in place,
// in WAL mode.
func TestBuildNewOpensAnExistingDatabaseInPlace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "books.db")
	st, err := sqlite.OpenWith(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = sqlite.OpenWith(ctx, path, &sqlite.Options{BuildNew: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := postOne(ctx, st, "e"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".new"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("books.db.new: %v; want none for a database that exists", err)
	}
	if got := entryKeys(t, path); strings.Join(got, ",") != "e" {
		t.Errorf("entries %v before Close, want e", got)
	}
}

// A database being built has no write-ahead log: a savepoint rolled back
// (what record --skip-invalid does for a line that fails) and a
// transaction rolled back must still undo everything they wrote, pages
// past the file's first end included, and the database stay whole.
func TestBuildNewRollsBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "books.db")
	// A small cache, so that the pages written go to the file before the
	// rollback.
	st, err := sqlite.OpenWith(ctx, path, &sqlite.Options{BuildNew: true, WriterCache: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	books := ledger.New(st, nil)
	entries := func(prefix string, n int) []ledger.EntryInput {
		es := make([]ledger.EntryInput, n)
		for i := range es {
			es[i] = ledger.EntryInput{Key: fmt.Sprintf("%s-%d", prefix, i), Description: strings.Repeat("x", 200),
				Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("income:sales", "usd", "1")}}
		}
		return es
	}
	failed := errors.New("this line fails")
	var spilled int64 // the file's size before the savepoint is rolled back
	err = books.Atomic(ctx, func(l *ledger.Ledger) error {
		if _, err := l.PostEntry(ctx, entries("kept", 1)[0]); err != nil {
			return err
		}
		// Thousands of entries in one operation, then a failure: the
		// operation's savepoint is rolled back, the rest of the batch kept.
		err := l.Atomic(ctx, func(inner *ledger.Ledger) error {
			if _, err := inner.PostEntries(ctx, entries("undone", 3000)); err != nil {
				return err
			}
			if fi, err := os.Stat(path + ".new"); err == nil {
				spilled = fi.Size()
			}
			return failed
		})
		if !errors.Is(err, failed) {
			return fmt.Errorf("the failing operation: %v", err)
		}
		_, err = l.PostEntry(ctx, entries("after", 1)[0])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A whole transaction that fails after writing leaves nothing either.
	err = books.Atomic(ctx, func(l *ledger.Ledger) error {
		if _, err := l.PostEntries(ctx, entries("gone", 3000)); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("the failing transaction: %v", err)
	}
	fi, err := os.Stat(path + ".new")
	if err != nil {
		t.Fatal(err)
	}
	if spilled < 1<<20 || fi.Size() >= 1<<20 {
		t.Errorf("books.db.new was %d bytes before the rollback and is %d after: want the undone pages in the file, then gone",
			spilled, fi.Size())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if got := pragma(t, path, "integrity_check"); got != "ok" {
		t.Errorf("integrity_check: %s", got)
	}
	if got := entryKeys(t, path); strings.Join(got, ",") != "kept-0,after-0" {
		t.Errorf("entries %v, want kept-0 and after-0 only", got)
	}
}
