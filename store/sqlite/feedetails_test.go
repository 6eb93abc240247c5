package sqlite

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// The fee-details encoder writes what json.Marshal writes, byte for byte;
// the fast decoder reads that exactly as encoding/json does, and anything
// it takes from other input it reads as encoding/json would.
func FuzzFeeDetails(f *testing.F) {
	f.Add("stripe_fee", int64(143), "tax", int64(-7))
	f.Add(`we"ird\`, int64(0), "", int64(1<<62))
	f.Add("a<b", int64(-1<<63), "caf\u00e9", int64(1<<63-1))
	f.Add("b>a", int64(1), "a&b", int64(2))
	f.Add("a\u2028", int64(5), "\x7f", int64(5))
	// Raw lists the fast path must leave to encoding/json, or read as it does.
	for _, raw := range []string{`{"type":"a","amount":+5}`, `{"type":"a","amount":05}`, `{"type":"a","amount":-0}`,
		"{\"type\":\"a\x01\",\"amount\":1}", "{\"type\":\"\xff\",\"amount\":1}", `{"type":"a","amount":1},`, ``} {
		f.Add(raw, int64(0), "", int64(0))
	}
	f.Fuzz(func(t *testing.T, t1 string, a1 int64, t2 string, a2 int64) {
		for _, in := range [][]ledger.FeeDetail{{{Type: t1, Amount: a1}}, {{Type: t1, Amount: a1}, {Type: t2, Amount: a2}}} {
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if enc, err := encodeFeeDetails(in); err != nil || enc != string(b) {
				t.Fatalf("%v: encoded %s, %v; json.Marshal %s", in, enc, err, b)
			}
			var want []ledger.FeeDetail // in, with invalid UTF-8 replaced as json.Marshal does
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			got, err := decodeFeeDetails(string(b))
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: got %v, %v; want %v", b, got, err, want)
			}
		}
		// Arbitrary text: where the fast path answers, encoding/json agrees.
		raw := "[" + t1 + "]"
		if fast, ok := fastFeeDetails(raw); ok {
			var want []ledger.FeeDetail
			if err := json.Unmarshal([]byte(raw), &want); err != nil || !reflect.DeepEqual(fast, want) {
				t.Fatalf("%q: fast %v, encoding/json %v (%v)", raw, fast, want, err)
			}
		}
	})
}
