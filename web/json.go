package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiError is every error the API returns: a message, the field at fault
// (a query parameter, a body field), and for event posts every problem
// with its line.
type apiError struct {
	Error    string    `json:"error"`
	Field    string    `json:"field,omitempty"`
	Problems []problem `json:"problems,omitempty"`
}

// problem is one bad line of an event post.
type problem struct {
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, apiError{Error: msg, Field: field})
}

// badField is a request mistake in one field: 400 naming it.
type badField struct {
	field string
	err   error
}

func (e *badField) Error() string { return e.field + ": " + e.err.Error() }
func (e *badField) Unwrap() error { return e.err }

func fieldErr(field, format string, args ...any) error {
	return &badField{field: field, err: fmt.Errorf(format, args...)}
}

// mediaType is the request's content type without parameters, lower case.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

// decodeBody reads a JSON action body (an object; empty means {}) into v,
// refusing unknown fields and anything but JSON, so that a form posted
// from another site cannot pass for an action.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if mt := mediaType(r); mt != "application/json" {
		return &badField{field: "Content-Type", err: errors.New("send application/json")}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return &badField{field: "body", err: err}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return fieldErr(te.Field, "must be %s", te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return fieldErr(name, "unknown field")
		}
		return fieldErr("body", "not a JSON object: %v", err)
	}
	if dec.More() {
		return fieldErr("body", "more than one JSON value")
	}
	return nil
}

// query reads the query parameters a handler knows and refuses any other,
// so that a misspelt filter is an error rather than silently ignored.
func query(r *http.Request, known ...string) (map[string]string, error) {
	out := map[string]string{}
	for k, vs := range r.URL.Query() {
		ok := false
		for _, n := range known {
			ok = ok || n == k
		}
		if !ok {
			return nil, fieldErr(k, "unknown query parameter (known: %s)", strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return nil, fieldErr(k, "given %d times", len(vs))
		}
		out[k] = strings.TrimSpace(vs[0])
	}
	return out, nil
}

// intParam reads a non-negative integer parameter, def when absent, at
// most max.
func intParam(q map[string]string, name string, def, max int) (int, error) {
	s, ok := q[name]
	if !ok || s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fieldErr(name, "must be a whole number ≥ 0, not %q", s)
	}
	if max > 0 && n > max {
		return 0, fieldErr(name, "must be at most %d", max)
	}
	return n, nil
}

// windowParams reads a reconciliation's window, from and to (exclusive),
// either of them empty for none.
func windowParams(fromS, toS string) (from, to time.Time, err error) {
	q := map[string]string{"from": fromS, "to": toS}
	if from, err = dateParam(q, "from", false); err != nil {
		return from, to, err
	}
	if to, err = dateParam(q, "to", false); err != nil {
		return from, to, err
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, fieldErr("to", "must be after from")
	}
	return from, to, nil
}

// dateParam reads YYYY-MM-DD or RFC 3339; with endOfDay a bare date is its
// last instant (an inclusive as-of), else its start.
func dateParam(q map[string]string, name string, endOfDay bool) (time.Time, error) {
	s := q[name]
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fieldErr(name, "%q is not a date (YYYY-MM-DD) or RFC 3339 time", s)
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, nil
}
