package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

var _ provider.Store = (*Store)(nil)

// stageCols are the columns of an import's staging table, in COPY order:
// a record's fields, numbered occurrence, and seq, its place in the file.
var stageCols = []string{"seq", "provider", "grain", "record_id", "occurrence", "type", "reporting_category",
	"source_ref", "payment_ref", "currency", "amount", "fee", "net", "captured", "refunded", "disputed", "status",
	"created", "available_on", "payout_id", "description", "test", "presentment_amount", "presentment_currency",
	"exchange_rate", "line", "raw_offset", "raw", "file", "format"}

// mutableCols are the fields a newer export of the same record may change;
// placeCols say where it was read from, and follow the export that changed
// it (as in the SQLite store).
var (
	mutableCols = []string{"type", "reporting_category", "source_ref", "payment_ref", "currency", "amount", "fee", "net",
		"captured", "refunded", "disputed", "status", "available_on", "payout_id", "description", "test",
		"presentment_amount", "presentment_currency", "exchange_rate"}
	placeCols = []string{"line", "raw_offset", "raw", "file", "format"}
)

// stageTable receives an import's records by COPY; it is dropped at
// commit. Temporary tables are not written to the WAL.
const stageTable = `CREATE TEMPORARY TABLE settle_import_stage (
	seq BIGINT NOT NULL, provider TEXT COLLATE "C" NOT NULL, grain TEXT COLLATE "C" NOT NULL,
	record_id TEXT COLLATE "C" NOT NULL, occurrence INTEGER NOT NULL, type TEXT COLLATE "C" NOT NULL,
	reporting_category TEXT COLLATE "C" NOT NULL, source_ref TEXT COLLATE "C" NOT NULL, payment_ref TEXT COLLATE "C" NOT NULL,
	currency TEXT COLLATE "C" NOT NULL, amount BIGINT NOT NULL, fee BIGINT NOT NULL, net BIGINT NOT NULL,
	captured BIGINT NOT NULL, refunded BIGINT NOT NULL, disputed BIGINT NOT NULL, status TEXT COLLATE "C" NOT NULL,
	created BIGINT NOT NULL, available_on BIGINT NOT NULL, payout_id TEXT COLLATE "C" NOT NULL,
	description TEXT COLLATE "C" NOT NULL, test BOOLEAN NOT NULL, presentment_amount BIGINT NOT NULL,
	presentment_currency TEXT COLLATE "C" NOT NULL, exchange_rate TEXT COLLATE "C" NOT NULL, line INTEGER NOT NULL,
	raw_offset BIGINT NOT NULL, raw TEXT COLLATE "C" NOT NULL, file TEXT COLLATE "C", format TEXT COLLATE "C"
) ON COMMIT DROP`

// Import stores the records that fn feeds to the sink, in one transaction:
// if fn returns an error nothing is stored. A file whose SHA-256 was
// imported before is skipped (provider.ImportStats.AlreadyLoaded) without
// calling fn; a concurrent import of the same file waits for the first to
// commit, then skips.
//
// From the first record on, the import holds the record_order row, so
// that record ids grow in commit order; concurrent imports of other files
// wait for it. Records stream through binary COPY while fn reads the file:
// straight into provider_records while they belong to a provider and grain
// with no stored records (a first import, such as a backfill, cannot meet
// stored records), else into a temporary table, from which they are then
// inserted (new ids, in file order) or update the records an earlier,
// overlapping export stored (see sink). The transaction commits right
// after.
func (s *Store) Import(ctx context.Context, f provider.ImportFile, fn func(provider.Sink) error) (provider.ImportStats, error) {
	var st provider.ImportStats
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL READ COMMITTED"); err != nil {
			return err
		}
		err := s.importTx(ctx, c, f, fn, &st)
		if err == nil && !st.AlreadyLoaded {
			var tag interface{ String() string }
			if tag, err = c.Exec(ctx, "COMMIT"); err == nil && tag.String() == "ROLLBACK" {
				err = errCommitRolledBack
			}
			if err == nil && st.Added >= analyzeAfter {
				// The records are stored; statistics are an optimisation,
				// and a failure to gather them is not the import's.
				_, _ = c.Exec(ctx, s.sql(`ANALYZE {schema}.provider_records, {schema}.imports`))
			}
			return err
		}
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = c.Exec(rctx, "ROLLBACK")
		return err
	})
	if err != nil {
		return provider.ImportStats{}, translate(err)
	}
	return st, nil
}

// analyzeAfter is how many records an import adds before the store
// gathers the tables' statistics itself, right after the commit, rather
// than leave it to autovacuum's next round: the nightly job reconciles at
// once, and without statistics PostgreSQL planned the reconciliation's read
// of a first import's 107,613 records as a nested loop over the imports
// table, 851 ms instead of 299 ms (BENCHMARKS.md, sixteenth round). ANALYZE
// samples at most 30,000 rows a table, whatever its size.
const analyzeAfter = 10000

func (s *Store) importTx(ctx context.Context, c *pgx.Conn, f provider.ImportFile, fn func(provider.Sink) error, st *provider.ImportStats) error {
	err := c.QueryRow(ctx, s.sql(`INSERT INTO {schema}.imports (file, sha256, format, imported_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sha256) DO NOTHING RETURNING id`), f.File, f.SHA256, f.Format, s.now().UnixNano()).Scan(&st.ImportID)
	if errors.Is(err, pgx.ErrNoRows) {
		st.AlreadyLoaded = true
		return c.QueryRow(ctx, s.sql(`SELECT id FROM {schema}.imports WHERE sha256 = $1`), f.SHA256).Scan(&st.ImportID)
	}
	if err != nil {
		return err
	}
	k := &sink{s: s, ctx: ctx, c: c, file: f.File, format: f.Format, importID: st.ImportID, empty: map[pairKey]bool{}}
	k.h.SetSeed(maphash.MakeSeed())
	k.seen = map[uint64]int32{}
	err = fn(k)
	if err == nil {
		err = k.endCopy()
	} else {
		k.abortCopy(err)
	}
	if err != nil {
		return err
	}
	st.Added = k.direct
	if k.staged > 0 {
		// Ids are drawn under the record_order lock (taken at the first
		// record) and committed right after: a block of as many ids as
		// staged records, the record at place seq taking the block's
		// seq-th, so that ids follow the file without sorting the staged
		// rows. Only imports insert records, all under this lock, so no
		// other id is drawn meanwhile. A record already stored leaves its
		// id unused, as a failed insert leaves a sequence value.
		var last int64
		if err := c.QueryRow(ctx, s.sql(`SELECT setval('{schema}.provider_records_id_seq', nextval('{schema}.provider_records_id_seq') + $1 - 1)`),
			k.staged).Scan(&last); err != nil {
			return err
		}
		cols := strings.Join(stageCols[1:], ", ")
		tag, err := c.Exec(ctx, s.sql(`INSERT INTO {schema}.provider_records (id, import_id, `+cols+`)
			SELECT $2::bigint + seq, $1, `+cols+` FROM settle_import_stage
			ON CONFLICT (provider, grain, record_id, occurrence) DO NOTHING`), st.ImportID, last-int64(k.staged))
		if err != nil {
			return err
		}
		added := int(tag.RowsAffected())
		st.Added += added
		if added < k.staged {
			var set, differ []string
			for _, col := range mutableCols {
				set = append(set, col+" = v."+col)
				differ = append(differ, "r."+col+" IS DISTINCT FROM v."+col)
			}
			for _, col := range placeCols {
				set = append(set, col+" = v."+col)
			}
			tag, err := c.Exec(ctx, s.sql(`UPDATE {schema}.provider_records AS r SET import_id = $1, `+strings.Join(set, ", ")+`
				FROM settle_import_stage v WHERE r.provider = v.provider AND r.grain = v.grain AND r.record_id = v.record_id
				AND r.occurrence = v.occurrence AND r.import_id <> $1 AND (`+strings.Join(differ, " OR ")+`)`), st.ImportID)
			if err != nil {
				return err
			}
			st.Updated = int(tag.RowsAffected())
		}
	}
	if len(k.quarantine) > 0 {
		if _, err := c.CopyFrom(ctx, pgx.Identifier{s.schema, "quarantine"}, []string{"import_id", "file", "line", "problem", "raw"},
			pgx.CopyFromRows(k.quarantine)); err != nil {
			return err
		}
	}
	st.Records, st.Quarantined = k.records+len(k.quarantine), len(k.quarantine)
	_, err = c.Exec(ctx, s.sql(`UPDATE {schema}.imports SET format = $2, records = $3, added = $4, updated = $5, quarantined = $6
		WHERE id = $1`), st.ImportID, k.format, st.Records, st.Added, st.Updated, st.Quarantined)
	return err
}

// sink is the provider.Sink of one import: it numbers repeats of record
// ids, encodes records as binary COPY rows and hands them in chunks to a
// COPY running beside fn.
//
// At the first record it takes the record_order lock (see Import) and
// looks whether the record's provider and grain have stored records. If
// not, no record of theirs in this file can meet a stored one (within the
// file, repeats are numbered apart; other imports wait for the lock), so
// the records are copied straight into provider_records, their ids drawn
// in file order as COPY inserts them: the file's parsing and the server's
// inserting overlap, and there is no second pass. A record of another
// provider or grain ends that COPY and is looked up the same way; once one
// might meet a stored record, it and every later record go to the staging
// table, for Import's INSERT … ON CONFLICT and UPDATE.
type sink struct {
	s            *Store
	ctx          context.Context
	c            *pgx.Conn
	file, format string
	importID     int64

	h    maphash.Hash
	seen map[uint64]int32 // occurrences so far, by hash of provider|grain|id

	mode       copyMode
	empty      map[pairKey]bool // providers and grains without stored records, copied straight
	cur        *copyRows        // the chunk being encoded
	records    int              // records added
	direct     int              // of which copied straight into provider_records
	staged     int              // of which staged
	quarantine [][]any

	chunks  chan []byte   // to COPY
	done    chan struct{} // closed when COPY ends
	copyErr error         // why COPY ended; read after done is closed
	failed  error         // why fn failed; COPY is aborted with it
}

type copyMode int

const (
	copyNone   copyMode = iota // no COPY running
	copyDirect                 // into provider_records
	copyStage                  // into the staging table, for good
)

type pairKey struct{ provider, grain string }

// directCols are the columns of a COPY straight into provider_records: as
// stageCols, with the import's id where staging has the place in the file.
var directCols = append([]string{"import_id"}, stageCols[1:]...)

// copyChunk is about how many bytes of rows the sink hands to COPY at a
// time.
const copyChunk = 256 << 10

// target starts the COPY that r goes to, if the one running (if any) is
// not it.
func (k *sink) target(r *provider.Record) error {
	pair := pairKey{r.Provider, string(r.Grain)}
	if k.mode == copyStage || (k.mode == copyDirect && k.empty[pair]) {
		return nil
	}
	ctx, c, s := k.ctx, k.c, k.s
	if k.mode == copyNone && k.records == 0 {
		if _, err := c.Exec(ctx, s.sql(`SELECT 1 FROM {schema}.settings WHERE name = 'record_order' FOR UPDATE`)); err != nil {
			return err
		}
	}
	if err := k.endCopy(); err != nil {
		return err
	}
	var stored bool
	if err := c.QueryRow(ctx, s.sql(`SELECT EXISTS (SELECT 1 FROM {schema}.provider_records WHERE provider = $1 AND grain = $2)`),
		pair.provider, pair.grain).Scan(&stored); err != nil {
		return err
	}
	if !stored {
		k.empty[pair] = true
		k.startCopy(copyDirect, copyStatement(s.quoted+".provider_records", directCols))
		return nil
	}
	if _, err := c.Exec(ctx, stageTable); err != nil {
		return err
	}
	k.startCopy(copyStage, copyStatement("settle_import_stage", stageCols))
	return nil
}

func (k *sink) startCopy(mode copyMode, stmt string) {
	k.mode, k.copyErr, k.failed = mode, nil, nil
	k.cur = newCopyRows(copyChunk + copyChunk/4)
	k.chunks, k.done = make(chan []byte, 4), make(chan struct{})
	chunks, done := k.chunks, k.done
	go func() {
		defer close(done)
		_, err := k.c.PgConn().CopyFrom(k.ctx, &chunkReader{chunks: chunks, abort: func() error { return k.failed }}, stmt)
		k.copyErr = err
	}()
}

// endCopy ends the running COPY, if any, and reports how it went.
func (k *sink) endCopy() error {
	if k.mode == copyNone || k.done == nil {
		return nil
	}
	k.cur.trailer()
	err := k.flush()
	close(k.chunks)
	<-k.done
	k.done = nil
	if k.mode == copyDirect {
		k.mode = copyNone
	}
	if err == nil && k.copyErr != nil {
		err = fmt.Errorf("storing provider records: %w", k.copyErr)
	}
	return err
}

// abortCopy fails the running COPY, if any, with fn's error.
func (k *sink) abortCopy(err error) {
	if k.done == nil {
		return
	}
	k.failed = err
	close(k.chunks)
	<-k.done
	k.done = nil
}

func (k *sink) Add(r *provider.Record) error {
	created, err := storeTS("created", r.Created)
	if err == nil {
		_, err = storeTS("available_on", r.AvailableOn)
	}
	if err != nil {
		return fmt.Errorf("%s:%d: %w", r.File, r.Line, err)
	}
	if err := k.target(r); err != nil {
		return err
	}
	if k.format == "" {
		k.format = r.Format
	}
	k.h.Reset()
	k.h.WriteString(r.Provider)
	k.h.WriteByte(0)
	k.h.WriteString(string(r.Grain))
	k.h.WriteByte(0)
	k.h.WriteString(r.ID)
	h := k.h.Sum64()
	k.seen[h]++
	k.records++
	c := k.cur
	c.row(len(stageCols))
	if k.mode == copyDirect {
		k.direct++
		c.int64(k.importID)
	} else {
		k.staged++
		c.int64(int64(k.staged))
	}
	c.text(r.Provider)
	c.text(string(r.Grain))
	c.text(r.ID)
	c.int32(k.seen[h])
	c.text(r.Type)
	c.text(r.ReportingCategory)
	c.text(r.SourceRef)
	c.text(r.PaymentRef)
	c.text(r.Currency)
	c.int64(r.Amount)
	c.int64(r.Fee)
	c.int64(r.Net)
	c.int64(r.Captured)
	c.int64(r.Refunded)
	c.int64(r.Disputed)
	c.text(r.Status)
	c.int64(created)
	c.int64(ts(r.AvailableOn))
	c.text(r.PayoutID)
	c.text(r.Description)
	c.bool(r.Test)
	c.int64(r.PresentmentAmount)
	c.text(r.PresentmentCurrency)
	c.text(r.ExchangeRate)
	c.int32(int32(r.Line))
	c.int64(r.Offset)
	c.text(r.Raw)
	c.textOrNull(r.File, r.File == "" || r.File == k.file)
	c.textOrNull(r.Format, r.Format == k.format)
	if len(c.b) >= copyChunk {
		return k.flush()
	}
	return nil
}

// flush hands the current chunk to COPY.
func (k *sink) flush() error {
	if len(k.cur.b) == 0 {
		return nil
	}
	select {
	case k.chunks <- k.cur.b:
		k.cur = &copyRows{b: make([]byte, 0, copyChunk+copyChunk/4)}
		return nil
	case <-k.done:
		return fmt.Errorf("storing provider records: %w", k.copyErr)
	}
}

func (k *sink) Quarantine(q provider.Quarantined) error {
	k.quarantine = append(k.quarantine, []any{k.importID, k.file, int32(q.Line), q.Problem, q.Raw})
	return nil
}

// Write receives the file's bytes. Every record keeps its raw row itself,
// so the store does not keep the file.
func (k *sink) Write(p []byte) (int, error) { return len(p), nil }

// EachRecord streams stored provider records ordered by created, then id,
// in one query whose rows pgx reads as they come.
func (s *Store) EachRecord(ctx context.Context, f provider.RecordFilter, fn func(*provider.Record) error) error {
	where := "TRUE"
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.ImportID != 0 {
		where += " AND r.import_id = " + arg(f.ImportID)
	}
	if f.Provider != "" {
		where += " AND r.provider = " + arg(f.Provider)
	}
	if f.RecordID != "" {
		where += " AND r.record_id = " + arg(f.RecordID)
	}
	if f.Grain != "" {
		where += " AND r.grain = " + arg(string(f.Grain))
	}
	if !f.From.IsZero() {
		where += " AND r.created >= " + arg(ts(f.From))
	}
	if !f.To.IsZero() {
		where += " AND r.created < " + arg(ts(f.To))
	}
	raw := "r.raw"
	if f.NoRaw {
		raw = "''"
	}
	q := s.sql(`SELECT r.provider, r.grain, r.record_id, COALESCE(r.format, i.format), r.type,
		r.reporting_category, r.source_ref, r.payment_ref, r.currency, r.amount, r.fee, r.net, r.captured, r.refunded,
		r.disputed, r.status, r.created, r.available_on, r.payout_id, r.description, r.test, r.presentment_amount,
		r.presentment_currency, r.exchange_rate, COALESCE(r.file, i.file), r.line, r.raw_offset, ` + raw + `
		FROM {schema}.provider_records r JOIN {schema}.imports i ON i.id = r.import_id
		WHERE ` + where + ` ORDER BY r.created, r.id`)
	// Read with pgx itself rather than through database/sql: its rows scan
	// each column's binary value straight into the record's field, with a
	// plan made once for the query, and fn's record is reused.
	return translate(s.withPgx(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var r provider.Record
		var grain string
		var created, avail int64
		dest := []any{&r.Provider, &grain, &r.ID, &r.Format, &r.Type, &r.ReportingCategory, &r.SourceRef,
			&r.PaymentRef, &r.Currency, &r.Amount, &r.Fee, &r.Net, &r.Captured, &r.Refunded, &r.Disputed, &r.Status,
			&created, &avail, &r.PayoutID, &r.Description, &r.Test, &r.PresentmentAmount, &r.PresentmentCurrency,
			&r.ExchangeRate, &r.File, &r.Line, &r.Offset, &r.Raw}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			r.Grain, r.Created, r.AvailableOn = provider.Grain(grain), fromTS(created), fromTS(avail)
			rec := r
			if err := fn(&rec); err != nil {
				return err
			}
		}
		return rows.Err()
	}))
}

// withPgx runs fn on one of the store's connections, as pgx's own.
func (s *Store) withPgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) })
}

// Record returns the first stored occurrence of a provider record.
func (s *Store) Record(ctx context.Context, prov string, grain provider.Grain, id string) (*provider.Record, error) {
	var found *provider.Record
	err := s.EachRecord(ctx, provider.RecordFilter{Provider: prov, Grain: grain, RecordID: id}, func(r *provider.Record) error {
		if found == nil {
			found = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("provider record %s %s: %w", prov, id, ledger.ErrNotFound)
	}
	return found, nil
}

// RecordGrains lists the (provider, grain) pairs that have stored records,
// each found by a seek or two in provider_records_created, as the SQLite
// store does: the provider's next grain, else the next provider's first. A
// DISTINCT reads every record, and the workbench asks on every page.
func (s *Store) RecordGrains(ctx context.Context) ([][2]string, error) {
	var out [][2]string
	var pg [2]string
	for {
		err := s.db.QueryRowContext(ctx, s.sql(`SELECT provider, grain FROM {schema}.provider_records
			WHERE provider = $1 AND grain > $2 ORDER BY grain LIMIT 1`), pg[0], pg[1]).Scan(&pg[0], &pg[1])
		if errors.Is(err, sql.ErrNoRows) {
			err = s.db.QueryRowContext(ctx, s.sql(`SELECT provider, grain FROM {schema}.provider_records
				WHERE provider > $1 ORDER BY provider, grain LIMIT 1`), pg[0]).Scan(&pg[0], &pg[1])
		}
		if errors.Is(err, sql.ErrNoRows) {
			return out, nil
		}
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, pg)
	}
}

// RecordsSince describes the records of a provider and grain stored after
// afterID. Ids are drawn in commit order (see Import), so no record can
// later appear below an id already seen. Records updated in place by a
// later export keep their id and are not counted again.
func (s *Store) RecordsSince(ctx context.Context, prov string, grain provider.Grain, afterID int64) (provider.RecordsAfter, error) {
	var r provider.RecordsAfter
	var minC, maxC, maxID sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.sql(`SELECT COUNT(*), MIN(created), MAX(created), MAX(id) FROM {schema}.provider_records
		WHERE provider = $1 AND grain = $2 AND id > $3`), prov, string(grain), afterID).Scan(&r.Count, &minC, &maxC, &maxID)
	if err != nil {
		return r, translate(err)
	}
	if r.Count > 0 {
		r.MinCreated, r.MaxCreated, r.MaxID = fromTS(minC.Int64), fromTS(maxC.Int64), maxID.Int64
	}
	return r, nil
}

// RecordSpan returns the earliest and the latest created of a provider's
// and grain's records, each by a seek of provider_records_created.
func (s *Store) RecordSpan(ctx context.Context, prov string, grain provider.Grain) (first, last time.Time, err error) {
	var a, b sql.NullInt64
	err = s.db.QueryRowContext(ctx, s.sql(`SELECT (SELECT MIN(created) FROM {schema}.provider_records WHERE provider = $1 AND grain = $2),
		(SELECT MAX(created) FROM {schema}.provider_records WHERE provider = $1 AND grain = $2)`), prov, string(grain)).Scan(&a, &b)
	return fromTS(a.Int64), fromTS(b.Int64), translate(err)
}
