package importers

import (
	"strings"
	"testing"
)

// TestRawIsTheFilesBytes checks that Raw is cut out of the file exactly, at
// Offset, whatever the line breaks, quoting, blank lines and byte order mark
// around it, and that bad rows do not shift the rows after them.
func TestRawIsTheFilesBytes(t *testing.T) {
	const header = "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,description\n"
	row := func(id, desc string) string {
		return id + `,2024-06-01 00:00:00,usd,10.00,0.30,9.70,charge,` + desc
	}
	tests := []struct {
		name  string
		input string
		want  []string // the raw rows, in order
	}{
		{"plain", header + row("txn_1", "a") + "\n" + row("txn_2", "b") + "\n",
			[]string{row("txn_1", "a"), row("txn_2", "b")}},
		{"crlf", strings.ReplaceAll(header, "\n", "\r\n") + row("txn_1", "a") + "\r\n" + row("txn_2", "b") + "\r\n",
			[]string{row("txn_1", "a"), row("txn_2", "b")}},
		{"no final line break", header + row("txn_1", "a") + "\n" + row("txn_2", "b"),
			[]string{row("txn_1", "a"), row("txn_2", "b")}},
		{"lone cr at the end", header + row("txn_1", "a") + "\r",
			[]string{row("txn_1", "a")}},
		{"blank lines", header + "\n\r\n" + row("txn_1", "a") + "\n\n" + row("txn_2", "b") + "\n\n",
			[]string{row("txn_1", "a"), row("txn_2", "b")}},
		{"quoted line breaks", header + row("txn_1", "\"two\nlines\"") + "\n" + row("txn_2", `"say ""hi"", twice"`) + "\n",
			[]string{row("txn_1", "\"two\nlines\""), row("txn_2", `"say ""hi"", twice"`)}},
		{"byte order mark", "\xEF\xBB\xBF" + header + row("txn_1", "a") + "\n",
			[]string{row("txn_1", "a")}},
		{"after bad rows", header + "txn_bad,2024-06-01 00:00:00,usd,10.00,0.30,9.00,charge,x\n" + "txn_short,1\n" +
			row("txn_1", "a") + "\n", []string{row("txn_1", "a")}},
		{"long rows", header + row("txn_1", strings.Repeat("x", 200_000)) + "\n" + row("txn_2", "b") + "\n",
			[]string{row("txn_1", strings.Repeat("x", 200_000)), row("txn_2", "b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := NewReader(FormatStripeItemizedCSV, "t.csv", strings.NewReader(tt.input), nil)
			if err != nil {
				t.Fatal(err)
			}
			recs, _ := ReadAll(rd)
			if len(recs) != len(tt.want) {
				t.Fatalf("%d records, want %d", len(recs), len(tt.want))
			}
			for i, r := range recs {
				if r.Raw != tt.want[i] {
					t.Errorf("record %d: Raw %q, want %q", i, r.Raw, tt.want[i])
				}
				if got := tt.input[r.Offset : r.Offset+int64(len(r.Raw))]; got != r.Raw {
					t.Errorf("record %d: the file at offset %d holds %q, not Raw", i, r.Offset, got)
				}
			}
		})
	}
}

// TestRawJSONOffset checks a JSON record's Offset, with a byte order mark.
func TestRawJSONOffset(t *testing.T) {
	obj := `{"id":"txn_1","object":"balance_transaction","amount":1000,"fee":30,"net":970,"currency":"usd","type":"charge","created":1700000000}`
	input := "\xEF\xBB\xBF{\"object\":\"list\",\"data\":[\n  " + obj + "\n]}\n"
	rd, err := NewReader(FormatStripeBalanceJSON, "t.json", strings.NewReader(input), nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := ReadAll(rd)
	if len(recs) != 1 || len(errs) != 0 {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	if r := recs[0]; r.Raw != obj || input[r.Offset:r.Offset+int64(len(r.Raw))] != obj {
		t.Errorf("Raw %q at offset %d, want %q at %d", r.Raw, r.Offset, obj, strings.Index(input, obj))
	}
}
