package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/importers"
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
	Add(r *importers.Record) error
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
		// New rows get rowids above the current largest, so counting the
		// rows above it afterwards gives the number added without a scan.
		var maxBefore int64
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM provider_records`).Scan(&maxBefore); err != nil {
			return err
		}
		k := newSink(f, st.ImportID)
		w := &importWriter{ctx: ctx, stmts: map[string]*rawStmt{}, inserts: map[int]*rawStmt{}}
		if err := k.run(s, w, fn); err != nil {
			return err
		}
		var added int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM provider_records WHERE id > ?`, maxBefore).Scan(&added); err != nil {
			return err
		}
		st.Records, st.Quarantined = k.records+k.quarantined, k.quarantined
		st.Added, st.Updated = int(added), int(w.changed-added)
		_, err = q.ExecContext(ctx, `UPDATE imports SET format = ?, records = ?, added = ?, updated = ?, quarantined = ? WHERE id = ?`,
			k.format, st.Records, st.Added, st.Updated, st.Quarantined, st.ImportID)
		return err
	})
	return st, translate(err)
}

// recordBatch is how many records one INSERT statement carries (12,000
// parameters). Larger batches spread each statement's fixed work over more
// rows, up to about this size; beyond it 1,000 measured no faster, and took
// twice as long to prepare (6 ms), once per import.
const recordBatch = 500

// maxBatchBytes ends a batch early when its texts grow large (long raw rows
// kept in the rows themselves), to bound its memory.
const maxBatchBytes = 16 << 20

// recordCols are the columns each record binds; provider, grain and
// import_id, the same for a whole batch, are bound once, as ?1 to ?3.
var recordCols = []string{"record_id", "occurrence", "type", "reporting_category", "source_ref", "payment_ref",
	"currency", "amount", "fee", "net", "captured", "refunded", "disputed", "status", "created", "available_on",
	"payout_id", "description", "line", "raw_offset", "raw_size", "raw", "file", "format"}

// mutable are the fields a newer export of the same record may change.
var mutable = []string{"type", "reporting_category", "source_ref", "payment_ref", "currency", "amount", "fee", "net",
	"captured", "refunded", "disputed", "status", "available_on", "payout_id", "description"}

// insertRecords is the INSERT of n records. A record already stored (same
// provider, grain, id and occurrence: an overlapping export) is updated, with
// the place it was read from, if a field changed; the records of one import
// never collide, since repeats of an id within it are numbered. OR FAIL: a
// failing statement ends the whole import, which is rolled back, so SQLite
// need not be ready to undo the statement alone.
//
// (A plain INSERT for the records of a provider and grain not stored
// before, sparing the upsert, measured no faster: the unique index is
// searched either way.)
func insertRecords(n int) string {
	var b strings.Builder
	b.WriteString("INSERT OR FAIL INTO provider_records (provider, grain, import_id, ")
	b.WriteString(strings.Join(recordCols, ", "))
	b.WriteString(") VALUES ")
	p := 4
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?1, ?2, ?3")
		for range recordCols {
			b.WriteString(", ?")
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteString(")")
	}
	set := make([]string, 0, len(mutable)+7)
	differ := make([]string, 0, len(mutable))
	for _, c := range mutable {
		set = append(set, c+" = excluded."+c)
		differ = append(differ, "provider_records."+c+" IS NOT excluded."+c)
	}
	for _, c := range []string{"import_id", "line", "raw_offset", "raw_size", "raw", "file", "format"} {
		set = append(set, c+" = excluded."+c)
	}
	b.WriteString(" ON CONFLICT (provider, grain, record_id, occurrence) DO UPDATE SET ")
	b.WriteString(strings.Join(set, ", "))
	b.WriteString(" WHERE ")
	b.WriteString(strings.Join(differ, " OR "))
	return b.String()
}

const insertQuarantine = `INSERT INTO quarantine (import_id, file, line, problem, raw) VALUES (?, ?, ?, ?, ?)`

// batch is records of one provider and grain, packed as the parameters of
// an insertRecords statement.
type batch struct {
	provider string
	grain    importers.Grain
	n        int
	p        params
}

// job is one write the sink hands to the writer: a batch of records, a
// chunk of the file, or a quarantined row.
type job struct {
	batch *batch
	chunk *params
	row   *params
}

// sink is the RecordSink of one import. Its methods run on the goroutine of
// Import's fn; they pack records into batches for the writer and the file's
// bytes into chunks for the compressor, which hands them on to the writer.
// The three run side by side, so that the two cores of a small machine stay
// busy: reading and packing, compressing, and storing take about the same
// time.
type sink struct {
	file     string
	format   string // the import's: ImportFile.Format, or the first record's
	importID int64

	h    maphash.Hash
	seen occurrences // of each provider|grain|record id

	cur    *batch
	window fileWindow
	size   int64 // bytes of the file received

	jobs       chan job      // to the writer
	batches    chan *batch   // batches the writer is done with
	chunks     chan rawChunk // to the compressor
	freeChunks chan []byte   // chunk buffers the compressor is done with
	done       chan struct{} // closed when the writer stops
	compressed chan struct{} // closed when the compressor stops
	werr       error         // why the writer stopped early; read after done is closed

	records, quarantined int
}

// rawChunk is a chunk of the file for the compressor.
type rawChunk struct {
	start int64
	b     []byte
}

func newSink(f ImportFile, importID int64) *sink {
	k := &sink{file: f.File, format: f.Format, importID: importID,
		jobs: make(chan job, 4), batches: make(chan *batch, 8), chunks: make(chan rawChunk, 2), freeChunks: make(chan []byte, 4),
		done: make(chan struct{}), compressed: make(chan struct{})}
	k.h.SetSeed(maphash.MakeSeed())
	return k
}

// run runs fn with the sink, the compressor and the writer beside it, and
// waits for the writer to store everything fn passed on.
func (k *sink) run(s *Store, w *importWriter, fn func(RecordSink) error) (err error) {
	go func() {
		defer close(k.done)
		k.werr = s.writer.Raw(func(dc any) error { return w.run(dc, k) })
	}()
	go k.compress()
	defer func() {
		close(k.chunks)
		<-k.compressed
		close(k.jobs)
		<-k.done
		if k.werr != nil {
			// The writer's failure is the cause of any error of fn's
			// that it brought about.
			err = fmt.Errorf("storing provider records: %w", k.werr)
		}
	}()
	if err := fn(k); err != nil {
		return err
	}
	return k.finish()
}

// compress deflates the file's chunks and hands them to the writer, until
// the chunks end or the writer stops.
func (k *sink) compress() {
	defer close(k.compressed)
	var d deflater
	for c := range k.chunks {
		p := d.chunk(k.importID, c.start, c.b)
		select {
		case k.freeChunks <- c.b:
		default:
		}
		if k.send(job{chunk: p}) != nil {
			return // the sink's next send reports the writer's error
		}
	}
}

// send hands a job to the writer.
func (k *sink) send(j job) error {
	select {
	case k.jobs <- j:
		return nil
	case <-k.done:
		return fmt.Errorf("storing provider records: %w", k.werr)
	}
}

func (k *sink) Add(r *importers.Record) error {
	if k.format == "" {
		k.format = r.Format
	}
	b := k.cur
	if b != nil && (b.provider != r.Provider || b.grain != r.Grain || len(b.p.bytes) >= maxBatchBytes) {
		if err := k.flush(); err != nil {
			return err
		}
		b = nil
	}
	if b == nil {
		b = k.newBatch(r.Provider, r.Grain)
		k.cur = b
	}
	k.records++
	k.h.Reset()
	k.h.WriteString(r.Provider)
	k.h.WriteByte(0)
	k.h.WriteString(string(r.Grain))
	k.h.WriteByte(0)
	k.h.WriteString(r.ID)
	occurrence := k.seen.add(k.h.Sum64())

	p := &b.p
	p.text(r.ID)
	p.int(int64(occurrence))
	p.text(r.Type)
	p.text(r.ReportingCategory)
	p.text(r.SourceRef)
	p.text(r.PaymentRef)
	p.text(r.Currency)
	p.int(r.Amount)
	p.int(r.Fee)
	p.int(r.Net)
	p.int(r.Captured)
	p.int(r.Refunded)
	p.int(r.Disputed)
	p.text(r.Status)
	p.int(ts(r.Created))
	p.int(ts(r.AvailableOn))
	p.text(r.PayoutID)
	p.text(r.Description)
	p.int(int64(r.Line))
	p.int(r.Offset)
	if k.window.holds(r.Offset, r.Raw) {
		p.int(int64(len(r.Raw)))
		p.null()
	} else {
		p.null()
		p.text(r.Raw)
	}
	if r.File == "" || r.File == k.file {
		p.null()
	} else {
		p.text(r.File)
	}
	if r.Format == k.format {
		p.null()
	} else {
		p.text(r.Format)
	}
	b.n++
	if b.n == recordBatch {
		return k.flush()
	}
	return nil
}

// newBatch returns an empty batch, reusing one the writer is done with.
func (k *sink) newBatch(provider string, grain importers.Grain) *batch {
	var b *batch
	select {
	case b = <-k.batches:
		b.n = 0
		b.p.reset()
	default:
		b = &batch{}
	}
	b.provider, b.grain = provider, grain
	b.p.text(provider)
	b.p.text(string(grain))
	b.p.int(k.importID)
	return b
}

// flush hands the current batch to the writer.
func (k *sink) flush() error {
	b := k.cur
	k.cur = nil
	if b == nil || b.n == 0 {
		return nil
	}
	return k.send(job{batch: b})
}

func (k *sink) Quarantine(q Quarantined) error {
	k.quarantined++
	p := &params{}
	p.int(k.importID)
	p.text(k.file)
	p.int(int64(q.Line))
	p.text(q.Problem)
	p.text(q.Raw)
	return k.send(job{row: p})
}

// Write keeps the file's bytes p, handing each full chunk to the writer.
func (k *sink) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		w := &k.window
		if w.cur == nil {
			w.cur = make([]byte, 0, contentChunk)
		}
		m := min(len(p), contentChunk-len(w.cur))
		w.cur = append(w.cur, p[:m]...)
		p = p[m:]
		k.size += int64(m)
		if len(w.cur) == contentChunk {
			if err := k.sendChunk(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// sendChunk hands a copy of the window's current chunk to the compressor
// and slides the window: the chunk becomes prev, and the buffer of the prev
// before it is filled next.
func (k *sink) sendChunk() error {
	w := &k.window
	start := k.size - int64(len(w.cur))
	var b []byte
	select {
	case b = <-k.freeChunks:
	default:
		b = make([]byte, 0, contentChunk)
	}
	b = append(b[:0], w.cur...)
	select {
	case k.chunks <- rawChunk{start, b}:
	case <-k.compressed:
		return fmt.Errorf("storing provider records: %w", k.werr)
	}
	w.prevStart, w.prev, w.cur = start, w.cur, w.prev[:0]
	return nil
}

// finish hands the writer what is left: the last batch and chunk.
func (k *sink) finish() error {
	if err := k.flush(); err != nil {
		return err
	}
	if len(k.window.cur) > 0 {
		return k.sendChunk()
	}
	return nil
}

// importWriter stores the jobs of one import, on the writer connection's
// driver connection, through statements that bind a whole batch in one call
// (rawStmt).
type importWriter struct {
	ctx     context.Context
	stmts   map[string]*rawStmt // by query
	inserts map[int]*rawStmt    // the insertRecords statements among them, by batch size
	changed int64               // rows inserted or updated
}

// run stores the sink's jobs until they end or one fails.
func (w *importWriter) run(dc any, k *sink) (err error) {
	defer func() {
		for _, st := range w.stmts {
			err = errors.Join(err, st.close())
		}
	}()
	for j := range k.jobs {
		switch {
		case j.batch != nil:
			err = w.records(dc, j.batch)
			select {
			case k.batches <- j.batch:
			default:
			}
		case j.chunk != nil:
			err = w.exec(dc, insertChunk, j.chunk)
		case j.row != nil:
			err = w.exec(dc, insertQuarantine, j.row)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// records stores one batch.
func (w *importWriter) records(dc any, b *batch) error {
	st := w.inserts[b.n]
	if st == nil {
		var err error
		if st, err = w.stmt(dc, insertRecords(b.n)); err != nil {
			return err
		}
		w.inserts[b.n] = st
	}
	n, err := st.exec(w.ctx, &b.p)
	w.changed += n
	return err
}

// exec runs query, prepared once per import, with p.
func (w *importWriter) exec(dc any, query string, p *params) error {
	st, err := w.stmt(dc, query)
	if err != nil {
		return err
	}
	_, err = st.exec(w.ctx, p)
	return err
}

func (w *importWriter) stmt(dc any, query string) (*rawStmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := prepareRaw(w.ctx, dc, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}
