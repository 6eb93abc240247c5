package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/booking"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
)

// fail answers an error: a request mistake with 400 and its field, a
// missing thing with 404, a refusal of the books with 409 or 400, a busy
// server with 503; anything else is logged and answered 500 without its
// details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var bf *badField
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		writeError(w, http.StatusRequestEntityTooLarge, "body", fmt.Sprintf("the body is larger than %d bytes", mb.Limit))
	case errors.As(err, &bf) && bf.field == "Content-Type":
		writeError(w, http.StatusUnsupportedMediaType, bf.field, bf.err.Error())
	case errors.As(err, &bf):
		writeError(w, http.StatusBadRequest, bf.field, bf.err.Error())
	case errors.Is(err, ledger.ErrNotFound):
		writeError(w, http.StatusNotFound, "", err.Error())
	case errors.Is(err, booking.ErrNothingToBook), errors.Is(err, errReconciling), errors.Is(err, errNoScopes):
		writeError(w, http.StatusConflict, "", err.Error())
	case errors.Is(err, errTooBusy), errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "", errTooBusy.Error())
	case errors.Is(err, ledger.ErrInvalidRequest), errors.Is(err, ledger.ErrInvalidAmount), errors.Is(err, ledger.ErrClosedPeriod),
		errors.Is(err, ledger.ErrUnknownCurrency), errors.Is(err, ledger.ErrInvalidTime):
		writeError(w, http.StatusBadRequest, "", err.Error())
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
	default:
		s.o.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "", "internal error (the server's log has it)")
	}
}

// balanceJSON is one balance as `settle balance --format json` prints it.
type balanceJSON struct {
	Account  string `json:"account"`
	Currency string `json:"currency"`
	Balance  string `json:"balance"`
	Pending  string `json:"pending"`
}

func (s *Server) getBalances(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "account", "as_of")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	asOf, err := dateParam(q, "as_of", true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if a := q["account"]; a != "" {
		if _, err := ledger.AccountTypeOf(a); err != nil {
			s.fail(w, r, &badField{"account", err})
			return
		}
	}
	var bals []ledger.Balance
	if asOf.IsZero() {
		bals, err = s.books.Balances(r.Context(), q["account"])
	} else {
		bals, err = s.books.BalancesAsOf(r.Context(), q["account"], asOf)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		AsOf     string        `json:"as_of,omitempty"`
		Balances []balanceJSON `json:"balances"`
	}{Balances: []balanceJSON{}}
	if !asOf.IsZero() {
		out.AsOf = asOf.Format(time.RFC3339Nano)
	}
	for _, b := range bals {
		cur, err := s.books.Currency(b.Currency)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pending := b.Pending
		if !b.Type.DebitNormal() {
			pending = -pending
		}
		out.Balances = append(out.Balances, balanceJSON{b.Account, cur.Upper(), ledger.FormatMinor(b.Normal(), cur.Digits),
			ledger.FormatMinor(pending, cur.Digits)})
	}
	writeJSON(w, http.StatusOK, out)
}

type postingJSON struct {
	Account  string `json:"account"`
	Currency string `json:"currency"`
	Debit    string `json:"debit,omitempty"`
	Credit   string `json:"credit,omitempty"`
}

// sourceJSON is the provider object an entry records.
type sourceJSON struct {
	Provider string `json:"provider"`
	Type     string `json:"type"`
	ID       string `json:"id"`
	Ref      string `json:"ref,omitempty"`
}

type entryJSON struct {
	ID          int64             `json:"id"`
	Key         string            `json:"key"`
	Phase       string            `json:"phase"`
	OccurredAt  string            `json:"occurred_at"`
	RecordedAt  string            `json:"recorded_at"`
	Description string            `json:"description"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Source      *sourceJSON       `json:"source,omitempty"`
	Reverses    int64             `json:"reverses,omitempty"`
	Postings    []postingJSON     `json:"postings"`
}

func toEntryJSON(e *ledger.Entry) entryJSON {
	out := entryJSON{ID: e.ID, Key: e.Key, Phase: string(e.Phase), OccurredAt: e.OccurredAt.UTC().Format(time.RFC3339Nano),
		RecordedAt: e.RecordedAt.UTC().Format(time.RFC3339Nano), Description: e.Description, Metadata: e.Metadata,
		Reverses: e.Reverses, Postings: []postingJSON{}}
	if e.Source != (ledger.Source{}) {
		out.Source = &sourceJSON{Provider: e.Source.Provider, Type: e.Source.Type, ID: e.Source.ID, Ref: e.Source.Ref}
	}
	for _, p := range e.Postings {
		pj := postingJSON{Account: p.Account, Currency: strings.ToUpper(p.Currency)}
		if p.Amount >= 0 {
			pj.Debit = app.Money(p.Currency, p.Amount)
		} else {
			pj.Credit = app.Money(p.Currency, -p.Amount)
		}
		out.Postings = append(out.Postings, pj)
	}
	return out
}

// errEnough stops a stream once a page is full.
var errEnough = errors.New("page full")

func (s *Server) getEntries(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "account", "from", "to", "limit", "offset", "after")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var f ledger.EntryFilter
	f.Account = q["account"]
	if f.From, err = dateParam(q, "from", false); err == nil {
		f.To, err = dateParam(q, "to", false)
	}
	limit, offset, after := 0, 0, 0
	if err == nil {
		limit, err = intParam(q, "limit", 100, 1000)
	}
	if err == nil {
		offset, err = intParam(q, "offset", 0, 0)
	}
	if err == nil {
		after, err = intParam(q, "after", 0, 0)
	}
	if err == nil && after > 0 && offset > 0 {
		err = fieldErr("after", "give after or offset, not both")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if limit == 0 {
		limit = 100
	}
	out := struct {
		Entries    []entryJSON `json:"entries"`
		Limit      int         `json:"limit"`
		Offset     int         `json:"offset"`
		NextOffset *int        `json:"next_offset,omitempty"`
		NextAfter  *int64      `json:"next_after,omitempty"`
	}{Entries: []entryJSON{}, Limit: limit, Offset: offset}
	// A page after an entry starts with a seek, wherever the entry is; a
	// page at an offset steps over every entry before it, in SQL where the
	// store can (90 ms at two million, 7–12 s when they were read here).
	f.Offset = offset
	err = s.books.View(r.Context(), func(tx ledger.ReadTx) error {
		if after > 0 {
			e, err := tx.Entry(r.Context(), int64(after))
			if errors.Is(err, ledger.ErrNotFound) {
				return fieldErr("after", "no entry %d", after)
			}
			if err != nil {
				return err
			}
			f.After = ledger.CursorOf(e)
		}
		return tx.EachEntry(r.Context(), f, func(e *ledger.Entry) error {
			if len(out.Entries) == limit {
				last := out.Entries[limit-1].ID
				out.NextAfter = &last
				if after == 0 {
					next := offset + limit
					out.NextOffset = &next
				}
				return errEnough
			}
			out.Entries = append(out.Entries, toEntryJSON(e))
			return nil
		})
	})
	if err != nil && !errors.Is(err, errEnough) {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// runJSON is one reconciliation run, with the keys of `settle reconcile
// --format json`.
type runJSON struct {
	RunID      int64  `json:"run_id"`
	Provider   string `json:"provider,omitempty"`
	Grain      string `json:"grain,omitempty"`
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
	StartedAt  string `json:"started_at,omitempty"`
	FinishedAt string `json:"finished_at,omitempty"`
	reconcile.Summary
	Opened    int `json:"exceptions_opened"`
	Closed    int `json:"exceptions_closed"`
	Adopted   int `json:"adopted"`
	Uncovered int `json:"uncovered,omitempty"`
	// Took is where a run made by this request spent its time (stored
	// runs, listed by GET /api/runs, do not keep it).
	Took *app.TookMS `json:"took_ms,omitempty"`
}

func toRunJSON(r *reconcile.Run) runJSON {
	out := runJSON{RunID: r.ID, Provider: r.Provider, Grain: string(r.Grain), Summary: r.Summary, Opened: r.Opened,
		Closed: r.Closed, Adopted: r.Adopted}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	out.From, out.To, out.StartedAt, out.FinishedAt = stamp(r.From), stamp(r.To), stamp(r.StartedAt), stamp(r.FinishedAt)
	return out
}

func (s *Server) getRuns(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "provider")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs, err := s.st.Runs(r.Context(), q["provider"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Runs []runJSON `json:"runs"`
	}{Runs: []runJSON{}}
	for _, run := range runs {
		out.Runs = append(out.Runs, toRunJSON(run))
	}
	writeJSON(w, http.StatusOK, out)
}

// reconcileJSON is what a reconciliation answers: totals over its runs
// (run_id is the first run's), each run, and the exceptions left open.
type reconcileJSON struct {
	runJSON
	RunIDs          []int64   `json:"run_ids"`
	OpenExceptions  int       `json:"open_exceptions"`
	NothingCompared bool      `json:"nothing_compared"`
	Runs            []runJSON `json:"runs"`
}

var (
	errReconciling = errors.New("a reconciliation started here is still running; try again when it ends")
	errNoScopes    = errors.New("no imported provider records to reconcile; import an export first")
)

// reconcile runs every provider (or one) and grain over a window, one at
// a time per server.
func (s *Server) reconcile(ctx context.Context, prov string, from, to time.Time) (*reconcileJSON, error) {
	if !s.reconciling.TryLock() {
		return nil, errReconciling
	}
	defer s.reconciling.Unlock()
	scopes, err := app.Scopes(ctx, s.st, prov, from, to)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		return nil, errNoScopes
	}
	mopts := app.Options{Now: s.o.Now, Logger: s.o.Logger}
	if s.o.Match != nil {
		mopts = *s.o.Match
	}
	out := &reconcileJSON{Runs: []runJSON{}}
	for _, sc := range scopes {
		rep, err := app.Reconcile(ctx, s.st, s.books, sc, &mopts)
		if err != nil {
			return nil, fmt.Errorf("reconciling %s (%s grain): %w", sc.Provider, sc.Grain, err)
		}
		rj := toRunJSON(rep.Run)
		rj.Uncovered = rep.Uncovered
		rj.Took = rep.Took.MS()
		out.Runs = append(out.Runs, rj)
		out.RunIDs = append(out.RunIDs, rj.RunID)
		out.Summary.Add(rj.Summary)
		out.Opened += rj.Opened
		out.Closed += rj.Closed
		out.Adopted += rj.Adopted
		out.Uncovered += rj.Uncovered
		out.Took = out.Took.Plus(rj.Took)
	}
	out.RunID = out.RunIDs[0]
	out.NothingCompared = out.ProviderRecords+out.LedgerRecords == 0
	open, err := s.st.CountExceptions(ctx, reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen, Provider: prov})
	if err != nil {
		return nil, err
	}
	out.OpenExceptions = open
	return out, nil
}

func (s *Server) postReconcile(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Provider string `json:"provider"`
		From     string `json:"from"`
		To       string `json:"to"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	from, to, err := windowParams(req.From, req.To)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.reconcile(r.Context(), req.Provider, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// exceptionFilter reads the filters of an exception list from q.
func (s *Server) exceptionFilter(q map[string]string, defLimit int) (reconcile.ExceptionFilter, error) {
	f := reconcile.ExceptionFilter{Provider: q["provider"], Kind: reconcile.OutcomeKind(q["kind"])}
	switch st := reconcile.ExceptionStatus(q["status"]); st {
	case "":
		f.Status = reconcile.ExceptionOpen
	case "all":
	case reconcile.ExceptionOpen, reconcile.ExceptionResolved, reconcile.ExceptionIgnored:
		f.Status = st
	default:
		return f, fieldErr("status", "must be open, resolved, ignored or all, not %q", st)
	}
	if f.Kind != "" && !knownKind(f.Kind) {
		return f, fieldErr("kind", "must be one of %s, not %q", strings.Join(kindNames(), ", "), f.Kind)
	}
	age, err := intParam(q, "age", 0, 100000)
	if err != nil {
		return f, err
	}
	if age > 0 {
		f.Before = s.o.Now().UTC().Add(-time.Duration(age) * 24 * time.Hour)
	}
	if f.Limit, err = intParam(q, "limit", defLimit, 1000); err != nil {
		return f, err
	}
	if f.Limit == 0 {
		f.Limit = defLimit
	}
	f.Offset, err = intParam(q, "offset", 0, 0)
	return f, err
}

// exceptionKinds are the kinds an exception can have.
var exceptionKinds = []reconcile.OutcomeKind{reconcile.Mismatched, reconcile.MissingInLedger, reconcile.MissingAtProvider,
	reconcile.Duplicate, reconcile.PayoutMismatch}

func knownKind(k reconcile.OutcomeKind) bool {
	for _, c := range exceptionKinds {
		if c == k {
			return true
		}
	}
	return false
}

func kindNames() []string {
	var out []string
	for _, k := range exceptionKinds {
		out = append(out, string(k))
	}
	return out
}

// page of exceptions: one more than asked is loaded, to know whether there
// is a next page without counting them all.
func (s *Server) pageOfExceptions(ctx context.Context, f reconcile.ExceptionFilter) ([]reconcile.Exception, bool, error) {
	f.Limit++
	list, err := s.st.Exceptions(ctx, f)
	if err != nil {
		return nil, false, err
	}
	more := len(list) == f.Limit
	if more {
		list = list[:f.Limit-1]
	}
	return list, more, nil
}

func (s *Server) getExceptions(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "status", "provider", "kind", "age", "limit", "offset")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.exceptionFilter(q, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, more, err := s.pageOfExceptions(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Exceptions []app.ExceptionJSON `json:"exceptions"`
		Limit      int                 `json:"limit"`
		Offset     int                 `json:"offset"`
		NextOffset *int                `json:"next_offset,omitempty"`
	}{Exceptions: make([]app.ExceptionJSON, 0, len(list)), Limit: f.Limit, Offset: f.Offset}
	for _, e := range list {
		out.Exceptions = append(out.Exceptions, app.ToExceptionJSON(e))
	}
	if more {
		next := f.Offset + f.Limit
		out.NextOffset = &next
	}
	writeJSON(w, http.StatusOK, out)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fieldErr("id", "%q is not an exception id", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) getException(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := app.Detail(r.Context(), s.st, s.books, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, app.ToDetailJSON(d))
}

// resolutionJSON is what resolving answers: the exception as it stands
// after (before, for a dry run), and the entry booked or previewed.
type resolutionJSON struct {
	Exception       app.ExceptionJSON `json:"exception"`
	AlreadyResolved bool              `json:"already_resolved"`
	DryRun          bool              `json:"dry_run"`
	Entry           *entryJSON        `json:"entry,omitempty"`
	ClosedThrough   string            `json:"closed_through,omitempty"`
}

type resolveRequest struct {
	Note   string `json:"note"`
	Book   bool   `json:"book"`
	DryRun bool   `json:"dry_run"`
}

// resolve resolves an exception and renders what happened.
func (s *Server) resolve(ctx context.Context, id int64, req resolveRequest) (*resolutionJSON, error) {
	if req.DryRun && !req.Book {
		return nil, fieldErr("dry_run", "previews the entry that book would post; set book too")
	}
	res, err := app.Resolve(ctx, s.st, s.books, app.ResolveRequest{ExceptionID: id, Note: req.Note, Book: req.Book,
		DryRun: req.DryRun, Now: s.o.Now})
	if err != nil {
		return nil, err
	}
	out := &resolutionJSON{AlreadyResolved: res.AlreadyResolved, DryRun: res.DryRun}
	if res.Entry != nil {
		e := toEntryJSON(res.Entry)
		out.Entry = &e
	}
	if !res.ClosedThrough.IsZero() {
		out.ClosedThrough = res.ClosedThrough.UTC().Format(time.RFC3339)
	}
	after, err := s.st.Exception(ctx, id)
	if err != nil {
		return nil, err
	}
	out.Exception = app.ToExceptionJSON(*after)
	return out, nil
}

func (s *Server) postResolve(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req resolveRequest
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.resolve(r.Context(), id, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) postIgnore(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req struct {
		Note string `json:"note"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.ignore([]int64{id}, req.Note, r); err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.st.Exception(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Exception app.ExceptionJSON `json:"exception"`
	}{app.ToExceptionJSON(*e)})
}

// maxBulk bounds the exceptions one bulk action names.
const maxBulk = 1000

func (s *Server) ignore(ids []int64, note string, r *http.Request) error {
	if strings.TrimSpace(note) == "" {
		return fieldErr("note", "ignoring needs a note saying why")
	}
	if len(ids) == 0 {
		return fieldErr("ids", "name at least one exception")
	}
	if len(ids) > maxBulk {
		return fieldErr("ids", "at most %d exceptions at once", maxBulk)
	}
	return app.IgnoreAll(r.Context(), s.st, ids, note, s.o.Now().UTC())
}

func (s *Server) postIgnoreMany(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs  []int64 `json:"ids"`
		Note string  `json:"note"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.ignore(req.IDs, req.Note, r); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Ignored []int64 `json:"ignored"`
	}{req.IDs})
}

// importJSON is what an import answers.
type importJSON struct {
	ImportID      int64    `json:"import_id"`
	Records       int      `json:"records"`
	Added         int      `json:"added"`
	Updated       int      `json:"updated"`
	Quarantined   int      `json:"quarantined"`
	AlreadyLoaded bool     `json:"already_loaded"`
	Booked        int      `json:"booked"`
	Problems      []string `json:"problems,omitempty"`
}

func (s *Server) postImport(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "name", "format", "provider", "skip_invalid", "book")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flags := map[string]bool{}
	for _, k := range []string{"skip_invalid", "book"} {
		if v, ok := q[k]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				s.fail(w, r, fieldErr(k, "must be true or false, not %q", v))
				return
			}
			flags[k] = b
		}
	}
	if f := q["format"]; f != "" && !knownFormat(f) {
		s.fail(w, r, fieldErr("format", "must be one of %s, not %q", strings.Join(importers.Formats(), ", "), f))
		return
	}
	name := q["name"]
	if name == "" {
		name = "upload"
	}
	// The export is spooled to a file: an import reads it twice (for its
	// hash, then its records) and memory must not grow with its size.
	tmp, err := os.CreateTemp("", "settle-upload-*")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := tmp.ReadFrom(http.MaxBytesReader(w, r.Body, s.o.MaxImportBytes)); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := tmp.Seek(0, 0); err != nil {
		s.fail(w, r, err)
		return
	}
	stats, problems, err := app.Import(r.Context(), s.st, name, tmp, app.ImportOptions{Format: q["format"], Provider: q["provider"],
		SkipInvalid: flags["skip_invalid"], Readers: &importers.Options{}})
	out := importJSON{ImportID: stats.ImportID, Records: stats.Records, Added: stats.Added, Updated: stats.Updated,
		Quarantined: stats.Quarantined, AlreadyLoaded: stats.AlreadyLoaded}
	for _, p := range problems {
		out.Problems = append(out.Problems, p.Error())
	}
	switch {
	case errors.Is(err, app.ErrRejected), errors.Is(err, importers.ErrUnknownFormat), errors.Is(err, importers.ErrAmbiguousFormat),
		errors.Is(err, importers.ErrMalformed), errors.Is(err, importers.ErrMissingColumn), errors.Is(err, ledger.ErrInvalidRequest):
		out := apiError{Error: err.Error(), Field: "body"}
		for _, p := range problems {
			var pe *importers.ParseError
			if errors.As(p, &pe) {
				out.Problems = append(out.Problems, problem{Line: pe.Line, Field: pe.Column, Message: pe.Err.Error()})
			} else {
				out.Problems = append(out.Problems, problem{Message: p.Error()})
			}
		}
		writeJSON(w, http.StatusBadRequest, out)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if flags["book"] && !stats.AlreadyLoaded {
		if out.Booked, err = app.BookImport(r.Context(), s.st, s.books, stats.ImportID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	status := http.StatusCreated
	if stats.AlreadyLoaded {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
}

func knownFormat(f string) bool {
	for _, k := range importers.Formats() {
		if k == f {
			return true
		}
	}
	return false
}

func (s *Server) getVerify(w http.ResponseWriter, r *http.Request) {
	vs, err := s.books.Verify(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		OK         bool     `json:"ok"`
		Violations []string `json:"violations"`
	}{OK: len(vs) == 0, Violations: []string{}}
	for _, v := range vs {
		out.Violations = append(out.Violations, fmt.Sprint(v))
	}
	writeJSON(w, http.StatusOK, out)
}
