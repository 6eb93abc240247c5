package ledger_test

import (
	"errors"
	"math"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

func TestLookupCurrency(t *testing.T) {
	tests := []struct {
		code   string
		want   ledger.Currency
		upper  string
		errIs  error
		digits int
	}{
		{code: "USD", want: ledger.Currency{Code: "usd", Digits: 2}, upper: "USD"},
		{code: "usd", want: ledger.Currency{Code: "usd", Digits: 2}, upper: "USD"},
		{code: "uSd", want: ledger.Currency{Code: "usd", Digits: 2}, upper: "USD"},
		{code: " eur ", want: ledger.Currency{Code: "eur", Digits: 2}, upper: "EUR"},
		{code: "JPY", want: ledger.Currency{Code: "jpy", Digits: 0}, upper: "JPY"},
		{code: "kwd", want: ledger.Currency{Code: "kwd", Digits: 3}, upper: "KWD"},
		{code: "BHD", want: ledger.Currency{Code: "bhd", Digits: 3}, upper: "BHD"},
		{code: "eth", errIs: ledger.ErrUnknownCurrency},
		{code: "ETH", errIs: ledger.ErrUnknownCurrency},
		{code: "zzz", errIs: ledger.ErrUnknownCurrency},
		{code: "", errIs: ledger.ErrUnknownCurrency},
		{code: "us", errIs: ledger.ErrUnknownCurrency},
		{code: "usdt", errIs: ledger.ErrUnknownCurrency},
		{code: "u$d", errIs: ledger.ErrUnknownCurrency},
		// ISO 4217 codes that are no money (minor unit "N.A.") are refused.
		{code: "XXX", errIs: ledger.ErrUnknownCurrency},
		{code: "xts", errIs: ledger.ErrUnknownCurrency},
		{code: "xau", errIs: ledger.ErrUnknownCurrency},
		{code: "xag", errIs: ledger.ErrUnknownCurrency},
		{code: "xpt", errIs: ledger.ErrUnknownCurrency},
		{code: "xpd", errIs: ledger.ErrUnknownCurrency},
		{code: "xdr", errIs: ledger.ErrUnknownCurrency},
		{code: "xba", errIs: ledger.ErrUnknownCurrency},
		{code: "xbd", errIs: ledger.ErrUnknownCurrency},
		{code: "xsu", errIs: ledger.ErrUnknownCurrency},
		{code: "xua", errIs: ledger.ErrUnknownCurrency},
		{code: "xfu", errIs: ledger.ErrUnknownCurrency},
		// X-codes that are real currencies resolve.
		{code: "XOF", want: ledger.Currency{Code: "xof", Digits: 0}, upper: "XOF"},
		{code: "xaf", want: ledger.Currency{Code: "xaf", Digits: 0}, upper: "XAF"},
		{code: "xpf", want: ledger.Currency{Code: "xpf", Digits: 0}, upper: "XPF"},
		{code: "xcd", want: ledger.Currency{Code: "xcd", Digits: 2}, upper: "XCD"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			// The package function, a nil registry and an empty one agree.
			var nilReg *ledger.Currencies
			lookups := map[string]func(string) (ledger.Currency, error){
				"LookupCurrency": ledger.LookupCurrency,
				"nil registry":   nilReg.Lookup,
				"empty registry": (&ledger.Currencies{}).Lookup,
			}
			for name, lookup := range lookups {
				got, err := lookup(tt.code)
				if tt.errIs != nil {
					if !errors.Is(err, tt.errIs) {
						t.Errorf("%s(%q) = %v, %v; want error %v", name, tt.code, got, err, tt.errIs)
					}
					continue
				}
				if err != nil || got != tt.want {
					t.Errorf("%s(%q) = %+v, %v; want %+v", name, tt.code, got, err, tt.want)
				}
				if got.Upper() != tt.upper || got.String() != tt.want.Code {
					t.Errorf("%s(%q): Upper %q String %q", name, tt.code, got.Upper(), got.String())
				}
			}
		})
	}
}

func TestCurrenciesRegister(t *testing.T) {
	var cs ledger.Currencies
	if _, err := cs.Lookup("eth"); !errors.Is(err, ledger.ErrUnknownCurrency) {
		t.Fatalf("eth before Register: err = %v, want ErrUnknownCurrency", err)
	}
	if err := cs.Register("ETH", 18); err != nil {
		t.Fatalf("Register: %v", err)
	}
	for _, code := range []string{"eth", "ETH", " Eth "} {
		got, err := cs.Lookup(code)
		if err != nil || got != (ledger.Currency{Code: "eth", Digits: 18}) {
			t.Errorf("Lookup(%q) = %+v, %v", code, got, err)
		}
	}
	// ISO currencies still resolve through a registry.
	if got, err := cs.Lookup("JPY"); err != nil || got.Digits != 0 {
		t.Errorf("Lookup(JPY) = %+v, %v", got, err)
	}
	// The registration is local to that registry.
	if _, err := ledger.LookupCurrency("eth"); !errors.Is(err, ledger.ErrUnknownCurrency) {
		t.Errorf("LookupCurrency(eth) after a registry registered it: %v", err)
	}
	eth, _ := cs.Lookup("eth")
	if m, err := ledger.ParseAmount("0.000000000000000001", eth); err != nil || m != 1 {
		t.Errorf("1 wei = %d, %v", m, err)
	}

	bad := []struct {
		code   string
		digits int
	}{
		{"", 2}, {"e", 2}, {"et", 2}, {"e1h", 2}, {"toolongcode", 2}, {"btc", -1}, {"btc", 19},
	}
	for _, b := range bad {
		if err := cs.Register(b.code, b.digits); !errors.Is(err, ledger.ErrUnknownCurrency) {
			t.Errorf("Register(%q, %d) = %v, want ErrUnknownCurrency", b.code, b.digits, err)
		}
	}
	if _, err := cs.Lookup("btc"); err == nil {
		t.Errorf("btc resolved after refused registrations")
	}
	// A code that is no money by default can be registered on purpose.
	if err := cs.Register("XAU", 4); err != nil {
		t.Fatalf("Register(XAU): %v", err)
	}
	if got, err := cs.Lookup("xau"); err != nil || got != (ledger.Currency{Code: "xau", Digits: 4}) {
		t.Errorf("Lookup(xau) after Register = %+v, %v", got, err)
	}
}

func TestToMinor(t *testing.T) {
	usd := ledger.Currency{Code: "usd", Digits: 2}
	jpy := ledger.Currency{Code: "jpy", Digits: 0}
	kwd := ledger.Currency{Code: "kwd", Digits: 3}
	tests := []struct {
		amount string
		cur    ledger.Currency
		want   int64
		bad    bool
	}{
		{"12.34", usd, 1234, false},
		{"12.3", usd, 1230, false},
		{"12", usd, 1200, false},
		{"12.340000", usd, 1234, false},
		{"0", usd, 0, false},
		{"-0.01", usd, -1, false},
		{"12.345", usd, 0, true},
		{"0.001", usd, 0, true},
		{"-12.345", usd, 0, true},
		{"1500", jpy, 1500, false},
		{"1500.0", jpy, 1500, false},
		{"1500.5", jpy, 0, true},
		{"12.345", kwd, 12345, false},
		{"0.001", kwd, 1, false},
		{"12.3456", kwd, 0, true},
		{"92233720368547758.07", usd, math.MaxInt64, false},
		{"92233720368547758.08", usd, 0, true},
		{"-92233720368547758.08", usd, math.MinInt64, false},
		{"-92233720368547758.09", usd, 0, true},
		{"9223372036854775807", jpy, math.MaxInt64, false},
		{"9223372036854775808", jpy, 0, true},
		{"100000000000000000000000000", kwd, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.amount+"_"+tt.cur.Code, func(t *testing.T) {
			got, err := ledger.ToMinor(dec(tt.amount), tt.cur)
			if tt.bad {
				if !errors.Is(err, ledger.ErrInvalidAmount) {
					t.Fatalf("ToMinor(%s %s) = %d, %v; want ErrInvalidAmount", tt.amount, tt.cur.Upper(), got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ToMinor(%s %s) = %d, %v; want %d", tt.amount, tt.cur.Upper(), got, err, tt.want)
			}
			// Back to major units exactly.
			if back := ledger.FromMinor(got, tt.cur); !back.Equal(dec(tt.amount)) {
				t.Errorf("FromMinor(%d) = %s, want %s", got, back, tt.amount)
			}
		})
	}
	// A huge exponent does not wrap around.
	if _, err := ledger.ToMinor(decimal.New(1, 40), usd); !errors.Is(err, ledger.ErrInvalidAmount) {
		t.Errorf("1e40 USD: %v, want ErrInvalidAmount", err)
	}
}

func TestParseAmount(t *testing.T) {
	currencies := map[string]ledger.Currency{}
	for _, c := range []string{"USD", "JPY", "KWD"} {
		cur, err := ledger.LookupCurrency(c)
		if err != nil {
			t.Fatal(err)
		}
		currencies[c] = cur
	}
	tests := []struct {
		in   string
		cur  string
		want int64
		bad  bool
	}{
		{"29.99", "USD", 2999, false},
		{"  29.99 ", "USD", 2999, false},
		{"+29.99", "USD", 2999, false},
		{"-29.99", "USD", -2999, false},
		{"0.5", "USD", 50, false},
		{"007", "USD", 700, false},
		{"12.345", "USD", 0, true},
		{"1500", "JPY", 1500, false},
		{"1500.50", "JPY", 0, true},
		{"1.234", "KWD", 1234, false},
		{"1.2345", "KWD", 0, true},
		{"1e3", "USD", 0, true},
		{"1E3", "USD", 0, true},
		{"", "USD", 0, true},
		{"   ", "USD", 0, true},
		{"1,000", "USD", 0, true},
		{"1,00", "USD", 0, true},
		{"--1", "USD", 0, true},
		{"+-1", "USD", 0, true},
		{"-", "USD", 0, true},
		{".", "USD", 0, true},
		{"1.2.3", "USD", 0, true},
		{"$1", "USD", 0, true},
		{"1 000", "USD", 0, true},
		{"NaN", "USD", 0, true},
		{"Inf", "USD", 0, true},
		{"0x10", "USD", 0, true},
		{"1_000", "USD", 0, true},
		{"99999999999999999999", "USD", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.cur+"_"+tt.in, func(t *testing.T) {
			got, err := ledger.ParseAmount(tt.in, currencies[tt.cur])
			if tt.bad {
				if !errors.Is(err, ledger.ErrInvalidAmount) {
					t.Fatalf("ParseAmount(%q, %s) = %d, %v; want ErrInvalidAmount", tt.in, tt.cur, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseAmount(%q, %s) = %d, %v; want %d", tt.in, tt.cur, got, err, tt.want)
			}
		})
	}
}

func TestParseDecimalRefuses(t *testing.T) {
	for _, in := range []string{"1e3", "1E-2", "", " ", "1,000", "--1", "++1", "1-", "abc", "1.0.0", ".", "+", "1..0", "١٢"} {
		if d, err := ledger.ParseDecimal(in); !errors.Is(err, ledger.ErrInvalidAmount) {
			t.Errorf("ParseDecimal(%q) = %s, %v; want ErrInvalidAmount", in, d, err)
		}
	}
	for in, want := range map[string]string{"1": "1", "-1.50": "-1.5", "+0.01": "0.01", "123456789012345678901234567890.123": "123456789012345678901234567890.123"} {
		d, err := ledger.ParseDecimal(in)
		if err != nil || !d.Equal(dec(want)) {
			t.Errorf("ParseDecimal(%q) = %s, %v; want %s", in, d, err, want)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		m      int64
		digits int
		want   string
	}{
		{1234, 2, "12.34"},
		{5, 2, "0.05"},
		{-5, 2, "-0.05"},
		{0, 2, "0.00"},
		{1200, 2, "12.00"},
		{5, 0, "5"},
		{-1500, 0, "-1500"},
		{-1, 3, "-0.001"},
		{12345, 3, "12.345"},
		{1000, 3, "1.000"},
		{math.MaxInt64, 2, "92233720368547758.07"},
		{math.MinInt64, 2, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := ledger.FormatMinor(tt.m, tt.digits); got != tt.want {
			t.Errorf("FormatMinor(%d, %d) = %q, want %q", tt.m, tt.digits, got, tt.want)
		}
		// Formatting and parsing round-trip.
		cur := ledger.Currency{Code: "xts", Digits: tt.digits}
		if back, err := ledger.ParseAmount(tt.want, cur); err != nil || back != tt.m {
			t.Errorf("ParseAmount(FormatMinor(%d)) = %d, %v", tt.m, back, err)
		}
	}
}

func TestAddMinor(t *testing.T) {
	tests := []struct {
		a, b int64
		want int64
		bad  bool
	}{
		{1, 2, 3, false},
		{-5, 3, -2, false},
		{math.MaxInt64, 0, math.MaxInt64, false},
		{math.MaxInt64, 1, 0, true},
		{math.MinInt64, -1, 0, true},
		{math.MinInt64, math.MaxInt64, -1, false},
		{math.MaxInt64 - 1, 1, math.MaxInt64, false},
	}
	for _, tt := range tests {
		got, err := ledger.AddMinor(tt.a, tt.b)
		if tt.bad {
			if !errors.Is(err, ledger.ErrInvalidAmount) {
				t.Errorf("AddMinor(%d, %d) = %d, %v; want ErrInvalidAmount", tt.a, tt.b, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("AddMinor(%d, %d) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

// The ledger refuses unknown currencies until they are registered, and takes
// codes in any case.
func TestLedgerCurrencies(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "k1", PaymentID: "p1", Provider: "whop", Currency: "eth",
		Amount: dec("0.5"), At: t0})
	if !errors.Is(err, ledger.ErrUnknownCurrency) {
		t.Fatalf("capture in eth without registering it: %v, want ErrUnknownCurrency", err)
	}
	_, err = e.l.Authorize(e.ctx, ledger.AuthorizeRequest{Key: "k2", PaymentID: "p2", Provider: "whop", Currency: "eth",
		Amount: dec("0.5"), At: t0})
	if !errors.Is(err, ledger.ErrUnknownCurrency) {
		t.Fatalf("authorize in eth without registering it: %v, want ErrUnknownCurrency", err)
	}
	e.wantBalances(t, nil)

	var cs ledger.Currencies
	if err := cs.Register("ETH", 18); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, &ledger.Options{Currencies: &cs})
	res := must(e2.l.Capture(e2.ctx, ledger.CaptureRequest{Key: "k1", PaymentID: "p1", Provider: "whop", Currency: "ETH",
		Amount: dec("0.5"), At: t0})).ok(t)
	if res.Payment.Currency != "eth" || res.BalanceTransaction.Amount != 500000000000000000 {
		t.Errorf("eth capture: currency %q amount %d", res.Payment.Currency, res.BalanceTransaction.Amount)
	}
	if b := must(e2.l.Balance(e2.ctx, "income:sales", "ETH")).ok(t); b != 500000000000000000 {
		t.Errorf("income:sales ETH = %d", b)
	}
	// Upper-case codes are stored lower-case.
	must(e2.l.Capture(e2.ctx, ledger.CaptureRequest{Key: "k2", PaymentID: "p2", Provider: "stripe", Currency: "USD",
		Amount: dec("1.00"), At: t0})).ok(t)
	if p := e2.payment(t, "p2"); p.Currency != "usd" {
		t.Errorf("stored currency %q, want usd", p.Currency)
	}
	e2.verify(t)
}
