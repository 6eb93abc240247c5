package importers

import (
	"bytes"
	"os"
	"testing"
)

func BenchmarkStripeBalanceJSONSample(b *testing.B) {
	data, err := os.ReadFile(testdataDir + "/stripe-balance-json/balance_transactions.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rd, _ := NewReader(FormatStripeBalanceJSON, "f", bytes.NewReader(data), nil)
		if recs, errs := ReadAll(rd); len(recs) != 6 || len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}
