//go:build linux

package sqlite

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing f's dirty pages to the
// disk, and returns once it has queued them, without waiting for the
// writes (sync_file_range(2) with SYNC_FILE_RANGE_WRITE).
func startWriteback(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = unix.SyncFileRange(int(fd), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
	})
	if err != nil {
		return err
	}
	return serr
}
