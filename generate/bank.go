package generate

// Bank statements for tests: one account's statement over a span of days,
// written as BAI2, ISO 20022 camt.053 (.001.08) or SWIFT MT940, so that a
// simulated history's payouts can be shown arriving in a bank. The writers
// follow the layouts package bank reads; they make well-formed files, with
// the control totals and balances a bank would give.

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// Statement is one bank account's statement over [From, Through] (dates).
type Statement struct {
	Account  string // an IBAN or account number
	Currency string // ISO 4217, any case
	ID       string // the statement's (or BAI2 file's) reference
	Opening  int64  // the opening balance, minor units
	From     time.Time
	Through  time.Time
	Lines    []StatementLine
}

// StatementLine is one booked line: positive amounts are credits.
type StatementLine struct {
	Date        time.Time
	Amount      int64
	BankRef     string
	CustomerRef string
	Text        string
}

// Closing is the statement's closing balance.
func (s *Statement) Closing() int64 {
	b := s.Opening
	for _, l := range s.Lines {
		b += l.Amount
	}
	return b
}

func (s *Statement) sorted() []StatementLine {
	ls := slices.Clone(s.Lines)
	slices.SortStableFunc(ls, func(a, b StatementLine) int { return a.Date.Compare(b.Date) })
	return ls
}

func (s *Statement) digits() (int, error) {
	c, err := ledger.LookupCurrency(s.Currency)
	return c.Digits, err
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// WriteBAI2 writes the statement as a BAI2 file: one group per day that
// has lines (and for the first and last days), each with the account's
// opening (010) and closing (015) ledger balances, and the control totals
// of every trailer.
func WriteBAI2(w io.Writer, s *Statement) error {
	bw := bufio.NewWriter(w)
	lines := s.sorted()
	days := map[time.Time][]StatementLine{}
	order := []time.Time{day0(s.From), day0(s.Through)}
	for _, l := range lines {
		d := day0(l.Date)
		if _, ok := days[d]; !ok {
			order = append(order, d)
		}
		days[d] = append(days[d], l)
	}
	slices.SortFunc(order, func(a, b time.Time) int { return a.Compare(b) })
	order = slices.Compact(order)
	cur := strings.ToUpper(s.Currency)
	fmt.Fprintf(bw, "01,SETTLEBANK,SETTLECO,%s,0600,%s,,,2/\n", s.Through.Format("060102"), s.ID)
	var fileTotal int64
	fileRecords := 1
	balance := s.Opening
	for _, d := range order {
		var acctTotal int64
		open := balance
		for _, l := range days[d] {
			balance += l.Amount
			acctTotal += abs(l.Amount)
		}
		acctTotal += open + balance
		fmt.Fprintf(bw, "02,SETTLECO,SETTLEBANK,1,%s,,%s,2/\n", d.Format("060102"), cur)
		fmt.Fprintf(bw, "03,%s,%s,010,%d,,,015,%d,,/\n", s.Account, cur, open, balance)
		for _, l := range days[d] {
			code := 165
			if l.Amount < 0 {
				code = 495
			}
			fmt.Fprintf(bw, "16,%d,%d,0,%s,%s,%s/\n", code, abs(l.Amount), l.BankRef, l.CustomerRef, l.Text)
		}
		records := 2 + len(days[d]) // 03, 16s, 49
		fmt.Fprintf(bw, "49,%d,%d/\n", acctTotal, records)
		fmt.Fprintf(bw, "98,%d,1,%d/\n", acctTotal, records+2)
		fileTotal += acctTotal
		fileRecords += records + 2
	}
	fmt.Fprintf(bw, "99,%d,%d,%d/\n", fileTotal, len(order), fileRecords+1)
	return bw.Flush()
}

func day0(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// WriteCamt053 writes the statement as one ISO 20022 camt.053.001.08 Stmt
// with its OPBD and CLBD balances.
func WriteCamt053(w io.Writer, s *Statement) error {
	digits, err := s.digits()
	if err != nil {
		return err
	}
	cur := strings.ToUpper(s.Currency)
	amt := func(v int64) string { return ledger.FormatMinor(abs(v), digits) }
	ind := func(v int64) string {
		if v < 0 {
			return "DBIT"
		}
		return "CRDT"
	}
	esc := func(v string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(v))
		return b.String()
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>%s</MsgId><CreDtTm>%s</CreDtTm></GrpHdr>
<Stmt><Id>%s</Id><ElctrncSeqNb>1</ElctrncSeqNb>
<Acct><Id><IBAN>%s</IBAN></Id><Ccy>%s</Ccy></Acct>
`, esc(s.ID), s.Through.Format("2006-01-02")+"T23:59:59Z", esc(s.ID), esc(s.Account), cur)
	bal := func(code string, v int64, d time.Time) {
		fmt.Fprintf(bw, "<Bal><Tp><CdOrPrtry><Cd>%s</Cd></CdOrPrtry></Tp><Amt Ccy=%q>%s</Amt><CdtDbtInd>%s</CdtDbtInd><Dt><Dt>%s</Dt></Dt></Bal>\n",
			code, cur, amt(v), ind(v), d.Format("2006-01-02"))
	}
	bal("OPBD", s.Opening, s.From)
	bal("CLBD", s.Closing(), s.Through)
	for _, l := range s.sorted() {
		d := l.Date.Format("2006-01-02")
		fmt.Fprintf(bw, "<Ntry><Amt Ccy=%q>%s</Amt><CdtDbtInd>%s</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>%s</Dt></BookgDt><ValDt><Dt>%s</Dt></ValDt>",
			cur, amt(l.Amount), ind(l.Amount), d, d)
		if l.BankRef != "" {
			fmt.Fprintf(bw, "<AcctSvcrRef>%s</AcctSvcrRef>", esc(l.BankRef))
		}
		fmt.Fprintf(bw, "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>")
		fmt.Fprintf(bw, "<NtryDtls><TxDtls><Refs><EndToEndId>%s</EndToEndId></Refs>", esc(cmp.Or(l.CustomerRef, "NOTPROVIDED")))
		if l.Text != "" {
			fmt.Fprintf(bw, "<RmtInf><Ustrd>%s</Ustrd></RmtInf>", esc(l.Text))
		}
		fmt.Fprintf(bw, "</TxDtls></NtryDtls></Ntry>\n")
	}
	fmt.Fprintf(bw, "</Stmt>\n</BkToCstmrStmt></Document>\n")
	return bw.Flush()
}

// WriteMT940 writes the statement as one MT940 message, ended by "-".
func WriteMT940(w io.Writer, s *Statement) error {
	digits, err := s.digits()
	if err != nil {
		return err
	}
	cur := strings.ToUpper(s.Currency)
	amt := func(v int64) string {
		a := ledger.FormatMinor(abs(v), digits)
		if !strings.Contains(a, ".") {
			a += "."
		}
		return strings.Replace(a, ".", ",", 1)
	}
	mark := func(v int64) string {
		if v < 0 {
			return "D"
		}
		return "C"
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, ":20:%s\n:25:%s\n:28C:00001/001\n", s.ID, s.Account)
	fmt.Fprintf(bw, ":60F:%s%s%s%s\n", mark(s.Opening), s.From.Format("060102"), cur, amt(s.Opening))
	for _, l := range s.sorted() {
		ref := cmp.Or(l.CustomerRef, "NONREF")
		fmt.Fprintf(bw, ":61:%s%s%s%sNTRF%s", l.Date.Format("060102"), l.Date.Format("0102"), mark(l.Amount), amt(l.Amount), ref)
		if l.BankRef != "" {
			fmt.Fprintf(bw, "//%s", l.BankRef)
		}
		bw.WriteString("\n")
		if l.Text != "" {
			fmt.Fprintf(bw, ":86:%s\n", l.Text)
		}
	}
	fmt.Fprintf(bw, ":62F:%s%s%s%s\n-\n", mark(s.Closing()), s.Through.Format("060102"), cur, amt(s.Closing()))
	return bw.Flush()
}

// StatementWriters names the writers by the format names package bank uses.
var StatementWriters = map[string]func(io.Writer, *Statement) error{
	"bai2": WriteBAI2, "camt.053": WriteCamt053, "mt940": WriteMT940,
}

// StatementExt is the usual file extension of each format.
var StatementExt = map[string]string{"bai2": ".bai", "camt.053": ".xml", "mt940": ".sta"}
