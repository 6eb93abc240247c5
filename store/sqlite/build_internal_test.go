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
