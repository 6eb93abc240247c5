package ledger

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// Stored entries carry entryHash's value and replays must reproduce it, so
// its bytes may never change: these were computed when the layout was
// fixed (entry/v1).
func TestEntryHashIsStable(t *testing.T) {
	tests := []struct {
		in   EntryInput
		want string
	}{
		{EntryInput{Key: "sale-1", OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Description: "Sale 1",
			Metadata: map[string]string{"order": "o-1", "a": "b"}, Source: Source{Provider: "stripe", Type: "payment", ID: "pay_1", Ref: "ch_1"},
			Postings: []PostingInput{
				{Account: "assets:stripe:available", Currency: "usd", Amount: decimal.RequireFromString("12.50")},
				{Account: "income:sales", Currency: "USD", Amount: decimal.RequireFromString("-12.5")}}},
			"496af2ed4f192b299eebbecfa6a80312763113303ae168f6c495f9a8ba59fadd"},
		{EntryInput{Key: "k", Pending: true, ExpiresAt: time.Unix(100, 0), Postings: []PostingInput{
			{Account: "a", Currency: "jpy", Amount: decimal.New(-123456789, 3)},
			{Account: "b", Currency: "kwd", Amount: decimal.RequireFromString("0.001")},
			{Account: "c", Currency: "usd", Amount: decimal.RequireFromString("-1234567890123456789012.000100")}}},
			"b71004467d6fd02fea0b7d6a7d182ec637cf95274e1b8f34b7bd8f84cd09d7b4"},
	}
	for i, tt := range tests {
		if got := entryHash(&tt.in); got != tt.want {
			t.Errorf("%d: entryHash = %s, want %s", i, got, tt.want)
		}
	}
}

// appendDecimal is the hash's allocation-free stand-in for
// decimal.String and must write the same text for every value.
func TestAppendDecimalMatchesString(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	values := []decimal.Decimal{decimal.Zero, decimal.New(0, -3), decimal.New(0, 4), decimal.New(-5, -3),
		decimal.New(1, 18), decimal.New(999999999999999999, -18), decimal.New(-999999999999999999, -30),
		decimal.New(-100, -2), decimal.New(120, -1), decimal.New(7, 2), decimal.RequireFromString("-0.000"),
		decimal.RequireFromString("12345678901234567890.5")}
	for range 20000 {
		c := r.Int64N(2_000_000_000_000_000_000) - 1_000_000_000_000_000_000
		if r.IntN(3) == 0 {
			c = r.Int64N(20000) - 10000
		}
		values = append(values, decimal.New(c, int32(r.IntN(30)-24)))
	}
	for _, d := range values {
		if got, want := string(appendDecimal(nil, d)), d.String(); got != want {
			t.Fatalf("appendDecimal(%s) = %q, want %q (coefficient %s, exponent %d)", want, got, want, d.Coefficient(), d.Exponent())
		}
	}
}
