//go:build unix

package sqlite_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/settlehq/settle/store/sqlite"
)

// withUmask runs the test under umask, the usual 022 in the cases below, so
// that a file created 0644 shows.
func withUmask(t *testing.T, umask int) {
	old := syscall.Umask(umask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// A database the store creates, and the -wal and -shm files SQLite creates
// beside it with the database file's permission, are readable by their
// owner only (or the group too, with Mode 0640), whatever the umask allows.
func TestDatabaseFilesArePrivate(t *testing.T) {
	withUmask(t, 0o022)
	for _, tc := range []struct {
		name string
		mode fs.FileMode
		want fs.FileMode
	}{
		{"default", 0, 0o600},
		{"group readable", 0o640, 0o640},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "books.db")
			st, err := sqlite.OpenWith(ctx, path, &sqlite.Options{Mode: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := postOne(ctx, st, "k"); err != nil {
				t.Fatal(err)
			}
			if st.FileMode() != tc.want {
				t.Errorf("FileMode() = %v, want %v", st.FileMode(), tc.want)
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				fi, err := os.Stat(path + suffix)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != tc.want {
					t.Errorf("books.db%s is %v, want %v", suffix, got, tc.want)
				}
			}
		})
	}
}

// OpenWith creates a database only where asked, and never its folder.
func TestOpenMissingDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := sqlite.OpenWith(ctx, filepath.Join(dir, "typo.db"), &sqlite.Options{MustExist: true}); !errors.Is(err, sqlite.ErrNoDatabase) {
		t.Errorf("MustExist on a missing database: %v, want ErrNoDatabase", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("MustExist created the database: %v", err)
	}
	_, err := sqlite.Open(ctx, filepath.Join(dir, "no", "such", "books.db"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("opening in a missing folder: %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open created the folder: %v", err)
	}
	path := newDB(t)
	st, err := sqlite.OpenWith(ctx, path, &sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatalf("MustExist on an existing database: %v", err)
	}
	st.Close()
}
