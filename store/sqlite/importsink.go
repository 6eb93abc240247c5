package sqlite

import (
	"cmp"
	"fmt"
	"hash/maphash"

	"github.com/settlehq/settle/provider"
)

// batch is records of one provider and grain, packed as the parameters of
// an insertRecords statement.
type batch struct {
	provider string
	grain    provider.Grain
	n        int
	p        params
	ids      []uint64 // hash of each record's provider|grain|id
	occAt    []int    // where in p.vals each record's occurrence goes
	// unordered marks the first batch with a record that comes before
	// the one passed before it, by provider, grain and time created.
	unordered bool
}

// job is one write the sink hands to the writer: a batch of records, a
// chunk of the file, or a quarantined row.
type job struct {
	batch *batch
	chunk *params
	row   *params
}

// sink is the provider.Sink of one import. Its methods run on the goroutine of
// Import's fn; they pack records into batches for the writer and the file's
// bytes into chunks for the compressor, which hands them on to the writer.
// The three run side by side, so that the two cores of a small machine stay
// busy: reading and packing, compressing, and storing take about the same
// time.
type sink struct {
	file     string
	format   string // the import's: provider.ImportFile.Format, or the first record's
	importID int64

	h    maphash.Hash
	seen occurrences // of each provider|grain|record id

	cur    *batch
	window fileWindow
	// followOrder: the writer keeps an index in place while the records
	// come in its order (dropIndexesIfEmpty), so the sink watches that
	// order; an import into a table with rows keeps nothing that way.
	followOrder bool
	// last is the provider, grain and time created of the record passed
	// last, while the records come in that order (!unordered).
	last      orderKey
	unordered bool
	size      int64 // bytes of the file received

	jobs       chan job      // to the writer
	batches    chan *batch   // batches the writer is done with
	chunks     chan rawChunk // to the compressor
	freeChunks chan []byte   // chunk buffers the compressor is done with
	done       chan struct{} // closed when the writer stops
	compressed chan struct{} // closed when the compressor stops
	werr       error         // why the writer stopped early; read after done is closed

	records, quarantined int
}

// orderKey is what orders records in provider_records_created.
type orderKey struct {
	provider string
	grain    provider.Grain
	created  int64
}

// follow notes the key of the record b is about to take, and marks b if
// it is the first to come before the record passed before it.
func (k *sink) follow(b *batch, next orderKey) {
	if !k.followOrder || k.unordered {
		return
	}
	if k.records > 0 && next.before(k.last) {
		k.unordered, b.unordered = true, true
		return
	}
	k.last = next
}

// before reports whether o comes before p in provider_records_created.
func (o orderKey) before(p orderKey) bool {
	return cmp.Or(cmp.Compare(o.provider, p.provider), cmp.Compare(o.grain, p.grain), cmp.Compare(o.created, p.created)) < 0
}

// rawChunk is a chunk of the file for the compressor.
type rawChunk struct {
	start int64
	b     []byte
}

// newSink is the sink of import importID of file f; followOrder says
// whether the writer keeps an index in place while the records come in
// order, for the sink to mark the batch that breaks it.
func newSink(f provider.ImportFile, importID int64, followOrder bool) *sink {
	k := &sink{file: f.File, format: f.Format, importID: importID, followOrder: followOrder,
		jobs: make(chan job, 4), batches: make(chan *batch, 8), chunks: make(chan rawChunk, 2), freeChunks: make(chan []byte, 4),
		done: make(chan struct{}), compressed: make(chan struct{})}
	k.h.SetSeed(maphash.MakeSeed())
	return k
}

// run runs fn with the sink, the compressor and the writer beside it, and
// waits for the writer to store everything fn passed on.
func (k *sink) run(s *Store, w *importWriter, fn func(provider.Sink) error) (err error) {
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

// compress compresses the file's chunks and hands them to the writer, until
// the chunks end or the writer stops.
func (k *sink) compress() {
	defer close(k.compressed)
	var z compressor
	for c := range k.chunks {
		p := z.chunk(k.importID, c.start, c.b)
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

func (k *sink) Add(r *provider.Record) error {
	created, avail, err := storeTimes2("created", r.Created, "available_on", r.AvailableOn)
	if err != nil {
		return fmt.Errorf("%s:%d: %w", r.File, r.Line, err)
	}
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
	k.follow(b, orderKey{r.Provider, r.Grain, created})
	k.records++
	k.h.Reset()
	k.h.WriteString(r.Provider)
	k.h.WriteByte(0)
	k.h.WriteString(string(r.Grain))
	k.h.WriteByte(0)
	k.h.WriteString(r.ID)
	p := &b.p
	p.text(r.ID)
	// The occurrence is numbered when the batch is full (see flush).
	b.ids, b.occAt = append(b.ids, k.h.Sum64()), append(b.occAt, len(p.vals))
	p.int(0)
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
	p.int(created)
	p.int(avail)
	p.text(r.PayoutID)
	p.text(r.Description)
	p.bool(r.Test)
	p.int(r.PresentmentAmount)
	p.text(r.PresentmentCurrency)
	p.text(r.ExchangeRate)
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
func (k *sink) newBatch(provider string, grain provider.Grain) *batch {
	var b *batch
	select {
	case b = <-k.batches:
		b.n, b.unordered = 0, false
		b.p.reset()
		b.ids, b.occAt = b.ids[:0], b.occAt[:0]
	default:
		b = &batch{}
	}
	b.provider, b.grain = provider, grain
	b.p.text(provider)
	b.p.text(string(grain))
	b.p.int(k.importID)
	return b
}

// flush numbers the occurrences of the current batch's records and hands
// the batch to the writer. Numbering them together, in a loop that does
// nothing else, lets the processor wait on the memory of several at once:
// the set of hashes is far larger than its caches, and each lookup was
// otherwise a wait of its own (0.4 s of a 1,075,265-row import).
func (k *sink) flush() error {
	b := k.cur
	k.cur = nil
	if b == nil || b.n == 0 {
		return nil
	}
	for i, h := range b.ids {
		b.p.vals[b.occAt[i]] = int64(k.seen.add(h))
	}
	return k.send(job{batch: b})
}

func (k *sink) Quarantine(q provider.Quarantined) error {
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
