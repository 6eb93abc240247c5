//go:build unix

package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// Where the file system cannot lock the staged file (flock unsupported),
// a new database is created and written in place, as without BuildNew,
// and no empty PATH.new is left behind.
func TestBuildNewWithoutLocksWritesInPlace(t *testing.T) {
	lockBuild = func(*os.File) (bool, error) { return false, syscall.ENOLCK }
	t.Cleanup(func() { lockBuild = buildLock })
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "books.db")
	st, err := OpenWith(ctx, path, &Options{BuildNew: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.build != nil {
		t.Error("the store builds beside its path, though the staged file could not be locked")
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at its path: %v", err)
	}
	if _, err := os.Stat(path + buildSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("books.db.new: %v; want none", err)
	}
}

// A transaction that writes into a new database's empty entries table has
// the kernel start writing the staged file before it builds the dropped
// key index again, once; into a database that is not being built, never.
func TestBuildStartsWritebackBeforeRebuildingIndexes(t *testing.T) {
	calls := make(chan string, 8)
	writebackFile = func(f *os.File) error { calls <- f.Name(); return nil }
	t.Cleanup(func() { writebackFile = startWriteback })
	ctx := context.Background()
	record := func(s *Store) {
		t.Helper()
		err := s.Update(ctx, func(lt ledger.Tx) error {
			tx := lt.(*tx)
			for _, k := range []string{"k1", "k2"} {
				if err := tx.InsertEntry(ctx, keyedEntry(k)); err != nil {
					return err
				}
			}
			if !tx.entryKey.gone {
				t.Error("the key index was not dropped: nothing to build again")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	path := filepath.Join(t.TempDir(), "books.db")
	st, err := OpenWith(ctx, path, &Options{BuildNew: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.build == nil {
		t.Fatal("the store does not build its database")
	}
	record(st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-calls:
		if name != path+buildSuffix {
			t.Errorf("writeback of %s, want the staged file %s", name, path+buildSuffix)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no writeback before the index was built again")
	}

	record(tempStore(t))
	select {
	case name := <-calls:
		t.Errorf("writeback of %s: in a database not being built, or twice", name)
	case <-time.After(100 * time.Millisecond):
	}
}
