package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reports"
)

// needTool returns the path of an external program, or skips the test when
// it is missing — unless SETTLE_REQUIRE_TOOLS=1 (as in CI), which fails it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("SETTLE_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is not installed and SETTLE_REQUIRE_TOOLS=1 (apt-get install hledger beancount)", name)
	}
	t.Skipf("%s is not installed (apt-get install hledger beancount); set SETTLE_REQUIRE_TOOLS=1 to make this a failure", name)
	return ""
}

// randomLedger books a seeded random mix of n lifecycle operations in USD,
// EUR, JPY and KWD through two providers: automatic and manual captures with
// fees, partial captures, cancellations, refunds with fee refunds, disputes
// won and lost, funds made available, payouts paid and failed, manual
// multi-currency entries with awkward descriptions, and reversals.
func randomLedger(t testing.TB, n int, seed uint64) *ledger.Ledger {
	t.Helper()
	ctx := context.Background()
	l := openLedger(t)
	r := rand.New(rand.NewPCG(seed, seed^0x5e771e))
	curs := []ledger.Currency{{Code: "usd", Digits: 2}, {Code: "eur", Digits: 2}, {Code: "jpy", Digits: 0}, {Code: "kwd", Digits: 3}}
	providers := []string{"stripe", "justifi"}
	amount := func(c ledger.Currency, maxMajor int64) int64 {
		unit := int64(1)
		for range c.Digits {
			unit *= 10
		}
		return 1 + r.Int64N(maxMajor*unit)
	}
	str := func(m int64, c ledger.Currency) string { return ledger.FormatMinor(m, c.Digits) }
	descs := []string{"Owner funds", `Fee "adjustment"; see ticket`, "Miete für März — Büro", "=SUM(A1:A9)", "line one\nline two", `back\slash`, "@mention", "-negative"}

	type payment struct {
		id                 string
		cur                ledger.Currency
		auth               bool // authorized, not yet captured or canceled
		captured, refunded int64
		fees               int64 // fees charged and not yet refunded
		disputed           bool
	}
	var payments []*payment
	var disputes, payouts []string
	var manual []int64
	now := day0
	seq := 0
	next := func(prefix string) string { seq++; return fmt.Sprintf("%s_%d", prefix, seq) }
	check := func(op string, _ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("op %d (%s): %v", seq, op, err)
		}
	}
	for range n {
		now = now.Add(time.Duration(1+r.IntN(180)) * time.Minute)
		c := curs[r.IntN(len(curs))]
		prov := providers[r.IntN(len(providers))]
		switch k := r.IntN(100); {
		case k < 28: // automatic capture with a fee
			m := amount(c, 500)
			fee := m / 30
			p := &payment{id: next("pay"), cur: c, captured: m, fees: fee}
			req := ledger.CaptureRequest{Key: p.id, PaymentID: p.id, Provider: prov, ProviderRef: "ch_" + p.id,
				Currency: c.Code, Amount: dec(str(m, c)), At: now}
			if fee > 0 {
				req.Fees = []ledger.Fee{{Type: "processing", Amount: dec(str(fee, c))}}
			}
			res, err := l.Capture(ctx, req)
			check("capture", res, err)
			payments = append(payments, p)
		case k < 38: // authorization
			m := amount(c, 500)
			p := &payment{id: next("auth"), cur: c, auth: true, captured: m}
			res, err := l.Authorize(ctx, ledger.AuthorizeRequest{Key: p.id, PaymentID: p.id, Provider: prov,
				ProviderRef: "ch_" + p.id, Currency: c.Code, Amount: dec(str(m, c)), At: now})
			check("authorize", res, err)
			payments = append(payments, p)
		case k < 48: // capture (maybe partial) or cancel an authorization
			var p *payment
			for _, q := range payments {
				if q.auth {
					p = q
					break
				}
			}
			if p == nil {
				continue
			}
			p.auth = false
			if r.IntN(5) == 0 {
				res, err := l.Cancel(ctx, ledger.CancelRequest{Key: next("cancel"), PaymentID: p.id, At: now})
				check("cancel", res, err)
				p.captured = 0
				continue
			}
			if r.IntN(2) == 0 && p.captured > 1 {
				p.captured = 1 + r.Int64N(p.captured-1)
			}
			p.fees = p.captured/40 + 1
			res, err := l.Capture(ctx, ledger.CaptureRequest{Key: next("cap"), PaymentID: p.id, Amount: dec(str(p.captured, p.cur)),
				Fees: []ledger.Fee{{Type: "processing", Amount: dec(str(p.fees, p.cur))}}, At: now})
			check("capture pending", res, err)
		case k < 58: // refund, sometimes with a fee refund
			p := payments[r.IntN(len(payments))]
			if p.auth || p.disputed || p.captured-p.refunded <= 0 {
				continue
			}
			m := 1 + r.Int64N(p.captured-p.refunded)
			req := ledger.RefundRequest{Key: next("ref"), PaymentID: p.id, RefundID: next("re"), ProviderRef: next("re"),
				Amount: dec(str(m, p.cur)), At: now}
			if r.IntN(3) == 0 && p.fees > 0 {
				req.FeeRefund = dec(str(1, p.cur))
				p.fees--
			}
			res, err := l.Refund(ctx, req)
			check("refund", res, err)
			p.refunded += m
		case k < 64: // dispute
			p := payments[r.IntN(len(payments))]
			if p.auth || p.disputed || p.refunded > 0 || p.captured == 0 {
				continue
			}
			id := next("dp")
			res, err := l.OpenDispute(ctx, ledger.DisputeRequest{Key: id, PaymentID: p.id, DisputeID: id, ProviderRef: id,
				Amount: dec(str(p.captured, p.cur)), Fee: dec(str(amount(p.cur, 15), p.cur)), At: now})
			check("dispute", res, err)
			p.disputed = true
			disputes = append(disputes, id)
		case k < 68: // close a dispute
			if len(disputes) == 0 {
				continue
			}
			id := disputes[0]
			disputes = disputes[1:]
			req := ledger.DisputeCloseRequest{Key: next("dpc"), DisputeID: id, At: now}
			var res *ledger.Result
			var err error
			if r.IntN(2) == 0 {
				res, err = l.WinDispute(ctx, req)
			} else {
				res, err = l.LoseDispute(ctx, req)
			}
			check("close dispute", res, err)
		case k < 73:
			res, err := l.MakeAvailable(ctx, now)
			check("make available", res, err)
		case k < 78: // payout
			id := next("po")
			res, err := l.CreatePayout(ctx, ledger.PayoutRequest{Key: id, PayoutID: id, Provider: prov, ProviderRef: id,
				Amount: dec(str(amount(c, 300), c)), Currency: c.Code, At: now})
			check("payout", res, err)
			payouts = append(payouts, id)
		case k < 82: // settle a payout
			if len(payouts) == 0 {
				continue
			}
			id := payouts[0]
			payouts = payouts[1:]
			req := ledger.PayoutUpdateRequest{Key: next("pos"), PayoutID: id, At: now}
			var res *ledger.Result
			var err error
			if r.IntN(6) == 0 {
				res, err = l.FailPayout(ctx, req)
			} else {
				res, err = l.PayPayout(ctx, req)
			}
			check("settle payout", res, err)
		case k < 95: // manual entry, often in two currencies at once
			c2 := curs[r.IntN(len(curs))]
			m1, m2 := amount(c, 2000), amount(c2, 2000)
			ps := []ledger.PostingInput{
				ledger.Debit("assets:bank:operating", c.Code, str(m1, c)), ledger.Credit("equity:owner", c.Code, str(m1, c)),
				ledger.Debit("expenses:rent", c2.Code, str(m2, c2)), ledger.Credit("liabilities:payable", c2.Code, str(m2, c2)),
			}
			if r.IntN(3) == 0 {
				ps = ps[:2]
			}
			e, err := l.PostEntry(ctx, ledger.EntryInput{Key: next("manual"), OccurredAt: now,
				Description: descs[r.IntN(len(descs))], Postings: ps})
			check("manual entry", e, err)
			manual = append(manual, e.ID)
		default: // reverse a manual entry
			if len(manual) == 0 {
				continue
			}
			id := manual[len(manual)-1]
			manual = manual[:len(manual)-1]
			e, err := l.Reverse(ctx, next("rev"), id, now, "")
			check("reverse", e, err)
		}
	}
	return l
}

// settleBalances returns settle's posted balances as "account CURRENCY" →
// major units, with account names mapped by rename.
func settleBalances(t *testing.T, l *ledger.Ledger, rename func(string) string) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	w := reports.NewCSVWriter(&buf)
	if err := reports.TrialBalance(context.Background(), l, reports.Options{}, w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, rec := range recs[1:] {
		if rec[0] == "total" {
			if rec[3] != rec[4] {
				t.Errorf("trial balance %s: debits %s != credits %s", rec[2], rec[3], rec[4])
			}
			continue
		}
		amt := rec[3]
		if amt == "" {
			amt = "-" + rec[4]
		}
		out[rename(rec[0])+" "+rec[2]] = amt
	}
	return out
}

// toolBalances parses CSV rows of account, currency, amount (the header
// skipped), normalizes each amount to the currency's decimals, and drops
// zero balances.
func toolBalances(t *testing.T, l *ledger.Ledger, out []byte) map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, rec := range recs[1:] {
		if len(rec) != 3 {
			t.Fatalf("row %q: want account, currency, amount", rec)
		}
		account, code, amt := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
		amt = strings.TrimSuffix(strings.TrimPrefix(amt, "Decimal('"), "')")
		cur, err := l.Currency(code)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ledger.ParseAmount(amt, cur)
		if err != nil {
			t.Fatalf("%s %s: %v", account, code, err)
		}
		if m != 0 {
			got[account+" "+strings.ToUpper(code)] = ledger.FormatMinor(m, cur.Digits)
		}
	}
	return got
}

func compareBalances(t *testing.T, tool string, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s = %q, settle's trial balance has %q", tool, k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s = %q, not in settle's trial balance", tool, k, g)
		}
	}
}

func oracleLedgers(t *testing.T) map[string]func(testing.TB) *ledger.Ledger {
	n := 2000
	if testing.Short() {
		n = 300
	}
	return map[string]func(testing.TB) *ledger.Ledger{
		"fixture": fixtureLedger,
		"random":  func(t testing.TB) *ledger.Ledger { return randomLedger(t, n, 42) },
	}
}

// TestHledgerOracle exports the books and checks that the real hledger
// accepts the journal (its balance assertions included) and reports every
// account's balance per currency exactly as settle's trial balance does.
func TestHledgerOracle(t *testing.T) {
	hledger := needTool(t, "hledger")
	for name, build := range oracleLedgers(t) {
		t.Run(name, func(t *testing.T) {
			l := build(t)
			path := filepath.Join(t.TempDir(), "books.journal")
			exportTo(t, path, func(w *os.File) error { return reports.ExportHledger(context.Background(), l, w) })
			// --layout=bare puts each commodity on its own row (hledger ≥ 1.23).
			cmd := exec.Command(hledger, "-f", path, "balance", "--flat", "--no-total", "--layout=bare", "-O", "csv")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("hledger: %v\n%s", err, stderrOf(err))
			}
			compareBalances(t, "hledger", toolBalances(t, l, out), settleBalances(t, l, func(s string) string { return s }))
		})
	}
}

// TestBeancountOracle exports the books and checks that bean-check accepts
// the file (its balance directives included) and that bean-query sums every
// account per currency exactly as settle's trial balance does.
func TestBeancountOracle(t *testing.T) {
	check := needTool(t, "bean-check")
	query := needTool(t, "bean-query")
	for name, build := range oracleLedgers(t) {
		t.Run(name, func(t *testing.T) {
			l := build(t)
			path := filepath.Join(t.TempDir(), "books.beancount")
			exportTo(t, path, func(w *os.File) error { return reports.ExportBeancount(context.Background(), l, w) })
			if b, err := os.ReadFile(path); err == nil {
				t.Logf("%d entries exported", bytes.Count(b, []byte("settle_entry:")))
			}
			if out, err := exec.Command(check, path).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Fatalf("bean-check: %v\n%s", err, out)
			}
			// str() gives the exact Decimal: bean-query's own rendering rounds a
			// column to the precision most of its numbers have (KWD's 12.345
			// shows as 12.340 among cents).
			out, err := exec.Command(query, "-f", "csv", path,
				"SELECT account, currency, str(sum(number)) GROUP BY account, currency ORDER BY account, currency").Output()
			if err != nil {
				t.Fatalf("bean-query: %v\n%s", err, stderrOf(err))
			}
			compareBalances(t, "beancount", toolBalances(t, l, out), settleBalances(t, l, reports.BeancountAccount))
		})
	}
}

func exportTo(t *testing.T, path string, export func(*os.File) error) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := export(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func stderrOf(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}
