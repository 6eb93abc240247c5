package sqlite

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/settlehq/settle/ledger"
)

// A write transaction that found the payments table empty (a month
// recorded into new books) holds the payments it saves in memory and
// writes them later, in the order of their ids: when it holds
// paymentBuffer of them, before a statement that reads or refers to
// payments, at a savepoint's edges and at the commit. A provider's payment
// ids come in no order, and each insert went to a random place of the id's
// index; written in order, many at a time, they fill it a page at a time
// (the writer's payment inserts of a month of a million payments took 7.0
// s of its CPU rather than 9.7 s: BENCHMARKS.md, thirty-seventh round). A
// payment saved again while held (an authorization captured within hours)
// is one insert.
// Into books that hold payments (a night's events), each is written as it
// is saved: the index is large already and a day's payments few, and held
// they were written at the commit, with nothing left to run beside them
// (the commit of a day into a million payments' books took 0.39–0.54 s
// rather than 0.30–0.32 s).
//
// What the transaction reads of a held payment comes from memory (Payment,
// the prefetch); every query that names the payments table writes the held
// ones first (before, syncQuerier), and so does a refund or dispute, whose
// row refers to its payment's.

// paymentBuffer is how many saved payments a transaction holds before
// writing them. A variable so that a test can make it small.
var paymentBuffer = 32768

// paymentWrite is how a held payment is written.
type paymentWrite int8

const (
	// writeInsert: the payment is known missing; a plain insert.
	writeInsert paymentWrite = iota
	// writeUpsert: the transaction did not know whether the payment is
	// stored; an insert that updates the stored row if there is one.
	writeUpsert
	// writeUpdate: the payment is stored; an update of the columns a save
	// changes (paymentUpdated).
	writeUpdate
)

// heldPayment is a payment saved and not yet written, as saved last but
// for what only an insert writes (its metadata, creation time and the
// rest of paymentInserted), which is as first saved: an update does not
// change them.
type heldPayment struct {
	p     ledger.Payment
	write paymentWrite
	// cachedIn is the generation of the payment cache that held the
	// payment when it was last saved, plus one; 0 if the cache did not
	// hold it then (paymentCache.holdsSince).
	cachedIn int
}

// holdPayment keeps p to be written later, or, in books that held
// payments before, writes it now; write says how, when the transaction
// holds none under its id. The times are checked here, so that a bad
// payment fails the save that brought it.
//
// cached says that the cache holds the payment, in its newer generation:
// the save read it there (SavePayment).
func (t *tx) holdPayment(ctx context.Context, p *ledger.Payment, write paymentWrite, cached bool) error {
	if _, _, err := storeTimes2("created_at", p.CreatedAt, "updated_at", p.UpdatedAt); err != nil {
		return err
	}
	cachedIn := 0
	if cached {
		cachedIn = t.payments.gen + 1
	}
	if h, ok := t.held[p.ID]; ok {
		setPaymentState(&h.p, p)
		h.cachedIn = cachedIn
		return nil
	}
	if !t.freshPayments.checked || !t.freshPayments.empty {
		// Books that held payments before: written at once, behind.
		return t.writePayment(ctx, p, write)
	}
	h := &heldPayment{p: *p, write: write, cachedIn: cachedIn}
	h.p.Metadata = maps.Clone(p.Metadata)
	if t.held == nil {
		t.held = map[string]*heldPayment{}
	}
	t.held[p.ID] = h
	if len(t.held) >= paymentBuffer {
		return t.flushPayments(ctx)
	}
	return nil
}

// setPaymentState copies onto dst the columns a save of src changes
// (paymentUpdated), its update time as stored.
func setPaymentState(dst, src *ledger.Payment) {
	dst.ProviderRef, dst.Status = src.ProviderRef, src.Status
	dst.Authorized, dst.Captured, dst.Refunded, dst.Disputed, dst.Fees = src.Authorized, src.Captured, src.Refunded, src.Disputed, src.Fees
	dst.SettlementCurrency, dst.Settled, dst.Unwound = src.SettlementCurrency, src.Settled, src.Unwound
	dst.UpdatedAt = fromTS(ts(src.UpdatedAt))
}

// flushPayments writes the held payments, in the order of their ids,
// behind (later.go).
func (t *tx) flushPayments(ctx context.Context) error {
	if len(t.held) == 0 {
		return nil
	}
	held := sortedHeld(t.held)
	// Payments known missing go paymentChunk an insert, payments known
	// stored paymentChunk an update; the others (not known either way)
	// one a statement, as they come. An update or upsert of one payment
	// may run before the insert of another that sorts ahead of it: no
	// payment refers to another.
	var runs [writeUpdate + 1][]*heldPayment // by write: writeInsert's and writeUpdate's
	for _, k := range held {
		h := k.h
		if h.write == writeUpsert {
			if err := t.writeOut(ctx, h); err != nil {
				return err
			}
			continue
		}
		t.leavesHold(h)
		run := &runs[h.write]
		if *run = append(*run, h); len(*run) == paymentChunk {
			if err := t.writePayments(ctx, h.write, *run); err != nil {
				return err
			}
			*run = (*run)[:0]
		}
	}
	for _, write := range []paymentWrite{writeInsert, writeUpdate} {
		if err := t.writePayments(ctx, write, runs[write]); err != nil {
			return err
		}
	}
	clear(t.held)
	return nil
}

// heldByID is a held payment with the first sixteen bytes of its id as two
// numbers, which order it as its id does until they tie.
type heldByID struct {
	hi, lo uint64
	h      *heldPayment
}

// sortedHeld returns the held payments in the order of their ids. They are
// sorted as they are held, rather than by their ids and then looked up: a
// lookup into a map of tens of thousands of payments misses the
// processor's caches. And they are compared by the numbers of their ids'
// first bytes, next to each other, rather than by the ids, each a read
// elsewhere in memory: random ids sorted by strings.Compare took 0.76 s of
// recording the million (BENCHMARKS.md, fortieth round).
func sortedHeld(held map[string]*heldPayment) []heldByID {
	out := make([]heldByID, 0, len(held))
	for _, h := range held {
		var b [16]byte
		copy(b[:], h.p.ID) // zeros after a shorter id, which sorts first, as it does as text
		out = append(out, heldByID{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), h})
	}
	slices.SortFunc(out, func(a, b heldByID) int {
		// Not cmp.Or, which would compare the ids every time.
		if c := cmp.Compare(a.hi, b.hi); c != 0 {
			return c
		}
		if c := cmp.Compare(a.lo, b.lo); c != 0 {
			return c
		}
		return strings.Compare(a.h.p.ID, b.h.p.ID)
	})
	return out
}

// paymentChunk is how many held payments one INSERT (payments known
// missing) or one UPDATE (payments known stored) writes. Written one a
// statement, the million payments of a month were a million statements,
// each a call into C and a run of SQLite's program (BENCHMARKS.md,
// thirty-ninth round), and their 276,775 later saves as many updates
// (forty-third round). The statement's buffer is a chunk's
// (laterChunkParams), kept for the next chunk.
const paymentChunk = 64

// insertPaymentsSQL is the insert of n payments known missing, and
// updatePaymentsSQL the update of n payments known stored, by n.
var insertPaymentsSQL, updatePaymentsSQL = func() (ins, upd [paymentChunk + 1]string) {
	set := make([]string, len(paymentUpdated))
	for i, c := range paymentUpdated {
		set[i] = fmt.Sprintf("%s = v.column%d", c, i+2)
	}
	tuple := "(" + placeholders(len(paymentUpdated)+1) + ")"
	for n := 1; n <= paymentChunk; n++ {
		ins[n] = insertPaymentRows(n)
		// OR FAIL, as updateBTs: no statement journal. No column it sets
		// has a constraint that could refuse its value, and a store error
		// rolls back the transaction that ran it.
		upd[n] = `UPDATE OR FAIL payments SET ` + strings.Join(set, ", ") +
			` FROM (VALUES ` + tuples(tuple, n) + `) AS v WHERE payments.id = v.column1`
	}
	return ins, upd
}()

// writePayments hands the insert (write is writeInsert) or update
// (writeUpdate) of held payments to the write-behind goroutine: every one
// must be written, once.
func (t *tx) writePayments(ctx context.Context, write paymentWrite, hs []*heldPayment) error {
	if len(hs) == 0 {
		return nil
	}
	q := t.laterChunkParams()
	query := insertPaymentsSQL[len(hs)]
	if write == writeUpdate {
		query = updatePaymentsSQL[len(hs)]
	}
	for _, h := range hs {
		if write == writeUpdate {
			q.text(h.p.ID)
			paymentState(q, &h.p, ts(h.p.UpdatedAt))
		} else if err := paymentInsertParams(q, &h.p); err != nil {
			return err
		}
	}
	return translate(t.execLater(ctx, query, q, int64(len(hs))))
}

// flushPayment writes the payment held under id, if any, now: a row about
// to refer to it must find it.
func (t *tx) flushPayment(ctx context.Context, id string) error {
	h, ok := t.held[id]
	if !ok {
		return nil
	}
	delete(t.held, id)
	return t.writeOut(ctx, h)
}

// writeOut writes a payment that was held.
func (t *tx) writeOut(ctx context.Context, h *heldPayment) error {
	t.leavesHold(h)
	return t.writePayment(ctx, &h.p, h.write)
}

// leavesHold notes a held payment about to be written: if the payment
// cache does not hold it either, a read of it goes to the table and must
// wait for this write (beforePayments), as for a payment the cache
// dropped.
func (t *tx) leavesHold(h *heldPayment) {
	if !t.payments.holdsSince(h.cachedIn) && !t.payments.has(h.p.ID) {
		t.payments.dropped = true
	}
}

// writePayment hands a payment's statement to the write-behind goroutine.
func (t *tx) writePayment(ctx context.Context, p *ledger.Payment, write paymentWrite) error {
	q := t.laterParams()
	if write == writeUpdate {
		paymentState(q, p, ts(p.UpdatedAt))
		q.text(p.ID)
		return translate(t.execLater(ctx, updatePaymentSQL, q, 1))
	}
	if err := paymentInsertParams(q, p); err != nil {
		return err
	}
	insert := insertPaymentSQL
	if write == writeUpsert {
		insert = upsertPaymentSQL
	}
	return translate(t.execLater(ctx, insert, q, -1))
}

// paymentInsertParams appends the values of an insert of p, in the order
// of insertPaymentSQL's columns.
func paymentInsertParams(q *params, p *ledger.Payment) error {
	q.text(p.ID)
	q.text(p.Provider)
	q.text(p.Currency)
	q.text(p.Customer)
	q.text(p.Description)
	if err := q.metadata(p.Metadata); err != nil {
		return err
	}
	q.text(p.CaptureMethod)
	q.intOrNull(p.PendingEntryID)
	q.int(ts(p.CreatedAt))
	paymentState(q, p, ts(p.UpdatedAt))
	return nil
}

// namesPayments reports whether query names the payments table.
func namesPayments(query string) bool { return strings.Contains(query, "payments") }
