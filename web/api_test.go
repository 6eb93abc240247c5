package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/reconcile"
)

func TestBalancesAndEntries(t *testing.T) {
	e := newEnv(t, nil)
	e.demo()
	var bals struct {
		AsOf     string        `json:"as_of"`
		Balances []balanceJSON `json:"balances"`
	}
	r := e.do("GET", "/api/balances?account=income:sales", "", nil, nil)
	wantStatus(t, r, 200)
	r.json(t, &bals)
	if len(bals.Balances) != 2 || bals.Balances[1].Currency != "USD" || bals.Balances[1].Balance != "981.99" {
		t.Errorf("income:sales balances %+v", bals.Balances)
	}
	r = e.do("GET", "/api/balances?as_of=2026-11-02", "", nil, nil)
	wantStatus(t, r, 200)
	r.json(t, &bals)
	if bals.AsOf == "" || len(bals.Balances) == 0 {
		t.Errorf("as of: %s", r.body)
	}

	var page struct {
		Entries    []entryJSON `json:"entries"`
		NextOffset *int        `json:"next_offset"`
		NextAfter  *int64      `json:"next_after"`
	}
	r = e.do("GET", "/api/entries?limit=5&offset=2", "", nil, nil)
	wantStatus(t, r, 200)
	r.json(t, &page)
	if len(page.Entries) != 5 || page.NextOffset == nil || *page.NextOffset != 7 {
		t.Errorf("a page of entries: %d, next %v", len(page.Entries), page.NextOffset)
	}
	r = e.do("GET", "/api/entries?limit=1000", "", nil, nil)
	page.NextOffset, page.NextAfter = nil, nil
	r.json(t, &page)
	if len(page.Entries) != e.entries() || page.NextOffset != nil || page.NextAfter != nil {
		t.Errorf("all entries: %d of %d, next %v / %v", len(page.Entries), e.entries(), page.NextOffset, page.NextAfter)
	}
	all := page.Entries
	// Paged by next_after, three at a time, the entries are all of them
	// in the same order; next_offset is left out.
	var paged []entryJSON
	for target := "/api/entries?limit=3"; ; {
		var p struct {
			Entries    []entryJSON `json:"entries"`
			NextOffset *int        `json:"next_offset"`
			NextAfter  *int64      `json:"next_after"`
		}
		r = e.do("GET", target, "", nil, nil)
		wantStatus(t, r, 200)
		r.json(t, &p)
		paged = append(paged, p.Entries...)
		if p.NextAfter == nil || len(paged) > len(all) {
			break
		}
		if n := len(p.Entries); p.Entries[n-1].ID != *p.NextAfter || (target != "/api/entries?limit=3" && p.NextOffset != nil) {
			t.Fatalf("%s: next_after %d, next_offset %v; last entry %d", target, *p.NextAfter, p.NextOffset, p.Entries[n-1].ID)
		}
		target = fmt.Sprintf("/api/entries?limit=3&after=%d", *p.NextAfter)
	}
	if len(paged) != len(all) {
		t.Fatalf("entries paged by next_after: %d, want %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i].ID != all[i].ID {
			t.Fatalf("entry %d paged by next_after: id %d, want %d", i, paged[i].ID, all[i].ID)
		}
	}

	for _, c := range []struct{ target, field string }{
		{"/api/balances?as_of=yesterday", "as_of"},
		{"/api/balances?acount=assets", "acount"},
		{"/api/balances?account=nonsense", "account"},
		{"/api/entries?limit=-1", "limit"},
		{"/api/entries?limit=5000", "limit"},
		{"/api/entries?from=2026-13-01", "from"},
		{"/api/entries?after=999999", "after"},
		{"/api/entries?after=1&offset=5", "after"},
		{"/api/runs?provider=stripe&provider=x", "provider"},
	} {
		r := e.doInvalid("GET", c.target, "", nil, nil)
		wantStatus(t, r, 400)
		if f := r.apiErr(t).Field; f != c.field {
			t.Errorf("%s: field %q, want %q", c.target, f, c.field)
		}
	}
}

func TestRunsAndReconcile(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("POST", "/api/reconcile", "application/json", map[string]string{}, nil)
	wantStatus(t, r, 409) // nothing imported yet
	e.demo()
	var runs struct{ Runs []runJSON }
	r = e.do("GET", "/api/runs", "", nil, nil)
	wantStatus(t, r, 200)
	r.json(t, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Matched != 10 || runs.Runs[0].Opened != 4 {
		t.Fatalf("runs %+v", runs.Runs)
	}
	var rec reconcileJSON
	r = e.do("POST", "/api/reconcile", "application/json", map[string]string{"provider": "stripe", "from": "2026-11-01"}, nil)
	wantStatus(t, r, 200)
	r.json(t, &rec)
	if len(rec.Runs) != 1 || rec.OpenExceptions != 4 || rec.Opened != 0 || rec.RunID != runs.Runs[0].RunID+1 {
		t.Errorf("second run: %s", r.body)
	}
	// A run made by the request says where its time went; a stored run
	// does not keep it.
	if k := rec.Took; k == nil || len(rec.Runs) != 1 || rec.Runs[0].Took == nil || *k != *rec.Runs[0].Took ||
		k.Total != k.Load+k.Match+k.Adopt+k.Store {
		t.Errorf("took_ms of the run and the totals: %s", r.body)
	}
	if runs.Runs[0].Took != nil {
		t.Errorf("a stored run has took_ms: %+v", runs.Runs[0])
	}
	for _, c := range []struct {
		body, contentType, field string
		status                   int
	}{
		{`{"from":"soon"}`, "application/json", "from", 400},
		{`{"from":"2026-12-01","to":"2026-11-01"}`, "application/json", "to", 400},
		{`{"provder":"stripe"}`, "application/json", "provder", 400},
		{`{"provider":7}`, "application/json", "provider", 400},
		{`provider=stripe`, "text/plain", "Content-Type", 415},
	} {
		r := e.doInvalid("POST", "/api/reconcile", c.contentType, c.body, nil)
		wantStatus(t, r, c.status)
		if f := r.apiErr(t).Field; f != c.field {
			t.Errorf("%s: field %q, want %q", c.body, f, c.field)
		}
	}
	if n := len(must(e.st.Runs(context.Background(), ""))); n != 2 {
		t.Errorf("%d runs after the bad requests, want 2", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

type exceptionList struct {
	Exceptions []app.ExceptionJSON `json:"exceptions"`
	NextOffset *int                `json:"next_offset"`
}

func TestExceptions(t *testing.T) {
	e := newEnv(t, nil)
	e.demo()
	ctx := context.Background()

	// The same objects as `settle exceptions --format json`.
	var list exceptionList
	r := e.do("GET", "/api/exceptions", "", nil, nil)
	wantStatus(t, r, 200)
	r.json(t, &list)
	var cli []app.ExceptionJSON
	for _, x := range must(e.st.Exceptions(ctx, reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen})) {
		cli = append(cli, app.ToExceptionJSON(x))
	}
	a, _ := json.Marshal(list.Exceptions)
	b, _ := json.Marshal(cli)
	if string(a) != string(b) || len(cli) != 4 {
		t.Errorf("the API's exceptions differ from the CLI's:\n%s\n%s", a, b)
	}

	for _, c := range []struct {
		query string
		ids   string
		next  bool
	}{
		{"kind=mismatched", "1", false},
		{"kind=missing_at_provider&provider=stripe", "3", false},
		{"provider=justifi", "", false},
		{"status=all&limit=2", "1 2", true},
		{"status=all&limit=2&offset=2", "3 4", false},
		{"status=resolved", "", false},
		{"age=20", "1 2", false}, // dated 2026-11-05 and -07; the others are within 20 days of Dec 1
		{"age=1000", "", false},
	} {
		r := e.do("GET", "/api/exceptions?"+c.query, "", nil, nil)
		wantStatus(t, r, 200)
		var l exceptionList
		r.json(t, &l)
		var ids []string
		for _, x := range l.Exceptions {
			ids = append(ids, fmt.Sprint(x.ID))
		}
		if got := strings.Join(ids, " "); got != c.ids || (l.NextOffset != nil) != c.next {
			t.Errorf("%s: %q next %v, want %q next %v", c.query, got, l.NextOffset, c.ids, c.next)
		}
	}
	for _, c := range []struct{ query, field string }{
		{"kind=odd", "kind"}, {"status=closed", "status"}, {"age=-3", "age"}, {"limit=x", "limit"}, {"sort=id", "sort"},
	} {
		r := e.doInvalid("GET", "/api/exceptions?"+c.query, "", nil, nil)
		wantStatus(t, r, 400)
		if f := r.apiErr(t).Field; f != c.field {
			t.Errorf("%s: field %q, want %q", c.query, f, c.field)
		}
	}

	// Detail: both sides, the raw row, the history.
	var d app.DetailJSON
	r = e.do("GET", "/api/exceptions/1", "", nil, nil)
	wantStatus(t, r, 200)
	r.json(t, &d)
	if d.Ledger["fee"] != "0.85" || d.ProviderRecord["fee"] != "0.95" || !strings.Contains(d.ProviderRaw, "txn_1Q0d006") ||
		len(d.History) != 1 || d.History[0].Action != "opened" {
		t.Errorf("detail %s", r.body)
	}
	wantStatus(t, e.do("GET", "/api/exceptions/99", "", nil, nil), 404)
	wantStatus(t, e.doInvalid("GET", "/api/exceptions/abc", "", nil, nil), 400)
}

func TestResolveAndIgnore(t *testing.T) {
	e := newEnv(t, nil)
	e.demo()
	ctx := context.Background()
	status := func(id int64) reconcile.ExceptionStatus { return must(e.st.Exception(ctx, id)).Status }
	before := e.entries()

	// A preview books nothing and leaves the exception open.
	var res resolutionJSON
	r := e.do("POST", "/api/exceptions/1/resolve", "application/json", map[string]any{"book": true, "dry_run": true}, nil)
	wantStatus(t, r, 200)
	r.json(t, &res)
	if !res.DryRun || res.Entry == nil || len(res.Entry.Postings) < 2 || e.entries() != before || status(1) != reconcile.ExceptionOpen {
		t.Fatalf("preview %s", r.body)
	}
	// Bad requests change nothing.
	for _, c := range []struct {
		target, contentType, body, field string
		code                             int
	}{
		{"/api/exceptions/1/resolve", "application/json", `{"dry_run":true}`, "dry_run", 400},
		{"/api/exceptions/1/resolve", "application/json", `{"book":"yes"}`, "book", 400},
		{"/api/exceptions/1/resolve", "application/json", `{"note":"x","bok":true}`, "bok", 400},
		{"/api/exceptions/1/resolve", "application/x-www-form-urlencoded", `book=1`, "Content-Type", 415},
		{"/api/exceptions/1/ignore", "application/json", `{"note":"  "}`, "note", 400},
		{"/api/exceptions/1/ignore", "application/json", `{}`, "note", 400},
		{"/api/exceptions/1/ignore", "text/plain", `{"note":"x"}`, "Content-Type", 415},
		{"/api/exceptions/ignore", "application/json", `{"ids":[],"note":"x"}`, "ids", 400},
		{"/api/exceptions/ignore", "application/json", `{"ids":[2],"note":""}`, "note", 400},
		{"/api/exceptions/ignore", "text/plain", `{"ids":[2],"note":"x"}`, "Content-Type", 415},
		{"/api/exceptions/0/resolve", "application/json", `{}`, "id", 400},
	} {
		r := e.doInvalid("POST", c.target, c.contentType, c.body, nil)
		wantStatus(t, r, c.code)
		if f := r.apiErr(t).Field; f != c.field {
			t.Errorf("%s %s: field %q, want %q", c.target, c.body, f, c.field)
		}
	}
	if e.entries() != before || status(1) != reconcile.ExceptionOpen || status(2) != reconcile.ExceptionOpen {
		t.Fatal("a bad request changed something")
	}

	// Book the fix: one entry, the exception resolved; again: nothing.
	r = e.do("POST", "/api/exceptions/1/resolve", "application/json", map[string]any{"book": true, "note": "Stripe's fee"}, nil)
	wantStatus(t, r, 200)
	r.json(t, &res)
	if res.Entry == nil || res.Exception.Status != "resolved" || e.entries() != before+1 {
		t.Fatalf("booking: %s", r.body)
	}
	r = e.do("POST", "/api/exceptions/1/resolve", "application/json", map[string]any{"book": true}, nil)
	wantStatus(t, r, 200)
	r.json(t, &res)
	if !res.AlreadyResolved || e.entries() != before+1 {
		t.Errorf("resolving twice: %s", r.body)
	}
	// A duplicate has no fix settle can book.
	wantStatus(t, e.do("POST", "/api/exceptions/4/resolve", "application/json", map[string]any{"book": true}, nil), 409)
	wantStatus(t, e.do("POST", "/api/exceptions/99/resolve", "application/json", nil, nil), 404)
	// Resolving without booking needs no body.
	wantStatus(t, e.do("POST", "/api/exceptions/3/resolve", "application/json", "", nil), 200)

	// Ignore one, then many with one note; a missing id ignores none.
	wantStatus(t, e.do("POST", "/api/exceptions/99/ignore", "application/json", map[string]string{"note": "x"}, nil), 404)
	r = e.do("POST", "/api/exceptions/4/ignore", "application/json", map[string]string{"note": "listed twice by Stripe"}, nil)
	wantStatus(t, r, 200)
	if status(4) != reconcile.ExceptionIgnored {
		t.Error("not ignored")
	}
	r = e.do("POST", "/api/exceptions/ignore", "application/json", map[string]any{"ids": []int64{2, 99}, "note": "n"}, nil)
	wantStatus(t, r, 404)
	if status(2) != reconcile.ExceptionOpen {
		t.Error("a bulk ignore that failed ignored some")
	}
	r = e.do("POST", "/api/exceptions/ignore", "application/json", map[string]any{"ids": []int64{2, 4}, "note": "month end"}, nil)
	wantStatus(t, r, 200)
	if x := must(e.st.Exception(ctx, 2)); x.Status != reconcile.ExceptionIgnored || x.Note != "month end" {
		t.Errorf("bulk ignore: %+v", x)
	}

	// The next run keeps the booked fix closed and the ignored ignored; the
	// one resolved without a fix is found again and reopened.
	wantStatus(t, e.do("POST", "/api/reconcile", "application/json", nil, nil), 200)
	var list exceptionList
	e.do("GET", "/api/exceptions?status=open", "", nil, nil).json(t, &list)
	if len(list.Exceptions) != 1 || list.Exceptions[0].ID != 3 {
		t.Errorf("open after the fixes: %+v", list.Exceptions)
	}
}

func TestReportsAndVerify(t *testing.T) {
	e := newEnv(t, nil)
	e.demo()
	var reps struct{ Reports []reportJSON }
	r := e.do("GET", "/api/reports", "", nil, nil)
	wantStatus(t, r, 200)
	r.json(t, &reps)
	if len(reps.Reports) < 9 {
		t.Errorf("reports %+v", reps.Reports)
	}
	for _, rep := range reps.Reports {
		target := rep.URL
		if rep.Name == "account-statement" {
			target += "?account=assets:stripe:available"
		}
		r := e.do("GET", target, "", nil, nil)
		wantStatus(t, r, 200)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || len(r.body) == 0 {
			t.Errorf("%s: %s, %d bytes", rep.Name, ct, len(r.body))
		}
	}
	r = e.do("GET", "/api/reports/trial-balance.csv?as_of=2026-11-30", "", nil, nil)
	if !strings.Contains(string(r.body), "income:sales") {
		t.Errorf("trial balance: %s", r.body)
	}
	for _, c := range []struct {
		target, field string
		code          int
	}{
		{"/api/reports/trial-balance.csv?from=2026-11-01", "from", 400},
		{"/api/reports/journal.csv?from=2026-12-01&to=2026-11-01", "to", 400},
		{"/api/reports/journal.csv?from=someday", "from", 400},
		{"/api/reports/account-statement.csv", "account", 400},
		{"/api/reports/no-such.csv", "name", 404},
		{"/api/reports/trial-balance.pdf", "name", 404},
	} {
		r := e.doInvalid("GET", c.target, "", nil, nil)
		wantStatus(t, r, c.code)
		if f := r.apiErr(t).Field; f != c.field {
			t.Errorf("%s: field %q, want %q", c.target, f, c.field)
		}
	}
	var v struct {
		OK bool `json:"ok"`
	}
	r = e.do("GET", "/api/verify", "", nil, nil)
	wantStatus(t, r, 200)
	r.json(t, &v)
	if !v.OK {
		t.Errorf("verify: %s", r.body)
	}
	r = e.do("GET", "/api/openapi", "", nil, nil)
	wantStatus(t, r, 200)
	if !strings.HasPrefix(string(r.body), "openapi: 3") {
		t.Error("the OpenAPI document is not served")
	}
	wantStatus(t, e.doInvalidNoSpec("GET", "/api/nothing-here"), 404)
}

// doInvalidNoSpec sends a request to a route the document does not have.
func (e *env) doInvalidNoSpec(method, target string) *response {
	e.t.Helper()
	r := e.token
	defer func() { e.token = r }()
	rec := newRecorder()
	e.srv.ServeHTTP(rec, newRequest(method, target, e.token))
	return &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func TestImport(t *testing.T) {
	e := newEnv(t, nil)
	csv, err := os.ReadFile("../testdata/demo/stripe-balance-2026-11.csv")
	if err != nil {
		t.Fatal(err)
	}
	var imp importJSON
	r := e.do("POST", "/api/imports?name=stripe-nov.csv&provider=stripe", "text/csv", csv, nil)
	wantStatus(t, r, 201)
	r.json(t, &imp)
	if imp.Records != 13 || imp.Added != 13 {
		t.Errorf("import %s", r.body)
	}
	r = e.do("POST", "/api/imports?name=stripe-nov.csv", "text/csv", csv, nil)
	wantStatus(t, r, 200)
	bad := strings.Replace(string(csv), "19.00", "19.0x", 1)
	r = e.do("POST", "/api/imports?name=bad.csv", "text/csv", bad, nil)
	wantStatus(t, r, 400)
	if ae := r.apiErr(t); len(ae.Problems) == 0 || ae.Problems[0].Line == 0 {
		t.Errorf("a bad row: %s", r.body)
	}
	r = e.do("POST", "/api/imports?name=x.csv&provider=justifi", "text/csv", strings.Replace(string(csv), "txn_", "txm_", -1), nil)
	wantStatus(t, r, 400)
	r = e.doInvalid("POST", "/api/imports?format=excel", "text/csv", csv, nil)
	wantStatus(t, r, 400)
	if f := r.apiErr(t).Field; f != "format" {
		t.Errorf("field %q", f)
	}
	r = e.doInvalid("POST", "/api/imports?book=maybe", "text/csv", csv, nil)
	wantStatus(t, r, 400)
	small := newEnv(t, &Options{MaxImportBytes: 10})
	wantStatus(t, small.do("POST", "/api/imports", "text/csv", csv, nil), 413)
	recs := 0
	for _, s := range must(e.st.RecordGrains(context.Background())) {
		_ = s
		recs++
	}
	if recs != 1 {
		t.Errorf("record grains %d", recs)
	}
}
