package importers

import (
	"errors"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	cases := []struct {
		head string
		want string
		err  error
	}{
		{`{"object":"list","url":"/v1/balance_transactions","data":[]}`, FormatStripeBalanceJSON, nil},
		{`{"object":"list","url":"/v1/charges","data":[]}`, FormatStripeObjectsJSON, nil},
		{`[{"id":"txn_1","object":"balance_transaction"`, FormatStripeBalanceJSON, nil}, // cut short
		{`[{"id":"ch_1","object":"charge","livemode":false}]`, FormatStripeObjectsJSON, nil},
		{`{"data":[{"object":"payment","id":"x","live":true,"created_at":1}]}`, FormatCardPayJSON, nil},
		{`{"type":"array","data":[{"id":"pbt_1","payment_balance_txn_type":"payment"}],"page_info":null}`, FormatJustiFiBalanceJSON, nil},
		{`{"type":"payment","data":{"id":"py_1","amount":1}}`, FormatJustiFiPaymentsJSON, nil},
		{`{"id":"pay_1","final_amount":6.9,"status":"paid"}`, FormatWhopPaymentsJSON, nil},
		{`[{"id":"pay_1","amount":2999,"currency":"usd","created_at":"2024-03-15T10:30:00Z"}]`, FormatPaymentsV3JSON, nil},
		{"\ufeff\"balance_transaction_id\",\"created_utc\",\"currency\",\"gross\",\"fee\",\"net\",\"reporting_category\"\n", FormatStripeItemizedCSV, nil},
		{"id,type,currency,amount,fee,net,payout_id,created_at\r\n", FormatJustiFiPayoutCSV, nil},
		{`{"type":"array","data":[],"page_info":null}`, "", ErrAmbiguousFormat},
		{`[]`, "", ErrAmbiguousFormat},
		{`[{"foo":1}]`, "", ErrUnknownFormat},
		{"date,amount,memo\n", "", ErrUnknownFormat},
		{"", "", ErrUnknownFormat},
		{"{", "", ErrUnknownFormat},
	}
	for _, c := range cases {
		got, err := Detect("f", []byte(c.head))
		if got != c.want || (c.err == nil) != (err == nil) || (c.err != nil && !errors.Is(err, c.err)) {
			t.Errorf("Detect(%.50q) = %q, %v; want %q, %v", c.head, got, err, c.want, c.err)
		}
	}
	// An unknown file's error names the candidates.
	_, err := Detect("f", []byte(`[{"foo":1}]`))
	if err == nil || !strings.Contains(err.Error(), FormatWhopPaymentsJSON) {
		t.Errorf("error does not list the formats: %v", err)
	}
}
