package sqlite

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

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
