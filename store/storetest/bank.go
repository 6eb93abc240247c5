package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/ledger"
)

func bankDay(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }

// bankStatement is a balanced statement of account "DE89…" in USD.
func bankStatement(id, seq string, from, through int, opening int64, amounts ...int64) *bank.Statement {
	st := &bank.Statement{Format: bank.MT940, Account: "DE89370400440532013000", Currency: "usd", ID: id, Sequence: seq,
		OpeningBalance: opening, ClosingBalance: opening, OpeningDate: bankDay(from), ClosingDate: bankDay(through), Line: 1}
	for i, a := range amounts {
		st.ClosingBalance += a
		st.Lines = append(st.Lines, bank.Line{Amount: a, Currency: "usd", BookingDate: bankDay(from + i), Status: bank.StatusBooked,
			BankRef: id + "-" + string(rune('a'+i)), Remittance: "line", Line: 2 + i, Raw: ":61:raw"})
	}
	return st
}

func testBankStatements(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	add := func(sum string, la string, sts ...*bank.Statement) bank.ImportStats {
		t.Helper()
		return must(st.ImportStatements(ctx, bank.ImportFile{File: sum + ".sta", SHA256: sum, Format: bank.MT940}, func(k bank.StatementSink) error {
			for _, s := range sts {
				if err := k.Add(s, la); err != nil {
					return err
				}
			}
			return nil
		})).ok(t)
	}
	s1 := bankStatement("S1", "1", 1, 10, 1000, 500, -200)
	s2 := bankStatement("S2", "2", 10, 20, 1300, 700)
	got := add("f1", "assets:bank:operating", s1, s2)
	if got.AlreadyLoaded || got.Statements != 2 || got.Added != 2 || got.Lines != 3 || got.ImportID == 0 {
		t.Fatalf("first import %+v", got)
	}
	if again := add("f1", "assets:bank:operating", s1, s2); !again.AlreadyLoaded || again.ImportID != got.ImportID {
		t.Errorf("the same file twice: %+v", again)
	}
	// Another file repeating S2 adds only S3; the account's mapping moves.
	s3 := bankStatement("S3", "3", 20, 25, 2000, 50)
	if st3 := add("f2", "assets:bank:main", s2, s3); st3.Added != 1 || st3.Skipped != 1 || st3.Lines != 1 {
		t.Errorf("overlapping file %+v", st3)
	}
	// A file whose reading fails stores nothing.
	boom := errors.New("boom")
	_, err := st.ImportStatements(ctx, bank.ImportFile{File: "bad.sta", SHA256: "f3", Format: bank.MT940}, func(k bank.StatementSink) error {
		if err := k.Add(bankStatement("S4", "4", 25, 28, 2050, 1), "assets:bank:main"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("failing import: %v", err)
	}
	accts := must(st.BankAccounts(ctx)).ok(t)
	if len(accts) != 1 {
		t.Fatalf("accounts %+v", accts)
	}
	a := accts[0]
	if a.LedgerAccount != "assets:bank:main" || a.Statements != 3 || !a.From.Equal(bankDay(1)) || !a.Through.Equal(bankDay(25)) || a.ClosingBalance != 2050 {
		t.Errorf("account %+v", a)
	}
	sts := must(st.Statements(ctx, "DE89370400440532013000")).ok(t)
	if len(sts) != 3 || sts[0].ID != "S1" || sts[2].ClosingBalance != 2050 || sts[0].File != "f1.sta" || len(sts[0].Lines) != 0 {
		t.Errorf("statements %+v", sts)
	}
	if other := must(st.Statements(ctx, "NL91")).ok(t); len(other) != 0 {
		t.Errorf("statements of another account: %+v", other)
	}
	var lines []bank.StoredLine
	err = st.EachLine(ctx, bank.LineFilter{Account: "DE89370400440532013000", From: bankDay(2), To: bankDay(20)}, func(l *bank.StoredLine) error {
		lines = append(lines, *l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Amount != -200 || lines[1].Amount != 700 || lines[0].LedgerAccount != "assets:bank:main" ||
		lines[0].Raw != "" || lines[0].BankRef != "S1-b" || !lines[1].Date().Equal(bankDay(10)) {
		t.Errorf("lines %+v", lines)
	}
	var one []bank.StoredLine
	err = st.EachLine(ctx, bank.LineFilter{ID: lines[1].ID, Raw: true}, func(l *bank.StoredLine) error {
		one = append(one, *l)
		return nil
	})
	if err != nil || len(one) != 1 || one[0].Raw != ":61:raw" || one[0].Line.Line != 2 {
		t.Errorf("line by id: %+v %v", one, err)
	}
}

// testBankEntries: the entries of a bank's ledger account read by account
// are every entry that posts to it or its subaccounts, whether written
// before a statement mapped it or after, one at a time or in a batch, and
// the same as every entry filtered by its postings.
func testBankEntries(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	l := books(t, st)
	at := bankDay(2)
	n := 0
	entry := func(account string) ledger.EntryInput {
		n++
		return ledger.EntryInput{Key: fmt.Sprintf("bank-%d", n), OccurredAt: at.Add(time.Duration(n) * time.Minute),
			Description: "to " + account, Postings: []ledger.PostingInput{
				{Account: account, Currency: "usd", Amount: decimal.New(int64(100+n), -2)},
				{Account: "equity:capital", Currency: "usd", Amount: decimal.New(-int64(100+n), -2)}}}
	}
	mixed := func(k int) []ledger.EntryInput {
		var out []ledger.EntryInput
		for i := range k {
			out = append(out, entry([]string{"assets:bank:operating", "assets:receivables", "assets:bank:reserve",
				"assets:bank:operating:fees", "income:sales"}[i%5]))
		}
		return out
	}
	first := must(l.PostEntry(ctx, entry("assets:bank:operating"))).ok(t)
	must(l.PostEntries(ctx, mixed(40))).ok(t)
	importAs := func(sum, account, ledgerAccount string) {
		t.Helper()
		s := bankStatement("S-"+sum, "1", 1, 10, 0, 500)
		s.Account = account
		must(st.ImportStatements(ctx, bank.ImportFile{File: sum + ".sta", SHA256: sum, Format: bank.MT940}, func(k bank.StatementSink) error {
			return k.Add(s, ledgerAccount)
		})).ok(t)
	}
	check := func(when string) {
		t.Helper()
		var all []*ledger.Entry
		if err := l.View(ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(ctx, ledger.EntryFilter{}, func(e *ledger.Entry) error { all = append(all, e); return nil })
		}); err != nil {
			t.Fatal(err)
		}
		for _, account := range []string{"assets:bank", "assets:bank:operating", "assets:bank:operating:fees", "assets:bank:reserve", "assets:bank:none"} {
			for _, f := range []ledger.EntryFilter{{Account: account}, {Account: account, From: at.Add(20 * time.Minute), To: at.Add(70 * time.Minute)},
				{Account: account, PostedOnly: true, After: ledger.CursorOf(all[len(all)/2])}} {
				var want, got []int64
				for _, e := range all {
					if slices.ContainsFunc(e.Postings, func(p ledger.Posting) bool {
						return p.Account == account || strings.HasPrefix(p.Account, account+":")
					}) && (f.From.IsZero() || !e.OccurredAt.Before(f.From)) && (f.To.IsZero() || e.OccurredAt.Before(f.To)) &&
						(f.After.ID == 0 || e.OccurredAt.After(f.After.OccurredAt) || e.OccurredAt.Equal(f.After.OccurredAt) && e.ID > f.After.ID) {
						want = append(want, e.ID)
					}
				}
				if err := l.View(ctx, func(tx ledger.ReadTx) error {
					return tx.EachEntry(ctx, f, func(e *ledger.Entry) error { got = append(got, e.ID); return nil })
				}); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: entries of %+v: %v, want %v", when, f, got, want)
				}
			}
		}
	}
	check("before any mapping")
	importAs("b1", "DE89370400440532013000", "assets:bank:operating")
	check("after mapping assets:bank:operating")
	// Written after the mapping: one entry, a reversal (one statement), a
	// batch, and a subaccount new to the books.
	must(l.PostEntry(ctx, entry("assets:bank:operating"))).ok(t)
	must(l.Reverse(ctx, "bank-reverse", first.ID, at.Add(time.Hour), "reversed")).ok(t)
	must(l.PostEntries(ctx, append(mixed(30), entry("assets:bank:operating:new")))).ok(t)
	check("after writes")
	importAs("b2", "NL91ABNA0417164300", "assets:bank:reserve")
	must(l.PostEntries(ctx, mixed(4))).ok(t)
	check("after mapping assets:bank:reserve")
	// The first bank account moves to a ledger account that already has
	// entries, one as a subaccount of a mapped account and one not: both
	// read whole.
	must(l.PostEntries(ctx, []ledger.EntryInput{entry("assets:bank:moved"), entry("assets:bank:moved"), entry("assets:bank:moved:sub")})).ok(t)
	importAs("b3", "DE89370400440532013000", "assets:bank:moved")
	must(l.PostEntry(ctx, entry("assets:bank:moved:sub"))).ok(t)
	for _, account := range []string{"assets:bank:moved", "assets:bank:moved:sub"} {
		var got int
		if err := l.View(ctx, func(tx ledger.ReadTx) error {
			return tx.EachEntry(ctx, ledger.EntryFilter{Account: account}, func(*ledger.Entry) error { got++; return nil })
		}); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"assets:bank:moved": 4, "assets:bank:moved:sub": 2}[account]; got != want {
			t.Errorf("after the move: %d entries of %s, want %d", got, account, want)
		}
	}
	check("after the move")
	verify(t, l) // bank_entry_marked among the rest
}
