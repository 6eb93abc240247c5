package feed_test

import (
	"io"
	"testing"

	"github.com/settlehq/settle/feed"
)

// BenchmarkRead parses capture lines with a fee and metadata, the feed's
// commonest shape.
func BenchmarkRead(b *testing.B) {
	line := []byte(capture + `,"provider_ref":"ch_3Q1001","customer":"cus_ada","description":"Pro plan","fees":[{"type":"stripe_fee","amount":"1.17"}],"metadata":{"plan":"pro"},"available_on":"2026-11-04T00:00:00Z"}` + "\n")
	b.SetBytes(int64(len(line)))
	rd := feed.NewReader("f.jsonl", &lines{line: line, n: b.N})
	b.ReportAllocs()
	for {
		if _, err := rd.Next(); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
	}
}
