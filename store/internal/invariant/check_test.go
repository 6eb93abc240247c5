package invariant

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// fakeRows are rows held in memory; Scan sets strings and int64s.
type fakeRows struct {
	rows [][]any
	i    int
}

func (r *fakeRows) Next() bool   { r.i++; return r.i <= len(r.rows) }
func (r *fakeRows) Err() error   { return nil }
func (r *fakeRows) Close() error { return nil }
func (r *fakeRows) Scan(dest ...any) error {
	row := r.rows[r.i-1]
	if len(row) != len(dest) {
		return fmt.Errorf("%d columns, %d destinations", len(row), len(dest))
	}
	for i, d := range dest {
		switch d := d.(type) {
		case *string:
			*d = row[i].(string)
		case *int64:
			*d = row[i].(int64)
		default:
			return fmt.Errorf("destination %T", d)
		}
	}
	return nil
}

// Check runs the store's queries and puts every violation in one order:
// the entries', the derived payouts', the payments', the SQL invariants',
// then the converted payments'.
func TestCheckOrder(t *testing.T) {
	results := map[string][][]any{
		"payouts":   {{"po_1", "stripe", "usd", int64(100)}},
		"derived":   {{"txn_2", "stripe", "usd", int64(50), ""}, {"txn_1", "stripe", "usd", int64(50), "po_1"}},
		"refunds":   {{"p_1", int64(5)}},
		"payments":  {{"p_1", int64(10), int64(10), int64(0), int64(0), "eur", "eur", int64(10)}},
		"sql one":   {{"balance transaction txn_9", "net 1 <> amount 2 - fee 0"}},
		"sql two":   nil,
		"sql three": {{"balance transaction txn_3", "presented 5 usd, settled 5 usd"}},
	}
	var ran []string
	got, err := Check(Source{
		Entries: func() ([]ledger.Violation, error) {
			return []ledger.Violation{v("entry_balanced", "entry 1", "x")}, nil
		},
		Run: func(query string) (Rows, error) {
			ran = append(ran, query)
			rows, ok := results[query]
			if !ok {
				return nil, fmt.Errorf("unknown query %q", query)
			}
			return &fakeRows{rows: rows}, nil
		},
		AutomaticPayouts: "payouts", DerivedTransactions: "derived", RefundSums: "refunds", Payments: "payments",
		Queries: []Query{{"net_is_amount_minus_fee", "sql one"}, {"reversed_once", "sql two"}, {"conversion_sides_consistent", "sql three"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []ledger.Violation{
		v("entry_balanced", "entry 1", "x"),
		v("payout_composition_derived", "balance transaction txn_2", "in payout '' but the rule gives 'po_1'"),
		v("refunds_sum", "payment p_1", "refunded 0 but refunds sum to 5"),
		v("net_is_amount_minus_fee", "balance transaction txn_9", "net 1 <> amount 2 - fee 0"),
		v("conversion_sides_consistent", "balance transaction txn_3", "presented 5 usd, settled 5 usd"),
		v("conversion_sides_consistent", "payment p_1", "settles in eur with a settled amount of 10"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
	if w := []string{"payouts", "derived", "refunds", "payments", "sql one", "sql two", "sql three"}; !reflect.DeepEqual(ran, w) {
		t.Errorf("ran %q, want %q", ran, w)
	}

	// A failing query fails Check, naming an SQL invariant's.
	failing := errors.New("disk I/O error")
	_, err = Check(Source{
		Entries: func() ([]ledger.Violation, error) { return nil, nil },
		Run: func(query string) (Rows, error) {
			if query == "sql two" {
				return nil, failing
			}
			return &fakeRows{rows: results[query]}, nil
		},
		AutomaticPayouts: "payouts", DerivedTransactions: "derived", RefundSums: "refunds", Payments: "payments",
		Queries: []Query{{"net_is_amount_minus_fee", "sql one"}, {"reversed_once", "sql two"}},
	})
	if !errors.Is(err, failing) || err.Error() != "invariant reversed_once: disk I/O error" {
		t.Errorf("error %v", err)
	}
}
