package templates_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/templates"
)

// TestHoldAndDisputeTexts checks the texts about held payments and lost disputes in
// every locale: each names the order and the amount, has no button (nothing is left to
// pay), and the customer's "authorised" text never reads like the paid confirmation.
func TestHoldAndDisputeTexts(t *testing.T) {
	t.Parallel()
	tpl := setup(t)
	for _, locale := range templates.Locales() {
		v := view(locale)
		paid, _, err := tpl.Message("paid_confirmation", v)
		require.NoError(t, err)
		for _, kind := range []string{"authorized", "hold_released", "dispute_refunded"} {
			text, buttons, err := tpl.Message(kind, v)
			require.NoError(t, err, "%s/%s", locale, kind)
			require.Empty(t, buttons, "%s/%s", locale, kind)
			require.Equal(t, strings.TrimSpace(text), text)
			require.NotContains(t, text, "<no value>")
			require.Contains(t, text, "#1042", "%s/%s", locale, kind)
			require.Contains(t, text, v.Amount, "%s/%s", locale, kind)
			require.NotEqual(t, paid, text, "%s/%s", locale, kind)
		}
		for _, kind := range []string{"authorized", "void_failed", "hold_released", "captured_cancelled"} {
			text, err := tpl.Notice(kind, v)
			require.NoError(t, err, "%s/%s", locale, kind)
			require.NotContains(t, text, "<no value>")
			require.Contains(t, text, "#1042", "%s/%s", locale, kind)
			require.Contains(t, text, v.Amount, "%s/%s", locale, kind)
			if kind == "void_failed" || kind == "hold_released" {
				require.Contains(t, text, "card_declined", "%s/%s: the gateway's reason", locale, kind)
			}
		}
	}

	text, _, err := tpl.Message("authorized", templates.View{Locale: "en", OrderCode: "1001", Amount: "₫330,000"})
	require.NoError(t, err)
	require.Equal(t, "Your payment for order #1001 is authorised: ₫330,000 is on hold on your card and will be charged when the shop confirms your order. Nothing has been taken yet.", text)
}
