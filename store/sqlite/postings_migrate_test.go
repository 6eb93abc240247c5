package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// A database written before migration 4, with postings in their own table,
// opens with its entries, balances and postings intact: migration 4 moves
// every posting into its entry's row, and the postings view shows the same
// rows the table held.
func TestMigrationMovesPostingsIntoEntries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v3.db")
	db := dbAtVersion(t, path, 3)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Three entries as the version-3 store wrote them: a two-currency entry
	// whose postings were inserted out of seq order, a pending entry, and a
	// plain one.
	exec(`INSERT INTO accounts (id, name, type) VALUES (1, 'assets:bank:ops', 'asset'), (2, 'income:sales', 'income'),
		(3, 'assets:stripe:pending', 'asset'), (4, 'expenses:fees:stripe', 'expense')`)
	exec(`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, description) VALUES
		(1, 'fx', 'posted', 1000, 1000, 'two currencies'), (2, 'auth', 'pending', 2000, 2000, ''), (3, 'fee', 'posted', 3000, 3000, '')`)
	exec(`INSERT INTO postings (entry_id, seq, account_id, currency, amount) VALUES
		(1, 2, 1, 'eur', 900), (1, 0, 1, 'usd', 1000), (1, 1, 2, 'usd', -1000), (1, 3, 2, 'eur', -900),
		(2, 0, 3, 'usd', 5000), (2, 1, 2, 'usd', -5000),
		(3, 0, 4, 'usd', 30), (3, 1, 1, 'usd', -30)`)
	exec(`INSERT INTO balances (account_id, currency, posted, pending) VALUES
		(1, 'usd', 970, 0), (1, 'eur', 900, 0), (2, 'usd', -1000, -5000), (2, 'eur', -900, 0), (3, 'usd', 0, 5000), (4, 'usd', 30, 0)`)
	type row struct {
		entry, seq, account int64
		currency            string
		amount              int64
	}
	readPostings := func(db *sql.DB) []row {
		t.Helper()
		rows, err := db.QueryContext(ctx, `SELECT entry_id, seq, account_id, currency, amount FROM postings ORDER BY entry_id, seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.entry, &r.seq, &r.account, &r.currency, &r.amount); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	before := readPostings(db)
	db.Close()

	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if after := readPostings(st.DB()); !reflect.DeepEqual(after, before) {
		t.Errorf("postings view after migration:\n%v\nwant the table's rows:\n%v", after, before)
	}
	books := ledger.New(st, nil)
	e, err := books.Entry(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []ledger.Posting{{Account: "assets:bank:ops", Currency: "usd", Amount: 1000},
		{Account: "income:sales", Currency: "usd", Amount: -1000},
		{Account: "assets:bank:ops", Currency: "eur", Amount: 900},
		{Account: "income:sales", Currency: "eur", Amount: -900}}
	if !reflect.DeepEqual(e.Postings, want) {
		t.Errorf("entry 1 postings = %v, want %v", e.Postings, want)
	}
	if vs, err := books.Verify(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("Verify after migration = %v, %v", vs, err)
	}
	// The migrated pending entry still resolves, and new entries post.
	if err := books.VoidPending(ctx, "void-auth", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := books.PostEntry(ctx, ledger.EntryInput{Key: "new", OccurredAt: time.Unix(4, 0),
		Postings: []ledger.PostingInput{ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("income:sales", "usd", "1")}}); err != nil {
		t.Fatal(err)
	}
	if vs, err := books.Verify(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("Verify after new writes = %v, %v", vs, err)
	}
	bals, err := books.BalancesAsOf(ctx, "", time.Unix(0, 2500))
	if err != nil {
		t.Fatal(err)
	}
	wantBals := []ledger.Balance{{Account: "assets:bank:ops", Type: ledger.Asset, Currency: "eur", Posted: 900},
		{Account: "assets:bank:ops", Type: ledger.Asset, Currency: "usd", Posted: 1000},
		{Account: "income:sales", Type: ledger.Income, Currency: "eur", Posted: -900},
		{Account: "income:sales", Type: ledger.Income, Currency: "usd", Posted: -1000}}
	if !reflect.DeepEqual(bals, wantBals) {
		t.Errorf("BalancesAsOf = %v, want %v", bals, wantBals)
	}
}
