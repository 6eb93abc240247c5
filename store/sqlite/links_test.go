package sqlite

import (
	"slices"
	"testing"

	"github.com/settlehq/settle/reconcile"
)

// Links are written in key order; the caller's slice, which a
// reconciliation's two results share, is left as it was.
func TestLinksAreWrittenInKeyOrder(t *testing.T) {
	in := []reconcile.Link{{ProviderID: "txn_c", LedgerID: "btx_1"}, {ProviderID: "txn_a", LedgerID: "btx_2"},
		{ProviderID: "txn_b", LedgerID: "btx_3", Heuristic: true}}
	was := slices.Clone(in)
	got := inKeyOrder(in)
	want := []reconcile.Link{was[1], was[2], was[0]}
	if !slices.Equal(got, want) {
		t.Errorf("in key order: %v, want %v", got, want)
	}
	if !slices.Equal(in, was) {
		t.Errorf("the caller's links changed to %v", in)
	}
	sorted := inKeyOrder(want)
	if &sorted[0] != &want[0] {
		t.Error("links already in order were copied")
	}
}
