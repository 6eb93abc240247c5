//go:build !unix

package sqlite

import "os"

// buildLock does not lock outside Unix: two processes building the same
// new database at once each start it again, and the second to finish
// finds the first's at the path and says so.
func buildLock(f *os.File) (bool, error) { return true, nil }
