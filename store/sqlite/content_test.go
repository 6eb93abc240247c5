package sqlite

import (
	"bytes"
	"compress/flate"
	"context"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
)

// import_content is documented as Snappy's block format, so that any
// Snappy library can read the stored files: a strict decoder of the
// standard format (as github.com/golang/snappy and the C++ library decode
// it, without S2's extensions) reads what the compressor writes.
func TestStoredChunksAreSnappy(t *testing.T) {
	file := []byte(strings.Repeat("txn_1,2026-01-02 03:04:05,usd,10.00,0.59,9.41,charge,ch_1,\"Sale, one\"\n", 5000))
	var z compressor
	for range 2 { // the second chunk reuses the buffer
		p := z.chunk(1, 0, file)
		off, n := p.vals[3]>>32, p.vals[3]&0xffffffff
		got, err := snappy.DecodeStrict(nil, p.bytes[off:off+n])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, file) {
			t.Fatalf("decoded %d bytes, want the %d of the file", len(got), len(file))
		}
		if n >= int64(len(file))/2 {
			t.Errorf("a repetitive file compressed to %d of %d bytes", n, len(file))
		}
		if off, n := p.vals[4]>>32, p.vals[4]&0xffffffff; string(p.bytes[off:off+n]) != codecSnappy {
			t.Errorf("codec %q, want %q", p.bytes[off:off+n], codecSnappy)
		}
	}
}

// Chunks stored before migration 14 are DEFLATE, and read as such beside
// Snappy ones; a chunk that does not decode to its size, or of a codec the
// store does not know, is an error naming the import and the byte.
func TestRawReaderReadsEitherCodec(t *testing.T) {
	s := tempStore(t)
	ctx := context.Background()
	first := []byte(strings.Repeat("a deflated row\n", 100))
	second := []byte(strings.Repeat("a snappy row\n", 100))
	var deflated bytes.Buffer
	w, err := flate.NewWriter(&deflated, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(first)
	w.Close()
	p := (&compressor{}).chunk(1, int64(len(first)), second)
	err = s.withWrite(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `INSERT INTO imports (file, sha256, format, imported_at) VALUES ('f', 'x', 'test', 0)`); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO import_content (import_id, start, size, data) VALUES (1, 0, ?, ?)`,
			len(first), deflated.Bytes()); err != nil {
			return err
		}
		off, n := p.vals[3]>>32, p.vals[3]&0xffffffff
		_, err := q.ExecContext(ctx, insertChunk, 1, len(first), len(second), p.bytes[off:off+n], codecSnappy)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &rawReader{q: s.DB()}
	// The last row of the first chunk, the first of the second, and one
	// that runs across both.
	for _, c := range []struct {
		off, size int64
		want      string
	}{
		{int64(len(first)) - 15, 15, "a deflated row\n"},
		{int64(len(first)), 13, "a snappy row\n"},
		{int64(len(first)) - 4, 6, "row\na "},
	} {
		got, err := r.read(ctx, 1, c.off, c.size)
		if err != nil || got != c.want {
			t.Errorf("bytes %d+%d: %q, %v; want %q", c.off, c.size, got, err, c.want)
		}
	}
	if _, err := s.DB().Exec(`UPDATE import_content SET size = size + 1 WHERE codec = 'snappy'`); err != nil {
		t.Fatal(err)
	}
	r = &rawReader{q: s.DB()}
	if _, err := r.read(ctx, 1, int64(len(first)), 13); err == nil || !strings.Contains(err.Error(), "import 1: the chunk of its file at byte 1500") {
		t.Errorf("a chunk shorter than its size: %v", err)
	}
	if _, err := s.DB().Exec(`UPDATE import_content SET codec = 'zstd' WHERE codec = 'snappy'`); err == nil {
		t.Error("the table took a codec it does not know")
	}
}
