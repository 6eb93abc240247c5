package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/reconcile"
)

// page is what every page template gets.
type page struct {
	Title string
	Nav   string // the tab to mark
	CSRF  string
	Flash string
	Error string
	Data  any
}

// parsePages parses each page with the layout around it.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"upper": strings.ToUpper}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(assets, n)
		if err != nil {
			return nil, err
		}
		out[base] = t
	}
	return out, nil
}

func (s *Server) render(w http.ResponseWriter, status int, name string, p *page) {
	p.CSRF = s.formToken
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.o.Logger.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// pageError shows an error on a page of its own, with the status fail
// would give the API.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	rec := &statusOnly{header: http.Header{}}
	s.fail(rec, r, err)
	msg := err.Error()
	if rec.status == http.StatusInternalServerError {
		msg = "internal error (the server's log has it)"
	}
	s.render(w, rec.status, "error.html", &page{Title: "Error", Error: msg})
}

// statusOnly catches the status fail chooses, discarding the body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.status = code }

// flashes are the messages a redirect after an action may ask for.
var flashes = map[string]string{
	"resolved":   "Resolved.",
	"booked":     "Fix booked and the exception resolved. The next reconciliation run confirms it.",
	"ignored":    "Ignored.",
	"reconciled": "Reconciliation finished.",
	"already":    "It was resolved already; nothing changed.",
}

// exceptionRow is one line of the exceptions table.
type exceptionRow struct {
	ID                                 int64
	Kind, Provider, Ref, Subject       string
	Status, Date, Age, Currency, What  string
	Ledger, ProviderAmount, Difference string
	DiffField                          string
}

func (s *Server) toRow(e reconcile.Exception) exceptionRow {
	cur := strings.ToUpper(e.Currency)
	money := func(v int64) string { return app.Money(e.Currency, v) }
	signed := func(v int64) string {
		if v > 0 {
			return "+" + money(v)
		}
		return money(v)
	}
	row := exceptionRow{ID: e.ID, Kind: string(e.Kind), Provider: e.Provider, Ref: e.Ref, Subject: e.Subject,
		Status: string(e.Status), Date: e.At.UTC().Format("2006-01-02"), Currency: cur,
		What: strings.Join(app.Differences(e), "; ")}
	if row.Ref == "" {
		row.Ref = e.ProviderID
		if row.Ref == "" {
			row.Ref = e.LedgerID
		}
	}
	if !e.At.IsZero() {
		row.Age = strconv.Itoa(int(s.o.Now().Sub(e.At).Hours()/24)) + " d"
	}
	amount := money(e.Amount)
	switch e.Kind {
	case reconcile.MissingInLedger:
		row.ProviderAmount, row.Difference = amount, signed(e.Amount)
	case reconcile.MissingAtProvider:
		row.Ledger, row.Difference = amount, signed(-e.Amount)
	case reconcile.PayoutMismatch:
		row.Ledger, row.ProviderAmount = amount, amount
		if p := e.Payout; p != nil {
			row.Difference, row.DiffField = signed(p.Amount-p.SweptNet), "swept"
		}
	default:
		row.Ledger, row.ProviderAmount = amount, amount
	}
	// The first amount that differs gives the difference: provider − ledger.
	for _, field := range []string{reconcile.FieldAmount, reconcile.FieldNet, reconcile.FieldFee} {
		for _, d := range e.Diffs {
			if d.Field != field {
				continue
			}
			l, err1 := strconv.ParseInt(d.Ledger, 10, 64)
			p, err2 := strconv.ParseInt(d.Provider, 10, 64)
			if err1 != nil || err2 != nil || row.DiffField != "" {
				continue
			}
			if field == reconcile.FieldAmount {
				row.Ledger, row.ProviderAmount = money(l), money(p)
			}
			row.Difference, row.DiffField = signed(p-l), field
		}
	}
	return row
}

type exceptionsData struct {
	Rows                   []exceptionRow
	Status, Provider, Kind string
	Age, Limit, Offset     int
	Kinds, Providers       []string
	Statuses               []string
	First, Last            int
	Prev, Next             string
}

func (s *Server) exceptionsPage(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "status", "provider", "kind", "age", "limit", "offset", "done")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	f, err := s.exceptionFilter(q, 50)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	list, more, err := s.pageOfExceptions(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := exceptionsData{Status: q["status"], Provider: f.Provider, Kind: string(f.Kind), Limit: f.Limit, Offset: f.Offset,
		Kinds: kindNames(), Statuses: []string{"open", "resolved", "ignored", "all"}, First: f.Offset + 1, Last: f.Offset + len(list)}
	if d.Status == "" {
		d.Status = "open"
	}
	d.Age, _ = intParam(q, "age", 0, 0)
	scopes, err := app.Scopes(r.Context(), s.st, "", time.Time{}, time.Time{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, sc := range scopes {
		if len(d.Providers) == 0 || d.Providers[len(d.Providers)-1] != sc.Provider {
			d.Providers = append(d.Providers, sc.Provider)
		}
	}
	for _, e := range list {
		d.Rows = append(d.Rows, s.toRow(e))
	}
	link := func(offset int) string {
		v := url.Values{}
		for k, x := range map[string]string{"status": d.Status, "provider": d.Provider, "kind": d.Kind} {
			if x != "" {
				v.Set(k, x)
			}
		}
		if d.Age > 0 {
			v.Set("age", strconv.Itoa(d.Age))
		}
		if f.Limit != 50 {
			v.Set("limit", strconv.Itoa(f.Limit))
		}
		if offset > 0 {
			v.Set("offset", strconv.Itoa(offset))
		}
		return "/exceptions?" + v.Encode()
	}
	if f.Offset > 0 {
		d.Prev = link(max(f.Offset-f.Limit, 0))
	}
	if more {
		d.Next = link(f.Offset + f.Limit)
	}
	s.render(w, http.StatusOK, "exceptions.html", &page{Title: "Exceptions", Nav: "exceptions", Flash: flashes[q["done"]], Data: d})
}

// fieldRow is one field of an exception's two sides.
type fieldRow struct {
	Name, Ledger, Provider string
	Differs                bool
}

type detailData struct {
	Row       exceptionRow
	E         app.ExceptionJSON
	Fields    []fieldRow
	Raw       string
	RawSource string
	History   []app.HistoryJSON
	Preview   *resolutionJSON
	Note      string
}

func (s *Server) detail(w http.ResponseWriter, r *http.Request, id int64, status int, p *page) {
	d, err := app.Detail(r.Context(), s.st, s.books, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	dj := app.ToDetailJSON(d)
	data, _ := p.Data.(*detailData)
	if data == nil {
		data = &detailData{}
	}
	data.Row, data.E, data.Raw, data.RawSource, data.History = s.toRow(*d.Exception), dj.ExceptionJSON, d.ProviderRaw, d.ProviderSource, dj.History
	differs := map[string]bool{}
	for _, df := range d.Exception.Diffs {
		differs[df.Field] = true
	}
	for _, name := range d.FieldNames() {
		data.Fields = append(data.Fields, fieldRow{Name: name, Ledger: d.Field(d.LedgerFields, name),
			Provider: d.Field(d.ProviderFields, name), Differs: differs[name]})
	}
	p.Data, p.Nav = data, "exceptions"
	p.Title = fmt.Sprintf("Exception %d", id)
	s.render(w, status, "exception.html", p)
}

func (s *Server) exceptionPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.detail(w, r, id, http.StatusOK, &page{Flash: flashes[r.URL.Query().Get("done")]})
}

func (s *Server) resolveForm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !s.checkForm(w, r) {
		return
	}
	req := resolveRequest{Note: r.PostForm.Get("note")}
	switch a := r.PostForm.Get("action"); a {
	case "preview":
		req.Book, req.DryRun = true, true
	case "book":
		req.Book = true
	case "resolve", "":
	default:
		s.pageError(w, r, fieldErr("action", "must be preview, book or resolve, not %q", a))
		return
	}
	res, err := s.resolve(r.Context(), id, req)
	if err != nil {
		p := &page{Error: err.Error(), Data: &detailData{Note: req.Note}}
		rec := &statusOnly{header: http.Header{}}
		s.fail(rec, r, err)
		s.detail(w, r, id, rec.status, p)
		return
	}
	if req.DryRun {
		s.detail(w, r, id, http.StatusOK, &page{Data: &detailData{Preview: res, Note: req.Note}})
		return
	}
	done := "resolved"
	switch {
	case res.AlreadyResolved:
		done = "already"
	case res.Entry != nil:
		done = "booked"
	}
	http.Redirect(w, r, fmt.Sprintf("/exceptions/%d?done=%s", id, done), http.StatusSeeOther)
}

func (s *Server) ignoreForm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !s.checkForm(w, r) {
		return
	}
	if err := s.ignore([]int64{id}, r.PostForm.Get("note"), r); err != nil {
		rec := &statusOnly{header: http.Header{}}
		s.fail(rec, r, err)
		s.detail(w, r, id, rec.status, &page{Error: err.Error()})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/exceptions/%d?done=ignored", id), http.StatusSeeOther)
}

func (s *Server) ignoreManyForm(w http.ResponseWriter, r *http.Request) {
	if !s.checkForm(w, r) {
		return
	}
	var ids []int64
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.pageError(w, r, fieldErr("id", "%q is not an exception id", v))
			return
		}
		ids = append(ids, id)
	}
	if err := s.ignore(ids, r.PostForm.Get("note"), r); err != nil {
		s.pageError(w, r, err)
		return
	}
	back := r.PostForm.Get("back")
	if !strings.HasPrefix(back, "/exceptions") || strings.HasPrefix(back, "//") {
		back = "/exceptions"
	}
	u, err := url.Parse(back)
	if err != nil {
		u = &url.URL{Path: "/exceptions"}
	}
	v := u.Query()
	v.Set("done", "ignored")
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.Path+"?"+u.RawQuery, http.StatusSeeOther)
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	runs, err := s.st.Runs(r.Context(), "")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var rows []runJSON
	for _, run := range runs {
		rows = append(rows, toRunJSON(run))
	}
	s.render(w, http.StatusOK, "runs.html", &page{Title: "Runs", Nav: "runs", Flash: flashes[r.URL.Query().Get("done")], Data: rows})
}

func (s *Server) reconcileForm(w http.ResponseWriter, r *http.Request) {
	if !s.checkForm(w, r) {
		return
	}
	// A window, as the API's from and to, keeps a run on long books to the
	// days asked about; without one it covers all of time.
	from, to, err := windowParams(r.PostForm.Get("from"), r.PostForm.Get("to"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if _, err := s.reconcile(r.Context(), r.PostForm.Get("provider"), from, to); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/runs?done=reconciled", http.StatusSeeOther)
}

func (s *Server) reportsPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "reports.html", &page{Title: "Reports", Nav: "reports", Data: s.reportList()})
}
