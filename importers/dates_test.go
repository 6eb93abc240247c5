package importers

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestDatesOutsideTheStoreAreRefused checks every way a time enters an
// importer: a date the store cannot give back as read (before MinYear, after
// MaxYear, the Unix epoch that stands for "no time") or a placeholder Unix
// count (0, negative) is refused at its line and field, never stored as
// another date. Stripe's created of year 1 used to become 1970.
func TestDatesOutsideTheStoreAreRefused(t *testing.T) {
	stripeBT := func(created string) string {
		return "[\n" + `{"id":"txn_1","object":"balance_transaction","amount":100,"fee":0,"net":100,"currency":"usd","type":"charge",` + "\n" +
			`"created":` + created + "}\n]"
	}
	itemized := func(created string) string {
		return itemizedHeader + `"txn_1","` + created + `","","usd","1.00","0.00","1.00","charge","",""` + "\n"
	}
	justifi := func(created string) string {
		return `[{"id":"py_1","amount":100,"currency":"usd","status":"succeeded",` + "\n" + `"created_at":"` + created + `"}]`
	}
	whop := func(created string) string {
		return `[{"id":"pay_1","status":"paid","final_amount":1,"currency":"usd",` + "\n" + `"created_at":` + created + `}]`
	}
	cardpay := func(created string) string {
		return `[{"object":"payment","id":"pay_1","amount":100,"status":"succeeded",` + "\n" + `"created_at":` + created + `}]`
	}
	payout := func(created string) string {
		return "id,type,currency,amount,fee,net,created_at\nbt_1,seller_payment,usd,100,3,97," + created + "\n"
	}
	cases := []struct {
		name, format, input string
		line                int
		col                 string
	}{
		{"stripe created of year 1", FormatStripeBalanceJSON, stripeBT("-62135596800"), 3, "created"},
		{"stripe created 0", FormatStripeBalanceJSON, stripeBT("0"), 3, "created"},
		{"stripe created negative", FormatStripeBalanceJSON, stripeBT("-1"), 3, "created"},
		{"stripe created in 1600", FormatStripeBalanceJSON, stripeBT("-11676096000"), 3, "created"},
		{"stripe created in 2262", FormatStripeBalanceJSON, stripeBT("9214646400"), 3, "created"},
		{"stripe created in 9999", FormatStripeBalanceJSON, stripeBT("253402300799"), 3, "created"},
		{"stripe created absurd", FormatStripeBalanceJSON, stripeBT("9223372036854775807"), 3, "created"},
		{"itemized year 1", FormatStripeItemizedCSV, itemized("0001-01-01 00:00:00"), 2, "created_utc"},
		{"itemized 1677", FormatStripeItemizedCSV, itemized("1677-12-31 23:59:59"), 2, "created_utc"},
		{"itemized 2262", FormatStripeItemizedCSV, itemized("2262-01-01 00:00:00"), 2, "created_utc"},
		{"itemized 9999 date", FormatStripeItemizedCSV, itemized("9999-12-31"), 2, "created_utc"},
		{"itemized epoch", FormatStripeItemizedCSV, itemized("1970-01-01 00:00:00"), 2, "created_utc"},
		{"itemized unparseable", FormatStripeItemizedCSV, itemized("2024-02-30 00:00:00"), 2, "created_utc"},
		{"justifi year 1", FormatJustiFiPaymentsJSON, justifi("0001-01-01T00:00:00Z"), 2, "created_at"},
		{"justifi 2262 by its offset", FormatJustiFiPaymentsJSON, justifi("2261-12-31T23:00:00-05:00"), 2, "created_at"},
		{"justifi unparseable", FormatJustiFiPaymentsJSON, justifi("yesterday"), 2, "created_at"},
		{"whop 0", FormatWhopPaymentsJSON, whop("0"), 2, "created_at"},
		{"whop year 9999", FormatWhopPaymentsJSON, whop("253402300799"), 2, "created_at"},
		{"cardpay -1 ms", FormatCardPayJSON, cardpay("-1"), 2, "created_at"},
		{"cardpay seconds past 2262 as ms", FormatCardPayJSON, cardpay("9214646400000"), 2, "created_at"},
		{"justifi payout year 1", FormatJustiFiPayoutCSV, payout("0001-01-01T00:00:00Z"), 2, "created_at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rd, err := NewReader(c.format, "d", strings.NewReader(c.input), nil)
			if err != nil {
				t.Fatal(err)
			}
			recs, errs := ReadAll(rd)
			if len(recs) != 0 || len(errs) != 1 {
				t.Fatalf("%d records, errors %v; want the date refused", len(recs), errs)
			}
			var pe *ParseError
			if !errors.As(errs[0], &pe) || pe.Line != c.line || pe.Column != c.col || !errors.Is(pe, ErrBadTime) {
				t.Fatalf("%v; want line %d, field %s, ErrBadTime", errs[0], c.line, c.col)
			}
		})
	}
}

// TestDatesAtTheEdgesAreKept checks the first and last instants accepted,
// and that the check does not disturb ordinary times.
func TestDatesAtTheEdgesAreKept(t *testing.T) {
	if minUnix != time.Date(MinYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix() || endUnix != time.Date(MaxYear+1, 1, 1, 0, 0, 0, 0, time.UTC).Unix() {
		t.Fatalf("minUnix %d, endUnix %d do not match MinYear %d, MaxYear %d", minUnix, endUnix, MinYear, MaxYear)
	}
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"1678-01-01 00:00:00", time.Date(MinYear, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2261-12-31 23:59:59", time.Date(MaxYear, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"1969-12-31 23:59:59", time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"1970-01-01 00:00:01", time.Unix(1, 0).UTC()},
	} {
		rd, _ := NewReader(FormatStripeItemizedCSV, "d", strings.NewReader(itemizedHeader+
			`"txn_1","`+c.in+`","","usd","1.00","0.00","1.00","charge","",""`+"\n"), nil)
		recs, errs := ReadAll(rd)
		if len(errs) != 0 || len(recs) != 1 || !recs[0].Created.Equal(c.want) {
			t.Errorf("%s: %v %v", c.in, recs, errs)
		}
	}
	for _, c := range []struct {
		in   string
		ms   bool
		want time.Time
	}{
		{"1", false, time.Unix(1, 0)},
		{"1", true, time.Unix(0, int64(time.Millisecond))},
		{"9214646399", false, time.Date(MaxYear, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"9214646399999", true, time.Date(MaxYear, 12, 31, 23, 59, 59, 999_000_000, time.UTC)},
	} {
		if got, err := parseUnix(c.in, c.ms); err != nil || !got.Equal(c.want) {
			t.Errorf("parseUnix(%s, %v) = %v, %v; want %v", c.in, c.ms, got, err, c.want)
		}
	}
}
