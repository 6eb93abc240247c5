package ledger

import (
	"strings"
	"testing"
)

// slugByRunes is Slug without its fast path: what every input must come to.
func slugByRunes(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"stripe": "stripe", " Stripe ": "stripe", "Adyen EU": "adyen_eu", "": "unknown", "  ": "unknown",
		"café": "caf_", "a.b": "a_b", "x-y_z9": "x-y_z9", "UPPER": "upper", "\xff": "_",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
		if got := slugByRunes(in); got != want {
			t.Errorf("slugByRunes(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSlug(f *testing.F) {
	for _, s := range []string{"stripe", " Stripe ", "café", "", "a-b_c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Slug(s), slugByRunes(s); got != want {
			t.Fatalf("Slug(%q) = %q, want %q", s, got, want)
		}
	})
}
