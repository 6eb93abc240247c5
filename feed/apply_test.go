package feed_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/ledger/sqlite"
)

const mixed = `{"id":"e1","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p1","provider":"stripe","currency":"usd","amount":"10.00"}
{"id":"e2","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p2","provider":"stripe","currency":"usd","amount":10}

{"id":"e3","type":"payment.refunded","at":"2026-11-03T10:00:00Z","payment":"p1","refund":"r1","amount":"4.00"}
`

func TestApplyFileStreamsInTwoPasses(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := ledger.New(st, nil)
	opens := 0
	open := func() (io.ReadCloser, error) {
		opens++
		return io.NopCloser(strings.NewReader(mixed)), nil
	}

	// All or nothing: the bad line 2 is reported and nothing is written.
	sum, errs := feed.ApplyFile(ctx, l, "f.jsonl", open, false)
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "f.jsonl:2: ") || sum.Applied != 0 {
		t.Fatalf("without skip: %+v %v", sum, errs)
	}
	if opens != 1 {
		t.Errorf("a rejected file was opened %d times, want 1 (no second pass)", opens)
	}
	if bals, _ := l.Balances(ctx, ""); len(bals) != 0 {
		t.Errorf("a rejected file wrote balances: %v", bals)
	}

	// Skip-invalid: lines 1 and 4 land, line 2 is reported once.
	opens = 0
	sum, errs = feed.ApplyFile(ctx, l, "f.jsonl", open, true)
	if sum.Applied != 2 || sum.Skipped != 1 || len(errs) != 1 || opens != 2 {
		t.Fatalf("with skip: %+v, %d errors, %d opens", sum, len(errs), opens)
	}
	if got, _ := l.Balance(ctx, "income:refunds", "usd"); got != -400 {
		t.Errorf("income:refunds = %d, want -400", got)
	}
	// Again: everything already recorded.
	sum, _ = feed.ApplyFile(ctx, l, "f.jsonl", open, true)
	if sum.Applied != 0 || sum.Replayed != 2 {
		t.Errorf("re-applying: %+v", sum)
	}
}
