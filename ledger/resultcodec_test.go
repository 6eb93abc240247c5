package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// filler sets every exported field of a value, recursively, to a random
// non-zero value, so that a codec that leaves a field out loses it.
type filler struct {
	rng  *rand.Rand
	pool []string // strings handed out before, reused to exercise references
	// sparse leaves some fields zero, nil or empty, as real results do.
	sparse bool
}

func (f *filler) str() string {
	switch n := f.rng.IntN(10); {
	case n < 3 && len(f.pool) > 0:
		return f.pool[f.rng.IntN(len(f.pool))]
	case n == 3:
		b := make([]byte, 2*(8+f.rng.IntN(32)))
		for i := range b {
			b[i] = hexDigits[f.rng.IntN(16)]
		}
		s := string(b)
		f.pool = append(f.pool, s)
		return s
	case n == 4 && !f.sparse:
		// Not valid UTF-8 (JSON would replace it): the binary form keeps
		// the bytes as they are.
		return "é€\x00\xff" + fmt.Sprint(f.rng.Int64())
	}
	s := fmt.Sprintf("s%d", f.rng.IntN(1000))
	f.pool = append(f.pool, s)
	return s
}

func (f *filler) fill(v reflect.Value) {
	if f.sparse && f.rng.IntN(4) == 0 {
		switch {
		case f.rng.IntN(2) == 0: // zero or nil
		case v.Kind() == reflect.Map:
			v.Set(reflect.MakeMap(v.Type()))
		case v.Kind() == reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		}
		return
	}
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Unix(f.rng.Int64N(1<<36)-1<<35, f.rng.Int64N(1e9)).UTC()))
		return
	case reflect.TypeFor[decimal.Decimal]():
		// In the canonical form its text gives: "1.50" is read back as 1.5.
		d := decimal.RequireFromString(decimal.New(f.rng.Int64N(1e12)+1, -int32(f.rng.IntN(11))).String())
		v.Set(reflect.ValueOf(d))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if sf.IsExported() && sf.Tag.Get("json") != "-" {
				f.fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString(f.str())
	case reflect.Int64:
		v.SetInt(f.rng.Int64() >> f.rng.IntN(64))
		if v.Int() == 0 {
			v.SetInt(-1)
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		n := 1 + f.rng.IntN(4)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			f.fill(v.Index(i))
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + f.rng.IntN(4) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k)
			f.fill(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		panic(fmt.Sprintf("filler: no rule for %s", v.Type()))
	}
}

func jsonRoundTrip(t *testing.T, res *Result) *Result {
	t.Helper()
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var out Result
	if err := json.Unmarshal(js, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func binaryRoundTrip(t *testing.T, res *Result) Result {
	t.Helper()
	var out Result
	if err := decodeResult(encodeResult(res), &out); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	return out
}

// Every field of every part of a Result survives the binary form: the
// filler sets each one, so a field added to a struct and not to the codec
// fails here.
func TestResultCodecCoversEveryField(t *testing.T) {
	f := &filler{rng: rand.New(rand.NewPCG(1, 2))}
	for range 200 {
		var res Result
		f.fill(reflect.ValueOf(&res).Elem())
		if got := binaryRoundTrip(t, &res); !reflect.DeepEqual(got, res) {
			t.Fatalf("round trip lost something\ngot  %+v\nwant %+v", got, res)
		}
	}
}

// The binary form decodes to what the JSON form (versions 0 and 1) decodes
// to, for results with parts, fields, maps and slices missing, nil or
// empty: a replay returns the same whichever form was stored.
func TestResultCodecMatchesJSON(t *testing.T) {
	f := &filler{rng: rand.New(rand.NewPCG(3, 4)), sparse: true}
	for range 2000 {
		var res Result
		f.fill(reflect.ValueOf(&res).Elem())
		if got, want := binaryRoundTrip(t, &res), jsonRoundTrip(t, &res); !reflect.DeepEqual(&got, want) {
			t.Fatalf("binary and JSON differ\nbinary %+v\njson   %+v", got, *want)
		}
	}
}

// A result with more strings than the writer searches one by one (its
// metadata holds hundreds) round-trips, its repeated strings written once:
// the references keep their indexes when the writer starts to index them.
func TestResultCodecManyStrings(t *testing.T) {
	md := map[string]string{}
	for i := range 300 {
		md[fmt.Sprintf("key-%03d", i)] = fmt.Sprintf("value-%d", i%7)
	}
	res := Result{Payment: &Payment{ID: "pay_1", Provider: "stripe", Currency: "usd", Customer: "value-3", Metadata: md},
		Entry: &Entry{Key: "value-5", Description: "key-299", Metadata: md}}
	if got := binaryRoundTrip(t, &res); !reflect.DeepEqual(got, res) {
		t.Fatalf("round trip lost something\ngot  %+v\nwant %+v", got, res)
	}
	b := encodeResult(&res)
	if n := bytes.Count(b, []byte("key-123")); n != 1 {
		t.Errorf("key-123 written %d times, want once", n)
	}
	if n := bytes.Count(b, []byte("value-6")); n != 1 {
		t.Errorf("value-6 written %d times, want once", n)
	}
}

// Writers are reused between results: a result encodes the same whatever
// was encoded before it (a large one, whose strings were indexed, or many
// at once on other goroutines), and its stored form is its own, not a
// buffer the next result writes over.
func TestResultCodecWritersReused(t *testing.T) {
	f := &filler{rng: rand.New(rand.NewPCG(9, 10))}
	results := make([]Result, 16)
	want := make([][]byte, len(results))
	for i := range results {
		f.fill(reflect.ValueOf(&results[i]).Elem())
		want[i] = bytes.Clone(encodeResult(&results[i]))
	}
	md := map[string]string{}
	for i := range 300 {
		md[fmt.Sprintf("key-%03d", i)] = "v"
	}
	large := encodeResult(&Result{Entry: &Entry{Key: "large", Metadata: md}})
	largeCopy := bytes.Clone(large)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := range 200 {
				i := (g + n) % len(results)
				if got := encodeResult(&results[i]); !bytes.Equal(got, want[i]) {
					t.Errorf("result %d encoded differently after others", i)
					return
				}
			}
		})
	}
	wg.Wait()
	if !bytes.Equal(large, largeCopy) {
		t.Error("a stored result changed as later results were encoded")
	}
}

// A damaged stored result is an error, never a panic or a half-read value
// passed off as whole.
func TestResultCodecRefusesDamage(t *testing.T) {
	f := &filler{rng: rand.New(rand.NewPCG(5, 6))}
	var res Result
	f.fill(reflect.ValueOf(&res).Elem())
	b := encodeResult(&res)
	for n := range len(b) {
		var got Result
		if err := decodeResult(b[:n], &got); err == nil {
			t.Fatalf("a result cut to %d of %d bytes decoded", n, len(b))
		}
	}
	var got Result
	if err := decodeResult(append(b, 0), &got); err == nil {
		t.Fatal("a result with a byte too many decoded")
	}
}

func FuzzResultCodec(f *testing.F) {
	fl := &filler{rng: rand.New(rand.NewPCG(7, 8)), sparse: true}
	for range 8 {
		var res Result
		fl.fill(reflect.ValueOf(&res).Elem())
		b := encodeResult(&res)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != resultV2 {
			return
		}
		var res Result
		if decodeResultV2(b, &res) != nil {
			return
		}
		again := encodeResult(&res)
		var res2 Result
		if err := decodeResultV2(again, &res2); err != nil {
			t.Fatalf("re-encoded result does not decode: %v", err)
		}
		if third := encodeResult(&res2); !bytes.Equal(third, again) {
			t.Fatalf("decode, encode, decode changed the result\n%+v\n%+v", res, res2)
		}
	})
}

// BenchmarkEncodeResult times the stored form of a capture's result, as a
// feed stores one for every event.
func BenchmarkEncodeResult(b *testing.B) {
	at := time.Unix(1_767_225_600, 0).UTC()
	src := Source{Provider: "stripe", Type: "payment", ID: "ord_00000001", Ref: "ch_00000001"}
	res := Result{
		Entry: &Entry{ID: 1, Key: "evt_00000001", Phase: Posted, OccurredAt: at, RecordedAt: at, Description: "Order ord_00000001",
			Source: src, Postings: []Posting{{Account: "assets:stripe:pending", Currency: "usd", Amount: 7638},
				{Account: "expenses:fees:stripe_fee", Currency: "usd", Amount: 259}, {Account: "income:sales", Currency: "usd", Amount: -7897}}},
		BalanceTransaction: &BalanceTransaction{ID: "btx_1", Provider: "stripe", EntryID: 1, Type: "charge", ReportingCategory: "charge",
			SourceType: "payment", SourceID: "ord_00000001", SourceRef: "ch_00000001", PaymentID: "ord_00000001", Amount: 7897, Fee: 259,
			Net: 7638, FeeDetails: []FeeDetail{{Type: "stripe_fee", Amount: 259}}, Currency: "usd", Status: BTPending,
			Created: at, AvailableOn: at.Add(48 * time.Hour), AvailableOnEstimated: true},
		Payment: &Payment{ID: "ord_00000001", Provider: "stripe", ProviderRef: "ch_00000001", Currency: "usd", Customer: "cus_00000001",
			Description: "Order ord_00000001", CaptureMethod: "automatic", Status: PaymentCaptured, Authorized: 7897, Captured: 7897,
			Fees: 259, CreatedAt: at, UpdatedAt: at},
	}
	for b.Loop() {
		encodeResult(&res)
	}
}
