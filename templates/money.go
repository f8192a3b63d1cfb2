package templates

import (
	"strconv"
	"strings"
)

// numberFormat is how a locale writes numbers: the group and decimal separators and
// whether it writes ASCII or Persian digits.
type numberFormat struct {
	group, decimal string
	persian        bool
	// symbolFirst puts a currency symbol before the number ("₫330,000") rather than
	// after it with a space ("330.000 ₫").
	symbolFirst bool
}

var numberFormats = map[string]numberFormat{
	"en": {group: ",", decimal: ".", symbolFirst: true},
	"th": {group: ",", decimal: ".", symbolFirst: true},
	"vi": {group: ".", decimal: ","},
	// Persian writes U+066C ARABIC THOUSANDS SEPARATOR and U+066B ARABIC DECIMAL
	// SEPARATOR between Persian digits, and the currency after the amount.
	"fa": {group: "\u066c", decimal: "\u066b", persian: true},
}

// symbols are the currency signs chatpay shows. A currency missing here is written
// with its ISO code after the amount, which is unambiguous in every locale.
var symbols = map[string]string{
	"VND": "₫",
	"THB": "฿",
	"USD": "$",
	"EUR": "€",
	"GBP": "£",
	"JPY": "¥",
	"KRW": "₩",
	"PHP": "₱",
	"SGD": "S$",
	"MYR": "RM",
	"IDR": "Rp",
}

// FormatMoney writes amount minor units of currency (with decimals digits after the
// point) the way locale reads money: "330.000 ₫" in vi, "₫330,000" in en, "฿1,234.50",
// "$12.34". Iranian rials shown as toman (toman=true) are divided by ten, keeping one
// decimal only when the amount is not a whole toman so no money silently disappears,
// and are labelled "تومان" in fa and "toman" elsewhere. Persian uses Persian digits and
// separators. An unknown locale formats as en; an unknown currency is written as the
// number followed by its code.
func FormatMoney(amount int64, decimals int, currency, locale string, toman bool) string {
	nf := numberFormats[normLocale(locale)]
	code := strings.ToUpper(strings.TrimSpace(currency))
	if decimals < 0 {
		decimals = 0
	}
	if decimals > 18 {
		decimals = 18
	}

	var label string // written after the number with a space
	symbol, hasSymbol := symbols[code]
	trimZeroFraction := false
	switch {
	case code == "IRR" && toman:
		// A toman is ten rials: one more decimal place, dropped again when it is zero.
		decimals++
		trimZeroFraction = true
		label = "toman"
		if nf.persian {
			label = "تومان"
		}
	case code == "IRR":
		label = "rial"
		if nf.persian {
			label = "ریال"
		}
	case hasSymbol && !nf.symbolFirst:
		label = symbol
	case !hasSymbol:
		label = code
	}

	num := formatNumber(amount, decimals, nf, trimZeroFraction)
	sign := ""
	if amount < 0 {
		sign = "-"
	}
	switch {
	case hasSymbol && nf.symbolFirst && label == "":
		return sign + symbol + num
	case label == "":
		return sign + num
	default:
		return sign + num + " " + label
	}
}

// formatNumber writes |amount| as a decimal number with the locale's separators.
func formatNumber(amount int64, decimals int, nf numberFormat, trimZeroFraction bool) string {
	// The magnitude as uint64 is exact even for math.MinInt64.
	mag := uint64(amount)
	if amount < 0 {
		mag = -mag
	}
	digits := strconv.FormatUint(mag, 10)
	if len(digits) <= decimals {
		digits = strings.Repeat("0", decimals-len(digits)+1) + digits
	}
	intPart, frac := digits[:len(digits)-decimals], digits[len(digits)-decimals:]
	if trimZeroFraction && strings.Trim(frac, "0") == "" {
		frac = ""
	}

	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(nf.group)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(nf.decimal)
		b.WriteString(frac)
	}
	if nf.persian {
		return persianDigits(b.String())
	}
	return b.String()
}

// formatInt writes a count (a quantity) with the locale's digits and grouping.
func formatInt(n int64, locale string) string {
	nf := numberFormats[normLocale(locale)]
	s := formatNumber(n, 0, nf, false)
	if n < 0 {
		return "-" + s
	}
	return s
}

// persianDigits replaces ASCII digits with Persian ones (U+06F0..U+06F9).
func persianDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '۰' + (r - '0')
		}
		return r
	}, s)
}
