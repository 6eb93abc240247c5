package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/ledger"
)

// The entries of a bank's ledger account are read through entries_bank,
// not by reading every entry (a million payments' month: 0.6 s a night);
// the entries of any other account still are, and what is read is the
// same (the conformance suite's BankEntries).
func TestBankEntriesReadThroughTheirIndex(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(lt ledger.Tx) error {
		for i, a := range []string{"assets:bank:operating", "assets:receivables"} {
			e := &ledger.Entry{Key: a, Phase: ledger.Posted, OccurredAt: at.Add(time.Duration(i) * time.Minute), Postings: []ledger.Posting{
				{Account: a, Currency: "usd", Amount: 100}, {Account: "income:sales", Currency: "usd", Amount: -100}}}
			if err := lt.InsertEntry(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ImportStatements(ctx, bank.ImportFile{File: "s.sta", SHA256: "s", Format: bank.MT940}, func(k bank.StatementSink) error {
		return k.Add(&bank.Statement{Format: bank.MT940, Account: "DE89370400440532013000", Currency: "usd", ID: "S1", Sequence: "1",
			OpeningDate: at, ClosingDate: at, Line: 1}, "assets:bank:operating")
	})
	if err != nil {
		t.Fatal(err)
	}
	plans := map[string]string{}
	err = s.View(ctx, func(rt ledger.ReadTx) error {
		for _, a := range []string{"assets:bank:operating", "assets:bank", "assets:receivables"} {
			q, args, _, err := rt.(*tx).entriesQuery(ctx, ledger.EntryFilter{Account: a, PostedOnly: true})
			if err != nil {
				return err
			}
			plans[a] = queryPlan(t, s, q, args...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for a, plan := range plans {
		// assets:bank holds only the mapped account's subtree here.
		if through := strings.Contains(plan, "entries_bank"); through != (a != "assets:receivables") {
			t.Errorf("entries of %s: plan %q", a, plan)
		}
	}
}
