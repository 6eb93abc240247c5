package main

import (
	"bytes"
	"errors"
	"testing"
)

// writeJSONArray lays a streamed list out byte for byte as writeJSON lays
// out the same values as one slice, empty, of one and of many, with text
// that JSON escapes; and an error of the stream is returned.
func TestWriteJSONArrayAsWriteJSON(t *testing.T) {
	type item struct {
		ID   int               `json:"id"`
		Note string            `json:"note"`
		Tags []string          `json:"tags"`
		More map[string]string `json:"more,omitempty"`
	}
	all := []item{{1, "a <b> & \"c\"", []string{"x"}, nil}, {2, "", nil, map[string]string{"k": "v"}}, {3, "é\n", []string{}, nil}}
	for n := 0; n <= len(all); n++ {
		list := all[:n]
		var want, got bytes.Buffer
		if err := writeJSON(&cli{stdout: &want}, list); err != nil {
			t.Fatal(err)
		}
		err := writeJSONArray(&cli{stdout: &got}, func(emit func(any) error) error {
			for _, v := range list {
				if err := emit(v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%d values:\n%s\nwant\n%s", n, got.String(), want.String())
		}
	}
	stop := errors.New("the query failed")
	err := writeJSONArray(&cli{stdout: &bytes.Buffer{}}, func(emit func(any) error) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("a failed stream gave %v", err)
	}
}

// printTableOf reads its rows twice; rows that come wider the second time
// (books written to meanwhile) are written unpadded rather than failing.
func TestPrintTableOfRowsThatGrew(t *testing.T) {
	pass := 0
	var out bytes.Buffer
	err := printTableOf(&out, []string{"ID", "NOTE"}, map[int]bool{0: true}, "none", func(row func([]string) error) error {
		pass++
		note := "short"
		if pass == 2 {
			note = "a good deal longer"
		}
		if err := row([]string{"7", note}); err != nil {
			return err
		}
		return row([]string{"12345", "x"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "   ID  NOTE\n    7  a good deal longer\n12345  x\n"; out.String() != want || pass != 2 {
		t.Errorf("after %d passes:\n%q\nwant\n%q", pass, out.String(), want)
	}
}

// printTableOf writes its ifEmpty instead of a table of no rows, and
// printTable, which has none, writes the header alone.
func TestPrintTableOfNoRows(t *testing.T) {
	none := func(row func([]string) error) error { return nil }
	for _, c := range []struct{ ifEmpty, want string }{{"no exceptions", "no exceptions\n"}, {"", "ID  NOTE\n"}} {
		var out bytes.Buffer
		if err := printTableOf(&out, []string{"ID", "NOTE"}, nil, c.ifEmpty, none); err != nil {
			t.Fatal(err)
		}
		if out.String() != c.want {
			t.Errorf("ifEmpty %q: %q, want %q", c.ifEmpty, out.String(), c.want)
		}
	}
}
