package templates_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/templates"
)

var chatKinds = []string{
	"card_warning", "welcome", "staff_mirror", "order_created", "order_created_ship",
	"order_invalid", "payment_required", "shipped_ok", "resent_ok", "cancelled_ok",
	"refund_ok", "not_found", "orders_list", "help", "error", "not_in_topic",
	"business_window_closed", "group_order_sent", "group_order_start", "group_reply_needed",
	"claim_not_found", "claim_closed", "order_draft", "draft_hint_pick", "draft_hint_item", "draft_hint_shipping",
	"draft_discarded", "draft_expired",
}

// chatView is a full chat view in the locale's own money format.
func chatView(locale string) templates.ChatView {
	v := view(locale)
	m := func(n int64) string { return templates.FormatMoney(n, 0, "VND", locale, false) }
	return templates.ChatView{
		Locale:       locale,
		CustomerName: v.CustomerName,
		OrderCode:    v.OrderCode,
		Total:        v.Total,
		Items:        v.Items,
		Shipping:     v.Shipping,
		LinkURL:      link,
		Text:         "the order is already paid",
		Orders: []templates.ChatOrderLine{
			{Code: "1042", Status: "awaiting_payment", Total: m(380000)},
			{Code: "1043", Status: "paid", Total: m(50000)},
		},
		Bot: "shopbot",
	}
}

func TestChat(t *testing.T) {
	t.Parallel()
	tpl := setup(t)

	t.Run("every kind in every locale", func(t *testing.T) {
		t.Parallel()
		for _, locale := range templates.Locales() {
			for _, kind := range chatKinds {
				for _, v := range []templates.ChatView{chatView(locale), {Locale: locale}} {
					text, err := tpl.Chat(kind, v)
					require.NoError(t, err, "%s/%s", locale, kind)
					require.NotEmpty(t, text, "%s/%s", locale, kind)
					require.Equal(t, strings.TrimSpace(text), text, "%s/%s", locale, kind)
					require.NotContains(t, text, "<no value>", "%s/%s", locale, kind)
					require.NotContains(t, text, "\n\n\n", "%s/%s", locale, kind)
					require.NotContains(t, text, "  ", "%s/%s: an empty value left a double space", locale, kind)
				}
			}
		}
	})

	t.Run("the full view's values show in every locale", func(t *testing.T) {
		t.Parallel()
		for _, locale := range templates.Locales() {
			v := chatView(locale)
			for _, kind := range []string{"order_created", "order_created_ship"} {
				text, err := tpl.Chat(kind, v)
				require.NoError(t, err)
				for _, want := range []string{"#1042", "Minh", "Áo thun", v.Items[0].Amount, v.Shipping, v.Total, link} {
					require.Contains(t, text, want, "%s/%s", locale, kind)
				}
			}
			draft := v
			draft.ShipOnPayment = true
			shipping, err := tpl.Chat("order_draft", draft)
			require.NoError(t, err)
			for _, want := range []string{"Minh", "Áo thun", v.Items[0].Amount, v.Shipping, v.Total, v.Text} {
				require.Contains(t, shipping, want, "%s/order_draft", locale)
			}
			plain, err := tpl.Chat("order_draft", v)
			require.NoError(t, err)
			require.NotEqual(t, plain, shipping, "%s: a draft that ships on payment says so", locale)
			for _, kind := range []string{"payment_required", "shipped_ok", "resent_ok", "cancelled_ok", "refund_ok", "not_found", "group_order_sent", "group_order_start", "claim_not_found", "claim_closed"} {
				text, err := tpl.Chat(kind, v)
				require.NoError(t, err)
				require.Contains(t, text, "#1042", "%s/%s", locale, kind)
			}
			for _, kind := range []string{"staff_mirror", "order_invalid", "error"} {
				text, err := tpl.Chat(kind, v)
				require.NoError(t, err)
				require.Contains(t, text, v.Text, "%s/%s", locale, kind)
			}
			text, err := tpl.Chat("refund_ok", v)
			require.NoError(t, err)
			require.Contains(t, text, v.Total, locale)
			text, err = tpl.Chat("welcome", v)
			require.NoError(t, err)
			require.Contains(t, text, "Minh", locale)
		}
	})

	t.Run("persian uses persian digits for quantities", func(t *testing.T) {
		t.Parallel()
		text, err := tpl.Chat("order_created", chatView("fa"))
		require.NoError(t, err)
		require.Contains(t, text, "Áo thun × ۲: ۳۰۰٬۰۰۰ ₫")
	})

	t.Run("order created", func(t *testing.T) {
		t.Parallel()
		text, err := tpl.Chat("order_created", chatView("en"))
		require.NoError(t, err)
		require.Equal(t, "Order #1042 created for Minh:\n"+
			"• Áo thun × 2 — ₫300,000\n"+
			"• Mũ × 1 — ₫50,000\n"+
			"Shipping: ₫30,000\n"+
			"Total: ₫380,000\n\n"+
			"The customer got the card with “Pay now”.\n"+
			"Link: "+link, text)

		v := chatView("en")
		v.Shipping, v.LinkURL = "", ""
		text, err = tpl.Chat("order_created_ship", v)
		require.NoError(t, err)
		require.Equal(t, "Order #1042 created for Minh:\n"+
			"• Áo thun × 2 — ₫300,000\n"+
			"• Mũ × 1 — ₫50,000\n"+
			"Total: ₫380,000\n\n"+
			"The customer got the card with “Pay now”. It will be ready to ship once paid.", text)
	})

	t.Run("staff mirror", func(t *testing.T) {
		t.Parallel()
		text, err := tpl.Chat("staff_mirror", templates.ChatView{CustomerName: "Minh", Text: "Còn size M không?"})
		require.NoError(t, err)
		require.Equal(t, "Minh: Còn size M không?", text)
		text, err = tpl.Chat("staff_mirror", templates.ChatView{Text: "hello"})
		require.NoError(t, err)
		require.Equal(t, "Customer: hello", text)
	})

	t.Run("short replies", func(t *testing.T) {
		t.Parallel()
		v := chatView("en")
		for kind, want := range map[string]string{
			"order_invalid":    "Couldn't read that order: the order is already paid",
			"payment_required": "Order #1042 is not paid yet, so it can't ship. It can ship as soon as the customer pays.",
			"shipped_ok":       "Order #1042 is marked as shipped. The customer was told.",
			"resent_ok":        "Sent the payment link for order #1042 to the customer again.",
			"cancelled_ok":     "Order #1042 is cancelled. Its payment link no longer works, and the customer was told.",
			"refund_ok":        "Refund of ₫380,000 for order #1042 started.",
			"not_found":        "There is no order #1042 for this customer.",
			"error":            "Something went wrong: the order is already paid",
			"not_in_topic":     "Commands work in a customer's topic, not in General.",
		} {
			text, err := tpl.Chat(kind, v)
			require.NoError(t, err)
			require.Equal(t, want, text, kind)
		}
		text, err := tpl.Chat("welcome", v)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(text, "Hi Minh! "), text)
		text, err = tpl.Chat("card_warning", templates.ChatView{})
		require.NoError(t, err)
		require.Contains(t, text, "card numbers")
	})

	t.Run("orders list", func(t *testing.T) {
		t.Parallel()
		text, err := tpl.Chat("orders_list", chatView("en"))
		require.NoError(t, err)
		require.Equal(t, "Open orders of Minh:\n"+
			"#1042 — Awaiting payment — ₫380,000\n"+
			"#1043 — Paid — ₫50,000", text)

		v := chatView("vi")
		text, err = tpl.Chat("orders_list", v)
		require.NoError(t, err)
		require.Contains(t, text, "#1042 — Chờ thanh toán — 380.000 ₫")

		// A status without a localised name shows as it is.
		v = chatView("en")
		v.Orders = []templates.ChatOrderLine{{Code: "7", Status: "on hold", Total: "₫1"}}
		text, err = tpl.Chat("orders_list", v)
		require.NoError(t, err)
		require.Contains(t, text, "#7 — on hold — ₫1")

		v.Orders = nil
		text, err = tpl.Chat("orders_list", v)
		require.NoError(t, err)
		require.Equal(t, "Minh has no open orders.", text)
		for _, locale := range templates.Locales() {
			withOrders, err := tpl.Chat("orders_list", chatView(locale))
			require.NoError(t, err)
			v := chatView(locale)
			v.Orders = nil
			none, err := tpl.Chat("orders_list", v)
			require.NoError(t, err)
			require.Contains(t, withOrders, "#1043", locale)
			require.NotContains(t, none, "#", locale)
			require.Contains(t, none, "Minh", locale)
		}
	})

	t.Run("help", func(t *testing.T) {
		t.Parallel()
		const example = "/order 2 x Áo thun @ 150000; 1 x Mũ @ 50000; ship 30000"
		for _, locale := range templates.Locales() {
			text, err := tpl.Chat("help", templates.ChatView{Locale: locale, Bot: "shopbot"})
			require.NoError(t, err)
			require.Contains(t, text, "@shopbot", locale)
			require.Contains(t, text, example, locale)
			for _, cmd := range []string{"/order_ship", "/ship ", "/resend ", "/cancel ", "/refund ", "/orders", "/help"} {
				require.Contains(t, text, cmd, "%s: %s", locale, cmd)
			}
			text, err = tpl.Chat("help", templates.ChatView{Locale: locale})
			require.NoError(t, err)
			require.NotContains(t, text, "/orders@", "%s: no bot name, no /cmd@bot example", locale)
		}
	})

	t.Run("unknown locale falls back to English", func(t *testing.T) {
		t.Parallel()
		text, err := tpl.Chat("not_found", templates.ChatView{Locale: "de", OrderCode: "9"})
		require.NoError(t, err)
		require.Equal(t, "There is no order #9 for this customer.", text)
	})

	t.Run("unknown kind", func(t *testing.T) {
		t.Parallel()
		_, err := tpl.Chat("farewell", chatView("en"))
		require.ErrorContains(t, err, `unknown chat kind "farewell"`)
		_, err = tpl.Chat("order_card", chatView("en")) // a message kind, not a chat text
		require.Error(t, err)
	})
}
