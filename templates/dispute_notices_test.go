package templates_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/templates"
)

// TestDisputeNotices checks the dispute notices in every locale: the amount, the order
// and the evidence deadline are shown, and won and lost read differently.
func TestDisputeNotices(t *testing.T) {
	t.Parallel()
	tpl := setup(t)
	for _, locale := range templates.Locales() {
		v := view(locale)
		v.Reason, v.Due = "fraudulent", "2026-12-01 23:59 UTC"
		for _, kind := range []string{"dispute_opened", "dispute_closed", "dispute_deadline"} {
			text, err := tpl.Notice(kind, v)
			require.NoError(t, err, "%s/%s", locale, kind)
			require.NotContains(t, text, "<no value>")
			require.Contains(t, text, "#1042", "%s/%s", locale, kind)
			require.Contains(t, text, v.Amount, "%s/%s", locale, kind)
			if kind != "dispute_closed" {
				require.Contains(t, text, v.Due, "%s/%s", locale, kind)
				require.Contains(t, text, "fraudulent", "%s/%s", locale, kind)
			}
		}
		v.Outcome = "won"
		won, err := tpl.Notice("dispute_closed", v)
		require.NoError(t, err)
		v.Outcome = "lost"
		lost, err := tpl.Notice("dispute_closed", v)
		require.NoError(t, err)
		require.NotEqual(t, won, lost, locale)
	}
}
