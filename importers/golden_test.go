package importers

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/settlehq/settle/internal/golden"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/importers")

const testdataDir = "../testdata/importers"

// sample is one sample export under testdata/importers/<format>/.
type sample struct {
	format  string
	path    string
	mapping string // the .rules file of a generic-csv sample
}

func samples(t testing.TB) []sample {
	t.Helper()
	var out []sample
	for _, format := range Formats() {
		dir := filepath.Join(testdataDir, format)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("samples for %s: %v", format, err)
		}
		n := 0
		for _, e := range entries {
			name := e.Name()
			if strings.HasSuffix(name, ".golden.json") || strings.HasSuffix(name, ".rules") {
				continue
			}
			s := sample{format: format, path: filepath.Join(dir, name)}
			if format == FormatGenericCSV {
				s.mapping = strings.TrimSuffix(s.path, filepath.Ext(s.path)) + ".rules"
			}
			out = append(out, s)
			n++
		}
		if n == 0 {
			t.Fatalf("no samples for %s in %s", format, dir)
		}
	}
	return out
}

// testOptions registers eth (18 decimals) as a user would for Whop.
func testOptions(t testing.TB, mapping string) *Options {
	t.Helper()
	cs := &ledger.Currencies{}
	if err := cs.Register("eth", 18); err != nil {
		t.Fatal(err)
	}
	opts := &Options{Currencies: cs}
	if mapping != "" {
		f, err := os.Open(mapping)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m, err := ParseMapping(filepath.Base(mapping), f)
		if err != nil {
			t.Fatal(err)
		}
		opts.Mapping = m
	}
	return opts
}

type goldenFile struct {
	Format  string             `json:"format"`
	Records []*provider.Record `json:"records"`
	Errors  []string           `json:"errors"`
}

func readSample(t testing.TB, s sample, data []byte) goldenFile {
	t.Helper()
	name := filepath.Join(s.format, filepath.Base(s.path))
	rd, format, err := Open(name, bytes.NewReader(data), testOptions(t, s.mapping))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if format != s.format {
		t.Errorf("Open detected %s, want %s", format, s.format)
	}
	recs, errs := ReadAll(rd)
	g := goldenFile{Format: format, Records: recs, Errors: []string{}}
	for _, e := range errs {
		g.Errors = append(g.Errors, e.Error())
	}
	return g
}

// eachSample runs fn as a subtest on every sample and its bytes.
func eachSample(t *testing.T, fn func(t *testing.T, s sample, data []byte)) {
	for _, s := range samples(t) {
		t.Run(strings.TrimPrefix(s.path, testdataDir+"/"), func(t *testing.T) {
			data, err := os.ReadFile(s.path)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, s, data)
		})
	}
}

func TestGolden(t *testing.T) {
	eachSample(t, func(t *testing.T, s sample, data []byte) {
		g := readSample(t, s, data)
		if len(g.Errors) > 0 {
			t.Errorf("sample has problems: %q", g.Errors)
		}
		if len(g.Records) < 2 && !strings.Contains(s.path, "single") {
			t.Errorf("only %d records", len(g.Records))
		}
		got, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		golden.Check(t, strings.TrimSuffix(s.path, filepath.Ext(s.path))+".golden.json", got, *update, "./importers")
	})
}

// TestRawAndLines checks that every record points back at its source: the
// line holds the record's id, and Raw is the record as written, found in the
// file at Offset.
func TestRawAndLines(t *testing.T) {
	for _, s := range samples(t) {
		data, err := os.ReadFile(s.path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		g := readSample(t, s, data)
		for _, r := range g.Records {
			if r.Line < 1 || r.Line > len(lines) {
				t.Errorf("%s: %s: line %d out of range", s.path, r.ID, r.Line)
				continue
			}
			// A CSV record's id is on its line; a JSON record starts on it.
			want := r.ID
			if strings.HasSuffix(s.format, "-json") {
				want = "{"
			}
			if !strings.Contains(lines[r.Line-1], want) {
				t.Errorf("%s: %s: line %d does not hold %q", s.path, r.ID, r.Line, want)
			}
			if r.Raw == "" || !strings.Contains(r.Raw, r.ID) {
				t.Errorf("%s: %s: Raw %q does not hold the id", s.path, r.ID, r.Raw)
			}
			if strings.HasSuffix(s.format, "-json") && !json.Valid([]byte(r.Raw)) {
				t.Errorf("%s: %s: Raw is not valid JSON", s.path, r.ID)
			}
			if end := r.Offset + int64(len(r.Raw)); r.Offset < 0 || end > int64(len(data)) || string(data[r.Offset:end]) != r.Raw {
				t.Errorf("%s: %s: Raw is not the file's bytes at offset %d", s.path, r.ID, r.Offset)
			}
		}
	}
}

// With ReuseRecord every Read returns the same record, filled anew: copied
// as they come, the records of every sample are the ones read without it,
// field for field, and no field of one is left over in the next. ReadAll
// gives each its own copy.
func TestReuseRecord(t *testing.T) {
	eachSample(t, func(t *testing.T, s sample, data []byte) {
		want := readSample(t, s, data)
		open := func() Reader {
			opts := testOptions(t, s.mapping)
			opts.ReuseRecord = true
			rd, _, err := Open(filepath.Join(s.format, filepath.Base(s.path)), bytes.NewReader(data), opts)
			if err != nil {
				t.Fatal(err)
			}
			return rd
		}
		rd := open()
		var got []provider.Record
		var first *provider.Record
		for {
			r, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue // the errors are readSample's to check
			}
			if first == nil {
				first = r
			} else if r != first {
				t.Fatalf("record %d is a new one", len(got)+1)
			}
			got = append(got, *r)
		}
		if len(got) != len(want.Records) {
			t.Fatalf("%d records, want %d", len(got), len(want.Records))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], *want.Records[i]) {
				t.Errorf("record %d:\n got %+v\nwant %+v", i+1, got[i], *want.Records[i])
			}
		}
		if all, _ := ReadAll(open()); !reflect.DeepEqual(all, want.Records) {
			t.Errorf("ReadAll with ReuseRecord gave other records than without")
		}
	})
}
