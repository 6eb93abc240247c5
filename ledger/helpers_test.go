package ledger_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// t0 is the start of every scenario's clock.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// clock is a settable time source for ledger.Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a ledger on a fresh SQLite file.
type env struct {
	ctx   context.Context
	l     *ledger.Ledger
	store *sqlite.Store
	clock *clock
	path  string
}

// newEnv opens a ledger on a temporary database file. opts may be nil; its
// Now is replaced by the env's clock.
func newEnv(t testing.TB, opts *ledger.Options) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "books.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	c := &clock{t: t0}
	var o ledger.Options
	if opts != nil {
		o = *opts
	}
	o.Now = c.Now
	return &env{ctx: ctx, l: ledger.New(store, &o), store: store, clock: c, path: path}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// outcome holds a call's results until ok checks them.
type outcome[T any] struct {
	v   T
	err error
}

// must captures a call's results: must(f()).ok(t) fails the test on error.
func must[T any](v T, err error) outcome[T] { return outcome[T]{v, err} }

func (o outcome[T]) ok(t testing.TB) T {
	t.Helper()
	if o.err != nil {
		t.Fatalf("unexpected error: %v", o.err)
	}
	return o.v
}

// verify fails the test if Verify reports any violation.
func (e *env) verify(t testing.TB) {
	t.Helper()
	vs, err := e.l.Verify(e.ctx)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, v := range vs {
		t.Errorf("violation: %s", v)
	}
}

// bal is a balance as the tests state it: signed debit-positive minor units.
type bal struct{ posted, pending int64 }

// balances returns every maintained balance keyed "account currency".
func (e *env) balances(t testing.TB) map[string]bal {
	t.Helper()
	bs := must(e.l.Balances(e.ctx, "")).ok(t)
	out := map[string]bal{}
	for _, b := range bs {
		out[b.Account+" "+b.Currency] = bal{b.Posted, b.Pending}
	}
	return out
}

// wantBalances compares every maintained balance with want, which must list
// all non-zero balances.
func (e *env) wantBalances(t testing.TB, want map[string]bal) {
	t.Helper()
	got := e.balances(t)
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if got[k] != want[k] {
			t.Errorf("balance %s = posted %d pending %d, want posted %d pending %d",
				k, got[k].posted, got[k].pending, want[k].posted, want[k].pending)
		}
	}
}

func (e *env) payment(t testing.TB, id string) *ledger.Payment {
	t.Helper()
	var p *ledger.Payment
	err := e.l.View(e.ctx, func(tx ledger.ReadTx) error {
		var err error
		p, err = tx.Payment(e.ctx, id)
		return err
	})
	if err != nil {
		t.Fatalf("payment %s: %v", id, err)
	}
	return p
}

func (e *env) bt(t testing.TB, id string) *ledger.BalanceTransaction {
	t.Helper()
	var b *ledger.BalanceTransaction
	err := e.l.View(e.ctx, func(tx ledger.ReadTx) error {
		var err error
		b, err = tx.BalanceTransaction(e.ctx, id)
		return err
	})
	if err != nil {
		t.Fatalf("balance transaction %s: %v", id, err)
	}
	return b
}

// bts lists every balance transaction, ordered by created then id.
func (e *env) bts(t testing.TB) []*ledger.BalanceTransaction {
	t.Helper()
	var out []*ledger.BalanceTransaction
	err := e.l.View(e.ctx, func(tx ledger.ReadTx) error {
		return tx.EachBalanceTransaction(e.ctx, ledger.BTFilter{}, func(b *ledger.BalanceTransaction) error {
			out = append(out, b)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("balance transactions: %v", err)
	}
	return out
}

// dump renders every row of every table of db, tables and rows in a fixed
// order, so that two dumps are equal exactly when the databases hold the
// same data.
func dump(t testing.TB, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		var ncol int
		if err := db.QueryRow(`SELECT COUNT(*) FROM pragma_table_info(?)`, table).Scan(&ncol); err != nil {
			t.Fatal(err)
		}
		order := make([]string, ncol)
		for i := range order {
			order[i] = fmt.Sprint(i + 1)
		}
		rows, err := db.Query(`SELECT * FROM "` + table + `" ORDER BY ` + strings.Join(order, ", "))
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintf(&b, "== %s (%s)\n", table, strings.Join(cols, ", "))
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteString(" | ")
				}
				switch v := v.(type) {
				case []byte:
					b.WriteString("x'" + hex.EncodeToString(v) + "'")
				case nil:
					b.WriteString("NULL")
				default:
					fmt.Fprintf(&b, "%T:%v", v, v)
				}
			}
			b.WriteByte('\n')
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// diffDumps reports the first differing line of two dumps.
func diffDumps(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  before: %s\n  after:  %s", i+1, x, y)
		}
	}
	return "no difference"
}
