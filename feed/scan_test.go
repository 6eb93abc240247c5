package feed

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzScanObject holds the scanner to encoding/json: an object it reads is
// valid JSON, with the members encoding/json finds, the same values as
// written, and no key twice; an array likewise.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":"x","b":[1,2,{"c":null}],"d":{"e":true,"f":false}}`,
		`{"a":-0.5e+10}`, `{"a":01}`, `{"a":1.}`, `{"a":"\u00e9\n"}`, `{"a\u0062":1}`, `{"a":1,"a":2}`,
		`{"a":1}{}`, `{"a":1,}`, `{"a" 1}`, `{"a":"` + "\x01" + `"}`, `{"a":tru}`, `[1,"a",[]]`, `[]`, `[1,]`,
		`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`, `{"a":"\x"}`, `{"a":-}`,
		`{"id":"evt_1","type":"payment.captured","amount":"1.00","fees":[{"type":"stripe_fee","amount":"0.30"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if members, ok := scanObject(b); ok {
			if !json.Valid(b) {
				t.Fatalf("scanned %q, which is not valid JSON", b)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("scanned %q, which encoding/json refuses: %v", b, err)
			}
			if len(m) != len(members) {
				t.Fatalf("%q: %d members scanned, %d decoded (a key twice?)", b, len(members), len(m))
			}
			for _, mb := range members {
				if raw, found := m[mb.key]; !found || !bytes.Equal(raw, mb.raw) {
					t.Fatalf("%q: member %q is %q, encoding/json says %q", b, mb.key, mb.raw, raw)
				}
			}
		}
		if items, ok := scanArray(b); ok {
			var want []json.RawMessage
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("scanned %q, which encoding/json refuses: %v", b, err)
			}
			if len(want) != len(items) {
				t.Fatalf("%q: %d items scanned, %d decoded", b, len(items), len(want))
			}
			for i := range items {
				if !bytes.Equal(items[i], want[i]) {
					t.Fatalf("%q: item %d is %q, encoding/json says %q", b, i, items[i], want[i])
				}
			}
		}
	})
}

// The scanner reads a well-formed line itself, and leaves to encoding/json
// what it does not: each case says which.
func TestScanObjectLeaves(t *testing.T) {
	for _, tc := range []struct {
		in   string
		read bool
	}{
		{`{"id":"e1","amount":"1.00","fees":[{"type":"t","amount":"0.1"}],"metadata":{"k":"v"}}`, true},
		{` {"a" : [ 1 , -2.5e3 , true , null ] } ` + "\n", true},
		{`{"a":"caf\u00e9 \"q\""}`, true},
		{`{"a\u0062":1}`, false}, // a key with an escape
		{`{"a":1,"a":2}`, false}, // a key twice
		{`{"a":1} x`, false},
		{`{"a":01}`, false},
		{`{"a":"` + "\t" + `"}`, false},
		{`{"a":"\q"}`, false},
		{`[1]`, false},
		{`null`, false},
	} {
		if _, ok := scanObject([]byte(tc.in)); ok != tc.read {
			t.Errorf("scanObject(%q) read it: %v, want %v", tc.in, ok, tc.read)
		}
	}
}
