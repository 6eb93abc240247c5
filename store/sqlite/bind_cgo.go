package sqlite

/*
// The few functions of SQLite's C API that rawStmt calls, declared here
// because mattn/go-sqlite3, which compiles SQLite into the program, does not
// export its header.
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
int sqlite3_bind_int64(sqlite3_stmt*, int, long long);
int sqlite3_bind_text(sqlite3_stmt*, int, const char*, int, void (*)(void*));
int sqlite3_bind_blob(sqlite3_stmt*, int, const void*, int, void (*)(void*));
int sqlite3_bind_null(sqlite3_stmt*, int);
int sqlite3_step(sqlite3_stmt*);
int sqlite3_reset(sqlite3_stmt*);
int sqlite3_clear_bindings(sqlite3_stmt*);
sqlite3 *sqlite3_db_handle(sqlite3_stmt*);
int sqlite3_changes(sqlite3*);
int sqlite3_extended_errcode(sqlite3*);
const char *sqlite3_errmsg(sqlite3*);

int sqlite3_column_count(sqlite3_stmt*);
int sqlite3_column_type(sqlite3_stmt*, int);
long long sqlite3_column_int64(sqlite3_stmt*, int);
double sqlite3_column_double(sqlite3_stmt*, int);
const unsigned char *sqlite3_column_text(sqlite3_stmt*, int);
const void *sqlite3_column_blob(sqlite3_stmt*, int);
int sqlite3_column_bytes(sqlite3_stmt*, int);

enum { param_null, param_int, param_text, param_blob };

// settle_no_memstatus turns off SQLite's count of the memory it allocates
// (SQLITE_CONFIG_MEMSTATUS, 9), which takes a mutex on every allocation
// and free. It must come before SQLite starts; after, it fails and changes
// nothing. With the count off, sqlite3_memory_used stays 0.
int sqlite3_config(int, ...);
static int settle_no_memstatus(void) { return sqlite3_config(9, 0); }
long long sqlite3_memory_used(void);

// settle_exec binds the n parameters, steps the statement to its end and
// resets it. The texts and blobs are bound without a copy (a null
// destructor is SQLITE_STATIC): they are read during the step, and the
// bindings are cleared before returning, so SQLite keeps no pointer into Go
// memory. It returns 0 and the rows changed, or SQLite's extended error code.
static int bind_params(sqlite3_stmt *st, int n, const unsigned char *kinds, const long long *vals,
		const char *bytes, void (*destructor)(void*)) {
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		// Never a null pointer, which SQLite would bind as NULL.
		const char *p = bytes ? bytes + (vals[i] >> 32) : "";
		int len = (int)(vals[i] & 0xffffffff);
		switch (kinds[i]) {
		case param_int:  rc = sqlite3_bind_int64(st, i + 1, vals[i]); break;
		case param_text: rc = sqlite3_bind_text(st, i + 1, p, len, destructor); break;
		case param_blob: rc = sqlite3_bind_blob(st, i + 1, p, len, destructor); break;
		default:         rc = sqlite3_bind_null(st, i + 1);
		}
	}
	return rc;
}

static int settle_exec(sqlite3_stmt *st, int n, const unsigned char *kinds, const long long *vals,
		const char *bytes, long long *changes) {
	int rc = bind_params(st, n, kinds, vals, bytes, 0);
	if (rc == 0) {
		rc = sqlite3_step(st);
		if (rc == 101) { // SQLITE_DONE
			*changes = sqlite3_changes(sqlite3_db_handle(st));
			rc = 0;
		} else {
			rc = sqlite3_extended_errcode(sqlite3_db_handle(st));
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

// settle_bind binds the n parameters of a query, copying texts and blobs
// (SQLITE_TRANSIENT): the query's rows are read over several calls, after
// the Go memory holding the values may have moved.
static int settle_bind(sqlite3_stmt *st, int n, const unsigned char *kinds, const long long *vals, const char *bytes) {
	int rc = bind_params(st, n, kinds, vals, bytes, (void (*)(void*))-1);
	return rc == 0 ? 0 : sqlite3_extended_errcode(sqlite3_db_handle(st));
}

static void settle_reset(sqlite3_stmt *st) {
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void put64(unsigned char *p, unsigned long long v) {
	for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

// settle_rows steps st and packs the rows into buf, as many as fit in cap
// bytes: per column a kind byte (SQLite's type: 1 integer, 2 float, 3 text,
// 4 blob, 5 null), then 8 little-endian bytes for a number, or 4 bytes of
// length and the bytes for a text or blob. With pending set, the statement
// stands on a row stepped by an earlier call and not yet packed. It returns
// the rows packed, and sets *used, *done (the statement has no more rows)
// and *need (the size of a row that did not fit, left pending); or returns
// -1 with SQLite's extended error code in *need.
static int settle_rows(sqlite3_stmt *st, int pending, unsigned char *buf, long long cap, long long *used, int *done,
		long long *need) {
	int ncol = sqlite3_column_count(st);
	long long off = 0;
	int rows = 0;
	*done = 0;
	*need = 0;
	for (;;) {
		if (!pending) {
			int rc = sqlite3_step(st);
			if (rc == 101) { // SQLITE_DONE
				*done = 1;
				break;
			}
			if (rc != 100) { // SQLITE_ROW
				*used = off;
				*need = sqlite3_extended_errcode(sqlite3_db_handle(st));
				return -1;
			}
		}
		pending = 0;
		// One pass over the columns, packing as it goes; a row that does
		// not fit is taken back and left pending, with its size.
		long long start = off, size = 0;
		for (int i = 0; i < ncol; i++) {
			int kind = sqlite3_column_type(st, i);
			if (kind == 1 || kind == 2) {
				size += 9;
				if (off + 9 > cap) continue;
				buf[off++] = (unsigned char)kind;
				unsigned long long v;
				if (kind == 1) {
					v = (unsigned long long)sqlite3_column_int64(st, i);
				} else {
					double d = sqlite3_column_double(st, i);
					__builtin_memcpy(&v, &d, 8);
				}
				put64(buf + off, v);
				off += 8;
			} else if (kind == 3 || kind == 4) {
				const void *p = kind == 3 ? (const void *)sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
				int n = sqlite3_column_bytes(st, i);
				size += 5 + n;
				if (off + 5 + n > cap) continue;
				buf[off] = (unsigned char)kind;
				buf[off + 1] = (unsigned char)n;
				buf[off + 2] = (unsigned char)(n >> 8);
				buf[off + 3] = (unsigned char)(n >> 16);
				buf[off + 4] = (unsigned char)(n >> 24);
				off += 5;
				if (n > 0) __builtin_memcpy(buf + off, p, n);
				off += n;
			} else {
				size += 1;
				if (off + 1 > cap) continue;
				buf[off++] = 5;
			}
		}
		if (start + size > cap) {
			off = start;
			*need = size;
			break;
		}
		rows++;
	}
	*used = off;
	return rows;
}
*/
import "C"

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// SkipMemoryCount turns off SQLite's count of the memory it allocates, a
// mutex taken on every allocation and free, for the whole process: settle
// never reads the count, and recording 100k payments took 3.71 s without
// it against 3.80 s with it (BENCHMARKS.md, twentieth round). SQLite takes
// the setting when it starts, as the first database is opened; called
// after that, SkipMemoryCount changes nothing and reports false. The settle
// command calls it first. A program embedding the store may too, unless it
// reads SQLite's memory statistics or sets its soft heap limit, which need
// the count.
func SkipMemoryCount() bool { return C.settle_no_memstatus() == 0 }

// memoryCounted reports whether SQLite counts the memory it allocates.
func memoryCounted() bool { return C.sqlite3_memory_used() != 0 }

// stmtHandle returns the SQLite statement of a statement prepared by
// mattn/go-sqlite3. The driver keeps it in an unexported field, s; if the
// statement is another driver's, or the field is not there or not a
// sqlite3_stmt pointer (a driver version laid out otherwise), it returns nil
// and rawStmt goes through the driver.
func stmtHandle(ds driver.Stmt) unsafe.Pointer {
	st, ok := ds.(*sqlite3.SQLiteStmt)
	if !ok || st == nil {
		return nil
	}
	f := reflect.ValueOf(st).Elem().FieldByName("s")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return nil
	}
	if t := f.Type().Elem(); t.PkgPath() != reflect.TypeFor[sqlite3.SQLiteStmt]().PkgPath() || t.Name() != "_Ctype_struct_sqlite3_stmt" {
		return nil
	}
	return f.UnsafePointer()
}

// execHandle runs the statement h once with p, in one call into C.
func execHandle(h unsafe.Pointer, p *params) (int64, error) {
	kinds, vals, bytes := cParams(p)
	st := (*C.sqlite3_stmt)(h)
	var changes C.longlong
	if rc := C.settle_exec(st, C.int(len(p.kinds)), kinds, vals, bytes, &changes); rc != 0 {
		return 0, handleError(st, rc)
	}
	return int64(changes), nil
}

// cParams is p as settle_exec and settle_bind take it.
func cParams(p *params) (kinds *C.uchar, vals *C.longlong, bytes *C.char) {
	if len(p.kinds) > 0 {
		kinds, vals = (*C.uchar)(unsafe.Pointer(&p.kinds[0])), (*C.longlong)(unsafe.Pointer(&p.vals[0]))
	}
	if len(p.bytes) > 0 {
		bytes = (*C.char)(unsafe.Pointer(&p.bytes[0]))
	}
	return kinds, vals, bytes
}

// handleError is SQLite's error as the driver reports it, so that translate
// can read its code.
func handleError(st *C.sqlite3_stmt, rc C.int) error {
	msg := C.GoString(C.sqlite3_errmsg(C.sqlite3_db_handle(st)))
	return fmt.Errorf("%s: %w", msg, sqlite3.Error{Code: sqlite3.ErrNo(rc & 0xff), ExtendedCode: sqlite3.ErrNoExtended(rc)})
}

// bindHandle binds p's values to the query h, copying them.
func bindHandle(h unsafe.Pointer, p *params) error {
	kinds, vals, bytes := cParams(p)
	st := (*C.sqlite3_stmt)(h)
	if rc := C.settle_bind(st, C.int(len(p.kinds)), kinds, vals, bytes); rc != 0 {
		return handleError(st, rc)
	}
	return nil
}

// resetHandle resets the query h and clears its bindings.
func resetHandle(h unsafe.Pointer) { C.settle_reset((*C.sqlite3_stmt)(h)) }

// stepRows packs rows of the query h into buf (see settle_rows).
func stepRows(h unsafe.Pointer, pending bool, buf []byte) (rows, used int, done bool, need int, err error) {
	st := (*C.sqlite3_stmt)(h)
	var cused, cneed C.longlong
	var cdone C.int
	p := 0
	if pending {
		p = 1
	}
	n := C.settle_rows(st, C.int(p), (*C.uchar)(unsafe.Pointer(&buf[0])), C.longlong(len(buf)), &cused, &cdone, &cneed)
	if n < 0 {
		return 0, int(cused), false, 0, handleError(st, C.int(cneed))
	}
	return int(n), int(cused), cdone != 0, int(cneed), nil
}

// columnCount is the number of columns of the query h.
func columnCount(h unsafe.Pointer) int { return int(C.sqlite3_column_count((*C.sqlite3_stmt)(h))) }
