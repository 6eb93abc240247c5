package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/store/sqlite"
)

const itemizedHeader = `"balance_transaction_id","created_utc","available_on_utc","currency","gross","fee","net","reporting_category","source_id","description"`

// countRows counts rows of a table in the database at path.
func countRows(t *testing.T, path, table string) int {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportRejectsBadFileWhole(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	csv := itemizedHeader + "\n" +
		`"txn_1","2026-11-02 09:30:00","2026-11-04 00:00:00","usd","29.99","1.17","28.82","charge","ch_1","ok"` + "\n" +
		`"txn_2","2026-11-02 09:31:00","2026-11-04 00:00:00","usd","2x.00","0.00","20.00","charge","ch_2","bad number"` + "\n" +
		`"txn_3","2026-11-02 09:32:00","2026-11-04 00:00:00","zzz","10.00","0.00","10.00","charge","ch_3","bad currency"` + "\n" +
		`"txn_4","2026-11-02 09:33:00","2026-11-04 00:00:00","usd","10.00","1.00","8.00","charge","ch_4","net is not gross - fee"` + "\n"
	file := writeFile(t, dir, "itemized.csv", csv)
	code, _, errOut := runCLI(t, "--db", db, "import", file)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	for _, want := range []string{file + ":3:gross:", file + ":4:currency:", file + ":5:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := countRows(t, db, "provider_records"); n != 0 {
		t.Errorf("%d records stored from a rejected file", n)
	}
	if n := countRows(t, db, "imports"); n != 0 {
		t.Errorf("%d imports recorded for a rejected file", n)
	}

	// --skip-invalid imports the good row and quarantines the three bad ones.
	code, out, errOut := runCLI(t, "--db", db, "import", "--skip-invalid", file)
	if code != 0 || !strings.Contains(out, "4 records read, 1 added, 0 updated, 3 quarantined") {
		t.Fatalf("--skip-invalid: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := countRows(t, db, "quarantine"); n != 3 {
		t.Errorf("quarantine has %d rows, want 3", n)
	}
}

func TestImportTwiceAddsNothingAndBookVerifies(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	files := []string{
		"../../testdata/importers/stripe-itemized-csv/balance_change_from_activity.itemized.csv",
		"../../testdata/importers/stripe-balance-json/balance_transactions.json",
		"../../testdata/importers/justifi-balance-json/payment_balance_transactions.json",
		"../../testdata/importers/whop-payments-json/payments.json",
		"../../testdata/importers/justifi-payments-json/payments.json",
	}
	for _, f := range files {
		if code, out, errOut := runCLI(t, "--db", db, "import", "--book", f); code != 0 {
			t.Fatalf("import %s: exit %d\n%s\n%s", f, code, out, errOut)
		}
	}
	records := countRows(t, db, "provider_records")
	entries := countRows(t, db, "entries")
	if records == 0 || entries == 0 {
		t.Fatalf("nothing imported or booked: %d records, %d entries", records, entries)
	}
	for _, f := range files {
		code, out, _ := runCLI(t, "--db", db, "import", "--book", f)
		if code != 0 || !strings.Contains(out, "already imported") {
			t.Errorf("re-import %s: exit %d: %s", f, code, out)
		}
	}
	if n := countRows(t, db, "provider_records"); n != records {
		t.Errorf("re-import changed records: %d → %d", records, n)
	}
	if n := countRows(t, db, "entries"); n != entries {
		t.Errorf("re-import changed entries: %d → %d", entries, n)
	}
	if code, out, _ := runCLI(t, "--db", db, "verify"); code != 0 {
		t.Errorf("verify after --book: exit %d\n%s", code, out)
	}
}

func TestImportUnknownFormatNamesCandidates(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "mystery.csv", "a,b,c\n1,2,3\n")
	code, _, errOut := runCLI(t, "--db", filepath.Join(dir, "t.db"), "import", file)
	if code != 1 || !strings.Contains(errOut, "stripe-itemized-csv") || !strings.Contains(errOut, "generic-csv") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
	if code, _, _ := runCLI(t, "--db", filepath.Join(dir, "t.db"), "import", "--format", "nope", file); code != 2 {
		t.Errorf("unknown --format: exit %d, want 2", code)
	}
}

// An export that overlaps an earlier one adds only its new records and
// updates the shared ones it reports differently.
func TestImportOverlappingExports(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	runCLI(t, "--db", db, "import", "../../testdata/importers/stripe-itemized-csv/balance_change_from_activity.itemized.csv")
	code, out, errOut := runCLI(t, "--db", db, "import", "../../testdata/importers/stripe-itemized-csv/payout_reconciliation.itemized.csv")
	if code != 0 || !strings.Contains(out, "4 records read, 1 added, 3 updated, 0 quarantined") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	if n := countRows(t, db, "provider_records"); n != 9 {
		t.Errorf("%d records, want 8 + 1", n)
	}
}

// TestImportEncoding checks that a Latin-1 export is refused as it stands,
// naming the line and column, and imported with its text converted when
// --encoding declares it.
func TestImportEncoding(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	csv := itemizedHeader + "\n" +
		`"txn_1","2026-11-02 09:30:00","2026-11-04 00:00:00","usd","29.99","1.17","28.82","charge","ch_1","ok"` + "\n" +
		`"txn_2","2026-11-02 09:31:00","2026-11-04 00:00:00","usd","20.00","0.00","20.00","charge","ch_2","Caf` + "\xe9 cr\xe8me\"\n"
	file := writeFile(t, dir, "latin1.csv", csv)
	code, _, errOut := runCLI(t, "--db", db, "import", file)
	if code != 1 || !strings.Contains(errOut, file+":3:description: invalid text encoding: byte 0xe9 is not UTF-8") {
		t.Fatalf("exit %d, want 1 naming the cell\n%s", code, errOut)
	}
	if n := countRows(t, db, "provider_records"); n != 0 {
		t.Fatalf("%d records stored from a rejected file", n)
	}
	if code, _, errOut := runCLI(t, "--db", db, "import", "--encoding", "klingon", file); code != 2 || !strings.Contains(errOut, "windows-1252") {
		t.Errorf("unknown encoding: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "--db", db, "import", "--encoding", "latin1", file); code != 0 || !strings.Contains(out, "2 added") {
		t.Fatalf("--encoding latin1: exit %d\n%s\n%s", code, out, errOut)
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got string
	err = st.EachRecord(context.Background(), provider.RecordFilter{RecordID: "txn_2"}, func(r *provider.Record) error {
		got = r.Description
		return nil
	})
	if err != nil || got != "Café crème" {
		t.Errorf("description %q, %v; want Café crème", got, err)
	}
}

// TestImportByteOrderMark imports a CSV and a JSON export that start with a
// UTF-8 byte order mark, as spreadsheet programs save them: both are
// detected and stored, and the raw rows read back from the store are the
// file's rows, without the mark.
func TestImportByteOrderMark(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	row := `"txn_1","2026-11-02 09:30:00","2026-11-04 00:00:00","usd","29.99","1.17","28.82","charge","ch_1","ok"`
	obj := `{"id":"txn_2","object":"balance_transaction","amount":1000,"fee":30,"net":970,"currency":"usd","type":"charge","created":1793000000}`
	csv := writeFile(t, dir, "bom.csv", "\xEF\xBB\xBF"+itemizedHeader+"\n"+row+"\n")
	json := writeFile(t, dir, "bom.json", "\xEF\xBB\xBF{\"object\":\"list\",\"data\":[\n"+obj+"\n]}\n")
	for _, f := range []string{csv, json} {
		if code, out, errOut := runCLI(t, "--db", db, "import", f); code != 0 || !strings.Contains(out, "1 added") {
			t.Fatalf("import %s: exit %d\n%s\n%s", f, code, out, errOut)
		}
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	raw := map[string]string{}
	err = st.EachRecord(context.Background(), provider.RecordFilter{}, func(r *provider.Record) error {
		raw[r.ID] = r.Raw
		return nil
	})
	if err != nil || raw["txn_1"] != row || raw["txn_2"] != obj {
		t.Errorf("stored raw rows %q, %v", raw, err)
	}
}

// settle import, and serve without --http, let the SQLite store take the
// database for an import while nothing else has it open
// (sqlite.Options.ExclusiveImport, tested in store/sqlite); a command that
// only reads does not, nor serve with --http, whose workbench reads beside
// its nightly job.
func TestExclusiveImportCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	file := writeFile(t, dir, "itemized.csv", itemizedHeader+"\n"+
		`"txn_1","2026-11-02 09:30:00","2026-11-04 00:00:00","usd","29.99","1.17","28.82","charge","ch_1","ok"`+"\n")
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"import", file}, true},
		{[]string{"serve", "--once", "--inbox", filepath.Join(dir, "in"), "--outbox", filepath.Join(dir, "out")}, true},
		{[]string{"report", "trial-balance"}, false},
		// The workbench reads beside the nightly job: serve runs until
		// its context ends, here shortly after it starts.
		{[]string{"serve", "--http", "127.0.0.1:0", "--inbox", filepath.Join(dir, "in"), "--schedule", "@daily"}, false},
	} {
		var out, errOut strings.Builder
		a := &cli{stdout: &out, stderr: &errOut, now: time.Now}
		root := newRoot(a)
		root.SetArgs(append([]string{"--db", db}, c.args...))
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := root.ExecuteContext(ctx)
		cancel()
		a.close()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v: %v\n%s", c.args, err, errOut.String())
		}
		if a.exclusiveImport != c.want {
			t.Errorf("%v: exclusive import %v, want %v", c.args, a.exclusiveImport, c.want)
		}
	}
}
