package web

import (
	"strings"
	"testing"

	"github.com/settlehq/settle/ledger"
)

const capture = `{"id":"evt_1","type":"payment.captured","at":"2026-11-02T09:30:00Z","payment":"order-1","provider":"stripe",
 "provider_ref":"ch_1","currency":"usd","amount":"29.99","fees":[{"type":"stripe_fee","amount":"1.17"}]}`

func TestPostEvents(t *testing.T) {
	e := newEnv(t, nil)
	const jsonl, ndjson = "application/jsonl", "application/x-ndjson"
	line := func(id, payment, amount string) string {
		return `{"id":"` + id + `","type":"payment.captured","at":"2026-11-03T10:00:00Z","payment":"` + payment +
			`","provider":"stripe","currency":"usd","amount":"` + amount + `"}`
	}
	batchNoIDs := strings.ReplaceAll(`{"type":"payment.captured","at":"2026-11-03T10:00:00Z","payment":"P","provider":"stripe","currency":"usd","amount":"5.00"}`,
		"P", "order-m") + "\n" + `{"type":"payment.captured","at":"2026-11-03T10:00:00Z","payment":"order-n","provider":"stripe","currency":"usd","amount":"5.00"}`
	noID := `{"type":"payment.captured","at":"2026-11-03T10:00:00Z","payment":"order-k","provider":"stripe","currency":"usd","amount":"5.00"}`
	for _, c := range []struct {
		name        string
		contentType string
		body        string
		header      map[string]string
		valid       bool
		status      int
		recorded    int // entries added
		field       string
		line        int
	}{
		{"one event, pretty-printed", "application/json", capture, nil, true, 201, 1, "", 0},
		{"the same again", "application/json", capture, nil, true, 200, 0, "", 0},
		{"the key names an event without id", "application/json", noID, map[string]string{"Idempotency-Key": "key-1"}, true, 201, 1, "", 0},
		{"replayed by its key", "application/json", noID, map[string]string{"Idempotency-Key": "key-1"}, true, 200, 0, "", 0},
		{"a key that is not the event's id", "application/json", capture, map[string]string{"Idempotency-Key": "other"}, true, 400, 0, "id", 1},
		{"no id and no key", "application/json", noID, nil, true, 400, 0, "id", 1},
		{"a JSON number for an amount", "application/json", strings.Replace(capture, `"29.99"`, `29.99`, 1), nil, true, 400, 0, "amount", 1},
		{"not JSON", "application/json", `{"id":`, nil, false, 400, 0, "body", 1},
		{"a batch", ndjson, line("b1", "order-2", "10.00") + "\n\n" + line("b2", "order-3", "12.00") + "\n", nil, true, 201, 2, "", 0},
		{"a batch with a bad third line writes nothing", jsonl,
			line("c1", "order-4", "1.00") + "\n" + line("c2", "order-5", "2.00") + "\n" + line("c3", "order-6", "-3.00"), nil, true, 400, 0, "amount", 3},
		{"a batch the ledger refuses at line 2", ndjson,
			line("d1", "order-7", "1.00") + "\n" + `{"id":"d2","type":"payment.refunded","at":"2026-11-04T10:00:00Z","payment":"order-7","refund":"r1","amount":"5.00"}`,
			nil, true, 400, 0, "", 2},
		{"a batch keyed by the header", ndjson, batchNoIDs,
			map[string]string{"Idempotency-Key": "batch-9"}, true, 201, 2, "", 0},
		{"a form is not an event", "application/x-www-form-urlencoded", "id=1", nil, false, 415, 0, "Content-Type", 0},
		{"no content type", "", capture, nil, false, 415, 0, "Content-Type", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.entries()
			send := e.do
			if !c.valid {
				send = e.doInvalid
			}
			r := send("POST", "/api/events", c.contentType, c.body, c.header)
			wantStatus(t, r, c.status)
			if got := e.entries() - before; got != c.recorded {
				t.Errorf("%d entries written, want %d", got, c.recorded)
			}
			if c.status >= 400 {
				ae := r.apiErr(t)
				if ae.Field != c.field {
					t.Errorf("field %q, want %q: %s", ae.Field, c.field, r.body)
				}
				if c.line > 0 && (len(ae.Problems) == 0 || ae.Problems[0].Line != c.line) {
					t.Errorf("problems %+v, want line %d", ae.Problems, c.line)
				}
			}
		})
	}
	// The batch keyed by the header gave its lines KEY:LINE ids.
	r := e.do("POST", "/api/events", ndjson, batchNoIDs, map[string]string{"Idempotency-Key": "batch-9"})
	wantStatus(t, r, 200)
	for _, key := range []string{"batch-9:1", "batch-9:2"} {
		err := e.books.View(t.Context(), func(tx ledger.ReadTx) error {
			_, err := tx.Request(t.Context(), key)
			return err
		})
		if err != nil {
			t.Errorf("the line keyed %s: %v", key, err)
		}
	}
}

func TestPostEventsLimits(t *testing.T) {
	e := newEnv(t, &Options{MaxEventBytes: 100})
	r := e.do("POST", "/api/events", "application/json", capture, nil)
	wantStatus(t, r, 413)
	if e.entries() != 0 {
		t.Error("an oversize post wrote something")
	}

	// A server whose only writer slot is taken answers 503 at once.
	busy := newEnv(t, &Options{MaxWriters: 1, QueueWait: 1})
	busy.srv.writers <- struct{}{}
	r = busy.do("POST", "/api/events", "application/json", capture, nil)
	wantStatus(t, r, 503)
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	<-busy.srv.writers
}
