package reconcile

import (
	"strconv"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// synthetic builds n ledger balance transactions and about n provider
// records, Stripe-style, with a known share of every outcome: per 100 items,
// one missing at the provider, one missing in the ledger, one fee changed,
// one without reference (heuristic); per 1,000, one duplicated row; every
// 1,000th item is a payout sweeping the 999 before it. Half the pairs are
// linked by an earlier run.
func synthetic(n int) ([]provider.Record, []ledger.BalanceTransaction, map[string]string) {
	recs := make([]provider.Record, 0, n+n/1000)
	bts := make([]ledger.BalanceTransaction, 0, n)
	links := make(map[string]string, n/2)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var swept int64
	for i := range n {
		num := strconv.Itoa(i)
		at := base.Add(time.Duration(i) * time.Second)
		po := "po_" + strconv.Itoa(i/1000)
		typ, amount, fee := "charge", int64(1000+(i*7919)%1000003), int64(30+i%97)
		if i%10 == 9 {
			typ, amount, fee = "refund", -amount, 0
		}
		if i%1000 == 999 {
			typ, amount, fee = "payout", -swept, 0
			swept = 0
		} else {
			swept += amount - fee
		}
		refPrefix := map[string]string{"charge": "ch_", "refund": "re_", "payout": "po_"}[typ]
		ref := refPrefix + num
		if typ == "payout" {
			ref = po
		}
		b := ledger.BalanceTransaction{ID: "bt_" + num, Provider: "stripe", Type: typ, ReportingCategory: typ,
			SourceRef: ref, Currency: "usd", Amount: amount, Fee: fee, Net: amount - fee, Status: "available",
			Created: at, AvailableOn: at.Add(48 * time.Hour)}
		if typ == "payout" {
			b.SourceID = po
		} else {
			b.PayoutID = po
		}
		r := provider.Record{Provider: "stripe", Grain: provider.BalanceGrain, ID: "txn_" + num, Type: typ,
			ReportingCategory: typ, SourceRef: refPrefix + num, Currency: "usd", Amount: amount, Fee: fee,
			Net: amount - fee, Status: "available", Created: at, AvailableOn: at.Add(48 * time.Hour)}
		if typ == "payout" {
			r.SourceRef = "po_" + strconv.Itoa(i/1000)
		} else {
			r.PayoutID = "po_" + strconv.Itoa(i/1000)
		}
		if i%2 == 0 {
			links[r.ID] = b.ID
		}
		switch {
		case typ == "payout":
		case i%100 == 10:
			bts = append(bts, b) // missing at the provider
			continue
		case i%100 == 11:
			r.SourceRef = "ch_x" + num // missing in the ledger
			r.Amount, r.Net = -7, -7-r.Fee
			delete(links, r.ID)
		case i%100 == 12:
			r.Fee, r.Net = r.Fee+1, r.Net-1 // fee changed
		case i%100 == 13:
			r.SourceRef = "" // heuristic
			delete(links, r.ID)
		}
		if i%100 == 11 {
			b.SourceRef = "ch_y" + num
			b.Amount, b.Net = -9, -9-b.Fee
		}
		bts = append(bts, b)
		recs = append(recs, r)
		if i%1000 == 4 {
			recs = append(recs, r) // a duplicated export row
		}
	}
	return recs, bts, links
}

func TestSyntheticSummary(t *testing.T) {
	recs, bts, links := synthetic(10_000)
	r := MatchBalances(recs, bts, &Options{Links: links})
	s := r.Summary
	// 10 payouts; per 100: 1 missing each side, 1 mismatched, 1 heuristic.
	// Each payout sweeps items the generator removed (provider side) or
	// altered (ledger side, the i%100 == 11 amounts), so all 10 payouts are
	// off on both sides.
	if s.MissingAtProvider != 100 || s.MissingInLedger != 100 || s.Mismatched != 100 || s.Heuristic != 100 ||
		s.Duplicates != 10 || s.Matched != 10_000-100-100-100 {
		t.Errorf("summary %+v", s)
	}
	if s.PayoutMismatches != 20 {
		t.Errorf("payout mismatches = %d, want 20", s.PayoutMismatches)
	}
}

func benchmarkReconcile(b *testing.B, n int) {
	recs, bts, links := synthetic(n)
	b.ReportAllocs()
	b.ResetTimer()
	var r *Result
	for b.Loop() {
		r = MatchBalances(recs, bts, &Options{Links: links})
	}
	b.ReportMetric(float64(r.Summary.Matched), "matched")
	b.ReportMetric(float64(len(r.Outcomes)), "outcomes")
}

// BenchmarkReconcile1M matches 1,000,000 provider records against 1,000,000
// ledger balance transactions.
func BenchmarkReconcile1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1M items: skipped in short mode; see BenchmarkReconcile10K")
	}
	benchmarkReconcile(b, 1_000_000)
}

// BenchmarkReconcile10K is the short-mode version.
func BenchmarkReconcile10K(b *testing.B) { benchmarkReconcile(b, 10_000) }

// BenchmarkMatchSides1M is BenchmarkReconcile1M on compact sides made
// once, with the links as a list, as a reconciliation run matches: the
// projection of whole records (which MatchBalances makes first) is not
// timed.
func BenchmarkMatchSides1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1M items: skipped in short mode; see BenchmarkMatchSides10K")
	}
	benchmarkMatchSides(b, 1_000_000)
}

// BenchmarkMatchSides10K is the short-mode version.
func BenchmarkMatchSides10K(b *testing.B) { benchmarkMatchSides(b, 10_000) }

func benchmarkMatchSides(b *testing.B, n int) {
	recs, bts, links := synthetic(n)
	p, l := NewProviderSide(len(recs)), NewLedgerSide(len(bts))
	for i := range recs {
		p.Add(&recs[i])
	}
	for j := range bts {
		l.Add(&bts[j])
	}
	list := make([]Link, 0, len(links))
	for pid, lid := range links {
		list = append(list, Link{ProviderID: pid, LedgerID: lid})
	}
	b.ReportAllocs()
	b.ResetTimer()
	var r *Result
	for b.Loop() {
		r = MatchSides(p, l, &Options{LinkList: list})
	}
	b.ReportMetric(float64(r.Summary.Matched), "matched")
	b.ReportMetric(float64(len(r.Outcomes)), "outcomes")
}
