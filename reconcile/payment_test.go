package reconcile

import (
	"reflect"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

func payRec(prov, typ, id, paymentRef, status string, amount, captured, refunded, disputed int64, at time.Time) provider.Record {
	return provider.Record{Provider: prov, Grain: provider.PaymentGrain, Type: typ, ID: id, SourceRef: id,
		PaymentRef: paymentRef, Currency: "usd", Status: status, Amount: amount, Captured: captured,
		Refunded: refunded, Disputed: disputed, Created: at}
}

func ledgerPay(id, provider, ref string, st ledger.PaymentStatus, auth, captured, refunded, disputed int64, at time.Time) ledger.Payment {
	return ledger.Payment{ID: id, Provider: provider, ProviderRef: ref, Currency: "usd", Status: st, Authorized: auth,
		Captured: captured, Refunded: refunded, Disputed: disputed, CreatedAt: at}
}

func TestMatchPayments(t *testing.T) {
	type want struct {
		kind   OutcomeKind
		pid    string
		lid    string
		fields []string
	}
	cases := []struct {
		name    string
		recs    []provider.Record
		ledger  []ledger.Payment
		summary Summary
		want    []want
	}{{
		name: "justifi",
		recs: []provider.Record{
			payRec("justifi", "payment", "py_1", "py_1", "succeeded", 10000, 10000, 0, 0, hours(0)),
			payRec("justifi", "payment", "py_2", "py_2", "partially_refunded", 5000, 5000, 2000, 0, hours(1)),
			payRec("justifi", "payment", "py_3", "py_3", "disputed", 7000, 7000, 0, 7000, hours(2)),
			payRec("justifi", "payment", "py_4", "py_4", "authorized", 900, 0, 0, 0, hours(3)),
			payRec("justifi", "payment", "py_5", "py_5", "failed", 100, 0, 0, 0, hours(4)),
		},
		ledger: []ledger.Payment{
			ledgerPay("p1", "justifi", "py_1", ledger.PaymentCaptured, 10000, 10000, 0, 0, hours(0)),
			ledgerPay("p2", "justifi", "py_2", ledger.PaymentPartiallyRefunded, 5000, 5000, 2000, 0, hours(1)),
			ledgerPay("p3", "justifi", "py_3", ledger.PaymentCaptured, 7000, 7000, 0, 0, hours(2)), // dispute not booked
			ledgerPay("p4", "justifi", "py_4", ledger.PaymentCanceled, 900, 0, 0, 0, hours(3)),
		},
		summary: Summary{ProviderRecords: 5, LedgerRecords: 4, Matched: 2, Mismatched: 2, Skipped: 1},
		want: []want{
			{Mismatched, "py_3", "p3", []string{"disputed", "status"}},
			{Mismatched, "py_4", "p4", []string{"status"}},
		},
	}, {
		name: "whop",
		recs: []provider.Record{
			payRec("whop", "payment", "pay_w1", "pay_w1", "paid", 690, 690, 0, 0, hours(0)),
			payRec("whop", "payment", "pay_w2", "pay_w2", "paid", 1500, 1500, 500, 0, hours(1)),
			payRec("whop", "payment", "pay_w3", "pay_w3", "open", 2000, 0, 0, 0, hours(2)),
			payRec("whop", "payment", "pay_w4", "pay_w4", "paid", 4000, 4000, 0, 0, hours(3)),
		},
		ledger: []ledger.Payment{
			ledgerPay("w1", "whop", "pay_w1", ledger.PaymentCaptured, 690, 690, 0, 0, hours(0)),
			ledgerPay("w2", "whop", "pay_w2", ledger.PaymentCaptured, 1500, 1500, 0, 0, hours(1)), // refund not booked
			ledgerPay("w5", "whop", "pay_w5", ledger.PaymentCaptured, 300, 300, 0, 0, hours(5)),
		},
		summary: Summary{ProviderRecords: 4, LedgerRecords: 3, Matched: 1, Mismatched: 1, MissingInLedger: 1,
			MissingAtProvider: 1, Skipped: 1},
		want: []want{
			{Mismatched, "pay_w2", "w2", []string{"refunded", "status"}},
			{MissingInLedger, "pay_w4", "", nil},
			{MissingAtProvider, "", "w5", nil},
		},
	}, {
		name: "payments api v3",
		recs: []provider.Record{
			payRec("paymentsv3", "payment", "pay_1", "pay_1", "succeeded", 2500, 2500, 0, 0, hours(0)),
			payRec("paymentsv3", "refund", "rf_1", "pay_1", "succeeded", 1000, 0, 1000, 0, hours(5)),
			payRec("paymentsv3", "refund", "rf_2", "pay_1", "failed", 1500, 0, 1500, 0, hours(6)),
			payRec("paymentsv3", "payment", "pay_2", "pay_2", "succeeded", 1200, 1200, 0, 0, hours(1)),
			payRec("paymentsv3", "payment", "pay_2", "pay_2", "succeeded", 1200, 1200, 0, 0, hours(1)), // exported twice
			payRec("paymentsv3", "refund", "rf_9", "pay_9", "succeeded", 100, 0, 100, 0, hours(6)),     // payment not exported
		},
		ledger: []ledger.Payment{
			ledgerPay("a", "paymentsv3", "pay_1", ledger.PaymentPartiallyRefunded, 2500, 2500, 1000, 0, hours(0)),
			ledgerPay("b", "paymentsv3", "pay_2", ledger.PaymentCaptured, 1200, 1200, 0, 0, hours(1)),
		},
		summary: Summary{ProviderRecords: 6, LedgerRecords: 2, Matched: 2, Duplicates: 1, Folded: 2, Skipped: 1},
		want:    []want{{Duplicate, "pay_2", "b", nil}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := MatchPayments(c.recs, c.ledger, nil)
			if r.Summary != c.summary {
				t.Errorf("summary\n got %+v\nwant %+v", r.Summary, c.summary)
			}
			var got []want
			for _, o := range r.Outcomes {
				var fs []string
				for _, d := range o.Diffs {
					fs = append(fs, d.Field)
				}
				got = append(got, want{o.Kind, o.ProviderID, o.LedgerID, fs})
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("outcomes\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestPaymentStatusOf(t *testing.T) {
	for _, c := range []struct {
		word                        string
		captured, refunded, dispute int64
		want                        ledger.PaymentStatus
		ok                          bool
	}{
		{"succeeded", 100, 0, 0, ledger.PaymentCaptured, true},
		{"succeeded", 100, 40, 0, ledger.PaymentPartiallyRefunded, true},
		{"succeeded", 100, 100, 0, ledger.PaymentRefunded, true},
		{"succeeded", 100, 0, 100, ledger.PaymentDisputed, true},
		{"paid", 100, 0, 0, ledger.PaymentCaptured, true},
		{"fully_refunded", 100, 100, 0, ledger.PaymentRefunded, true},
		{"requires_capture", 0, 0, 0, ledger.PaymentAuthorized, true},
		{"void", 0, 0, 0, ledger.PaymentCanceled, true},
		{"uncollectible", 0, 0, 0, NotCollected, true},
		{"pending", 0, 0, 0, "", false},
	} {
		got, ok := PaymentStatusOf("", c.word, c.captured, c.refunded, c.dispute)
		if got != c.want || ok != c.ok {
			t.Errorf("PaymentStatusOf(%q, %d, %d, %d) = %q, %v; want %q, %v", c.word, c.captured, c.refunded, c.dispute, got, ok, c.want, c.ok)
		}
	}
}
