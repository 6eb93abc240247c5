package feed_test

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/ledger"
)

// capture is a valid automatic capture line with its closing brace left off,
// so that cases can append fields.
const capture = `{"id":"x","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p","provider":"stripe","currency":"usd","amount":"10.00"`

// entry is a valid entry.posted line without its postings and closing brace.
const entry = `{"id":"x","type":"entry.posted","at":"2026-11-02T10:00:00Z"`

const dr, cr = `{"account":"assets:bank:ops","currency":"usd","debit":"1.00"}`, `{"account":"equity:owner","currency":"usd","credit":"1.00"}`

// laxLines are lines the feed refuses, each with its error after "f.jsonl:N".
var laxLines = []struct {
	name, line, want string
}{
	// Unknown fields, at every level.
	{"unknown top-level field", capture + `,"amout":"1"}`, `:amout: unknown field (a payment.captured takes id, type, at, payment, amount, fees, available_on, provider, provider_ref, currency, customer, description, metadata, settlement)`},
	{"unknown field in fees[]", capture + `,"fees":[{"type":"processing","amount":"0.59","currency":"usd"}]}`, `:fees[0].currency: unknown field (a fee takes type, amount)`},
	{"unknown field in postings[]", entry + `,"postings":[` + dr + `,{"account":"equity:owner","currency":"usd","credit":"1.00","memo":"x"}]}`, `:postings[1].memo: unknown field (a posting takes account, currency, debit, credit)`},
	{"field cased differently", capture + `,"Fees":[]}`, `:Fees: unknown field (a payment.captured takes id, type, at, payment, amount, fees, available_on, provider, provider_ref, currency, customer, description, metadata, settlement)`},
	// Duplicate keys, at every level, however spelled.
	{"duplicate amount", capture + `,"amount":"999.00"}`, `:amount: duplicate key: the object gives "amount" twice`},
	{"duplicate escaped", capture + `,"amo\u0075nt":"999.00"}`, `:amount: duplicate key: the object gives "amount" twice`},
	{"duplicate id", `{"id":"x","id":"y","type":"payment.canceled","at":"2026-11-02T10:00:00Z","payment":"p"}`, `:id: duplicate key: the object gives "id" twice`},
	{"duplicate in fees[]", capture + `,"fees":[{"amount":"1.00","amount":"0.01"}]}`, `:fees[0].amount: duplicate key: the object gives "amount" twice`},
	{"duplicate in postings[]", entry + `,"postings":[{"account":"assets:bank:ops","currency":"usd","debit":"1.00","debit":"2.00"},` + cr + `]}`, `:postings[0].debit: duplicate key: the object gives "debit" twice`},
	{"duplicate in metadata", capture + `,"metadata":{"k":"a","k":"b"}}`, `:metadata.k: duplicate key: the object gives "k" twice`},
	// Amounts: plain unsigned decimals only.
	{"leading space", strings.Replace(capture, `"10.00"`, `" 10.00"`, 1) + `}`, `:amount: " 10.00" is not a plain decimal like "29.99": it has spaces around it`},
	{"trailing space", strings.Replace(capture, `"10.00"`, `"10.00 "`, 1) + `}`, `:amount: "10.00 " is not a plain decimal like "29.99": it has spaces around it`},
	{"trailing point", strings.Replace(capture, `"10.00"`, `"10."`, 1) + `}`, `:amount: "10." is not a plain decimal like "29.99": it needs a digit after the point`},
	{"leading point", strings.Replace(capture, `"10.00"`, `".5"`, 1) + `}`, `:amount: ".5" is not a plain decimal like "29.99": it needs a digit before the point`},
	{"plus sign", strings.Replace(capture, `"10.00"`, `"+10.00"`, 1) + `}`, `:amount: "+10.00" is not a plain decimal like "29.99": it has a sign; write the amount without one`},
	{"minus sign", strings.Replace(capture, `"10.00"`, `"-10.00"`, 1) + `}`, `:amount: "-10.00" is not a plain decimal like "29.99": it is negative; feed amounts are positive (the event type, or debit and credit, say which way money moves)`},
	{"exponent", strings.Replace(capture, `"10.00"`, `"1e3"`, 1) + `}`, `:amount: "1e3" is not a plain decimal like "29.99": it has an exponent; write the digits out`},
	{"separator", strings.Replace(capture, `"10.00"`, `"1,000.00"`, 1) + `}`, `:amount: "1,000.00" is not a plain decimal like "29.99": it has a separator; write digits only, with a point before the decimals`},
	{"two points", strings.Replace(capture, `"10.00"`, `"1.0.0"`, 1) + `}`, `:amount: "1.0.0" is not a plain decimal like "29.99": it has two points`},
	{"empty", strings.Replace(capture, `"10.00"`, `""`, 1) + `}`, `:amount: "" is not a plain decimal like "29.99": it is empty`},
	{"other digits", strings.Replace(capture, `"10.00"`, `"١٠"`, 1) + `}`, `:amount: "١٠" is not a plain decimal like "29.99": '١' is not a digit`},
	{"JSON number", strings.Replace(capture, `"10.00"`, `10.00`, 1) + `}`, `:amount: must be a decimal string in major units like "29.99", not 10.00`},
	{"bad fee amount", capture + `,"fees":[{"amount":"+0.59"}]}`, `:fees[0].amount: "+0.59" is not a plain decimal like "29.99": it has a sign; write the amount without one`},
	{"negative debit", entry + `,"postings":[{"account":"assets:bank:ops","currency":"usd","debit":"-1.00"},` + cr + `]}`, `:postings[0].debit: "-1.00" is not a plain decimal like "29.99": it is negative; feed amounts are positive (the event type, or debit and credit, say which way money moves)`},
	// Zero amounts: the reason is that they must be positive.
	{"zero amount", strings.Replace(capture, `"10.00"`, `"0"`, 1) + `}`, `:amount: must be positive, not "0"`},
	{"zero refund", `{"id":"x","type":"payment.refunded","at":"2026-11-02T10:00:00Z","payment":"p","refund":"r","amount":"0.00"}`, `:amount: must be positive, not "0.00"`},
	{"zero payout", `{"id":"x","type":"payout.created","at":"2026-11-02T10:00:00Z","payout":"po","provider":"stripe","currency":"usd","amount":"0"}`, `:amount: must be positive, not "0"`},
	{"zero credit", entry + `,"postings":[` + dr + `,{"account":"equity:owner","currency":"usd","credit":"0.00"}]}`, `:postings[1].credit: must be positive, not "0.00"`},
	// Fees above the amount.
	{"fee above amount", capture + `,"fees":[{"type":"processing","amount":"10.01"}]}`, `:fees: the fees total 10.01, more than the amount 10: the net would be negative`},
	{"fees above amount", capture + `,"fees":[{"amount":"6"},{"type":"fx","amount":"4.50"}]}`, `:fees: the fees total 10.5, more than the amount 10: the net would be negative`},
	// Settlements of converted movements.
	{"settlement fees above the settlement", capture + `,"settlement":{"amount":"5.00","currency":"usd"},"fees":[{"amount":"5.01"}]}`, `:fees: the fees total 5.01, more than the settlement amount 5: the net would be negative`},
	{"settlement without currency", capture + `,"settlement":{"amount":"5.00"}}`, `:settlement.currency: missing field`},
	{"settlement as a number", capture + `,"settlement":{"amount":5.00,"currency":"usd"}}`, `:settlement.amount: must be a decimal string in major units like "29.99", not 5.00`},
	{"unknown field in settlement", capture + `,"settlement":{"amount":"5.00","currency":"usd","rate":"1.1"}}`, `:settlement.rate: unknown field (a settlement takes amount, currency)`},
	{"settlement not an object", capture + `,"settlement":"108.12 usd"}`, `:settlement: must be an object like {"amount":"108.12","currency":"usd"}`},
	// Dates.
	{"zero time", strings.Replace(capture, `2026-11-02T10:00:00Z`, `0001-01-01T00:00:00Z`, 1) + `}`, `:at: 0001-01-01T00:00:00Z is the zero time (year 1), not a date; give the real time`},
	{"year 1600", strings.Replace(capture, `2026-11-02T10:00:00Z`, `1600-01-01T00:00:00Z`, 1) + `}`, `:at: invalid time: 1600-01-01T00:00:00Z is outside the range the books store exactly (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)`},
	{"year 2263", strings.Replace(capture, `2026-11-02T10:00:00Z`, `2263-01-01T00:00:00Z`, 1) + `}`, `:at: invalid time: 2263-01-01T00:00:00Z is outside the range the books store exactly (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)`},
	{"year 9999", strings.Replace(capture, `2026-11-02T10:00:00Z`, `9999-12-31T23:59:59Z`, 1) + `}`, `:at: invalid time: 9999-12-31T23:59:59Z is outside the range the books store exactly (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)`},
	{"Unix epoch", strings.Replace(capture, `2026-11-02T10:00:00Z`, `1970-01-01T00:00:00Z`, 1) + `}`, `:at: invalid time: 1970-01-01T00:00:00Z is the Unix epoch, which the books keep for "no time"; give the real time of the event`},
	{"available_on 2263", capture + `,"available_on":"2263-01-01T00:00:00Z"}`, `:available_on: invalid time: 2263-01-01T00:00:00Z is outside the range the books store exactly (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)`},
	{"expires_at 9999", `{"id":"x","type":"payment.authorized","at":"2026-11-02T10:00:00Z","payment":"p","provider":"stripe","currency":"usd","amount":"1","expires_at":"9999-01-01T00:00:00Z"}`, `:expires_at: invalid time: 9999-01-01T00:00:00Z is outside the range the books store exactly (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)`},
	{"arrival_date 0001", `{"id":"x","type":"payout.created","at":"2026-11-02T10:00:00Z","payout":"po","provider":"stripe","currency":"usd","amount":"1","arrival_date":"0001-01-01T00:00:00Z"}`, `:arrival_date: 0001-01-01T00:00:00Z is the zero time (year 1), not a date; give the real time`},
	{"not RFC 3339", strings.Replace(capture, `2026-11-02T10:00:00Z`, `2026-11-02`, 1) + `}`, `:at: "2026-11-02" is not an RFC 3339 time like 2026-11-02T09:30:00Z`},
	// The rest of the line's shape.
	{"missing field", `{"id":"x","type":"payment.refunded","at":"2026-11-02T10:00:00Z","refund":"r"}`, `:payment: missing field (a payment.refunded needs payment, refund)`},
	{"null required field", `{"id":"x","type":"payment.refunded","at":"2026-11-02T10:00:00Z","payment":null,"refund":"r"}`, `:payment: missing field (a payment.refunded needs payment, refund)`},
	{"blank identifier", strings.Replace(capture, `"payment":"p"`, `"payment":" "`, 1) + `}`, `:payment: is empty`},
	{"number for a string", strings.Replace(capture, `"payment":"p"`, `"payment":42`, 1) + `}`, `:payment: must be a string, not 42`},
	{"unknown type", `{"id":"x","type":"payment.teleported","at":"2026-11-02T10:00:00Z"}`, `:type: unknown event type "payment.teleported" (known: dispute.lost, dispute.opened, dispute.won, entry.posted, payment.authorized, payment.canceled, payment.captured, payment.refunded, payout.created, payout.failed, payout.paid)`},
	{"fee not an object", capture + `,"fees":["0.59"]}`, `:fees[0]: must be a JSON object`},
	{"fees not a list", capture + `,"fees":{"amount":"0.59"}}`, `:fees: must be a list like [{"type":"processing","amount":"0.59"}]`},
	{"posting without side", entry + `,"postings":[{"account":"assets:bank:ops","currency":"usd"},` + cr + `]}`, `:postings[0]: give exactly one of debit or credit`},
	{"automatic as a string", `{"id":"x","type":"payout.created","at":"2026-11-02T10:00:00Z","payout":"po","provider":"stripe","currency":"usd","amount":"1","automatic":"true"}`, `:automatic: must be true or false, not "true"`},
	{"metadata not strings", capture + `,"metadata":{"n":1}}`, `:metadata.n: must be a string, not 1`},
	{"not an object", `["x"]`, `: the line is not a JSON object`},
	{"two values", capture + `} {}`, `: more than one JSON value on the line`},
	{"truncated", capture, `: the line is not a JSON object: unexpected EOF`},
	{"not UTF-8", strings.Replace(capture, `"payment":"p"`, "\"payment\":\"caf\xe9\"", 1) + `}`, `: the line is not valid UTF-8`},
	{"byte order mark not at the start", "\n\xef\xbb\xbf" + capture + `}`, `: the line is not a JSON object: invalid character 'ï' looking for beginning of value`},
}

func TestReadRefusesLaxInput(t *testing.T) {
	for _, tc := range laxLines {
		t.Run(tc.name, func(t *testing.T) {
			events, errs := feed.Read("f.jsonl", strings.NewReader(tc.line))
			if len(events) != 0 || len(errs) != 1 {
				t.Fatalf("%s\nread %d events, errors %v; want one error", tc.line, len(events), errs)
			}
			line := 1 + strings.Count(tc.line, "\n")
			want := fmt.Sprintf("f.jsonl:%d%s", line, tc.want)
			if got := errs[0].Error(); got != want {
				t.Errorf("%s\n got %s\nwant %s", tc.line, got, want)
			}
			var fe *feed.Error
			if !errors.Is(errs[0], feed.ErrBadLine) || !errors.As(errs[0], &fe) || fe.Line != line {
				t.Errorf("error %v is not a *feed.Error at line %d matching ErrBadLine", errs[0], line)
			}
		})
	}
}

// A refused time matches ledger.ErrInvalidTime as well as ErrBadLine.
func TestReadTimeErrorsMatchTheLedgers(t *testing.T) {
	_, errs := feed.Read("f.jsonl", strings.NewReader(strings.Replace(capture, `2026-11-02T10:00:00Z`, `2263-01-01T00:00:00Z`, 1)+`}`))
	if len(errs) != 1 || !errors.Is(errs[0], ledger.ErrInvalidTime) || !errors.Is(errs[0], feed.ErrBadLine) {
		t.Fatalf("errors %v", errs)
	}
}

// goodLines are feeds of one event that the strict rules still accept.
var goodLines = []string{
	capture + `}`,
	strings.Replace(capture, `"10.00"`, `"5"`, 1) + `}`,
	strings.Replace(capture, `"10.00"`, `"0.50"`, 1) + `}`,
	strings.Replace(capture, `"10.00"`, `"007.50"`, 1) + `}`,
	capture + `,"fees":[{"type":"processing","amount":"0"}]}`,                                                                  // a zero fee is no fee
	capture + `,"fees":[{"amount":"10.00"}]}`,                                                                                  // fees equal to the amount: net zero
	capture + `,"metadata":{},"description":"","provider_ref":null}`,                                                           // empty optional values
	`{"id":"x","type":"dispute.opened","at":"2026-11-02T10:00:00Z","payment":"p","dispute":"d","amount":"5.00","fee":"15.00"}`, // a dispute fee may exceed the amount
	strings.Replace(capture, `2026-11-02T10:00:00Z`, `2026-11-02T10:00:00.123456789+02:00`, 1) + `}`,
	"\xef\xbb\xbf" + capture + `}`,                                                             // a byte order mark at the start of the file
	"\r\n  \n" + capture + "}\r\n",                                                             // blank lines and CRLF
	entry + `,"postings":[` + dr + `,` + cr + `]}`,                                             //
	capture + `,"settlement":{"amount":"10.81","currency":"usd"},"fees":[{"amount":"10.81"}]}`, // fees in the settlement currency
	`{"id":"x","type":"dispute.won","at":"2026-11-02T10:00:00Z","dispute":"d","settlement":{"amount":"5.50","currency":"usd"}}`,
}

func TestReadAccepts(t *testing.T) {
	for _, line := range goodLines {
		events, errs := feed.Read("f.jsonl", strings.NewReader(line))
		if len(errs) != 0 || len(events) != 1 {
			t.Errorf("%q: %d events, errors %v", line, len(events), errs)
		}
	}
}

// A line longer than MaxLine is refused as a whole and the lines after it
// are read.
func TestReadRefusesOverlongLinesAndGoesOn(t *testing.T) {
	long := capture + `,"description":"` + strings.Repeat("x", feed.MaxLine) + `"}`
	events, errs := feed.Read("f.jsonl", strings.NewReader(capture+"}\n"+long+"\n"+capture+"}\n"))
	if len(events) != 2 || len(errs) != 1 || errs[0].Error() != "f.jsonl:2: the line is longer than 16 MiB" {
		t.Fatalf("%d events, errors %v", len(events), errs)
	}
	if events[1].Line != 3 {
		t.Errorf("the line after the long one is numbered %d, want 3", events[1].Line)
	}
}

// The Reader holds one line at a time: reading ten times the lines does not
// take ten times the memory.
func TestReaderMemoryIsFlat(t *testing.T) {
	heapAfter := func(n int) uint64 {
		rd := feed.NewReader("f.jsonl", &lines{line: []byte(capture + `,"fees":[{"type":"processing","amount":"0.59"}]}` + "\n"), n: n})
		for {
			if _, err := rd.Next(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	small, large := heapAfter(5_000), heapAfter(50_000)
	if large > small+4<<20 {
		t.Errorf("heap after 50k lines %d bytes, after 5k %d", large, small)
	}
}

// lines yields line n times without holding the whole feed.
type lines struct {
	line []byte
	n    int
	rest []byte
}

func (l *lines) Read(p []byte) (int, error) {
	if len(l.rest) == 0 {
		if l.n == 0 {
			return 0, io.EOF
		}
		l.n--
		l.rest = l.line
	}
	n := copy(p, l.rest)
	l.rest = l.rest[n:]
	return n, nil
}

// Fees given as [] or null read as no fees, as when they are not given
// (object.list answers nil for a field not given or null).
func TestReadEmptyLists(t *testing.T) {
	for _, fees := range []string{``, `,"fees":[]`, `,"fees":null`} {
		events, errs := feed.Read("f.jsonl", strings.NewReader(capture+fees+`}`))
		if len(errs) != 0 || len(events) != 1 || len(events[0].Fees) != 0 {
			t.Errorf("fees %q: events %+v, errors %v", fees, events, errs)
		}
	}
}
