package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/settlehq/settle/provider"
)

// Repeats of a record id within a file are kept and numbered; the same
// record in a later, overlapping export updates the first (and keeps its
// store id); every field round-trips; quarantined rows are counted; a
// large file arrives whole; ids grow, so RecordsSince sees only the new.
func testRecordOccurrencesAndUpdates(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	fx := record("txn_fx", 10812, t0.Add(2*time.Hour))
	fx.PresentmentAmount, fx.PresentmentCurrency, fx.ExchangeRate, fx.Test = 10000, "eur", "1.0812", true
	fx.Offset, fx.Line, fx.Description, fx.PayoutID, fx.Fee, fx.Net = 1234, 7, "a charge", "po_1", 344, 10468
	var first provider.ImportStats
	first = must(st.Import(ctx, provider.ImportFile{File: "a.csv", SHA256: "sum-a"}, func(s provider.Sink) error {
		for _, r := range []provider.Record{record("txn_1", 100, t0), record("txn_1", 100, t0), fx} {
			if err := s.Add(&r); err != nil {
				return err
			}
		}
		return s.Quarantine(provider.Quarantined{Line: 9, Problem: "bad amount", Raw: "x,y"})
	})).ok(t)
	if first.Added != 3 || first.Records != 4 || first.Quarantined != 1 {
		t.Errorf("first import %+v, want 3 added of 4 records, 1 quarantined", first)
	}
	var got []provider.Record
	collect := func(f provider.RecordFilter) {
		got = got[:0]
		if err := st.EachRecord(ctx, f, func(r *provider.Record) error {
			got = append(got, *r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	collect(provider.RecordFilter{Provider: "stripe", Grain: provider.BalanceGrain})
	if len(got) != 3 || got[0].ID != "txn_1" || got[1].ID != "txn_1" || got[2].ID != "txn_fx" {
		t.Fatalf("records after the first import: %v", got)
	}
	if r := got[2]; r.PresentmentAmount != 10000 || r.PresentmentCurrency != "eur" || r.ExchangeRate != "1.0812" || !r.Test ||
		r.Offset != 1234 || r.Line != 7 || r.Description != "a charge" || r.PayoutID != "po_1" || r.Fee != 344 ||
		r.Net != 10468 || r.File != "x.csv" || r.Format != "stripe-itemized-csv" || r.Raw != "raw row of txn_fx" ||
		!r.AvailableOn.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("record read back %+v", r)
	}
	collect(provider.RecordFilter{Provider: "stripe", NoRaw: true})
	if got[0].Raw != "" {
		t.Errorf("NoRaw gave a raw row %q", got[0].Raw)
	}
	since := must(st.RecordsSince(ctx, "stripe", provider.BalanceGrain, 0)).ok(t)

	// An overlapping export: txn_1 (its first occurrence) changed, txn_fx
	// unchanged, txn_2 new.
	changed := record("txn_1", 150, t0)
	changed.Status = "available"
	second := importRecords(t, st, "sum-b", changed, fx, record("txn_2", 200, t0.Add(time.Hour)))
	if second.Added != 1 || second.Updated != 1 {
		t.Errorf("overlapping import %+v, want 1 added and 1 updated", second)
	}
	collect(provider.RecordFilter{Provider: "stripe", RecordID: "txn_1"})
	if len(got) != 2 || got[0].Amount != 150 || got[0].Status != "available" || got[1].Amount != 100 {
		t.Errorf("txn_1 after the update: %+v", got)
	}
	if after := must(st.RecordsSince(ctx, "stripe", provider.BalanceGrain, since.MaxID)).ok(t); after.Count != 1 ||
		!after.MinCreated.Equal(t0.Add(time.Hour)) {
		t.Errorf("records since the first import: %+v, want only txn_2", after)
	}

	// A large file arrives whole, in file order.
	const n = 5003
	var big []provider.Record
	for i := range n {
		big = append(big, record(fmt.Sprintf("txn_big_%05d", i), int64(i+1), t0.Add(time.Duration(i)*time.Second)))
	}
	if s := importRecords(t, st, "sum-big", big...); s.Added != n {
		t.Errorf("large import added %d, want %d", s.Added, n)
	}
	collect(provider.RecordFilter{From: t0.Add(10 * time.Second), To: t0.Add(20 * time.Second)})
	if len(got) != 10 { // t0+10s … t0+19s holds ten records of the big file
		t.Errorf("window holds %d records, want 10", len(got))
	}

	// The same file imported by many at once is stored once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	loaded := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := st.Import(ctx, provider.ImportFile{File: "c.csv", SHA256: "sum-c"}, func(s provider.Sink) error {
				r := record("txn_c", 1, t0)
				return s.Add(&r)
			})
			if err != nil {
				t.Errorf("concurrent import: %v", err)
				return
			}
			mu.Lock()
			if !s.AlreadyLoaded {
				loaded++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if loaded != 1 {
		t.Errorf("the same file imported at once was stored %d times, want 1", loaded)
	}
}

// RecordGrains lists each provider and grain once, in order, however many
// records each has and whichever import brought them; Record finds a
// record by its provider, grain and id, each pair on its own; RecordSpan
// gives each pair's earliest and latest created.
func testRecordGrains(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	if g := must(st.RecordGrains(ctx)).ok(t); len(g) != 0 {
		t.Errorf("grains of an empty store %v", g)
	}
	var recs []provider.Record
	for i, pg := range [][2]string{{"stripe", "payment"}, {"justifi", "balance"}, {"stripe", "balance"}, {"stripe2", "balance"},
		{"whop", "payment"}, {"justifi", "balance"}, {"stripe", "payment"}, {"stripe", "balance"}} {
		for j := range 3 {
			r := record(fmt.Sprintf("txn_%d", j), int64(100*(i+1)+j), t0.Add(time.Duration(10-i)*time.Hour))
			r.Provider, r.Grain = pg[0], provider.Grain(pg[1])
			recs = append(recs, r)
		}
	}
	late := record("txn_late", 1, t0.Add(20*time.Hour))
	late.Provider = "stripe2"
	importRecords(t, st, "grains-1", recs[:12]...)
	importRecords(t, st, "grains-2", append(recs[12:], late)...)
	// Each pair's span: stripe2's records at 7 h and one at 20 h (the
	// second import); whop's all at 6 h.
	for _, c := range []struct {
		provider, grain string
		first, last     time.Time
	}{
		{"stripe2", "balance", t0.Add(7 * time.Hour), t0.Add(20 * time.Hour)},
		{"whop", "payment", t0.Add(6 * time.Hour), t0.Add(6 * time.Hour)},
		{"whop", "balance", time.Time{}, time.Time{}},
	} {
		first, last, err := st.RecordSpan(ctx, c.provider, provider.Grain(c.grain))
		if err != nil || !first.Equal(c.first) || !last.Equal(c.last) {
			t.Errorf("span of %s %s: %v to %v (%v), want %v to %v", c.provider, c.grain, first, last, err, c.first, c.last)
		}
	}
	want := "[[justifi balance] [stripe balance] [stripe payment] [stripe2 balance] [whop payment]]"
	if g := must(st.RecordGrains(ctx)).ok(t); fmt.Sprint(g) != want {
		t.Errorf("grains %v, want %v", g, want)
	}
	for _, c := range []struct {
		provider, grain, id string
		amount              int64
	}{
		// The same ids under each pair; where the second import has a
		// pair's records again, they are updated.
		{"stripe", "payment", "txn_1", 701}, {"stripe", "balance", "txn_2", 802}, {"justifi", "balance", "txn_0", 600},
		{"stripe2", "balance", "txn_1", 401}, {"whop", "payment", "txn_2", 502},
	} {
		r, err := st.Record(ctx, c.provider, provider.Grain(c.grain), c.id)
		if err != nil {
			t.Errorf("record %s %s %s: %v", c.provider, c.grain, c.id, err)
			continue
		}
		if r.Provider != c.provider || string(r.Grain) != c.grain || r.ID != c.id || r.Amount != c.amount {
			t.Errorf("record %s %s %s: got %s %s %s amount %d, want amount %d", c.provider, c.grain, c.id,
				r.Provider, r.Grain, r.ID, r.Amount, c.amount)
		}
	}
}
