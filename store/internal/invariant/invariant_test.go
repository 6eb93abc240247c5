package invariant

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/settlehq/settle/ledger"
)

var accounts = []ledger.Account{{ID: 1, Name: "assets:stripe:available"}, {ID: 2, Name: "income:sales"}}

// sound returns the entries of small sound books: a posted sale, a
// pending one posted by a third entry, and the balances they leave.
func sound() ([]Entry, []Balance) {
	es := []Entry{
		{ID: 1, Phase: "posted", Postings: []Posting{{1, "usd", 500}, {2, "usd", -500}}},
		{ID: 2, Phase: "pending", Resolution: "posted", ResolvedBy: 3, Postings: []Posting{{1, "usd", 200}, {2, "usd", -200}}},
		{ID: 3, Phase: "posted", PendingOf: 2, Postings: []Posting{{1, "usd", 200}, {2, "usd", -200}}},
		{ID: 4, Phase: "pending", Postings: []Posting{{1, "eur", 70}, {2, "eur", -70}}},
	}
	bs := []Balance{
		{1, "usd", Amounts{Posted: 700}}, {2, "usd", Amounts{Posted: -700}},
		{1, "eur", Amounts{Pending: 70}}, {2, "eur", Amounts{Pending: -70}},
	}
	return es, bs
}

func v(invariant, subject, detail string) ledger.Violation {
	return ledger.Violation{Invariant: invariant, Subject: subject, Detail: detail}
}

func check(t *testing.T, es []Entry, bs []Balance) []ledger.Violation {
	t.Helper()
	c := NewEntries(accounts)
	for i := range es {
		if es[i].Postings == nil {
			c.Malformed(&es[i], "unreadable")
			continue
		}
		if err := c.Add(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	return c.Violations(bs)
}

func TestSoundBooks(t *testing.T) {
	es, bs := sound()
	if vs := check(t, es, bs); len(vs) != 0 {
		t.Errorf("violations in sound books: %v", vs)
	}
}

func TestEachViolation(t *testing.T) {
	tests := []struct {
		name       string
		breakBooks func(es []Entry, bs []Balance) ([]Entry, []Balance)
		want       []ledger.Violation
	}{
		{"one posting", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			es[0].Postings = es[0].Postings[:1]
			bs[1].Posted = -200
			return es, bs
		}, []ledger.Violation{
			v("entry_has_postings", "entry 1", "has 1 postings"),
			v("entry_balanced", "entry 1", "usd postings sum to 500"),
		}},
		{"unknown account and zero amount", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			es[0].Postings[1].Account = 9
			es[3].Postings = []Posting{{1, "eur", 0}, {2, "eur", 0}}
			bs[2].Pending, bs[3].Pending = 0, 0
			return es, append(bs[:1], append([]Balance{{9, "usd", Amounts{Posted: -500}}, {2, "usd", Amounts{Posted: -200}}}, bs[2:]...)...)
		}, []ledger.Violation{
			v("posting_valid", "entry 1 posting 2", "account 9 does not exist"),
			v("posting_valid", "entry 4 posting 1", "zero amount"),
			v("posting_valid", "entry 4 posting 2", "zero amount"),
		}},
		{"unbalanced in one currency of two", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			es[0].Postings = append(es[0].Postings, Posting{1, "eur", 5})
			bs[2].Posted = 5
			return es, bs
		}, []ledger.Violation{v("entry_balanced", "entry 1", "eur postings sum to 5")}},
		{"malformed", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			es[3].Postings = nil
			bs[2].Pending, bs[3].Pending = 0, 0
			return es, bs
		}, []ledger.Violation{v("postings_well_formed", "entry 4", "unreadable")}},
		{"stored balance off, and a balance with no postings", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			bs[0].Posted++
			return es, append(bs, Balance{2, "gbp", Amounts{Posted: 1}}, Balance{8, "gbp", Amounts{}})
		}, []ledger.Violation{
			v("balance_matches_postings", "assets:stripe:available usd", "stored posted 701 pending 0, postings give 700 and 0"),
			v("balance_matches_postings", "income:sales gbp", "stored posted 1 pending 0, postings give 0 and 0"),
		}},
		{"postings with no stored balance", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			return es, bs[:3]
		}, []ledger.Violation{v("balance_matches_postings", "income:sales eur", "stored posted 0 pending 0, postings give 0 and -70")}},
		{"a resolved pending entry's postings leave the pending balance", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			es[3].Resolution = "voided"
			return es, bs
		}, []ledger.Violation{
			v("balance_matches_postings", "assets:stripe:available eur", "stored posted 0 pending 70, postings give 0 and 0"),
			v("balance_matches_postings", "income:sales eur", "stored posted 0 pending -70, postings give 0 and 0"),
		}},
		{"posted twice", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			return append(es, Entry{ID: 5, Phase: "posted", PendingOf: 2, Postings: []Posting{{1, "usd", 1}, {2, "usd", -1}}}),
				[]Balance{{1, "usd", Amounts{Posted: 701}}, {2, "usd", Amounts{Posted: -701}}, bs[2], bs[3]}
		}, []ledger.Violation{
			v("pending_resolved_once", "entry 2", "2 entries post it"),
			v("posts_a_pending_entry", "entry 5", "posts entry 2 which is not a pending entry resolved by it"),
		}},
		{"resolutions out of place", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			es[0].Resolution = "voided"
			es[1].ResolvedBy = 0
			es[3].Resolution, es[3].ResolvedBy = "lost", 7
			bs[2].Pending, bs[3].Pending = 0, 0
			return es, bs
		}, []ledger.Violation{
			v("pending_resolution_consistent", "entry 1", "phase posted resolution 'voided' resolved_by NULL"),
			v("pending_resolution_consistent", "entry 4", "phase pending resolution 'lost' resolved_by 7"),
			v("pending_resolution_consistent", "entry 2", "phase pending resolution 'posted' resolved_by NULL"),
			v("posts_a_pending_entry", "entry 3", "posts entry 2 which is not a pending entry resolved by it"),
		}},
		{"resolved by an entry that does not post it", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			es[1].ResolvedBy = 1
			return es, bs
		}, []ledger.Violation{
			v("pending_resolution_consistent", "entry 2", "phase pending resolution 'posted' resolved_by 1"),
			v("posts_a_pending_entry", "entry 3", "posts entry 2 which is not a pending entry resolved by it"),
		}},
		{"posts an entry that is not pending", func(es []Entry, bs []Balance) ([]Entry, []Balance) {
			es[2].PendingOf = 1
			es[1].Resolution, es[1].ResolvedBy = "", 0
			bs[0].Pending, bs[1].Pending = 200, -200
			return es, bs
		}, []ledger.Violation{v("posts_a_pending_entry", "entry 3", "posts entry 1 which is not a pending entry resolved by it")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, bs := sound()
			es, bs = tt.breakBooks(es, bs)
			got := check(t, es, bs)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestOverflowIsAnError(t *testing.T) {
	c := NewEntries(accounts)
	err := c.Add(&Entry{ID: 1, Phase: "posted", Postings: []Posting{{1, "usd", 1 << 62}, {1, "usd", 1 << 62}, {2, "usd", 1}}})
	if err == nil {
		t.Fatal("a sum past int64 was not reported")
	}
}

func TestDerivedPayouts(t *testing.T) {
	var d DerivedPayouts
	d.AddPayout("po_1", "stripe", "usd", 100)
	d.AddPayout("po_2", "stripe", "usd", 200)
	d.AddPayout("po_e", "stripe", "eur", 100)
	tests := []struct {
		provider, currency string
		on                 int64
		payout             string
		ok                 bool
	}{
		{"stripe", "usd", 50, "po_1", true},
		{"stripe", "usd", 100, "po_1", true},
		{"stripe", "usd", 101, "po_2", true},
		{"stripe", "usd", 201, "", true},
		{"stripe", "eur", 100, "po_e", true},
		{"justifi", "usd", 1, "", true},
		{"stripe", "usd", 150, "po_1", false},
		{"stripe", "usd", 250, "po_2", false},
		{"stripe", "eur", 100, "po_1", false},
	}
	for i, tt := range tests {
		id := fmt.Sprint("txn_", i)
		got, bad := d.Check(id, tt.provider, tt.currency, tt.on, tt.payout)
		if bad == tt.ok {
			t.Errorf("%+v: violation %v, want none %v", tt, got, tt.ok)
		}
		if bad && (got.Invariant != "payout_composition_derived" || got.Subject != "balance transaction "+id) {
			t.Errorf("%+v: %v", tt, got)
		}
	}
	if got, _ := d.Check("t", "stripe", "usd", 150, "po_1"); got.Detail != "in payout 'po_1' but the rule gives 'po_2'" {
		t.Errorf("detail %q", got.Detail)
	}
}

func TestPayments(t *testing.T) {
	c := NewPayments(map[string]int64{"p_b": 300, "p_c": 100, "p_gone": 5})
	for _, p := range []Payment{
		{ID: "p_c", Authorized: 500, Captured: 600, Refunded: 700, Currency: "usd"},
		{ID: "p_a", Authorized: 500, Captured: 500, Currency: "usd"},
		{ID: "p_b", Authorized: 500, Captured: 500, Refunded: 300, Currency: "eur", SettlementCurrency: "usd", Settled: 540},
		{ID: "p_d", Authorized: 10, Captured: 10, Disputed: -1, Currency: "usd", SettlementCurrency: "usd", Settled: 10},
		{ID: "p_e", Authorized: 10, Captured: 10, Currency: "eur", SettlementCurrency: "usd"},
	} {
		c.Add(&p)
	}
	payments, conversions := c.Violations()
	want := []ledger.Violation{
		v("captured_le_authorized", "payment p_c", "captured 600 > authorized 500"),
		v("refunded_le_captured", "payment p_c", "refunded 700 > captured 600"),
		v("amounts_non_negative", "payment p_d", "negative amount"),
		v("refunds_sum", "payment p_c", "refunded 700 but refunds sum to 100"),
	}
	if !reflect.DeepEqual(payments, want) {
		t.Errorf("payments:\n%v\nwant\n%v", payments, want)
	}
	want = []ledger.Violation{
		v("conversion_sides_consistent", "payment p_d", "settles in usd with a settled amount of 10"),
		v("conversion_sides_consistent", "payment p_e", "settles in usd with a settled amount of 0"),
	}
	if !reflect.DeepEqual(conversions, want) {
		t.Errorf("conversions:\n%v\nwant\n%v", conversions, want)
	}
	// Violations of one invariant come by payment id, whatever the order
	// the payments came in.
	c = NewPayments(nil)
	for _, id := range []string{"p_9", "p_1", "p_5"} {
		c.Add(&Payment{ID: id, Refunded: 1, Captured: 1, Authorized: 1})
	}
	payments, _ = c.Violations()
	var got []string
	for _, pv := range payments {
		got = append(got, pv.Subject)
	}
	if !reflect.DeepEqual(got, []string{"payment p_1", "payment p_5", "payment p_9"}) {
		t.Errorf("order %v", got)
	}
}

// An entry posting to a bank account's ledger account, or a subaccount of
// it, must carry the store's mark; no other entry need.
func TestBankEntryMarked(t *testing.T) {
	c := NewEntries(append(accounts, ledger.Account{ID: 3, Name: "assets:bank:operating"},
		ledger.Account{ID: 4, Name: "assets:bank:operating:fees"}, ledger.Account{ID: 5, Name: "assets:bank:operatingx"}))
	c.BankAccounts([]string{"assets:bank:operating"})
	for _, e := range []Entry{
		{ID: 1, Phase: "posted", Bank: true, Postings: []Posting{{3, "usd", 500}, {2, "usd", -500}}},
		{ID: 2, Phase: "posted", Postings: []Posting{{2, "usd", 100}, {4, "usd", -100}}},
		{ID: 3, Phase: "posted", Postings: []Posting{{5, "usd", 100}, {1, "usd", -100}}},
		{ID: 4, Phase: "posted", Bank: true, Postings: []Posting{{1, "usd", 100}, {2, "usd", -100}}},
	} {
		if err := c.Add(&e); err != nil {
			t.Fatal(err)
		}
	}
	want := []ledger.Violation{v("bank_entry_marked", "entry 2", "posts to assets:bank:operating:fees, a bank account's ledger account, and is not marked")}
	if got := c.Violations([]Balance{{2, "usd", Amounts{Posted: -500}}, {3, "usd", Amounts{Posted: 500}},
		{4, "usd", Amounts{Posted: -100}}, {5, "usd", Amounts{Posted: 100}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("violations %v, want %v", got, want)
	}
}
