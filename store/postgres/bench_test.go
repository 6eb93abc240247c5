package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// BenchmarkPostEntriesBatched posts entries of four postings in batches of
// 5,000 per transaction through the public API (ledger.PostEntries), which
// writes them with COPY, balances maintained. Target: ≥ 50,000 entries/s.
func BenchmarkPostEntriesBatched(b *testing.B) {
	l := ledger.New(openTest(b, nil), nil)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const size = 5000
	n := 0
	for b.Loop() {
		ins := batch(fmt.Sprint("b", n), size, at)
		if _, err := l.PostEntries(ctx, ins); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*size)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkPostEntry posts one entry of four postings per transaction, the
// embedded API path (ledger.PostEntry): idempotency, closed-period check,
// entry and postings, balances. Target: ≥ 2,000 entries/s on one
// connection.
func BenchmarkPostEntry(b *testing.B) {
	l := ledger.New(openTest(b, nil), nil)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for b.Loop() {
		if _, err := l.PostEntry(ctx, batch(fmt.Sprint("e", n), 1, at)[0]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkCapture authorizes and captures payments, one operation per
// transaction: the lifecycle path with a payment row, a pending entry to
// resolve, a balance transaction and a stored request.
func BenchmarkCapture(b *testing.B) {
	l := ledger.New(openTest(b, nil), nil)
	ctx := context.Background()
	n := 0
	for b.Loop() {
		id := fmt.Sprint("pay_", n)
		if _, err := l.Capture(ctx, ledger.CaptureRequest{Key: "cap-" + id, PaymentID: id, Provider: "stripe",
			Currency: "usd", Amount: dec("10.00"), Fees: []ledger.Fee{{Amount: dec("0.59")}}}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "captures/s")
}

// BenchmarkConcurrentWriters posts one entry per transaction from 1, 2, 4
// and 8 goroutines, each on its own connection and its own accounts (as
// writers for different payments are), to show how throughput scales with
// connections.
func BenchmarkConcurrentWriters(b *testing.B) {
	for _, conns := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			url := serverURL(b)
			sep := "?"
			if strings.Contains(url, "?") {
				sep = "&"
			}
			s, err := Open(context.Background(), url+sep+"pool_max_conns="+fmt.Sprint(conns), &Options{Schema: testSchema(b)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			l := ledger.New(s, nil)
			ctx := context.Background()
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N/conns + 1
			for w := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: fmt.Sprint("w", w, "-", i), OccurredAt: at,
							Postings: []ledger.PostingInput{
								ledger.Debit(fmt.Sprintf("assets:receivables:w%d", w), "usd", "10.00"),
								ledger.Credit(fmt.Sprintf("income:sales:w%d", w), "usd", "10.00")}}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(per*conns)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
