package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

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
// The first import into a database fills the records' table before it
// builds the table's indexes (dropIndexesIfEmpty). With
// Options.ExclusiveImport, and no other connection to the database, the
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
		dropped, kept, err := dropIndexesIfEmpty(ctx, q)
		if err != nil {
			return err
		}
		k := newSink(f, st.ImportID, len(kept) > 0)
		w := &importWriter{ctx: ctx, stmts: map[string]*rawStmt{}, inserts: map[int]*rawStmt{}, updates: map[int]*rawStmt{},
			intoEmpty: dropped != nil, ordered: kept}
		if err := k.run(s, w, fn); err != nil {
			return err
		}
		// Built in the order of their names, as all of them were before
		// the created index could be kept.
		dropped = append(dropped, w.dropped...)
		slices.SortFunc(dropped, func(a, b tableIndex) int { return strings.Compare(a.name, b.name) })
		if err := rebuildIndexes(ctx, q, dropped); err != nil {
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

// tableIndex is an index that a bulk write drops and builds again after
// its rows (an import's of provider_records, a reconciliation's of open
// exceptions): its name and the statement that creates it.
type tableIndex struct{ name, create string }

// inOrderIndexes are the indexes of provider_records whose keys a file read
// in time order fills in order: a provider's export lists its rows by the
// time they were created, so each key of provider_records_created goes at
// the end of the index, where adding it is cheap.
var inOrderIndexes = map[string]bool{"provider_records_created": true}

// appendedIndexes are the indexes of provider_records an import fills at
// their end whatever the order of its file: the keys of
// provider_records_import are the import's id, the largest, then the row
// id, which grows. dropIndexesIfEmpty leaves them alone.
var appendedIndexes = map[string]bool{"provider_records_import": true}

// dropIndexesIfEmpty drops the indexes of provider_records when the table
// is empty (the first import into a database, such as a history loaded at
// once), except those of inOrderIndexes and appendedIndexes, and returns the ones it dropped
// and the ones it kept; it returns nil for both and leaves the indexes as
// they are when the table has rows. The caller's transaction restores the
// dropped ones either way: rebuildIndexes before it commits, or its
// rollback.
//
// Building an index from a table already filled sorts its keys once and
// writes its pages in order, where inserting row by row puts each key at a
// random place in a tree larger than the cache (record ids are random): for
// 1,075,271 rows SQLite took 3.7 s to insert them and then build both
// indexes, and 4.7–5.0 s to insert them with the indexes in place
// (BENCHMARKS.md, twenty-first round). Records of one import never share a
// key (repeats of an id are numbered), so none of them is refused by the
// unique index the insert no longer checks; rebuildIndexes would say so,
// and the import would be rolled back, were one to.
//
// An index whose keys arrive in order is the exception: kept in place, it
// grows at its end as the records are inserted, which took less than
// reading the whole table back to build it (BENCHMARKS.md, twenty-fifth
// round). Should the records come out of order after all, the writer drops
// it then (importWriter.dropOrdered) and it is built at the end with the
// others.
func dropIndexesIfEmpty(ctx context.Context, q querier) (dropped, kept []tableIndex, err error) {
	var some bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM provider_records)`).Scan(&some); err != nil || some {
		return nil, nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema
		WHERE type = 'index' AND tbl_name = 'provider_records' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		return nil, nil, err
	}
	var all []tableIndex
	for rows.Next() {
		var ix tableIndex
		if err := rows.Scan(&ix.name, &ix.create); err != nil {
			rows.Close()
			return nil, nil, err
		}
		all = append(all, ix)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, nil, err
	}
	for _, ix := range all {
		if appendedIndexes[ix.name] {
			continue
		}
		if inOrderIndexes[ix.name] {
			kept = append(kept, ix)
			continue
		}
		if _, err := q.ExecContext(ctx, dropIndex(ix.name)); err != nil {
			return nil, nil, err
		}
		dropped = append(dropped, ix)
	}
	return dropped, kept, nil
}

func dropIndex(name string) string { return `DROP INDEX "` + name + `"` }

// rebuildIndexes builds the indexes a bulk write dropped, on the writer's
// connection, in the write's transaction: an import's (withWriteAlone), or
// a reconciliation's that opens or closes exceptions by the ten thousand
// (dropOpenFingerprints).
//
// SQLite sorts an index's keys in runs of at most the page cache's size,
// each written to a temporary file, and then merges the runs (with
// temporary files in memory, as the writer usually keeps them, it sorts all
// the keys in one run, without helper threads: the million fingerprints of
// a reconciliation's exceptions took 2.66 s and 130 MB so, against 1.21 s
// and 29 MB on disk, BENCHMARKS.md, thirty-sixth round; so the files go to
// disk while the indexes are built). A run of the writer's whole cache is far larger than
// the processor's caches, so the indexes are built with runs of
// sortCacheKiB, sorted on sortThreads helper threads beside the
// connection's own: the two indexes of 1,075,271 records took 1.6–1.8 s to
// build so, against 2.5–2.7 s in one run in memory (BENCHMARKS.md,
// twenty-first round). The runs take a little more of the temporary
// directory (SQLITE_TMPDIR, TMPDIR or /var/tmp) than the index does of the
// database, while it is built: 72 MiB at most for that import. The
// writer's cache and threads are set back afterwards.
func rebuildIndexes(ctx context.Context, q querier, indexes []tableIndex) (err error) {
	if len(indexes) == 0 {
		return nil
	}
	var cache, threads, temp int64
	if err := q.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
		return err
	}
	if err := q.QueryRowContext(ctx, "PRAGMA threads").Scan(&threads); err != nil {
		return err
	}
	if err := q.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&temp); err != nil {
		return err
	}
	// Temporary files on disk for the sort, unless they are there already
	// or SQLite refuses: it does inside a transaction once the connection
	// has a temporary database, which only a migration makes, and the
	// store closes after migrating (migrate). A statement's journal is
	// opened as the statement begins, so the writer's later statements
	// journal in memory again once this is set back.
	moved := false
	if temp != tempStoreFile {
		_, err := q.ExecContext(ctx, "PRAGMA temp_store = FILE")
		moved = err == nil
	}
	defer func() {
		_, cerr := q.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", cache))
		_, terr := q.ExecContext(ctx, fmt.Sprintf("PRAGMA threads = %d", threads))
		var serr error
		if moved {
			_, serr = q.ExecContext(ctx, fmt.Sprintf("PRAGMA temp_store = %d", temp))
		}
		err = errors.Join(err, cerr, terr, serr)
	}()
	if _, err := q.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -sortCacheKiB)); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, fmt.Sprintf("PRAGMA threads = %d", sortThreads())); err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := q.ExecContext(ctx, ix.create); err != nil {
			return fmt.Errorf("building the index %s again: %w", ix.name, err)
		}
	}
	return nil
}

// tempStoreFile is PRAGMA temp_store's value for temporary files on disk.
const tempStoreFile = 1

// sortCacheKiB is the writer's page cache, and so the size of a sorted
// run, while rebuildIndexes builds the indexes: 8 MiB sorted as fast as 4
// and faster than 16.
const sortCacheKiB = 8 << 10

// sortThreads is how many helper threads SQLite may sort runs on: one
// fewer than the processors, up to three.
func sortThreads() int {
	return min(max(runtime.NumCPU()-1, 0), 3)
}
