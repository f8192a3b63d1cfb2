package templates_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/templates"
)

// TestQRPage: the QR page shows the gateway's image, the amount and expiry, says that
// it updates by itself, polls with one nonce-carrying script, and falls back to a
// refresh only without JavaScript; in every locale, right to left in fa.
func TestQRPage(t *testing.T) {
	t.Parallel()
	tpl := setup(t)
	const image = "https://api.omise.co/charges/chrg_test_1/documents/docu_test_1/downloads/9E0D"
	for _, locale := range templates.Locales() {
		p := pageView(locale)
		p.QRImage, p.Expires, p.ExpiresISO = image, "2026-11-25 14:10 (UTC+7)", "2026-11-25T07:10:00Z"
		p.StatusURL, p.Nonce = "/pay/tok_abc123/status", "cmFuZG9tIG5vbmNl"
		s, doc := render(t, tpl, "qr", p)
		require.NotContains(t, s, "<no value>")

		img := find(doc, "img", nil)
		require.NotNil(t, img, locale)
		require.Equal(t, image, attr(img, "src"))
		require.NotEmpty(t, attr(img, "alt"), "the QR image is described for screen readers")
		require.NotEmpty(t, strings.TrimSpace(text(find(doc, "h1", nil))))
		require.Contains(t, s, p.Amount)
		tm := find(doc, "time", map[string]string{"datetime": p.ExpiresISO})
		require.NotNil(t, tm, "%s: the expiry is shown", locale)
		require.Equal(t, p.Expires, text(tm))

		status := find(doc, "div", map[string]string{"id": "qr-status"})
		require.NotNil(t, status)
		require.Equal(t, "/pay/tok_abc123/status", attr(status, "data-status"))
		require.Equal(t, "/pay/tok_abc123", attr(status, "data-link"))
		require.NotNil(t, find(status, "a", map[string]string{"href": "/pay/tok_abc123"}), "without JavaScript, a link checks again")

		script := find(doc, "script", nil)
		require.NotNil(t, script)
		require.Equal(t, p.Nonce, attr(script, "nonce"))
		require.Equal(t, 1, strings.Count(s, "<script"), "one inline script only")
		require.False(t, hasAttr(script, "src"))
		require.Contains(t, s, `<noscript><meta http-equiv="refresh" content="10"></noscript>`)
		require.Nil(t, find(doc, "form", nil), "the QR page posts nothing")
		if locale == "fa" {
			require.Contains(t, s, `dir="rtl"`)
		}
	}

	// The strings differ per locale: a real translation, not English copied over.
	en, _ := render(t, tpl, "qr", pageView("en"))
	for _, locale := range []string{"vi", "th", "fa"} {
		s, _ := render(t, tpl, "qr", pageView(locale))
		require.NotContains(t, s, "Scan this QR code", locale)
		require.Contains(t, en, "Scan this QR code")
	}

	// The other pages load nothing from elsewhere and run nothing.
	for _, name := range []string{"pay", "paid", "gone"} {
		s, _ := render(t, tpl, name, pageView("th"))
		require.NotContains(t, s, "<script")
		require.NotContains(t, s, "http-equiv")
	}
}
