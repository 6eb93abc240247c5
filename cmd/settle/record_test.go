package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/settlehq/settle/store/sqlite"
)

// A UTF-8 byte order mark at the start of a feed is skipped, as the
// importers skip it; record used to refuse line 1.
func TestRecordSkipsAByteOrderMark(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	file := writeFile(t, dir, "bom.jsonl", "\xef\xbb\xbf"+lifecycle)
	code, out, errOut := runCLI(t, "--db", db, "record", file)
	if code != 0 || !strings.Contains(out, "9 events recorded") {
		t.Fatalf("record: exit %d\n%s\n%s", code, out, errOut)
	}
}

// --format json gives each file's counts, and where the time went; a file
// refused as a whole is there, not applied, with its problems counted, and
// the exit code still says that something was not recorded.
func TestRecordJSON(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	good := writeFile(t, dir, "good.jsonl", lifecycle)
	bad := writeFile(t, dir, "bad.jsonl", strings.Replace(lifecycle, `"amount":"80.00"`, `"amount":"80."`, 1))
	code, out, errOut := runCLI(t, "--db", db, "record", "--format", "json", good, good, bad)
	if code == 0 || !strings.Contains(errOut, "bad.jsonl: not recorded (1 problems)") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var got recordJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	want := []recordFileJSON{
		{File: good, Applied: true, Recorded: 9},
		{File: good, Applied: true, Already: 9},
		{File: bad, Problems: 1},
	}
	if len(got.Files) != len(want) {
		t.Fatalf("files: %+v", got.Files)
	}
	for i, f := range got.Files {
		f.TookMS = 0
		if f != want[i] {
			t.Errorf("file %d: %+v, want %+v", i, f, want[i])
		}
	}
	k := got.Took
	// The steps are timed apart from the total, each rounded down.
	if k.Total < k.Open+k.Events+k.Commit+k.Close || k.Open < 0 || k.Events < 0 || k.Commit < 0 || k.Close < 0 {
		t.Errorf("took_ms: %+v", k)
	}
	if code, _, errOut := runCLI(t, "--db", db, "record", "--format", "csv", good); code != 2 || !strings.Contains(errOut, "--format must be text or json") {
		t.Errorf("--format csv: exit %d: %s", code, errOut)
	}
}

// Without --skip-invalid every line that does not parse is listed, also
// those after the first problem, with its field; nothing is written.
func TestRecordListsEveryBadLineWithItsField(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	if code, _, errOut := runCLI(t, "--db", db, "init"); code != 0 {
		t.Fatal(errOut)
	}
	lines := strings.Split(strings.TrimSpace(lifecycle), "\n")
	lines[1] = strings.Replace(lines[1], `"amount":"80.00"`, `"amount":"80."`, 1)
	lines[3] = strings.Replace(lines[3], `"amount":"30.00"`, `"amount":"30.00","amount":"3.00"`, 1)
	lines[6] = strings.Replace(lines[6], `"at":"2026-11-07T09:00:00Z"`, `"at":"0001-01-01T00:00:00Z"`, 1)
	lines[8] = strings.Replace(lines[8], `"debit":"500.00"}`, `"debit":"500.00","memo":"x"}`, 1)
	file := writeFile(t, dir, "bad.jsonl", strings.Join(lines, "\n")+"\n")
	code, _, errOut := runCLI(t, "--db", db, "record", file)
	want := []string{
		file + `:2:amount: "80." is not a plain decimal like "29.99": it needs a digit after the point`,
		file + `:4:amount: duplicate key: the object gives "amount" twice`,
		file + `:7:at: 0001-01-01T00:00:00Z is the zero time (year 1), not a date; give the real time`,
		file + `:9:postings[0].memo: unknown field (a posting takes account, currency, debit, credit)`,
		file + `: not recorded (4 problems); nothing from it was written.`,
	}
	if code != 1 || !strings.HasPrefix(errOut, strings.Join(want, "\n")) {
		t.Errorf("exit %d, stderr:\n%s\nwant it to start:\n%s", code, errOut, strings.Join(want, "\n"))
	}
	if got := balances(t, db); len(got) != 0 {
		t.Errorf("a rejected file wrote: %v", got)
	}
}

// A feed file of bulkFeed bytes or more, or any feed into a SQLite file of
// bulkBooks bytes or more, is recorded with the bulk writer cache; smaller
// ones, names that are no regular file, a database not there yet and a
// PostgreSQL URL with the default.
func TestRecordCache(t *testing.T) {
	dir := t.TempDir()
	small := writeFile(t, dir, "small.jsonl", lifecycle)
	big := filepath.Join(dir, "big.jsonl")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(bulkFeed); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	smallDB, bigDB := writeFile(t, dir, "small.db", "x"), filepath.Join(dir, "big.db")
	f, err = os.Create(bigDB)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(bulkBooks); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		db    string
		names []string
		want  int64
	}{
		{smallDB, []string{small}, 0},
		{smallDB, []string{small, big}, sqlite.BulkWriterCache},
		{smallDB, []string{filepath.Join(dir, "missing.jsonl")}, 0},
		{smallDB, []string{dir}, 0},
		{bigDB, []string{small}, sqlite.BulkWriterCache},
		{filepath.Join(dir, "new.db"), []string{small}, 0},
		{"postgres://localhost/settle", []string{small}, 0},
	} {
		if got := recordCache(c.db, c.names); got != c.want {
			t.Errorf("%s, %v: %d, want %d", c.db, c.names, got, c.want)
		}
	}
}
