//go:build linux

package sqlite

import (
	"os"
	"path/filepath"
	"testing"
)

// startWriteback queues a file's written pages for the disk, and says why
// not for a file that is closed, which the build's goroutine may meet
// when the store closes first.
func TestStartWriteback(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := startWriteback(f); err != nil {
		t.Errorf("writeback of a written file: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := startWriteback(f); err == nil {
		t.Error("writeback of a closed file: no error")
	}
}
