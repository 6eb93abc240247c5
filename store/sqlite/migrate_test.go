package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/store/sqlite"
)

// dbAtVersion creates a database at path with the migrations up to version
// applied, as a store of that version left it, for a test to fill before a
// newer store opens it.
func dbAtVersion(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", sqlite.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	migs, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range migs {
		if m.Version > version {
			break
		}
		if _, err := db.Exec(m.SQL); err != nil {
			t.Fatalf("migration %d: %v", m.Version, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, 1)`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// Migration 5 carries the provider records of an existing database over to
// the leaner table: every field, raw row, file and format reads back as
// before, and the records are still found by id and updated by a newer
// export.
func TestMigration5KeepsRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db := dbAtVersion(t, path, 3)
	// Two imports as the schema of migrations 2–3 stored them: one whose
	// format was detected (recorded as ""), and a record whose file differs
	// from its import's.
	created := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	for _, stmt := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO imports (id, file, sha256, format, imported_at, records, added) VALUES (1, 'a.csv', 'sa', '', 1, 2, 2)`, nil},
		{`INSERT INTO imports (id, file, sha256, format, imported_at, records, added) VALUES (2, 'b.json', 'sb', 'stripe-balance-json', 2, 1, 1)`, nil},
		{`INSERT INTO provider_records (provider, grain, record_id, occurrence, format, type, reporting_category, source_ref,
			payment_ref, currency, amount, fee, net, status, created, available_on, payout_id, description, import_id, file, line, raw)
			VALUES ('stripe', 'balance', 'txn_1', 1, 'stripe-itemized-csv', 'charge', 'charge', 'ch_1', 'ch_1', 'usd', 2999, 117,
			2882, '', ?, 0, 'po_1', 'Order 1', 1, 'a.csv', 2, 'txn_1,2026-11-02 09:30:00,usd,29.99,1.17,28.82,charge')`, []any{created.UnixNano()}},
		{`INSERT INTO provider_records (provider, grain, record_id, occurrence, format, currency, amount, created, import_id, file, line, raw)
			VALUES ('stripe', 'balance', 'txn_1', 2, 'stripe-itemized-csv', 'usd', 2999, ?, 1, 'elsewhere/a.csv', 3, 'txn_1,again')`, []any{created.UnixNano()}},
		{`INSERT INTO provider_records (provider, grain, record_id, occurrence, format, type, currency, amount, fee, net, status,
			created, import_id, file, line, raw) VALUES ('stripe', 'balance', 'txn_9', 1, 'stripe-balance-json', 'payout', 'usd',
			-500, 0, -500, 'available', ?, 2, 'b.json', 4, '{"id":"txn_9"}')`, []any{created.Add(time.Hour).UnixNano()}},
	} {
		if _, err := db.Exec(stmt.q, stmt.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	st := open(t, path)
	defer st.Close()
	got := storedRecords(t, st, provider.RecordFilter{})
	want := []*provider.Record{
		{Provider: "stripe", Format: "stripe-itemized-csv", Grain: provider.BalanceGrain, ID: "txn_1", Type: "charge",
			ReportingCategory: "charge", SourceRef: "ch_1", PaymentRef: "ch_1", Currency: "usd", Amount: 2999, Fee: 117,
			Net: 2882, Created: created, PayoutID: "po_1", Description: "Order 1", File: "a.csv", Line: 2,
			Raw: "txn_1,2026-11-02 09:30:00,usd,29.99,1.17,28.82,charge"},
		{Provider: "stripe", Format: "stripe-itemized-csv", Grain: provider.BalanceGrain, ID: "txn_1", Currency: "usd",
			Amount: 2999, Created: created, File: "elsewhere/a.csv", Line: 3, Raw: "txn_1,again"},
		{Provider: "stripe", Format: "stripe-balance-json", Grain: provider.BalanceGrain, ID: "txn_9", Type: "payout",
			Currency: "usd", Amount: -500, Net: -500, Status: "available", Created: created.Add(time.Hour), File: "b.json",
			Line: 4, Raw: `{"id":"txn_9"}`},
	}
	if !reflect.DeepEqual(got, want) {
		for i := range got {
			t.Logf("got  %+v", got[i])
		}
		t.Fatalf("records after migration differ from before")
	}
	var format string
	if err := st.DB().QueryRow(`SELECT format FROM imports WHERE id = 1`).Scan(&format); err != nil || format != "stripe-itemized-csv" {
		t.Errorf("import 1's format %q, %v", format, err)
	}
	// A newer export of txn_1 updates the migrated record.
	stats, err := importData(t, st, "c.csv", itemizedHeader+itemizedRow("txn_1", 1, 2999, "Order 1, refunded"), false)
	if err != nil || stats.Added != 0 || stats.Updated != 1 {
		t.Fatalf("newer export: %+v, %v", stats, err)
	}
	r, err := st.Record(ctx, "stripe", provider.BalanceGrain, "txn_1")
	if err != nil || r.Description != "Order 1, refunded" || r.File != "c.csv" || r.Line != 2 {
		t.Errorf("txn_1 after the newer export: %+v, %v", r, err)
	}
}

// Migration 12 leads the provider records' key with the record id and drops
// the payments' index by provider reference: the records of an older
// database keep their key (a repeat of the same provider, grain, id and
// occurrence is refused; the same id under another provider or occurrence
// is not), a newer export still updates them, and the payment is untouched.
func TestMigration12KeepsKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db := dbAtVersion(t, path, 11)
	created := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC).UnixNano()
	for _, q := range []string{
		`INSERT INTO imports (id, file, sha256, format, imported_at, records, added) VALUES (1, 'a.csv', 'sa', 'stripe-itemized-csv', 1, 2, 2)`,
		`INSERT INTO provider_records (provider, grain, record_id, occurrence, type, reporting_category, source_ref,
			currency, amount, fee, net, created, description, import_id, line, raw)
			VALUES ('stripe', 'balance', 'txn_1', 1, 'charge', 'charge', 'ch_1', 'usd', 2999, 117, 2882, ?, 'Order 1', 1, 2, 'row 2')`,
		`INSERT INTO provider_records (provider, grain, record_id, occurrence, currency, amount, created, import_id, line, raw)
			VALUES ('stripe', 'balance', 'txn_1', 2, 'usd', 2999, ?, 1, 3, 'row 3')`,
		`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, postings) VALUES (1, 'k', 'posted', ?, 0, '[]')`,
		`INSERT INTO payments (id, provider, provider_ref, currency, capture_method, status, authorized, created_at, updated_at)
			VALUES ('order-1', 'stripe', 'ch_1', 'usd', 'automatic', 'authorized', 2999, ?, ?)`,
	} {
		args := make([]any, strings.Count(q, "?"))
		for i := range args {
			args[i] = created
		}
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	st := open(t, path)
	defer st.Close()
	var cols string
	if err := st.DB().QueryRow(`SELECT group_concat(name, ', ' ORDER BY seqno) FROM pragma_index_info('provider_records_key')`).Scan(&cols); err != nil {
		t.Fatal(err)
	}
	if cols != "record_id, occurrence, provider, grain" {
		t.Errorf("provider_records_key on (%s)", cols)
	}
	var n int
	if err := st.DB().QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'payments_provider_ref'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("payments_provider_ref still there (%d, %v)", n, err)
	}
	insert := `INSERT INTO provider_records (provider, grain, record_id, occurrence, currency, amount, created, import_id, line, raw)
		VALUES (?, ?, 'txn_1', ?, 'usd', 1, ?, 1, 9, 'x')`
	later := created + int64(time.Hour)
	if _, err := st.DB().Exec(insert, "stripe", "balance", 1, later); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("a repeated key was stored (%v)", err)
	}
	for _, k := range [][3]any{{"justifi", "balance", 1}, {"stripe", "payment", 1}, {"stripe", "balance", 3}} {
		if _, err := st.DB().Exec(insert, k[0], k[1], k[2], later); err != nil {
			t.Errorf("key %v refused: %v", k, err)
		}
	}
	// A newer export of txn_1 updates the first occurrence rather than
	// adding one.
	stats, err := importData(t, st, "c.csv", itemizedHeader+itemizedRow("txn_1", 1, 2999, "Order 1, refunded"), false)
	if err != nil || stats.Added != 0 || stats.Updated != 1 {
		t.Fatalf("newer export: %+v, %v", stats, err)
	}
	r, err := st.Record(ctx, "stripe", provider.BalanceGrain, "txn_1")
	if err != nil || r.Description != "Order 1, refunded" || r.Line != 2 {
		t.Errorf("txn_1 after the newer export: %+v, %v", r, err)
	}
	err = st.View(ctx, func(tx ledger.ReadTx) error {
		p, err := tx.Payment(ctx, "order-1")
		if err == nil && (p.ProviderRef != "ch_1" || p.Authorized != 2999) {
			t.Errorf("payment after migration: %+v", p)
		}
		return err
	})
	if err != nil {
		t.Errorf("payment after migration: %v", err)
	}
}

// Migration 13 moves the settlement of every balance transaction into
// bt_settlements: the balance_transactions view gives every row and column
// of an older database's table as it was, in its order; the ledger reads
// them back, the pending one is still due and the paid ones still in their
// payout; and a settlement written afterwards lands in the new table.
func TestMigration13SplitsSettlements(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db := dbAtVersion(t, path, 12)
	created := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	avail := created.Add(48 * time.Hour)
	insert := `INSERT INTO balance_transactions (id, provider, entry_id, type, reporting_category, source_type, source_id,
		source_ref, payment_id, amount, fee, net, fee_details, currency, status, description, created, available_on, payout_id,
		available_on_estimated, payout_derived, presentment_amount, presentment_currency, exchange_rate, settlement_estimated)
		VALUES (?, 'stripe', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	for _, q := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, postings) VALUES (1, 'k', 'posted', 1, 0, '[]')`, nil},
		{`INSERT INTO payouts (id, provider, amount, currency, status, arrival_date, created_at, updated_at, automatic)
			VALUES ('po_1', 'stripe', 9675, 'usd', 'paid', ?, ?, ?, 1)`,
			[]any{avail.Add(24 * time.Hour).UnixNano(), avail.Add(time.Hour).UnixNano(), avail.Add(time.Hour).UnixNano()}},
		{insert, []any{"txn_b", "charge", "charge", "charge", "ch_1", "ch_1", "pay_1", 10000, 320, 9680,
			`[{"amount":320,"currency":"usd","type":"stripe_fee"}]`, "usd", "available", "Payment pay_1", created.UnixNano(),
			avail.UnixNano(), "po_1", 1, 1, 9200, "eur", "1.0869565", 1}},
		{insert, []any{"txn_a", "refund", "refund", "refund", "re_1", "re_1", "pay_1", -1000, 0, -1000, nil, "usd",
			"pending", "", created.Add(time.Hour).UnixNano(), avail.UnixNano(), "", 0, 1, 0, "", "", 0}},
		{insert, []any{"txn_c", "adjustment", "correction", "correction", "txn_b", "", "", -5, 0, -5, nil, "usd",
			"available", "correction of txn_b", created.Add(2 * time.Hour).UnixNano(), avail.UnixNano(), "po_1", 0, 0, 0, "", "", 0}},
	} {
		if _, err := db.Exec(q.q, q.args...); err != nil {
			t.Fatalf("%s: %v", q.q, err)
		}
	}
	before := dumpRows(t, db, `SELECT * FROM balance_transactions ORDER BY id`)
	db.Close()

	st := open(t, path)
	defer st.Close()
	if after := dumpRows(t, st.DB(), `SELECT * FROM balance_transactions ORDER BY id`); !reflect.DeepEqual(after, before) {
		t.Errorf("balance_transactions after the migration:\n%v\nbefore:\n%v", after, before)
	}
	for _, table := range []string{"bt_core", "bt_settlements"} {
		var n int
		if err := st.DB().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil || n != 3 {
			t.Errorf("%s holds %d rows (%v), want 3", table, n, err)
		}
	}
	for _, ix := range []string{"bt_pending", "bt_told_payout", "bt_derived_payout"} {
		var on string
		if err := st.DB().QueryRow(`SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ?`, ix).Scan(&on); err != nil || on != "bt_settlements" {
			t.Errorf("index %s is on %q (%v), want bt_settlements", ix, on, err)
		}
	}
	err := st.Update(ctx, func(tx ledger.Tx) error {
		b, err := tx.BalanceTransaction(ctx, "txn_b")
		if err != nil {
			return err
		}
		if b.Currency != "usd" || b.Status != ledger.BTAvailable || !b.AvailableOn.Equal(avail) || b.PayoutID != "po_1" ||
			!b.AvailableOnEstimated || !b.PayoutDerived || b.Amount != 10000 || b.Net != 9680 || b.PresentmentCurrency != "eur" ||
			b.ExchangeRate.String() != "1.0869565" || len(b.FeeDetails) != 1 || b.Description != "Payment pay_1" {
			t.Errorf("txn_b after the migration: %+v", b)
		}
		due, err := tx.DueBalanceTransactions(ctx, avail, "stripe", "usd")
		if err != nil {
			return err
		}
		if len(due) != 1 || due[0].ID != "txn_a" || due[0].Amount != -1000 {
			t.Errorf("due after the migration: %+v", due)
		}
		var inPayout []string
		err = tx.EachBalanceTransaction(ctx, ledger.BTFilter{Provider: "stripe", PayoutID: "po_1"}, func(b *ledger.BalanceTransaction) error {
			inPayout = append(inPayout, b.ID)
			return nil
		})
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(inPayout, []string{"txn_b", "txn_c"}) {
			t.Errorf("payout po_1 holds %v", inPayout)
		}
		return tx.SetSettlements(ctx, []ledger.SettlementChange{{ID: "txn_a", AvailableOn: avail.Add(time.Hour),
			Status: ledger.BTAvailable, PayoutID: "po_2", Changes: ledger.ChangesAll}})
	})
	if err != nil {
		t.Fatal(err)
	}
	var status, payout string
	if err := st.DB().QueryRow(`SELECT status, payout_id FROM bt_settlements WHERE id = 'txn_a'`).Scan(&status, &payout); err != nil ||
		status != ledger.BTAvailable || payout != "po_2" {
		t.Errorf("txn_a's settlement after a change: %s %s (%v)", status, payout, err)
	}
}

// dumpRows returns every row of query, each column as text.
func dumpRows(t *testing.T, db *sql.DB, query string) [][]string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols)+1)
		row[0] = strings.Join(cols, ",")
		for i, v := range vals {
			row[i+1] = fmt.Sprintf("%v:%s", v.Valid, v.String)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Migration 17 marks the stored entries of the ledger accounts that bank
// accounts map to (and of their subaccounts) and no other: an account's
// entries read the same through the mark as before it.
func TestMigration17MarksBankEntries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db := dbAtVersion(t, path, 16)
	for _, q := range []string{
		`INSERT INTO accounts (id, name, type) VALUES (1, 'assets:bank:operating', 'asset'), (2, 'assets:bank:operating:fees', 'asset'),
			(3, 'assets:bank:reserve', 'asset'), (12, 'income:sales', 'income')`,
		`INSERT INTO bank_accounts (account, currency, ledger_account) VALUES ('DE89370400440532013000', 'usd', 'assets:bank:operating')`,
		`INSERT INTO entries (id, key, phase, occurred_at, recorded_at, postings) VALUES
			(1, 'a', 'posted', 1, 0, '[[1,"usd",100],[12,"usd",-100]]'),
			(2, 'b', 'posted', 2, 0, '[[12,"usd",-100],[2,"usd",100]]'),
			(3, 'c', 'posted', 3, 0, '[[3,"usd",100],[12,"usd",-100]]'),
			(4, 'd', 'posted', 4, 0, '[[12,"usd",100],[12,"usd",-100]]')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	st := open(t, path)
	defer st.Close()
	var marked string
	if err := st.DB().QueryRow(`SELECT group_concat(id) FROM entries WHERE bank = 1`).Scan(&marked); err != nil || marked != "1,2" {
		t.Errorf("marked entries %q, want 1,2 (%v)", marked, err)
	}
	for account, want := range map[string]string{"assets:bank:operating": "[1 2]", "assets:bank:operating:fees": "[2]", "assets:bank": "[1 2 3]"} {
		var ids []int64
		err := st.View(ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(ctx, ledger.EntryFilter{Account: account}, func(e *ledger.Entry) error { ids = append(ids, e.ID); return nil })
		})
		if err != nil || fmt.Sprint(ids) != want {
			t.Errorf("entries of %s: %v, want %s (%v)", account, ids, want, err)
		}
	}
}

// Migration 19 makes an empty entries table anew, its keys kept unique by
// an index of their own (entries_key), and leaves a table that holds
// entries with its column's constraint; either way a stored key is refused
// again, and the schema counts as migrated.
func TestMigration19KeyIndexOfItsOwn(t *testing.T) {
	ctx := context.Background()
	for _, withEntry := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "old.db")
		db := dbAtVersion(t, path, 18)
		if withEntry {
			if _, err := db.Exec(`INSERT INTO entries (id, key, phase, occurred_at, recorded_at) VALUES (1, 'k', 'posted', 1, 0)`); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		st := open(t, path)
		var indexes string
		var version int
		err := st.DB().QueryRow(`SELECT (SELECT group_concat(name, ' ' ORDER BY name) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'entries'),
			(SELECT max(version) FROM schema_migrations)`).Scan(&indexes, &version)
		if err != nil {
			t.Fatal(err)
		}
		want := "entries_bank entries_key entries_occurred_at entries_reverses entries_unresolved"
		if withEntry {
			want = "entries_bank entries_occurred_at entries_reverses entries_unresolved sqlite_autoindex_entries_1"
		}
		if indexes != want || version < 19 {
			t.Errorf("with an entry %v: indexes %q, want %q; version %d", withEntry, indexes, want, version)
		}
		e := &ledger.Entry{Key: "k", Phase: ledger.Posted, OccurredAt: time.Unix(5, 0).UTC(), Postings: []ledger.Posting{
			{Account: "assets:cash", Currency: "usd", Amount: 1}, {Account: "income:sales", Currency: "usd", Amount: -1}}}
		err = st.Update(ctx, func(tx ledger.Tx) error {
			if err := tx.InsertEntry(ctx, e); err != nil {
				return err
			}
			if withEntry {
				return nil // refused: it stays unwritten
			}
			again := *e
			return tx.InsertEntry(ctx, &again)
		})
		if !errors.Is(err, ledger.ErrIdempotencyConflict) {
			t.Errorf("with an entry %v: key k written twice: %v, want ErrIdempotencyConflict", withEntry, err)
		}
		st.Close()
	}
}
