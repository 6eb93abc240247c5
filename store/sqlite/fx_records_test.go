package sqlite_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/settlehq/settle/provider"
)

// Converted records keep their presentment side and rate through the store.
func TestConvertedRecordsRoundTrip(t *testing.T) {
	for _, name := range []string{"stripe-itemized-csv/converted.itemized.csv", "stripe-balance-json/converted.json"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "importers", name))
			if err != nil {
				t.Fatal(err)
			}
			st := open(t, filepath.Join(t.TempDir(), "t.db"))
			defer st.Close()
			stats, err := importData(t, st, filepath.Base(name), string(b), false)
			if err != nil {
				t.Fatal(err)
			}
			want := readAll(t, filepath.Base(name), string(b))
			got := storedRecords(t, st, provider.RecordFilter{ImportID: stats.ImportID})
			if len(got) != len(want) {
				t.Fatalf("%d records stored, want %d", len(got), len(want))
			}
			converted := 0
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("stored %+v\nwant   %+v", got[i], want[i])
				}
				if got[i].PresentmentCurrency != "" || got[i].ExchangeRate != "" {
					converted++
				}
			}
			if converted < 2 {
				t.Errorf("%d converted records", converted)
			}
		})
	}
}
