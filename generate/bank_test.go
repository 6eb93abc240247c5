package generate

import (
	"bytes"
	"testing"
	"time"

	"github.com/settlehq/settle/bank"
)

// Every writer makes a statement that package bank reads back as written:
// balanced, with each line's amount, date and references.
func TestStatementWriters(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC) }
	for _, cur := range []string{"usd", "jpy"} {
		st := &Statement{Account: "DE89370400440532013000", Currency: cur, ID: "STMT1", Opening: -5000, From: d(1), Through: d(30),
			Lines: []StatementLine{
				{Date: d(5), Amount: 150000, BankRef: "BR1", CustomerRef: "po_1", Text: "STRIPE PAYOUT po_1"},
				{Date: d(2), Amount: -2500, BankRef: "FEE1", Text: "MONTHLY FEE"},
				{Date: d(5), Amount: 99, Text: "INTEREST"},
			}}
		for format, write := range StatementWriters {
			t.Run(cur+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := write(&buf, st); err != nil {
					t.Fatal(err)
				}
				got, err := bank.ReadAll(bytes.NewReader(buf.Bytes()), &bank.Options{File: "s" + StatementExt[format]})
				if err != nil {
					t.Fatalf("%v\n%s", err, buf.String())
				}
				if string(got[0].Format) != format {
					t.Errorf("read as %s", got[0].Format)
				}
				var lines []bank.Line
				for _, s := range got {
					lines = append(lines, s.Lines...)
				}
				if len(lines) != 3 {
					t.Fatalf("%d lines, want 3\n%s", len(lines), buf.String())
				}
				first, last := got[0], got[len(got)-1]
				if first.OpeningBalance != st.Opening || last.ClosingBalance != st.Closing() {
					t.Errorf("balances %d → %d, want %d → %d", first.OpeningBalance, last.ClosingBalance, st.Opening, st.Closing())
				}
				if !last.ClosingDate.Equal(d(30)) {
					t.Errorf("closing date %s", last.ClosingDate)
				}
				l := lines[1]
				if l.Amount != 150000 || !l.Date().Equal(d(5)) || l.CustomerRef != "po_1" || l.BankRef != "BR1" || l.Remittance != "STRIPE PAYOUT po_1" {
					t.Errorf("payout line %+v", l)
				}
				if lines[0].Amount != -2500 {
					t.Errorf("fee line %+v", lines[0])
				}
			})
		}
	}
}
