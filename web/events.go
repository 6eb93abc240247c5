package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/settlehq/settle/feed"
)

// postEvents records events of the feed (see package feed): one event as
// a JSON object (application/json), or many as JSON Lines
// (application/x-ndjson, application/jsonl), all or nothing. The event id
// is its idempotency key; an Idempotency-Key header is the id of a single
// event that has none (and must equal the id of one that has), and names a
// batch: a line without an id gets KEY:LINE. 201 when something new was
// recorded, 200 when everything was recorded before, 400 with every bad
// line and field otherwise (and nothing written).
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	mt := mediaType(r)
	batch := false
	switch mt {
	case "application/json":
	case "application/x-ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines":
		batch = true
	default:
		s.fail(w, r, &badField{field: "Content-Type", err: errors.New("send application/json (one event) or application/x-ndjson (JSON Lines)")})
		return
	}
	release, ok := s.acquireWriter(r.Context())
	if !ok {
		s.fail(w, r, errTooBusy)
		return
	}
	defer release()
	// The body is read whole before the database transaction starts, so a
	// slow client never holds the write lock.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxEventBytes))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if batch {
		body = keyLines(body, key)
	} else if body, err = oneEvent(body, key); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error(), Field: fieldOf(err),
			Problems: []problem{{Line: 1, Field: fieldOf(err), Message: err.Error()}}})
		return
	}
	sum, errs := s.record(r.Context(), body)
	if len(errs) > 0 {
		var probs []problem
		var other error
		for _, err := range errs {
			var fe *feed.Error
			if errors.As(err, &fe) {
				probs = append(probs, problem{Line: fe.Line, Field: fe.Field, Message: fe.Err.Error()})
			} else if other == nil && !strings.HasPrefix(err.Error(), "… and ") {
				other = err
			}
		}
		if other != nil {
			s.fail(w, r, other)
			return
		}
		out := apiError{Error: fmt.Sprintf("%d bad lines; nothing was recorded", len(probs)), Problems: probs}
		if len(probs) == 1 {
			out.Error = fmt.Sprintf("line %d: %s; nothing was recorded", probs[0].Line, probs[0].Message)
		}
		if len(probs) > 0 {
			out.Field = probs[0].Field
		}
		writeJSON(w, http.StatusBadRequest, out)
		return
	}
	status := http.StatusOK
	if sum.Applied > 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, struct {
		Recorded        int `json:"recorded"`
		AlreadyRecorded int `json:"already_recorded"`
	}{sum.Applied, sum.Replayed})
}

func fieldOf(err error) string {
	var bf *badField
	if errors.As(err, &bf) {
		return bf.field
	}
	return ""
}

// oneEvent turns a single JSON event, however laid out, into one feed line
// carrying key as its id if it has none.
func oneEvent(body []byte, key string) ([]byte, error) {
	var line bytes.Buffer
	if err := json.Compact(&line, bytes.TrimSpace(body)); err != nil {
		return nil, fieldErr("body", "not JSON: %v", err)
	}
	b := line.Bytes()
	if len(b) == 0 || b[0] != '{' {
		return nil, fieldErr("body", "send one event as a JSON object (or many as JSON Lines with Content-Type application/x-ndjson)")
	}
	if key == "" {
		return b, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return b, nil // the feed names the problem
	}
	raw, has := top["id"]
	if !has {
		return withID(b, key), nil
	}
	var id string
	if json.Unmarshal(raw, &id) != nil || id != key {
		return nil, fieldErr("id", "the event's id %s differs from its Idempotency-Key %q", raw, key)
	}
	return b, nil
}

// withID puts "id": key first in a JSON object.
func withID(obj []byte, key string) []byte {
	k, _ := json.Marshal(key)
	rest := bytes.TrimSpace(obj[1:])
	out := append([]byte(`{"id":`), k...)
	if len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
}

// keyLines gives each line of a batch that has no id the id KEY:LINE.
func keyLines(body []byte, key string) []byte {
	if key == "" {
		return body
	}
	lines := bytes.Split(body, []byte("\n"))
	for i, l := range lines {
		t := bytes.TrimSpace(bytes.TrimPrefix(l, []byte("\xef\xbb\xbf")))
		if len(t) == 0 || t[0] != '{' {
			continue
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(t, &top) != nil {
			continue // the feed names the problem
		}
		if _, has := top["id"]; !has {
			lines[i] = withID(t, fmt.Sprintf("%s:%d", key, i+1))
		}
	}
	return bytes.Join(lines, []byte("\n"))
}
