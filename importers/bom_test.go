package importers

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/settlehq/settle/provider"
)

// TestByteOrderMarkIsAccepted reads every sample export with a UTF-8 byte
// order mark in front, as spreadsheet programs write them: detection finds
// the same format and the reader gives the same records, each 3 bytes
// further into the file, for CSV and JSON alike.
func TestByteOrderMarkIsAccepted(t *testing.T) {
	for _, s := range samples(t) {
		t.Run(s.format+"/"+filepath.Base(s.path), func(t *testing.T) {
			data, err := os.ReadFile(s.path)
			if err != nil {
				t.Fatal(err)
			}
			opts := testOptions(t, s.mapping)
			plain, perrs := openAll(t, s.format, data, opts)
			if len(perrs) != 0 || len(plain) == 0 {
				t.Fatalf("without a byte order mark: %d records, errors %v", len(plain), perrs)
			}
			bom := append([]byte("\xEF\xBB\xBF"), data...)
			if s.mapping == "" {
				if format, err := Detect(s.path, bom); err != nil || format != s.format {
					t.Errorf("Detect = %q, %v; want %s", format, err, s.format)
				}
			}
			for _, o := range []*Options{opts, {Currencies: opts.Currencies, Mapping: opts.Mapping, Encoding: "utf-8"}} {
				got, errs := openAll(t, s.format, bom, o)
				if len(errs) != 0 || len(got) != len(plain) {
					t.Fatalf("with a byte order mark: %d records, errors %v; want %d", len(got), errs, len(plain))
				}
				for i, r := range got {
					if string(bom[r.Offset:r.Offset+int64(len(r.Raw))]) != r.Raw {
						t.Errorf("record %d: Raw is not the file's bytes at %d", i, r.Offset)
					}
					want := *plain[i]
					want.Offset += 3
					if !reflect.DeepEqual(*r, want) {
						t.Errorf("record %d:\n got %+v\nwant %+v", i, *r, want)
					}
				}
			}
		})
	}
}

// openAll reads data through Open, which detects the format unless opts
// has a mapping.
func openAll(t *testing.T, format string, data []byte, opts *Options) ([]*provider.Record, []error) {
	t.Helper()
	rd, got, err := Open("sample", bytes.NewReader(data), opts)
	if err != nil || got != format {
		t.Fatalf("Open: %s, %v; want %s", got, err, format)
	}
	return ReadAll(rd)
}
