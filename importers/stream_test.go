package importers

import (
	"fmt"
	"io"
	"runtime"
	"testing"
)

// genReader produces a large file piece by piece, so the test itself holds
// none of it.
type genReader struct {
	head, tail string
	n, i       int
	row        func(i int) string
	buf        []byte
	done       bool
}

func (g *genReader) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case g.done:
			return 0, io.EOF
		case g.head != "":
			g.buf, g.head = []byte(g.head), ""
		case g.i < g.n:
			g.buf = []byte(g.row(g.i))
			g.i++
		default:
			g.buf, g.done = []byte(g.tail), true
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// TestStreamingMemoryIsFlat reads 200,000 records of a JSON list and of a
// CSV report and checks the live heap stays small throughout.
func TestStreamingMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const n = 200_000
	inputs := map[string]*genReader{
		FormatStripeBalanceJSON: {
			head: `{"object":"list","url":"/v1/balance_transactions","data":[` + "\n", tail: "\n],\"has_more\":false}\n", n: n,
			row: func(i int) string {
				sep := ",\n"
				if i == n-1 {
					sep = ""
				}
				return fmt.Sprintf(`{"id":"txn_%d","object":"balance_transaction","amount":%d,"fee":30,"net":%d,"currency":"usd","type":"charge","reporting_category":"charge","source":{"id":"ch_%d","object":"charge"},"status":"available","created":1700000000,"available_on":1700600000}%s`, i, 1000+i, 970+i, i, sep)
			},
		},
		FormatStripeItemizedCSV: {
			head: "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n", n: n,
			row: func(i int) string {
				return fmt.Sprintf("txn_%d,2024-06-01 00:00:00,usd,%d.00,0.30,%d.70,charge\n", i, 10+i, 9+i)
			},
		},
	}
	for format, in := range inputs {
		rd, err := NewReader(format, "big", in, nil)
		if err != nil {
			t.Fatal(err)
		}
		var peak uint64
		var ms runtime.MemStats
		count := 0
		for {
			rec, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if count++; count%20_000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
				if want := fmt.Sprintf("txn_%d", count-1); rec.ID != want || rec.Line < count {
					t.Fatalf("%s: record %d is %s at line %d", format, count, rec.ID, rec.Line)
				}
			}
		}
		if count != n {
			t.Fatalf("%s: %d records", format, count)
		}
		if peak > 16<<20 {
			t.Errorf("%s: live heap reached %d MiB", format, peak>>20)
		}
		t.Logf("%s: %d records, peak live heap %.1f MiB", format, count, float64(peak)/(1<<20))
	}
}
