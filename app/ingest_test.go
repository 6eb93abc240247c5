//go:build unix

package app_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/store/sqlite"
)

const badCSV = `"balance_transaction_id","created_utc","available_on_utc","currency","gross","fee","net","reporting_category","source_id","description","automatic_payout_id"
"txn_1","not a date","2026-11-04 00:00:00","usd","29.99","1.17","28.82","charge","ch_1","x",""
`

func newStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "books.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ls(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func goodCSV(t *testing.T) string {
	t.Helper()
	return read(t, "../testdata/demo/stripe-balance-2026-11.csv")
}

// One bad file never stops the others: a rejected file whose name leaves
// no room for ".reason.txt" keeps its reason (under a shortened name that
// says which file it was), symbolic links and named pipes are rejected
// unread instead of skipped forever, and a second rejection of a name keeps
// both reasons. Everything Ingest writes is private to its owner.
func TestIngestRejectsWithoutStopping(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	st := newStore(t)
	inbox := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.csv")
	write(t, outside, goodCSV(t))

	long := strings.Repeat("x", 250) + ".csv" // 254 bytes: NAME.reason.txt cannot exist
	write(t, filepath.Join(inbox, long), badCSV)
	write(t, filepath.Join(inbox, "badvals.csv"), badCSV)
	write(t, filepath.Join(inbox, "zz-good.csv"), goodCSV(t))
	if err := os.Symlink(outside, filepath.Join(inbox, "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(inbox, "pipe.csv"), 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := app.Ingest(ctx, st, inbox, &importers.Options{})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	byName := map[string]app.Ingested{}
	for _, g := range got {
		byName[g.File] = g
	}
	for _, tc := range []struct {
		file, moved, reason string
	}{
		{long, "rejected/" + long, "not a date"},
		{"badvals.csv", "rejected/badvals.csv", "not a date"},
		{"link.csv", "rejected/link.csv", "symbolic link"},
		{"pipe.csv", "rejected/pipe.csv", "named pipe"},
		{"zz-good.csv", "processed/zz-good.csv", ""},
	} {
		g, ok := byName[tc.file]
		if !ok {
			t.Errorf("%.20s…: not ingested", tc.file)
			continue
		}
		if g.Moved != filepath.Join(inbox, tc.moved) {
			t.Errorf("%.20s…: moved to %s, want %s", tc.file, g.Moved, tc.moved)
		}
		if tc.reason == "" && g.Reason != "" || !strings.Contains(g.Reason, tc.reason) {
			t.Errorf("%.20s…: reason %q, want %q", tc.file, g.Reason, tc.reason)
		}
	}
	if byName["zz-good.csv"].Stats.Added == 0 {
		t.Errorf("the good file added nothing: %+v", byName["zz-good.csv"].Stats)
	}
	if l := ls(t, inbox); !slices.Equal(l, []string{"processed", "rejected"}) {
		t.Errorf("inbox left with %q", l)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the link's target moved: %v", err)
	}

	// The long name's reason is under a shortened name that names the file.
	var longReason string
	for _, name := range ls(t, filepath.Join(inbox, "rejected")) {
		if strings.HasPrefix(name, "xxxx") && strings.HasSuffix(name, ".reason.txt") {
			longReason = read(t, filepath.Join(inbox, "rejected", name))
		}
	}
	if !strings.Contains(longReason, "not a date") {
		t.Errorf("reason of the long-named file: %q", longReason)
	}

	// The same name rejected again keeps both reasons.
	write(t, filepath.Join(inbox, "badvals.csv"), strings.Replace(badCSV, "not a date", "still not a date", 1))
	if _, err := app.Ingest(ctx, st, inbox, &importers.Options{}); err != nil {
		t.Fatal(err)
	}
	rejected := filepath.Join(inbox, "rejected")
	first, second := read(t, filepath.Join(rejected, "badvals.csv.reason.txt")), read(t, filepath.Join(rejected, "badvals.csv.1.reason.txt"))
	if strings.Contains(first, "still") || !strings.Contains(second, "still not a date") || !strings.Contains(second, "(badvals.csv in the inbox)") {
		t.Errorf("reasons of two rejections of badvals.csv:\n%s\n---\n%s", first, second)
	}
	if _, err := os.Stat(filepath.Join(rejected, "badvals.csv.1")); err != nil {
		t.Error(err)
	}

	for _, name := range ls(t, rejected) {
		fi, err := os.Lstat(filepath.Join(rejected, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".reason.txt") && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want -rw-------", name, fi.Mode().Perm())
		}
	}
	for _, dir := range []string{"processed", "rejected"} {
		if fi, err := os.Stat(filepath.Join(inbox, dir)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want drwx------", dir, fi.Mode(), err)
		}
	}
}

// A processed/ or rejected/ that is a symbolic link would send inbox files
// out of the inbox: Ingest refuses to start, and moves nothing.
func TestIngestRefusesLinkedSubfolders(t *testing.T) {
	for _, sub := range []string{"processed", "rejected"} {
		t.Run(sub, func(t *testing.T) {
			st := newStore(t)
			inbox, elsewhere := t.TempDir(), t.TempDir()
			write(t, filepath.Join(inbox, "good.csv"), goodCSV(t))
			write(t, filepath.Join(inbox, "bad.csv"), badCSV)
			if err := os.Symlink(elsewhere, filepath.Join(inbox, sub)); err != nil {
				t.Fatal(err)
			}
			_, err := app.Ingest(context.Background(), st, inbox, &importers.Options{})
			if err == nil || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("Ingest with a linked %s/: %v", sub, err)
			}
			if l := ls(t, elsewhere); len(l) != 0 {
				t.Errorf("files sent out of the inbox: %q", l)
			}
			if l := ls(t, inbox); !slices.Equal(l, []string{"bad.csv", "good.csv", sub}) {
				t.Errorf("inbox holds %q", l)
			}
		})
	}
}
