package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// object is a JSON object's members in order, each value kept raw for
// strict typing.
type object struct {
	path string // where the object is, e.g. "fees"; "" for the line
	// item is the object's place in the list at path, counted from 1
	// ("fees[0]" is item 1), or 0. The path of a list's item is written
	// only for an error: a feed has a fee list on nearly every line.
	item    int
	members []member
}

// where returns the path of o, as errors name it: e.g. "fees[0]".
func (o object) where() string {
	if o.item == 0 {
		return o.path
	}
	return o.path + "[" + strconv.Itoa(o.item-1) + "]"
}

// get returns the raw value of the member named name.
func (o object) get(name string) (json.RawMessage, bool) {
	for _, m := range o.members {
		if m.key == name {
			return m.raw, true
		}
	}
	return nil, false
}

// field returns the path of a field of o, as errors name it.
func (o object) field(name string) string {
	if o.path == "" {
		return name
	}
	return o.where() + "." + name
}

// decodeObject decodes a JSON object, refusing a key given twice: encoding/json
// would keep the last, and `"amount":"1.00","amount":"999.00"` must not book
// either silently.
func decodeObject(path string, b []byte) (object, error) { return decodeItem(path, 0, b) }

// decodeItem is decodeObject for the item-th object (counted from 1) of the
// list at path, or for the object at path with item 0.
func decodeItem(path string, item int, b []byte) (object, error) {
	// The fast path: the scanner (scan.go) reads the object. The slow
	// path, with encoding/json's tokens, reads what the scanner leaves to
	// it, and names the problem if there is one.
	if members, ok := scanObject(b); ok {
		return object{path: path, item: item, members: members}, nil
	}
	return decodeObjectSlowly(object{path: path, item: item}.where(), b)
}

func decodeObjectSlowly(path string, b []byte) (object, error) {
	o := object{path: path}
	notObject := func(err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the object ended early
		}
		switch {
		case path == "" && err == nil:
			return bad("", "the line is not a JSON object")
		case path == "":
			return bad("", "the line is not a JSON object: %v", err)
		case err == nil:
			return bad(path, "must be a JSON object")
		}
		return bad(path, "must be a JSON object: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return o, notObject(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return o, notObject(err)
		}
		key, ok := tok.(string)
		if !ok {
			return o, notObject(nil)
		}
		if _, dup := o.get(key); dup {
			return o, bad(o.field(key), "duplicate key: the object gives %q twice", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return o, notObject(err)
		}
		o.members = append(o.members, member{key, v})
	}
	if _, err := dec.Token(); err != nil {
		return o, notObject(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return o, bad(path, "more than one JSON value on the line")
	}
	return o, nil
}

// only refuses fields of o that are not in allowed; what names the object
// in the reason.
func (o object) only(what string, allowed ...string) error {
	var unknown []string
	for _, m := range o.members {
		found := false
		for _, a := range allowed {
			found = found || m.key == a
		}
		if !found {
			unknown = append(unknown, m.key)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return bad(o.field(unknown[0]), "unknown field (%s takes %s)", what, strings.Join(allowed, ", "))
}

// value returns the raw value of name, and whether o gives it one other
// than null.
func (o object) value(name string) (json.RawMessage, bool) {
	raw, ok := o.get(name)
	return raw, ok && string(raw) != "null"
}

// has reports whether o gives name a value other than null.
func (o object) has(name string) bool {
	_, ok := o.value(name)
	return ok
}

func parseLine(b []byte) (Event, error) {
	var ev Event
	if !utf8.Valid(b) {
		return ev, bad("", "the line is not valid UTF-8")
	}
	f, err := decodeObject("", b)
	if err != nil {
		return ev, err
	}
	if ev.ID, err = f.str("id", true); err != nil {
		return ev, err
	}
	if ev.Type, err = f.str("type", true); err != nil {
		return ev, err
	}
	spec, ok := fieldSpec[ev.Type]
	if !ok {
		return ev, bad("type", "unknown event type %q (known: %s)", ev.Type, strings.Join(Types(), ", "))
	}
	if err := f.only("a "+ev.Type, spec.allowed...); err != nil {
		return ev, err
	}
	for _, k := range spec.required {
		if !f.has(k) {
			return ev, bad(k, "missing field (a %s needs %s)", ev.Type, strings.Join(spec.required, ", "))
		}
	}
	if ev.At, err = f.time("at", true); err != nil {
		return ev, err
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
	// Identifiers, when given, must not be blank.
	for _, name := range []string{"payment", "provider", "currency", "refund", "dispute", "payout"} {
		if f.has(name) {
			if _, err := f.str(name, true); err != nil {
				return ev, err
			}
		}
	}
	if ev.Amount, err = f.amount("amount", positive); err != nil {
		return ev, err
	}
	if ev.Fee, err = f.amount("fee", zeroOK); err != nil {
		return ev, err
	}
	if ev.FeeRefund, err = f.amount("fee_refund", zeroOK); err != nil {
		return ev, err
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
	if raw, ok := f.value("automatic"); ok {
		switch string(raw) {
		case "true":
			ev.Automatic = true
		case "false":
		default:
			return ev, bad(f.field("automatic"), "must be true or false, not %s", clip(raw))
		}
	}
	if ev.Metadata, err = f.metadata(); err != nil {
		return ev, err
	}
	if ev.Fees, err = f.fees(); err != nil {
		return ev, err
	}
	if ev.Settlement, err = f.settlement(); err != nil {
		return ev, err
	}
	if f.has("amount") && len(ev.Fees) > 0 {
		total := decimal.Zero
		for _, fee := range ev.Fees {
			total = total.Add(fee.Amount)
		}
		// Fees are charged in the settlement currency.
		of, what := ev.Amount, "amount"
		if ev.Settlement != nil {
			of, what = ev.Settlement.Amount, "settlement amount"
		}
		if total.GreaterThan(of) {
			return ev, bad("fees", "the fees total %s, more than the %s %s: the net would be negative", total, what, of)
		}
	}
	if ev.Postings, err = f.postings(); err != nil {
		return ev, err
	}
	return ev, nil
}

// str reads a string. A required one must not be blank; an optional one
// may be absent or null.
func (o object) str(name string, required bool) (string, error) {
	raw, ok := o.value(name)
	if !ok {
		if required {
			return "", bad(o.field(name), "missing field")
		}
		return "", nil
	}
	s, ok := unquote(raw)
	if !ok {
		return "", bad(o.field(name), "must be a string, not %s", clip(raw))
	}
	if required && strings.TrimSpace(s) == "" {
		return "", bad(o.field(name), "is empty")
	}
	return s, nil
}

// Whether an amount may be zero: an amount must be positive; a fee or a
// fee refund may be zero (none).
const (
	positive = false
	zeroOK   = true
)

// maxAmountLen bounds an amount string: an int64 of minor units has 19
// digits and a currency at most 18 decimals.
const maxAmountLen = 40

// amount reads an optional decimal string in major units.
func (o object) amount(name string, allowZero bool) (decimal.Decimal, error) {
	raw, ok := o.value(name)
	if !ok {
		return decimal.Decimal{}, nil
	}
	return parseAmount(o.field(name), raw, allowZero)
}

// parseAmount reads a plain, unsigned decimal string: digits, optionally a
// point and more digits ("29.99", "5", "0.50"). Everything else is refused
// with the reason: a JSON number, a sign (the event's type or the posting's
// side says which way money moves), spaces, a point without digits on both
// sides, an exponent, a separator.
func parseAmount(field string, raw json.RawMessage, allowZero bool) (decimal.Decimal, error) {
	s, ok := unquote(raw)
	if !ok {
		return decimal.Decimal{}, bad(field, "must be a decimal string in major units like \"29.99\", not %s", clip(raw))
	}
	if reason := plainDecimal(s); reason != "" {
		return decimal.Decimal{}, bad(field, "%q is not a plain decimal like \"29.99\": %s", s, reason)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, bad(field, "%q is not a plain decimal like \"29.99\"", s)
	}
	if d.IsZero() && !allowZero {
		return decimal.Decimal{}, bad(field, "must be positive, not %q", s)
	}
	return d, nil
}

// plainDecimal returns why s is not digits, optionally followed by a point
// and more digits, or "" if it is.
func plainDecimal(s string) string {
	switch {
	case s == "":
		return "it is empty"
	case len(s) > maxAmountLen:
		return fmt.Sprintf("it has more than %d characters", maxAmountLen)
	case strings.TrimSpace(s) != s:
		return "it has spaces around it"
	case s[0] == '-':
		return "it is negative; feed amounts are positive (the event type, or debit and credit, say which way money moves)"
	case s[0] == '+':
		return "it has a sign; write the amount without one"
	case s[0] == '.':
		return "it needs a digit before the point"
	case s[len(s)-1] == '.':
		return "it needs a digit after the point"
	}
	point := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !point:
			point = true
		case r == '.':
			return "it has two points"
		case r == 'e' || r == 'E':
			return "it has an exponent; write the digits out"
		case r == ',' || r == '_' || r == ' ' || r == '\'':
			return "it has a separator; write digits only, with a point before the decimals"
		default:
			return fmt.Sprintf("%q is not a digit", r)
		}
	}
	return ""
}

// time reads an RFC 3339 time that the books can store exactly.
func (o object) time(name string, required bool) (time.Time, error) {
	s, err := o.str(name, required)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, bad(o.field(name), "%q is not an RFC 3339 time like 2026-11-02T09:30:00Z", s)
	}
	if t.IsZero() {
		// The ledger would read the zero time as "now".
		return time.Time{}, bad(o.field(name), "%s is the zero time (year 1), not a date; give the real time", s)
	}
	if err := ledger.CheckTime("", t); err != nil {
		return time.Time{}, bad(o.field(name), "%w", err)
	}
	return t.UTC(), nil
}

func (o object) metadata() (map[string]string, error) {
	raw, ok := o.value("metadata")
	if !ok {
		return nil, nil
	}
	m, err := decodeObject("metadata", raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m.members))
	for _, mb := range m.members {
		if out[mb.key], err = m.str(mb.key, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// list decodes the JSON array field name into its objects: nil when o
// gives it no value or null, empty (not nil) for [].
func (o object) list(name, example string) ([]object, error) {
	raw, given := o.value(name)
	if !given {
		return nil, nil
	}
	items, ok := scanArray(raw)
	if !ok {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, bad(name, "must be a list like %s", example)
		}
	}
	out := make([]object, len(items))
	for i, raw := range items {
		var err error
		if out[i], err = decodeItem(name, i+1, raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (o object) fees() ([]ledger.Fee, error) {
	items, err := o.list("fees", `[{"type":"processing","amount":"0.59"}]`)
	if err != nil || items == nil {
		return nil, err
	}
	out := make([]ledger.Fee, 0, len(items))
	for _, it := range items {
		if err := it.only("a fee", "type", "amount"); err != nil {
			return nil, err
		}
		typ, err := it.str("type", it.has("type"))
		if err != nil {
			return nil, err
		}
		if !it.has("amount") {
			return nil, bad(it.field("amount"), "missing field")
		}
		amt, err := it.amount("amount", zeroOK)
		if err != nil {
			return nil, err
		}
		out = append(out, ledger.Fee{Type: typ, Amount: amt})
	}
	return out, nil
}

// settlement reads {"amount":"108.12","currency":"usd"}: the settlement
// side of a movement the provider converted.
func (o object) settlement() (*ledger.Settlement, error) {
	raw, ok := o.value("settlement")
	if !ok {
		return nil, nil
	}
	s, err := decodeObject("settlement", raw)
	if err != nil {
		return nil, bad("settlement", `must be an object like {"amount":"108.12","currency":"usd"}`)
	}
	if err := s.only("a settlement", "amount", "currency"); err != nil {
		return nil, err
	}
	for _, k := range []string{"amount", "currency"} {
		if !s.has(k) {
			return nil, bad(s.field(k), "missing field")
		}
	}
	cur, err := s.str("currency", true)
	if err != nil {
		return nil, err
	}
	amt, err := s.amount("amount", positive)
	if err != nil {
		return nil, err
	}
	return &ledger.Settlement{Amount: amt, Currency: cur}, nil
}

func (o object) postings() ([]ledger.PostingInput, error) {
	items, err := o.list("postings", `[{"account":"assets:bank:ops","currency":"usd","debit":"10.00"}, …]`)
	if err != nil || items == nil {
		return nil, err
	}
	out := make([]ledger.PostingInput, 0, len(items))
	for _, it := range items {
		if err := it.only("a posting", "account", "currency", "debit", "credit"); err != nil {
			return nil, err
		}
		acct, err := it.str("account", true)
		if err != nil {
			return nil, err
		}
		cur, err := it.str("currency", true)
		if err != nil {
			return nil, err
		}
		if it.has("debit") == it.has("credit") {
			return nil, bad(it.where(), "give exactly one of debit or credit")
		}
		var amt decimal.Decimal
		if it.has("debit") {
			amt, err = it.amount("debit", positive)
		} else {
			amt, err = it.amount("credit", positive)
			amt = amt.Neg()
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ledger.PostingInput{Account: acct, Currency: cur, Amount: amt})
	}
	return out, nil
}

// unquote returns the string a raw JSON value holds, if it is one. Most
// strings have no escapes and are taken as they are, without encoding/json's
// reflection: the value is valid JSON and the line valid UTF-8.
func unquote(raw json.RawMessage) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err == nil
}

// clip shortens a raw value for an error message.
func clip(raw json.RawMessage) string {
	const max = 40
	if len(raw) <= max {
		return string(raw)
	}
	return string(raw[:max]) + "…"
}
