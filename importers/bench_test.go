package importers

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// itemizedCSV generates a Stripe itemized report of n rows.
func itemizedCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`"balance_transaction_id","created_utc","available_on_utc","currency","gross","fee","net","reporting_category","source_id","description","automatic_payout_id","charge_id"` + "\n")
	cats := []string{"charge", "refund", "fee", "dispute", "payout"}
	for i := 0; i < n; i++ {
		gross := int64(i%100000) + 100
		fee := gross * 3 / 100
		if i%5 != 0 {
			gross, fee = -gross, 0
		}
		fmt.Fprintf(&b, `"txn_%024d","2024-06-%02d %02d:%02d:%02d","2024-06-%02d 00:00:00","usd","%d.%02d","%d.%02d","%s","%s","ch_%024d","Order %d","po_%018d","ch_%024d"`+"\n",
			i, 1+i%28, i%24, i%60, (i/60)%60, 1+(i+7)%28,
			gross/100, abs(gross%100), fee/100, fee%100, money(gross-fee), cats[i%5], i, i, i/1000, i)
	}
	return b.Bytes()
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func money(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

func BenchmarkStripeItemizedCSV(b *testing.B) {
	const rows = 100_000
	data := itemizedCSV(rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd, err := NewReader(FormatStripeItemizedCSV, "bench.csv", bytes.NewReader(data), nil)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("read %d rows", n)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestItemizedCSVGenerated keeps the benchmark's input honest.
func TestItemizedCSVGenerated(t *testing.T) {
	rd, _ := NewReader(FormatStripeItemizedCSV, "gen.csv", bytes.NewReader(itemizedCSV(1000)), nil)
	recs, errs := ReadAll(rd)
	if len(recs) != 1000 || len(errs) != 0 {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
}
