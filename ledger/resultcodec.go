package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// The stored form of a result, version 2: a compact binary encoding that
// costs about a microsecond, where JSON compressed with zstd (version 1)
// cost twenty and was a third of a feed's recording time. It starts with
// resultV2, a byte that neither JSON ('{') nor a zstd frame (0x28) starts
// with. Every field of Result is written, in the order of the structs
// below; TestResultCodecCoversEveryField fills each field by reflection,
// so a field added to a struct and not here fails it.
//
// Values are varints; strings are written once per result and referred to
// by number after that (a payment's id, provider and currency recur in its
// entry, its balance transaction and itself), and lowercase hexadecimal
// (request hashes) is packed two digits a byte.

const resultV2 = 0x02

// Presence bits of Result's parts, in the byte after the version.
const (
	hasEntry = 1 << iota
	hasBT
	hasPayment
	hasRefund
	hasDispute
	hasPayout
)

// String tags.
const (
	strInline = iota // uvarint length, bytes
	strRef           // uvarint index of a string written before
	strHex           // uvarint byte count, bytes: lowercase hex, two digits a byte
)

type resultWriter struct {
	b []byte
	// seen are the strings written so far, in order: a string written
	// again is a reference to its index. A result has a few dozen; they are
	// searched in order until there are seenScan of them, then through
	// seenIdx, which indexes them all.
	seen    []string
	seenIdx map[string]int
}

// seenScan is how many strings a writer searches one by one before it
// indexes them: comparing a few dozen short strings is cheaper than making
// a map for every result.
const seenScan = 48

// find returns the index of s among the strings written, or -1.
func (w *resultWriter) find(s string) int {
	if w.seenIdx != nil {
		if i, ok := w.seenIdx[s]; ok {
			return i
		}
		return -1
	}
	for i, t := range w.seen {
		if t == s {
			return i
		}
	}
	return -1
}

// remember adds s to the strings written.
func (w *resultWriter) remember(s string) {
	w.seen = append(w.seen, s)
	switch {
	case w.seenIdx != nil:
		w.seenIdx[s] = len(w.seen) - 1
	case len(w.seen) > seenScan:
		w.seenIdx = make(map[string]int, 2*len(w.seen))
		for i, t := range w.seen {
			w.seenIdx[t] = i
		}
	}
}

// writers are resultWriters between results. A writer's strings and buffer
// escape to the heap (its methods append to them through the writer), so a
// writer made for each result cost two allocations of 1.4 KB together, the
// buffer often grown once more; a feed encodes one result for every event.
var writers = sync.Pool{New: func() any {
	return &resultWriter{b: make([]byte, 0, 1024), seen: make([]string, 0, seenScan+1)}
}}

// encodeResult is the stored form of a result, in a slice of its own, of
// its size.
func encodeResult(res *Result) []byte {
	w := writers.Get().(*resultWriter)
	defer func() {
		clear(w.seen) // the strings are the result's; let them go
		w.b, w.seen, w.seenIdx = w.b[:0], w.seen[:0], nil
		if cap(w.b) <= maxPooledBuf {
			writers.Put(w)
		}
	}()
	w.b = append(w.b, resultV2, 0)
	var parts byte
	if e := res.Entry; e != nil {
		parts |= hasEntry
		w.entry(e)
	}
	if b := res.BalanceTransaction; b != nil {
		parts |= hasBT
		w.bt(b)
	}
	if p := res.Payment; p != nil {
		parts |= hasPayment
		w.payment(p)
	}
	if r := res.Refund; r != nil {
		parts |= hasRefund
		w.str(r.ID)
		w.str(r.PaymentID)
		w.str(r.ProviderRef)
		w.int(r.Amount)
		w.int(r.FeeRefund)
		w.str(r.Currency)
		w.str(r.Reason)
		w.int(r.EntryID)
		w.time(r.CreatedAt)
	}
	if d := res.Dispute; d != nil {
		parts |= hasDispute
		w.str(d.ID)
		w.str(d.PaymentID)
		w.str(d.Provider)
		w.str(d.ProviderRef)
		w.int(d.Amount)
		w.int(d.Fee)
		w.int(d.FeeRefund)
		w.str(d.Currency)
		w.str(string(d.Status))
		w.time(d.CreatedAt)
		w.time(d.UpdatedAt)
	}
	if p := res.Payout; p != nil {
		parts |= hasPayout
		w.str(p.ID)
		w.str(p.Provider)
		w.str(p.ProviderRef)
		w.int(p.Amount)
		w.str(p.Currency)
		w.str(string(p.Status))
		w.time(p.ArrivalDate)
		w.bool(p.Automatic)
		w.time(p.CreatedAt)
		w.time(p.UpdatedAt)
	}
	w.b[1] = parts
	return bytes.Clone(w.b)
}

func (w *resultWriter) entry(e *Entry) {
	w.int(e.ID)
	w.str(e.Key)
	w.str(e.Hash)
	w.str(string(e.Phase))
	w.time(e.OccurredAt)
	w.time(e.RecordedAt)
	w.str(e.Description)
	w.meta(e.Metadata)
	w.str(e.Source.Provider)
	w.str(e.Source.Type)
	w.str(e.Source.ID)
	w.str(e.Source.Ref)
	w.int(e.Reverses)
	w.int(e.PendingOf)
	w.time(e.ExpiresAt)
	w.str(string(e.Resolution))
	w.int(e.ResolvedBy)
	w.count(len(e.Postings), e.Postings == nil)
	for _, p := range e.Postings {
		w.str(p.Account)
		w.str(p.Currency)
		w.int(p.Amount)
	}
}

func (w *resultWriter) bt(b *BalanceTransaction) {
	w.str(b.ID)
	w.str(b.Provider)
	w.int(b.EntryID)
	w.str(b.Type)
	w.str(b.ReportingCategory)
	w.str(b.SourceType)
	w.str(b.SourceID)
	w.str(b.SourceRef)
	w.str(b.PaymentID)
	w.int(b.Amount)
	w.int(b.Fee)
	w.int(b.Net)
	w.count(len(b.FeeDetails), b.FeeDetails == nil)
	for _, f := range b.FeeDetails {
		w.str(f.Type)
		w.int(f.Amount)
	}
	w.str(b.Currency)
	w.str(b.Status)
	w.str(b.Description)
	w.time(b.Created)
	w.time(b.AvailableOn)
	w.str(b.PayoutID)
	w.bool(b.AvailableOnEstimated)
	w.bool(b.PayoutDerived)
	w.int(b.PresentmentAmount)
	w.str(b.PresentmentCurrency)
	if b.ExchangeRate.IsZero() {
		w.str("") // as JSON's omitzero leaves it: the zero Decimal
	} else {
		w.str(b.ExchangeRate.String())
	}
	w.bool(b.SettlementEstimated)
}

func (w *resultWriter) payment(p *Payment) {
	w.str(p.ID)
	w.str(p.Provider)
	w.str(p.ProviderRef)
	w.str(p.Currency)
	w.str(p.Customer)
	w.str(p.Description)
	w.meta(p.Metadata)
	w.str(p.CaptureMethod)
	w.str(string(p.Status))
	w.int(p.Authorized)
	w.int(p.Captured)
	w.int(p.Refunded)
	w.int(p.Disputed)
	w.int(p.Fees)
	w.int(p.PendingEntryID)
	w.str(p.SettlementCurrency)
	w.int(p.Settled)
	w.int(p.Unwound)
	w.time(p.CreatedAt)
	w.time(p.UpdatedAt)
}

func (w *resultWriter) int(v int64) { w.b = binary.AppendVarint(w.b, v) }

func (w *resultWriter) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }

func (w *resultWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// count writes a slice's or map's length, keeping nil apart from empty
// (JSON's null and [] decode differently, and so must these).
func (w *resultWriter) count(n int, isNil bool) {
	if isNil {
		w.uint(0)
		return
	}
	w.uint(uint64(n) + 1)
}

// time writes a time as its Unix seconds and nanoseconds; the zero time,
// whose seconds do not fit, is its own mark. Results hold UTC times.
func (w *resultWriter) time(t time.Time) {
	if t.IsZero() {
		w.b = append(w.b, 0)
		return
	}
	w.b = append(w.b, 1)
	w.int(t.Unix())
	w.uint(uint64(t.Nanosecond()))
}

func (w *resultWriter) meta(m map[string]string) {
	w.count(len(m), m == nil)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.str(k)
		w.str(m[k])
	}
}

func (w *resultWriter) str(s string) {
	if s == "" {
		w.b = append(w.b, strInline, 0)
		return
	}
	if i := w.find(s); i >= 0 {
		w.b = append(w.b, strRef)
		w.uint(uint64(i))
		return
	}
	w.remember(s)
	if isLowerHex(s) {
		w.b = append(w.b, strHex)
		w.uint(uint64(len(s) / 2))
		for i := 0; i < len(s); i += 2 {
			w.b = append(w.b, unhex(s[i])<<4|unhex(s[i+1]))
		}
		return
	}
	w.b = append(w.b, strInline)
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// isLowerHex reports whether s is worth packing: lowercase hexadecimal of
// an even length of at least 16 digits.
func isLowerHex(s string) bool {
	if len(s) < 16 || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

const hexDigits = "0123456789abcdef"

var errResultCorrupt = errors.New("stored result is corrupt")

// resultReader decodes; the first error sticks and later reads return
// zero values, so that decoding reads straight through and checks once.
type resultReader struct {
	b    []byte
	strs []string
	err  error
}

func decodeResultV2(b []byte, res *Result) error {
	if len(b) < 2 || b[0] != resultV2 {
		return errResultCorrupt
	}
	r := resultReader{b: b[2:]}
	parts := b[1]
	if parts&hasEntry != 0 {
		res.Entry = r.entry()
	}
	if parts&hasBT != 0 {
		res.BalanceTransaction = r.bt()
	}
	if parts&hasPayment != 0 {
		res.Payment = r.payment()
	}
	if parts&hasRefund != 0 {
		res.Refund = &Refund{ID: r.str(), PaymentID: r.str(), ProviderRef: r.str(), Amount: r.int(), FeeRefund: r.int(),
			Currency: r.str(), Reason: r.str(), EntryID: r.int(), CreatedAt: r.time()}
	}
	if parts&hasDispute != 0 {
		res.Dispute = &Dispute{ID: r.str(), PaymentID: r.str(), Provider: r.str(), ProviderRef: r.str(), Amount: r.int(),
			Fee: r.int(), FeeRefund: r.int(), Currency: r.str(), Status: DisputeStatus(r.str()), CreatedAt: r.time(),
			UpdatedAt: r.time()}
	}
	if parts&hasPayout != 0 {
		res.Payout = &Payout{ID: r.str(), Provider: r.str(), ProviderRef: r.str(), Amount: r.int(), Currency: r.str(),
			Status: PayoutStatus(r.str()), ArrivalDate: r.time(), Automatic: r.bool(), CreatedAt: r.time(), UpdatedAt: r.time()}
	}
	if r.err == nil && (len(r.b) != 0 || parts>>6 != 0) {
		r.err = errResultCorrupt
	}
	return r.err
}

// Go evaluates a composite literal's field values in order, so the
// literals here read the fields in the order the writer wrote them.

func (r *resultReader) entry() *Entry {
	e := &Entry{ID: r.int(), Key: r.str(), Hash: r.str(), Phase: Phase(r.str()), OccurredAt: r.time(),
		RecordedAt: r.time(), Description: r.str(), Metadata: r.meta(),
		Source:   Source{Provider: r.str(), Type: r.str(), ID: r.str(), Ref: r.str()},
		Reverses: r.int(), PendingOf: r.int(), ExpiresAt: r.time(), Resolution: Resolution(r.str()), ResolvedBy: r.int()}
	if n, ok := r.count(); ok {
		e.Postings = make([]Posting, n)
		for i := range e.Postings {
			e.Postings[i] = Posting{Account: r.str(), Currency: r.str(), Amount: r.int()}
		}
	}
	return e
}

func (r *resultReader) bt() *BalanceTransaction {
	b := &BalanceTransaction{ID: r.str(), Provider: r.str(), EntryID: r.int(), Type: r.str(), ReportingCategory: r.str(),
		SourceType: r.str(), SourceID: r.str(), SourceRef: r.str(), PaymentID: r.str(), Amount: r.int(), Fee: r.int(),
		Net: r.int()}
	if n, ok := r.count(); ok {
		b.FeeDetails = make([]FeeDetail, n)
		for i := range b.FeeDetails {
			b.FeeDetails[i] = FeeDetail{Type: r.str(), Amount: r.int()}
		}
	}
	b.Currency, b.Status, b.Description = r.str(), r.str(), r.str()
	b.Created, b.AvailableOn, b.PayoutID = r.time(), r.time(), r.str()
	b.AvailableOnEstimated, b.PayoutDerived = r.bool(), r.bool()
	b.PresentmentAmount, b.PresentmentCurrency = r.int(), r.str()
	if s := r.str(); s != "" {
		d, err := decimal.NewFromString(s)
		if err != nil && r.err == nil {
			r.err = fmt.Errorf("%w: exchange rate %q", errResultCorrupt, s)
		}
		b.ExchangeRate = d
	}
	b.SettlementEstimated = r.bool()
	return b
}

func (r *resultReader) payment() *Payment {
	return &Payment{ID: r.str(), Provider: r.str(), ProviderRef: r.str(), Currency: r.str(), Customer: r.str(),
		Description: r.str(), Metadata: r.meta(), CaptureMethod: r.str(), Status: PaymentStatus(r.str()),
		Authorized: r.int(), Captured: r.int(), Refunded: r.int(), Disputed: r.int(), Fees: r.int(),
		PendingEntryID: r.int(), SettlementCurrency: r.str(), Settled: r.int(), Unwound: r.int(),
		CreatedAt: r.time(), UpdatedAt: r.time()}
}

func (r *resultReader) fail() {
	if r.err == nil {
		r.err = errResultCorrupt
	}
	r.b = nil
}

func (r *resultReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *resultReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *resultReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *resultReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail()
	return false
}

// count reads a length written by count: ok is false for nil.
func (r *resultReader) count() (int, bool) {
	n := r.uint()
	if n == 0 {
		return 0, false
	}
	if n-1 > uint64(len(r.b)) { // every element takes at least a byte
		r.fail()
		return 0, false
	}
	return int(n - 1), true
}

func (r *resultReader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
	default:
		r.fail()
		return time.Time{}
	}
	sec, nsec := r.int(), r.uint()
	if nsec >= 1e9 {
		r.fail()
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *resultReader) meta() map[string]string {
	n, ok := r.count()
	if !ok {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

func (r *resultReader) str() string {
	switch r.byte() {
	case strInline:
		n := r.uint()
		if n > uint64(len(r.b)) {
			r.fail()
			return ""
		}
		if n == 0 {
			return ""
		}
		s := string(r.b[:n])
		r.b = r.b[n:]
		r.strs = append(r.strs, s)
		return s
	case strRef:
		i := r.uint()
		if i >= uint64(len(r.strs)) {
			r.fail()
			return ""
		}
		return r.strs[i]
	case strHex:
		n := r.uint()
		if n > uint64(len(r.b)) {
			r.fail()
			return ""
		}
		s := make([]byte, 2*n)
		for i, c := range r.b[:n] {
			s[2*i], s[2*i+1] = hexDigits[c>>4], hexDigits[c&15]
		}
		r.b = r.b[n:]
		r.strs = append(r.strs, string(s))
		return string(s)
	}
	r.fail()
	return ""
}
