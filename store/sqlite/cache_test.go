package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// Options.WriterCache sets the writer connection's page cache; zero keeps
// DefaultWriterCache.
func TestWriterCache(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		opt     int64
		wantKiB int64
	}{{0, DefaultWriterCache >> 10}, {BulkWriterCache, 256 << 10}, {100 << 20, 100 << 10}} {
		s, err := OpenWith(ctx, filepath.Join(t.TempDir(), "t.db"), &Options{WriterCache: c.opt})
		if err != nil {
			t.Fatal(err)
		}
		var got int64
		if err := s.writer.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != -c.wantKiB {
			t.Errorf("WriterCache %d: cache_size %d, want %d (KiB)", c.opt, got, -c.wantKiB)
		}
		s.Close()
	}
}
