package sqlite

import (
	"slices"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// The buffer of a one-row statement, an entry's with its postings, metadata
// and source, is kept for reuse; the buffer of a multi-row chunk of
// balance transactions is let go, so that a queue of sixty-four batches
// does not hold sixty-four times sixty-four of the largest buffers.
func TestOnlySmallParamBuffersAreReused(t *testing.T) {
	e := &ledger.Entry{ID: 7, Key: "evt_4ob5F1t4XeaG5rGgogV2YPCM", Phase: ledger.Pending, OccurredAt: time.Unix(1_767_225_600, 0).UTC(),
		RecordedAt: time.Unix(1_767_225_601, 0).UTC(), Description: "Order ord_BqGQ5CitnvjYSpAWndSVAlYl",
		Metadata: map[string]string{"plan": "pro", "seats": "12"},
		Source:   ledger.Source{Provider: "stripe", Type: "payment", ID: "ord_BqGQ5CitnvjYSpAWndSVAlYl", Ref: "ch_AoSewPtqbsbYRbIZX1sEHk6J"}}
	ps := []rawPosting{{1, "usd", 7638}, {2, "usd", 259}, {3, "usd", -7897}}
	var one params
	if err := appendEntryParams(&one, e, ps, false, false); err != nil {
		t.Fatal(err)
	}
	if !reusable(&one) {
		t.Errorf("an entry's buffer (%d values, %d bytes) is not reused", cap(one.vals), cap(one.bytes))
	}
	var chunk params
	for i := range btChunk {
		for range 19 { // bt_core's columns
			chunk.int(int64(i))
		}
		chunk.text("txn_1Nx4ob5F1t4XeaG5rGgogV2Y")
	}
	if reusable(&chunk) {
		t.Errorf("a chunk of %d balance transactions (%d values, %d bytes) is reused", btChunk, cap(chunk.vals), cap(chunk.bytes))
	}
}

// A chunk's buffer that has been run goes back to the chunks' own spare
// list: the next chunk takes it, grown already, and a one-row statement
// never does. Buffers past maxChunkBytes, and any beyond maxSpareChunks,
// are let go.
func TestChunkBuffersReusedForChunksOnly(t *testing.T) {
	w := &writeBehind{batches: make(chan []laterJob, 2), spent: make(chan []laterJob, 2)}
	tx := &tx{later: w}
	small, chunk := tx.laterParams(), tx.laterChunkParams()
	small.int(1)
	for i := range btChunk {
		for range 19 {
			chunk.int(int64(i))
		}
		chunk.text("txn_1Nx4ob5F1t4XeaG5rGgogV2Y")
	}
	huge := &params{bytes: make([]byte, 0, maxChunkBytes+1)}
	spent := []laterJob{{p: small}, {p: chunk}, {p: huge}, {barrier: make(chan struct{})}}
	for range maxSpareChunks {
		spent = append(spent, laterJob{p: &params{vals: make([]int64, 0, maxSpareVals+1)}})
	}
	w.spent <- spent
	w.next = []laterJob{{query: "SELECT 1"}}
	w.send()
	if n := len(w.spareChunks); n != maxSpareChunks {
		t.Errorf("%d chunk buffers kept, want %d, the bound", n, maxSpareChunks)
	}
	if slices.Contains(w.spareChunks, huge) {
		t.Errorf("a buffer of %d bytes was kept", cap(huge.bytes))
	}
	if got := tx.laterParams(); got != small {
		t.Errorf("a one-row statement got a buffer of %d values, not the small one", cap(got.vals))
	}
	if got := tx.laterParams(); got == chunk || cap(got.vals) != 0 {
		t.Errorf("a one-row statement got a buffer of %d values", cap(got.vals))
	}
	// The chunks' list is taken from its end: the buffer kept first is
	// handed out last.
	w.spareChunks = w.spareChunks[:1]
	if got := tx.laterChunkParams(); got != chunk {
		t.Errorf("a chunk got a buffer of %d values, not the chunk's of %d", cap(got.vals), cap(chunk.vals))
	}
}
