package postgres

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/internal/invariant"
	"github.com/settlehq/settle/store/storetest"
)

func TestEachElement(t *testing.T) {
	type elem struct {
		s    string
		null bool
	}
	tests := []struct {
		in   string
		want []elem
		err  bool
	}{
		{in: "{}"},
		{in: "{1,-2,30}", want: []elem{{"1", false}, {"-2", false}, {"30", false}}},
		{in: "{usd,NULL,eur}", want: []elem{{"usd", false}, {"NULL", true}, {"eur", false}}},
		{in: `{"NULL","a,b","x\"y\\z",""}`, want: []elem{{"NULL", false}, {"a,b", false}, {`x"y\z`, false}, {"", false}}},
		{in: "[0:1]={5,6}", want: []elem{{"5", false}, {"6", false}}},
		{in: "{{1,2},{3,4}}", err: true},
		{in: `{"open}`, err: true},
		{in: "1,2", err: true},
		{in: "[0:1]{5,6}", err: true},
		{in: `{"a"b}`, err: true},
	}
	for _, tt := range tests {
		var got []elem
		err := eachElement([]byte(tt.in), func(e []byte, null bool) error {
			got = append(got, elem{string(e), null})
			return nil
		})
		if (err != nil) != tt.err || !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestPostingsOf(t *testing.T) {
	names := map[string]string{}
	ps, why := postingsOf(nil, []byte("{1,2}"), []byte("{usd,usd}"), []byte("{500,-500}"), names)
	if why != "" || !reflect.DeepEqual(ps, []invariant.Posting{{Account: 1, Currency: "usd", Amount: 500}, {Account: 2, Currency: "usd", Amount: -500}}) {
		t.Errorf("postings %v, %q", ps, why)
	}
	missing := "a posting has no account, currency or amount"
	for _, bad := range []struct {
		ids, currencies, amounts, why string
	}{
		{"{1,NULL}", "{usd,usd}", "{1,2}", missing},
		{"{1,2}", "{usd,NULL}", "{1,2}", missing},
		{"{1,2}", "{usd,usd}", "{1,NULL}", missing},
		{"{1,2}", "{usd}", "{1,2}", missing},
		{"{1,2}", "{usd,usd}", "{1,2,3}", missing},
		{"{1,x}", "{usd,usd}", "{1,2}", `postings: strconv.ParseInt: parsing "x": invalid syntax`},
		{"{1,2}", "{usd,usd}", "{1,99999999999999999999}", `postings: strconv.ParseInt: parsing "99999999999999999999": value out of range`},
		{"{{1,2}}", "{usd,usd}", "{1,2}", "postings: array of more than one dimension"},
	} {
		if _, why := postingsOf(nil, []byte(bad.ids), []byte(bad.currencies), []byte(bad.amounts), names); why != bad.why {
			t.Errorf("%+v: %q", bad, why)
		}
	}
}

// soundBooks opens a store with storetest.SmallBooks recorded in it.
func soundBooks(t *testing.T) (*Store, *ledger.Ledger) {
	t.Helper()
	s := openTest(t, nil)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	l := ledger.New(s, &ledger.Options{Now: func() time.Time { return t0 }})
	storetest.SmallBooks(t, l, t0)
	return s, l
}

// Verify finds corruption written behind the ledger's back: each case
// breaks one invariant and expects a violation of it, with its subject
// and detail where they are given.
func TestVerifyDetectsCorruption(t *testing.T) {
	const acct = `(SELECT id FROM {schema}.accounts WHERE name = '%s')`
	avail := fmt.Sprintf(acct, "assets:stripe:available")
	sales := fmt.Sprintf(acct, "income:sales")
	// rogue inserts entry 100 with these postings' arrays and pending_of.
	rogue := func(ids, currencies, amounts, pendingOf string) string {
		return `INSERT INTO {schema}.entries (id, key, phase, occurred_at, recorded_at, account_ids, currencies, amounts, pending_of)
			VALUES (100, 'rogue', 'posted', 1, 1, ` + ids + `, ` + currencies + `, ` + amounts + `, ` + pendingOf + `)`
	}
	twoAccounts := `ARRAY[` + avail + `, ` + sales + `]`
	pending2 := `(SELECT pending_entry_id FROM {schema}.payments WHERE id = 'pay_2')`
	tests := []struct {
		name      string
		sql       []string
		invariant string
		subject   string // expected subject, if checked
		detail    string // expected detail, if checked
	}{
		{name: "posted balance changed", invariant: "balance_matches_postings", subject: "income:sales usd",
			sql: []string{`UPDATE {schema}.balances SET posted = posted + 1 WHERE account_id = ` + sales}},
		{name: "pending balance changed", invariant: "balance_matches_postings", subject: "assets:stripe:pending usd",
			sql: []string{`UPDATE {schema}.balances SET pending = pending - 1 WHERE account_id = ` + fmt.Sprintf(acct, "assets:stripe:pending")}},
		{name: "balance without postings", invariant: "balance_matches_postings", subject: "income:sales eur",
			detail: "stored posted 5 pending 0, postings give 0 and 0",
			sql:    []string{`INSERT INTO {schema}.balances (account_id, currency, posted, pending) VALUES (` + sales + `, 'eur', 5, 0)`}},
		{name: "unbalanced entry", invariant: "entry_balanced", subject: "entry 100", detail: "usd postings sum to 1",
			sql: []string{rogue(twoAccounts, `'{usd,usd}'`, `'{500,-499}'`, "NULL")}},
		{name: "posting amount edited", invariant: "entry_balanced", subject: "entry 1",
			sql: []string{`UPDATE {schema}.entries SET amounts[1] = amounts[1] + 5 WHERE id = 1`}},
		{name: "entry with one posting", invariant: "entry_has_postings", subject: "entry 100", detail: "has 1 postings",
			sql: []string{rogue(`ARRAY[`+avail+`]`, `'{usd}'`, `'{0}'`, "NULL")}},
		{name: "posting to an account that does not exist", invariant: "posting_valid", subject: "entry 100 posting 2",
			detail: "account 999 does not exist", sql: []string{rogue(`ARRAY[`+avail+`, 999]`, `'{usd,usd}'`, `'{5,-5}'`, "NULL")}},
		{name: "zero posting", invariant: "posting_valid", subject: "entry 100 posting 1", detail: "zero amount",
			sql: []string{rogue(twoAccounts, `'{usd,usd}'`, `'{0,0}'`, "NULL")}},
		{name: "a posting without its amount", invariant: "postings_well_formed", subject: "entry 1",
			detail: "a posting has no account, currency or amount",
			sql:    []string{`UPDATE {schema}.entries SET amounts[1] = NULL WHERE id = 1`}},
		{name: "a posting without its currency", invariant: "postings_well_formed", subject: "entry 1",
			sql: []string{`UPDATE {schema}.entries SET currencies[2] = NULL WHERE id = 1`}},
		{name: "postings of two dimensions", invariant: "postings_well_formed", subject: "entry 100",
			sql: []string{rogue(`ARRAY[[`+avail+`, `+sales+`], [`+avail+`, `+sales+`]]`, `'{{usd,usd},{usd,usd}}'`, `'{{1,-1},{1,-1}}'`, "NULL")}},
		{name: "net is not amount minus fee", invariant: "net_is_amount_minus_fee",
			sql: []string{`UPDATE {schema}.balance_transactions SET net = net + 1 WHERE type = 'charge'`}},
		{name: "captured more than authorized", invariant: "captured_le_authorized", subject: "payment pay_1",
			sql: []string{`UPDATE {schema}.payments SET captured = authorized + 1 WHERE id = 'pay_1'`}},
		{name: "refunded more than captured", invariant: "refunded_le_captured", subject: "payment pay_1",
			sql: []string{`UPDATE {schema}.payments SET refunded = captured + 1 WHERE id = 'pay_1'`}},
		{name: "negative amount", invariant: "amounts_non_negative", subject: "payment pay_2", detail: "negative amount",
			sql: []string{`UPDATE {schema}.payments SET disputed = -1 WHERE id = 'pay_2'`}},
		{name: "converted payment settling in its own currency", invariant: "conversion_sides_consistent", subject: "payment pay_1",
			detail: "settles in usd with a settled amount of 1",
			sql:    []string{`UPDATE {schema}.payments SET settlement_currency = currency, settled = 1 WHERE id = 'pay_1'`}},
		{name: "converted transaction in its own currency", invariant: "conversion_sides_consistent",
			sql: []string{`UPDATE {schema}.balance_transactions SET presentment_currency = currency, presentment_amount = amount WHERE type = 'charge'`}},
		{name: "refunds do not add up", invariant: "refunds_sum", subject: "payment pay_1",
			sql: []string{`UPDATE {schema}.refunds SET amount = amount - 1`}},
		{name: "refund stored, none on the payment", invariant: "refunds_sum", subject: "payment pay_1",
			detail: "refunded 0 but refunds sum to 1000",
			sql:    []string{`UPDATE {schema}.payments SET refunded = 0 WHERE id = 'pay_1'`}},
		{name: "pending entry posted twice", invariant: "pending_resolved_once", detail: "2 entries post it",
			sql: []string{
				`DROP INDEX {schema}.entries_pending_of`,
				rogue(twoAccounts, `'{usd,usd}'`, `'{1,-1}'`, pending2),
				strings.ReplaceAll(rogue(twoAccounts, `'{usd,usd}'`, `'{1,-1}'`, pending2), "100, 'rogue'", "101, 'rogue2'"),
			}},
		{name: "posted entry with a resolution", invariant: "pending_resolution_consistent",
			detail: "phase posted resolution 'voided' resolved_by NULL",
			sql:    []string{`UPDATE {schema}.entries SET resolution = 'voided' WHERE key = 'r1'`}},
		{name: "pending entry resolved by nothing", invariant: "pending_resolution_consistent",
			detail: "phase pending resolution 'posted' resolved_by NULL",
			sql:    []string{`UPDATE {schema}.entries SET resolution = 'posted', resolved_by = NULL WHERE key = 'a2'`}},
		{name: "pending entry with an unknown resolution", invariant: "pending_resolution_consistent",
			detail: "phase pending resolution 'lost' resolved_by NULL",
			sql:    []string{`UPDATE {schema}.entries SET resolution = 'lost' WHERE key = 'a2'`}},
		{name: "entry posting an entry that is not pending", invariant: "posts_a_pending_entry", subject: "entry 100",
			sql: []string{rogue(twoAccounts, `'{usd,usd}'`, `'{1,-1}'`, `(SELECT id FROM {schema}.entries WHERE key = 'c1')`)}},
		{name: "entry posting a pending entry resolved by another", invariant: "posts_a_pending_entry", subject: "entry 100",
			sql: []string{rogue(twoAccounts, `'{usd,usd}'`, `'{1,-1}'`, pending2)}},
		{name: "payout other than the derived one", invariant: "payout_composition_derived",
			detail: "in payout 'po_x' but the rule gives ''", // po_1 is not automatic
			sql:    []string{`UPDATE {schema}.balance_transactions SET payout_id = 'po_x' WHERE payout_derived`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, l := soundBooks(t)
			for _, q := range tt.sql {
				if _, err := s.db.Exec(s.sql(q)); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			vs, err := l.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !storetest.HasViolation(vs, tt.invariant, tt.subject, tt.detail) {
				t.Errorf("Verify = %v; want a %s violation of %q, %q", vs, tt.invariant, tt.subject, tt.detail)
			}
		})
	}
}

// FuzzEachElement feeds the array reader any text (it must not panic) and
// checks that the elements of an array written as PostgreSQL writes one,
// each element quoted and escaped, come back as they went in.
func FuzzEachElement(f *testing.F) {
	for _, s := range []string{"{}", "{1,2}", `{"a,b",NULL}`, "[0:1]={5,6}", `{"x\"y"}`, "usd|eur", `a"b|c\d|`, "|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = eachElement([]byte(s), func([]byte, bool) error { return nil })

		elems := strings.Split(s, "|")
		var b strings.Builder
		b.WriteByte('{')
		for i, e := range elems {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('"')
			for _, c := range []byte(e) {
				if c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
			b.WriteByte('"')
		}
		b.WriteByte('}')
		var got []string
		err := eachElement([]byte(b.String()), func(e []byte, null bool) error {
			if null {
				t.Errorf("%q: a quoted element read as NULL", b.String())
			}
			got = append(got, string(e))
			return nil
		})
		if err != nil || !reflect.DeepEqual(got, elems) {
			t.Errorf("%q: got %q, %v; want %q", b.String(), got, err, elems)
		}
	})
}
