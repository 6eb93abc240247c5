package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/settlehq/settle/ledger"
)

func TestNormalizeProvider(t *testing.T) {
	for in, want := range map[string]string{
		"stripe": "stripe", " Stripe ": "stripe", "JustiFi": "justifi", "acme_pay-2": "acme_pay-2", "2checkout": "2checkout",
		strings.Repeat("p", 64): strings.Repeat("p", 64),
	} {
		if got, err := ledger.NormalizeProvider(in); err != nil || got != want {
			t.Errorf("NormalizeProvider(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", "strip.e", "strip e", "stripe:eu", "strïpe", "stripe\x00", "-stripe", "_stripe", "stripe/eu",
		strings.Repeat("p", 65)} {
		if got, err := ledger.NormalizeProvider(in); !errors.Is(err, ledger.ErrInvalidRequest) {
			t.Errorf("NormalizeProvider(%q) = %q, %v; want ErrInvalidRequest", in, got, err)
		}
	}
}

// TestProviderNamesCannotCollide checks that every lifecycle request
// normalizes its provider name: "Stripe" and "stripe" are one provider with
// one name on payments and accounts alike, and a name such as "strip.e",
// which used to share the accounts of "strip_e" (and "strip e") while its
// payments kept their own name, is refused with nothing written.
func TestProviderNamesCannotCollide(t *testing.T) {
	e := newEnv(t, nil)
	capture := func(pay, provider string) error {
		_, err := e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap-" + pay, PaymentID: pay, Provider: provider,
			Currency: "usd", Amount: dec("10.00"), At: t0})
		return err
	}
	must(0, capture("pay_1", "Stripe")).ok(t)
	must(0, capture("pay_2", " stripe")).ok(t)
	must(0, capture("pay_3", "strip_e")).ok(t)
	for _, id := range []string{"pay_1", "pay_2"} {
		var p *ledger.Payment
		must(0, e.l.View(e.ctx, func(tx ledger.ReadTx) error {
			var err error
			p, err = tx.Payment(e.ctx, id)
			return err
		})).ok(t)
		if p.Provider != "stripe" {
			t.Errorf("%s: provider %q, want stripe", id, p.Provider)
		}
	}

	refused := map[string]func(provider string) error{
		"capture": func(p string) error { return capture("pay_x", p) },
		"authorize": func(p string) error {
			_, err := e.l.Authorize(e.ctx, ledger.AuthorizeRequest{Key: "auth-x", PaymentID: "pay_x", Provider: p,
				Currency: "usd", Amount: dec("10.00"), At: t0})
			return err
		},
		"payout": func(p string) error {
			_, err := e.l.CreatePayout(e.ctx, ledger.PayoutRequest{Key: "po-x", PayoutID: "po_x", Provider: p,
				Currency: "usd", Amount: dec("1.00"), At: t0})
			return err
		},
		"provider transaction": func(p string) error {
			_, err := e.l.BookProviderTransaction(e.ctx, ledger.ProviderTransaction{Key: "bt-x", Provider: p, ID: "txn_x",
				Kind: "charge", Type: "charge", Currency: "usd", Amount: 100, Net: 100, Created: t0})
			return err
		},
	}
	for op, call := range refused {
		for _, name := range []string{"strip.e", "strip e", "Strip.E"} {
			if err := call(name); !errors.Is(err, ledger.ErrInvalidRequest) || !strings.Contains(err.Error(), "provider name") {
				t.Errorf("%s with provider %q: %v; want ErrInvalidRequest", op, name, err)
			}
		}
	}
	e.wantBalances(t, map[string]bal{
		"assets:stripe:pending usd":  {2000, 0}, // pay_1 and pay_2
		"assets:strip_e:pending usd": {1000, 0},
		"income:sales usd":           {-3000, 0},
	})
	e.verify(t)
}
