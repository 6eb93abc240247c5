// Package web is settle's HTTP face: a JSON API (record events, balances,
// entries, runs, exceptions and their actions, reconciliation, imports,
// reports) and the workbench, a page where a finance team works through
// exceptions. It calls the application layer (package app), the ledger and
// the feed, never a store's SQL. `settle serve --http ADDR` serves it.
//
// Security: loopback by default; any other address needs a bearer token
// (Options.Token), compared in constant time. Cross-origin writes are
// refused (http.CrossOriginProtection), forms carry a per-process token,
// JSON writes must say they are JSON, and bodies are size-limited.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/ledger"
)

//go:embed openapi.yaml
var openapiSpec []byte

//go:embed templates static
var assets embed.FS

// Options tune a Server. A nil *Options, and every zero field, means the
// defaults.
type Options struct {
	// Token, if set, is the bearer token every request must carry
	// (Authorization: Bearer TOKEN, or the session cookie the sign-in page
	// sets). It must be set to serve beyond loopback (see CheckAddr).
	Token string
	// Logger receives one line per request (method, path, status,
	// duration; never a header or a body); default none.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Match tunes the reconciliation runs the server starts.
	Match *app.Options
	// MaxWriters bounds the event posts handled at once (their bodies are
	// held in memory); default 16. A post waits up to QueueWait for a
	// turn, then gets 503 with Retry-After.
	MaxWriters int
	QueueWait  time.Duration // default 10s
	// MaxEventBytes bounds the body of an event post; default 16 MiB.
	MaxEventBytes int64
	// MaxImportBytes bounds an uploaded provider export; default 256 MiB.
	MaxImportBytes int64
}

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	if v.Now == nil {
		v.Now = time.Now
	}
	if v.MaxWriters <= 0 {
		v.MaxWriters = 16
	}
	if v.QueueWait <= 0 {
		v.QueueWait = 10 * time.Second
	}
	if v.MaxEventBytes <= 0 {
		v.MaxEventBytes = 16 << 20
	}
	if v.MaxImportBytes <= 0 {
		v.MaxImportBytes = 256 << 20
	}
	return v
}

// maxFormBytes bounds the bodies of forms and of JSON actions.
const maxFormBytes = 1 << 20

// Server serves the API and the workbench over one store and its ledger.
type Server struct {
	st      app.Store
	books   *ledger.Ledger
	o       Options
	handler http.Handler
	pages   map[string]*template.Template
	// formToken is the per-process token every form carries, so that a
	// form posted from another site (which cannot read it) is refused.
	formToken string
	// writers holds a slot per event post in progress.
	writers chan struct{}
	// reconciling is held by the reconciliation this server runs.
	reconciling sync.Mutex
	// group gathers concurrent event posts into shared transactions.
	group groupCommit
}

// New returns a Server over st and books.
func New(st app.Store, books *ledger.Ledger, opts *Options) (*Server, error) {
	s := &Server{st: st, books: books, o: opts.withDefaults()}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	s.formToken = hex.EncodeToString(b[:])
	s.writers = make(chan struct{}, s.o.MaxWriters)
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	s.routes(mux)
	cop := http.NewCrossOriginProtection()
	s.handler = s.logRequests(securityHeaders(cop.Handler(s.authenticate(mux))))
	return s, nil
}

// ServeHTTP serves the API and the page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes(mux *http.ServeMux) {
	// The JSON API; web/openapi.yaml documents every route here.
	mux.HandleFunc("GET /api/openapi", s.openapi)
	mux.HandleFunc("POST /api/events", s.postEvents)
	mux.HandleFunc("GET /api/balances", s.getBalances)
	mux.HandleFunc("GET /api/entries", s.getEntries)
	mux.HandleFunc("GET /api/runs", s.getRuns)
	mux.HandleFunc("POST /api/reconcile", s.postReconcile)
	mux.HandleFunc("POST /api/imports", s.postImport)
	mux.HandleFunc("GET /api/exceptions", s.getExceptions)
	mux.HandleFunc("POST /api/exceptions/ignore", s.postIgnoreMany)
	mux.HandleFunc("GET /api/exceptions/{id}", s.getException)
	mux.HandleFunc("POST /api/exceptions/{id}/resolve", s.postResolve)
	mux.HandleFunc("POST /api/exceptions/{id}/ignore", s.postIgnore)
	mux.HandleFunc("GET /api/reports", s.getReports)
	mux.HandleFunc("GET /api/reports/{file}", s.getReport)
	mux.HandleFunc("GET /api/verify", s.getVerify)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", "no such API route: "+r.Method+" "+r.URL.Path+" (GET /api/openapi lists them)")
	})

	// The workbench.
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/exceptions", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /exceptions", s.exceptionsPage)
	mux.HandleFunc("POST /exceptions/ignore", s.ignoreManyForm)
	mux.HandleFunc("GET /exceptions/{id}", s.exceptionPage)
	mux.HandleFunc("POST /exceptions/{id}/resolve", s.resolveForm)
	mux.HandleFunc("POST /exceptions/{id}/ignore", s.ignoreForm)
	mux.HandleFunc("GET /runs", s.runsPage)
	mux.HandleFunc("POST /runs", s.reconcileForm)
	mux.HandleFunc("GET /reports", s.reportsPage)
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(openapiSpec)
}

// acquireWriter waits for a writer slot, up to QueueWait; it reports false
// when the server is too busy (or the client went away).
func (s *Server) acquireWriter(ctx context.Context) (release func(), ok bool) {
	t := time.NewTimer(s.o.QueueWait)
	defer t.Stop()
	select {
	case s.writers <- struct{}{}:
		return func() { <-s.writers }, true
	case <-t.C:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}

// statusRecorder remembers the status a handler wrote, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests logs one line per request: no header, query or body, so that
// no token or cookie reaches the log.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.o.Logger.Info("http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration", time.Since(start).Round(time.Microsecond))
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// errTooBusy is how an overloaded server answers.
var errTooBusy = errors.New("the server is busy; try again shortly")
