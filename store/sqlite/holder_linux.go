package sqlite

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// walWriteLockOffset is the byte of the -shm file that a WAL database's
// writer locks for the whole write transaction (WAL_WRITE_LOCK, the first of
// the locks at offset 120; https://www.sqlite.org/walformat.html).
const walWriteLockOffset = 120

// rollbackLockOffset is the byte of a database file in a rollback-journal
// mode that its writer locks from its first write to its commit (the
// RESERVED lock, the byte after the PENDING byte at 1 GiB;
// https://www.sqlite.org/lockingv3.html). An import that has the database
// to itself (alone.go) holds it.
const rollbackLockOffset = 0x40000001

// writeLockHolder finds the process holding the write lock of the database
// at path in /proc/locks: the WAL write lock of its -shm file, or else the
// write lock of the database file in a rollback-journal mode. It only reads:
// opening and closing the files here would release this process's own
// POSIX locks on them, which SQLite's connections rely on. An in-memory
// database (path "") has no holder to find.
func writeLockHolder(path string) LockHolder {
	if path == "" {
		return LockHolder{}
	}
	if h := lockHolderAt(path+"-shm", walWriteLockOffset); h.PID != 0 {
		return h
	}
	return lockHolderAt(path, rollbackLockOffset)
}

// lockHolderAt finds the process holding a POSIX write lock on the byte at
// offset of the file at path.
func lockHolderAt(path string, offset int64) LockHolder {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return LockHolder{}
	}
	// The kernel spells the device as MAJOR:MINOR in hex.
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	file := fmt.Sprintf("%02x:%02x:%d", major, minor, st.Ino)
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return LockHolder{}
	}
	sc := bufio.NewScanner(bytes.NewReader(locks))
	for sc.Scan() {
		// "1: POSIX  ADVISORY  WRITE 3816 fe:00:778394 120 120"; waiters
		// have "->" after the number.
		f := strings.Fields(sc.Text())
		if len(f) != 8 || f[1] != "POSIX" || f[3] != "WRITE" || f[5] != file {
			continue
		}
		lo, err1 := strconv.ParseInt(f[6], 10, 64)
		hi, err2 := strconv.ParseInt(f[7], 10, 64)
		if f[7] == "EOF" {
			hi, err2 = 1<<62, nil
		}
		if err1 != nil || err2 != nil || lo > offset || hi < offset {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil || pid <= 0 {
			return LockHolder{}
		}
		return LockHolder{PID: pid, Command: commandOf(pid)}
	}
	return LockHolder{}
}

// commandOf returns a process's command line, shortened, or "".
func commandOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return ""
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	args[0] = filepath.Base(args[0])
	cmd := strings.Join(args, " ")
	if len(cmd) > 120 {
		cmd = cmd[:117] + "..."
	}
	return strings.ToValidUTF8(cmd, "?")
}
