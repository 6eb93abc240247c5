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

enum { param_null, param_int, param_text, param_blob };

// settle_exec binds the n parameters, steps the statement to its end and
// resets it. The texts and blobs are bound without a copy (a null
// destructor is SQLITE_STATIC): they are read during the step, and the
// bindings are cleared before returning, so SQLite keeps no pointer into Go
// memory. It returns 0 and the rows changed, or SQLite's extended error code.
static int settle_exec(sqlite3_stmt *st, int n, const unsigned char *kinds, const long long *vals,
		const char *bytes, long long *changes) {
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		// Never a null pointer, which SQLite would bind as NULL.
		const char *p = bytes ? bytes + (vals[i] >> 32) : "";
		int len = (int)(vals[i] & 0xffffffff);
		switch (kinds[i]) {
		case param_int:  rc = sqlite3_bind_int64(st, i + 1, vals[i]); break;
		case param_text: rc = sqlite3_bind_text(st, i + 1, p, len, 0); break;
		case param_blob: rc = sqlite3_bind_blob(st, i + 1, p, len, 0); break;
		default:         rc = sqlite3_bind_null(st, i + 1);
		}
	}
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
*/
import "C"

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"unsafe"

	sqlite3 "github.com/mattn/go-sqlite3"
)

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
	var kinds *C.uchar
	var vals *C.longlong
	var bytes *C.char
	if len(p.kinds) > 0 {
		kinds, vals = (*C.uchar)(unsafe.Pointer(&p.kinds[0])), (*C.longlong)(unsafe.Pointer(&p.vals[0]))
	}
	if len(p.bytes) > 0 {
		bytes = (*C.char)(unsafe.Pointer(&p.bytes[0]))
	}
	st := (*C.sqlite3_stmt)(h)
	var changes C.longlong
	if rc := C.settle_exec(st, C.int(len(p.kinds)), kinds, vals, bytes, &changes); rc != 0 {
		return 0, handleError(st, rc)
	}
	return int64(changes), nil
}

// handleError is SQLite's error as the driver reports it, so that translate
// can read its code.
func handleError(st *C.sqlite3_stmt, rc C.int) error {
	msg := C.GoString(C.sqlite3_errmsg(C.sqlite3_db_handle(st)))
	return fmt.Errorf("%s: %w", msg, sqlite3.Error{Code: sqlite3.ErrNo(rc & 0xff), ExtendedCode: sqlite3.ErrNoExtended(rc)})
}
