package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/mattn/go-sqlite3"
)

// An index a write transaction drops while it writes into an empty table,
// where keeping it up row by row costs more than building it from the
// rows: the index of pending settlements (duemem.go) and the entries' key
// index (entrykey.go). The transaction builds it again, sorted, before a
// statement that needs it and before it commits. A rollback restores it
// as it was; a savepoint rolled back undoes a drop or a build made inside
// it, so the transaction then looks again whether it is there
// (recheckDropped).

// droppedIndex is one such index.
type droppedIndex struct {
	name string
	// tried: the transaction looked whether it could drop it, which it
	// does once. create is the schema's statement that builds it, "" until
	// the transaction dropped it; gone, it is not there now.
	tried  bool
	create string
	gone   bool
}

// dropIndexFor drops the index name, kept in d, the first time it is
// called for d in the transaction, if the index is there and no read is
// open on the connection (a caller booking from inside an Each… callback:
// SQLite drops no index under it, and it is then kept up as before).
func (t *tx) dropIndexFor(ctx context.Context, d *droppedIndex, name string) error {
	if d.tried {
		return nil
	}
	d.name, d.tried = name, true
	create, err := t.indexSQL(ctx, d.name)
	if create == "" {
		return err
	}
	if _, err := t.q.ExecContext(ctx, dropIndex(d.name)); err != nil {
		var se sqlite3.Error
		if errors.As(err, &se) && se.Code == sqlite3.ErrLocked {
			return nil
		}
		return err
	}
	d.create, d.gone = create, true
	return nil
}

// indexSQL returns the statement that creates the index name, as the
// schema the transaction sees has it, or "" if there is no such index.
func (t *tx) indexSQL(ctx context.Context, name string) (string, error) {
	var create string
	err := t.queryRow(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`, name).Scan(&create)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return create, err
}

// restoreDropped builds again those of ds that are gone, in one pass of
// sorts on disk, as an import's indexes are (sorted in memory, the keys of
// a million payments' entries took 140 MB more). In a new database it has
// the kernel start writing what is written so far first (writeBack): the
// build takes the processors and not the disk.
func (t *tx) restoreDropped(ctx context.Context, ds ...*droppedIndex) error {
	var build []tableIndex
	for _, d := range ds {
		if d.gone {
			// Before the build: its own statements name the index's table.
			d.gone = false
			build = append(build, tableIndex{d.name, d.create})
		}
	}
	if len(build) > 0 && t.s.build != nil {
		t.s.build.writeBack()
	}
	return rebuildIndexes(ctx, t.q, build)
}

// recheckDropped learns again whether the indexes the transaction dropped
// are there, after a savepoint was rolled back.
func (t *tx) recheckDropped(ctx context.Context, ds ...*droppedIndex) error {
	for _, d := range ds {
		if d.create == "" {
			continue // never dropped in this transaction
		}
		create, err := t.indexSQL(ctx, d.name)
		if err != nil {
			return err
		}
		d.gone = create == ""
	}
	return nil
}
