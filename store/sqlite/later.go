package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
)

// A feed recorded in one transaction spends about as long in Go (booking
// each event, encoding its stored result) as in SQLite (writing its rows),
// and the two took turns on one goroutine. Most of those writes are
// inserts whose outcome the transaction does not wait for: balance
// transactions, requests, payments, refunds, entries whose key is known to
// be new. A write transaction hands those to a goroutine of its own
// (writeBehind), which runs them in order on the writer connection while
// the transaction goes on booking. Anything that needs the connection
// itself (a read, a write whose changed rows it counts, a savepoint, the
// commit) first waits until every write handed over has run (tx.sync), so
// SQLite sees the same statements in the same order as before, and a read
// sees every write made before it. BENCHMARKS.md, nineteenth round.

// laterBatch is how many statements the transaction hands over at once:
// handing each over alone woke the goroutine for each, which cost more
// than running them on the transaction's own goroutine. A goroutine that
// has run out of work is handed laterEager statements as soon as there are
// that many (waiting for a full batch left it idle while one filled).
// laterBatches is how many batches may wait for it before the transaction
// waits in turn.
//
// A held buffer written at once (32,768 payments or requests, 16,384
// balance transactions) is a burst of work for the goroutine; with four
// batches queued, the transaction stopped at each burst until all but the
// last few statements had run, and the goroutine then sat idle while the
// transaction booked on. Sixty-four batches let the transaction book on
// through most of a burst: at 300,000 payments its waits for room fell
// from 3.7 to 1.4 s and the goroutine's idle time from 3.4 to 2.2 s, and
// the million took 4 s less on average over seven interleaved pairs
// (BENCHMARKS.md, thirty-ninth round). Deeper queues tried before (up to
// 1,024 batches) made the million slower: the queued statements' buffers,
// reused afterwards for any statement, each kept the size of the largest
// it had held (a chunk of 128 balance transactions), and the heap reached
// record's soft limit. A buffer grown past maxSpare is now let go rather
// than reused.
const (
	laterBatch   = 64
	laterBatches = 64
	laterEager   = 16
)

// maxSpareBytes and maxSpareVals are the largest parameter buffer kept for
// reuse: a one-row statement's values fit many times over.
const (
	maxSpareBytes = 4 << 10
	maxSpareVals  = 256
)

// A multi-row statement (a chunk of 128 balance transactions, 50 requests
// with their stored results) fills a buffer of 20–40 KiB by appending, which
// grew it several times over; not reused, the million's chunks allocated
// 5 GB that way, a third of everything the run allocated, and the collector
// ran that much more often. Such buffers are kept apart from the small
// ones, up to maxSpareChunks of them of at most maxChunkBytes and
// maxChunkVals, and handed only to the writers of chunks (laterChunkParams):
// a one-row statement never holds one, so the queue of small statements
// stays small. Recording the million then allocated 11 GB instead of 16,
// and took 3 s less over three interleaved pairs (BENCHMARKS.md, fortieth
// round).
const (
	maxSpareChunks = 1024
	maxChunkBytes  = 256 << 10
	maxChunkVals   = 16 << 10
)

// writeBehind runs a write transaction's handed-over statements.
type writeBehind struct {
	s       *Store
	ctx     context.Context
	batches chan []laterJob
	spent   chan []laterJob // batches run, their parameter buffers for reuse
	done    chan struct{}
	// idle: the goroutine has run everything handed to it, and waits.
	idle atomic.Bool
	// err is the first statement's failure: the goroutine's to write, and
	// the transaction's to read once a barrier has come back.
	err error

	// The transaction's side: statements not yet handed over, whether
	// any were since the last barrier, and buffers to reuse.
	next        []laterJob
	queued      bool
	spare       []*params
	spareChunks []*params

	// The goroutine's side: one-row statements merged (laterrows.go), and
	// how many ran in another's statement; ran counts the statements run
	// (read by tests once a sync has returned).
	merged   params
	naming   map[tableQuery]bool
	rowsText map[*rowStmt]*[maxMergedRows + 1]string
	merges   int
	ran      int
}

// laterJob is one statement to run, or, with barrier set, a request to
// say when every statement before it has run.
type laterJob struct {
	query   string
	p       *params
	want    int64 // the rows the statement must change; -1: any number
	barrier chan struct{}
	// rows, when set, says query is a one-row statement (an insert, a
	// resolution) that may run together with the same statement later in
	// its batch (laterrows.go);
	// merged marks a job so run as part of an earlier one.
	rows   *rowStmt
	merged bool
	// byID says the statement changes only rows it names by their ids,
	// all written before it was handed over: a row inserted after it
	// may run before it.
	byID bool
}

func (w *writeBehind) run() {
	defer close(w.done)
	for {
		var b []laterJob
		var ok bool
		select {
		case b, ok = <-w.batches:
		default:
			w.idle.Store(true)
			b, ok = <-w.batches
			w.idle.Store(false)
		}
		if !ok {
			return
		}
		for i := range b {
			j := &b[i]
			if j.barrier != nil {
				close(j.barrier)
				continue
			}
			if w.err == nil && !j.merged {
				query, p, want := j.query, j.p, j.want
				if j.rows != nil {
					query, p, want = w.mergeRows(b, i)
				}
				n, err := w.s.execParams(w.ctx, query, p)
				w.ran++
				if err == nil && want >= 0 && n != want {
					err = fmt.Errorf("sqlite: a statement changed %d rows, not %d: %.80s", n, want, query)
				}
				w.err = err
			}
			j.p.reset()
		}
		select {
		case w.spent <- b:
		default:
		}
	}
}

// send hands over the statements gathered.
func (w *writeBehind) send() {
	if len(w.next) == 0 {
		return
	}
	w.batches <- w.next
	w.queued = true
	select {
	case b := <-w.spent:
		for _, j := range b {
			switch {
			case j.p == nil:
			case reusable(j.p):
				w.spare = append(w.spare, j.p)
			case reusableChunk(j.p) && len(w.spareChunks) < maxSpareChunks:
				w.spareChunks = append(w.spareChunks, j.p)
			}
		}
		w.next = b[:0]
	default:
		w.next = make([]laterJob, 0, laterBatch)
	}
}

// reusable reports whether a parameter buffer that has been run is kept
// for the next statement: not one grown past maxSpareBytes or maxSpareVals.
func reusable(p *params) bool {
	return cap(p.bytes) <= maxSpareBytes && cap(p.vals) <= maxSpareVals
}

// reusableChunk reports whether a buffer too large for the small ones is
// kept for another multi-row statement.
func reusableChunk(p *params) bool {
	return cap(p.bytes) <= maxChunkBytes && cap(p.vals) <= maxChunkVals
}

// laterParams returns an empty parameter buffer that execLater may take.
func (t *tx) laterParams() *params {
	if w := t.later; w != nil {
		return pop(&w.spare)
	}
	return &params{}
}

// laterChunkParams is laterParams for a multi-row statement.
func (t *tx) laterChunkParams() *params {
	if w := t.later; w != nil {
		return pop(&w.spareChunks)
	}
	return &params{}
}

// pop takes the last buffer of a spare list, or makes one if it is empty.
func pop(list *[]*params) *params {
	l := *list
	if len(l) == 0 {
		return &params{}
	}
	p := l[len(l)-1]
	l[len(l)-1] = nil
	*list = l[:len(l)-1]
	return p
}

// execLater hands a write statement of a write transaction, with its values
// in p, to the write-behind goroutine, which takes p; want is the number of
// rows it must change (-1: any). A failure is returned by a later sync.
// Balance transactions waiting in memory go first if the statement names
// their tables, as before does for a statement run at once.
//
// A statement handed over while the transaction reads rows on the
// connection (a caller writing from inside an Each… callback) runs between
// two steps of that read, as it did when it ran at once, only perhaps
// between later ones: database/sql holds the connection's lock for each
// step and each statement, so the two never run at the same time.
func (t *tx) execLater(ctx context.Context, query string, p *params, want int64) error {
	return t.execJobLater(ctx, laterJob{query: query, p: p, want: want})
}

// execJobLater is execLater for a job that says more of its statement
// (laterrows.go).
func (t *tx) execJobLater(ctx context.Context, j laterJob) error {
	if t.bts.n() > 0 && namesBTs(j.query) {
		if err := t.flushBTs(ctx); err != nil {
			return err
		}
	}
	return t.handOverJob(ctx, j)
}

// handOver is execLater without writing the balance transactions waiting
// in memory: for a statement that cannot touch them.
func (t *tx) handOver(ctx context.Context, query string, p *params, want int64) error {
	return t.handOverJob(ctx, laterJob{query: query, p: p, want: want})
}

// handOverJob hands j to the write-behind goroutine, after building the
// entries' key index again if j's statement needs it.
func (t *tx) handOverJob(ctx context.Context, j laterJob) error {
	if t.entryKeyNeeded(j.query) {
		if err := t.restoreDropped(ctx, &t.entryKey); err != nil {
			return err
		}
	}
	t.queue(j)
	return nil
}

// queue adds a job to the statements handed over, starting the
// write-behind goroutine if it is not running.
func (t *tx) queue(j laterJob) {
	w := t.later
	if w == nil {
		w = &writeBehind{s: t.s, ctx: t.ctx, batches: make(chan []laterJob, laterBatches),
			spent: make(chan []laterJob, laterBatches+2), done: make(chan struct{}), next: make([]laterJob, 0, laterBatch)}
		t.later = w
		go w.run()
	}
	w.next = append(w.next, j)
	if len(w.next) == laterBatch || len(w.next) >= laterEager && w.idle.Load() {
		w.send()
	}
}

// execArgsLater is execLater with the statement's values as arguments.
func (t *tx) execArgsLater(ctx context.Context, query string, args ...any) error {
	p := t.laterParams()
	if err := packArgs(p, args); err != nil {
		return err
	}
	return t.execLater(ctx, query, p, -1)
}

// sync waits until every statement handed to the write-behind goroutine has
// run, and returns the first failure among them. A failure stays: every
// later sync returns it too, until a rolled-back savepoint undoes the
// statements (forgetLater).
func (t *tx) sync() error {
	w := t.later
	t.payments.dropped = false // nothing is queued once this returns
	if w == nil {
		return nil
	}
	if w.queued || len(w.next) > 0 {
		b := make(chan struct{})
		w.next = append(w.next, laterJob{barrier: b})
		w.send()
		<-b
		w.queued = false
	}
	if w.err != nil {
		return translate(w.err)
	}
	return nil
}

// forgetLater waits for the statements handed over, then forgets their
// failure: a savepoint that held them all is about to be rolled back.
func (t *tx) forgetLater() {
	if t.later != nil {
		_ = t.sync()
		t.later.err = nil
	}
}

// endLater waits for the write-behind goroutine, if any, to finish what it
// was handed and stop. The transaction ends after it, with COMMIT or
// ROLLBACK.
func (t *tx) endLater() error {
	w := t.later
	if w == nil {
		return nil
	}
	err := t.sync()
	close(w.batches)
	<-w.done
	t.later = nil
	return err
}

// syncQuerier is a write transaction's connection for the statements it
// runs through database/sql: each first writes what the transaction holds
// in memory of the tables it names, and waits for the write-behind
// goroutine (before).
type syncQuerier struct {
	t *tx
	q querier
}

func (s syncQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := s.t.before(ctx, query); err != nil {
		return nil, err
	}
	return s.q.ExecContext(ctx, query, args...)
}

func (s syncQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := s.t.before(ctx, query); err != nil {
		return nil, err
	}
	return s.q.QueryContext(ctx, query, args...)
}

func (s syncQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	// A *sql.Row cannot carry a failure of the statements handed over; it
	// stays for the next sync, which the commit runs (endLater).
	_ = s.t.before(ctx, query)
	return s.q.QueryRowContext(ctx, query, args...)
}
