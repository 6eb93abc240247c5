package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/ledger"
)

// TestBankMappingAcrossStores maps a bank account from one store while
// another has the mapping cached: the other's next entries to the mapped
// ledger account are marked all the same (its commit finds the mapping
// changed and runs again), so bank reconciliation reads them, through
// entries_bank.
func TestBankMappingAcrossStores(t *testing.T) {
	ctx := context.Background()
	schema := testSchema(t)
	a, b := openSchema(t, schema), openSchema(t, schema)
	la, lb := ledger.New(a, nil), ledger.New(b, nil)
	at := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	entry := func(key string) ledger.EntryInput {
		return ledger.EntryInput{Key: key, OccurredAt: at, Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}}
	}
	if _, err := lb.PostEntry(ctx, entry("b1")); err != nil { // b caches "no bank accounts"
		t.Fatal(err)
	}
	_, err := a.ImportStatements(ctx, bank.ImportFile{File: "s.sta", SHA256: "s", Format: bank.MT940}, func(k bank.StatementSink) error {
		return k.Add(&bank.Statement{Format: bank.MT940, Account: "DE89370400440532013000", Currency: "usd", ID: "S1", Sequence: "1",
			OpeningDate: at, ClosingDate: at, Line: 1}, "assets:bank:ops")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lb.PostEntry(ctx, entry("b2")); err != nil {
		t.Fatal(err)
	}
	ins := []ledger.EntryInput{}
	for i := range 20 { // a batch: COPY
		ins = append(ins, entry("b3-"+string(rune('a'+i))))
	}
	if _, err := lb.PostEntries(ctx, ins); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*ledger.Ledger{la, lb} {
		n := 0
		err := l.View(ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(ctx, ledger.EntryFilter{Account: "assets:bank:ops"}, func(*ledger.Entry) error { n++; return nil })
		})
		if err != nil || n != 22 {
			t.Errorf("entries of assets:bank:ops: %d, want 22 (%v)", n, err)
		}
		verifyBooks(t, ctx, l)
	}
	// A table this small is read whole; with sequential scans off, the
	// plan shows that the query's conditions let the index serve it.
	var plan []string
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.QueryContext(ctx, a.sql(`EXPLAIN SELECT id FROM {schema}.entries e WHERE e.bank
		AND e.account_ids && '{1}'::bigint[] ORDER BY e.occurred_at, e.id LIMIT 1000`))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "entries_bank") {
		t.Errorf("the bank's entries not read through entries_bank:\n%s", p)
	}
}

// Migration 7 marks the stored entries of the ledger accounts that bank
// accounts map to (and of their subaccounts), and no other, and names
// them in the setting writers mark by.
func TestMigration7MarksBankEntries(t *testing.T) {
	ctx := context.Background()
	schema := testSchema(t)
	s, err := Open(ctx, serverURL(t), &Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(s, nil)
	at := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	for i, account := range []string{"assets:bank:ops", "assets:bank:ops:fees", "assets:bank:reserve", "assets:receivables"} {
		if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: account, OccurredAt: at.Add(time.Duration(i) * time.Minute),
			Postings: []ledger.PostingInput{ledger.Debit(account, "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}}); err != nil {
			t.Fatal(err)
		}
	}
	// The schema as migration 6 left it, with a bank account mapped.
	for _, q := range []string{
		`DROP INDEX {schema}.entries_bank`,
		`ALTER TABLE {schema}.entries DROP COLUMN bank`,
		`DELETE FROM {schema}.settings WHERE name = 'bank_ledger_accounts'`,
		`DELETE FROM {schema}.schema_migrations WHERE version = 7`,
		`INSERT INTO {schema}.bank_accounts (account, currency, ledger_account) VALUES ('DE89370400440532013000', 'usd', 'assets:bank:ops')`,
	} {
		if _, err := s.db.ExecContext(ctx, s.sql(q)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = Open(ctx, serverURL(t), &Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var marked, setting string
	if err := s.db.QueryRowContext(ctx, s.sql(`SELECT string_agg(key, ',' ORDER BY id) FROM {schema}.entries WHERE bank`)).Scan(&marked); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, s.sql(`SELECT value FROM {schema}.settings WHERE name = 'bank_ledger_accounts'`)).Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if marked != "assets:bank:ops,assets:bank:ops:fees" || setting != "assets:bank:ops" {
		t.Errorf("marked %q, setting %q", marked, setting)
	}
	verifyBooks(t, ctx, ledger.New(s, nil))
}
