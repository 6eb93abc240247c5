//go:build !cgo

package sqlite

import (
	"database/sql/driver"
	"errors"
	"unsafe"
)

// Without cgo there is no SQLite statement to reach (nor a working
// mattn/go-sqlite3): rawStmt always goes through the driver.

func stmtHandle(driver.Stmt) unsafe.Pointer { return nil }

func execHandle(unsafe.Pointer, *params) (int64, error) {
	return 0, errors.New("sqlite: no cgo")
}
