package sqlite

// One-row inserts run together.
//
// Most of what a feed hands to the write-behind goroutine is one entry
// inserted at a time: each event's entry is written as it is booked, its
// id assigned in Go, and its balance transaction, payment and stored
// request follow in statements of their own. At a million payments that
// was 1.3 million statements, each paying for its own step of SQLite's
// virtual machine, its own reset and its own call into C. The goroutine
// runs the entries of one batch it is handed as one multi-row statement
// instead, in the batch's order: an entry later in the batch joins the
// first one's statement, which moves it ahead of the statements between
// the two. That is safe for a statement that does not name the table the
// entry goes into: no such statement can refer to the entry (its id was
// given out after that statement was handed over), and a foreign key only
// needs the entry to exist before the row that refers to it, never after.
// A statement that names the table ends the run, so a read, an update or a
// delete of entries sees them exactly as before, unless it changes only
// rows it names by their ids (byID; a pending entry resolved by a capture),
// all of which were written before it was handed over and so before any
// entry that may move ahead of it.

// The pending entries a capture resolves (each an UPDATE of one entry by
// its id, byID) run together the same way: a resolution later in the
// batch joins the first one's UPDATE … FROM (VALUES …), ahead of the
// statements between the two, none of which reads or changes an entry
// but by its id. Entry inserts already run as part of an earlier
// statement are not between them any more.

// rowStmt is a one-row statement (an INSERT, or an UPDATE by id) that the
// write-behind goroutine may merge with later ones of the same statement
// into one multi-row statement. A job that has one runs its one.
type rowStmt struct {
	table string                // the table it writes
	one   string                // the statement for one row
	sql   func(rows int) string // the statement for that many rows
}

// maxMergedRows bounds a merged statement: a batch's statements at most,
// far below SQLite's limit on bound values for the widest row.
const maxMergedRows = laterBatch

// entryRows and entryRowsNoKey are InsertEntry's statement for an entry
// whose key is known new, with and without the clause that skips a stored
// key (knownNewEntriesSQL).
var (
	entryRows = &rowStmt{table: "entries", one: insertEntrySQL,
		sql: func(n int) string { return insertEntriesSQL(false, n) }}
	entryRowsNoKey = &rowStmt{table: "entries", one: trimKeyConflict(insertEntrySQL),
		sql: func(n int) string { return trimKeyConflict(insertEntriesSQL(false, n)) }}
)

// resolveRows is ResolvePending's statement for an entry the transaction
// wrote: the same values, in the same order, a row each.
var resolveRows = &rowStmt{table: "entries", one: resolveSQL, sql: resolveEntriesSQL}

// resolveEntriesSQL is the resolution of n pending entries. OR FAIL, as
// updateBTs: neither column it sets has a constraint that could refuse its
// value, and a store error rolls back the transaction that ran it.
func resolveEntriesSQL(n int) string {
	return `UPDATE OR FAIL entries SET resolution = v.column1, resolved_by = v.column2 FROM (VALUES ` +
		tuples("(?, ?, ?)", n) + `) AS v WHERE entries.id = v.column3 AND entries.phase = 'pending' AND entries.resolution = ''`
}

// mergeRows gathers the job at b[i] and the later jobs of b with the same
// one-row statement, up to a statement that names its table or a barrier,
// into one statement, marking the others merged. It returns the statement,
// its values and the rows it must change. No job after b[i] is merged
// yet: a run ends only where a job cannot join it, and that job runs
// before any later one is looked at.
func (w *writeBehind) mergeRows(b []laterJob, i int) (string, *params, int64) {
	first := &b[i]
	n := 1
	for k := i + 1; k < len(b) && n < maxMergedRows; k++ {
		j := &b[k]
		if j.barrier != nil {
			break
		}
		if j.merged {
			continue // run already, as part of an earlier statement
		}
		if j.rows == first.rows {
			if n == 1 {
				w.merged.reset()
				w.merged.appendParams(first.p)
			}
			w.merged.appendParams(j.p)
			j.merged = true
			n++
			continue
		}
		if !j.byID && w.names(j.query, first.rows.table) {
			break
		}
	}
	if n == 1 {
		return first.query, first.p, first.want
	}
	w.merges += n - 1
	return w.rowsSQL(first.rows, n), &w.merged, int64(n)
}

// names reports whether query names table, remembering the answer for
// the statements seen most.
func (w *writeBehind) names(query, table string) bool {
	key := tableQuery{table, query}
	if v, ok := w.naming[key]; ok {
		return v
	}
	v := namesTable(query, table)
	if w.naming == nil {
		w.naming = map[tableQuery]bool{}
	}
	if len(w.naming) < maxKeyNeeds {
		w.naming[key] = v
	}
	return v
}

type tableQuery struct{ table, query string }

// rowsSQL is r's statement for n rows, built once per goroutine.
func (w *writeBehind) rowsSQL(r *rowStmt, n int) string {
	if w.rowsText == nil {
		w.rowsText = map[*rowStmt]*[maxMergedRows + 1]string{}
	}
	texts := w.rowsText[r]
	if texts == nil {
		texts = new([maxMergedRows + 1]string)
		w.rowsText[r] = texts
	}
	if texts[n] == "" {
		texts[n] = r.sql(n)
	}
	return texts[n]
}

// appendParams appends q's values to p, as further parameters of one
// statement.
func (p *params) appendParams(q *params) {
	base := int64(len(p.bytes)) << 32
	p.bytes = append(p.bytes, q.bytes...)
	p.kinds = append(p.kinds, q.kinds...)
	for i, k := range q.kinds {
		v := q.vals[i]
		if k == paramText || k == paramBlob {
			v += base
		}
		p.vals = append(p.vals, v)
	}
}
