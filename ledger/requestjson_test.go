package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// legacyRequestHash is requestHash as it has always been computed, through
// encoding/json: the hash stored requests carry.
func legacyRequestHash(t testing.TB, op string, req any) string {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write([]byte(op))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// fillRequest sets every field of the struct v points to from r, by type, so that
// a field added to a request is covered without changing the test; a field
// of a type it does not know fails the test, to be taught here and to
// appendRequestJSON.
func fillRequest(t *testing.T, r *rand.Rand, v reflect.Value, plain bool) {
	t.Helper()
	strs := []string{"", "ord_00000001", "Order 42", "stripe", "usd", "evt 7 / retry", "a-b_c.d:e"}
	odd := []string{"<b>", "a&b", `say "hi"`, `back\slash`, "line\nbreak", "tab\t", "\x01", "café", "\u2028", "\xff"}
	str := func() string {
		if !plain && r.IntN(4) == 0 {
			return odd[r.IntN(len(odd))]
		}
		return strs[r.IntN(len(strs))]
	}
	dec := func() decimal.Decimal {
		return decimal.New(r.Int64N(2_000_000)-1_000_000, -int32(r.IntN(4)))
	}
	tm := func() time.Time {
		switch r.IntN(5) {
		case 0:
			return time.Time{}
		case 1:
			if !plain {
				return time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600))
			}
		}
		return time.Unix(1_700_000_000+r.Int64N(100_000_000), r.Int64N(3)*int64(r.IntN(1_000_000_000))).UTC()
	}
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		switch f.Interface().(type) {
		case string:
			f.SetString(str())
		case decimal.Decimal:
			f.Set(reflect.ValueOf(dec()))
		case time.Time:
			f.Set(reflect.ValueOf(tm()))
		case map[string]string:
			switch r.IntN(3) {
			case 0:
				f.Set(reflect.Zero(f.Type()))
			case 1:
				f.Set(reflect.ValueOf(map[string]string{}))
			default:
				m := map[string]string{}
				for range 1 + r.IntN(4) {
					m[str()+fmt.Sprint(r.IntN(9))] = str()
				}
				f.Set(reflect.ValueOf(m))
			}
		case []Fee:
			switch r.IntN(3) {
			case 0:
				f.Set(reflect.Zero(f.Type()))
			case 1:
				f.Set(reflect.ValueOf([]Fee{}))
			default:
				fs := make([]Fee, 1+r.IntN(3))
				for j := range fs {
					fillRequest(t, r, reflect.ValueOf(&fs[j]).Elem(), plain)
				}
				f.Set(reflect.ValueOf(fs))
			}
		case *Settlement:
			if r.IntN(2) == 0 {
				f.Set(reflect.Zero(f.Type()))
			} else {
				s := &Settlement{}
				fillRequest(t, r, reflect.ValueOf(s).Elem(), plain)
				f.Set(reflect.ValueOf(s))
			}
		default:
			t.Fatalf("field %s of type %s: teach this test and appendRequestJSON about it", sf.Name, sf.Type)
		}
	}
}

// The fast JSON of captures, authorizations and refunds is encoding/json's, byte
// for byte, or it gives up; on requests that need nothing escaped it never
// gives up.
func TestRequestJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, proto := range []any{CaptureRequest{}, AuthorizeRequest{}, RefundRequest{}} {
		fast, fell := 0, 0
		for i := range 20_000 {
			plain := i%2 == 0
			v := reflect.New(reflect.TypeOf(proto))
			fillRequest(t, r, v.Elem(), plain)
			req := v.Elem().Interface()
			want, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := appendRequestJSON(nil, req)
			switch {
			case ok && !bytes.Equal(got, want):
				t.Fatalf("%T:\n got %s\nwant %s", req, got, want)
			case !ok && plain:
				t.Fatalf("%T gave up on a plain request: %s", req, want)
			case ok:
				fast++
			default:
				fell++
			}
			if h, want := noErr(requestHash("op", req)), legacyRequestHash(t, "op", req); h != want {
				t.Fatalf("%T: hash %s, want %s", req, h, want)
			}
		}
		if fast == 0 || fell == 0 {
			t.Errorf("%T: %d written fast, %d by encoding/json; want both", proto, fast, fell)
		}
	}
	// Other requests, and decimals set to marshal unquoted, go through
	// encoding/json.
	if _, ok := appendRequestJSON(nil, CancelRequest{Key: "k"}); ok {
		t.Error("a cancel request was written by the fast path")
	}
	req := CaptureRequest{Key: "k", Amount: decimal.RequireFromString("1.50"), Fees: []Fee{{Type: "f", Amount: decimal.New(25, 3)}}}
	// Decimals set to keep their trailing zeros, or to be written in
	// scientific notation, are written as the package writes them.
	for _, set := range []*bool{&decimal.TrimTrailingZeros, &decimal.UseScientificNotation} {
		*set = !*set
		h, want := noErr(requestHash("capture", req)), legacyRequestHash(t, "capture", req)
		*set = !*set
		if h != want {
			t.Errorf("decimals written otherwise: hash %s, want %s", h, want)
		}
	}
	decimal.MarshalJSONWithoutQuotes = true
	defer func() { decimal.MarshalJSONWithoutQuotes = false }()
	if _, ok := appendRequestJSON(nil, req); ok {
		t.Error("unquoted decimals were written by the fast path")
	}
	if h, want := noErr(requestHash("capture", req)), legacyRequestHash(t, "capture", req); h != want {
		t.Errorf("unquoted decimals: hash %s, want %s", h, want)
	}
}

// requestHash reuses its buffers between requests: hashes taken on several
// goroutines at once, of requests of every length, are the hashes taken
// one at a time.
func TestRequestHashConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	reqs := make([]any, 64)
	want := make([]string, len(reqs))
	for i := range reqs {
		v := reflect.New(reflect.TypeOf(CaptureRequest{}))
		fillRequest(t, r, v.Elem(), i%2 == 0)
		reqs[i] = v.Elem().Interface()
		want[i] = legacyRequestHash(t, "capture", reqs[i])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := range 500 {
				i := (g*7 + n) % len(reqs)
				if h := noErr(requestHash("capture", reqs[i])); h != want[i] {
					t.Errorf("request %d: hash %s, want %s", i, h, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func noErr[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// BenchmarkRequestHash times a capture's idempotency hash, and the same
// hash through encoding/json.
func BenchmarkRequestHash(b *testing.B) {
	req := CaptureRequest{Key: "evt_00000001", PaymentID: "ord_00000001", Amount: decimal.RequireFromString("78.97"),
		Fees: []Fee{{Type: "stripe_fee", Amount: decimal.RequireFromString("2.59")}}, At: time.Unix(1_767_225_600, 0).UTC(),
		Provider: "stripe", ProviderRef: "ch_00000001", Currency: "usd", Customer: "cus_00000001", Description: "Order ord_00000001"}
	b.Run("requestHash", func(b *testing.B) {
		for b.Loop() {
			if _, err := requestHash("capture", req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) { // as requestHash was
		for b.Loop() {
			legacyRequestHash(b, "capture", req)
		}
	})
}

// FuzzRequestJSON writes captures and authorizations of arbitrary strings,
// amounts and times: whatever the fast path writes is encoding/json's bytes.
func FuzzRequestJSON(f *testing.F) {
	f.Add("evt_1", "Order <1>", "note", "café", int64(7897), int8(-2), int64(1_767_225_600), int64(0), false)
	f.Add("k", "", "", "", int64(-5), int8(3), int64(-62_135_596_801), int64(999), true)
	f.Fuzz(func(t *testing.T, key, desc, mk, mv string, coef int64, exp int8, sec, nsec int64, authorize bool) {
		at := time.Unix(sec, nsec).UTC()
		amt := decimal.New(coef, int32(exp))
		var req any = CaptureRequest{Key: key, PaymentID: desc, Amount: amt, Fees: []Fee{{Type: mk, Amount: amt}}, At: at,
			AvailableOn: at, Settlement: &Settlement{Amount: amt, Currency: mv}, Description: desc, Metadata: map[string]string{mk: mv}}
		if authorize {
			req = AuthorizeRequest{Key: key, PaymentID: desc, Amount: amt, At: at, ExpiresAt: at, Customer: mv,
				Metadata: map[string]string{mk: mv, mv: mk}}
		}
		want, err := json.Marshal(req)
		if err != nil {
			return // a time encoding/json refuses: requestHash reports its error
		}
		if got, ok := appendRequestJSON(nil, req); ok && !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}
