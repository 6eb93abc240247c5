package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/settlehq/settle/bank"
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
