package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/settlehq/settle/store/sqlite"
)

// exists reports whether a file is at path.
func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// queryOne returns the one value a query (or PRAGMA) answers on db.
func queryOne(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	var v string
	if err := db.QueryRow(q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func openExclusive(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.OpenWith(context.Background(), path, &sqlite.Options{ExclusiveImport: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// An import that has the database to itself writes through a rollback
// journal, not the write-ahead log, and leaves the database in WAL mode,
// whole. So does the store's next import, after reads that left idle
// connections in its pool: the store closes them first.
func TestExclusiveImport(t *testing.T) {
	path := newDB(t)
	st := openExclusive(t, path)
	defer st.Close()
	for i, desc := range []string{"first", "second"} {
		stats, err := importThen(st, desc+".csv", itemized(3000, desc), false, func() error {
			if !exists(t, path+"-journal") || exists(t, path+"-wal") {
				return fmt.Errorf("import %d: a rollback journal %v, a write-ahead log %v; want only the journal", i+1,
					exists(t, path+"-journal"), exists(t, path+"-wal"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := [2]int{3000, 0}; i == 1 {
			want = [2]int{0, 3000}
			if got := [2]int{stats.Added, stats.Updated}; got != want {
				t.Errorf("import %d: added and updated %v, want %v", i+1, got, want)
			}
		}
		if m := queryOne(t, st.DB(), "PRAGMA journal_mode"); m != "wal" {
			t.Errorf("after import %d the database is in journal mode %q", i+1, m)
		}
		if n := queryOne(t, st.DB(), "SELECT COUNT(*) FROM provider_records WHERE description = '"+desc+"'"); n != "3000" {
			t.Errorf("after import %d: %s records of it", i+1, n)
		}
	}
	if ok := queryOne(t, st.DB(), "PRAGMA integrity_check"); ok != "ok" {
		t.Errorf("integrity_check: %s", ok)
	}
	if exists(t, path+"-journal") {
		t.Error("a rollback journal is left")
	}
}

// With another connection to the database open, the import runs in WAL
// mode, as without ExclusiveImport, and the other connection reads on.
func TestExclusiveImportBesideAnotherConnection(t *testing.T) {
	path := newDB(t)
	other, err := sql.Open("sqlite3", sqlite.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	queryOne(t, other, "SELECT COUNT(*) FROM provider_records")
	st := openExclusive(t, path)
	defer st.Close()
	_, err = importThen(st, "a.csv", itemized(2000, "a"), false, func() error {
		if exists(t, path+"-journal") || !exists(t, path+"-wal") {
			return errors.New("the import left WAL mode while another connection had the database open")
		}
		if n := queryOne(t, other, "SELECT COUNT(*) FROM provider_records"); n != "0" {
			return fmt.Errorf("the other connection read %s records before the import committed", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := queryOne(t, other, "SELECT COUNT(*) FROM provider_records"); n != "2000" {
		t.Errorf("the other connection reads %s records after the import", n)
	}
}

// holdImport starts an import of 2,000 records into st that waits, with
// every record passed on, until release is called; release returns the
// import's error. holdImport returns once the import waits. A test that
// fails before it calls release has it called as it ends, before the
// store's close if the test registered that with t.Cleanup first.
func holdImport(t *testing.T, st *sqlite.Store) (release func() error) {
	t.Helper()
	in, let := make(chan struct{}), make(chan struct{})
	imported := make(chan error, 1)
	go func() {
		_, err := importThen(st, "a.csv", itemized(2000, "a"), false, func() error {
			close(in)
			<-let
			return nil
		})
		imported <- err
	}()
	<-in
	release = sync.OnceValue(func() error {
		close(let)
		return <-imported
	})
	t.Cleanup(func() { release() })
	return release
}

// A connection opened while an import has the database to itself waits
// for the import, and then reads all of it: never the books half-written,
// nor an error.
func TestExclusiveImportMakesNewReadersWait(t *testing.T) {
	path := newDB(t)
	st := openExclusive(t, path)
	t.Cleanup(func() { st.Close() })
	release := holdImport(t, st)
	other, err := sql.Open("sqlite3", sqlite.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	type read struct {
		n   int
		err error
	}
	got := make(chan read, 1)
	go func() {
		var r read
		r.err = other.QueryRow("SELECT COUNT(*) FROM provider_records").Scan(&r.n)
		got <- r
	}()
	select {
	case r := <-got:
		t.Fatalf("a new connection read %d records (%v) while the import had the database", r.n, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.err != nil || r.n != 2000 {
		t.Errorf("the waiting connection read %d records, %v; want 2000", r.n, r.err)
	}
}

// importAndHangMain imports into the database at path with
// ExclusiveImport and a small writer cache (so that pages go into the file
// as the import runs), says "importing" on stdout once every record is
// passed on, and hangs there until killed.
func importAndHangMain(path string) int {
	st, err := sqlite.OpenWith(context.Background(), path, &sqlite.Options{ExclusiveImport: true, WriterCache: 256 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_, err = importThen(st, "big.csv", itemized(20000, "killed"), false, func() error {
		fmt.Println("importing")
		select {}
	})
	fmt.Fprintln(os.Stderr, "the import ended:", err)
	return 1
}

// An import killed while it has the database to itself leaves a hot
// journal; the next store to open the database rolls it back: no record
// and no import stored, the database whole and in WAL mode, and the file
// can be imported again.
func TestExclusiveImportKilled(t *testing.T) {
	path := newDB(t)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := startChild(t, "importing", "SETTLE_TEST_IMPORT_AND_HANG="+path)
	// Kill it once its pages are going into the database file.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > before.Size()+1<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes", fi.Size())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if !exists(t, path+"-journal") {
		t.Fatal("no rollback journal after the kill: the import did not have the database to itself")
	}

	st := openExclusive(t, path)
	defer st.Close()
	for q, want := range map[string]string{
		"SELECT COUNT(*) FROM provider_records": "0",
		"SELECT COUNT(*) FROM imports":          "0",
		"PRAGMA integrity_check":                "ok",
		"PRAGMA journal_mode":                   "wal",
	} {
		if got := queryOne(t, st.DB(), q); got != want {
			t.Errorf("after the kill, %s: %s, want %s", q, got, want)
		}
	}
	if exists(t, path+"-journal") {
		t.Error("the rollback journal is still there")
	}
	if stats, err := importThen(st, "big.csv", itemized(20000, "killed"), false, nil); err != nil || stats.Added != 20000 {
		t.Errorf("importing the file again: %+v, %v", stats, err)
	}
}

// A store opened while an import has the database to itself waits past its
// connection's busy timeout, as a write waits for the write lock: it says
// once that it waits, for whom, and opens when the import is done.
func TestStoreOpenWaitsForAnExclusiveImport(t *testing.T) {
	path := newDB(t)
	st := openExclusive(t, path)
	t.Cleanup(func() { st.Close() })
	release := holdImport(t, st)
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waits := make(chan sqlite.LockWait, 10)
	opened := make(chan error, 1)
	var other *sqlite.Store
	go func() {
		var err error
		other, err = sqlite.NewWith(context.Background(), db, &sqlite.Options{LockTimeout: time.Minute,
			OnLockWait: func(w sqlite.LockWait) { waits <- w }})
		opened <- err
	}()
	var w sqlite.LockWait
	select {
	case w = <-waits:
	case err := <-opened:
		t.Fatalf("the store opened (%v) while the import had the database", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the store neither opened nor said it waits")
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("opening after the import: %v", err)
	}
	defer other.Close()
	if len(waits) != 0 {
		t.Errorf("OnLockWait called %d times more", len(waits))
	}
	if w.Timeout != time.Minute {
		t.Errorf("lock wait %+v", w)
	}
	if n := queryOne(t, other.DB(), "SELECT COUNT(*) FROM provider_records"); n != "2000" {
		t.Errorf("the store that waited reads %s records", n)
	}
}
