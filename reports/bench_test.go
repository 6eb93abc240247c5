package reports_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reports"
)

// BenchmarkJournalCSV measures the journal CSV export of a 200,000-posting
// ledger (50,000 entries of 4 postings) and reports postings per second.
// The target (BENCHMARKS.md) is at least 500,000 postings/s.
func BenchmarkJournalCSV(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 200,000-posting ledger")
	}
	ctx := context.Background()
	l := openLedger(b)
	const entries, batch = 50_000, 2_000
	ins := make([]ledger.EntryInput, 0, batch)
	for i := range entries {
		cents := fmt.Sprintf("%d.%02d", 10+i%990, i%100)
		ins = append(ins, ledger.EntryInput{
			Key:         fmt.Sprintf("bench-%d", i),
			OccurredAt:  day0.Add(time.Duration(i) * time.Minute),
			Description: fmt.Sprintf("Sale %d", i),
			Postings: []ledger.PostingInput{
				ledger.Debit("assets:bank:operating", "usd", cents),
				ledger.Debit("expenses:fees:processing", "usd", "0.30"),
				ledger.Credit("income:sales", "usd", cents),
				ledger.Credit("liabilities:fees_payable", "usd", "0.30"),
			},
		})
		if len(ins) == batch {
			if _, err := l.PostEntries(ctx, ins); err != nil {
				b.Fatal(err)
			}
			ins = ins[:0]
		}
	}
	const postings = entries * 4
	b.ResetTimer()
	n := 0
	for b.Loop() {
		w := reports.NewCSVWriter(io.Discard)
		if err := reports.Journal(ctx, l, reports.Options{}, w); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(postings)*float64(n)/b.Elapsed().Seconds(), "postings/s")
}
