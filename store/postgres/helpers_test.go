package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/storetest"
)

// serverURL returns the PostgreSQL server the tests run against
// (storetest.PostgresServer: skipped without one, failed in CI).
func serverURL(t testing.TB) string {
	t.Helper()
	return storetest.PostgresServer(t)
}

// testSchema returns a random schema name and drops the schema when the
// test ends: tests share the server (CI runs them in parallel).
func testSchema(t testing.TB) string {
	t.Helper()
	_, schema := storetest.PostgresSchema(t, "settle_test_")
	return schema
}

// openTest opens a Store in a fresh schema, closed and dropped when the test
// ends. opts may be nil; its Schema is replaced.
func openTest(t testing.TB, opts *Options) *Store {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Schema = testSchema(t)
	return openWith(t, &o)
}

// openSchema opens another Store on schema (another process's, say),
// closed when the test ends.
func openSchema(t testing.TB, schema string) *Store {
	t.Helper()
	return openWith(t, &Options{Schema: schema})
}

func openWith(t testing.TB, o *Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), serverURL(t), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openDBFromPool(pool *pgxpool.Pool) *sql.DB { return stdlib.OpenDBFromPool(pool) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// wantErr fails the test unless err is target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got %v, want %v", what, err, target)
	}
}

// verify checks every invariant, and that every currency's balances sum to
// zero (posted and pending).
func verifyBooks(t *testing.T, ctx context.Context, l *ledger.Ledger) {
	t.Helper()
	vs, err := l.Verify(ctx)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, v := range vs {
		t.Errorf("violation: %s", v)
	}
	bals, err := l.Balances(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	posted, pending := map[string]int64{}, map[string]int64{}
	for _, b := range bals {
		posted[b.Currency] += b.Posted
		pending[b.Currency] += b.Pending
	}
	for c, v := range posted {
		if v != 0 || pending[c] != 0 {
			t.Errorf("%s balances sum to %d posted, %d pending", c, v, pending[c])
		}
	}
}

// batch returns n entries of four postings, one a second from at.
func batch(prefix string, n int, at time.Time) []ledger.EntryInput {
	out := make([]ledger.EntryInput, n)
	for i := range out {
		gross := decimal.New(int64(1000+i%9000), -2)
		fee := decimal.New(int64(30+i%100), -2)
		tax := decimal.New(int64(5+i%20), -2)
		out[i] = ledger.EntryInput{
			Key: fmt.Sprintf("%s-%d", prefix, i), OccurredAt: at.Add(time.Duration(i) * time.Second), Description: "capture",
			Postings: []ledger.PostingInput{
				{Account: "assets:receivables", Currency: "usd", Amount: gross.Sub(fee).Sub(tax)},
				{Account: "expenses:fees:stripe_fee", Currency: "usd", Amount: fee},
				{Account: "liabilities:tax:sales", Currency: "usd", Amount: tax},
				{Account: "income:sales", Currency: "usd", Amount: gross.Neg()},
			},
		}
	}
	return out
}
