package importers

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/settlehq/settle/ledger"
)

const itemizedHeader = `"balance_transaction_id","created_utc","available_on_utc","currency","gross","fee","net","reporting_category","source_id","description"` + "\n"

type wantErr struct {
	line int
	col  string
	is   error
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name    string
		format  string
		input   string
		opts    *Options
		records int // good records still read
		want    []wantErr
	}{
		{
			name:   "csv missing required column",
			format: FormatStripeItemizedCSV,
			input:  "balance_transaction_id,created_utc,currency,gross,fee,reporting_category\ntxn_1,2024-01-01 00:00:00,usd,1.00,0.00,charge\n",
			want:   []wantErr{{1, "net", ErrMissingColumn}},
		},
		{
			name:   "csv empty file",
			format: FormatStripeItemizedCSV,
			input:  "",
			want:   []wantErr{{1, "", ErrMalformed}},
		},
		{
			name:   "csv every bad row is reported and good rows survive",
			format: FormatStripeItemizedCSV,
			input: itemizedHeader +
				`"txn_1","2024-01-01 00:00:00","2024-01-08 00:00:00","usd","1O.00","0.00","10.00","charge","ch_1","typo"` + "\n" +
				`"txn_2","2024-01-01 00:00:00","2024-01-08 00:00:00","usd","10.005","0.00","10.005","charge","ch_2","too many decimals"` + "\n" +
				`"txn_3","2024-01-01 00:00:00","2024-01-08 00:00:00","xyz","10.00","0.00","10.00","charge","ch_3","unknown currency"` + "\n" +
				`"txn_4","2024-01-01 00:00:00","2024-01-08 00:00:00","usd","10.00","0.30","9.80","charge","ch_4","net is not gross - fee"` + "\n" +
				`"txn_5","2024-13-01 00:00:00","2024-01-08 00:00:00","usd","10.00","0.30","9.70","charge","ch_5","bad month"` + "\n" +
				`"txn_6","2024-01-01 00:00:00","2024-01-08 00:00:00","usd","10.00","0.30","9.70","charge","ch_6","a quoted` + "\n" + `two-line description"` + "\n" +
				`"txn_7","2024-01-01 00:00:00","2024-01-08 00:00:00","usd","10.00","0.30","9.70","charge"` + "\n" +
				`"txn_8","2024-01-01 00:00:00","nope","usd","10.00","0.30","9.70","charge","ch_8",""` + "\n" +
				`"","2024-01-01 00:00:00","","usd","10.00","0.30","9.70","charge","ch_9",""` + "\n" +
				`"txn_10","2024-01-01 00:00:00","","usd","10.00","0.30","9.70","charge","ch_10",""` + "\n",
			records: 2,
			want: []wantErr{
				{2, "gross", ledger.ErrInvalidAmount},
				{3, "gross", ledger.ErrInvalidAmount},
				{4, "currency", ledger.ErrUnknownCurrency},
				{5, "net", ErrNetMismatch},
				{6, "created_utc", ErrBadTime},
				{9, "", ErrBadValue}, // too few cells; txn_6 spans lines 7-8
				{10, "available_on_utc", ErrBadTime},
				{11, "balance_transaction_id", ErrMissingField},
			},
		},
		{
			name:   "csv bare quote",
			format: FormatJustiFiPayoutCSV,
			input: "id,type,currency,amount,fee,net,created_at\n" +
				"bt_1,seller_payment,usd,100,3,97,2024-01-01T00:00:00Z\n" +
				"bt_2,seller_pa\"yment,usd,100,3,97,2024-01-01T00:00:00Z\n" +
				"bt_3,seller_payment,usd,12.50,0,12.50,2024-01-01T00:00:00Z\n" +
				"bt_4,seller_payment,usd,100,3,97,2024-01-01T00:00:00Z\n",
			records: 2,
			want: []wantErr{
				{3, "", ErrBadValue},
				{4, "amount", ledger.ErrInvalidAmount},
			},
		},
		{
			name:   "json truncated",
			format: FormatStripeBalanceJSON,
			input: "{\"object\":\"list\",\"data\":[\n" +
				`{"id":"txn_1","object":"balance_transaction","amount":100,"fee":0,"net":100,"currency":"usd","type":"charge","created":1700000000},` + "\n" +
				`{"id":"txn_2","object":"balance_transaction",` + "\n" +
				`"amount":100,`,
			records: 1,
			want:    []wantErr{{4, "", ErrMalformed}},
		},
		{
			name:   "json missing comma between records",
			format: FormatStripeBalanceJSON,
			input: "[\n" +
				`{"id":"txn_1","amount":100,"fee":0,"net":100,"currency":"usd","type":"charge","created":1700000000}` + "\n" +
				`{"id":"txn_2","amount":100,"fee":0,"net":100,"currency":"usd","type":"charge","created":1700000000}` + "\n]\n",
			records: 1,
			want:    []wantErr{{3, "", ErrMalformed}},
		},
		{
			name:   "json bad character inside a record",
			format: FormatStripeBalanceJSON,
			input:  "[\n{\"id\":\"txn_1\",\n\"amount\": 100,\n\"fee\": 0x,\n\"net\": 100}\n]\n",
			want:   []wantErr{{4, "", ErrMalformed}},
		},
		{
			name:    "json trailing garbage",
			format:  FormatStripeBalanceJSON,
			input:   "[\n" + `{"id":"txn_1","amount":100,"fee":0,"net":100,"currency":"usd","type":"charge","created":1700000000}` + "\n]\n\nxyz\n",
			records: 1,
			want:    []wantErr{{5, "", ErrMalformed}},
		},
		{
			name:   "json field errors are located at the field",
			format: FormatStripeBalanceJSON,
			input: "{\"object\": \"list\", \"data\": [\n" +
				"  {\"id\": \"txn_1\",\n   \"amount\": \"100\",\n   \"fee\": 0, \"net\": 100, \"currency\": \"usd\", \"type\": \"charge\", \"created\": 1700000000},\n" +
				"  {\"id\": \"txn_2\",\n   \"amount\": 10.5,\n   \"fee\": 0, \"net\": 100, \"currency\": \"usd\", \"type\": \"charge\", \"created\": 1700000000},\n" +
				"  {\"id\": \"txn_3\", \"amount\": 100, \"fee\": 5, \"currency\": \"usd\",\n   \"net\": 100, \"type\": \"charge\", \"created\": 1700000000},\n" +
				"  {\"id\": \"txn_4\", \"amount\": 100, \"fee\": 0, \"net\": 100, \"currency\": \"usd\", \"type\": \"charge\",\n   \"created\": \"yesterday\"},\n" +
				"  {\"id\": \"txn_5\", \"amount\": 100, \"fee\": 0, \"net\": 100, \"currency\": \"usd\", \"type\": \"charge\", \"created\": 1700000000},\n" +
				"  {\"id\": \"txn_6\", \"amount\": 100, \"fee\": 0, \"net\": 100, \"type\": \"charge\", \"created\": 1700000000},\n" +
				"  {\"id\": \"txn_7\", \"amount\": 100, \"fee\": 0, \"net\": 100, \"currency\": \"usd\", \"type\": \"charge\", \"created\": 99999999999999}\n" +
				"]}\n",
			records: 1,
			want: []wantErr{
				{3, "amount", ErrBadValue},
				{6, "amount", ledger.ErrInvalidAmount},
				{9, "net", ErrNetMismatch},
				{11, "created", ErrBadValue},
				{13, "currency", ErrMissingField},
				{14, "created", ErrBadTime},
			},
		},
		{
			name:    "json not a list of objects",
			format:  FormatStripeBalanceJSON,
			input:   "[\n1,\n" + `{"id":"txn_1","amount":100,"fee":0,"net":100,"currency":"usd","type":"charge","created":1700000000}` + "\n]",
			records: 1,
			want:    []wantErr{{2, "", ErrBadValue}},
		},
		{
			name:   "json top level scalar",
			format: FormatCardPayJSON,
			input:  "42",
			want:   []wantErr{{1, "", ErrMalformed}},
		},
		{
			name:   "whop eth needs registering",
			format: FormatWhopPaymentsJSON,
			input:  "[\n{\"id\":\"pay_1\",\"status\":\"paid\",\"final_amount\":0.015,\n\"currency\":\"eth\",\"created_at\":1717632000}\n]",
			want:   []wantErr{{3, "currency", ledger.ErrUnknownCurrency}},
		},
		{
			name:   "whop too many decimals for jpy",
			format: FormatWhopPaymentsJSON,
			input:  "{\"data\":[\n{\"id\":\"pay_1\",\"status\":\"paid\",\"currency\":\"jpy\",\n\"final_amount\":1500.5,\"created_at\":1717632000},\n{\"id\":\"pay_2\",\"status\":\"paid\",\"currency\":\"usd\",\"final_amount\":1e3,\"created_at\":1717632000}\n],\"pagination\":{}}",
			want: []wantErr{
				{3, "final_amount", ledger.ErrInvalidAmount},
				{4, "final_amount", ledger.ErrInvalidAmount},
			},
		},
		{
			name:   "cardpay created_at must be milliseconds",
			format: FormatCardPayJSON,
			input:  `[{"object":"payment","id":"pay_1","amount":100,"status":"succeeded","created_at":"2024-01-01"}]`,
			want:   []wantErr{{1, "created_at", ErrBadValue}},
		},
		{
			name:   "justifi bad time",
			format: FormatJustiFiPaymentsJSON,
			input:  "{\"type\":\"array\",\"data\":[{\"id\":\"py_1\",\"amount\":100,\"currency\":\"usd\",\"status\":\"succeeded\",\n\"created_at\":\"2024-01-01 10:00\"}],\"page_info\":null}",
			want:   []wantErr{{2, "created_at", ErrBadTime}},
		},
		{
			name:   "justifi balance unknown currency",
			format: FormatJustiFiBalanceJSON,
			input:  `[{"id":"pbt_1","amount":100,"currency":"zzz","payment_balance_txn_type":"payment","created_at":"2024-01-01T00:00:00Z"}]`,
			want:   []wantErr{{1, "currency", ledger.ErrUnknownCurrency}},
		},
		{
			name:   "paymentsv3 refund without amount",
			format: FormatPaymentsV3JSON,
			input:  "[\n{\"id\":\"ref_1\",\"payment_id\":\"pay_1\",\"currency\":\"usd\",\"created_at\":\"2024-01-01T00:00:00Z\"}\n]",
			want:   []wantErr{{2, "amount", ErrMissingField}},
		},
		{
			name:   "stripe objects unknown object",
			format: FormatStripeObjectsJSON,
			input:  `[{"object":"payment_intent","id":"pi_1","amount":100,"currency":"usd","created":1}]`,
			want:   []wantErr{{1, "object", ErrBadValue}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rd, err := NewReader(c.format, "bad.input", strings.NewReader(c.input), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			recs, errs := ReadAll(rd)
			if len(recs) != c.records {
				t.Errorf("read %d records, want %d", len(recs), c.records)
			}
			if len(errs) != len(c.want) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(c.want), errs)
			}
			for i, w := range c.want {
				var pe *ParseError
				if !errors.As(errs[i], &pe) {
					t.Errorf("error %d: %v is not a *ParseError", i, errs[i])
					continue
				}
				if pe.File != "bad.input" || pe.Line != w.line || pe.Column != w.col || !errors.Is(pe, w.is) {
					t.Errorf("error %d: %v (line %d, column %q); want line %d, column %q, wrapping %v",
						i, pe, pe.Line, pe.Column, w.line, w.col, w.is)
				}
			}
			// After the end, or a structural error, a reader stays at io.EOF.
			if _, err := rd.Read(); err != io.EOF {
				t.Errorf("Read after the end: %v, want io.EOF", err)
			}
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := NewReader("paypal-csv", "x", strings.NewReader(""), nil); !errors.Is(err, ErrUnknownFormat) ||
		!strings.Contains(err.Error(), FormatStripeItemizedCSV) {
		t.Errorf("NewReader(paypal-csv) = %v; want ErrUnknownFormat listing the formats", err)
	}
	if _, err := NewReader(FormatGenericCSV, "x", strings.NewReader(""), nil); !errors.Is(err, ErrBadMapping) {
		t.Errorf("generic-csv without a mapping: %v", err)
	}
}

func TestParseErrorMessage(t *testing.T) {
	rd, _ := NewReader(FormatStripeItemizedCSV, "bc.csv", strings.NewReader(itemizedHeader+
		`"txn_1","2024-01-01 00:00:00","","usd","12.345","0.00","12.345","charge","",""`+"\n"), nil)
	_, err := rd.Read()
	want := `bc.csv:2:gross: invalid amount: 12.345 has more than 2 decimals for USD`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
