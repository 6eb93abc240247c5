package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/store/sqlite"
	"github.com/settlehq/settle/store/storetest"
)

// The SQLite store passes the conformance suite every store must pass.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) app.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "books.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
