package importers

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/settlehq/settle/provider"
)

// fuzzFormat seeds a fuzzer with the format's samples and checks that any
// input reads without panicking, the same way twice, with records that keep
// their invariants.
func fuzzFormat(f *testing.F, format string) {
	var mapping string
	for _, s := range samples(f) {
		if s.format != format {
			continue
		}
		data, err := os.ReadFile(s.path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		// The same with a byte order mark, and with Latin-1 text in it.
		f.Add(append([]byte("\xEF\xBB\xBF"), data...))
		f.Add(bytes.Replace(data, []byte("e"), []byte("\xe9"), 3))
		if s.mapping != "" && filepath.Base(s.mapping) == "acme.rules" {
			mapping = s.mapping
		}
	}
	opts := testOptions(f, mapping)
	cp1252 := *opts
	cp1252.Encoding = "windows-1252"
	read := func(data []byte, opts *Options) ([]*provider.Record, []string) {
		rd, err := NewReader(format, "fuzz", bytes.NewReader(data), opts)
		if err != nil {
			f.Fatal(err)
		}
		recs, errs := ReadAll(rd)
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		return recs, msgs
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs1, errs1 := read(data, opts)
		recs2, errs2 := read(data, opts)
		if !reflect.DeepEqual(recs1, recs2) || !reflect.DeepEqual(errs1, errs2) {
			t.Fatalf("two reads differ")
		}
		recs3, _ := read(data, &cp1252)
		for _, r := range append(recs1, recs3...) {
			if r.Line < 1 || r.Raw == "" || r.Currency == "" {
				t.Fatalf("record without its origin: %+v", r)
			}
			if end := r.Offset + int64(len(r.Raw)); r.Offset < 0 || end > int64(len(data)) || string(data[r.Offset:end]) != r.Raw {
				t.Fatalf("Raw %q is not the input's bytes at offset %d", r.Raw, r.Offset)
			}
			if r.Grain == provider.BalanceGrain && r.Net != r.Amount-r.Fee {
				t.Fatalf("net %d != %d - %d", r.Net, r.Amount, r.Fee)
			}
			for _, s := range []string{r.ID, r.Type, r.ReportingCategory, r.SourceRef, r.PaymentRef, r.Currency, r.Status, r.PayoutID, r.Description} {
				if !utf8.ValidString(s) {
					t.Fatalf("field %q is not UTF-8", s)
				}
			}
			for _, tm := range []time.Time{r.Created, r.AvailableOn} {
				if !tm.IsZero() && (checkTime(tm, "") != nil || tm.Location() != time.UTC) {
					t.Fatalf("time %v is not one the store gives back", tm)
				}
			}
		}
	})
}

func FuzzStripeBalanceJSON(f *testing.F)   { fuzzFormat(f, FormatStripeBalanceJSON) }
func FuzzStripeItemizedCSV(f *testing.F)   { fuzzFormat(f, FormatStripeItemizedCSV) }
func FuzzStripeObjectsJSON(f *testing.F)   { fuzzFormat(f, FormatStripeObjectsJSON) }
func FuzzJustiFiPaymentsJSON(f *testing.F) { fuzzFormat(f, FormatJustiFiPaymentsJSON) }
func FuzzJustiFiBalanceJSON(f *testing.F)  { fuzzFormat(f, FormatJustiFiBalanceJSON) }
func FuzzJustiFiPayoutCSV(f *testing.F)    { fuzzFormat(f, FormatJustiFiPayoutCSV) }
func FuzzWhopPaymentsJSON(f *testing.F)    { fuzzFormat(f, FormatWhopPaymentsJSON) }
func FuzzPaymentsV3JSON(f *testing.F)      { fuzzFormat(f, FormatPaymentsV3JSON) }
func FuzzCardPayJSON(f *testing.F)         { fuzzFormat(f, FormatCardPayJSON) }
func FuzzGenericCSV(f *testing.F)          { fuzzFormat(f, FormatGenericCSV) }

// FuzzDetect checks that detection never panics and that Open agrees.
func FuzzDetect(f *testing.F) {
	for _, s := range samples(f) {
		data, err := os.ReadFile(s.path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		format, err := Detect("fuzz", data)
		rd, oformat, oerr := Open("fuzz", bytes.NewReader(data), nil)
		if (err == nil) != (oerr == nil) || format != oformat {
			t.Fatalf("Detect = %q, %v; Open = %q, %v", format, err, oformat, oerr)
		}
		if rd != nil {
			ReadAll(rd)
		}
	})
}
