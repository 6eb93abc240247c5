package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

const bankEvents = `{"id":"b1","type":"payment.captured","at":"2026-01-05T10:00:00Z","payment":"ord-1","provider":"stripe","provider_ref":"ch_1","currency":"usd","amount":"700.00"}
{"id":"b2","type":"payout.created","at":"2026-01-05T12:00:00Z","payout":"po_A","provider":"stripe","provider_ref":"po_A","currency":"usd","amount":"100.00","arrival_date":"2026-01-07T00:00:00Z"}
{"id":"b3","type":"payout.created","at":"2026-01-07T12:00:00Z","payout":"po_B","provider":"stripe","provider_ref":"po_B","currency":"usd","amount":"200.00","arrival_date":"2026-01-09T00:00:00Z"}
{"id":"b4","type":"payout.created","at":"2026-01-08T12:00:00Z","payout":"po_C","provider":"stripe","provider_ref":"po_C","currency":"usd","amount":"300.00","arrival_date":"2026-01-10T00:00:00Z"}
`

// po_A arrives; po_B never does; po_C (due on a Saturday) arrives on
// Monday 2.50 short; and 50.00 comes in that is no payout.
const bankStatement = `:20:STMT2601
:25:DE89370400440532013000
:28C:00001/001
:60F:C260101USD0,00
:61:2601070107C100,00NTRFpo_A//BR1
:86:STRIPE PAYOUT po_A
:61:2601120112C297,50NTRFNONREF//BR2
:86:STRIPE PAYOUT po_C
:61:2601150115C50,00NTRFNONREF//BR3
:86:WIRE IN ACME CORP
:62F:C260130USD447,50
-
`

type bankJSON struct {
	RunID               int64 `json:"run_id"`
	PayoutsMatched      int   `json:"payouts_matched"`
	PayoutsNotInBank    int   `json:"payouts_not_in_bank"`
	DepositsUnexplained int   `json:"deposits_unexplained"`
	AmountDiffers       int   `json:"amount_differs"`
	Balances            []struct {
		Statement  string `json:"statement_closing_balance"`
		Ledger     string `json:"ledger_balance"`
		Difference string `json:"difference"`
	} `json:"balances"`
}

func TestReconcileBankCLI(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	sta := writeFile(t, dir, "statement.sta", bankStatement)
	if code, out, errOut := runCLI(t, "--db", db, "record", writeFile(t, dir, "e.jsonl", bankEvents)); code != 0 {
		t.Fatalf("record: %s%s", out, errOut)
	}
	if code, _, errOut := runCLI(t, "--db", db, "import", sta); code != 2 || !strings.Contains(errOut, "--bank-account") {
		t.Errorf("an unmapped account: exit %d, %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "--db", db, "import", "--bank-account", "DE89370400440532013000=assets:bank:operating", sta)
	if code != 0 || !strings.Contains(out, "bank statement: 1 statements read, 1 added (3 lines)") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	bankRun := func() bankJSON {
		t.Helper()
		code, out, errOut := runCLI(t, "--db", db, "reconcile", "--bank", "--format", "json")
		var r bankJSON
		if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
			t.Fatalf("reconcile --bank: exit %d %v\n%s%s", code, err, out, errOut)
		}
		return r
	}
	r := bankRun()
	if r.PayoutsMatched != 1 || r.PayoutsNotInBank != 1 || r.DepositsUnexplained != 1 || r.AmountDiffers != 1 {
		t.Errorf("first run %+v", r)
	}
	if b := r.Balances[0]; b.Statement != "447.50" || b.Ledger != "400.00" || b.Difference != "47.50" {
		t.Errorf("balances %+v", b)
	}
	var fee string
	for _, e := range exceptionsJSON(t, db, "open") {
		if e["kind"] == "amount_differs" {
			fee = fmt.Sprint(e["id"])
		}
	}
	if code, out, errOut := runCLI(t, "--db", db, "exceptions", "resolve", fee, "--book"); code != 0 {
		t.Fatalf("resolve --book: %s%s", out, errOut)
	}
	r = bankRun()
	if r.PayoutsMatched != 2 || r.AmountDiffers != 0 || r.PayoutsNotInBank != 1 || r.Balances[0].Difference != "50.00" {
		t.Errorf("after the fee: %+v", r)
	}
	code, out, errOut = runCLI(t, "--db", db, "report", "bank-reconciliation", "--format", "csv")
	if code != 0 || !strings.Contains(out, "payout,po_B,po_B,stripe,USD,200.00,,,2026-01-09,,payout_not_in_bank") ||
		!strings.Contains(out, "payout,po_C,po_C,stripe,USD,300.00,297.50,-2.50,2026-01-12,2026-01-12,payout_matched,bl_2") ||
		!strings.Contains(out, "balance,,,,USD,397.50,447.50,50.00,,2026-01-30,differ") {
		t.Errorf("report: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "--db", db, "reconcile", "--bank")
	if code != 0 || !strings.Contains(out, "the ledger is 50.00 short of the bank (unexplained deposits: 50.00)") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}
