//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"
)

// buildLock locks the staged file of a new database for this process, and
// reports false at once if another process holds it. It is flock(2), which
// SQLite's own fcntl(2) locks on the same file do not see.
func buildLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
