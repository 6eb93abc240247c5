package importers

import (
	"errors"
	"strings"
	"testing"

	"github.com/settlehq/settle/provider"
)

// TestNonUTF8IsRefused checks that bytes which are not UTF-8 (here Latin-1
// é, 0xE9) are refused at their line and column, not carried into records.
// They used to pass into reports and exports silently.
func TestNonUTF8IsRefused(t *testing.T) {
	good := `"txn_1","2024-01-01 00:00:00","","usd","1.00","0.00","1.00","charge","","ok"` + "\n"
	bt := func(id, desc string) string {
		return `{"id":"` + id + `","object":"balance_transaction","amount":100,"fee":0,"net":100,"currency":"usd","type":"charge",` + "\n" +
			`"created":1700000000,` + "\n" + `"description":"` + desc + `"}`
	}
	cases := []struct {
		name, format, input string
		records             int
		want                []wantErr
	}{
		{"csv cell", FormatStripeItemizedCSV,
			itemizedHeader + good + `"txn_2","2024-01-01 00:00:00","","usd","1.00","0.00","1.00","charge","","Caf` + "\xe9" + `"` + "\n" + good,
			2, []wantErr{{3, "description", ErrEncoding}}},
		{"csv second line of a quoted cell", FormatStripeItemizedCSV,
			itemizedHeader + `"txn_2","2024-01-01 00:00:00","","usd","1.00","0.00","1.00","charge","","two` + "\nlines \xe9\"\n" + good,
			1, []wantErr{{3, "description", ErrEncoding}}},
		{"csv cut sequence", FormatStripeItemizedCSV,
			itemizedHeader + `"txn_2","2024-01-01 00:00:00","","usd","1.00","0.00","1.00","charge","ch_` + "\xc3" + `",""` + "\n",
			0, []wantErr{{2, "source_id", ErrEncoding}}},
		{"csv header", FormatJustiFiPayoutCSV,
			"id,type,currency,amount,fee,net,created_at,d\xe9tail\nbt_1,seller_payment,usd,100,3,97,2024-01-01T00:00:00Z,x\n",
			0, []wantErr{{1, "", ErrEncoding}}},
		{"json string", FormatStripeBalanceJSON,
			"{\"object\":\"list\",\"data\":[\n" + bt("txn_1", "ok") + ",\n" + bt("txn_2", "Caf\xe9") + ",\n" + bt("txn_3", "ok") + "\n]}",
			2, []wantErr{{7, "description", ErrEncoding}}},
		{"json nested", FormatStripeBalanceJSON,
			"[{\"id\":\"txn_1\",\"amount\":100,\"fee\":0,\"net\":100,\"currency\":\"usd\",\"type\":\"charge\",\"created\":1700000000,\n\"source\":{\"id\":\"ch_1\",\n\"description\":\"\xe9\"}}]",
			0, []wantErr{{3, "source", ErrEncoding}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rd, err := NewReader(c.format, "bad.input", strings.NewReader(c.input), nil)
			if err != nil {
				t.Fatal(err)
			}
			recs, errs := ReadAll(rd)
			checkErrs(t, recs, errs, c.records, c.want)
			for _, e := range errs {
				if !strings.Contains(e.Error(), "byte 0x") || strings.ContainsAny(e.Error(), "\xe9\xc3") {
					t.Errorf("message %q should name the byte, not hold it", e)
				}
			}
		})
	}
}

// checkErrs compares what ReadAll gave with the records and errors wanted.
func checkErrs(t *testing.T, recs []*provider.Record, errs []error, records int, want []wantErr) {
	t.Helper()
	if len(recs) != records || len(errs) != len(want) {
		t.Fatalf("%d records, errors %v; want %d records, %d errors", len(recs), errs, records, len(want))
	}
	for i, w := range want {
		var pe *ParseError
		if !errors.As(errs[i], &pe) || pe.Line != w.line || pe.Column != w.col || !errors.Is(pe, w.is) {
			t.Errorf("error %d: %v; want line %d, column %q, wrapping %v", i, errs[i], w.line, w.col, w.is)
		}
	}
}

// TestDeclaredEncodingIsConverted reads files declared in a single-byte
// encoding: cells come out as UTF-8, Raw stays the file's bytes, and bytes
// that are no text in the encoding are refused.
func TestDeclaredEncodingIsConverted(t *testing.T) {
	row := func(desc string) string {
		return `"txn_1","2024-01-01 00:00:00","","usd","1.00","0.00","1.00","charge","","` + desc + `"`
	}
	json := func(desc string) string {
		return `{"id":"txn_1","object":"balance_transaction","amount":100,"fee":0,"net":100,"currency":"usd","type":"charge","created":1700000000,"description":"` + desc + `"}`
	}
	cases := []struct {
		name, format, encoding, input string
		desc                          string // the record's Description
		raw                           string // its Raw
		want                          *wantErr
	}{
		{"latin1 csv", FormatStripeItemizedCSV, "latin1", itemizedHeader + row("Caf\xe9 cr\xe8me") + "\n", "Café crème", row("Caf\xe9 cr\xe8me"), nil},
		{"iso-8859-1 json", FormatStripeBalanceJSON, "ISO-8859-1", "[" + json("Stra\xdfe") + "]", "Straße", json("Stra\xdfe"), nil},
		{"windows-1252 euro and quotes", FormatStripeItemizedCSV, "windows-1252", itemizedHeader + row("\x80 5 \x93ok\x94") + "\n", "€ 5 “ok”", row("\x80 5 \x93ok\x94"), nil},
		{"cp1252 json", FormatStripeBalanceJSON, "cp1252", "[" + json("\x80") + "]", "€", json("\x80"), nil},
		{"utf-8 declared", FormatStripeItemizedCSV, "UTF-8", itemizedHeader + row("Café") + "\n", "Café", row("Café"), nil},
		{"latin1 has no euro", FormatStripeItemizedCSV, "latin1", itemizedHeader + row("\x80 5") + "\n", "", "", &wantErr{2, "description", ErrEncoding}},
		{"windows-1252 has no 0x81", FormatStripeBalanceJSON, "windows-1252", "[\n" + json("\x81") + "]", "", "", &wantErr{2, "description", ErrEncoding}},
		{"byte order mark is not latin1 (csv)", FormatStripeItemizedCSV, "latin1", "\xef\xbb\xbf" + itemizedHeader + row("x") + "\n", "", "", &wantErr{1, "", ErrEncoding}},
		{"byte order mark is not latin1 (json)", FormatStripeBalanceJSON, "latin1", "\xef\xbb\xbf[" + json("x") + "]", "", "", &wantErr{1, "", ErrEncoding}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rd, err := NewReader(c.format, "enc", strings.NewReader(c.input), &Options{Encoding: c.encoding})
			if err != nil {
				t.Fatal(err)
			}
			recs, errs := ReadAll(rd)
			if c.want != nil {
				checkErrs(t, recs, errs, 0, []wantErr{*c.want})
				return
			}
			if len(errs) != 0 || len(recs) != 1 {
				t.Fatalf("%d records, errors %v", len(recs), errs)
			}
			r := recs[0]
			if r.Description != c.desc || r.Raw != c.raw || c.input[r.Offset:r.Offset+int64(len(r.Raw))] != r.Raw {
				t.Errorf("Description %q, Raw %q at %d; want %q, %q", r.Description, r.Raw, r.Offset, c.desc, c.raw)
			}
		})
	}
	if _, err := NewReader(FormatStripeItemizedCSV, "x", strings.NewReader(""), &Options{Encoding: "ebcdic"}); !errors.Is(err, ErrUnknownEncoding) ||
		!strings.Contains(err.Error(), "windows-1252") {
		t.Errorf("unknown encoding: %v", err)
	}
}

// TestMappingMustBeUTF8 checks that a mapping file in another encoding is
// refused rather than matched against converted headers byte for byte.
func TestMappingMustBeUTF8(t *testing.T) {
	_, err := ParseMapping("m.rules", strings.NewReader("provider acme\ngrain balance\nunits major\nid Id\namount Montant r\xe9gl\xe9\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 5 || !errors.Is(err, ErrBadMapping) {
		t.Errorf("got %v", err)
	}
}
