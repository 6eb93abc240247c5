package sqlite

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestPostingsRoundTrip(t *testing.T) {
	tests := [][]rawPosting{
		nil,
		{{1, "usd", 1000}, {2, "usd", -1000}},
		{{math.MaxInt64, "kwd", math.MinInt64}, {7, "eth", math.MaxInt64}},
		{{3, `we"ird\`, -1}, {4, "\u00e9\n", 1}},
	}
	for _, ps := range tests {
		col := string(appendPostings(nil, ps))
		var viaJSON [][3]any // encoding/json must read the same text
		if err := json.Unmarshal([]byte(col), &viaJSON); err != nil || len(viaJSON) != len(ps) {
			t.Errorf("%s: not the JSON of %d postings: %v", col, len(ps), err)
		}
		got, err := decodePostings(col, nil)
		if err != nil {
			t.Fatalf("decodePostings(%s): %v", col, err)
		}
		if len(got) != len(ps) || (len(ps) > 0 && !reflect.DeepEqual(got, ps)) {
			t.Errorf("decodePostings(%s) = %v, want %v", col, got, ps)
		}
	}
}

// The column may be rewritten by SQLite's json functions (with spaces) or
// by hand; decodePostings reads what is well formed and refuses the rest.
func TestDecodePostings(t *testing.T) {
	good := map[string][]rawPosting{
		`[]`:                              nil,
		` [ [ 1 , "usd" , -5 ] ] `:        {{1, "usd", -5}},
		`[[1,"u\u0073d",5],[2,"usd",-5]]`: {{1, "usd", 5}, {2, "usd", -5}},
	}
	for col, want := range good {
		got, err := decodePostings(col, nil)
		if err != nil || (len(want) > 0 && !reflect.DeepEqual(got, want)) || len(got) != len(want) {
			t.Errorf("decodePostings(%s) = %v, %v; want %v", col, got, err, want)
		}
	}
	for _, col := range []string{``, `[`, `[]x`, `[[1,"usd",5]`, `[[1,"usd",5],]`, `[[1,"usd"]]`, `[[1,"usd",5,6]]`,
		`[[1,"usd",1.5]]`, `[[1,"usd",1e3]]`, `[["1","usd",5]]`, `[[1,usd,5]]`, `[[1,"usd",99999999999999999999]]`,
		`{"a":1}`, `[[1,"us` + "\x01" + `d",5]]`, `[[1,"usd\",5]]`} {
		if ps, err := decodePostings(col, nil); err == nil {
			t.Errorf("decodePostings(%q) = %v, want an error", col, ps)
		}
	}
}

// FuzzDecodePostings: any input either fails cleanly or decodes to
// postings that encode to text decoding to the same postings.
func FuzzDecodePostings(f *testing.F) {
	for _, s := range []string{`[]`, `[[1,"usd",5],[2,"usd",-5]]`, ` [ [ 1 , "u\"sd" , -5 ] ] `, `[[1,"usd",1.5]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := decodePostings(s, nil)
		if err != nil {
			return
		}
		again, err := decodePostings(string(appendPostings(nil, ps)), nil)
		if err != nil || len(again) != len(ps) || (len(ps) > 0 && !reflect.DeepEqual(again, ps)) {
			t.Fatalf("%q decoded to %v, which re-encodes to %v, %v", s, ps, again, err)
		}
	})
}
