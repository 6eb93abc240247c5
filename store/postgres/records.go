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

// copyBatch is how many records the sink hands to COPY at a time.
const copyBatch = 2000

// Import stores the records that fn feeds to the sink, in one transaction:
// if fn returns an error nothing is stored. A file whose SHA-256 was
// imported before is skipped (provider.ImportStats.AlreadyLoaded) without
// calling fn; a concurrent import of the same file waits for the first to
// commit, then skips.
//
// Records stream through COPY into a temporary table while fn reads the
// file; then, holding the record_order row, they are inserted into
// provider_records (new ids, in file order) or update the records an
// earlier, overlapping export stored, and the transaction commits.
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
	if _, err := c.Exec(ctx, stageTable); err != nil {
		return err
	}
	k := &sink{file: f.File, format: f.Format, importID: st.ImportID, rows: make(chan [][]any, 4), done: make(chan struct{})}
	k.h.SetSeed(maphash.MakeSeed())
	k.seen = map[uint64]int32{}
	go func() {
		defer close(k.done)
		_, k.copyErr = c.CopyFrom(ctx, pgx.Identifier{"settle_import_stage"}, stageCols, &copySource{k: k})
	}()
	err = fn(k)
	if err == nil {
		err = k.flush()
	}
	if err != nil {
		k.failed = err
	}
	close(k.rows)
	<-k.done
	if err != nil {
		return err
	}
	if k.copyErr != nil {
		return fmt.Errorf("storing provider records: %w", k.copyErr)
	}
	// Ids are drawn under the record_order lock and committed right after.
	if _, err := c.Exec(ctx, s.sql(`SELECT 1 FROM {schema}.settings WHERE name = 'record_order' FOR UPDATE`)); err != nil {
		return err
	}
	cols := strings.Join(stageCols[1:], ", ")
	tag, err := c.Exec(ctx, s.sql(`INSERT INTO {schema}.provider_records (import_id, `+cols+`)
		SELECT $1, `+cols+` FROM settle_import_stage ORDER BY seq
		ON CONFLICT (provider, grain, record_id, occurrence) DO NOTHING`), st.ImportID)
	if err != nil {
		return err
	}
	st.Added = int(tag.RowsAffected())
	if st.Added < k.records {
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
// ids and hands records in batches to the COPY running beside fn.
type sink struct {
	file, format string
	importID     int64

	h    maphash.Hash
	seen map[uint64]int32 // occurrences so far, by hash of provider|grain|id

	cur        [][]any
	records    int
	quarantine [][]any

	rows    chan [][]any  // to COPY
	done    chan struct{} // closed when COPY ends
	copyErr error         // why COPY ended; read after done is closed
	failed  error         // why fn failed; COPY is aborted with it
}

func (k *sink) Add(r *provider.Record) error {
	created, err := storeTS("created", r.Created)
	if err == nil {
		_, err = storeTS("available_on", r.AvailableOn)
	}
	if err != nil {
		return fmt.Errorf("%s:%d: %w", r.File, r.Line, err)
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
	var file, format any
	if r.File != "" && r.File != k.file {
		file = r.File
	}
	if r.Format != k.format {
		format = r.Format
	}
	k.records++
	k.cur = append(k.cur, []any{int64(k.records), r.Provider, string(r.Grain), r.ID, k.seen[h], r.Type, r.ReportingCategory,
		r.SourceRef, r.PaymentRef, r.Currency, r.Amount, r.Fee, r.Net, r.Captured, r.Refunded, r.Disputed, r.Status,
		created, ts(r.AvailableOn), r.PayoutID, r.Description, r.Test, r.PresentmentAmount, r.PresentmentCurrency,
		r.ExchangeRate, int32(r.Line), r.Offset, r.Raw, file, format})
	if len(k.cur) >= copyBatch {
		return k.flush()
	}
	return nil
}

// flush hands the current batch to COPY.
func (k *sink) flush() error {
	if len(k.cur) == 0 {
		return nil
	}
	select {
	case k.rows <- k.cur:
		k.cur = make([][]any, 0, copyBatch)
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

// copySource feeds the sink's batches to pgx's COPY.
type copySource struct {
	k     *sink
	batch [][]any
	i     int
}

func (c *copySource) Next() bool {
	c.i++
	for c.i >= len(c.batch) {
		b, ok := <-c.k.rows
		if !ok {
			return false
		}
		c.batch, c.i = b, 0
	}
	return true
}

func (c *copySource) Values() ([]any, error) { return c.batch[c.i], nil }

// Err aborts the COPY when fn failed.
func (c *copySource) Err() error { return c.k.failed }

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
	rows, err := s.db.QueryContext(ctx, s.sql(`SELECT r.provider, r.grain, r.record_id, COALESCE(r.format, i.format), r.type,
		r.reporting_category, r.source_ref, r.payment_ref, r.currency, r.amount, r.fee, r.net, r.captured, r.refunded,
		r.disputed, r.status, r.created, r.available_on, r.payout_id, r.description, r.test, r.presentment_amount,
		r.presentment_currency, r.exchange_rate, COALESCE(r.file, i.file), r.line, r.raw_offset, `+raw+`
		FROM {schema}.provider_records r JOIN {schema}.imports i ON i.id = r.import_id
		WHERE `+where+` ORDER BY r.created, r.id`), args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r provider.Record
		var grain string
		var created, avail int64
		if err := rows.Scan(&r.Provider, &grain, &r.ID, &r.Format, &r.Type, &r.ReportingCategory, &r.SourceRef,
			&r.PaymentRef, &r.Currency, &r.Amount, &r.Fee, &r.Net, &r.Captured, &r.Refunded, &r.Disputed, &r.Status,
			&created, &avail, &r.PayoutID, &r.Description, &r.Test, &r.PresentmentAmount, &r.PresentmentCurrency,
			&r.ExchangeRate, &r.File, &r.Line, &r.Offset, &r.Raw); err != nil {
			return err
		}
		r.Grain, r.Created, r.AvailableOn = provider.Grain(grain), fromTS(created), fromTS(avail)
		if err := fn(&r); err != nil {
			return err
		}
	}
	return translate(rows.Err())
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

// RecordGrains lists the (provider, grain) pairs that have stored records.
func (s *Store) RecordGrains(ctx context.Context) ([][2]string, error) {
	rows, err := s.db.QueryContext(ctx, s.sql(`SELECT DISTINCT provider, grain FROM {schema}.provider_records ORDER BY provider, grain`))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var pg [2]string
		if err := rows.Scan(&pg[0], &pg[1]); err != nil {
			return nil, err
		}
		out = append(out, pg)
	}
	return out, rows.Err()
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
