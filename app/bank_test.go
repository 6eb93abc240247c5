package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/booking"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/schedule"
	"github.com/settlehq/settle/store/sqlite"
)

// bankMonth is a generated month of payments whose USD payouts arrive in a
// bank account, except that one never arrives, one arrives short by a bank
// fee, and the bank also shows a deposit that is no payout.
type bankMonth struct {
	st        *sqlite.Store
	books     *ledger.Ledger
	statement *generate.Statement
	included  []*ledger.Payout // the payouts the bank shows, short one included
	missing   *ledger.Payout
	short     *ledger.Payout
	fee       int64
	unrelated generate.StatementLine
}

const operating = "assets:bank:operating"

var bankNow = time.Date(2026, 2, 10, 6, 0, 0, 0, time.UTC)

func newBankMonth(t *testing.T) *bankMonth {
	t.Helper()
	ctx := context.Background()
	st := newStore(t)
	l := ledger.New(st, &ledger.Options{Now: func() time.Time { return bankNow }})
	gopts := generate.Options{Payments: 600, PerDay: 30, TailDays: 12}
	var feedBuf bytes.Buffer
	if _, err := generate.Generate(gopts, generate.Output{Feed: &feedBuf}); err != nil {
		t.Fatal(err)
	}
	// The ledger is not told which payouts were paid: the bank tells it.
	var kept []string
	for _, line := range strings.SplitAfter(feedBuf.String(), "\n") {
		if !strings.Contains(line, `"type":"payout.paid"`) {
			kept = append(kept, line)
		}
	}
	record(t, l, "events.jsonl", []byte(strings.Join(kept, "")))
	if _, err := l.MakeAvailable(ctx, gopts.End()); err != nil {
		t.Fatal(err)
	}
	must(l.PostEntry(ctx, ledger.EntryInput{Key: "opening-balance", OccurredAt: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
		Description: "Opening balance", Postings: []ledger.PostingInput{
			ledger.Debit(operating, "usd", "1000.00"), ledger.Credit("equity:opening_balances", "usd", "1000.00")}})).ok(t)

	var payouts []*ledger.Payout
	err := l.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachPayout(ctx, "stripe", func(p *ledger.Payout) error {
			if p.Currency == "usd" && p.Status == ledger.PayoutInTransit {
				cp := *p
				payouts = append(payouts, &cp)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(payouts, func(a, b *ledger.Payout) int { return a.ArrivalDate.Compare(b.ArrivalDate) })
	from, through := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 28, 0, 0, 0, 0, time.UTC)
	m := &bankMonth{st: st, books: l, missing: payouts[4], short: payouts[7], fee: 250,
		unrelated: generate.StatementLine{Date: time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC), Amount: 123456,
			BankRef: "WIRE77", Text: "WIRE IN ACME CORP INVOICE 2026-042"}}
	m.statement = &generate.Statement{Account: "DE89370400440532013000", Currency: "usd", ID: "STMT-2026-01", Opening: 100000,
		From: from, Through: through, Lines: []generate.StatementLine{m.unrelated}}
	cal := reconcile.Calendar{}
	for i := 0; i < len(payouts); i++ {
		p := payouts[i]
		on := cal.Next(p.ArrivalDate)
		if on.After(through) {
			break
		}
		if p == m.missing {
			continue
		}
		line := generate.StatementLine{Date: on, Amount: p.Amount, BankRef: fmt.Sprintf("BR%03d", i), CustomerRef: p.ProviderRef,
			Text: "STRIPE PAYOUT " + p.ProviderRef}
		switch {
		case p == m.short:
			line.Amount -= m.fee
		case i == 10: // two payouts in one deposit, both named
			q := payouts[i+1]
			line.Date, line.Amount, line.CustomerRef = cal.Next(q.ArrivalDate), p.Amount+q.Amount, ""
			line.Text = "STRIPE PAYOUTS " + p.ProviderRef + " " + q.ProviderRef
			m.included = append(m.included, q)
			i++
		case i == 14: // one payout in two deposits, neither named
			part := p.Amount * 6 / 10
			m.statement.Lines = append(m.statement.Lines, generate.StatementLine{Date: on, Amount: part, BankRef: "BR014A", Text: "STRIPE TRANSFER"})
			line.Amount, line.CustomerRef, line.Text, line.BankRef = p.Amount-part, "", "STRIPE TRANSFER", "BR014B"
		case i%4 == 3: // no reference: found by amount and date
			line.CustomerRef, line.Text = "", "STRIPE TRANSFER"
		}
		m.statement.Lines = append(m.statement.Lines, line)
		m.included = append(m.included, p)
	}
	if len(m.included) < 15 {
		t.Fatalf("only %d payouts in the statement", len(m.included))
	}
	return m
}

// checked holds a call's results until ok checks them.
type checked[T any] struct {
	v   T
	err error
}

// must captures a call's results: must(f()).ok(t) fails the test on error.
func must[T any](v T, err error) checked[T] { return checked[T]{v, err} }

func (c checked[T]) ok(t *testing.T) T {
	t.Helper()
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.v
}

// write writes the month's statement in a format and returns the file.
func (m *bankMonth) write(t *testing.T, format string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := generate.StatementWriters[format](&buf, m.statement); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "statement"+generate.StatementExt[format])
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (m *bankMonth) reconcile(t *testing.T) *BankReport {
	t.Helper()
	return must(ReconcileBank(context.Background(), m.st, m.books, &BankOptions{Now: func() time.Time { return bankNow }})).ok(t)
}

func openBank(t *testing.T, st *sqlite.Store) map[reconcile.OutcomeKind][]reconcile.Exception {
	t.Helper()
	list := must(st.Exceptions(context.Background(), reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen, Provider: reconcile.BankProvider})).ok(t)
	out := map[reconcile.OutcomeKind][]reconcile.Exception{}
	for _, e := range list {
		out[e.Kind] = append(out[e.Kind], e)
	}
	return out
}

// The end-to-end story of issue 16, in each statement format: a month of
// payouts against the bank; exactly the three differences are found; the
// fee booked clears its exception; the deposit booked clears its; and the
// ledger's bank account then holds the statement's closing balance.
func TestBankReconciliationEndToEnd(t *testing.T) {
	for _, format := range []string{"bai2", "camt.053", "mt940"} {
		t.Run(format, func(t *testing.T) {
			ctx := context.Background()
			m := newBankMonth(t)
			path := m.write(t, format)
			stats := must(ImportStatementFile(ctx, m.st, path, StatementOptions{Accounts: map[string]string{"": operating}})).ok(t)
			if stats.AlreadyLoaded || stats.Added == 0 || stats.Lines != len(m.statement.Lines) {
				t.Fatalf("import: %+v, want %d lines", stats, len(m.statement.Lines))
			}
			again := must(ImportStatementFile(ctx, m.st, path, StatementOptions{})).ok(t)
			if !again.AlreadyLoaded {
				t.Errorf("the same file twice: %+v", again)
			}

			rep := m.reconcile(t)
			s := rep.Result.Summary
			open := openBank(t, m.st)
			if n := len(open[reconcile.PayoutNotInBank]) + len(open[reconcile.AmountDiffers]) + len(open[reconcile.DepositUnexplained]); n != 3 ||
				len(open) != 3 {
				t.Fatalf("open exceptions %v, want one of each; summary %+v", open, s)
			}
			if e := open[reconcile.PayoutNotInBank][0]; e.LedgerID != m.missing.ID {
				t.Errorf("not in bank: %s, want %s", e.LedgerID, m.missing.ID)
			}
			diff := open[reconcile.AmountDiffers][0]
			if diff.LedgerID != m.short.ID || diff.Heuristic {
				t.Errorf("amount differs: %+v, want %s by reference", diff, m.short.ID)
			}
			if e := open[reconcile.DepositUnexplained][0]; e.Amount != m.unrelated.Amount {
				t.Errorf("unexplained deposit %d, want %d", e.Amount, m.unrelated.Amount)
			}
			if s.PayoutsMatched != len(m.included)-1 || s.AmountDiffers != 1 || s.PayoutsNotInBank != 1 || s.DepositsUnexplained != 1 {
				t.Errorf("summary %+v, %d payouts in the bank", s, len(m.included))
			}
			if s.Heuristic < 3 {
				t.Errorf("heuristic pairings %d: the unnamed deposits and the split payout are found by amount", s.Heuristic)
			}
			vias := map[string]int{}
			for _, bm := range rep.Result.Matches {
				vias[fmt.Sprintf("%s:%d:%d", bm.Via, len(bm.Payouts), len(bm.Deposits))]++
			}
			if vias["sum:1:2"] != 1 || vias["reference:2:1"] != 1 || vias["amount:1:1"] == 0 || vias["reference:1:1"] == 0 {
				t.Errorf("pairings %v: want the split payout by sum, the shared deposit by reference, and the others by reference or amount", vias)
			}
			if len(rep.Paid) != len(m.included) {
				t.Errorf("%d payouts booked paid, want %d", len(rep.Paid), len(m.included))
			}
			bal := rep.Balances[0]
			if bal.Statement != m.statement.Closing() || bal.Difference() != m.unrelated.Amount-m.fee || bal.Unexplained != m.unrelated.Amount {
				t.Errorf("balances: %s", bal)
			}

			// Booking the fee clears it on the next run.
			res := must(Resolve(ctx, m.st, m.books, ResolveRequest{ExceptionID: diff.ID, Book: true, Now: func() time.Time { return bankNow }})).ok(t)
			if res.Entry == nil || res.Entry.Source.Type != booking.BankFeeSource {
				t.Fatalf("fix %+v", res.Entry)
			}
			for _, p := range res.Entry.Postings {
				if p.Account == booking.BankFeeAccount && p.Amount != m.fee || p.Account == operating && p.Amount != -m.fee {
					t.Errorf("fix posting %+v, want the fee %d", p, m.fee)
				}
			}
			rep = m.reconcile(t)
			if open := openBank(t, m.st); len(open) != 2 || open[reconcile.AmountDiffers] != nil {
				t.Errorf("after booking the fee: open %v", open)
			}
			if rep.Result.Summary.PayoutsMatched != len(m.included) || rep.Run.Opened != 0 || len(rep.Paid) != 0 {
				t.Errorf("after booking the fee: %+v, run %+v, paid %v", rep.Result.Summary, rep.Run, rep.Paid)
			}

			// The unrelated deposit, once in the ledger, is explained, and
			// the ledger's bank balance is the statement's.
			must(m.books.PostEntry(ctx, ledger.EntryInput{Key: "acme-wire", OccurredAt: m.unrelated.Date,
				Description: "ACME Corp paid invoice 2026-042", Postings: []ledger.PostingInput{
					ledger.Debit(operating, "usd", "1234.56"), ledger.Credit("income:sales", "usd", "1234.56")}})).ok(t)
			rep = m.reconcile(t)
			open = openBank(t, m.st)
			if len(open) != 1 || len(open[reconcile.PayoutNotInBank]) != 1 {
				t.Errorf("after booking the deposit: open %v", open)
			}
			if rep.Run.Closed != 1 || rep.Result.Summary.ExplainedByLedger != 1 {
				t.Errorf("run %+v, summary %+v", rep.Run, rep.Result.Summary)
			}
			if b := rep.Balances[0]; b.Difference() != 0 || b.Ledger != m.statement.Closing() {
				t.Errorf("balances: %s", b)
			}
			// And again: the same figures, nothing opened or closed.
			rep = m.reconcile(t)
			if rep.Run.Opened != 0 || rep.Run.Closed != 0 || len(openBank(t, m.st)) != 1 {
				t.Errorf("rerun: %+v", rep.Run)
			}
			if vs := must(m.books.Verify(ctx)).ok(t); len(vs) > 0 {
				t.Errorf("invariants: %v", vs)
			}
		})
	}
}

// A malformed statement is refused with the line at fault, and nothing
// from it is stored.
func TestImportStatementMalformed(t *testing.T) {
	m := newBankMonth(t)
	for _, c := range []struct {
		format string
		find   string // the first line holding this is broken
		break_ func(string) string
	}{
		{"bai2", "16,165,", func(s string) string { return strings.Replace(s, "16,165,", "16,165,12X", 1) }},
		{"camt.053", "<Ntry>", func(s string) string { return strings.Replace(s, "<CdtDbtInd>CRDT", "<CdtDbtInd>CRDX", 1) }},
		{"mt940", ":61:", func(s string) string { return strings.Replace(s, "NTRF", "XXXX", 1) }},
	} {
		t.Run(c.format, func(t *testing.T) {
			ctx := context.Background()
			path := m.write(t, c.format)
			b, _ := os.ReadFile(path)
			lines := strings.Split(string(b), "\n")
			at := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, c.find) })
			lines[at] = c.break_(lines[at])
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ImportStatementFile(ctx, m.st, path, StatementOptions{Accounts: map[string]string{"": operating}})
			var pe *bank.ParseError
			if !errors.As(err, &pe) || pe.Line != at+1 || pe.File != path {
				t.Fatalf("error %v, want one at %s:%d", err, path, at+1)
			}
			if accts := must(m.st.BankAccounts(ctx)).ok(t); len(accts) != 0 {
				t.Errorf("stored %+v", accts)
			}
			if sts := must(m.st.Statements(ctx, "")).ok(t); len(sts) != 0 {
				t.Errorf("stored %d statements", len(sts))
			}
		})
	}
}

// A bank account with no ledger account is refused, not guessed; once
// mapped, the mapping holds for the account's later statements.
func TestImportStatementMapping(t *testing.T) {
	ctx := context.Background()
	m := newBankMonth(t)
	path := m.write(t, "mt940")
	_, err := ImportStatementFile(ctx, m.st, path, StatementOptions{})
	if !errors.Is(err, bank.ErrUnmappedAccount) {
		t.Fatalf("unmapped: %v", err)
	}
	if _, err := ImportStatementFile(ctx, m.st, path, StatementOptions{Accounts: map[string]string{"de89 3704 0044 0532 0130 00": "income:x"}}); !errors.Is(err, ledger.ErrInvalidRequest) {
		t.Errorf("a mapping to a non-asset account: %v", err)
	}
	must(ImportStatementFile(ctx, m.st, path, StatementOptions{Provider: "stripe"})).ok(t)
	accts := must(m.st.BankAccounts(ctx)).ok(t)
	if len(accts) != 1 || accts[0].LedgerAccount != "assets:bank:stripe" || accts[0].ClosingBalance != m.statement.Closing() {
		t.Fatalf("accounts %+v", accts)
	}
	// A later statement of the account (camt.053 this time) keeps it.
	m.statement.ID = "STMT-2026-01-B"
	m.statement.From, m.statement.Through = m.statement.Through, m.statement.Through.AddDate(0, 0, 1)
	m.statement.Opening, m.statement.Lines = m.statement.Closing(), nil
	must(ImportStatementFile(ctx, m.st, m.write(t, "camt.053"), StatementOptions{})).ok(t)
	accts = must(m.st.BankAccounts(ctx)).ok(t)
	if len(accts) != 1 || accts[0].LedgerAccount != "assets:bank:stripe" || accts[0].Statements != 2 {
		t.Fatalf("accounts %+v", accts)
	}
}

// The nightly job imports a statement dropped in the inbox (its account
// mapped by an earlier import), reconciles the bank with the providers,
// and writes the bank reconciliation report.
func TestNightlyReconcilesTheBank(t *testing.T) {
	ctx := context.Background()
	m := newBankMonth(t)
	// The mapping, stored by importing the account's first statement.
	first := *m.statement
	first.ID, first.Through, first.Lines = "STMT-OPENING", first.From, nil
	var buf bytes.Buffer
	if err := generate.WriteMT940(&buf, &first); err != nil {
		t.Fatal(err)
	}
	must(ImportStatement(ctx, m.st, "opening.sta", bytes.NewReader(buf.Bytes()), StatementOptions{Accounts: map[string]string{"": operating}})).ok(t)

	inbox, outbox := t.TempDir(), t.TempDir()
	b, err := os.ReadFile(m.write(t, "camt.053"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inbox, "statement.xml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	var runs []*reconcile.Run
	job := &Nightly{Store: m.st, Books: m.books, Inbox: inbox, Outbox: outbox, Now: func() time.Time { return bankNow },
		Runs: func(rs []*reconcile.Run) { runs = rs }}
	if err := job.Run(ctx, schedule.Window{From: bankNow.Add(-24 * time.Hour), To: bankNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(inbox, "processed", "statement.xml")); err != nil {
		t.Errorf("the statement was not processed: %v", err)
	}
	if len(runs) != 1 || runs[0].Provider != reconcile.BankProvider || runs[0].Opened != 3 {
		t.Fatalf("runs %+v", runs)
	}
	reports, _ := filepath.Glob(filepath.Join(outbox, "*", "bank-reconciliation.csv"))
	if len(reports) != 1 {
		t.Fatalf("reports %v", reports)
	}
	csv, _ := os.ReadFile(reports[0])
	if !strings.Contains(string(csv), "payout_not_in_bank") || !strings.Contains(string(csv), "balance,") {
		t.Errorf("report:\n%s", csv)
	}
}
