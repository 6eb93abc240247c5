package generate_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"maps"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reports"
	"github.com/settlehq/settle/store/sqlite"
)

// fxOptions is a generated history in which one payment in five is
// presented in EUR, GBP or JPY and settled in USD at the day's rate.
var fxOptions = generate.Options{Payments: 3000, PerDay: 50, TailDays: 40, ForeignShare: 0.2, DiffRate: 0.03}

// fxBooks is a ledger that recorded x's feed, imported one of its exports
// and reconciled it through the runner (which adopts the provider's
// settlements).
type fxBooks struct {
	st    *sqlite.Store
	books *ledger.Ledger
	rep   *app.Report
}

func reconcileFX(t *testing.T, x exports, format string) fxBooks {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "fx.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	books := ledger.New(st, nil)
	if _, errs := feed.ApplyFile(ctx, books, "fx.jsonl", bytes.NewReader(x.feed), false); len(errs) > 0 {
		t.Fatalf("recording: %v", errs[0])
	}
	if _, err := books.MakeAvailable(ctx, x.sum.End); err != nil {
		t.Fatal(err)
	}
	data, name := x.csv, "itemized.csv"
	if format == importers.FormatStripeBalanceJSON {
		data, name = x.json, "balance.json"
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, err := app.ImportFile(ctx, st, path, app.ImportOptions{Format: format}); err != nil || len(errs) > 0 {
		t.Fatalf("importing: %v %v", err, errs)
	}
	rep, err := app.Reconcile(ctx, st, books, reconcile.Scope{Provider: generate.Provider, Grain: provider.BalanceGrain},
		&app.Options{Now: func() time.Time { return x.sum.End }})
	if err != nil {
		t.Fatal(err)
	}
	return fxBooks{st, books, rep}
}

// TestForeignMonthReconciles records a generated history with foreign
// payments, reconciles each export, and checks that reconciliation finds
// exactly the injected differences (no exception for conversion itself),
// that every converted transaction took the provider's settlement, that
// the books verify and sum to zero in each currency, and that income:fx
// holds exactly the FX gain or loss computed here from the feed and the
// day's rates alone.
func TestForeignMonthReconciles(t *testing.T) {
	x := gen(t, fxOptions)
	if x.sum.Foreign < fxOptions.Payments/10 {
		t.Fatalf("only %d foreign payments", x.sum.Foreign)
	}
	wantFX := independentFX(t, x)
	for _, format := range []string{importers.FormatStripeItemizedCSV, importers.FormatStripeBalanceJSON} {
		t.Run(format, func(t *testing.T) {
			b := reconcileFX(t, x, format)
			ctx := context.Background()
			checkFindings(t, format, x, b.rep.Outcomes, b.rep.Run.Summary)
			if b.rep.Run.Adopted == 0 {
				t.Error("no settlement adopted")
			}
			vs, err := b.books.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs {
				t.Error(v)
			}
			sums := map[string]int64{}
			bals, err := b.books.Balances(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			var fx int64
			for _, bl := range bals {
				sums[bl.Currency] += bl.Posted
				if bl.Account == "income:fx" && bl.Currency == "usd" {
					fx = bl.Posted
				} else if bl.Account == "income:fx" && bl.Posted != 0 {
					t.Errorf("income:fx holds %d %s", bl.Posted, bl.Currency)
				}
			}
			for c, s := range sums {
				if s != 0 {
					t.Errorf("%s sums to %d", c, s)
				}
			}
			if len(sums) < 4 {
				t.Errorf("currencies %v, want usd, eur, gbp, jpy", sums)
			}
			// Every converted transaction took the provider's settlement,
			// but those the provider never reported: their estimate stays,
			// and so does the FX it would have realized.
			missing := map[string]bool{}
			for _, d := range x.sum.Diffs {
				if d.Kind == generate.MissingAtProvider && d.Estimated {
					missing[d.SourceRef] = true
				}
			}
			converted, want := 0, wantFX
			err = b.books.View(ctx, func(tx ledger.ReadTx) error {
				return tx.EachBalanceTransaction(ctx, ledger.BTFilter{}, func(bt *ledger.BalanceTransaction) error {
					if bt.PresentmentCurrency == "" {
						return nil
					}
					converted++
					if bt.Currency != "usd" || bt.ExchangeRate.Sign() <= 0 {
						t.Errorf("%s: %s, rate %s", bt.ID, bt.Currency, bt.ExchangeRate)
					}
					if bt.SettlementEstimated {
						if !missing[bt.SourceRef] {
							t.Errorf("%s (%s): settlement still estimated", bt.ID, bt.SourceRef)
						}
						pc, _ := ledger.LookupCurrency(bt.PresentmentCurrency)
						// The ledger realized nothing where the provider would
						// have realized bt.Amount − truth.
						want -= bt.Amount - settleAt(t, x, bt.PresentmentAmount, pc, bt.Created)
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if converted < x.sum.Foreign {
				t.Errorf("%d converted balance transactions for %d foreign payments", converted, x.sum.Foreign)
			}
			if fx != want {
				t.Errorf("income:fx %d USD cents, computed %d", fx, want)
			}
			if format == importers.FormatStripeItemizedCSV {
				t.Run("hledger", func(t *testing.T) { testValuationOracle(t, b, x) })
			}
		})
	}
}

// independentFX computes the realized FX gain or loss (USD cents, debit
// positive: a loss) of the history from its feed and the generator's daily
// rates: each foreign payment is booked at its capture's settlement S for
// its captured amount C; every refund, dispute and won dispute settles at
// its own day's rate, and takes back its presentment amount at S/C. Over a
// payment, what was taken back, U, was booked at round(S × U / C) (half to
// even); the loss is what the provider settled beyond that.
func independentFX(t *testing.T, x exports) int64 {
	t.Helper()
	// Foreign payments are those whose charge the itemized export shows
	// in another currency than it was presented in.
	foreign := map[string]bool{}
	for _, r := range read(t, importers.FormatStripeItemizedCSV, x.csv) {
		if r.PresentmentCurrency != "" && r.Type == "charge" {
			foreign[r.SourceRef] = true
		}
	}
	settle := func(m decimal.Decimal, cur string, at time.Time) int64 { return settleDecimal(t, x, m, cur, at) }
	type pay struct {
		cur                       string
		authorized, captured, ref decimal.Decimal
		settled                   int64 // S, USD cents
		c                         int64 // C, presentment minor units
		unwound                   decimal.Decimal
		settledBack               int64 // what the provider moved for refunds and disputes, signed
		foreign                   bool
	}
	pays := map[string]*pay{}
	disputes := map[string]*pay{}
	disputed := map[string]decimal.Decimal{}
	events, errs := feed.Read("fx.jsonl", bytes.NewReader(x.feed))
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	refs := map[string]string{}
	for _, ev := range events {
		switch ev.Type {
		case "payment.authorized":
			pays[ev.Payment] = &pay{cur: ev.Currency, authorized: ev.Amount}
			refs[ev.Payment] = ev.ProviderRef
		case "payment.captured":
			p := pays[ev.Payment]
			if p == nil {
				p = &pay{cur: ev.Currency, authorized: ev.Amount}
				pays[ev.Payment] = p
				refs[ev.Payment] = ev.ProviderRef
			}
			p.captured = p.authorized
			if !ev.Amount.IsZero() {
				p.captured = ev.Amount
			}
			p.foreign = foreign[refs[ev.Payment]]
			if p.foreign {
				p.settled = settle(p.captured, p.cur, ev.At)
				cur, _ := ledger.LookupCurrency(p.cur)
				p.c, _ = ledger.ToMinor(p.captured, cur)
			}
		case "payment.refunded":
			p := pays[ev.Payment]
			amt := ev.Amount
			if amt.IsZero() {
				amt = p.captured.Sub(p.ref)
			}
			p.ref = p.ref.Add(amt)
			if p.foreign {
				p.unwound = p.unwound.Add(amt)
				p.settledBack -= settle(amt, p.cur, ev.At)
			}
		case "dispute.opened":
			p := pays[ev.Payment]
			disputes[ev.Dispute], disputed[ev.Dispute] = p, ev.Amount
			if p.foreign {
				p.unwound = p.unwound.Add(ev.Amount)
				p.settledBack -= settle(ev.Amount, p.cur, ev.At)
			}
		case "dispute.won":
			p, amt := disputes[ev.Dispute], disputed[ev.Dispute]
			if p.foreign {
				p.unwound = p.unwound.Sub(amt)
				p.settledBack += settle(amt, p.cur, ev.At)
			}
		}
	}
	var loss int64
	for _, p := range pays {
		if !p.foreign || p.c == 0 {
			continue
		}
		cur, _ := ledger.LookupCurrency(p.cur)
		u, _ := ledger.ToMinor(p.unwound, cur)
		// Booked back: round(S × U / C), half to even, with big rationals.
		q := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(p.settled), big.NewInt(u)), big.NewInt(p.c))
		booked := decimal.NewFromBigRat(q, 4).RoundBank(0).IntPart()
		loss += -booked - p.settledBack
	}
	return loss
}

// needTool returns the path of an external program, or skips the test when
// it is missing — unless SETTLE_REQUIRE_TOOLS=1 (as in CI), which fails it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("SETTLE_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is not installed and SETTLE_REQUIRE_TOOLS=1 (apt-get install hledger beancount)", name)
	}
	t.Skipf("%s is not installed; set SETTLE_REQUIRE_TOOLS=1 to make this a failure", name)
	return ""
}

// testValuationOracle values the reconciled books in USD at the generated
// daily rates, exports them with those rates as prices, and checks that
// hledger's bal -X USD gives every account the same value, to the cent, and
// that bean-check accepts the priced beancount file.
func testValuationOracle(t *testing.T, b fxBooks, x exports) {
	hledger := needTool(t, "hledger")
	ctx := context.Background()
	rates, err := reports.ReadRates("rates.csv", bytes.NewReader(x.rates), b.books)
	if err != nil {
		t.Fatal(err)
	}
	day := x.sum.End.UTC().Truncate(24 * time.Hour)
	var buf bytes.Buffer
	w, err := reports.NewWriter(&buf, reports.CSV)
	if err != nil {
		t.Fatal(err)
	}
	opts := reports.Options{AsOf: day.Add(24*time.Hour - time.Nanosecond), ValueIn: "usd", Rates: rates}
	if err := reports.TrialBalance(ctx, b.books, opts, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	settle := map[string]string{}
	for _, r := range rows[1:] {
		if r[0] == "total" {
			continue
		}
		v := r[3]
		if r[4] != "" {
			v = "-" + r[4]
		}
		settle[r[0]] = v
	}
	if settle["income:fx"] == "" || settle["equity:conversion"] == "" || len(settle) < 8 {
		t.Fatalf("valued trial balance %v", settle)
	}
	path := filepath.Join(t.TempDir(), "books.journal")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := reports.ExportHledgerPriced(ctx, b.books, f, rates); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(hledger, "-f", path, "balance", "-X", "USD", "-e", day.AddDate(0, 0, 1).Format(time.DateOnly),
		"--flat", "--no-total", "-O", "csv").CombinedOutput()
	if err != nil {
		t.Fatalf("hledger: %v\n%s", err, out)
	}
	hrows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	hl := map[string]string{}
	for _, r := range hrows[1:] {
		v, ok := strings.CutSuffix(r[1], " USD")
		if !ok && r[1] != "0" {
			t.Errorf("hledger left %s unvalued: %s", r[0], r[1])
		}
		if v != "0" && v != "0.00" {
			hl[r[0]] = v
		}
	}
	if !maps.Equal(settle, hl) {
		for _, a := range slices.Sorted(maps.Keys(settle)) {
			if settle[a] != hl[a] {
				t.Errorf("%s: settle %s USD, hledger %s", a, settle[a], hl[a])
			}
		}
		for a := range hl {
			if _, ok := settle[a]; !ok {
				t.Errorf("%s: hledger %s USD, settle none", a, hl[a])
			}
		}
	}
	check := needTool(t, "bean-check")
	bean := filepath.Join(t.TempDir(), "books.beancount")
	if f, err = os.Create(bean); err != nil {
		t.Fatal(err)
	}
	if err := reports.ExportBeancountPriced(ctx, b.books, f, rates); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(check, bean).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("bean-check: %v\n%s", err, out)
	}
}

// settleDecimal converts m (major units of cur) to USD cents at the rate
// of at's day, rounded half to even.
func settleDecimal(t *testing.T, x exports, m decimal.Decimal, cur string, at time.Time) int64 {
	t.Helper()
	day := at.UTC().Format(time.DateOnly)
	for _, r := range x.sum.Rates {
		if r.Base == cur && r.Day.Format(time.DateOnly) == day {
			usd, _ := ledger.LookupCurrency("usd")
			v, err := ledger.ToMinor(m.Mul(decimal.RequireFromString(r.Rate)).RoundBank(2), usd)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no %s rate on %s", cur, day)
	return 0
}

// settleAt converts pm minor units of pc (signed) to USD cents at at's rate.
func settleAt(t *testing.T, x exports, pm int64, pc ledger.Currency, at time.Time) int64 {
	t.Helper()
	v := settleDecimal(t, x, ledger.FromMinor(max(pm, -pm), pc), pc.Code, at)
	if pm < 0 {
		return -v
	}
	return v
}
