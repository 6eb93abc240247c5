// Package feed reads settle's event feed: JSON Lines, one event per line,
// each mirroring a ledger call. It is how a billing backend that does not
// embed the Go library records its payments (`settle record FILE.jsonl`).
//
// Amounts are decimal strings in major units ("29.99"); a JSON number is
// refused, because cents-versus-dollars is the classic ledger bug.
package feed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// Event is one parsed line of the feed. Which fields are set depends on Type.
type Event struct {
	File string
	Line int

	ID   string // the idempotency key
	Type string
	At   time.Time

	Payment, Provider, ProviderRef, Currency string
	Customer, Description, Reason            string
	Refund, Dispute, Payout                  string
	Amount, Fee, FeeRefund                   decimal.Decimal
	Metadata                                 map[string]string
	ExpiresAt, AvailableOn, ArrivalDate      time.Time
	Automatic                                bool // payout.created: a payout on the provider's schedule
	Fees                                     []ledger.Fee
	Postings                                 []ledger.PostingInput
}

// Error is a problem with one line of a feed file.
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// ErrBadLine marks a line that is not a valid event.
var ErrBadLine = errors.New("invalid event")

// fieldSpec lists, per event type, the required and optional fields besides
// id, type and at.
var fieldSpec = map[string]struct{ required, optional []string }{
	"payment.authorized": {[]string{"payment", "provider", "amount", "currency"}, []string{"provider_ref", "customer", "description", "metadata", "expires_at"}},
	"payment.captured":   {[]string{"payment"}, []string{"amount", "fees", "available_on", "provider", "provider_ref", "currency", "customer", "description", "metadata"}},
	"payment.canceled":   {[]string{"payment"}, nil},
	"payment.refunded":   {[]string{"payment", "refund"}, []string{"provider_ref", "amount", "currency", "reason", "fee_refund"}},
	"dispute.opened":     {[]string{"payment", "dispute", "amount"}, []string{"provider_ref", "fee"}},
	"dispute.won":        {[]string{"dispute"}, []string{"fee_refund"}},
	"dispute.lost":       {[]string{"dispute"}, nil},
	"payout.created":     {[]string{"payout", "provider", "amount", "currency"}, []string{"provider_ref", "arrival_date", "automatic"}},
	"payout.paid":        {[]string{"payout"}, nil},
	"payout.failed":      {[]string{"payout"}, nil},
	"entry.posted":       {[]string{"postings"}, []string{"description", "metadata"}},
}

// Types returns the event types the feed knows, sorted.
func Types() []string {
	out := make([]string, 0, len(fieldSpec))
	for t := range fieldSpec {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Read parses every line of a feed. It returns the valid events and an
// *Error for every bad line; blank lines are skipped.
func Read(name string, r io.Reader) ([]Event, []error) {
	var events []Event
	errs, _ := Each(name, r, func(ev Event) error {
		events = append(events, ev)
		return nil
	})
	return events, errs
}

// Each parses a feed one line at a time, calling fn with each valid event,
// and returns an *Error for every bad line. An error from fn stops the scan
// and is returned as the second result. Memory does not grow with the file.
func Each(name string, r io.Reader, fn func(Event) error) ([]error, error) {
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		ev, err := parseLine(b)
		if err != nil {
			errs = append(errs, &Error{File: name, Line: line, Err: err})
			continue
		}
		ev.File, ev.Line = name, line
		if err := fn(ev); err != nil {
			return errs, err
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &Error{File: name, Line: line + 1, Err: fmt.Errorf("%w: %v", ErrBadLine, err)})
	}
	return errs, nil
}

// fields decodes a line's values, keeping each raw for strict typing.
type fields map[string]json.RawMessage

func parseLine(b []byte) (Event, error) {
	var ev Event
	var f fields
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return ev, fmt.Errorf("%w: not a JSON object: %v", ErrBadLine, err)
	}
	if dec.More() {
		return ev, fmt.Errorf("%w: more than one JSON value on the line", ErrBadLine)
	}
	var err error
	if ev.ID, err = f.str("id", true); err != nil {
		return ev, err
	}
	if ev.Type, err = f.str("type", true); err != nil {
		return ev, err
	}
	spec, ok := fieldSpec[ev.Type]
	if !ok {
		return ev, fmt.Errorf("%w: unknown event type %q (known: %s)", ErrBadLine, ev.Type, strings.Join(Types(), ", "))
	}
	if ev.At, err = f.time("at", true); err != nil {
		return ev, err
	}
	allowed := map[string]bool{"id": true, "type": true, "at": true}
	for _, k := range spec.required {
		allowed[k] = true
		if _, ok := f[k]; !ok {
			return ev, fmt.Errorf("%w: missing field %q (a %s needs %s)", ErrBadLine, k, ev.Type, strings.Join(spec.required, ", "))
		}
	}
	for _, k := range spec.optional {
		allowed[k] = true
	}
	var unknown []string
	for k := range f {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return ev, fmt.Errorf("%w: field %q is not part of a %s", ErrBadLine, unknown[0], ev.Type)
	}
	strs := []struct {
		dst  *string
		name string
	}{
		{&ev.Payment, "payment"}, {&ev.Provider, "provider"}, {&ev.ProviderRef, "provider_ref"},
		{&ev.Currency, "currency"}, {&ev.Customer, "customer"}, {&ev.Description, "description"},
		{&ev.Reason, "reason"}, {&ev.Refund, "refund"}, {&ev.Dispute, "dispute"}, {&ev.Payout, "payout"},
	}
	for _, s := range strs {
		if *s.dst, err = f.str(s.name, false); err != nil {
			return ev, err
		}
	}
	amounts := []struct {
		dst  *decimal.Decimal
		name string
	}{{&ev.Amount, "amount"}, {&ev.Fee, "fee"}, {&ev.FeeRefund, "fee_refund"}}
	for _, a := range amounts {
		if *a.dst, err = f.amount(a.name); err != nil {
			return ev, err
		}
	}
	times := []struct {
		dst  *time.Time
		name string
	}{{&ev.ExpiresAt, "expires_at"}, {&ev.AvailableOn, "available_on"}, {&ev.ArrivalDate, "arrival_date"}}
	for _, t := range times {
		if *t.dst, err = f.time(t.name, false); err != nil {
			return ev, err
		}
	}
	if raw, ok := f["automatic"]; ok {
		if err := json.Unmarshal(raw, &ev.Automatic); err != nil {
			return ev, fmt.Errorf("%w: field \"automatic\" must be true or false", ErrBadLine)
		}
	}
	if ev.Metadata, err = f.metadata(); err != nil {
		return ev, err
	}
	if ev.Fees, err = f.fees(); err != nil {
		return ev, err
	}
	if ev.Postings, err = f.postings(); err != nil {
		return ev, err
	}
	return ev, nil
}

func (f fields) str(name string, required bool) (string, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		if required {
			return "", fmt.Errorf("%w: missing field %q", ErrBadLine, name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: field %q must be a string", ErrBadLine, name)
	}
	if required && strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("%w: field %q is empty", ErrBadLine, name)
	}
	return s, nil
}

// amount reads a decimal string; a JSON number is refused.
func (f fields) amount(name string) (decimal.Decimal, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		return decimal.Decimal{}, nil
	}
	return parseAmount(name, raw)
}

func parseAmount(name string, raw json.RawMessage) (decimal.Decimal, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return decimal.Decimal{}, fmt.Errorf("%w: field %q must be a decimal string in major units like \"29.99\", not %s", ErrBadLine, name, string(raw))
	}
	d, err := ledger.ParseDecimal(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%w: field %q: %v", ErrBadLine, name, err)
	}
	return d, nil
}

func (f fields) time(name string, required bool) (time.Time, error) {
	s, err := f.str(name, required)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: field %q: %q is not an RFC 3339 time like 2026-11-02T09:30:00Z", ErrBadLine, name, s)
	}
	return t.UTC(), nil
}

func (f fields) metadata() (map[string]string, error) {
	raw, ok := f["metadata"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: field \"metadata\" must be an object of strings", ErrBadLine)
	}
	return m, nil
}

func (f fields) fees() ([]ledger.Fee, error) {
	raw, ok := f["fees"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var items []fields
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: field \"fees\" must be a list like [{\"type\":\"processing\",\"amount\":\"0.59\"}]", ErrBadLine)
	}
	out := make([]ledger.Fee, 0, len(items))
	for i, it := range items {
		typ, err := it.str("type", false)
		if err != nil {
			return nil, fmt.Errorf("fees[%d]: %w", i, err)
		}
		amtRaw, ok := it["amount"]
		if !ok {
			return nil, fmt.Errorf("%w: fees[%d]: missing field \"amount\"", ErrBadLine, i)
		}
		amt, err := parseAmount(fmt.Sprintf("fees[%d].amount", i), amtRaw)
		if err != nil {
			return nil, err
		}
		out = append(out, ledger.Fee{Type: typ, Amount: amt})
	}
	return out, nil
}

func (f fields) postings() ([]ledger.PostingInput, error) {
	raw, ok := f["postings"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var items []fields
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: field \"postings\" must be a list of {account, currency, debit|credit}", ErrBadLine)
	}
	out := make([]ledger.PostingInput, 0, len(items))
	for i, it := range items {
		acct, err := it.str("account", true)
		if err != nil {
			return nil, fmt.Errorf("postings[%d]: %w", i, err)
		}
		cur, err := it.str("currency", true)
		if err != nil {
			return nil, fmt.Errorf("postings[%d]: %w", i, err)
		}
		dr, hasDr := it["debit"]
		cr, hasCr := it["credit"]
		if hasDr == hasCr {
			return nil, fmt.Errorf("%w: postings[%d]: give exactly one of \"debit\" or \"credit\"", ErrBadLine, i)
		}
		var amt decimal.Decimal
		if hasDr {
			amt, err = parseAmount(fmt.Sprintf("postings[%d].debit", i), dr)
		} else {
			amt, err = parseAmount(fmt.Sprintf("postings[%d].credit", i), cr)
			amt = amt.Neg()
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ledger.PostingInput{Account: acct, Currency: cur, Amount: amt})
	}
	return out, nil
}
