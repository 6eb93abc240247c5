package ledger

import (
	"fmt"
	"strings"
	"testing"
)

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"stripe": "stripe", " Stripe ": "stripe", "Adyen EU": "adyen_eu", "": "unknown", "  ": "unknown",
		"café": "caf_", "a.b": "a_b", "x-y_z9": "x-y_z9", "UPPER": "upper", "\xff": "_",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
		if got := slugRunes(in); got != want {
			t.Errorf("slugRunes(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSlug: the fast path returns what the rune-by-rune form makes of any
// input.
func FuzzSlug(f *testing.F) {
	for _, s := range []string{"stripe", " Stripe ", "café", "", "a-b_c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Slug(s), slugRunes(s); got != want {
			t.Fatalf("Slug(%q) = %q, want %q", s, got, want)
		}
	})
}

// fill names the same account whether it made the name just now or gave
// out one it kept, and keeps no more than maxFilled names: past that, it
// still answers, without keeping.
func TestFillKeepsWhatItMade(t *testing.T) {
	want := func(tmpl, provider, typ string) string {
		return strings.ReplaceAll(strings.ReplaceAll(tmpl, "{provider}", Slug(provider)), "{type}", Slug(typ))
	}
	check := func(tmpl, provider, typ string) {
		t.Helper()
		for range 2 { // made, then kept
			if got, w := fill(tmpl, provider, typ), want(tmpl, provider, typ); got != w {
				t.Fatalf("fill(%q, %q, %q) = %q, want %q", tmpl, provider, typ, got, w)
			}
		}
	}
	for _, tmpl := range []string{DefaultChart.Pending, DefaultChart.Fees, "x:{provider}:{type}:{provider}", "income:sales"} {
		for _, provider := range []string{"stripe", "Whop Inc", ""} {
			for _, typ := range []string{"stripe_fee", "Dispute Fee", ""} {
				check(tmpl, provider, typ)
			}
		}
	}
	for i := range maxFilled + 10 {
		check(DefaultChart.Fees, "p", fmt.Sprintf("fee %d", i))
	}
	filledMu.RLock()
	n := len(filled)
	filledMu.RUnlock()
	if n > maxFilled {
		t.Errorf("fill keeps %d names, more than %d", n, maxFilled)
	}
}
