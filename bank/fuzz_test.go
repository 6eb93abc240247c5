package bank

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"
)

// fuzzFormat seeds a fuzzer with the format's samples and checks that any
// input reads without panicking, the same way twice, and that what is
// accepted keeps the package's promises: every statement balances, and
// every line points at its bytes in the input.
func fuzzFormat(f *testing.F, format Format, seeds ...string) {
	for _, s := range samples(f) {
		if s.format != format {
			continue
		}
		data, err := os.ReadFile(s.path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	read := func(data []byte) ([]*Statement, error) {
		return ReadAll(bytes.NewReader(data), &Options{File: "fuzz", Format: format})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sts, err := read(data)
		again, err2 := read(data)
		if !reflect.DeepEqual(sts, again) || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("two reads differ")
		}
		if err != nil {
			if sts != nil {
				t.Fatalf("statements returned with %v", err)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v (%T) is not a list of problems", err, err)
			}
			for _, p := range list {
				if p.File != "fuzz" || p.Line < 0 || p.Err == nil {
					t.Fatalf("problem without its place: %#v", p)
				}
			}
			return
		}
		for _, st := range sts {
			if err := st.Check(); err != nil {
				t.Fatalf("accepted statement fails its check: %v", err)
			}
			if st.Format != format || st.Currency == "" || st.Line < 1 {
				t.Fatalf("statement without its origin: %+v", st)
			}
			for _, l := range st.Lines {
				end := l.Offset + int64(len(l.Raw))
				if l.Line < 1 || l.Raw == "" || l.Offset < 0 || end > int64(len(data)) || string(data[l.Offset:end]) != l.Raw {
					t.Fatalf("line %d: Raw %q is not the input's bytes at offset %d", l.Line, l.Raw, l.Offset)
				}
			}
		}
	})
}

func FuzzBAI2(f *testing.F)    { fuzzFormat(f, BAI2, goodBAI2) }
func FuzzCamt053(f *testing.F) { fuzzFormat(f, Camt053, goodCamt, camtDoc("08", goodStmt)) }
func FuzzMT940(f *testing.F)   { fuzzFormat(f, MT940, goodMT940) }

// FuzzDetect checks that detection never panics and that what it names,
// Read reads without panicking.
func FuzzDetect(f *testing.F) {
	for _, s := range samples(f) {
		data, err := os.ReadFile(s.path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s.path, data)
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		format, err := Detect(name, data)
		if err == nil {
			ReadAll(bytes.NewReader(data), &Options{File: name, Format: format})
		}
	})
}
