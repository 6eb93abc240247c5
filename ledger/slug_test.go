package ledger

import "testing"

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
