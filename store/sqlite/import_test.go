package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/store/sqlite"
)

const itemizedHeader = `"balance_transaction_id","created_utc","available_on_utc","currency","gross","fee","net","reporting_category","source_id","description"` + "\n"

// itemizedRow is one row of an itemized report: a charge of gross cents,
// created at a time that i picks in November 2026 (not in i's order).
func itemizedRow(id string, i, gross int, desc string) string {
	return itemizedRowAt(id, time.Date(2026, 11, 1+i%27, i%24, i%60, 0, 0, time.UTC), i, gross, desc)
}

// itemizedRowAt is itemizedRow created at a given time.
func itemizedRowAt(id string, created time.Time, i, gross int, desc string) string {
	fee := gross * 3 / 100
	return fmt.Sprintf(`"%s","%s","2026-11-28 00:00:00","usd","%d.%02d","%d.%02d","%d.%02d","charge","ch_%d","%s"`+"\n",
		id, created.Format(time.DateTime), gross/100, gross%100, fee/100, fee%100, (gross-fee)/100, (gross-fee)%100, i, desc)
}

// itemized is an itemized report of n charges txn_0 … txn_<n-1>.
func itemized(n int, desc string) string {
	var b strings.Builder
	b.WriteString(itemizedHeader)
	for i := range n {
		b.WriteString(itemizedRow(fmt.Sprintf("txn_%d", i), i, 1000+i, desc))
	}
	return b.String()
}

// importData imports data as the file name the way settle import does:
// the reader reads through a tee that passes the file's bytes to the sink.
// With noContent the bytes are not passed on.
func importData(t *testing.T, st *sqlite.Store, name, data string, noContent bool) (provider.ImportStats, error) {
	t.Helper()
	return importThen(st, name, data, noContent, nil)
}

// importThen is importData with then, if not nil, called after the last
// record is passed to the sink and before the import commits; its error
// fails the import.
func importThen(st *sqlite.Store, name, data string, noContent bool, then func() error) (provider.ImportStats, error) {
	sum := sha256.Sum256([]byte(data))
	f := provider.ImportFile{File: name, SHA256: hex.EncodeToString(sum[:])}
	return st.Import(context.Background(), f, func(sink provider.Sink) error {
		var r io.Reader = strings.NewReader(data)
		if !noContent {
			r = io.TeeReader(r, sink)
		}
		rd, _, err := importers.Open(name, r, nil)
		if err != nil {
			return err
		}
		if err := addAll(rd, sink.Add); err != nil || then == nil {
			return err
		}
		return then()
	})
}

// addAll passes every record rd reads to add.
func addAll(rd importers.Reader, add func(*provider.Record) error) error {
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := add(rec); err != nil {
			return err
		}
	}
}

// readAll reads a file's records as the importer does.
func readAll(t *testing.T, name, data string) []*provider.Record {
	t.Helper()
	rd, _, err := importers.Open(name, strings.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := importers.ReadAll(rd)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return recs
}

func storedRecords(t *testing.T, st *sqlite.Store, f provider.RecordFilter) []*provider.Record {
	t.Helper()
	var out []*provider.Record
	if err := st.EachRecord(context.Background(), f, func(r *provider.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// Records read back are the records imported, raw rows and all, whether
// the raw rows come from the stored file (over several chunks of it) or
// were kept with the records.
func TestImportRoundTrip(t *testing.T) {
	for _, noContent := range []bool{false, true} {
		t.Run(fmt.Sprintf("noContent=%v", noContent), func(t *testing.T) {
			st := open(t, filepath.Join(t.TempDir(), "t.db"))
			defer st.Close()
			// Rows of ~150 bytes: 6,000 of them span several chunks, some rows
			// straddle a chunk's end, and one is longer than two (too long to be found
			// in the file as it passes: it keeps its raw row itself).
			data := itemized(6000, `Order, ""quoted""`) + itemizedRow("txn_long", 1, 500, strings.Repeat("x", 700_000))
			stats, err := importData(t, st, "itemized.csv", data, noContent)
			if err != nil {
				t.Fatal(err)
			}
			if stats.Records != 6001 || stats.Added != 6001 || stats.Updated != 0 {
				t.Errorf("stats %+v", stats)
			}
			want := readAll(t, "itemized.csv", data)
			got := storedRecords(t, st, provider.RecordFilter{ImportID: stats.ImportID})
			if len(got) != len(want) {
				t.Fatalf("%d records stored, want %d", len(got), len(want))
			}
			byID := map[string]*provider.Record{}
			for _, r := range got {
				byID[r.ID] = r
			}
			for _, w := range want {
				g := byID[w.ID]
				if g == nil {
					t.Fatalf("%s not stored", w.ID)
				}
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("stored %+v\nwant   %+v", g, w)
				}
			}
			var chunks int
			if err := st.DB().QueryRow(`SELECT COUNT(*) FROM import_content`).Scan(&chunks); err != nil {
				t.Fatal(err)
			}
			if noContent != (chunks == 0) {
				t.Errorf("%d chunks of content stored", chunks)
			}
			var inRow int
			if err := st.DB().QueryRow(`SELECT COUNT(*) FROM provider_records WHERE raw IS NOT NULL`).Scan(&inRow); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 1, true: 6001}[noContent]; inRow != want {
				t.Errorf("%d records keep their raw row themselves, want %d", inRow, want)
			}
			r, err := st.Record(context.Background(), "stripe", provider.BalanceGrain, "txn_long")
			if err != nil || r.Raw != strings.TrimSuffix(itemizedRow("txn_long", 1, 500, strings.Repeat("x", 700_000)), "\n") {
				t.Errorf("Record(txn_long): %v", err)
			}
		})
	}
}

// The stored chunks are the file: put together they have its SHA-256.
func TestImportStoresTheFile(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	data := "\xEF\xBB\xBF" + itemized(3000, "with a byte order mark")
	stats, err := importData(t, st, "itemized.csv", data, false)
	if err != nil {
		t.Fatal(err)
	}
	var file string
	if err := st.DB().QueryRow(`SELECT sha256 FROM imports WHERE id = ?`, stats.ImportID).Scan(&file); err != nil {
		t.Fatal(err)
	}
	got := storedRecords(t, st, provider.RecordFilter{ImportID: stats.ImportID})
	if len(got) != 3000 || got[0].Raw != strings.TrimSuffix(itemizedRow("txn_0", 0, 1000, "with a byte order mark"), "\n") {
		t.Fatalf("%d records, first %+v", len(got), got[0])
	}
	if got[0].Offset != int64(len("\xEF\xBB\xBF"+itemizedHeader)) {
		t.Errorf("first record at offset %d", got[0].Offset)
	}
	var size int64
	if err := st.DB().QueryRow(`SELECT SUM(size) FROM import_content WHERE import_id = ?`, stats.ImportID).Scan(&size); err != nil {
		t.Fatal(err)
	}
	if size != int64(len(data)) {
		t.Errorf("the chunks hold %d bytes, the file %d", size, len(data))
	}
}

// A newer export that overlaps an older one updates the records it reports
// differently, with the place they are now read from, and adds the rest; a
// row repeated within an export is kept as a second occurrence.
func TestImportOverlapAndRepeats(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	first := itemizedHeader + itemizedRow("txn_1", 1, 1000, "a") + itemizedRow("txn_2", 2, 2000, "b") +
		itemizedRow("txn_2", 2, 2000, "b") // the same row twice: a duplicate for reconciliation
	stats, err := importData(t, st, "first.csv", first, false)
	if err != nil || stats.Added != 3 || stats.Updated != 0 {
		t.Fatalf("first: %+v, %v", stats, err)
	}
	// txn_1 changed its description, txn_2 (once) is the same, txn_3 is new.
	second := itemizedHeader + itemizedRow("txn_1", 1, 1000, "a, corrected") + itemizedRow("txn_2", 2, 2000, "b") +
		itemizedRow("txn_3", 3, 3000, "c")
	stats, err = importData(t, st, "second.csv", second, false)
	if err != nil || stats.Records != 3 || stats.Added != 1 || stats.Updated != 1 {
		t.Fatalf("second: %+v, %v", stats, err)
	}
	got := storedRecords(t, st, provider.RecordFilter{Provider: "stripe"})
	if len(got) != 4 {
		t.Fatalf("%d records, want 4", len(got))
	}
	files := map[string][]string{}
	for _, r := range got {
		files[r.ID] = append(files[r.ID], r.File+":"+fmt.Sprint(r.Line)+":"+r.Description)
	}
	want := map[string][]string{
		"txn_1": {"second.csv:2:a, corrected"},
		"txn_2": {"first.csv:3:b", "first.csv:4:b"},
		"txn_3": {"second.csv:4:c"},
	}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("records %v, want %v", files, want)
	}
	r, err := st.Record(ctx, "stripe", provider.BalanceGrain, "txn_1")
	if err != nil || r.Raw != strings.TrimSuffix(itemizedRow("txn_1", 1, 1000, "a, corrected"), "\n") {
		t.Errorf("txn_1 raw %q, %v", r.Raw, err)
	}
	// The same file again adds nothing.
	stats, err = importData(t, st, "second-again.csv", second, false)
	if err != nil || !stats.AlreadyLoaded {
		t.Errorf("again: %+v, %v", stats, err)
	}
}

// A file whose import fails stores nothing: no import, no records, no
// bytes.
func TestImportFailureStoresNothing(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	data := itemized(5000, "x")
	boom := errors.New("boom")
	n := 0
	_, err := st.Import(context.Background(), provider.ImportFile{File: "f.csv", SHA256: "x"}, func(sink provider.Sink) error {
		rd, err := importers.NewReader(importers.FormatStripeItemizedCSV, "f.csv", io.TeeReader(strings.NewReader(data), sink), nil)
		if err != nil {
			return err
		}
		return addAll(rd, func(rec *provider.Record) error {
			if n++; n == 4000 {
				return boom
			}
			return sink.Add(rec)
		})
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	// The failed import into the empty table had dropped its indexes; the
	// rollback brings them back.
	if got := recordIndexes(t, st); !reflect.DeepEqual(got, wantRecordIndexes) {
		t.Errorf("after the failed import the provider records' indexes are %q, want %q", got, wantRecordIndexes)
	}
	for _, table := range []string{"imports", "provider_records", "import_content", "quarantine"} {
		var rows int
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&rows); err != nil || rows != 0 {
			t.Errorf("%s: %d rows, %v", table, rows, err)
		}
	}
}

// wantRecordIndexes are the indexes of provider_records that the
// migrations create.
var wantRecordIndexes = []string{
	"CREATE INDEX provider_records_created ON provider_records (provider, grain, created)",
	"CREATE INDEX provider_records_import ON provider_records (import_id)",
	"CREATE UNIQUE INDEX provider_records_key ON provider_records (record_id, occurrence, provider, grain)",
}

// recordIndexes returns the statements that create the indexes of
// provider_records, by name.
func recordIndexes(t *testing.T, st *sqlite.Store) []string {
	t.Helper()
	var all string
	if err := st.DB().QueryRow(`SELECT coalesce(group_concat(sql, ';' ORDER BY name), '') FROM sqlite_schema
		WHERE type = 'index' AND tbl_name = 'provider_records' AND sql IS NOT NULL`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	return strings.Split(all, ";")
}

// The first import into a database stores its records without the table's
// indexes and builds them when the records are in; the indexes it leaves
// are those the migrations made, and hold every record: a second import of
// the same records finds them there (as updates, not additions), and
// SQLite's integrity check finds each index entry for its row.
func TestImportIntoEmptyTableBuildsIndexes(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	if got := recordIndexes(t, st); !reflect.DeepEqual(got, wantRecordIndexes) {
		t.Fatalf("a new database's provider records indexes are %q, want %q", got, wantRecordIndexes)
	}
	stats, err := importData(t, st, "first.csv", itemized(3000, "a"), false)
	if err != nil || stats.Added != 3000 {
		t.Fatalf("first: %+v, %v", stats, err)
	}
	if got := recordIndexes(t, st); !reflect.DeepEqual(got, wantRecordIndexes) {
		t.Errorf("after the first import the indexes are %q, want %q", got, wantRecordIndexes)
	}
	if ok := queryOne(t, st.DB(), "PRAGMA integrity_check"); ok != "ok" {
		t.Errorf("integrity_check: %s", ok)
	}
	// The table has rows now: this import goes through the indexes, and
	// finds every record of the first.
	stats, err = importData(t, st, "second.csv", itemized(3000, "b"), false)
	if err != nil || stats.Added != 0 || stats.Updated != 3000 {
		t.Fatalf("second: %+v, %v; want the 3,000 records updated", stats, err)
	}
	var n int
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM provider_records INDEXED BY provider_records_key WHERE record_id = 'txn_2999'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("txn_2999 through the key index: %d rows, %v", n, err)
	}
}

// A first import whose records come in the order they were created, as a
// provider's export lists them, fills provider_records_created in place:
// the index keeps the root page the migrations gave it. One whose records
// leave that order part of the way through (two rows swapped, in its fifth
// batch) has the index dropped there and built again at the end. Either way
// provider_records_import, filled at its end whatever the order, stays in
// place, SQLite's integrity check finds the indexes whole, and every
// record is found through both indexes.
func TestImportKeepsTheCreatedIndexWhileInOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		swapAt int // the row swapped with the next; -1: none
		kept   bool
	}{{"in order", -1, true}, {"out of order", 2200, false}} {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t, filepath.Join(t.TempDir(), "t.db"))
			defer st.Close()
			root := func() string {
				return queryOne(t, st.DB(), `SELECT rootpage FROM sqlite_schema WHERE name = 'provider_records_created'`)
			}
			importRoot := func() string {
				return queryOne(t, st.DB(), `SELECT rootpage FROM sqlite_schema WHERE name = 'provider_records_import'`)
			}
			before, importBefore := root(), importRoot()
			rows := make([]string, 3000)
			at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			for i := range rows {
				rows[i] = itemizedRowAt(fmt.Sprintf("txn_%d", i), at.Add(time.Duration(i)*time.Minute), i, 1000+i, "x")
			}
			if tc.swapAt >= 0 {
				rows[tc.swapAt], rows[tc.swapAt+1] = rows[tc.swapAt+1], rows[tc.swapAt]
			}
			stats, err := importData(t, st, "report.csv", itemizedHeader+strings.Join(rows, ""), false)
			if err != nil || stats.Added != len(rows) {
				t.Fatalf("%+v, %v", stats, err)
			}
			if kept := root() == before; kept != tc.kept {
				t.Errorf("the created index kept its root page: %v, want %v", kept, tc.kept)
			}
			if importRoot() != importBefore {
				t.Errorf("the import index was built again")
			}
			if got := recordIndexes(t, st); !reflect.DeepEqual(got, wantRecordIndexes) {
				t.Errorf("the indexes are %q, want %q", got, wantRecordIndexes)
			}
			if ok := queryOne(t, st.DB(), "PRAGMA integrity_check"); ok != "ok" {
				t.Errorf("integrity_check: %s", ok)
			}
			n := queryOne(t, st.DB(), `SELECT COUNT(*) FROM provider_records INDEXED BY provider_records_created
				WHERE provider = 'stripe' AND grain = 'balance' AND created >= 0`)
			if n != fmt.Sprint(len(rows)) {
				t.Errorf("%s records through the created index, want %d", n, len(rows))
			}
			n = queryOne(t, st.DB(), `SELECT COUNT(*) FROM provider_records INDEXED BY provider_records_import
				WHERE import_id = `+fmt.Sprint(stats.ImportID))
			if n != fmt.Sprint(len(rows)) {
				t.Errorf("%s records through the import index, want %d", n, len(rows))
			}
		})
	}
}

// Records of several providers and grains in one import are each stored
// with their own; quarantined rows are kept with their reason.
func TestImportMixedAndQuarantined(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	var recs []*provider.Record
	for i := range 450 {
		r := &provider.Record{Provider: []string{"stripe", "justifi"}[i/100%2], Format: "test", Grain: provider.BalanceGrain,
			ID: fmt.Sprintf("r%d", i), Currency: "usd", Amount: int64(i), Net: int64(i), File: "mixed.json", Line: i + 1,
			Raw: fmt.Sprintf(`{"id":"r%d"}`, i)}
		if i%7 == 0 {
			r.Grain, r.Captured = provider.PaymentGrain, int64(i)
		}
		recs = append(recs, r)
	}
	recs[3].Format = "other" // a record that says it is of another format than its import
	stats, err := st.Import(context.Background(), provider.ImportFile{File: "mixed.json", SHA256: "m"}, func(sink provider.Sink) error {
		for _, r := range recs {
			if err := sink.Add(r); err != nil {
				return err
			}
		}
		return sink.Quarantine(provider.Quarantined{Line: 999, Problem: "mixed.json:999: bad", Raw: "{"})
	})
	if err != nil || stats.Records != 451 || stats.Added != 450 || stats.Quarantined != 1 {
		t.Fatalf("%+v, %v", stats, err)
	}
	got := map[string]*provider.Record{}
	for _, r := range storedRecords(t, st, provider.RecordFilter{}) {
		got[r.ID] = r
	}
	for _, w := range recs {
		if g := got[w.ID]; !reflect.DeepEqual(g, w) {
			t.Errorf("stored %+v\nwant   %+v", g, w)
		}
	}
	var problem string
	if err := st.DB().QueryRow(`SELECT problem FROM quarantine WHERE line = 999`).Scan(&problem); err != nil || problem != "mixed.json:999: bad" {
		t.Errorf("quarantine: %q, %v", problem, err)
	}
	var format string
	if err := st.DB().QueryRow(`SELECT format FROM imports WHERE id = ?`, stats.ImportID).Scan(&format); err != nil || format != "test" {
		t.Errorf("the import's format is %q, %v", format, err)
	}
}

// A provider record cannot outlive its import nor name a missing entry: the
// foreign keys are checked when the transaction commits.
func TestRecordsReferenceTheirImport(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	for _, q := range []string{
		`INSERT INTO provider_records (provider, grain, record_id, occurrence, currency, amount, created, import_id, line, raw)
			VALUES ('stripe', 'balance', 'txn_1', 1, 'usd', 1, 1, 999, 1, '')`,
		`INSERT INTO provider_records (provider, grain, record_id, occurrence, currency, amount, created, import_id, line, raw,
			booked_entry_id) VALUES ('stripe', 'balance', 'txn_1', 1, 'usd', 1, 1, 1, 1, '', 999)`,
	} {
		tx, err := st.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT OR IGNORE INTO imports (id, file, sha256, format, imported_at) VALUES (1, 'f', 's', 'x', 1)`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Errorf("%s: commit: %v, want a foreign key error", q, err)
		}
		tx.Rollback()
	}
}

// rowsReader produces an itemized report of n rows piece by piece, so that
// the test itself holds none of it.
type rowsReader struct {
	n, i int
	buf  []byte
}

func (g *rowsReader) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case g.i == 0 && g.n > 0:
			g.buf = []byte(itemizedHeader)
		case g.i > g.n:
			return 0, io.EOF
		default:
			g.buf = []byte(itemizedRow(fmt.Sprintf("txn_%d", g.i-1), g.i, 1000+g.i%5000, "Order"))
		}
		g.i++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// Importing holds no more of a file than a few chunks and batches, whatever
// its size: only the set of id hashes (8 bytes a slot) grows with it.
func TestImportMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const n = 400_000
	st := open(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	var peak uint64
	var ms runtime.MemStats
	count := 0
	stats, err := st.Import(context.Background(), provider.ImportFile{File: "big.csv", SHA256: "big"}, func(sink provider.Sink) error {
		rd, err := importers.NewReader(importers.FormatStripeItemizedCSV, "big.csv", io.TeeReader(&rowsReader{n: n}, sink), nil)
		if err != nil {
			return err
		}
		return addAll(rd, func(rec *provider.Record) error {
			if count++; count%50_000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			return sink.Add(rec)
		})
	})
	if err != nil || stats.Added != n {
		t.Fatalf("%+v, %v", stats, err)
	}
	if peak > 24<<20 {
		t.Errorf("live heap reached %d MiB", peak>>20)
	}
	t.Logf("%d records, peak live heap %.1f MiB", count, float64(peak)/(1<<20))
}

// Raw rows are read back on the records' own connection: a pool of two,
// one of them the store's writer, is enough.
func TestRawRowsOnTheRecordsConnection(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite3", sqlite.DSN(filepath.Join(t.TempDir(), "t.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(2)
	st, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	data := itemized(3000, "x")
	if _, err := importData(t, st, "f.csv", data, false); err != nil {
		t.Fatal(err)
	}
	done := make(chan []*provider.Record)
	go func() { done <- storedRecords(t, st, provider.RecordFilter{}) }()
	select {
	case got := <-done:
		if len(got) != 3000 || got[0].Raw == "" {
			t.Errorf("%d records, first raw %q", len(got), got[0].Raw)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading raw rows back waits for a second connection")
	}
}

// An import whose context is canceled midway stores nothing and says why.
func TestImportCanceled(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "t.db"))
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	_, err := st.Import(ctx, provider.ImportFile{File: "big.csv", SHA256: "big"}, func(sink provider.Sink) error {
		rd, err := importers.NewReader(importers.FormatStripeItemizedCSV, "big.csv", io.TeeReader(&rowsReader{n: 100_000}, sink), nil)
		if err != nil {
			return err
		}
		return addAll(rd, func(rec *provider.Record) error {
			if n++; n == 20_000 {
				cancel()
			}
			return sink.Add(rec)
		})
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	for _, table := range []string{"imports", "provider_records", "import_content"} {
		var rows int
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&rows); err != nil || rows != 0 {
			t.Errorf("%s: %d rows, %v", table, rows, err)
		}
	}
}
