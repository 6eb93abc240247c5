package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/s2"
)

// contentChunk is how many bytes of an imported file one import_content row
// holds: large enough that storing the file costs little more than its bytes,
// small enough that reading one raw row back reads little else.
const contentChunk = 256 << 10

// fileWindow is the end of an imported file as the sink has received it: the
// chunk being filled and the one before. The readers read ahead of the
// records they return by far less than a chunk, so a record's raw row is in
// the window when the record arrives.
type fileWindow struct {
	prev, cur []byte
	prevStart int64 // the file offset of prev[0]; cur follows prev
}

// holds reports whether raw is the file's bytes at offset off.
func (w *fileWindow) holds(off int64, raw string) bool {
	if raw == "" || off < w.prevStart {
		return false
	}
	i, n := off-w.prevStart, int64(len(w.prev))
	end := i + int64(len(raw))
	if end > n+int64(len(w.cur)) {
		return false
	}
	if i >= n {
		return string(w.cur[i-n:end-n]) == raw
	}
	k := min(end, n)
	return string(w.prev[i:k]) == raw[:k-i] && string(w.cur[:end-k]) == raw[k-i:]
}

// compressor compresses chunks of a file for import_content, in Snappy's
// block format: an itemized report with a provider's random ids shrinks to
// about half, which spares the writer and the commit half the file's bytes
// for far less time than it takes to store them. DEFLATE at its fastest
// shrank it to two fifths, but took five times as long, and the import
// waited for it (BENCHMARKS.md, twenty-first round).
type compressor struct {
	out []byte
}

// chunk returns the parameters of the import_content row of the file bytes
// b at offset start.
func (c *compressor) chunk(importID, start int64, b []byte) *params {
	c.out = s2.EncodeSnappy(c.out[:cap(c.out)], b)
	p := &params{}
	p.int(importID)
	p.int(start)
	p.int(int64(len(b)))
	p.blob(c.out)
	p.text(codecSnappy)
	return p
}

// The codecs of import_content's chunks: what chunk writes, and what it
// wrote before migration 14.
const (
	codecSnappy  = "snappy"
	codecDeflate = "deflate"
)

const insertChunk = `INSERT INTO import_content (import_id, start, size, data, codec) VALUES (?, ?, ?, ?, ?)`

// rawReader reads records' raw rows back from import_content. It keeps the
// last few chunks it read, the most recent first: records read in order of
// time mostly lie close together in their file (in the same order, or the
// reverse), so most rows are found in them without decoding a chunk again.
type rawReader struct {
	q       querier
	chunks  []chunk       // at most rawChunks
	inflate io.ReadCloser // for chunks stored before migration 14
}

// rawChunks is how many chunks a rawReader keeps (2 MiB).
const rawChunks = 8

// chunk is a chunk of an import's file, decoded.
type chunk struct {
	importID, start int64
	data            []byte
}

// read returns the size bytes at offset off of the file of import importID.
func (r *rawReader) read(ctx context.Context, importID, off, size int64) (string, error) {
	c, err := r.chunk(ctx, importID, off)
	if err != nil {
		return "", err
	}
	if i := off - c.start; i+size <= int64(len(c.data)) {
		return string(c.data[i : i+size]), nil
	}
	// The row runs on into the next chunk.
	out := make([]byte, 0, size)
	for int64(len(out)) < size {
		at := off + int64(len(out))
		c, err := r.chunk(ctx, importID, at)
		if err != nil {
			return "", err
		}
		i := at - c.start
		out = append(out, c.data[i:min(int64(len(c.data)), i+size-int64(len(out)))]...)
	}
	return string(out), nil
}

// chunk returns the chunk of import importID that holds offset at, and
// makes it the most recent.
func (r *rawReader) chunk(ctx context.Context, importID, at int64) (*chunk, error) {
	for i, c := range r.chunks {
		if c.importID == importID && at >= c.start && at < c.start+int64(len(c.data)) {
			copy(r.chunks[1:i+1], r.chunks[:i])
			r.chunks[0] = c
			return &r.chunks[0], nil
		}
	}
	var start, size int64
	var data []byte
	var codec string
	err := r.q.QueryRowContext(ctx, `SELECT start, size, data, codec FROM import_content WHERE import_id = ? AND start <= ?
		ORDER BY start DESC LIMIT 1`, importID, at).Scan(&start, &size, &data, &codec)
	if err == nil && at >= start+size {
		err = sql.ErrNoRows
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("import %d: byte %d of its file is not stored", importID, at)
	}
	if err != nil {
		return nil, err
	}
	// Reuse the buffer of the least recent chunk once there are enough.
	var buf []byte
	if len(r.chunks) == rawChunks {
		buf = r.chunks[rawChunks-1].data
	} else {
		r.chunks = append(r.chunks, chunk{})
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if err := r.decode(codec, buf, data); err != nil {
		r.chunks = r.chunks[:len(r.chunks)-1]
		return nil, fmt.Errorf("import %d: the chunk of its file at byte %d: %w", importID, start, err)
	}
	copy(r.chunks[1:], r.chunks[:len(r.chunks)-1])
	r.chunks[0] = chunk{importID, start, buf}
	return &r.chunks[0], nil
}

// decode decodes data, a chunk stored with codec, into buf, which is the
// chunk's size.
func (r *rawReader) decode(codec string, buf, data []byte) error {
	switch codec {
	case codecSnappy:
		n, err := s2.DecodedLen(data)
		if err != nil {
			return err
		}
		if n != len(buf) {
			return fmt.Errorf("it decodes to %d bytes, not its size, %d", n, len(buf))
		}
		_, err = s2.Decode(buf, data)
		return err
	case codecDeflate:
		if r.inflate == nil {
			r.inflate = flate.NewReader(bytes.NewReader(data))
		} else if err := r.inflate.(flate.Resetter).Reset(bytes.NewReader(data), nil); err != nil {
			return err
		}
		_, err := io.ReadFull(r.inflate, buf)
		return err
	}
	return fmt.Errorf("unknown codec %q", codec)
}
