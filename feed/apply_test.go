package feed_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// books opens a ledger on a fresh in-memory SQLite database.
func books(t testing.TB) (*ledger.Ledger, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return ledger.New(st, nil), st
}

// verify fails the test if Verify finds a broken invariant.
func verify(t testing.TB, l *ledger.Ledger) {
	t.Helper()
	vs, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("violation: %s", v)
	}
}

const mixed = `{"id":"e1","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p1","provider":"stripe","currency":"usd","amount":"10.00"}
{"id":"e2","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p2","provider":"stripe","currency":"usd","amount":10}

{"id":"e3","type":"payment.refunded","at":"2026-11-03T10:00:00Z","payment":"p1","refund":"r1","amount":"4.00"}
{"id":"e4","type":"payment.refunded","at":"2026-11-03T10:00:00Z","payment":"nope","refund":"r2","amount":"1.00"}
{"id":"e5","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p3","provider":"stripe","currency":"usd","amount":"1.00","amout":"2"}
`

func TestApplyFileAllOrNothingOrSkip(t *testing.T) {
	ctx := context.Background()
	l, _ := books(t)

	// All or nothing: after the bad line 2 nothing more is applied (so line
	// 5 is not tried), but every line that does not parse is listed, and
	// nothing is written.
	sum, errs := feed.ApplyFile(ctx, l, "f.jsonl", strings.NewReader(mixed), false)
	var got []string
	for _, err := range errs {
		got = append(got, err.Error())
	}
	want := []string{
		`f.jsonl:2:amount: must be a decimal string in major units like "29.99", not 10`,
		`f.jsonl:6:amout: unknown field (a payment.captured takes id, type, at, payment, amount, fees, available_on, provider, provider_ref, currency, customer, description, metadata, settlement)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || sum != (feed.Summary{}) {
		t.Fatalf("without skip: %+v\n%s\nwant\n%s", sum, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if bals, _ := l.Balances(ctx, ""); len(bals) != 0 {
		t.Errorf("a rejected file wrote balances: %v", bals)
	}

	// The first refused event is listed too, with the lines after it that
	// do not parse.
	_, errs = feed.ApplyFile(ctx, l, "f.jsonl", strings.NewReader(strings.Replace(mixed, `"amount":10`, `"amount":"10.00"`, 1)), false)
	got = got[:0]
	for _, err := range errs {
		got = append(got, err.Error())
	}
	want = []string{`f.jsonl:5: payment.refunded "e4": refund e4: payment "nope": not found`, want[1]}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("refused event:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if bals, _ := l.Balances(ctx, ""); len(bals) != 0 {
		t.Errorf("a rejected file wrote balances: %v", bals)
	}

	// Skip-invalid: lines 1 and 4 land, the three bad ones are reported.
	sum, errs = feed.ApplyFile(ctx, l, "f.jsonl", strings.NewReader(mixed), true)
	if sum.Commit <= 0 {
		t.Errorf("a feed applied with no time to its commit: %+v", sum)
	}
	if sum.Commit = 0; sum != (feed.Summary{Applied: 2, Skipped: 3}) || len(errs) != 3 {
		t.Fatalf("with skip: %+v, %v", sum, errs)
	}
	if got, _ := l.Balance(ctx, "income:refunds", "usd"); got != -400 {
		t.Errorf("income:refunds = %d, want -400", got)
	}
	// Again: everything already recorded.
	sum, _ = feed.ApplyFile(ctx, l, "f.jsonl", strings.NewReader(mixed), true)
	if sum.Commit = 0; sum != (feed.Summary{Replayed: 2, Skipped: 3}) {
		t.Errorf("re-applying: %+v", sum)
	}
	verify(t, l)
}

// ApplyFile reads its input once, as a stream: a pipe works, and a failure
// to read rolls everything back even with skipInvalid.
func TestApplyFileReadsAStreamOnce(t *testing.T) {
	ctx := context.Background()
	l, _ := books(t)
	pr, pw := io.Pipe()
	go func() {
		for _, line := range strings.SplitAfter(lifecycleFeed, "\n") {
			pw.Write([]byte(line))
		}
		pw.Close()
	}()
	sum, errs := feed.ApplyFile(ctx, l, "pipe", pr, false)
	if len(errs) != 0 || sum.Applied != 4 {
		t.Fatalf("from a pipe: %+v %v", sum, errs)
	}

	l, _ = books(t)
	broken := io.MultiReader(strings.NewReader(lifecycleFeed), errReader{})
	sum, errs = feed.ApplyFile(ctx, l, "broken", broken, true)
	if len(errs) != 1 || !errors.Is(errs[0], errDisk) || sum != (feed.Summary{}) {
		t.Fatalf("failed read: %+v %v", sum, errs)
	}
	if bals, _ := l.Balances(ctx, ""); len(bals) != 0 {
		t.Errorf("a feed whose read failed wrote balances: %v", bals)
	}
}

var errDisk = errors.New("disk on fire")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errDisk }

const lifecycleFeed = `{"id":"a","type":"payment.authorized","at":"2026-11-02T10:00:00Z","payment":"p1","provider":"stripe","currency":"usd","amount":"10.00","expires_at":"2026-11-09T10:00:00Z"}
{"id":"c","type":"payment.captured","at":"2026-11-02T11:00:00Z","payment":"p1","fees":[{"type":"processing","amount":"0.59"}],"available_on":"2026-11-04T00:00:00Z"}
{"id":"r","type":"payment.refunded","at":"2026-11-05T10:00:00Z","payment":"p1","refund":"r1","amount":"1.00"}
{"id":"e","type":"entry.posted","at":"2026-11-06T10:00:00Z","postings":[{"account":"assets:bank:ops","currency":"usd","debit":"5.00"},{"account":"equity:owner","currency":"usd","credit":"5.00"}],"metadata":{"k":"v"}}
`

// Currency codes are resolved with the ledger's registry when applied, and a
// refusal names the field. ISO 4217 codes that are no money are refused.
func TestApplyRefusesCurrenciesByField(t *testing.T) {
	ctx := context.Background()
	cases := []struct{ line, want string }{
		{`{"id":"x","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p","provider":"stripe","currency":"xxx","amount":"1.00"}`,
			`f.jsonl:1:currency: unknown currency: "xxx" is the code for no currency in ISO 4217`},
		{`{"id":"x","type":"payment.authorized","at":"2026-11-02T10:00:00Z","payment":"p","provider":"stripe","currency":"XTS","amount":"1.00"}`,
			`f.jsonl:1:currency: unknown currency: "xts" is the code reserved for testing in ISO 4217`},
		{`{"id":"x","type":"payout.created","at":"2026-11-02T10:00:00Z","payout":"po","provider":"stripe","currency":"xau","amount":"1.00"}`,
			`f.jsonl:1:currency: unknown currency: "xau" is gold in ISO 4217`},
		{`{"id":"x","type":"entry.posted","at":"2026-11-02T10:00:00Z","postings":[{"account":"assets:bank:ops","currency":"usd","debit":"1"},{"account":"equity:owner","currency":"eth","credit":"1"}]}`,
			`f.jsonl:1:postings[1].currency: unknown currency: "eth"`},
	}
	for _, tc := range cases {
		l, _ := books(t)
		_, errs := feed.ApplyFile(ctx, l, "f.jsonl", strings.NewReader(tc.line), false)
		if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), tc.want) || !errors.Is(errs[0], ledger.ErrUnknownCurrency) {
			t.Errorf("%s:\n got %v\nwant %s…", tc.line, errs, tc.want)
		}
	}
	// A registered code is accepted.
	var cs ledger.Currencies
	if err := cs.Register("xau", 4); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := ledger.New(st, &ledger.Options{Currencies: &cs})
	line := `{"id":"x","type":"payment.captured","at":"2026-11-02T10:00:00Z","payment":"p","provider":"vault","currency":"xau","amount":"1.2345"}`
	if sum, errs := feed.ApplyFile(ctx, l, "f.jsonl", strings.NewReader(line), false); len(errs) != 0 || sum.Applied != 1 {
		t.Errorf("registered xau: %+v %v", sum, errs)
	}
}

// Times at the edges of what the books hold round-trip exactly through the
// feed; the next second out is refused naming the field.
func TestFeedTimesRoundTripOrAreRefused(t *testing.T) {
	ctx := context.Background()
	l, _ := books(t)
	const edges = `{"id":"lo","type":"entry.posted","at":"1677-09-21T00:12:44Z","postings":[{"account":"assets:bank:ops","currency":"usd","debit":"1"},{"account":"equity:owner","currency":"usd","credit":"1"}]}
{"id":"hi","type":"entry.posted","at":"2262-04-11T23:47:16.854775807Z","postings":[{"account":"assets:bank:ops","currency":"usd","debit":"1"},{"account":"equity:owner","currency":"usd","credit":"1"}]}
{"id":"ep","type":"entry.posted","at":"1970-01-01T00:00:01Z","postings":[{"account":"assets:bank:ops","currency":"usd","debit":"1"},{"account":"equity:owner","currency":"usd","credit":"1"}]}
`
	if sum, errs := feed.ApplyFile(ctx, l, "f.jsonl", strings.NewReader(edges), false); len(errs) != 0 || sum.Applied != 3 {
		t.Fatalf("%+v %v", sum, errs)
	}
	for id, want := range map[int64]string{1: "1677-09-21T00:12:44Z", 2: "2262-04-11T23:47:16.854775807Z", 3: "1970-01-01T00:00:01Z"} {
		e, err := l.Entry(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.OccurredAt.Format(time.RFC3339Nano); got != want {
			t.Errorf("entry %d at %s, want %s", id, got, want)
		}
	}
	verify(t, l)
}
