package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
	"github.com/settlehq/settle/store/storetest"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return s
}

type migrationRow struct {
	version   int
	appliedAt int64
}

func migrationsOf(t *testing.T, db *sql.DB) []migrationRow {
	t.Helper()
	rows, err := db.Query(`SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []migrationRow
	for rows.Next() {
		var r migrationRow
		if err := rows.Scan(&r.version, &r.appliedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// Migrations apply once: reopening a database applies nothing again and
// keeps its data.
func TestMigrationsApplyOnce(t *testing.T) {
	ctx := context.Background()
	migs, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) == 0 {
		t.Fatal("schema.sql has no migrations")
	}
	path := filepath.Join(t.TempDir(), "books.db")
	s := open(t, path)
	first := migrationsOf(t, s.DB())
	if len(first) != len(migs) {
		t.Fatalf("schema_migrations has %d rows, schema.sql %d migrations", len(first), len(migs))
	}
	for i, m := range migs {
		if first[i].version != m.Version || first[i].appliedAt == 0 {
			t.Errorf("migration %d recorded as %+v", m.Version, first[i])
		}
	}
	l := ledger.New(s, nil)
	if _, err := l.Capture(ctx, ledger.CaptureRequest{Key: "k", PaymentID: "p", Provider: "stripe", Currency: "usd",
		Amount: decimal.RequireFromString("12.34"), At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for i := 0; i < 2; i++ {
		s := open(t, path)
		if again := migrationsOf(t, s.DB()); len(again) != len(first) || again[len(again)-1] != first[len(first)-1] {
			t.Errorf("reopen %d: schema_migrations %+v, was %+v", i, again, first)
		}
		l := ledger.New(s, nil)
		if b, err := l.Balance(ctx, "income:sales", "usd"); err != nil || b != 1234 {
			t.Errorf("reopen %d: income:sales = %d, %v", i, b, err)
		}
		if vs, err := l.Verify(ctx); err != nil || len(vs) != 0 {
			t.Errorf("reopen %d: verify %v %v", i, vs, err)
		}
		s.Close()
	}

	// New on an application's own *sql.DB migrates nothing more either.
	db, err := sql.Open("sqlite3", sqlite.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s2, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if again := migrationsOf(t, db); len(again) != len(first) {
		t.Errorf("New: schema_migrations %+v", again)
	}
	s2.Close()
	if err := db.Ping(); err != nil {
		t.Errorf("Close closed the application's database: %v", err)
	}
}

// A database a later settle migrated is refused, not used: this settle
// would miss what the later versions store where.
func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "books.db")
	s := open(t, path)
	migs, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	next := migs[len(migs)-1].Version + 1
	if _, err := s.DB().Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 1)`, next); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = sqlite.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema is at version %d, newer than this settle's (%d)", next, next-1)) {
		t.Fatalf("opening a database migrated past this settle: %v", err)
	}
}

func TestInMemory(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := ledger.New(s, nil)
	if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "k", OccurredAt: t0, Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}}); err != nil {
		t.Fatal(err)
	}
	if b, err := l.Balance(ctx, "assets:bank:ops", "usd"); err != nil || b != 100 {
		t.Errorf("balance %d, %v", b, err)
	}
	// A second in-memory store is a different database.
	s2, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if b, err := ledger.New(s2, nil).Balance(ctx, "assets:bank:ops", "usd"); err != nil || b != 0 {
		t.Errorf("second in-memory store sees balance %d, %v", b, err)
	}
}

// Point-in-time balances take any date, including ones past what Unix
// nanoseconds can hold.
func TestBalancesAsOfFarDates(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "books.db"))
	defer s.Close()
	l := ledger.New(s, nil)
	if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "k", OccurredAt: t0, Postings: []ledger.PostingInput{
		ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		asOf time.Time
		n    int
	}{
		{t0.Add(-time.Nanosecond), 0},
		{t0, 2},
		{time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), 2},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 2},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), 2},
		{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), 0},
	} {
		bs, err := l.BalancesAsOf(ctx, "", tt.asOf)
		if err != nil || len(bs) != tt.n {
			t.Errorf("BalancesAsOf(%s) = %+v, %v; want %d balances", tt.asOf, bs, err, tt.n)
		}
	}
}

// books builds a small ledger with every kind of row: payments, refunds,
// disputes, a payout, a pending authorization and balance transactions.
func books(t *testing.T) (*sqlite.Store, *ledger.Ledger) {
	t.Helper()
	s := open(t, filepath.Join(t.TempDir(), "books.db"))
	t.Cleanup(func() { s.Close() })
	l := ledger.New(s, &ledger.Options{Now: func() time.Time { return t0 }})
	storetest.SmallBooks(t, l, t0)
	return s, l
}

// Verify finds corruption written behind the ledger's back.
func TestVerifyDetectsCorruption(t *testing.T) {
	const acct = `(SELECT id FROM accounts WHERE name = '%s')`
	avail := strings.Replace(acct, "%s", "assets:stripe:available", 1)
	sales := strings.Replace(acct, "%s", "income:sales", 1)
	tests := []struct {
		name      string
		noFK      bool // the corruption needs foreign keys off
		sql       []string
		invariant string
		subject   string // expected subject, if checked
		detail    string // expected detail, if checked
	}{
		{name: "posted balance changed", invariant: "balance_matches_postings", subject: "assets:stripe:available usd",
			sql: []string{`UPDATE balances SET posted = posted + 1 WHERE account_id = ` + avail}},
		{name: "pending balance changed", invariant: "balance_matches_postings", subject: "assets:stripe:pending usd",
			sql: []string{`UPDATE balances SET pending = pending - 1 WHERE account_id = ` + strings.Replace(acct, "%s", "assets:stripe:pending", 1)}},
		{name: "balance without postings", invariant: "balance_matches_postings", subject: "income:sales eur",
			sql: []string{`INSERT INTO balances (account_id, currency, posted, pending) VALUES (` + sales + `, 'eur', 5, 0)`}},
		{name: "unbalanced entry", invariant: "entry_balanced", subject: "entry 100",
			sql: []string{`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, postings) VALUES (100, 'rogue', 'posted', 1, 1,
				json_array(json_array(` + avail + `, 'usd', 500), json_array(` + sales + `, 'usd', -499)))`}},
		{name: "entry with one posting", invariant: "entry_has_postings", subject: "entry 100",
			sql: []string{`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, postings) VALUES (100, 'rogue', 'posted', 1, 1,
				json_array(json_array(` + avail + `, 'usd', 500)))`}},
		{name: "posting to an account that does not exist", invariant: "posting_valid", subject: "entry 100 posting 2",
			sql: []string{`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, postings) VALUES (100, 'rogue', 'posted', 1, 1,
				'[[' || ` + avail + ` || ',"usd",0],[999,"usd",0]]')`}},
		{name: "zero posting", invariant: "posting_valid", subject: "entry 100 posting 1",
			sql: []string{`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, postings) VALUES (100, 'rogue', 'posted', 1, 1,
				'[[' || ` + avail + ` || ',"usd",0],[' || ` + sales + ` || ',"usd",0]]')`}},
		{name: "posting amount edited", invariant: "entry_balanced", subject: "entry 1",
			sql: []string{`UPDATE entries SET postings = json_set(postings, '$[0][2]', (postings ->> '$[0][2]') + 1) WHERE id = 1`}},
		{name: "postings not JSON", invariant: "postings_well_formed", subject: "entry 1",
			sql: []string{`UPDATE entries SET postings = '[[1,"usd",5],' WHERE id = 1`}},
		{name: "posting amount not an integer", invariant: "postings_well_formed", subject: "entry 1",
			sql: []string{`UPDATE entries SET postings = json_set(postings, '$[0][2]', 1.5) WHERE id = 1`}},
		{name: "net is not amount minus fee", invariant: "net_is_amount_minus_fee",
			sql: []string{`UPDATE bt_core SET net = net + 1 WHERE type = 'charge'`}},
		{name: "refunded more than captured", invariant: "refunded_le_captured", subject: "payment pay_1",
			sql: []string{`UPDATE payments SET refunded = captured + 1 WHERE id = 'pay_1'`}},
		{name: "captured more than authorized", invariant: "captured_le_authorized", subject: "payment pay_1",
			sql: []string{`UPDATE payments SET captured = authorized + 1 WHERE id = 'pay_1'`}},
		{name: "converted payment settling in its own currency", invariant: "conversion_sides_consistent", subject: "payment pay_1",
			detail: "settles in usd with a settled amount of 1",
			sql:    []string{`UPDATE payments SET settlement_currency = currency, settled = 1 WHERE id = 'pay_1'`}},
		{name: "refunds do not add up", invariant: "refunds_sum", subject: "payment pay_1",
			sql: []string{`UPDATE refunds SET amount = amount - 1`}},
		{name: "refund stored, none on the payment", invariant: "refunds_sum", subject: "payment pay_1",
			detail: "refunded 0 but refunds sum to 1000",
			sql:    []string{`UPDATE payments SET refunded = 0 WHERE id = 'pay_1'`}},
		{name: "negative amount", invariant: "amounts_non_negative", subject: "payment pay_2",
			sql: []string{`UPDATE payments SET disputed = -1 WHERE id = 'pay_2'`}},
		{name: "balance transaction without an entry", invariant: "balance_transaction_has_entry", noFK: true,
			sql: []string{`UPDATE bt_core SET entry_id = 999 WHERE type = 'refund'`}},
		{name: "balance transaction without its settlement", invariant: "balance_transaction_whole", detail: "no settlement stored",
			sql: []string{`DELETE FROM bt_settlements WHERE id = (SELECT id FROM bt_core WHERE type = 'refund')`}},
		{name: "settlement without its balance transaction", invariant: "balance_transaction_whole",
			subject: "balance transaction btx_orphan", sql: []string{`INSERT INTO bt_settlements (id, provider, currency, status, available_on)
				VALUES ('btx_orphan', 'stripe', 'usd', 'available', 1)`}},
		{name: "settlement of another provider", invariant: "balance_transaction_whole", detail: "of stripe but its settlement says justifi",
			sql: []string{`UPDATE bt_settlements SET provider = 'justifi' WHERE id = (SELECT id FROM bt_core WHERE type = 'refund')`}},
		{name: "pending entry posted twice", invariant: "pending_resolved_once",
			sql: []string{
				`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, pending_of) VALUES (100, 'rogue', 'posted', 1, 1,
					(SELECT pending_entry_id FROM payments WHERE id = 'pay_2'))`,
				`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, pending_of) VALUES (101, 'rogue2', 'posted', 1, 1,
					(SELECT pending_entry_id FROM payments WHERE id = 'pay_2'))`,
			}},
		{name: "posted entry with a resolution", invariant: "pending_resolution_consistent",
			sql: []string{`UPDATE entries SET resolution = 'voided' WHERE key = 'r1'`}},
		{name: "pending entry resolved by nothing", invariant: "pending_resolution_consistent",
			detail: "phase pending resolution 'posted' resolved_by NULL",
			sql:    []string{`UPDATE entries SET resolution = 'posted', resolved_by = NULL WHERE key = 'a2'`}},
		{name: "pending entry resolved by an entry that does not post it", invariant: "pending_resolution_consistent",
			sql: []string{`UPDATE entries SET resolution = 'posted', resolved_by = (SELECT id FROM entries WHERE key = 'c1') WHERE key = 'a2'`}},
		{name: "pending entry with an unknown resolution", invariant: "pending_resolution_consistent",
			detail: "phase pending resolution 'lost' resolved_by NULL",
			sql:    []string{`UPDATE entries SET resolution = 'lost' WHERE key = 'a2'`}},
		{name: "entry posting an entry that is not pending", invariant: "posts_a_pending_entry", subject: "entry 100",
			sql: []string{`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, pending_of) VALUES (100, 'rogue', 'posted', 1, 1,
				(SELECT id FROM entries WHERE key = 'c1'))`}},
		{name: "entry posting a pending entry resolved by another", invariant: "posts_a_pending_entry", subject: "entry 100",
			sql: []string{`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, pending_of) VALUES (100, 'rogue', 'posted', 1, 1,
				(SELECT pending_entry_id FROM payments WHERE id = 'pay_2'))`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, l := books(t)
			conn, err := s.DB().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tt.noFK {
				if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range tt.sql {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if tt.noFK {
				conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`)
			}
			conn.Close()
			vs, err := l.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !storetest.HasViolation(vs, tt.invariant, tt.subject, tt.detail) {
				t.Errorf("Verify = %v; want a %s violation of %q", vs, tt.invariant, tt.subject)
			}
		})
	}
}

// A write that fails inside the store leaves nothing behind, and its
// account ids are not cached for later writes.
func TestFailedWriteLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s, l := books(t)
	_, err := l.PostEntries(ctx, []ledger.EntryInput{
		{Key: "new-accounts", OccurredAt: t0, Postings: []ledger.PostingInput{
			ledger.Debit("assets:brand:new", "usd", "1"), ledger.Credit("equity:fresh", "usd", "1")}},
		{Key: "c1", OccurredAt: t0, Postings: []ledger.PostingInput{ // key of a capture: conflict
			ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}},
	})
	if err == nil {
		t.Fatal("batch with a conflicting key was accepted")
	}
	var n int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM accounts WHERE name IN ('assets:brand:new', 'equity:fresh')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d accounts of a failed batch remain (%v)", n, err)
	}
	// The same accounts can be created afterwards.
	if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "again", OccurredAt: t0, Postings: []ledger.PostingInput{
		ledger.Debit("assets:brand:new", "usd", "2"), ledger.Credit("equity:fresh", "usd", "2")}}); err != nil {
		t.Fatal(err)
	}
	if b, err := l.Balance(ctx, "assets:brand:new", "usd"); err != nil || b != 200 {
		t.Errorf("balance %d, %v", b, err)
	}
	if vs, err := l.Verify(ctx); err != nil || len(vs) != 0 {
		t.Errorf("verify: %v %v", vs, err)
	}
}

// A database Open creates has PageSize pages and is in WAL mode; one that
// exists keeps the page size it was made with.
func TestNewDatabasePageSize(t *testing.T) {
	ctx := context.Background()
	pragmas := func(t *testing.T, db *sql.DB) (size int, mode string) {
		t.Helper()
		if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		return size, mode
	}
	t.Run("created", func(t *testing.T) {
		s := open(t, filepath.Join(t.TempDir(), "new.db"))
		defer s.Close()
		if size, mode := pragmas(t, s.DB()); size != sqlite.PageSize || mode != "wal" {
			t.Errorf("new database: page size %d, journal %s; want %d, wal", size, mode, sqlite.PageSize)
		}
	})
	t.Run("existing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		db, err := sql.Open("sqlite3", sqlite.DSN(path)) // SQLite's default page size
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE before_settle (x)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		s := open(t, path)
		defer s.Close()
		if size, mode := pragmas(t, s.DB()); size != 4096 || mode != "wal" {
			t.Errorf("existing database: page size %d, journal %s; want 4096, wal", size, mode)
		}
	})
}

// SavePayment updates a payment the transaction knows with plain UPDATEs,
// and one it does not know with an upsert: a changed reference is written,
// and columns an update does not own are kept.
func TestSavePaymentUpdatesWhatChanged(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "p.db"))
	defer s.Close()
	stored := func(t *testing.T, wantRef, wantCustomer string, wantStatus ledger.PaymentStatus, wantRefunded int64) {
		t.Helper()
		var ref, customer, status string
		var refunded int64
		if err := s.DB().QueryRowContext(ctx, `SELECT provider_ref, customer, status, refunded FROM payments WHERE id = 'p1'`).
			Scan(&ref, &customer, &status, &refunded); err != nil {
			t.Fatal(err)
		}
		if ref != wantRef || customer != wantCustomer || status != string(wantStatus) || refunded != wantRefunded {
			t.Errorf("stored %s %s %s %d; want %s %s %s %d", ref, customer, status, refunded, wantRef, wantCustomer, wantStatus, wantRefunded)
		}
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM payments WHERE provider = 'stripe' AND provider_ref = ?`, wantRef).
			Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d payments stored under %s, want 1", n, wantRef)
		}
	}
	p := &ledger.Payment{ID: "p1", Provider: "stripe", ProviderRef: "ch_1", Currency: "usd", Customer: "cus_1",
		CaptureMethod: "automatic", Status: ledger.PaymentCaptured, Authorized: 500, Captured: 500, CreatedAt: t0, UpdatedAt: t0}
	err := s.Update(ctx, func(tx ledger.Tx) error {
		if _, err := tx.Payment(ctx, "p1"); err == nil {
			t.Fatal("p1 exists before it is saved")
		}
		if err := tx.SavePayment(ctx, p); err != nil { // known missing: a plain INSERT
			return err
		}
		q := *p
		q.Refunded, q.Customer, q.UpdatedAt = 200, "cus_other", t0.Add(time.Hour)
		if err := tx.SavePayment(ctx, &q); err != nil { // known: an UPDATE, the reference unchanged
			return err
		}
		q.ProviderRef, q.Refunded = "ch_2", 300
		return tx.SavePayment(ctx, &q) // known: an UPDATE of the reference
	})
	if err != nil {
		t.Fatal(err)
	}
	stored(t, "ch_2", "cus_1", ledger.PaymentCaptured, 300)
	// Unknown to a new transaction: the upsert, which sets every column an
	// update sets, each from its own field.
	q := *p
	q.ProviderRef, q.Status, q.Authorized, q.Captured, q.Refunded, q.Disputed, q.Fees = "ch_3", ledger.PaymentRefunded,
		601, 602, 603, 604, 605
	q.SettlementCurrency, q.Settled, q.Unwound, q.UpdatedAt = "eur", 606, 607, t0.Add(2*time.Hour)
	err = s.Update(ctx, func(tx ledger.Tx) error { return tx.SavePayment(ctx, &q) })
	if err != nil {
		t.Fatal(err)
	}
	stored(t, "ch_3", "cus_1", ledger.PaymentRefunded, 603)
	err = s.View(ctx, func(tx ledger.ReadTx) error {
		got, err := tx.Payment(ctx, "p1")
		if err == nil && !reflect.DeepEqual(got, &q) {
			t.Errorf("upserted payment read back\n%+v\nwant\n%+v", got, &q)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// SetSettlements writes the columns each change names (Changes), whatever
// its other values say, for every combination of them: each combination is
// a statement of its own shape.
func TestSetSettlementsWritesTheNamedColumns(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	defer s.Close()
	l := ledger.New(s, nil)
	bt := func(id string) *ledger.BalanceTransaction {
		t.Helper()
		var b *ledger.BalanceTransaction
		err := s.View(ctx, func(tx ledger.ReadTx) error {
			var err error
			b, err = tx.BalanceTransaction(ctx, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	later := t0.Add(240 * time.Hour)
	var cs []ledger.SettlementChange
	before := map[ledger.SettlementFields]*ledger.BalanceTransaction{}
	for f := ledger.SettlementFields(1); f <= ledger.ChangesAll; f++ {
		c, err := l.Capture(ctx, ledger.CaptureRequest{Key: fmt.Sprintf("c%d", f), PaymentID: fmt.Sprintf("p%d", f),
			Provider: "stripe", Currency: "usd", Amount: decimal.RequireFromString("10.00"), At: t0})
		if err != nil {
			t.Fatal(err)
		}
		b := bt(c.BalanceTransaction.ID)
		before[f] = b
		cs = append(cs, ledger.SettlementChange{ID: b.ID, AvailableOn: later, Estimated: !b.AvailableOnEstimated,
			PayoutID: "po_other", Status: ledger.BTAvailable, Changes: f})
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error { return tx.SetSettlements(ctx, cs) }); err != nil {
		t.Fatal(err)
	}
	for f, was := range before {
		got, want := bt(was.ID), *was
		if f&ledger.ChangesDate != 0 {
			want.AvailableOn, want.AvailableOnEstimated = later, !was.AvailableOnEstimated
		}
		if f&ledger.ChangesPayout != 0 {
			want.PayoutID = "po_other"
		}
		if f&ledger.ChangesStatus != 0 {
			want.Status = ledger.BTAvailable
		}
		if !got.AvailableOn.Equal(want.AvailableOn) || got.AvailableOnEstimated != want.AvailableOnEstimated ||
			got.PayoutID != want.PayoutID || got.Status != want.Status {
			t.Errorf("changes %03b: available_on %s estimated %v payout %q status %s; want %s %v %q %s", f,
				got.AvailableOn, got.AvailableOnEstimated, got.PayoutID, got.Status,
				want.AvailableOn, want.AvailableOnEstimated, want.PayoutID, want.Status)
		}
	}
}
