package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/settlehq/settle/provider"
)

// Import stores the records that fn feeds to the sink, in one transaction:
// if fn returns an error nothing is stored. A file whose SHA-256 was imported
// before is skipped (provider.ImportStats.AlreadyLoaded) without calling fn.
//
// Storing runs beside fn: the sink packs records into batches on fn's
// goroutine, another goroutine compresses the file's bytes, and a third
// writes both, so that reading a file and storing it take the time of the
// slowest of these rather than of all of them. Records are written in
// multi-row batches as they arrive; only a small hash per record id is
// held, to number repeats of one id within the file.
//
// With Options.ExclusiveImport, and no other connection to the database, the
// import has the database to itself (alone.go).
func (s *Store) Import(ctx context.Context, f provider.ImportFile, fn func(provider.Sink) error) (provider.ImportStats, error) {
	var st provider.ImportStats
	err := s.withWriteAlone(ctx, func(q querier) error {
		st = provider.ImportStats{}
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
			f.File, f.SHA256, f.Format, s.now().UnixNano())
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
