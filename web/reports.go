package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/reports"
)

type reportJSON struct {
	Name    string   `json:"name"`
	Summary string   `json:"summary"`
	Params  []string `json:"params"`
	URL     string   `json:"url"`
}

// reportParam maps the command line's option names to query parameters.
func reportParam(use string) string { return strings.ReplaceAll(use, "-", "_") }

func (s *Server) reportList() []reportJSON {
	var out []reportJSON
	for _, rep := range app.Reports(s.st) {
		rj := reportJSON{Name: rep.Name, Summary: rep.Summary, Params: []string{}, URL: "/api/reports/" + rep.Name + ".csv"}
		for _, u := range rep.Uses {
			rj.Params = append(rj.Params, reportParam(u))
		}
		out = append(out, rj)
	}
	return out
}

func (s *Server) getReports(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Reports []reportJSON `json:"reports"`
	}{s.reportList()})
}

// lazyWriter holds back the response's headers until the report writes
// its first byte, so that a report failing at once still gets a JSON error.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
	name    string
}

func (l *lazyWriter) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+l.name+`.csv"`)
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(b)
}

// getReport downloads a report as CSV: /api/reports/NAME.csv with the
// report's options (from, to, as_of, account, provider) as parameters.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, ok := strings.CutSuffix(file, ".csv")
	rep, found := app.FindReport(s.st, name)
	if !ok || !found {
		writeError(w, http.StatusNotFound, "name", "no report "+file+"; GET /api/reports lists them (as NAME.csv)")
		return
	}
	q, err := query(r, "from", "to", "as_of", "account", "provider")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for k := range q {
		if !slices.ContainsFunc(rep.Uses, func(u string) bool { return reportParam(u) == k }) {
			s.fail(w, r, fieldErr(k, "report %s does not take %s", rep.Name, k))
			return
		}
	}
	var opts reports.Options
	if opts.From, err = dateParam(q, "from", false); err == nil {
		if opts.To, err = dateParam(q, "to", false); err == nil {
			opts.AsOf, err = dateParam(q, "as_of", true)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !opts.From.IsZero() && !opts.To.IsZero() && !opts.From.Before(opts.To) {
		s.fail(w, r, fieldErr("to", "must be after from"))
		return
	}
	opts.Account, opts.Provider = q["account"], q["provider"]
	if rep.Name == "account-statement" && opts.Account == "" {
		s.fail(w, r, fieldErr("account", "account-statement needs an account, e.g. assets:stripe:available"))
		return
	}
	lw := &lazyWriter{w: w, name: rep.Name}
	cw := reports.NewCSVWriter(lw)
	err = rep.Run(r.Context(), s.books, opts, cw)
	if err == nil {
		err = cw.Close()
	}
	switch {
	case err == nil && !lw.started:
		lw.Write(nil)
	case err != nil && !lw.started:
		if errors.Is(err, reports.ErrInvalidOptions) {
			err = &badField{field: "query", err: err}
		}
		s.fail(w, r, err)
	case err != nil:
		// Headers are gone: cut the connection so the download is seen
		// to be incomplete rather than taken for the whole report.
		s.o.Logger.Error("report failed mid-way", "report", rep.Name, "err", err)
		panic(http.ErrAbortHandler)
	}
}
