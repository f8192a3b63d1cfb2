package templates_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/templates"
)

// TestDuplicateHoldNotice checks the notice about a duplicate payment that was only
// authorised: in every locale it names the order and the amount and says the hold is
// released, where the duplicate_payment notice says the money is refunded.
func TestDuplicateHoldNotice(t *testing.T) {
	t.Parallel()
	tpl := setup(t)
	released := map[string]string{"en": "released", "vi": "giải phóng", "th": "ปลด", "fa": "آزاد"}
	require.Len(t, released, len(templates.Locales()))
	for _, locale := range templates.Locales() {
		v := view(locale)
		hold, err := tpl.Notice("duplicate_hold", v)
		require.NoError(t, err, locale)
		refund, err := tpl.Notice("duplicate_payment", v)
		require.NoError(t, err, locale)
		require.NotEqual(t, refund, hold, locale)
		require.Contains(t, hold, "#1042", locale)
		require.Contains(t, hold, v.Amount, locale)
		require.Contains(t, hold, released[locale], locale)
		require.NotContains(t, refund, released[locale], locale)
	}

	text, err := tpl.Notice("duplicate_hold", templates.View{Locale: "en", OrderCode: "1001", Amount: "₫330,000"})
	require.NoError(t, err)
	require.Equal(t, "Order #1001 was paid twice. The extra payment of ₫330,000 was only authorised (held on the customer's card, not taken), so the hold is being released automatically: nothing needs refunding.", text)
}
