package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// A new database is built beside its path (Options.BuildNew): in a file of
// its own, PATH.new, without a write-ahead log, and put at PATH when the
// store closes. A feed recorded into a new database (a first month, a
// history loaded at once) then writes its pages straight into the
// database file (SQLite journals no page beyond a file's original end),
// rather than to the log and again, at the close, from the log into the
// file: recording a million payments wrote 2.2 GB twice, the copy alone
// took 7–9 s, and the whole run took a tenth to a fifth longer
// (BENCHMARKS.md, fourteenth round). Without a log a crash
// could leave the file half-written, which is why it is not at PATH until
// it is whole: a run that is killed leaves no database at PATH, only a
// PATH.new that the next run building it starts again.

// buildSuffix names the file a new database is built in.
const buildSuffix = ".new"

// building is what a store that builds a new database needs to put it in
// place.
type building struct {
	path, staged string
	lock         *os.File // the staged file, locked while it is built (buildLock)
}

// errAppeared is openBuilding's answer when, after waiting for another
// process's build, the database is at its path: it is opened as it is.
var errAppeared = errors.New("the database appeared at its path")

// errNoBuildLock is openBuilding's answer when the file system cannot
// lock the staged file (flock(2) unsupported, as on some network file
// systems): the database is then created and written in place, as
// without BuildNew.
var errNoBuildLock = errors.New("the staged file cannot be locked")

// lockBuild is buildLock, replaced by a test.
var lockBuild = buildLock

// errBuilding is the cause of a LockTimeoutError while another process
// builds the database.
var errBuilding = errors.New("the database is being built")

// openBuilding creates the staged file of a new database at path, locked
// against another process building the same one, and opens a store on it.
// While another process builds it, it waits as a write waits for the write
// lock (Options.LockTimeout, OnLockWait), and then answers errAppeared.
func openBuilding(ctx context.Context, path string, o *Options) (*Store, error) {
	staged := path + buildSuffix
	f, err := lockStaged(ctx, path, staged, o)
	if err != nil {
		return nil, err
	}
	b := &building{path: path, staged: staged, lock: f}
	// A file left by a run that was stopped is started again, with
	// anything SQLite kept beside it.
	err = f.Truncate(0)
	for _, side := range []string{"-journal", "-wal", "-shm"} {
		if rerr := os.Remove(staged + side); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		err = fmt.Errorf("creating the database %s: %w", path, err)
	} else {
		err = initFileMode(staged, "MEMORY") // its errors name the file
	}
	var db *sql.DB
	if err == nil {
		db, err = sql.Open("sqlite3", dsn(staged, "MEMORY"))
	}
	if err != nil {
		b.abandon()
		return nil, err
	}
	s, err := NewWith(ctx, db, o)
	if err != nil {
		db.Close()
		b.abandon()
		return nil, fmt.Errorf("opening %s: %w", staged, err)
	}
	s.owned, s.build = true, b
	return s, nil
}

// lockStaged opens and locks the staged file. The file locked must still
// be the one at staged once the lock is held: a build that ends moves its
// file to path, and a process that opened it before, and waited for its
// lock, must not start it again there.
func lockStaged(ctx context.Context, path, staged string, o *Options) (*os.File, error) {
	start, told := time.Now(), false
	for {
		if _, err := os.Stat(path); err == nil {
			return nil, errAppeared
		}
		f, err := os.OpenFile(staged, os.O_RDWR|os.O_CREATE, o.mode())
		if err != nil {
			return nil, creating(path, err)
		}
		for {
			locked, err := lockBuild(f)
			if err != nil {
				// Not a lock held by another process: locks the file
				// system does not support. A staged file this process
				// just created, still empty, is not left behind.
				if fi, serr := f.Stat(); serr == nil && fi.Size() == 0 {
					os.Remove(staged)
				}
				f.Close()
				return nil, errNoBuildLock
			}
			if locked {
				break
			}
			timeout, waited := o.lockTimeout(), time.Since(start)
			if waited >= timeout {
				f.Close()
				return nil, fmt.Errorf("another process is building the database in %s: %w", staged,
					&LockTimeoutError{Path: path, Waited: waited, Err: errBuilding})
			}
			if !told && o.OnLockWait != nil {
				o.OnLockWait(LockWait{Path: path, Timeout: timeout})
				told = true
			}
			select {
			case <-ctx.Done():
				f.Close()
				return nil, ctx.Err()
			case <-time.After(min(50*time.Millisecond, timeout-waited)):
			}
		}
		held, herr := f.Stat()
		now, serr := os.Stat(staged)
		if herr == nil && serr == nil && os.SameFile(held, now) {
			return f, nil
		}
		f.Close() // the file waited for was moved to path: look again
	}
}

// writeBack has the kernel start writing to the disk what the build has
// written to the staged file so far, while the transaction goes on: before
// the indexes dropped for a first month are built again (restoreDropped),
// which takes a second or two of the processors and none of the disk. The
// commit's sync then finds most of the file written. Without it the kernel
// kept the pages in its cache (it starts on them when a tenth of the
// memory is dirty, 2.4 GB here, or after 30 s), and the sync wrote a
// month of a million payments, 1.3 GB, at the commit: 1.3–1.8 s with the
// processors idle, 0.3–1.5 s after the build had started them
// (BENCHMARKS.md, forty-second round). It runs on a goroutine of its own,
// as queueing that much blocks for about as long as the writes.
func (b *building) writeBack() {
	go writebackFile(b.lock)
}

// writebackFile is startWriteback, replaced by a test.
var writebackFile = startWriteback

// abandon removes the staged file of a build that could not begin.
func (b *building) abandon() {
	os.Remove(b.staged)
	b.lock.Close()
}

// finish ends the build as the store closes: a store that closed well
// (err nil) is put at its path; one that did not stays in the staged
// file, which is unlocked either way.
func (b *building) finish(err error) error {
	if err != nil {
		b.lock.Close()
		return err
	}
	return b.publish()
}

// publish puts the built database at its path, once the store's
// connections are closed: in WAL mode, as every database settle opens,
// synced, and moved to its path unless a database appeared there
// meanwhile, which it leaves alone (the built one stays where it is,
// and the error says where).
func (b *building) publish() error {
	defer b.lock.Close()
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(b.staged)+"?_busy_timeout=10000")
	if err != nil {
		return err
	}
	var mode string
	err = db.QueryRow("PRAGMA journal_mode = WAL").Scan(&mode)
	if err == nil && mode != "wal" {
		err = fmt.Errorf("the journal mode is %q", mode)
	}
	if err = errors.Join(err, db.Close()); err != nil {
		return fmt.Errorf("finishing the database built in %s: %w", b.staged, err)
	}
	if err := b.lock.Sync(); err != nil {
		return fmt.Errorf("finishing the database built in %s: %w", b.staged, err)
	}
	// A link fails if the path exists, where a rename would replace it.
	err = os.Link(b.staged, b.path)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("a database appeared at %s while this one was built: it was left as it is, and what was written here is in %s",
			b.path, b.staged)
	case err != nil:
		// A file system without hard links: rename, which could replace
		// a database created in this instant.
		if _, serr := os.Lstat(b.path); !errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("putting the database built in %s at %s: %w", b.staged, b.path, errors.Join(err, serr))
		}
		if err := os.Rename(b.staged, b.path); err != nil {
			return fmt.Errorf("putting the database built in %s at %s: %w", b.staged, b.path, err)
		}
	default:
		if err := os.Remove(b.staged); err != nil {
			return fmt.Errorf("putting the database built in %s at %s: %w", b.staged, b.path, err)
		}
	}
	return syncDir(filepath.Dir(b.path))
}

// syncDir makes a file's new name in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
