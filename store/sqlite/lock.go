package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/settlehq/settle/ledger"
)

// SQLite lets one connection write at a time. Inside one process the Store
// queues its writers on a mutex; between processes they meet at BEGIN
// IMMEDIATE. SQLite's busy timeout there is one blocking wait that ends in
// SQLITE_BUSY, so a long import in one process used to fail every other
// process after ten seconds. The Store instead retries BEGIN IMMEDIATE,
// each attempt blocking in SQLite for at most BusyTimeout, until
// LockTimeout has passed or the context ends, and says once (OnLockWait)
// that it is waiting and, where the operating system tells, for whom.

// Lock waits by default.
const (
	DefaultLockTimeout = 5 * time.Minute
	DefaultBusyTimeout = time.Second
)

// ErrLockTimeout is the error of a write that waited LockTimeout for the
// write lock held by another process or connection. Errors wrapping it are
// *LockTimeoutError when the store knows more.
var ErrLockTimeout = ledger.ErrLockTimeout

// LockHolder is the process that holds a database's write lock, as far as
// the operating system tells (on Linux, from /proc/locks); PID 0 means
// unknown.
type LockHolder struct {
	PID     int
	Command string // its command line, shortened; "" if unknown
}

func (h LockHolder) String() string {
	switch {
	case h.PID == 0:
		return "another process"
	case h.PID == os.Getpid():
		return fmt.Sprintf("another connection of this process (pid %d)", h.PID)
	case h.Command == "":
		return fmt.Sprintf("pid %d", h.PID)
	default:
		return fmt.Sprintf("pid %d (%s)", h.PID, h.Command)
	}
}

// LockWait describes a write that has to wait for the write lock.
type LockWait struct {
	Path    string // the database file; "" for an in-memory database
	Holder  LockHolder
	Timeout time.Duration // how long the write waits in all
}

// LockTimeoutError is a write that gave up waiting for the write lock.
type LockTimeoutError struct {
	Path   string
	Holder LockHolder // as last seen
	Waited time.Duration
	Err    error // the driver's last busy error
}

func (e *LockTimeoutError) Error() string {
	db := "the database"
	if e.Path != "" {
		db = e.Path
	}
	return fmt.Sprintf("gave up after %s waiting for the write lock on %s, held by %s", e.Waited.Round(time.Millisecond), db, e.Holder)
}

// Unwrap returns ErrLockTimeout and the driver's error.
func (e *LockTimeoutError) Unwrap() []error { return []error{ErrLockTimeout, e.Err} }

// isBusy reports whether err is SQLite's "locked by another connection".
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// begin starts a write transaction on the writer connection with stmt
// (BEGIN IMMEDIATE, or BEGIN EXCLUSIVE for an import that has the database
// to itself), waiting for another process's write lock as Options allow.
// Callers hold s.mu.
func (s *Store) begin(ctx context.Context, stmt string) error {
	return waitLock(ctx, &s.opts, s.path, func() error {
		_, err := s.writer.ExecContext(ctx, stmt)
		return err
	})
}

// waitLock runs try, and runs it again while it fails because another
// connection holds a lock it needs (SQLITE_BUSY, each time after one busy
// timeout's wait in SQLite), until o's lock timeout has passed or ctx
// ends. It says once (OnLockWait) that it waits, and for whom. path is the
// database file, "" if not known.
func waitLock(ctx context.Context, o *Options, path string, try func() error) error {
	start := time.Now()
	err := try()
	if err == nil || !isBusy(err) {
		return translate(err)
	}
	timeout := o.lockTimeout()
	holder := writeLockHolder(path)
	if timeout > 0 {
		w := LockWait{Path: path, Holder: holder, Timeout: timeout}
		switch {
		case o.OnLockWait != nil:
			o.OnLockWait(w)
		case o.Logger != nil:
			o.Logger.Info("sqlite: waiting for the write lock", "db", w.Path, "holder", w.Holder.String(), "timeout", w.Timeout)
		}
	}
	for {
		waited := time.Since(start)
		if waited >= timeout {
			if h := writeLockHolder(path); h.PID != 0 {
				holder = h
			}
			return &LockTimeoutError{Path: path, Holder: holder, Waited: waited, Err: err}
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("waiting for the write lock, held by %s: %w", holder, cerr)
		}
		attempt := time.Now()
		err = try()
		if err == nil || !isBusy(err) {
			return translate(err)
		}
		// SQLITE_LOCKED, and BUSY in SQLite's deadlock cases, return at
		// once without the busy handler's wait: pause instead of spinning.
		if time.Since(attempt) < 10*time.Millisecond {
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}
