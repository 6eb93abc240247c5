package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/settlehq/settle/provider"
)

// ImportFile describes one provider export being imported.
type ImportFile struct {
	File   string
	SHA256 string
	Format string // "" takes the format of the first record
}

// ImportStats says what an import did.
type ImportStats struct {
	ImportID      int64
	Records       int // records read, good and quarantined
	Added         int // new records stored
	Updated       int // records seen before whose fields changed (a newer export)
	Quarantined   int // bad rows kept aside (skip-invalid)
	AlreadyLoaded bool
}

// Quarantined is a bad row kept aside by an import with skip-invalid.
type Quarantined struct {
	Line    int
	Problem string
	Raw     string
}

// RecordSink receives the records of one import.
//
// Its Write stores the file's bytes, which the caller passes on in order
// from the first byte (io.TeeReader does it), once, in import_content. A
// record whose Raw is the file's bytes at its Offset then keeps only where
// they are; any other keeps its Raw itself, so a caller that does not pass
// the file on loses nothing.
type RecordSink interface {
	Add(r *provider.Record) error
	Quarantine(q Quarantined) error
	Write(p []byte) (int, error)
}

// Import stores the records that fn feeds to the sink, in one transaction:
// if fn returns an error nothing is stored. A file whose SHA-256 was imported
// before is skipped (ImportStats.AlreadyLoaded) without calling fn.
//
// Storing runs beside fn: the sink packs records into batches on fn's
// goroutine, another goroutine compresses the file's bytes, and a third
// writes both, so that reading a file and storing it take the time of the
// slowest of these rather than of all of them. Records are written in
// multi-row batches as they arrive; only a small hash per record id is
// held, to number repeats of one id within the file.
func (s *Store) Import(ctx context.Context, f ImportFile, fn func(RecordSink) error) (ImportStats, error) {
	var st ImportStats
	err := s.withWrite(ctx, func(q querier) error {
		st = ImportStats{}
		var prev int64
		err := q.QueryRowContext(ctx, `SELECT id FROM imports WHERE sha256 = ? LIMIT 1`, f.SHA256).Scan(&prev)
		if err == nil {
			st.ImportID, st.AlreadyLoaded = prev, true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := q.ExecContext(ctx, `INSERT INTO imports (file, sha256, format, imported_at) VALUES (?, ?, ?, ?)`,
			f.File, f.SHA256, f.Format, time.Now().UnixNano())
		if err != nil {
			return err
		}
		if st.ImportID, err = res.LastInsertId(); err != nil {
			return err
		}
		k := newSink(f, st.ImportID)
		w := &importWriter{ctx: ctx, stmts: map[string]*rawStmt{}, inserts: map[int]*rawStmt{}, updates: map[int]*rawStmt{}}
		if err := k.run(s, w, fn); err != nil {
			return err
		}
		st.Records, st.Quarantined = k.records+k.quarantined, k.quarantined
		st.Added, st.Updated = int(w.added), int(w.updated)
		_, err = q.ExecContext(ctx, `UPDATE imports SET format = ?, records = ?, added = ?, updated = ?, quarantined = ? WHERE id = ?`,
			k.format, st.Records, st.Added, st.Updated, st.Quarantined, st.ImportID)
		return err
	})
	return st, translate(err)
}
