package sqlite

import (
	"context"
	"database/sql"
)

// Reads beside the write-behind goroutine.
//
// A read on the writer connection waits, as a rule, until every statement
// handed to the write-behind goroutine has run (tx.sync), so that it sees
// them all. While it waits the transaction books nothing, and once the
// queue is empty the goroutine has nothing to run until the transaction
// hands it more: recording a month of a million payments waited so 6,141
// times, 12 s of its wall time, most of them to read back a payment the
// payment cache had let go of (a dispute closing weeks after its payment,
// a refund of an old one). A read of rows that none of the queued
// statements writes sees the same whether it runs before them or after, so
// such a read runs at once, between two of them: database/sql holds the
// connection's lock for each statement and for each step of a read, so
// the two goroutines never use it at the same time.
//
// writeMarks tells which rows those are: it numbers, by row key, the last
// statement handed over that writes the row, for as long as that statement
// may not have run.

// writeMarksFirst is the size at which writeMarks first forgets the marks
// of statements that have run.
const writeMarksFirst = 4096

// writeMarks numbers, by key, the last statement handed to the
// write-behind goroutine that writes the key's row (tx.handedLast).
type writeMarks struct {
	last  map[string]uint64
	prune int // forget marks of statements run when last reaches it
}

// note marks key as written by the statement handed over last.
func (m *writeMarks) note(t *tx, key string) {
	if m.last == nil {
		m.last, m.prune = make(map[string]uint64, writeMarksFirst), writeMarksFirst
	}
	m.last[key] = t.handedLast()
	if len(m.last) < m.prune {
		return
	}
	for k, n := range m.last {
		if t.ranThrough(n) {
			delete(m.last, k)
		}
	}
	// The queue holds a few hundred statements, so pruning leaves about
	// that many; were it to leave more, it waits for twice as many.
	m.prune = max(writeMarksFirst, 2*len(m.last))
}

// ran reports whether every statement handed over that writes the rows of
// keys has run: a read of only those rows may run beside the rest.
func (m *writeMarks) ran(t *tx, keys ...string) bool {
	for _, k := range keys {
		if n, ok := m.last[k]; ok && !t.ranThrough(n) {
			return false
		}
	}
	return true
}

// queryRowIf is queryRow, and runs beside the statements handed over when
// beside is true: none of them writes the row.
func (t *tx) queryRowIf(ctx context.Context, beside bool, query string, args ...any) scanner {
	if beside && t.write {
		return t.queryRowBeside(ctx, query, args...)
	}
	return t.queryRow(ctx, query, args...)
}

// queryIf is query, and runs beside the statements handed over when beside
// is true: none of them writes the rows it reads.
func (t *tx) queryIf(ctx context.Context, beside bool, query string, args ...any) (*sql.Rows, error) {
	if beside && t.write {
		return t.queryBeside(ctx, query, args...)
	}
	return t.query(ctx, query, args...)
}
