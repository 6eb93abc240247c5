//go:build unix

package sqlite

import (
	"os"
	"syscall"
)

// buildLock locks the staged file of a new database for this process, or
// fails at once if another holds it. It is flock(2), which SQLite's own
// fcntl(2) locks on the same file do not see.
func buildLock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
