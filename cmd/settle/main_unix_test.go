//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/settlehq/settle/store/sqlite"
)

// Only init, record, import and demo create a database; every other command
// fails clearly on a missing one (a mistyped --db) instead of answering as
// if the books were empty, and none creates the database's folder.
func TestMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	for _, args := range [][]string{
		{"balance"},
		{"verify"},
		{"report", "trial-balance"},
		{"export", "hledger"},
		{"reconcile"},
		{"exceptions"},
		{"serve", "--once"},
	} {
		code, out, errOut := runCLI(t, append([]string{"--db", missing}, args...)...)
		if code != exitError || !strings.Contains(errOut, "no database at "+missing+"; run settle init") {
			t.Errorf("settle %s on a missing database: exit %d\n%s%s", args[0], code, out, errOut)
		}
		if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("settle %s created the database: %v", args[0], err)
		}
	}

	deep := filepath.Join(dir, "no", "such", "books.db")
	events := writeFile(t, dir, "events.jsonl", lifecycle)
	for _, args := range [][]string{{"init"}, {"record", events}, {"demo"}} {
		code, _, errOut := runCLI(t, append([]string{"--db", deep}, args...)...)
		if code == 0 || !strings.Contains(errOut, "does not exist") {
			t.Errorf("settle %s in a missing folder: exit %d\n%s", args[0], code, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("settle %s created the folder: %v", args[0], err)
		}
	}

	for _, args := range [][]string{{"init"}, {"record", events}} {
		db := filepath.Join(t.TempDir(), "books.db")
		if code, _, errOut := runCLI(t, append([]string{"--db", db}, args...)...); code != 0 {
			t.Errorf("settle %s on a new database: %s", args[0], errOut)
		}
		if code, _, errOut := runCLI(t, "--db", db, "verify"); code != 0 {
			t.Errorf("verify after %s: %s", args[0], errOut)
		}
	}
}

// The files settle creates hold financial data: under a umask of 022 the
// database (with its -wal and -shm) and the files of report --out and
// export --out are readable by their owner only, or the group too with
// --group-readable.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	for _, tc := range []struct {
		name  string
		flags []string
		want  fs.FileMode
	}{
		{"default", nil, 0o600},
		{"group readable", []string{"--group-readable"}, 0o640},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "books.db")
			cli := func(args ...string) {
				t.Helper()
				if code, _, errOut := runCLI(t, append(append([]string{"--db", db}, tc.flags...), args...)...); code != 0 {
					t.Fatalf("settle %s: %s", args[0], errOut)
				}
			}
			cli("init")
			cli("record", writeFile(t, dir, "events.jsonl", lifecycle))
			cli("report", "trial-balance", "--out", filepath.Join(dir, "tb.csv"))
			cli("export", "hledger", "--out", filepath.Join(dir, "books.journal"))
			cli("export", "beancount", "--out", filepath.Join(dir, "books.beancount"))
			cli("import", "../../testdata/demo/stripe-balance-2026-11.csv")
			outbox := filepath.Join(dir, "outbox")
			if code, _, errOut := runCLI(t, append(append([]string{"--db", db}, tc.flags...), "serve", "--once", "--outbox", outbox)...); code != 0 {
				t.Fatalf("serve --once: %s", errOut)
			}
			nights, err := filepath.Glob(filepath.Join(outbox, "*", "trial-balance.csv"))
			if err != nil || len(nights) != 1 {
				t.Fatalf("outbox reports: %v %v", nights, err)
			}
			if fi, err := os.Stat(nights[0]); err != nil || fi.Mode().Perm() != tc.want {
				t.Errorf("outbox report: %v %v, want %v", fi.Mode().Perm(), err, tc.want)
			}
			// SQLite creates -wal and -shm, while the database is open,
			// with the database file's permission.
			st, err := sqlite.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, name := range []string{"books.db", "books.db-wal", "books.db-shm", "tb.csv", "books.journal", "books.beancount"} {
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != tc.want {
					t.Errorf("%s is %v, want %v", name, fi.Mode().Perm(), tc.want)
				}
			}
		})
	}
}

// --out names what is there: a named pipe (as /dev/null or /dev/stdout
// would be, which a test must not touch) is written in place and stays a
// pipe, and a symbolic link stays a link, the file it names replaced.
// Writing next to the name and renaming over it had replaced the device:
// run as root, --out /dev/null left a regular file at /dev/null.
func TestReportOutIsWrittenInPlaceWhenNotAFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "books.db")
	bookFew(t, db)
	want, errOut := captureReport(t, db, filepath.Join(dir, "plain.csv"))

	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo) // waits for the writer
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	var out, stderr bytes.Buffer
	if code := run([]string{"--db", db, "report", "trial-balance", "--out", fifo}, &out, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, want) {
			t.Errorf("read from the pipe:\n%s\nwant:\n%s (%s)", b, want, errOut)
		}
	case <-time.After(30 * time.Second):
		// The pipe was replaced, not written: its reader waits on for
		// a writer that never comes.
		t.Errorf("nothing written to the pipe in 30 s")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the pipe is now %v, %v", fi.Mode(), err)
	}

	target := filepath.Join(t.TempDir(), "real.csv")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"--db", db, "report", "trial-balance", "--out", link}, &out, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link is now %v, %v", fi.Mode(), err)
	}
	if b, err := os.ReadFile(target); err != nil || !bytes.Equal(b, want) {
		t.Errorf("the link's file holds %q, %v; want the report", b, err)
	}
}

// captureReport writes the trial balance to the file path and returns it.
func captureReport(t *testing.T, db, path string) ([]byte, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run([]string{"--db", db, "report", "trial-balance", "--out", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, errOut.String()
}
