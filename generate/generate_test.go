package generate_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/store/sqlite"
)

// exports is one generated history.
type exports struct {
	feed, csv, json, rates []byte
	sum                    *generate.Summary
}

func gen(t testing.TB, o generate.Options) exports {
	t.Helper()
	var f, c, j, r bytes.Buffer
	sum, err := generate.Generate(o, generate.Output{Feed: &f, ItemizedCSV: &c, BalanceJSON: &j, RatesCSV: &r})
	if err != nil {
		t.Fatal(err)
	}
	return exports{f.Bytes(), c.Bytes(), j.Bytes(), r.Bytes(), sum}
}

func TestDeterministic(t *testing.T) {
	o := generate.Options{Payments: 2000, PerDay: 400, DiffRate: 0.01}
	a, b := gen(t, o), gen(t, o)
	if !bytes.Equal(a.feed, b.feed) || !bytes.Equal(a.csv, b.csv) || !bytes.Equal(a.json, b.json) {
		t.Fatal("the same options gave different bytes")
	}
	o.Seed = 7
	c := gen(t, o)
	if bytes.Equal(a.feed, c.feed) {
		t.Fatal("another seed gave the same feed")
	}
	// The diff rate alters the exports only, never the history.
	o.Seed, o.DiffRate = 0, 0
	d := gen(t, o)
	if !bytes.Equal(a.feed, d.feed) {
		t.Fatal("the diff rate changed the feed")
	}
}

// A history generated with an id base shares no id with one generated
// without, of either kind of id, in the feed or the exports; it is the
// same history under other ids.
func TestIDBase(t *testing.T) {
	idRE := regexp.MustCompile(`\b[a-z]+_[A-Za-z0-9]{8,}\b`)
	ids := func(b ...[]byte) map[string]bool {
		set := map[string]bool{}
		for _, x := range b {
			for _, id := range idRE.FindAll(x, -1) {
				// Ids have a digit or a capital; field names have none.
				if bytes.ContainsAny(id, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
					set[string(id)] = true
				}
			}
		}
		return set
	}
	for _, random := range []bool{false, true} {
		o := generate.Options{Payments: 500, PerDay: 100, DiffRate: 0.01, RandomIDs: random}
		a := gen(t, o)
		o.IDBase = 100_000
		b := gen(t, o)
		if a.sum.Events != b.sum.Events || a.sum.ExportRows != b.sum.ExportRows {
			t.Errorf("random %v: %d events and %d rows with the base, %d and %d without", random, b.sum.Events,
				b.sum.ExportRows, a.sum.Events, a.sum.ExportRows)
		}
		before, after := ids(a.feed, a.csv, a.json), ids(b.feed, b.csv, b.json)
		if len(before) < 1000 || len(after) != len(before) {
			t.Fatalf("random %v: %d ids without the base, %d with", random, len(before), len(after))
		}
		for id := range after {
			if before[id] {
				t.Errorf("random %v: %s made with and without the base", random, id)
			}
		}
	}
}

func TestInvalidOptions(t *testing.T) {
	for _, o := range []generate.Options{{}, {Payments: -1}, {Payments: 1, DiffRate: 2}, {Payments: 1, IDBase: -1}} {
		if _, err := generate.Generate(o, generate.Output{}); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// record applies a feed to a fresh SQLite ledger and makes funds available
// as of the end of the history.
func record(t testing.TB, x exports) *ledger.Ledger {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gen.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	books := ledger.New(st, nil)
	events, errs := feed.Read("gen.jsonl", bytes.NewReader(x.feed))
	for _, err := range errs {
		t.Error(err)
	}
	if len(events) != x.sum.Events {
		t.Fatalf("read %d events, generated %d", len(events), x.sum.Events)
	}
	sum, errs := feed.Apply(ctx, books, events, false)
	for _, err := range errs {
		t.Fatal(err)
	}
	if sum.Applied != x.sum.Events {
		t.Fatalf("applied %d of %d events", sum.Applied, x.sum.Events)
	}
	if _, err := books.MakeAvailable(ctx, x.sum.End); err != nil {
		t.Fatal(err)
	}
	vs, err := books.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Error(v)
	}
	return books
}

func ledgerTransactions(t testing.TB, books *ledger.Ledger) []ledger.BalanceTransaction {
	t.Helper()
	ctx := context.Background()
	var out []ledger.BalanceTransaction
	err := books.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachBalanceTransaction(ctx, ledger.BTFilter{}, func(bt *ledger.BalanceTransaction) error {
			out = append(out, *bt)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func read(t testing.TB, format string, b []byte) []*provider.Record {
	t.Helper()
	rd, err := importers.NewReader(format, format, bytes.NewReader(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := importers.ReadAll(rd)
	for _, err := range errs {
		t.Error(err)
	}
	return recs
}

type matchKey struct{ ref, kind string }

// idKinds are the generator's two kinds of id (Options.RandomIDs), for
// tests that run on both.
var idKinds = []struct {
	name   string
	random bool
}{{"numbered ids", false}, {"random ids", true}}

// mirrorOptions is the history the ledger tests record.
var mirrorOptions = generate.Options{Payments: 3000, PerDay: 50, TailDays: 40}

// TestExportsMirrorLedger records a generated feed in a real ledger and
// checks that, with no injected differences, each export holds exactly the
// ledger's balance transactions: same source, kind, amounts, currency,
// times, status and payout.
func TestExportsMirrorLedger(t *testing.T) {
	for _, k := range idKinds {
		t.Run(k.name, func(t *testing.T) {
			o := mirrorOptions
			o.RandomIDs = k.random
			testExportsMirrorLedger(t, o)
		})
	}
}

func testExportsMirrorLedger(t *testing.T, o generate.Options) {
	x := gen(t, o)
	s := x.sum
	for name, n := range map[string]int{"refunds": s.Refunds, "partial captures": s.PartialCaptures,
		"cancellations": s.Cancellations, "disputes won": s.DisputesWon, "disputes lost": s.DisputesLost,
		"payouts": s.Payouts, "failed payouts": s.PayoutsFailed} {
		if n == 0 {
			t.Errorf("no %s generated", name)
		}
	}
	books := record(t, x)
	bts := ledgerTransactions(t, books)
	if numbered := strings.HasPrefix(bts[0].SourceRef, "ch_0000"); numbered == o.RandomIDs {
		t.Fatalf("RandomIDs %v, and the first charge is %s", o.RandomIDs, bts[0].SourceRef)
	}
	t.Run("reconcile", func(t *testing.T) { testReconcile(t, o, bts) })
	if len(bts) != s.LedgerTransactions {
		t.Fatalf("ledger has %d balance transactions, generator says %d", len(bts), s.LedgerTransactions)
	}
	want := map[matchKey]ledger.BalanceTransaction{}
	curs := map[string]bool{}
	for _, bt := range bts {
		k := matchKey{bt.SourceRef, ledger.KindOf(bt.Type, bt.ReportingCategory)}
		if _, dup := want[k]; dup {
			t.Fatalf("two ledger transactions for %v", k)
		}
		want[k] = bt
		curs[bt.Currency] = true
	}
	if len(curs) != 3 {
		t.Errorf("currencies %v", curs)
	}
	for _, format := range []string{importers.FormatStripeItemizedCSV, importers.FormatStripeBalanceJSON} {
		b := x.csv
		if format == importers.FormatStripeBalanceJSON {
			b = x.json
		}
		recs := read(t, format, b)
		if len(recs) != len(bts) {
			t.Errorf("%s: %d records, ledger has %d", format, len(recs), len(bts))
		}
		for _, r := range recs {
			k := matchKey{r.SourceRef, ledger.KindOf(r.Type, r.ReportingCategory)}
			bt, ok := want[k]
			if !ok {
				t.Errorf("%s:%d: %v not in the ledger", format, r.Line, k)
				continue
			}
			if r.Amount != bt.Amount || r.Fee != bt.Fee || r.Net != bt.Net || r.Currency != bt.Currency ||
				!r.Created.Equal(bt.Created) || !r.AvailableOn.Equal(bt.AvailableOn) {
				t.Errorf("%s:%d: %v: provider %d/%d/%d %s %v %v, ledger %d/%d/%d %s %v %v", format, r.Line, k,
					r.Amount, r.Fee, r.Net, r.Currency, r.Created, r.AvailableOn,
					bt.Amount, bt.Fee, bt.Net, bt.Currency, bt.Created, bt.AvailableOn)
			}
			if r.Status != "" && r.Status != bt.Status {
				t.Errorf("%s:%d: %v: status %s, ledger %s", format, r.Line, k, r.Status, bt.Status)
			}
			if format == importers.FormatStripeItemizedCSV && bt.Type != "payout" && bt.Type != "payout_failure" && r.PayoutID != bt.PayoutID {
				t.Errorf("%s:%d: %v: payout %q, ledger %q", format, r.Line, k, r.PayoutID, bt.PayoutID)
			}
		}
	}
}

func TestPairs(t *testing.T) {
	for _, k := range idKinds {
		t.Run(k.name, func(t *testing.T) {
			testPairs(t, generate.PairOptions{N: 20000, DiffRate: 0.01, RandomIDs: k.random})
		})
	}
}

func testPairs(t *testing.T, o generate.PairOptions) {
	recs, bts, diffs := generate.Pairs(o)
	if numbered := strings.HasPrefix(recs[0].ID, "txn_0000"); numbered == o.RandomIDs {
		t.Fatalf("RandomIDs %v, and the first record is %s", o.RandomIDs, recs[0].ID)
	}
	if len(bts) != 20000 {
		t.Fatalf("%d ledger transactions", len(bts))
	}
	n := map[generate.DiffKind]int{}
	for _, d := range diffs {
		n[d.Kind]++
	}
	if want := len(bts) - n[generate.MissingAtProvider] + n[generate.Duplicate] + n[generate.MissingInLedger]; len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	for _, k := range generate.DiffKinds {
		if n[k] == 0 {
			t.Errorf("no %s injected", k)
		}
	}
	seen := map[matchKey]bool{}
	for _, bt := range bts {
		k := matchKey{bt.SourceRef, ledger.KindOf(bt.Type, bt.ReportingCategory)}
		if seen[k] {
			t.Fatalf("%v twice", k)
		}
		seen[k] = true
		if bt.Net != bt.Amount-bt.Fee {
			t.Fatalf("%+v: net", bt)
		}
	}
	res := reconcile.MatchBalances(recs, bts, nil)
	s := res.Summary
	if s.Mismatched != n[generate.FeeOffByOne] || s.MissingAtProvider != n[generate.MissingAtProvider] ||
		s.MissingInLedger != n[generate.MissingInLedger] || s.Duplicates != n[generate.Duplicate] ||
		s.Heuristic != 0 || s.Matched != len(bts)-n[generate.FeeOffByOne]-n[generate.MissingAtProvider] {
		t.Errorf("reconcile found %+v, injected %v", s, n)
	}
	r2, b2, d2 := generate.Pairs(o)
	if len(r2) != len(recs) || len(b2) != len(bts) || len(d2) != len(diffs) || r2[len(r2)-1] != recs[len(recs)-1] {
		t.Fatal("not deterministic")
	}
}

func TestEntriesPost(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	books := ledger.New(st, nil)
	n := 0
	err = generate.Entries(generate.EntryOptions{N: 2500, Batch: 1000}, func(es []ledger.EntryInput) error {
		n += len(es)
		_, err := books.PostEntries(ctx, es)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2500 {
		t.Fatalf("%d entries", n)
	}
	if vs, err := books.Verify(ctx); err != nil || len(vs) > 0 {
		t.Fatal(err, vs)
	}
}
