package sqlite

import (
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
