package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/store/sqlite"
)

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// Commits are copied from the write-ahead log into the database file in the
// background, long before the writer's own automatic checkpoint (1 GiB of
// log) would.
func TestCheckpointsRunInTheBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "books.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Let the checkpoint of the migrations happen, then measure.
	time.Sleep(500 * time.Millisecond)
	before := fileSize(t, path)
	books := ledger.New(st, nil)
	ins := make([]ledger.EntryInput, 2000)
	for i := range ins {
		ins[i] = ledger.EntryInput{Key: fmt.Sprintf("k%d", i), Description: "a description long enough to fill pages",
			Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("income:sales", "usd", "1")}}
	}
	if _, err := books.PostEntries(ctx, ins); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fileSize(t, path) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes 5 s after a commit: no checkpoint ran", before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A pool of one connection has none to lend besides the writer's: the
// store raises it to two, so that writes and reads (which used to wait for
// the connection the writer never returns until their context expired)
// both work.
func TestStoreOnAOneConnectionPool(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("sqlite3", sqlite.DSN(filepath.Join(t.TempDir(), "books.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	st, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	books := ledger.New(st, nil)
	e, err := books.PostEntry(ctx, ledger.EntryInput{Key: "one",
		Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("income:sales", "usd", "1")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetSetting(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	reads := []struct {
		name string
		read func() error
	}{
		{"balance", func() error {
			b, err := books.Balance(ctx, "income:sales", "usd")
			if err == nil && b != 100 {
				err = fmt.Errorf("income:sales = %d, want 100", b)
			}
			return err
		}},
		{"entry", func() error { _, err := books.Entry(ctx, e.ID); return err }},
		{"verify", func() error { _, err := books.Verify(ctx); return err }},
		{"setting", func() error {
			v, err := st.Setting(ctx, "k")
			if err == nil && v != "v" {
				err = fmt.Errorf("setting = %q", v)
			}
			return err
		}},
		{"runs", func() error { _, err := st.Runs(ctx, ""); return err }},
		{"exceptions", func() error { _, err := st.Exceptions(ctx, reconcile.ExceptionFilter{}); return err }},
	}
	for _, r := range reads {
		if err := r.read(); err != nil {
			t.Errorf("%s: %v", r.name, err)
		}
	}
}
