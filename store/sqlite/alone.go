package sqlite

import (
	"context"
	"errors"
)

// An import of a million provider records adds some 400 MB of pages. In WAL
// mode they go into the write-ahead log, and a checkpoint copies them into
// the database file again: at the close of a one-off settle import that
// second copy, with its syncs, was a fifth of the run (BENCHMARKS.md,
// seventeenth and eighteenth rounds). A rollback journal keeps the original
// of each page a transaction changes, and none of a page beyond the file's
// original end, where the pages of a growing table and its indexes go: the
// import's pages are written once, into the database file.
//
// Leaving WAL mode takes the database from every other connection. SQLite
// refuses at once (SQLITE_BUSY) while another connection has the database
// open, so the store tries only when asked (Options.ExclusiveImport) and
// otherwise imports in WAL mode as always. The import's transaction begins
// EXCLUSIVE, so that a process opening the database meanwhile waits for the
// lock without holding one of its own (which would leave the two waiting
// for each other), and the journal is synced as in synchronous FULL, since
// a rollback journal under NORMAL may not survive a power loss. When the
// transaction ends the store returns to WAL mode; a crash before that
// leaves a hot journal, which the next connection rolls back, and that
// connection's DSN puts the database back in WAL mode.

// defaultMaxIdleConns is database/sql's idle pool size, which a pool opened
// by OpenWith keeps.
const defaultMaxIdleConns = 2

// withWriteAlone is withWrite for an import, a write that may have the
// database to itself: in a rollback journal, begun EXCLUSIVE, when
// takeAlone can switch to one, else as withWrite. The indexes an import
// builds are sorted on temporary files on disk (rebuildIndexes).
func (s *Store) withWriteAlone(ctx context.Context, fn func(q querier) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	alone := s.takeAlone(ctx)
	if alone {
		defer s.giveBack()
	}
	return s.inWrite(ctx, alone, fn)
}

// takeAlone switches the writer's connection from WAL mode to a rollback
// journal, if the store may (Options.ExclusiveImport) and no other
// connection has the database open, and reports whether it did. Callers
// hold s.mu, and call giveBack after the transaction when it did
// (withWriteAlone).
func (s *Store) takeAlone(ctx context.Context) bool {
	if !s.opts.ExclusiveImport || s.ckpt == nil {
		return false // not in WAL mode: in memory, or a database being built
	}
	if s.owned {
		// The pool's idle readers hold the database open too.
		s.db.SetMaxIdleConns(0)
		s.db.SetMaxIdleConns(defaultMaxIdleConns)
	}
	var mode string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA journal_mode = DELETE").Scan(&mode); err != nil || mode != "delete" {
		return false
	}
	if _, err := s.writer.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		s.giveBack()
		return false
	}
	return true
}

// giveBack returns the database to WAL mode after takeAlone. Should that
// fail (another process opened the database as the transaction ended, and
// holds it), the database is still whole, and the next connection to open
// it, the other process's, puts it in WAL mode.
func (s *Store) giveBack() {
	ctx := context.Background() // also when the import's context has ended
	_, err := s.writer.ExecContext(ctx, "PRAGMA synchronous = NORMAL")
	var mode string
	err = errors.Join(err, s.writer.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode))
	if (err != nil || mode != "wal") && s.opts.Logger != nil {
		s.opts.Logger.Info("sqlite: the database stays out of WAL mode until the next connection opens it", "db", s.path, "mode", mode, "err", err)
	}
}
