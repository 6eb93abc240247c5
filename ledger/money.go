package ledger

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"sync"

	"github.com/shopspring/decimal"
	"golang.org/x/text/currency"
)

// Currency is a currency code with the number of digits of its minor unit.
// Codes are lowercase, as Stripe stores them; Upper gives the form for reports.
type Currency struct {
	Code   string
	Digits int
}

// Upper returns the code in upper case, the form accountants expect.
func (c Currency) Upper() string { return strings.ToUpper(c.Code) }

// String returns the lowercase code.
func (c Currency) String() string { return c.Code }

// Currencies resolves currency codes to their minor-unit digits. The zero value
// knows every ISO 4217 currency; codes outside ISO 4217 (Whop's "eth", for
// example) must be registered with their digits before use.
type Currencies struct {
	extra map[string]int
}

// Register adds a currency code that ISO 4217 does not know, with the number
// of digits of its minor unit (0 to 18).
func (cs *Currencies) Register(code string, digits int) error {
	code = strings.ToLower(strings.TrimSpace(code))
	if !validCode(code) {
		return fmt.Errorf("%w: %q is not a 3 to 8 letter code", ErrUnknownCurrency, code)
	}
	if digits < 0 || digits > 18 {
		return fmt.Errorf("%w: %q: digits %d out of range 0..18", ErrUnknownCurrency, code, digits)
	}
	if cs.extra == nil {
		cs.extra = make(map[string]int)
	}
	cs.extra[code] = digits
	return nil
}

// Lookup returns the currency for a code, case-insensitively. A nil
// *Currencies knows ISO 4217 only.
func (cs *Currencies) Lookup(code string) (Currency, error) {
	lc := strings.ToLower(strings.TrimSpace(code))
	if cs != nil {
		if d, ok := cs.extra[lc]; ok {
			return Currency{Code: lc, Digits: d}, nil
		}
	}
	return LookupCurrency(lc)
}

// isoCache remembers the codes LookupCurrency resolved: parsing a code with
// x/text costs more than the rest of a posting's validation. It holds
// facts of ISO 4217 only (never a registered code, never a failure), so it
// is bounded by that list and the same for every Ledger of the process.
var isoCache sync.Map // lowercase code → Currency

// LookupCurrency returns the ISO 4217 currency for a code, case-insensitively,
// with its digits from golang.org/x/text/currency.
func LookupCurrency(code string) (Currency, error) {
	lc := strings.ToLower(strings.TrimSpace(code))
	if c, ok := isoCache.Load(lc); ok {
		return c.(Currency), nil
	}
	c, err := lookupISO(code, lc)
	if err == nil {
		isoCache.Store(lc, c)
	}
	return c, err
}

// notMoney names the ISO 4217 codes that are no currency a payment is made
// in: those whose minor unit ISO 4217 gives as "N.A." — gold, silver,
// palladium and platinum (XAU, XAG, XPD, XPT), the IMF's special drawing
// right (XDR), the European bond-market units (XBA to XBD), the SUCRE (XSU),
// the ADB unit of account (XUA), the code reserved for testing (XTS) and
// "no currency" (XXX) — and the withdrawn units XFO, XFU and XRE.
// golang.org/x/text knows them all and gives them 2 decimals, which is
// made up; a payment in one is almost surely a placeholder or test value.
// They are refused unless registered (Currencies.Register), which states
// their decimals.
var notMoney = map[string]string{
	"xau": "gold", "xag": "silver", "xpd": "palladium", "xpt": "platinum",
	"xdr": "the IMF's special drawing right", "xba": "a bond-market unit", "xbb": "a bond-market unit",
	"xbc": "a bond-market unit", "xbd": "a bond-market unit", "xsu": "the SUCRE unit of account",
	"xua": "the ADB unit of account", "xts": "the code reserved for testing", "xxx": "the code for no currency",
	"xfo": "a withdrawn unit", "xfu": "a withdrawn unit", "xre": "a withdrawn unit",
}

func lookupISO(code, lc string) (Currency, error) {
	if len(lc) != 3 {
		return Currency{}, fmt.Errorf("%w: %q (register it with its decimals if it is not ISO 4217)", ErrUnknownCurrency, code)
	}
	if what, ok := notMoney[lc]; ok {
		return Currency{}, fmt.Errorf("%w: %q is %s in ISO 4217, not a currency payments are made in (register it with its decimals to use it)", ErrUnknownCurrency, code, what)
	}
	unit, err := currency.ParseISO(lc)
	if err != nil {
		return Currency{}, fmt.Errorf("%w: %q (register it with its decimals if it is not ISO 4217)", ErrUnknownCurrency, code)
	}
	scale, _ := currency.Standard.Rounding(unit)
	return Currency{Code: lc, Digits: scale}, nil
}

func validCode(code string) bool {
	if len(code) < 3 || len(code) > 8 {
		return false
	}
	for _, r := range code {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

var maxInt64 = big.NewInt(math.MaxInt64)
var minInt64 = big.NewInt(math.MinInt64)

// ToMinor converts an amount in major units to exact integer minor units of c.
// An amount with more decimals than the currency has (12.345 USD) and one that
// does not fit in an int64 are errors wrapping ErrInvalidAmount.
func ToMinor(d decimal.Decimal, c Currency) (int64, error) {
	if m, ok := toMinorFast(d, c.Digits); ok {
		return m, nil
	}
	shifted := d.Shift(int32(c.Digits))
	if !shifted.Equal(shifted.Truncate(0)) {
		return 0, fmt.Errorf("%w: %s has more than %d decimals for %s", ErrInvalidAmount, d.String(), c.Digits, c.Upper())
	}
	bi := shifted.BigInt()
	if bi.Cmp(maxInt64) > 0 || bi.Cmp(minInt64) < 0 {
		return 0, fmt.Errorf("%w: %s %s overflows a 64-bit minor-unit amount", ErrInvalidAmount, d.String(), c.Upper())
	}
	return bi.Int64(), nil
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// toMinorFast converts without big-integer allocations when the coefficient
// has at most 15 digits and the exponent fits the currency; otherwise it
// reports !ok and ToMinor takes the general path, which also produces the
// errors.
func toMinorFast(d decimal.Decimal, digits int) (int64, bool) {
	if d.NumDigits() > 15 {
		return 0, false
	}
	shift := int(d.Exponent()) + digits
	if shift < 0 || shift > 3 {
		return 0, false
	}
	return d.CoefficientInt64() * pow10[shift], true
}

// FromMinor converts integer minor units of c to an exact decimal in major units.
func FromMinor(m int64, c Currency) decimal.Decimal {
	return decimal.New(m, -int32(c.Digits))
}

// FormatMinor renders minor units in major units with exactly the currency's
// decimals: 1234 USD is "12.34", 5 JPY is "5", -1 KWD is "-0.001".
func FormatMinor(m int64, digits int) string {
	return decimal.New(m, -int32(digits)).StringFixed(int32(digits))
}

// ParseAmount parses a decimal string in major units ("29.99") into minor units
// of c. Exponents, thousands separators and empty strings are refused.
func ParseAmount(s string, c Currency) (int64, error) {
	d, err := ParseDecimal(s)
	if err != nil {
		return 0, err
	}
	return ToMinor(d, c)
}

// ParseDecimal parses a plain decimal string: an optional sign, digits and an
// optional fraction. It refuses exponents and anything else decimal.Decimal
// would accept loosely.
func ParseDecimal(s string) (decimal.Decimal, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return decimal.Decimal{}, fmt.Errorf("%w: empty amount", ErrInvalidAmount)
	}
	body := t
	if body[0] == '-' || body[0] == '+' {
		body = body[1:]
	}
	digits, dot := 0, 0
	for _, r := range body {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			dot++
		default:
			return decimal.Decimal{}, fmt.Errorf("%w: %q is not a decimal number", ErrInvalidAmount, s)
		}
	}
	if digits == 0 || dot > 1 {
		return decimal.Decimal{}, fmt.Errorf("%w: %q is not a decimal number", ErrInvalidAmount, s)
	}
	d, err := decimal.NewFromString(t)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%w: %q is not a decimal number", ErrInvalidAmount, s)
	}
	return d, nil
}

// AddMinor adds two minor-unit amounts, reporting overflow instead of wrapping.
func AddMinor(a, b int64) (int64, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, fmt.Errorf("%w: %d + %d overflows a 64-bit amount", ErrInvalidAmount, a, b)
	}
	return s, nil
}
