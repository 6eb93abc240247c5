package generate_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// testReconcile reconciles exports of the recorded history, with differences
// injected, against the ledger's balance transactions bts, and checks that
// the reconciler reports exactly the injected differences. o is the
// history recorded.
func testReconcile(t *testing.T, o generate.Options, bts []ledger.BalanceTransaction) {
	o.DiffRate = 0.03
	x := gen(t, o)
	byKind := map[generate.DiffKind][]generate.Diff{}
	for _, d := range x.sum.Diffs {
		byKind[d.Kind] = append(byKind[d.Kind], d)
	}
	for _, k := range generate.DiffKinds {
		if len(byKind[k]) == 0 {
			t.Fatalf("no %s injected", k)
		}
	}
	for _, format := range []string{importers.FormatStripeItemizedCSV, importers.FormatStripeBalanceJSON} {
		t.Run(format, func(t *testing.T) {
			b := x.csv
			if format == importers.FormatStripeBalanceJSON {
				b = x.json
			}
			recs := read(t, format, b)
			if len(recs) != x.sum.ExportRows {
				t.Fatalf("%d records, generator wrote %d", len(recs), x.sum.ExportRows)
			}
			in := make([]provider.Record, len(recs))
			for i, r := range recs {
				in[i] = *r
			}
			res := reconcile.MatchBalances(in, bts, nil)
			checkFindings(t, format, x, res.Exceptions(), res.Summary)
		})
	}
}

// checkFindings checks that the exceptions of a reconciliation of x's
// exports in format are exactly the differences the generator injected,
// and that everything else matched, none by heuristic.
func checkFindings(t *testing.T, format string, x exports, exceptions []reconcile.Outcome, s reconcile.Summary) {
	t.Helper()
	byKind := map[generate.DiffKind][]generate.Diff{}
	for _, d := range x.sum.Diffs {
		byKind[d.Kind] = append(byKind[d.Kind], d)
	}
	got := map[reconcile.OutcomeKind]map[string]bool{}
	for _, oc := range exceptions {
		if got[oc.Kind] == nil {
			got[oc.Kind] = map[string]bool{}
		}
		id := oc.ProviderID
		switch oc.Kind {
		case reconcile.MissingAtProvider, reconcile.PayoutMismatch:
			id = oc.Ref
		case reconcile.Mismatched:
			var fields []string
			for _, d := range oc.Diffs {
				fields = append(fields, d.Field)
			}
			if !slices.Equal(fields, []string{reconcile.FieldFee, reconcile.FieldNet}) {
				t.Errorf("%s: differs on %v, want fee and net", oc.ProviderID, fields)
			}
		}
		got[oc.Kind][id] = true
	}
	want := map[reconcile.OutcomeKind]map[string]bool{}
	put := func(k reconcile.OutcomeKind, id string) {
		if want[k] == nil {
			want[k] = map[string]bool{}
		}
		want[k][id] = true
	}
	for _, d := range x.sum.Diffs {
		switch d.Kind {
		case generate.FeeOffByOne:
			put(reconcile.Mismatched, d.RecordID)
		case generate.MissingAtProvider:
			put(reconcile.MissingAtProvider, d.SourceRef)
		case generate.MissingInLedger:
			put(reconcile.MissingInLedger, d.RecordID)
		case generate.Duplicate:
			put(reconcile.Duplicate, d.RecordID)
		}
		// Only the itemized report says which payout swept a record; a
		// missing conversion the ledger estimated leaves its own payout
		// short.
		if format == importers.FormatStripeItemizedCSV && d.Payout != "" &&
			(d.Kind == generate.FeeOffByOne || d.Kind == generate.MissingAtProvider) {
			put(reconcile.PayoutMismatch, d.Payout)
		}
		if d.Kind == generate.MissingAtProvider && d.Estimated && d.Payout != "" {
			put(reconcile.PayoutMismatch, d.Payout)
		}
	}
	for _, k := range []reconcile.OutcomeKind{reconcile.Mismatched, reconcile.MissingAtProvider,
		reconcile.MissingInLedger, reconcile.Duplicate, reconcile.PayoutMismatch} {
		if !maps.Equal(got[k], want[k]) {
			t.Errorf("%s: reconciler found %v, injected %v", k, slices.Sorted(maps.Keys(got[k])), slices.Sorted(maps.Keys(want[k])))
		}
	}
	if wantMatched := x.sum.LedgerTransactions - len(byKind[generate.FeeOffByOne]) - len(byKind[generate.MissingAtProvider]); s.Matched != wantMatched {
		t.Errorf("matched %d, want %d", s.Matched, wantMatched)
	}
	if s.Heuristic != 0 {
		t.Errorf("%d heuristic matches", s.Heuristic)
	}
}
