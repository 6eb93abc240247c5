package ledger

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// A request's idempotency hash is the SHA-256 of its operation and its JSON
// (requestHash), and stored requests carry it, so the bytes may never
// change. A feed records captures, authorizations and refunds by the
// million, and encoding/json spends most of the hash on reflection and on
// the Marshaler calls of decimals and times; appendRequestJSON writes those
// requests without either, byte for byte as encoding/json does
// (TestRequestJSONMatchesEncodingJSON fills every field of each, new ones
// included, and compares). Anything it does not write exactly as
// encoding/json would — a string that needs escaping, a time that is not
// UTC or outside years 0 to 9999, decimals set to marshal unquoted — makes
// it give up, and the caller falls back to json.Marshal.

// appendRequestJSON appends req's JSON to b; ok is false when req is of
// another type or holds a value the fast path does not write.
func appendRequestJSON(b []byte, req any) (_ []byte, ok bool) {
	if decimal.MarshalJSONWithoutQuotes {
		return b, false
	}
	w := jsonWriter{b: b, ok: true}
	switch r := req.(type) {
	case CaptureRequest:
		w.key(`{"Key":`)
		w.str(r.Key)
		w.key(`,"PaymentID":`)
		w.str(r.PaymentID)
		w.key(`,"Amount":`)
		w.dec(r.Amount)
		w.key(`,"Fees":`)
		w.fees(r.Fees)
		w.key(`,"AvailableOn":`)
		w.time(r.AvailableOn)
		w.key(`,"At":`)
		w.time(r.At)
		w.settlement(r.Settlement)
		w.key(`,"Provider":`)
		w.str(r.Provider)
		w.key(`,"ProviderRef":`)
		w.str(r.ProviderRef)
		w.customer(r.Currency, r.Customer, r.Description, r.Metadata)
		w.key(`}`)
	case AuthorizeRequest:
		w.key(`{"Key":`)
		w.str(r.Key)
		w.key(`,"PaymentID":`)
		w.str(r.PaymentID)
		w.key(`,"Provider":`)
		w.str(r.Provider)
		w.key(`,"ProviderRef":`)
		w.str(r.ProviderRef)
		w.key(`,"Amount":`)
		w.dec(r.Amount)
		w.customer(r.Currency, r.Customer, r.Description, r.Metadata)
		w.key(`,"At":`)
		w.time(r.At)
		w.key(`,"ExpiresAt":`)
		w.time(r.ExpiresAt)
		w.key(`}`)
	case RefundRequest:
		w.key(`{"Key":`)
		w.str(r.Key)
		w.key(`,"PaymentID":`)
		w.str(r.PaymentID)
		w.key(`,"RefundID":`)
		w.str(r.RefundID)
		w.key(`,"ProviderRef":`)
		w.str(r.ProviderRef)
		w.key(`,"Amount":`)
		w.dec(r.Amount)
		w.key(`,"Currency":`)
		w.str(r.Currency)
		w.key(`,"Reason":`)
		w.str(r.Reason)
		w.key(`,"FeeRefund":`)
		w.dec(r.FeeRefund)
		w.key(`,"At":`)
		w.time(r.At)
		w.settlement(r.Settlement)
		w.key(`}`)
	default:
		return b, false
	}
	return w.b, w.ok
}

// settlement writes a request's Settlement field, left out when nil
// (omitempty), after a field before it.
func (w *jsonWriter) settlement(s *Settlement) {
	if s == nil {
		return
	}
	w.key(`,"Settlement":{"Amount":`)
	w.dec(s.Amount)
	w.key(`,"Currency":`)
	w.str(s.Currency)
	w.key(`}`)
}

// jsonWriter appends JSON values, and clears ok at the first value it
// cannot write as encoding/json would.
type jsonWriter struct {
	b  []byte
	ok bool
}

func (w *jsonWriter) key(s string) { w.b = append(w.b, s...) }

// customer writes the fields both requests end their payment's details
// with, in this order: Currency, Customer, Description, Metadata.
func (w *jsonWriter) customer(currency, customer, description string, metadata map[string]string) {
	w.key(`,"Currency":`)
	w.str(currency)
	w.key(`,"Customer":`)
	w.str(customer)
	w.key(`,"Description":`)
	w.str(description)
	w.key(`,"Metadata":`)
	w.meta(metadata)
}

// str writes a string that encoding/json copies as it is: printable ASCII
// other than the quote, the backslash and the three characters it escapes
// for HTML (<, >, &).
func (w *jsonWriter) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			w.ok = false
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

// dec writes a decimal as its MarshalJSON does: quoted. appendDecimal
// writes it as String does without math/big's allocations (d.String() was
// a fifth of a capture's hash), when the package writes decimals as it
// does by default.
func (w *jsonWriter) dec(d decimal.Decimal) {
	w.b = append(w.b, '"')
	if decimal.TrimTrailingZeros && !decimal.UseScientificNotation {
		w.b = appendDecimal(w.b, d)
	} else {
		w.b = append(w.b, d.String()...)
	}
	w.b = append(w.b, '"')
}

// time writes a UTC time as its MarshalJSON does (RFC 3339 with
// nanoseconds, trailing zeros dropped).
func (w *jsonWriter) time(t time.Time) {
	if t.Location() != time.UTC || t.Year() < 0 || t.Year() > 9999 {
		w.ok = false
		return
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

// meta writes a map in key order, as encoding/json sorts it.
func (w *jsonWriter) meta(m map[string]string) {
	if m == nil {
		w.key("null")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.b = append(w.b, '{')
	for i, k := range keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		w.str(m[k])
	}
	w.b = append(w.b, '}')
}

func (w *jsonWriter) fees(fs []Fee) {
	if fs == nil {
		w.key("null")
		return
	}
	w.b = append(w.b, '[')
	for i, f := range fs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.key(`{"Type":`)
		w.str(f.Type)
		w.key(`,"Amount":`)
		w.dec(f.Amount)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
}
