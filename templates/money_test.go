package templates_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/templates"
)

func TestFormatMoney(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		amount   int64
		decimals int
		currency string
		locale   string
		toman    bool
		want     string
	}{
		// VND: no minor unit; the symbol goes first in en/th and last in vi/fa.
		{"vnd vi", 330000, 0, "VND", "vi", false, "330.000 ₫"},
		{"vnd en", 330000, 0, "VND", "en", false, "₫330,000"},
		{"vnd th", 330000, 0, "VND", "th", false, "₫330,000"},
		{"vnd fa", 330000, 0, "VND", "fa", false, "۳۳۰٬۰۰۰ ₫"},
		{"vnd zero", 0, 0, "VND", "vi", false, "0 ₫"},
		{"vnd small", 999, 0, "VND", "vi", false, "999 ₫"},
		{"vnd negative vi", -30000, 0, "VND", "vi", false, "-30.000 ₫"},
		{"vnd negative en", -30000, 0, "VND", "en", false, "-₫30,000"},
		{"vnd 1e15 en", 1e15, 0, "VND", "en", false, "₫1,000,000,000,000,000"},
		{"vnd 1e15 vi", 1e15, 0, "VND", "vi", false, "1.000.000.000.000.000 ₫"},
		{"vnd lowercase code", 1000, 0, "vnd", "vi", false, "1.000 ₫"},
		{"vnd regional locale", 1000, 0, "VND", "vi-VN", false, "1.000 ₫"},

		// THB and USD: two decimals.
		{"thb th", 123450, 2, "THB", "th", false, "฿1,234.50"},
		{"thb en", 123450, 2, "THB", "en", false, "฿1,234.50"},
		{"thb vi", 123450, 2, "THB", "vi", false, "1.234,50 ฿"},
		{"thb fa", 123450, 2, "THB", "fa", false, "۱٬۲۳۴٫۵۰ ฿"},
		{"thb zero", 0, 2, "THB", "th", false, "฿0.00"},
		{"thb one satang", 1, 2, "THB", "th", false, "฿0.01"},
		{"thb negative", -5, 2, "THB", "th", false, "-฿0.05"},
		{"usd en", 1234, 2, "USD", "en", false, "$12.34"},
		{"usd vi", 1234, 2, "USD", "vi", false, "12,34 $"},
		{"usd 1e15", 1e15, 2, "USD", "en", false, "$10,000,000,000,000.00"},
		{"usd unknown locale falls back to en", 1234, 2, "USD", "xx", false, "$12.34"},
		{"usd empty locale", 1234, 2, "USD", "", false, "$12.34"},

		// IRR, as rial and as toman (a tenth of a rial count).
		{"irr fa rial", 1234500, 0, "IRR", "fa", false, "۱٬۲۳۴٬۵۰۰ ریال"},
		{"irr en rial", 1234500, 0, "IRR", "en", false, "1,234,500 rial"},
		{"irr toman fa whole", 1234500, 0, "IRR", "fa", true, "۱۲۳٬۴۵۰ تومان"},
		{"irr toman fa remainder kept", 1234505, 0, "IRR", "fa", true, "۱۲۳٬۴۵۰٫۵ تومان"},
		{"irr toman en", 1234500, 0, "IRR", "en", true, "123,450 toman"},
		{"irr toman en remainder", 15, 0, "IRR", "en", true, "1.5 toman"},
		{"irr toman below one", 5, 0, "IRR", "en", true, "0.5 toman"},
		{"irr toman zero", 0, 0, "IRR", "fa", true, "۰ تومان"},
		{"irr toman negative", -1234505, 0, "IRR", "fa", true, "-۱۲۳٬۴۵۰٫۵ تومان"},
		{"irr toman 1e15", 1e15, 0, "IRR", "fa", true, "۱۰۰٬۰۰۰٬۰۰۰٬۰۰۰٬۰۰۰ تومان"},
		{"toman ignored for other currencies", 1000, 0, "VND", "fa", true, "۱٬۰۰۰ ₫"},

		// Unknown currencies: the number with its decimals, then the code.
		{"unknown en", 1234, 2, "XYZ", "en", false, "12.34 XYZ"},
		{"unknown vi", 1234567, 3, "BHD", "vi", false, "1.234,567 BHD"},
		{"unknown fa", 1234, 2, "XYZ", "fa", false, "۱۲٫۳۴ XYZ"},
		{"unknown negative", -1234, 2, "XYZ", "en", false, "-12.34 XYZ"},
		{"no currency", 1234, 2, "", "en", false, "12.34"},
		{"negative decimals treated as zero", 1234, -1, "XYZ", "en", false, "1,234 XYZ"},

		// The extremes of int64 do not overflow.
		{"min int64", math.MinInt64, 0, "VND", "en", false, "-₫9,223,372,036,854,775,808"},
		{"max int64", math.MaxInt64, 2, "USD", "en", false, "$92,233,720,368,547,758.07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := templates.FormatMoney(tt.amount, tt.decimals, tt.currency, tt.locale, tt.toman)
			require.Equal(t, tt.want, got)
		})
	}
}

func FuzzFormatMoney(f *testing.F) {
	f.Add(int64(330000), 0, "VND", "vi", false)
	f.Add(int64(-123450), 2, "THB", "th", false)
	f.Add(int64(1234505), 0, "IRR", "fa", true)
	f.Add(int64(math.MinInt64), 30, "xyz", "", true)
	f.Fuzz(func(t *testing.T, amount int64, decimals int, currency, locale string, toman bool) {
		s := templates.FormatMoney(amount, decimals, currency, locale, toman)
		require.NotEmpty(t, s)
		if amount < 0 {
			require.Equal(t, byte('-'), s[0], "negative amounts start with a minus: %q", s)
		}
	})
}

func BenchmarkFormatMoney(b *testing.B) {
	for b.Loop() {
		templates.FormatMoney(1234505, 0, "IRR", "fa", true)
	}
}
