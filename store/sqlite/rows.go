package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// rowSource is what the scanning loops read: *sql.Rows, or rawRows.
type rowSource interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// rawRowsBuffer is how many bytes of packed rows one call into C returns.
const rawRowsBuffer = 256 << 10

// rowBuffers keeps the buffers of closed rawRows for the next: adopting a
// first run's dates reads a few thousand batches of transactions, each a
// query of its own.
var rowBuffers = sync.Pool{New: func() any { b := make([]byte, rawRowsBuffer); return &b }}

// rawRows reads a query's rows many at a time, packed by one call into C
// (settle_rows), instead of a call per column and a conversion per value
// through database/sql: loading a million balance transactions or provider
// records for a reconciliation run spent most of its time there. The texts
// of a row are substrings of one string, one allocation per row rather
// than one per value, and a text equal to the previous row's is shared.
type rawRows struct {
	ctx  context.Context
	raw  func(func(dc any) error) error // runs f on the query's driver connection
	st   *rawStmt
	kept bool // st is the store's prepared statement: Close resets it, and leaves it open
	buf  []byte
	data []byte // the current batch, in buf
	off  int    // the next row's offset in data
	left int    // rows of the batch not yet returned
	cols int
	done bool // the statement has no more rows
	pend bool // the statement stands on a row not yet packed
	row  int  // the current row's offset in data
	err  error
	// last holds each column's latest text: a value equal to the previous
	// row's is shared, not copied (a provider, a currency, a file name).
	last []string
	vals []packed
}

// packed is one value of the current row, located in data.
type packed struct {
	kind       byte
	num        int64
	start, end int // a text's or blob's bytes
	fresh      bool
}

// queryRows runs query with args on a statement prepared for it on the
// driver connection raw gives, and returns its rows; it falls back to
// database/sql (fallback) when the driver's statement handle cannot be had.
func queryRows(ctx context.Context, raw func(func(dc any) error) error, fallback func() (*sql.Rows, error),
	query string, args []any) (rowSource, error) {
	r, err := startRows(ctx, raw, args, false, func(dc any) (*rawStmt, error) { return prepareRaw(ctx, dc, query) })
	switch {
	case err != nil:
		return nil, err
	case r == nil:
		return fallback()
	}
	return r, nil
}

// startRows binds args to the statement prepare gives on the connection
// raw runs on, and returns its rows; nil when the driver's statement
// handle cannot be had. A kept statement is one the store keeps prepared:
// the rows' Close resets it and leaves it open. Any other is finalized by
// Close, or here if the rows cannot start.
func startRows(ctx context.Context, raw func(func(dc any) error) error, args []any, kept bool,
	prepare func(dc any) (*rawStmt, error)) (*rawRows, error) {
	var p params
	if err := packArgs(&p, args); err != nil {
		return nil, err
	}
	var st *rawStmt
	err := raw(func(dc any) error {
		var err error
		if st, err = prepare(dc); err != nil || st.h == nil {
			return err
		}
		return bindHandle(st.h, &p)
	})
	if err == nil && st.h != nil {
		return &rawRows{ctx: ctx, raw: raw, st: st, kept: kept}, nil
	}
	if st != nil && !kept {
		st.close()
	}
	return nil, err
}

// packArgs packs query arguments as tx.exec does.
func packArgs(p *params, args []any) error {
	for i, a := range args {
		switch v := a.(type) {
		case nil:
			p.null()
		case int64:
			p.int(v)
		case int:
			p.int(int64(v))
		case bool:
			p.bool(v)
		case string:
			p.text(v)
		case []byte:
			if v == nil {
				p.null()
			} else {
				p.blob(v)
			}
		default:
			return fmt.Errorf("argument %d: unsupported type %T", i+1, a)
		}
	}
	return nil
}

func (r *rawRows) Next() bool {
	if r.err != nil {
		return false
	}
	if r.left == 0 && !r.fill() {
		return false
	}
	r.row = r.off
	r.left--
	r.off = r.skipRow(r.off)
	return r.err == nil
}

// fill reads the next batch; false when there is none.
func (r *rawRows) fill() bool {
	for !r.done {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return false
		}
		if r.buf == nil {
			r.buf = *rowBuffers.Get().(*[]byte)
		}
		var rows, used, need int
		err := r.raw(func(any) error {
			var err error
			rows, used, r.done, need, err = stepRows(r.st.h, r.pend, r.buf)
			return err
		})
		if err != nil {
			r.err = translate(err)
			return false
		}
		r.pend = need > 0
		if rows == 0 && need > len(r.buf) {
			r.buf = make([]byte, 2*need)
			continue
		}
		if rows > 0 {
			r.data, r.off, r.left = r.buf[:used], 0, rows
			return true
		}
	}
	return false
}

// skipRow returns the offset after the row at off.
func (r *rawRows) skipRow(off int) int {
	for i := 0; i < r.columns(); i++ {
		off = r.skipValue(off)
	}
	return off
}

func (r *rawRows) columns() int {
	if r.cols <= 0 {
		r.cols = columnCount(r.st.h)
	}
	return r.cols
}

func (r *rawRows) skipValue(off int) int {
	if off >= len(r.data) {
		r.err = errors.New("sqlite: packed row cut short")
		return off
	}
	switch r.data[off] {
	case 1, 2:
		return off + 9
	case 3, 4:
		n := int(le32(r.data, off+1))
		return off + 5 + n
	default:
		return off + 1
	}
}

// Scan reads the current row into dest, converting as database/sql does
// for the types the store scans into.
func (r *rawRows) Scan(dest ...any) error {
	if len(dest) != r.columns() {
		return fmt.Errorf("sqlite: %d destinations for %d columns", len(dest), r.columns())
	}
	if r.last == nil {
		r.last = make([]string, len(dest))
	}
	r.vals = r.vals[:0]
	off, total := r.row, 0
	for i, d := range dest {
		v := packed{kind: r.data[off]}
		switch v.kind {
		case 1, 2:
			v.num = int64(le64(r.data, off+1))
			off += 9
		case 3, 4:
			n := int(le32(r.data, off+1))
			v.start, v.end = off+5, off+5+n
			off += 5 + n
			if _, isBytes := d.(*[]byte); !isBytes && string(r.data[v.start:v.end]) != r.last[i] {
				v.fresh = true
				total += n
			}
		default:
			off++
		}
		r.vals = append(r.vals, v)
	}
	var texts string
	if total > 0 {
		var sb strings.Builder
		sb.Grow(total)
		for _, v := range r.vals {
			if v.fresh {
				sb.Write(r.data[v.start:v.end])
			}
		}
		texts = sb.String()
	}
	pos := 0
	for i, d := range dest {
		v := r.vals[i]
		var text string
		switch {
		case v.fresh:
			text = texts[pos : pos+v.end-v.start]
			pos += v.end - v.start
			r.last[i] = text
		case v.kind == 3 || v.kind == 4:
			if b, isBytes := d.(*[]byte); isBytes {
				*b = bytes.Clone(r.data[v.start:v.end])
				continue
			}
			text = r.last[i]
		}
		if err := assign(d, v.kind, v.num, text); err != nil {
			return fmt.Errorf("sqlite: column %d: %w", i+1, err)
		}
	}
	return nil
}

// assign stores one value of the given SQLite kind in dest.
func assign(dest any, kind byte, num int64, text string) error {
	null := kind == 5
	switch d := dest.(type) {
	case *string:
		switch kind {
		case 1:
			*d = strconv.FormatInt(num, 10)
		case 3, 4:
			*d = text
		case 5:
			return errors.New("NULL into a string")
		default:
			*d = strconv.FormatFloat(math.Float64frombits(uint64(num)), 'g', -1, 64)
		}
	case *sql.NullString:
		if null {
			*d = sql.NullString{}
			return nil
		}
		var s string
		if err := assign(&s, kind, num, text); err != nil {
			return err
		}
		*d = sql.NullString{String: s, Valid: true}
	case *int64:
		v, err := asInt(kind, num, text)
		if err != nil {
			return err
		}
		*d = v
	case *int:
		v, err := asInt(kind, num, text)
		if err != nil {
			return err
		}
		*d = int(v)
	case *bool:
		v, err := asInt(kind, num, text)
		if err != nil {
			return err
		}
		*d = v != 0
	case *sql.NullInt64:
		if null {
			*d = sql.NullInt64{}
			return nil
		}
		v, err := asInt(kind, num, text)
		if err != nil {
			return err
		}
		*d = sql.NullInt64{Int64: v, Valid: true}
	case *[]byte:
		if null {
			*d = nil
			return nil
		}
		*d = []byte(text)
	default:
		return fmt.Errorf("unsupported destination %T", dest)
	}
	return nil
}

func asInt(kind byte, num int64, text string) (int64, error) {
	switch kind {
	case 1:
		return num, nil
	case 3:
		return strconv.ParseInt(text, 10, 64)
	case 5:
		return 0, errors.New("NULL into an integer")
	default:
		return 0, fmt.Errorf("a value of SQLite type %d into an integer", kind)
	}
}

func (r *rawRows) Err() error { return r.err }

// Close resets the statement and finalizes it, unless it is kept.
func (r *rawRows) Close() error {
	if r.st == nil {
		return nil
	}
	st := r.st
	if len(r.buf) == rawRowsBuffer { // not one grown for a large row
		buf := r.buf
		rowBuffers.Put(&buf)
	}
	r.st, r.left, r.done, r.buf, r.data = nil, 0, true, nil, nil
	return r.raw(func(any) error {
		resetHandle(st.h)
		if r.kept {
			return nil
		}
		return st.close()
	})
}

// le32 and le64 read little-endian numbers.
func le32(s []byte, i int) uint32 {
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

func le64(s []byte, i int) uint64 {
	return uint64(le32(s, i)) | uint64(le32(s, i+4))<<32
}
