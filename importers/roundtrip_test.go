package importers_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/store/sqlite"
)

// TestEdgeDatesRoundTrip stores records dated at the edges of what the
// importers accept in a real SQLite store and checks that every date comes
// back exactly as read.
func TestEdgeDatesRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	times := []string{
		"1678-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00.000000001Z",
		"2024-02-29T12:34:56.789Z", "2261-12-31T23:59:59.999999999Z",
	}
	var b strings.Builder
	b.WriteString("id,type,currency,amount,fee,net,created_at,available_on\n")
	for i, s := range times {
		b.WriteString("bt_" + string(rune('a'+i)) + ",seller_payment,usd,100,3,97," + s + "," + s + "\n")
	}
	read := map[string]*provider.Record{}
	_, err = st.Import(ctx, provider.ImportFile{File: "edges.csv", SHA256: "edges"}, func(sink provider.Sink) error {
		rd, err := importers.NewReader(importers.FormatJustiFiPayoutCSV, "edges.csv", strings.NewReader(b.String()), nil)
		if err != nil {
			return err
		}
		for {
			rec, err := rd.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			read[rec.ID] = rec
			if err := sink.Add(rec); err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = st.EachRecord(ctx, provider.RecordFilter{NoRaw: true}, func(r *provider.Record) error {
		n++
		want := read[r.ID]
		if !r.Created.Equal(want.Created) || !r.AvailableOn.Equal(want.AvailableOn) {
			t.Errorf("%s: stored %v / %v, read %v / %v", r.ID, r.Created, r.AvailableOn, want.Created, want.AvailableOn)
		}
		if w, _ := time.Parse(time.RFC3339Nano, times[r.ID[3]-'a']); !r.Created.Equal(w) {
			t.Errorf("%s: stored %v, the file says %v", r.ID, r.Created, w)
		}
		return nil
	})
	if err != nil || n != len(times) {
		t.Fatalf("%d records back, %v", n, err)
	}
}
