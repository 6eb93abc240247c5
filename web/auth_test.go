package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func newRequest(method, target, token string) *http.Request {
	r := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

const goodToken = "s3cret-token-0123456789"

// TestAuthMiddleware checks the token check on its own: a server with a
// token lets through only requests that carry it.
func TestAuthMiddleware(t *testing.T) {
	e := newEnv(t, &Options{Token: goodToken})
	open := newEnv(t, nil)
	for _, c := range []struct {
		name   string
		srv    *Server
		path   string
		header string
		cookie string
		want   int
	}{
		{"no token needed on loopback", open.srv, "/api/runs", "", "", 200},
		{"missing token", e.srv, "/api/runs", "", "", 401},
		{"wrong token", e.srv, "/api/runs", "Bearer wrong-token-0123456789", "", 401},
		{"the token as a prefix", e.srv, "/api/runs", "Bearer " + goodToken + "x", "", 401},
		{"empty bearer", e.srv, "/api/runs", "Bearer ", "", 401},
		{"basic scheme", e.srv, "/api/runs", "Basic " + goodToken, "", 401},
		{"right token", e.srv, "/api/runs", "Bearer " + goodToken, "", 200},
		{"lower-case scheme", e.srv, "/api/runs", "bearer " + goodToken, "", 200},
		{"the session cookie", e.srv, "/api/runs", "", e.srv.session(), 200},
		{"a forged cookie", e.srv, "/api/runs", "", goodToken, 401},
		{"a page sends you to sign in", e.srv, "/exceptions", "", "", 303},
		{"the sign-in page is open", e.srv, "/login", "", "", 200},
		{"so is its stylesheet", e.srv, "/static/style.css", "", "", 200},
		{"a report download needs it", e.srv, "/api/reports/journal.csv", "", "", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://127.0.0.1:8080"+c.path, nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			if c.cookie != "" {
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.cookie})
			}
			rec := httptest.NewRecorder()
			c.srv.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if c.want == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// Every API route answers 401 without the token, and writes nothing.
	e.token = ""
	for _, c := range []struct{ method, target, body string }{
		{"GET", "/api/balances", ""}, {"GET", "/api/entries", ""}, {"GET", "/api/runs", ""}, {"GET", "/api/exceptions", ""},
		{"GET", "/api/exceptions/1", ""}, {"GET", "/api/reports", ""}, {"GET", "/api/reports/trial-balance.csv", ""},
		{"GET", "/api/verify", ""}, {"GET", "/api/openapi", ""},
		{"POST", "/api/events", capture}, {"POST", "/api/reconcile", "{}"}, {"POST", "/api/imports", "x"},
		{"POST", "/api/exceptions/1/resolve", "{}"}, {"POST", "/api/exceptions/1/ignore", `{"note":"x"}`},
		{"POST", "/api/exceptions/ignore", `{"ids":[1],"note":"x"}`},
	} {
		ct := "application/json"
		if c.method == "GET" {
			ct = ""
		}
		r := e.doInvalid(c.method, c.target, ct, c.body, map[string]string{"Authorization": "Bearer nope-nope-nope-nope"})
		if r.status != 401 {
			t.Errorf("%s %s with a wrong token: %d", c.method, c.target, r.status)
		}
	}
	if e.entries() != 0 {
		t.Error("an unauthorized post wrote")
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t, &Options{Token: goodToken})
	post := func(token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "http://127.0.0.1:8080/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		return rec
	}
	if rec := post("wrong"); rec.Code != 401 || len(rec.Result().Cookies()) != 0 {
		t.Errorf("a wrong token signed in: %d", rec.Code)
	}
	rec := post(goodToken)
	cs := rec.Result().Cookies()
	if rec.Code != 303 || len(cs) != 1 || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode || cs[0].Value == goodToken {
		t.Fatalf("signing in: %d %+v", rec.Code, cs)
	}
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/exceptions", nil)
	req.AddCookie(cs[0])
	rec = httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("signed in, the page answers %d", rec.Code)
	}
}

func TestCheckAddr(t *testing.T) {
	for _, c := range []struct {
		addr  string
		token bool
		ok    bool
	}{
		{"127.0.0.1:8080", false, true},
		{"127.1.2.3:8080", false, true},
		{"[::1]:8080", false, true},
		{"localhost:8080", false, true},
		{":8080", false, false},
		{"0.0.0.0:8080", false, false},
		{"192.168.1.5:8080", false, false},
		{"example.com:80", false, false},
		{"0.0.0.0:8080", true, true},
		{"8080", false, false},
	} {
		err := CheckAddr(c.addr, c.token)
		if (err == nil) != c.ok {
			t.Errorf("CheckAddr(%q, %v) = %v", c.addr, c.token, err)
		}
	}
}

// TestCrossSiteWrites: a form or a fetch from another site cannot act.
func TestCrossSiteWrites(t *testing.T) {
	e := newEnv(t, nil)
	e.demo()
	form := url.Values{"csrf": {e.srv.formToken}, "note": {"x"}}.Encode()
	for _, c := range []struct {
		name    string
		target  string
		body    string
		ct      string
		headers map[string]string
		want    int
	}{
		{"another site's form", "/exceptions/1/ignore", form, "application/x-www-form-urlencoded",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"another origin", "/exceptions/1/ignore", form, "application/x-www-form-urlencoded",
			map[string]string{"Origin": "https://evil.example"}, 403},
		{"a form without the page's token", "/exceptions/1/ignore", "note=x", "application/x-www-form-urlencoded", nil, 403},
		{"a form with a wrong token", "/exceptions/1/ignore", "note=x&csrf=00", "application/x-www-form-urlencoded", nil, 403},
		{"a cross-site fetch of the API", "/api/exceptions/1/ignore", `{"note":"x"}`, "application/json",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"a simple (text/plain) post to the API", "/api/exceptions/1/ignore", `{"note":"x"}`, "text/plain", nil, 415},
		{"the page's own form", "/exceptions/1/ignore", form, "application/x-www-form-urlencoded",
			map[string]string{"Sec-Fetch-Site": "same-origin"}, 303},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://127.0.0.1:8080"+c.target, strings.NewReader(c.body))
			req.Header.Set("Content-Type", c.ct)
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
		})
	}
}
