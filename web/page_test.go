package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// get fetches a page as a signed-in browser would.
func (e *env) page(target string) (int, string) {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1:8080"+target, nil))
	return rec.Code, rec.Body.String()
}

// form posts a form of the page, with its token.
func (e *env) form(target string, v url.Values) (int, string) {
	e.t.Helper()
	v.Set("csrf", e.srv.formToken)
	req := httptest.NewRequest("POST", "http://127.0.0.1:8080"+target, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("Location") + rec.Body.String()
}

func TestPages(t *testing.T) {
	e := newEnv(t, nil)
	e.demo()
	for _, c := range []struct {
		target string
		code   int
		want   []string
	}{
		{"/exceptions", 200, []string{"ch_3Q1007", "missing_in_ledger", `<td class="num">19.00`, "-0.10", "&#43;55.00", "Showing 1–4"}},
		{"/exceptions?kind=duplicate", 200, []string{"dp_1Q1001"}},
		{"/exceptions?kind=bogus", 400, []string{"kind"}},
		{"/exceptions/1", 200, []string{`class="differs"`, "txn_1Q0d006", "stripe-balance-2026-11.csv:7", "opened", "Preview fix"}},
		{"/exceptions/77", 404, []string{"not found"}},
		{"/runs", 200, []string{"Reconcile now", `<td class="num">10</td>`}},
		{"/reports", 200, []string{"/api/reports/trial-balance.csv", "account-statement"}},
	} {
		code, body := e.page(c.target)
		if code != c.code {
			t.Errorf("%s: %d, want %d", c.target, code, c.code)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", c.target, w)
			}
		}
	}
	if _, body := e.page("/exceptions?kind=duplicate"); strings.Contains(body, "ch_3Q1007") {
		t.Error("the kind filter let a mismatch through")
	}

	// Preview, then book, then reconcile: the exception is gone.
	code, body := e.form("/exceptions/1/resolve", url.Values{"action": {"preview"}})
	if code != 200 || !strings.Contains(body, "Preview: the fix that would be booked") || !strings.Contains(body, "expenses:fees") {
		t.Fatalf("preview: %d %s", code, body)
	}
	code, loc := e.form("/exceptions/1/resolve", url.Values{"action": {"book"}, "note": {"fee per Stripe"}})
	if code != 303 || !strings.HasPrefix(loc, "/exceptions/1?done=booked") {
		t.Fatalf("booking: %d %s", code, loc)
	}
	if code, _ := e.form("/exceptions/2/ignore", url.Values{"note": {""}}); code != 400 {
		t.Errorf("ignoring without a note: %d", code)
	}
	if code, _ := e.form("/exceptions/ignore", url.Values{"id": {"2", "4"}, "note": {"month end"}, "back": {"/exceptions?kind=duplicate"}}); code != 303 {
		t.Errorf("bulk ignore: %d", code)
	}
	// A window first: the run covers it, and says so on the runs page.
	if code, loc := e.form("/runs", url.Values{"from": {"2026-11-02"}, "to": {"2026-11-05"}}); code != 303 || loc != "/runs?done=reconciled" {
		t.Errorf("reconcile a window: %d %s", code, loc)
	}
	if _, body := e.page("/runs"); !strings.Contains(body, "2026-11-02T00:00:00Z – 2026-11-05T00:00:00Z") {
		t.Errorf("the windowed run's row:\n%s", body)
	}
	if code, _ := e.form("/runs", url.Values{"from": {"2026-11-05"}, "to": {"2026-11-02"}}); code != 400 {
		t.Errorf("a window that ends before it starts: %d", code)
	}
	if code, loc := e.form("/runs", url.Values{}); code != 303 || loc != "/runs?done=reconciled" {
		t.Errorf("reconcile: %d %s", code, loc)
	}
	_, body = e.page("/exceptions")
	if strings.Contains(body, "ch_3Q1007") || !strings.Contains(body, "ch_3Q1009") {
		t.Errorf("after the fix and the run:\n%s", body)
	}
}

// TestManyExceptions: the workbench pages 50,000 open exceptions, the
// last page last.
func TestManyExceptions(t *testing.T) {
	if testing.Short() {
		t.Skip("50,000 exceptions")
	}
	e := newEnv(t, nil)
	ctx := context.Background()
	const n = 50000
	outcomes := make([]reconcile.Outcome, n)
	for i := range outcomes {
		id := fmt.Sprintf("txn_%06d", i)
		outcomes[i] = reconcile.Outcome{Kind: reconcile.MissingInLedger, Provider: "stripe", Subject: "charge", ProviderID: id,
			Ref: "ch_" + id, Currency: "usd", Amount: int64(100 + i), At: testNow.Add(-time.Duration(i) * time.Minute),
			Fingerprint: "missing_in_ledger|stripe|charge|" + id + "||"}
	}
	scope := reconcile.Scope{Provider: "stripe", Grain: provider.BalanceGrain}
	err := e.st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		run := &reconcile.Run{Provider: "stripe", Grain: provider.BalanceGrain, StartedAt: testNow, FinishedAt: testNow}
		return tx.SaveRun(ctx, run, reconcile.PlanExceptions(scope, nil, outcomes), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Speed is for the benchmarks (BENCHMARKS.md); here each page must be
	// the right one.
	for _, target := range []string{"/exceptions", "/exceptions?offset=49950", "/api/exceptions?offset=49900&limit=100"} {
		code, body := e.page(target)
		if code != 200 {
			t.Errorf("%s: %d", target, code)
		}
		if strings.Contains(target, "49950") && (!strings.Contains(body, "Showing 49951–50000") || strings.Contains(body, `rel="next"`)) {
			t.Errorf("the last page is not the last")
		}
	}
}
