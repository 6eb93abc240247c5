package web

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// testNow is the clock of the tests: a few weeks after the demo month.
var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// spec is the OpenAPI document every API response in these tests is
// validated against, and seen records which documented (path, method,
// status) the tests exercised, so that TestMain can say which were not.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error

	mu   sync.Mutex
	seen map[string]bool
}

func loadSpec(t testing.TB) {
	t.Helper()
	spec.once.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/jsonl", openapi3filter.PlainBodyDecoder)
		loader := openapi3.NewLoader()
		spec.doc, spec.err = loader.LoadFromData(openapiSpec)
		if spec.err != nil {
			return
		}
		if spec.err = spec.doc.Validate(loader.Context); spec.err != nil {
			return
		}
		spec.doc.Servers = nil // match any host
		spec.router, spec.err = legacyrouter.NewRouter(spec.doc)
		spec.seen = map[string]bool{}
	})
	if spec.err != nil {
		t.Fatalf("web/openapi.yaml: %v", spec.err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	// With every test run, every documented response must have been seen.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && spec.doc != nil {
		var missing []string
		for path, item := range spec.doc.Paths.Map() {
			for method, op := range item.Operations() {
				for status := range op.Responses.Map() {
					if k := key(method, path, status); !spec.seen[k] {
						missing = append(missing, k)
					}
				}
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "documented in web/openapi.yaml but no test saw it:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func key(method, path, status string) string { return method + " " + path + " " + status }

// env is a server over a fresh SQLite database.
type env struct {
	t     *testing.T
	st    *sqlite.Store
	books *ledger.Ledger
	srv   *Server
	token string // sent as a bearer token when set
}

func newEnv(t *testing.T, opts *Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenWith(ctx, filepath.Join(t.TempDir(), "settle.db"), &sqlite.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	books := ledger.New(st, &ledger.Options{Now: func() time.Time { return testNow }})
	o := Options{Now: func() time.Time { return testNow }}
	if opts != nil {
		o = *opts
		if o.Now == nil {
			o.Now = func() time.Time { return testNow }
		}
	}
	srv, err := New(st, books, &o)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, books: books, srv: srv, token: o.Token}
}

// demo records the demo's events, makes due funds available, imports its
// Stripe export and reconciles, as `settle demo` does: four open
// exceptions (a fee Stripe changed, a charge the ledger lacks, one Stripe
// lacks, a row Stripe listed twice).
func (e *env) demo() {
	e.t.Helper()
	ctx := context.Background()
	f, err := os.Open("../testdata/demo/events.jsonl")
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, errs := feed.ApplyFile(ctx, e.books, "events.jsonl", f, false); len(errs) > 0 {
		e.t.Fatal(errs)
	}
	if _, err := e.books.MakeAvailable(ctx, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		e.t.Fatal(err)
	}
	if _, probs, err := app.ImportFile(ctx, e.st, "../testdata/demo/stripe-balance-2026-11.csv",
		app.ImportOptions{Readers: &importers.Options{}}); err != nil || len(probs) > 0 {
		e.t.Fatal(err, probs)
	}
	if _, err := e.srv.reconcile(ctx, "", time.Time{}, time.Time{}); err != nil {
		e.t.Fatal(err)
	}
}

// response is an answer to a test request.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// apiErr decodes an error answer.
func (r *response) apiErr(t *testing.T) apiError {
	var e apiError
	r.json(t, &e)
	return e
}

// do sends a request to the server and checks it and its answer against
// the OpenAPI document: the request must be one the document describes
// (unless invalid, for the tests of bad input) and the answer must be
// documented with its status, headers and body.
func (e *env) do(method, target, contentType string, body any, header map[string]string) *response {
	e.t.Helper()
	return e.send(method, target, contentType, body, header, true)
}

// doInvalid sends a request that the document does not admit (bad input),
// and checks only the answer against it.
func (e *env) doInvalid(method, target, contentType string, body any, header map[string]string) *response {
	e.t.Helper()
	return e.send(method, target, contentType, body, header, false)
}

func (e *env) send(method, target, contentType string, body any, header map[string]string, validRequest bool) *response {
	e.t.Helper()
	loadSpec(e.t)
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, bytes.NewReader(raw))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	res := &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if !strings.HasPrefix(target, "/api/") {
		return res
	}

	vreq := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, bytes.NewReader(raw))
	vreq.Header = req.Header.Clone()
	route, params, err := spec.router.FindRoute(vreq)
	if err != nil {
		e.t.Fatalf("%s %s is not in web/openapi.yaml: %v", method, target, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if validRequest {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			e.t.Errorf("%s %s: the request does not fit web/openapi.yaml: %v", method, target, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.status, Header: res.header,
		Body: io.NopCloser(bytes.NewReader(res.body)), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		e.t.Errorf("%s %s: the answer %d does not fit web/openapi.yaml: %v\n%s", method, target, res.status, err, res.body)
	}
	spec.mu.Lock()
	spec.seen[key(strings.ToUpper(method), route.Path, fmt.Sprint(res.status))] = true
	spec.mu.Unlock()
	return res
}

// entries counts the journal's entries.
func (e *env) entries() int {
	e.t.Helper()
	n := 0
	err := e.books.View(context.Background(), func(tx ledger.ReadTx) error {
		return tx.EachEntry(context.Background(), ledger.EntryFilter{}, func(*ledger.Entry) error { n++; return nil })
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantStatus(t *testing.T, r *response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
}
