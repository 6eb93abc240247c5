package generate

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
)

// currency is a settlement currency of the simulated account with its
// pricing: a percentage in basis points plus a fixed fee per capture, and
// the dispute fee. Amounts are minor units.
type currency struct {
	code       string
	digits     int
	share      int   // percent of payments in this currency
	feeBP      int64 // processing fee, basis points of the captured amount
	feeFixed   int64 // processing fee, fixed part
	disputeFee int64
	scale      [2]int64 // prices in USD cents are multiplied by scale[0]/scale[1]
}

// currencies are the simulated account's currencies: Stripe's US pricing
// (2.9% + 30¢), European pricing (1.5% + 25c) and Japanese (3.6%).
var currencies = []*currency{
	{code: "usd", digits: 2, share: 60, feeBP: 290, feeFixed: 30, disputeFee: 1500, scale: [2]int64{1, 1}},
	{code: "eur", digits: 2, share: 25, feeBP: 150, feeFixed: 25, disputeFee: 2000, scale: [2]int64{23, 25}},
	{code: "jpy", digits: 0, share: 15, feeBP: 360, feeFixed: 0, disputeFee: 1500, scale: [2]int64{3, 2}},
}

// pickCurrency draws a currency by its share of payments.
func pickCurrency(r *rand.Rand) *currency {
	n := r.IntN(100)
	for _, c := range currencies {
		if n < c.share {
			return c
		}
		n -= c.share
	}
	return currencies[0]
}

// prices are catalogue prices in USD cents: a cart holds one to four items.
var prices = []int64{499, 999, 1200, 1499, 1900, 2499, 2999, 3900, 4900, 7900, 9900, 14900, 19900, 49900}

// cartAmount draws the amount of a payment in c's minor units.
func cartAmount(r *rand.Rand, c *currency) int64 {
	items := 1 + r.IntN(4)*r.IntN(2) // mostly a single item
	var cents int64
	for range items {
		cents += prices[r.IntN(len(prices))] * int64(1+r.IntN(2))
	}
	amt := cents * c.scale[0] / c.scale[1]
	if c.digits == 0 {
		amt = amt / 10 * 10 // yen prices end in 0
		if amt < 100 {
			amt = 100
		}
	}
	return amt
}

// processingFee is c's fee on a captured amount, rounded half to even.
func processingFee(c *currency, amount int64) int64 {
	return mulBP(amount, c.feeBP) + c.feeFixed
}

// mulBP returns amount × bp / 10,000 rounded half to even, in integers.
func mulBP(amount, bp int64) int64 {
	num := amount * bp
	q, rem := num/10000, num%10000
	switch {
	case rem*2 > 10000, rem*2 == 10000 && q%2 == 1:
		q++
	}
	return q
}

// share returns pct percent of amount, rounded down to a whole minor unit
// and at least 1.
func share(amount int64, pct int) int64 {
	v := amount * int64(pct) / 100
	if v < 1 {
		v = 1
	}
	return v
}

// appendMinor appends m minor units in major units with exactly digits
// decimals: 1234 → "12.34", -5 → "-0.05", 1200 with 0 digits → "1200".
func appendMinor(b []byte, m int64, digits int) []byte {
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	if digits == 0 {
		return strconv.AppendInt(b, m, 10)
	}
	var p int64 = 1
	for range digits {
		p *= 10
	}
	b = strconv.AppendInt(b, m/p, 10)
	b = append(b, '.')
	frac := strconv.AppendInt(nil, m%p, 10)
	for range digits - len(frac) {
		b = append(b, '0')
	}
	return append(b, frac...)
}

// idStyle is how the generator writes the n-th id of a kind: numbered
// (the prefix and n zero-padded to eight digits, so ids sort as they were
// made) or random (Options.RandomIDs: the prefix and 24 letters and digits
// that follow no order, as a provider's ids do), n counted from base
// (Options.IDBase).
type idStyle struct {
	random bool
	base   int
}

var (
	numberedIDs = idStyle{}
	randomIDs   = idStyle{random: true}
)

// append appends the n-th id with prefix.
func (st idStyle) append(b []byte, prefix string, n int) []byte {
	b = append(b, prefix...)
	n += st.base
	if st.random {
		// The first 11 characters are a bijection of n for the prefix (mix
		// is one, and 11 base-62 digits hold 64 bits), so ids stay unique;
		// the other 13 make the length a provider's.
		h := fnv.New64a()
		h.Write([]byte(prefix))
		x := mix(uint64(n) + h.Sum64())
		b = appendBase62(b, x)
		for range 13 {
			x = mix(x + 0x9e3779b97f4a7c15)
			b = append(b, base62[x%62])
		}
		return b
	}
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	for range 8 - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// id returns the n-th id with prefix.
func (st idStyle) id(prefix string, n int) string { return string(st.append(nil, prefix, n)) }

// mix is SplitMix64's finalizer: a bijection of uint64 that scatters
// neighbouring numbers.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// appendBase62 appends x as 11 base-62 digits, which hold any uint64.
func appendBase62(b []byte, x uint64) []byte {
	var d [11]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = base62[x%62]
		x /= 62
	}
	return append(b, d[:]...)
}
