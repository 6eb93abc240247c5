package bank

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// A small BAI2 file whose control totals hold: the account's total is
// 1000 + 1500 + 500 (its 03 and 16 amounts).
const goodBAI2 = `01,BANK,SETTLE,240305,0800,F1,,,2/
02,SETTLE,BANK,1,240304,,USD,/
03,111,USD,010,1000,,,015,1500,,/
16,165,500,,R1,,PAYOUT po_1/
49,3000,3/
98,3000,1,5/
99,3000,1,7/
`

const goodMT940 = `:20:S1
:25:NL91ABNA0417164300
:28C:1/1
:60F:C240301EUR100,00
:61:240304C12,30NTRFpo_1//B1
:86:PAYOUT
:62F:C240304EUR112,30
-
`

// camtDoc wraps statement elements in a camt.053 document of a version.
func camtDoc(version, stmt string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.` + version + `">
<BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId></GrpHdr>
` + stmt + `</BkToCstmrStmt>
</Document>
`
}

const goodStmt = `<Stmt>
<Id>S1</Id>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-04</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">112.30</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-04</Dt></Dt></Bal>
<Ntry>
<Amt Ccy="EUR">12.30</Amt>
<CdtDbtInd>CRDT</CdtDbtInd>
<Sts>BOOK</Sts>
<BookgDt><Dt>2024-03-04</Dt></BookgDt>
</Ntry>
</Stmt>
`

var goodCamt = camtDoc("02", goodStmt)

// edit replaces old, which must be in s, by new.
func edit(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q is not in the input", old)
	}
	return strings.Replace(s, old, new, 1)
}

// lineOf is the 1-based line of the first line holding sub ("" is the
// last line).
func lineOf(t *testing.T, s, sub string) int {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if sub == "" {
		return len(lines)
	}
	for i, l := range lines {
		if strings.Contains(l, sub) {
			return i + 1
		}
	}
	t.Fatalf("%q is on no line", sub)
	return 0
}

func TestGoodInputs(t *testing.T) {
	for name, in := range map[string]string{"s.bai": goodBAI2, "s.sta": goodMT940, "s.xml": goodCamt, "s08.xml": camtDoc("08", goodStmt)} {
		sts, err := ReadAll(strings.NewReader(in), &Options{File: name})
		if err != nil || len(sts) != 1 || len(sts[0].Lines) != 1 {
			t.Errorf("%s: %d statements, %v", name, len(sts), err)
		}
	}
}

func TestMalformed(t *testing.T) {
	type want struct {
		at      string // text on the line the problem is reported at; "" is the last line
		element string
		is      error
	}
	cases := []struct {
		name  string
		file  string
		input func(t *testing.T) string
		want  []want
	}{
		// BAI2
		{"bai2 out of balance", "s.bai", func(t *testing.T) string {
			s := edit(t, goodBAI2, "015,1500", "015,1400")
			s = edit(t, s, "49,3000", "49,2900")
			s = edit(t, s, "98,3000", "98,2900")
			return edit(t, s, "99,3000", "99,2900")
		}, []want{{"49,", "", ErrOutOfBalance}}},
		{"bai2 bad amount", "s.bai", func(t *testing.T) string { return edit(t, goodBAI2, "165,500", "165,5x0") },
			[]want{{"16,", "16 amount", ledger.ErrInvalidAmount}}},
		{"bai2 signed detail amount", "s.bai", func(t *testing.T) string { return edit(t, goodBAI2, "165,500", "165,-500") },
			[]want{{"16,", "16 amount", ledger.ErrInvalidAmount}}},
		{"bai2 bad date", "s.bai", func(t *testing.T) string { return edit(t, goodBAI2, "240304", "240230") },
			[]want{{"02,", "02 as-of date", ErrBadDate}}},
		{"bai2 truncated", "s.bai", func(t *testing.T) string { return goodBAI2[:strings.Index(goodBAI2, "49,")] },
			[]want{{"", "", ErrMalformed}}},
		{"bai2 no file trailer", "s.bai", func(t *testing.T) string { return goodBAI2[:strings.Index(goodBAI2, "99,")] },
			[]want{{"", "", ErrMalformed}}},
		{"bai2 wrong account total", "s.bai", func(t *testing.T) string { return edit(t, goodBAI2, "49,3000", "49,3001") },
			[]want{{"49,", "49 account control total", ErrControlTotal}}},
		{"bai2 wrong record count", "s.bai", func(t *testing.T) string { return edit(t, goodBAI2, "99,3000,1,7", "99,3000,1,8") },
			[]want{{"99,", "99 number of records", ErrControlTotal}}},
		{"bai2 continuation first", "s.bai", func(t *testing.T) string { return "88,X/\n" + goodBAI2 },
			[]want{{"88,", "88", ErrMalformed}}},
		{"bai2 detail outside account", "s.bai", func(t *testing.T) string {
			return edit(t, goodBAI2, "03,111,USD,010,1000,,,015,1500,,/\n", "")
		}, []want{{"16,", "16", ErrMalformed}, {"49,", "49", ErrMalformed}}},
		{"bai2 credit code with unknown sign", "s.bai", func(t *testing.T) string { return edit(t, goodBAI2, "16,165,500", "16,890,500") },
			[]want{{"16,", "16 amount", ErrBadValue}}},
		{"bai2 no closing balance", "s.bai", func(t *testing.T) string {
			s := edit(t, goodBAI2, ",015,1500,,", "")
			s = edit(t, s, "49,3000", "49,1500")
			s = edit(t, s, "98,3000", "98,1500")
			return edit(t, s, "99,3000", "99,1500")
		}, []want{{"03,", "03", ErrMissingField}}},
		{"bai2 bad funds type", "s.bai", func(t *testing.T) string { return edit(t, goodBAI2, "500,,R1", "500,Q,R1") },
			[]want{{"16,", "16 funds type", ErrBadValue}}},
		{"bai2 unknown currency", "s.bai", func(t *testing.T) string { return edit(t, goodBAI2, "111,USD", "111,XYZ") },
			[]want{{"03,", "03 currency", ledger.ErrUnknownCurrency}}},
		{"bai2 every bad account listed", "s.bai", func(t *testing.T) string {
			acct := "03,222,USD,010,1000,,,015,1500,,/\n16,165,5y0,,R2,,/\n49,3000,3/\n"
			s := edit(t, goodBAI2, "165,500", "165,5x0")
			s = edit(t, s, "98,3000,1,5", "98,6000,2,8")
			s = edit(t, s, "99,3000,1,7", "99,6000,1,10")
			return edit(t, s, "98,", acct+"98,")
		}, []want{{"5x0", "16 amount", ledger.ErrInvalidAmount}, {"5y0", "16 amount", ledger.ErrInvalidAmount}}},
		{"bai2 empty", "s.bai", func(t *testing.T) string { return "" }, []want{{"", "", ErrMalformed}}},

		// camt.053
		{"camt out of balance", "s.xml", func(t *testing.T) string { return edit(t, goodCamt, "112.30", "112.31") },
			[]want{{"CLBD", "", ErrOutOfBalance}}},
		{"camt bad amount", "s.xml", func(t *testing.T) string { return edit(t, goodCamt, ">12.30<", ">12.3x<") },
			[]want{{">12.3x<", "Stmt/Ntry/Amt", ledger.ErrInvalidAmount}}},
		{"camt too many decimals", "s.xml", func(t *testing.T) string { return edit(t, goodCamt, ">12.30<", ">12.305<") },
			[]want{{">12.305<", "Stmt/Ntry/Amt", ledger.ErrInvalidAmount}}},
		{"camt bad date", "s.xml", func(t *testing.T) string {
			return edit(t, goodCamt, "<BookgDt><Dt>2024-03-04", "<BookgDt><Dt>2024-02-30")
		}, []want{{"2024-02-30", "Stmt/Ntry/BookgDt/Dt", ErrBadDate}}},
		{"camt truncated", "s.xml", func(t *testing.T) string { return strings.TrimSpace(goodCamt[:strings.Index(goodCamt, "<Sts>")]) },
			[]want{{"", "Stmt/Ntry", ErrMalformed}}},
		{"camt version 09", "s.xml", func(t *testing.T) string { return camtDoc("09", goodStmt) },
			[]want{{"<Document", "Document", ErrUnknownFormat}}},
		{"camt entry in another currency", "s.xml", func(t *testing.T) string {
			return edit(t, goodCamt, `<Amt Ccy="EUR">12.30`, `<Amt Ccy="USD">12.30`)
		}, []want{{`"USD"`, "Stmt/Ntry/Amt", ledger.ErrCurrencyMismatch}}},
		{"camt bad credit debit mark", "s.xml", func(t *testing.T) string {
			return edit(t, goodCamt, "<CdtDbtInd>CRDT</CdtDbtInd>\n<Sts>", "<CdtDbtInd>CR</CdtDbtInd>\n<Sts>")
		}, []want{{"<CdtDbtInd>CR<", "Stmt/Ntry/CdtDbtInd", ErrBadValue}}},
		{"camt entry without status", "s.xml", func(t *testing.T) string { return edit(t, goodCamt, "<Sts>BOOK</Sts>", "") },
			[]want{{"<Ntry>", "Stmt/Ntry/Sts", ErrMissingField}}},
		{"camt no closing balance", "s.xml", func(t *testing.T) string { return edit(t, goodCamt, "<Cd>CLBD</Cd>", "<Cd>CLAV</Cd>") },
			[]want{{"<Stmt>", "Stmt/Bal", ErrMissingField}}},
		{"camt broken XML", "s.xml", func(t *testing.T) string { return edit(t, goodCamt, "</Sts>", "</Stz>") },
			[]want{{"</Stz>", "Stmt/Ntry/Sts", ErrMalformed}}},

		// MT940
		{"mt940 out of balance", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, "EUR112,30", "EUR112,31") },
			[]want{{":62F:", "", ErrOutOfBalance}}},
		{"mt940 bad amount", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, "C12,30N", "C12,3xN") },
			[]want{{":61:", ":61:", ledger.ErrInvalidAmount}}},
		{"mt940 amount without comma", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, "EUR100,00", "EUR100") },
			[]want{{":60F:", ":60F:", ledger.ErrInvalidAmount}}},
		{"mt940 too many decimals", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, "C12,30N", "C12,305N") },
			[]want{{":61:", ":61:", ledger.ErrInvalidAmount}}},
		{"mt940 bad date", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, "C240301EUR", "C240230EUR") },
			[]want{{":60F:", ":60F:", ErrBadDate}}},
		{"mt940 bad value date", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, ":61:240304", ":61:241304") },
			[]want{{":61:", ":61:", ErrBadDate}}},
		{"mt940 bad mark", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, "240304C12", "240304X12") },
			[]want{{":61:", ":61:", ErrBadValue}}},
		{"mt940 truncated", "s.sta", func(t *testing.T) string { return goodMT940[:strings.Index(goodMT940, ":62F:")] },
			[]want{{"", "", ErrMalformed}}},
		{"mt940 truncated block", "s.sta", func(t *testing.T) string {
			return "{1:F01BANKDEFFAXXX0000000000}{2:O940}{4:\n" + strings.TrimSuffix(goodMT940, "-\n")
		}, []want{{"", "", ErrMalformed}}},
		{"mt940 currencies differ", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, "C240304EUR112,30", "C240304USD112,30") },
			[]want{{":62F:", ":62F:", ledger.ErrCurrencyMismatch}}},
		{"mt940 line before opening", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, ":60F:C240301EUR100,00\n", "") },
			[]want{{":61:", ":61:", ErrMalformed}}},
		{"mt940 no account", "s.sta", func(t *testing.T) string { return edit(t, goodMT940, ":25:NL91ABNA0417164300\n", "") },
			[]want{{":20:", "", ErrMissingField}}},
		{"mt940 text outside", "s.sta", func(t *testing.T) string { return "hello\n" + goodMT940 },
			[]want{{"hello", "", ErrMalformed}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.input(t)
			sts, err := ReadAll(strings.NewReader(in), &Options{File: c.file})
			if sts != nil {
				t.Errorf("%d statements returned from a refused file", len(sts))
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %v (%T) is not an ErrorList", err, err)
			}
			if len(list) != len(c.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(list), len(c.want), err)
			}
			for i, w := range c.want {
				got := list[i]
				line := lineOf(t, in, w.at)
				if got.File != c.file || got.Line != line || got.Element != w.element || !errors.Is(got, w.is) {
					t.Errorf("problem %d: %v\nwant %s:%d: %s: (%v)", i, got, c.file, line, w.element, w.is)
				}
				if prefix := fmt.Sprintf("%s:%d: ", c.file, line); !strings.HasPrefix(got.Error(), prefix) {
					t.Errorf("%q does not begin with %q", got.Error(), prefix)
				}
			}
		})
	}
}

// TestMessages pins the wording of a few problems a user will read.
func TestMessages(t *testing.T) {
	cases := []struct {
		file, input, want string
	}{
		{"statement.sta", strings.Replace(goodMT940, "C12,30N", "C12,3xN", 1),
			`statement.sta:5: :61: amount "12,3x": invalid amount: not digits with a decimal comma`},
		{"statement.sta", strings.Replace(goodMT940, "EUR112,30", "EUR112,80", 1),
			`statement.sta:7: out of balance: statement "S1" (sequence 1/1) of account "NL91ABNA0417164300": opening balance 100.00 + lines 12.30 = 112.30 EUR, but the closing balance is 112.80 (difference 0.50)`},
		{"s.bai", strings.Replace(goodBAI2, "49,3000", "49,2999", 1),
			`s.bai:5: 49 account control total: control total mismatch: the trailer says 2999, the records add up to 3000 (minor units)`},
		{"s.xml", strings.Replace(goodCamt, ">12.30<", ">12.305<", 1),
			`s.xml:11: Stmt/Ntry/Amt: invalid amount: 12.305 has more than 2 decimals for EUR`},
	}
	for _, c := range cases {
		_, err := ReadAll(strings.NewReader(c.input), &Options{File: c.file})
		if err == nil || err.Error() != c.want {
			t.Errorf("got  %v\nwant %s", err, c.want)
		}
	}
}
