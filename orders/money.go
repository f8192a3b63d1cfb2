package orders

import (
	"math"
	"strings"
)

// Currency describes an ISO 4217 currency as chatpay handles it: money is an int64
// count of minor units, and Decimals says how many of them make one major unit.
type Currency struct {
	Code     string
	Decimals int
}

// currencies lists what chatpay accepts. VND and IRR have no minor unit in practice;
// THB and USD have two decimals.
var currencies = map[string]Currency{
	"VND": {"VND", 0},
	"IRR": {"IRR", 0},
	"THB": {"THB", 2},
	"USD": {"USD", 2},
	"EUR": {"EUR", 2},
	"GBP": {"GBP", 2},
	"SGD": {"SGD", 2},
	"MYR": {"MYR", 2},
	"IDR": {"IDR", 0},
	"PHP": {"PHP", 2},
	"JPY": {"JPY", 0},
	"KRW": {"KRW", 0},
}

// LookupCurrency returns the currency for an ISO 4217 code (case-insensitive).
func LookupCurrency(code string) (Currency, bool) {
	c, ok := currencies[strings.ToUpper(code)]
	return c, ok
}

// MaxAmount bounds every amount and total chatpay accepts. It is far above any real
// order yet leaves int64 headroom so sums of a few amounts can never overflow.
const MaxAmount int64 = 1e15

// mulAmount multiplies a quantity by a unit price, reporting false past MaxAmount.
func mulAmount(q, p int64) (int64, bool) {
	if q < 0 || p < 0 {
		return 0, false
	}
	if q != 0 && p > math.MaxInt64/q {
		return 0, false
	}
	r := q * p
	return r, r <= MaxAmount
}

// addAmount adds two non-negative amounts, reporting false past MaxAmount.
func addAmount(a, b int64) (int64, bool) {
	r := a + b
	return r, a >= 0 && b >= 0 && r <= MaxAmount
}
