package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

func benchLedger(b *testing.B) (*ledger.Ledger, *sqlite.Store) {
	b.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return ledger.New(st, nil), st
}

// captureEntry is a typical capture: gross to sales, fee to expenses, net to
// the provider's pending balance, plus a tax line: four postings.
func captureEntry(i int, at time.Time) ledger.EntryInput {
	gross := decimal.New(int64(1000+i%9000), -2)
	fee := decimal.New(int64(30+i%100), -2)
	tax := decimal.New(int64(5+i%20), -2)
	return ledger.EntryInput{
		Key:         fmt.Sprintf("bench-%d", i),
		OccurredAt:  at.Add(time.Duration(i) * time.Second),
		Description: "capture",
		Postings: []ledger.PostingInput{
			{Account: "assets:receivables", Currency: "usd", Amount: gross.Sub(fee).Sub(tax)},
			{Account: "expenses:fees:stripe_fee", Currency: "usd", Amount: fee},
			{Account: "liabilities:tax:sales", Currency: "usd", Amount: tax},
			{Account: "income:sales", Currency: "usd", Amount: gross.Neg()},
		},
	}
}

// BenchmarkPostEntriesBatched posts entries of four postings in batches of
// 1,000 per database transaction, balances maintained. Target: ≥ 150,000/s.
func BenchmarkPostEntriesBatched(b *testing.B) {
	books, _ := benchLedger(b)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 1000
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ins := make([]ledger.EntryInput, batch)
		for j := range ins {
			ins[j] = captureEntry(n, at)
			n++
		}
		if _, err := books.PostEntries(ctx, ins); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkPostEntrySingle posts one entry per database transaction, the
// path of an embedding application. Target: ≥ 5,000/s.
func BenchmarkPostEntrySingle(b *testing.B) {
	books, _ := benchLedger(b)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := books.PostEntry(ctx, captureEntry(i, at)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkCaptureSingle runs the full lifecycle call (payment row, entry,
// balance transaction, idempotency record) once per transaction.
func BenchmarkCaptureSingle(b *testing.B) {
	books, _ := benchLedger(b)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := books.Capture(ctx, ledger.CaptureRequest{
			Key: fmt.Sprintf("cap-%d", i), PaymentID: fmt.Sprintf("pay-%d", i), Provider: "stripe",
			ProviderRef: fmt.Sprintf("ch_%d", i), Currency: "usd", Amount: decimal.New(2999, -2),
			Fees: []ledger.Fee{{Type: "stripe_fee", Amount: decimal.New(117, -2)}}, At: at.Add(time.Duration(i) * time.Second),
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "captures/s")
}

// BenchmarkTrialBalance reads every maintained balance of a ledger of
// 1,000,000 entries (10,000 in -short mode). Target: ≤ 50 ms.
func BenchmarkTrialBalance(b *testing.B) {
	books, _ := benchLedger(b)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	total := 1_000_000
	if testing.Short() {
		total = 10_000
	}
	const batch = 5000
	for n := 0; n < total; n += batch {
		ins := make([]ledger.EntryInput, batch)
		for j := range ins {
			ins[j] = captureEntry(n+j, at)
			ins[j].Postings[0].Account = fmt.Sprintf("assets:receivables:m%d", (n+j)%200)
		}
		if _, err := books.PostEntries(ctx, ins); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bals, err := books.Balances(ctx, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(bals) != 203 {
			b.Fatalf("%d balances", len(bals))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}
