package sqlite

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"
)

// import_content is documented as DEFLATE (RFC 1951), so that any tool can
// read the stored files: the standard library's inflater reads what the
// deflater writes.
func TestStoredChunksAreDeflate(t *testing.T) {
	file := []byte(strings.Repeat("txn_1,2026-01-02 03:04:05,usd,10.00,0.59,9.41,charge,ch_1,\"Sale, one\"\n", 5000))
	var d deflater
	for range 2 { // the second chunk reuses the writer
		p := d.chunk(1, 0, file)
		off, n := p.vals[3]>>32, p.vals[3]&0xffffffff
		got, err := io.ReadAll(flate.NewReader(bytes.NewReader(p.bytes[off : off+n])))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, file) {
			t.Fatalf("inflated %d bytes, want the %d of the file", len(got), len(file))
		}
		if n >= int64(len(file))/2 {
			t.Errorf("a repetitive file compressed to %d of %d bytes", n, len(file))
		}
	}
}
