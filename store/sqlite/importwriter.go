package sqlite

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// recordBatch is how many records one INSERT statement carries (13,500
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
	"payout_id", "description", "test", "presentment_amount", "presentment_currency", "exchange_rate",
	"line", "raw_offset", "raw_size", "raw", "file", "format"}

// mutable are the fields a newer export of the same record may change.
var mutable = []string{"type", "reporting_category", "source_ref", "payment_ref", "currency", "amount", "fee", "net",
	"captured", "refunded", "disputed", "status", "available_on", "payout_id", "description", "test",
	"presentment_amount", "presentment_currency", "exchange_rate"}

// placeCols are the columns that say where a record was read from: an
// updated record takes them from the export that updated it.
var placeCols = []string{"line", "raw_offset", "raw_size", "raw", "file", "format"}

// insertRecords is the INSERT of n records into a table that may hold
// some of them already. A record already stored (same
// provider, grain, id and occurrence: an overlapping export) is left as it
// is, for updateRecords; the records of one import never collide, since
// repeats of an id within it are numbered.
//
// Neither statement is an upsert (INSERT … ON CONFLICT DO UPDATE), nor may
// abort halfway (OR FAIL; the foreign keys are checked at commit): SQLite
// would journal every page a statement changes so as to undo it alone, which
// cost 15–20% of an import with ids in increasing order and two thirds with
// ids in random order. A failing statement ends the whole import, which is
// rolled back.
func insertRecords(n int) string {
	return insertNewRecords(n) + " ON CONFLICT (provider, grain, record_id, occurrence) DO NOTHING"
}

// insertNewRecords is the INSERT of n records into a table that was empty
// when the import began, and has no unique index until it ends
// (dropIndexesIfEmpty): there is nothing for them to collide with, nor a
// unique index for ON CONFLICT to name.
func insertNewRecords(n int) string {
	var b strings.Builder
	b.WriteString("INSERT OR FAIL INTO provider_records (provider, grain, import_id, ")
	b.WriteString(strings.Join(recordCols, ", "))
	b.WriteString(") VALUES ")
	writeRows(&b, n, "?1, ?2, ?3, ")
	return b.String()
}

// updateRecords is the UPDATE of the n records of an insertRecords batch
// that were stored before, by an earlier import: those whose fields changed
// take the new fields and the place they are now read from. It binds the
// same parameters as the INSERT; the records the INSERT has just stored
// carry this import's id and are left alone.
//
// The provider and grain are matched through v, not with ?1 and ?2: given
// those, SQLite (without statistics) judged reading all the records of the
// provider and grain and scanning the batch for each of them the cheaper
// plan, which took 13 s to update 16,000 records. Matched through v, each
// record is looked up by its key.
func updateRecords(n int) string {
	var b strings.Builder
	b.WriteString("WITH v (provider, grain, ")
	b.WriteString(strings.Join(recordCols, ", "))
	b.WriteString(") AS (VALUES ")
	writeRows(&b, n, "?1, ?2, ")
	b.WriteString(") UPDATE OR FAIL provider_records AS r SET import_id = ?3")
	differ := make([]string, 0, len(mutable))
	for _, c := range mutable {
		b.WriteString(", " + c + " = v." + c)
		differ = append(differ, "r."+c+" IS NOT v."+c)
	}
	for _, c := range placeCols {
		b.WriteString(", " + c + " = v." + c)
	}
	b.WriteString(" FROM v WHERE r.provider = v.provider AND r.grain = v.grain AND r.record_id = v.record_id AND r.occurrence = v.occurrence")
	b.WriteString(" AND r.import_id <> ?3 AND (")
	b.WriteString(strings.Join(differ, " OR "))
	b.WriteString(")")
	return b.String()
}

// writeRows writes n rows of parameters ?4, ?5, … for recordCols, each
// starting with prefix.
func writeRows(b *strings.Builder, n int, prefix string) {
	p := 4
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + prefix)
		for j := range recordCols {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("?")
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteString(")")
	}
}

const insertQuarantine = `INSERT INTO quarantine (import_id, file, line, problem, raw) VALUES (?, ?, ?, ?, ?)`

// importWriter stores the jobs of one import, on the writer connection's
// driver connection, through statements that bind a whole batch in one call
// (rawStmt).
type importWriter struct {
	ctx              context.Context
	stmts            map[string]*rawStmt // by query
	inserts, updates map[int]*rawStmt    // the insertRecords and updateRecords statements among them, by batch size
	added, updated   int64
	intoEmpty        bool // the table was empty, and its unique index is dropped until the import ends
	// ordered are the indexes kept in place while the records come in
	// order (dropIndexesIfEmpty); dropped, those of them dropped since,
	// for the import to build at its end.
	ordered, dropped []tableIndex
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

// records stores one batch: its new records, then, if some were stored
// before, their changes.
func (w *importWriter) records(dc any, b *batch) error {
	if b.unordered && len(w.ordered) > 0 {
		if err := w.dropOrdered(dc); err != nil {
			return err
		}
	}
	insert := insertRecords
	if w.intoEmpty {
		insert = insertNewRecords
	}
	n, err := w.batchStmt(dc, w.inserts, insert, b)
	w.added += n
	if err != nil || n == int64(b.n) {
		return err
	}
	n, err = w.batchStmt(dc, w.updates, updateRecords, b)
	w.updated += n
	return err
}

// dropOrdered drops the indexes kept for records in order, before the
// first batch that breaks it: from there on each key would go to a random
// place in them.
func (w *importWriter) dropOrdered(dc any) error {
	for _, ix := range w.ordered {
		if err := w.exec(dc, dropIndex(ix.name), &params{}); err != nil {
			return err
		}
		w.dropped = append(w.dropped, ix)
	}
	w.ordered = nil
	return nil
}

// batchStmt runs the statement that query gives for b's size, prepared once
// per import and size, with b's parameters.
func (w *importWriter) batchStmt(dc any, stmts map[int]*rawStmt, query func(int) string, b *batch) (int64, error) {
	st := stmts[b.n]
	if st == nil {
		var err error
		if st, err = w.stmt(dc, query(b.n)); err != nil {
			return 0, err
		}
		stmts[b.n] = st
	}
	return st.exec(w.ctx, &b.p)
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
