package app

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/ledger"
)

// BenchmarkReconcileBank is the night's bank reconciliation of a month's
// statement, 30 deposits that 30 ledger entries to the bank's ledger
// account explain, against books that also hold n entries that never reach
// the bank. Its cost is the bank's entries whatever n: they are marked and
// read through their own index (package store/internal/bankmark). Before
// the mark every run read every entry, about 0.5 s per million-payment
// month of books, every night, over all of time.
func BenchmarkReconcileBank(b *testing.B) {
	sizes := []int{10_000, 300_000}
	if testing.Short() {
		sizes = []int{1_000, 10_000} // CI: that it runs, not what it measures
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			ctx := context.Background()
			st := newStore(b)
			l := ledger.New(st, nil)
			day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			// Sales that never reach the bank's ledger account.
			err := generate.Entries(generate.EntryOptions{N: n, Start: day}, func(es []ledger.EntryInput) error {
				_, err := l.PostEntries(ctx, es)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			s := &generate.Statement{Account: "DE89370400440532013000", Currency: "usd", ID: "STMT-1", From: day, Through: day.AddDate(0, 0, 29)}
			for d := range 30 {
				on := day.AddDate(0, 0, d)
				amount := int64(100000 + d)
				s.Lines = append(s.Lines, generate.StatementLine{Date: on, Amount: amount, BankRef: fmt.Sprintf("WIRE%d", d), Text: "WIRE IN"})
				if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: fmt.Sprintf("wire-%d", d), OccurredAt: on.Add(9 * time.Hour),
					Postings: []ledger.PostingInput{ledger.Debit(operating, "usd", decimal.New(amount, -2).String()),
						ledger.Credit("income:other", "usd", decimal.New(amount, -2).String())}}); err != nil {
					b.Fatal(err)
				}
			}
			var buf bytes.Buffer
			if err := generate.WriteCamt053(&buf, s); err != nil {
				b.Fatal(err)
			}
			if _, err := ImportStatement(ctx, st, "statement.xml", bytes.NewReader(buf.Bytes()),
				StatementOptions{Accounts: map[string]string{"": operating}}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				rep, err := ReconcileBank(ctx, st, l, nil)
				if err != nil {
					b.Fatal(err)
				}
				if s := rep.Result.Summary; s.Deposits != 30 || s.DepositsUnexplained != 0 {
					b.Fatalf("summary %+v", s)
				}
			}
		})
	}
}
