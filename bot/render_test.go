package bot_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

func newRenderer(t *testing.T) bot.Renderer {
	t.Helper()
	tpl, err := templates.New()
	require.NoError(t, err)
	return bot.Renderer{Templates: tpl}
}

// TestRendererOrderCardVietnamese renders the card a Vietnamese customer sees: the
// total uses Vietnamese digit grouping and the only button opens the payment link.
func TestRendererOrderCardVietnamese(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	shop := &orders.Shop{ID: "v", Name: "Cửa hàng", Currency: "VND", Locale: "vi"}
	o := &orders.Order{
		Code:     "1001",
		Currency: "VND",
		Items: []orders.Item{
			{Name: "Áo thun", Quantity: 2, UnitPrice: 150_000},
		},
		ShippingFee: 30_000,
		Total:       330_000,
		Status:      orders.StatusAwaitingPayment,
	}
	const link = "https://pay.example/pay/AAAAAAAAAAAAAAAAAAAAAA"

	text, buttons, err := r.Message(orders.KindOrderCard, orders.MessageData{Shop: shop, Order: o, LinkURL: link})
	require.NoError(t, err)
	require.Contains(t, text, "330.000")
	require.Contains(t, text, "#1001")
	require.Contains(t, text, "Áo thun")
	require.Equal(t, []orders.Button{{Label: "Thanh toán ngay", URL: link}}, buttons)
}

// TestRendererNotice checks the staff notice path goes through the same view.
func TestRendererNotice(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	shop := &orders.Shop{ID: "a", Name: "Shop A", Currency: "VND", Locale: "en"}
	o := &orders.Order{Code: "1002", Currency: "VND", Total: 5000, Status: orders.StatusPaid}
	text, err := r.Notice(orders.NoticePaid, orders.MessageData{Shop: shop, Order: o, Amount: 5000})
	require.NoError(t, err)
	require.Contains(t, text, "1002")
}

func TestView(t *testing.T) {
	t.Parallel()

	t.Run("THBTwoDecimals", func(t *testing.T) {
		t.Parallel()
		shop := &orders.Shop{ID: "b", Currency: "THB", Locale: "en"}
		o := &orders.Order{
			Code: "7", Currency: "THB", Total: 123450,
			Items: []orders.Item{{Name: "x", Quantity: 1, UnitPrice: 123450}},
		}
		v := bot.View(orders.MessageData{Shop: shop, Order: o})
		require.Contains(t, v.Total, "1,234.50")
		require.Contains(t, v.Amount, "1,234.50")
		require.Empty(t, v.Shipping, "no shipping line when the fee is zero")
		require.Len(t, v.Items, 1)
		require.Contains(t, v.Items[0].Amount, "1,234.50")
	})

	t.Run("AmountOverridesTotal", func(t *testing.T) {
		t.Parallel()
		shop := &orders.Shop{ID: "b", Currency: "THB", Locale: "en"}
		o := &orders.Order{Code: "7", Currency: "THB", Total: 123450}
		v := bot.View(orders.MessageData{Shop: shop, Order: o, Amount: 100})
		require.Contains(t, v.Amount, "1.00")
		require.Contains(t, v.Total, "1,234.50")
	})

	t.Run("NoOrder", func(t *testing.T) {
		t.Parallel()
		shop := &orders.Shop{ID: "b", Name: "B", Currency: "THB", Locale: "en"}
		v := bot.View(orders.MessageData{Shop: shop, Amount: 123450, Reason: "why"})
		require.Contains(t, v.Amount, "1,234.50")
		require.Equal(t, "B", v.ShopName)
		require.Equal(t, "why", v.Reason)
		require.Empty(t, v.OrderCode)
	})
}

// TestMoney pins how the renderer picks decimals and locale: from the currency table
// (two decimals for codes it does not know) and the shop, with English for no shop.
func TestMoney(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		shop     *orders.Shop
		currency string
		amount   int64
		want     string
	}{
		{"THBEnglish", &orders.Shop{Locale: "en"}, "THB", 123450, "1,234.50"},
		{"THBVietnamese", &orders.Shop{Locale: "vi"}, "THB", 123450, "1.234,50 ฿"},
		{"JPYNoDecimals", &orders.Shop{Locale: "en"}, "JPY", 123450, "¥123,450"},
		{"UnknownCurrencyTwoDecimals", nil, "XYZ", 123450, "1,234.50 XYZ"},
		{"RialAsToman", &orders.Shop{Locale: "en", DisplayToman: true}, "IRR", 1234560, "123,456 toman"},
		{"Rial", &orders.Shop{Locale: "en"}, "IRR", 1234560, "1,234,560 rial"},
		{"VNDVietnamese", &orders.Shop{Locale: "vi"}, "VND", 330000, "330.000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, bot.Money(tc.shop, tc.currency, tc.amount), tc.want)
		})
	}
}
