package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestProviderNamesAtTheEdge checks the provider names that enter through
// the CLI: import --provider is normalized ("Stripe" is stripe) or refused
// as a usage error, and an event feed line naming a provider that would
// share another's accounts ("strip.e" and strip_e) is refused at its line
// while "Stripe" books on stripe's accounts.
func TestProviderNamesAtTheEdge(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	csv := writeFile(t, dir, "itemized.csv", itemizedHeader+"\n"+
		`"txn_1","2026-11-02 09:30:00","2026-11-04 00:00:00","usd","29.99","1.17","28.82","charge","ch_1","ok"`+"\n")
	if code, _, errOut := runCLI(t, "--db", db, "import", "--provider", "strip.e", csv); code != 2 || !strings.Contains(errOut, `provider name "strip.e"`) {
		t.Errorf("--provider strip.e: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "--db", db, "import", "--provider", " Stripe", csv); code != 0 || !strings.Contains(out, "1 added") {
		t.Errorf("--provider Stripe: exit %d\n%s\n%s", code, out, errOut)
	}

	capture := func(id, pay, provider string) string {
		return `{"id":"` + id + `","type":"payment.captured","at":"2026-11-02T11:00:00Z","payment":"` + pay + `","provider":"` + provider + `","currency":"usd","amount":"10.00"}`
	}
	feed := writeFile(t, dir, "events.jsonl", capture("e1", "p1", "strip_e")+"\n"+capture("e2", "p2", "strip.e")+"\n")
	code, _, errOut := runCLI(t, "--db", db, "record", feed)
	if code != 1 || !strings.Contains(errOut, feed+":2: ") || !strings.Contains(errOut, `provider name "strip.e"`) {
		t.Errorf("record strip.e: exit %d\n%s", code, errOut)
	}
	feed = writeFile(t, dir, "events2.jsonl", capture("e3", "p3", "Stripe")+"\n"+capture("e4", "p4", "strip_e")+"\n")
	if code, out, errOut := runCLI(t, "--db", db, "record", feed); code != 0 {
		t.Fatalf("record: exit %d\n%s\n%s", code, out, errOut)
	}
	b := balances(t, db)
	if b["assets:stripe:pending USD"] != "10.00/0.00" || b["assets:strip_e:pending USD"] != "10.00/0.00" {
		t.Errorf("balances %v", b)
	}
	for acct := range b {
		if strings.Contains(acct, "Stripe") || strings.Contains(acct, "strip.e") {
			t.Errorf("account %s", acct)
		}
	}
}
