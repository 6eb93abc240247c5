package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// settle runs the CLI in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// balances returns account/currency → balance from `settle balance --format json`.
func balances(t *testing.T, db string) map[string]string {
	t.Helper()
	code, out, errOut := runCLI(t, "--db", db, "balance", "--format", "json")
	if code != 0 {
		t.Fatalf("balance: exit %d: %s", code, errOut)
	}
	var rows []struct{ Account, Currency, Balance, Pending string }
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("balance json: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, r := range rows {
		m[r.Account+" "+r.Currency] = r.Balance + "/" + r.Pending
	}
	return m
}

const lifecycle = `{"id":"e1","type":"payment.authorized","at":"2026-11-02T10:00:00Z","payment":"p1","provider":"stripe","provider_ref":"ch_1","amount":"100.00","currency":"usd"}
{"id":"e2","type":"payment.captured","at":"2026-11-02T11:00:00Z","payment":"p1","amount":"80.00","fees":[{"type":"processing","amount":"2.62"}],"available_on":"2026-11-04T00:00:00Z"}
{"id":"e3","type":"payment.captured","at":"2026-11-03T09:00:00Z","payment":"p2","provider":"stripe","provider_ref":"ch_2","currency":"jpy","amount":"5000","fees":[{"type":"processing","amount":"180"}]}
{"id":"e4","type":"payment.refunded","at":"2026-11-05T09:00:00Z","payment":"p1","refund":"r1","amount":"30.00"}
{"id":"e5","type":"dispute.opened","at":"2026-11-06T09:00:00Z","payment":"p1","dispute":"d1","amount":"50.00","fee":"15.00"}
{"id":"e6","type":"dispute.lost","at":"2026-11-20T09:00:00Z","dispute":"d1"}
{"id":"e7","type":"payout.created","at":"2026-11-07T09:00:00Z","payout":"po1","provider":"stripe","amount":"10.00","currency":"usd"}
{"id":"e8","type":"payout.paid","at":"2026-11-09T09:00:00Z","payout":"po1"}
{"id":"e9","type":"entry.posted","at":"2026-11-10T09:00:00Z","description":"Owner funds","postings":[{"account":"assets:bank:ops","currency":"usd","debit":"500.00"},{"account":"equity:owner","currency":"usd","credit":"500.00"}]}
`

func TestRecordLifecycleBalancesToTheCent(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	file := writeFile(t, dir, "events.jsonl", lifecycle)
	code, out, errOut := runCLI(t, "--db", db, "record", file)
	if code != 0 {
		t.Fatalf("record: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "9 events recorded") {
		t.Errorf("record output = %q", out)
	}
	got := balances(t, db)
	want := map[string]string{
		// p1: captured 80.00 with 2.62 fee → 77.38 pending then available at the payout (11-07 ≥ 11-04);
		// refund 30.00, dispute 50.00 + 15.00 fee, payout 10.00 out of available.
		"assets:stripe:available USD":  "-27.62/0.00",
		"assets:stripe:pending JPY":    "4820/0",
		"assets:bank:stripe USD":       "10.00/0.00",
		"assets:bank:ops USD":          "500.00/0.00",
		"equity:owner USD":             "500.00/0.00",
		"expenses:fees:processing USD": "2.62/0.00",
		"expenses:fees:processing JPY": "180/0",
		"expenses:fees:dispute USD":    "15.00/0.00",
		"expenses:chargebacks USD":     "50.00/0.00",
		"income:sales USD":             "80.00/0.00",
		"income:sales JPY":             "5000/0",
		"income:refunds USD":           "-30.00/0.00",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected balance %s = %s", k, got[k])
		}
	}
	if code, out, _ := runCLI(t, "--db", db, "verify"); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("verify: exit %d: %s", code, out)
	}
	// Recording the same file again changes nothing.
	code, out, _ = runCLI(t, "--db", db, "record", file)
	if code != 0 || !strings.Contains(out, "0 events recorded, 9 already recorded") {
		t.Errorf("re-record: exit %d: %q", code, out)
	}
	again := balances(t, db)
	if len(again) != len(got) {
		t.Errorf("re-record changed balances: %v vs %v", again, got)
	}
	for k, v := range got {
		if again[k] != v {
			t.Errorf("re-record changed %s: %s → %s", k, v, again[k])
		}
	}
}

func TestBalanceAsOf(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	file := writeFile(t, dir, "events.jsonl", lifecycle)
	if code, _, errOut := runCLI(t, "--db", db, "record", file); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := runCLI(t, "--db", db, "balance", "income", "--as-of", "2026-11-02", "--format", "json")
	if code != 0 {
		t.Fatal(errOut)
	}
	if !strings.Contains(out, `"balance": "80.00"`) || strings.Contains(out, "JPY") || strings.Contains(out, "refunds") {
		t.Errorf("as-of 2026-11-02 income balances:\n%s", out)
	}
}

func TestRecordBadLinesChangeNothing(t *testing.T) {
	good := `{"id":"g1","type":"payment.captured","at":"2026-11-02T11:00:00Z","payment":"p1","provider":"stripe","currency":"usd","amount":"10.00"}`
	cases := []struct {
		name, line, want string
	}{
		{"malformed JSON", `{"id":"b1","type":`, `:2: the line is not a JSON object`},
		{"unknown type", `{"id":"b1","type":"payment.teleported","at":"2026-11-02T11:00:00Z"}`, `:2:type: unknown event type "payment.teleported"`},
		{"missing field", `{"id":"b1","type":"payment.refunded","at":"2026-11-02T11:00:00Z","refund":"r1"}`, `:2:payment: missing field`},
		{"JSON number amount", `{"id":"b1","type":"payment.captured","at":"2026-11-02T11:00:00Z","payment":"p9","provider":"stripe","currency":"usd","amount":29.99}`, `:2:amount: must be a decimal string`},
		{"too many decimals", `{"id":"b1","type":"payment.captured","at":"2026-11-02T11:00:00Z","payment":"p9","provider":"stripe","currency":"usd","amount":"12.345"}`, "more than 2 decimals for USD"},
		{"unknown payment", `{"id":"b1","type":"payment.refunded","at":"2026-11-02T11:00:00Z","payment":"nope","refund":"r1"}`, `:2: payment.refunded "b1": refund b1: payment "nope": not found`},
		{"bad time", `{"id":"b1","type":"payment.canceled","at":"yesterday","payment":"p1"}`, `:2:at: "yesterday" is not an RFC 3339 time`},
		{"unbalanced entry", `{"id":"b1","type":"entry.posted","at":"2026-11-02T11:00:00Z","postings":[{"account":"assets:bank:ops","currency":"usd","debit":"1.00"},{"account":"equity:owner","currency":"usd","credit":"0.99"}]}`, "does not balance"},
		{"unknown currency", `{"id":"b1","type":"payment.captured","at":"2026-11-02T11:00:00Z","payment":"p9","provider":"whop","currency":"eth","amount":"1.00"}`, `:2:currency: unknown currency: "eth"`},
		{"duplicate key", `{"id":"b1","type":"payment.captured","at":"2026-11-02T11:00:00Z","payment":"p9","provider":"stripe","currency":"usd","amount":"1.00","amount":"999.00"}`, `:2:amount: duplicate key`},
		{"date out of range", `{"id":"b1","type":"payment.captured","at":"9999-12-31T00:00:00Z","payment":"p9","provider":"stripe","currency":"usd","amount":"1.00"}`, `:2:at: invalid time: 9999-12-31T00:00:00Z is outside the range`},
		{"fee above amount", `{"id":"b1","type":"payment.captured","at":"2026-11-02T11:00:00Z","payment":"p9","provider":"stripe","currency":"usd","amount":"1.00","fees":[{"amount":"1.50"}]}`, `:2:fees: the fees total 1.5, more than the amount 1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "t.db")
			if code, _, errOut := runCLI(t, "--db", db, "init"); code != 0 {
				t.Fatal(errOut)
			}
			before := balances(t, db)
			file := writeFile(t, dir, "bad.jsonl", good+"\n"+tc.line+"\n")
			code, _, errOut := runCLI(t, "--db", db, "record", file)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(errOut, file+":2") || !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr does not name %s:2 with %q:\n%s", file, tc.want, errOut)
			}
			after := balances(t, db)
			if len(after) != len(before) {
				t.Errorf("database changed: %v", after)
			}
			// With --skip-invalid the good line lands and the bad one is reported.
			code, out, errOut := runCLI(t, "--db", db, "record", "--skip-invalid", file)
			if code != 1 || !strings.Contains(out, "1 events recorded") || !strings.Contains(errOut, file+":2") || !strings.Contains(errOut, tc.want) {
				t.Errorf("--skip-invalid: exit %d\n%s\n%s", code, out, errOut)
			}
			if got := balances(t, db)["income:sales USD"]; got != "10.00/0.00" {
				t.Errorf("after --skip-invalid income:sales = %q", got)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"--db", db, "init"}, 0},
		{[]string{"--db", db, "frobnicate"}, 2},
		{[]string{"--db", db, "balance", "--format", "xml"}, 2},
		{[]string{"--db", db, "balance", "--no-such-flag"}, 2},
		{[]string{"--db", db, "record"}, 2},
		{[]string{"--db", db, "balance", "Not An Account"}, 2},
		{[]string{"--db", db, "record", filepath.Join(dir, "missing.jsonl")}, 1},
		{[]string{"--db", db, "verify"}, 0},
	}
	for _, tc := range cases {
		if code, _, errOut := runCLI(t, tc.args...); code != tc.want {
			t.Errorf("settle %v: exit %d, want %d (%s)", tc.args, code, tc.want, errOut)
		}
	}
}

func TestDemoRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	code, out, errOut := runCLI(t, "--db", db, "demo")
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Recorded 20 payment events", "Verified", "assets:stripe:available", "96.82",
		"Imported Stripe's balance report", "mismatched", "missing_in_ledger", "missing_at_provider", "duplicate",
		"fee: ledger 0.85, provider 0.95"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
