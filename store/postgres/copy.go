package postgres

import (
	"encoding/binary"
	"io"
	"math"
)

// copyRows builds the data of a binary COPY (PostgreSQL's "COPY … FROM
// STDIN (FORMAT binary)") row by row, writing each value's wire encoding
// directly: no []any row, no boxing of each value, no lookup of an
// encode plan per value, as pgx's CopyFrom does for every value it sends.
// The hot bulk paths (batched posting, imports) use it; every column type
// they write is encoded here, checked against PostgreSQL's own binary
// receive functions by the store's tests.
type copyRows struct {
	b []byte
}

// copyHeader is the binary COPY signature, flags and header extension
// length.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// OIDs of the array element types written.
const (
	oidInt8 = 20
	oidText = 25
)

func newCopyRows(capacity int) *copyRows {
	c := &copyRows{b: make([]byte, 0, capacity)}
	c.b = append(c.b, copyHeader...)
	return c
}

// reset empties the buffer for the next chunk of the same COPY (no
// header).
func (c *copyRows) reset() { c.b = c.b[:0] }

// row starts a row of n columns.
func (c *copyRows) row(n int) { c.b = binary.BigEndian.AppendUint16(c.b, uint16(n)) }

func (c *copyRows) null() { c.b = binary.BigEndian.AppendUint32(c.b, math.MaxUint32) }

func (c *copyRows) int64(v int64) {
	c.b = binary.BigEndian.AppendUint32(c.b, 8)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(v))
}

// int64OrNull writes v, or NULL when null is set.
func (c *copyRows) int64OrNull(v int64, null bool) {
	if null {
		c.null()
		return
	}
	c.int64(v)
}

func (c *copyRows) int32(v int32) {
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(v))
}

func (c *copyRows) bool(v bool) {
	c.b = binary.BigEndian.AppendUint32(c.b, 1)
	if v {
		c.b = append(c.b, 1)
	} else {
		c.b = append(c.b, 0)
	}
}

// text writes a TEXT value; the server checks its encoding, as for any
// text parameter.
func (c *copyRows) text(s string) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)))
	c.b = append(c.b, s...)
}

// textOrNull writes s, or NULL when null is set.
func (c *copyRows) textOrNull(s string, null bool) {
	if null {
		c.null()
		return
	}
	c.text(s)
}

// jsonb writes JSON text as a JSONB value (format version 1), or NULL
// when js is nil.
func (c *copyRows) jsonb(js any) {
	s, ok := js.(string)
	if !ok {
		c.null()
		return
	}
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)+1))
	c.b = append(c.b, 1)
	c.b = append(c.b, s...)
}

// arrayHeader writes the length and header of a one-dimensional array of
// n elements of type oid without NULLs, whose elements take size bytes.
func (c *copyRows) arrayHeader(oid uint32, n, size int) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(20+size))
	c.b = binary.BigEndian.AppendUint32(c.b, 1) // dimensions
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // no NULLs
	c.b = binary.BigEndian.AppendUint32(c.b, oid)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(n))
	c.b = binary.BigEndian.AppendUint32(c.b, 1) // lower bound
}

func (c *copyRows) int64Array(vs []int64) {
	c.arrayHeader(oidInt8, len(vs), 12*len(vs))
	for _, v := range vs {
		c.b = binary.BigEndian.AppendUint32(c.b, 8)
		c.b = binary.BigEndian.AppendUint64(c.b, uint64(v))
	}
}

func (c *copyRows) textArray(vs []string) {
	size := 4 * len(vs)
	for _, v := range vs {
		size += len(v)
	}
	c.arrayHeader(oidText, len(vs), size)
	for _, v := range vs {
		c.text(v)
	}
}

// trailer ends the COPY data.
func (c *copyRows) trailer() { c.b = binary.BigEndian.AppendUint16(c.b, math.MaxUint16) }

// copyStatement is the COPY statement that reads binary rows of cols into
// table.
func copyStatement(table string, cols []string) string {
	q := "COPY " + table + " ("
	for i, col := range cols {
		if i > 0 {
			q += ", "
		}
		q += col
	}
	return q + ") FROM STDIN (FORMAT binary)"
}

// chunkReader hands the chunks sent on a channel to a COPY as one stream:
// the sink encodes the next chunk while the connection sends the last.
// When the channel is closed it ends the stream, or, if abort reports an
// error, fails it (the server then discards the COPY).
type chunkReader struct {
	chunks <-chan []byte
	abort  func() error
	cur    []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		b, ok := <-r.chunks
		if !ok {
			if err := r.abort(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		r.cur = b
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
