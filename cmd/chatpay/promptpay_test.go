package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway/omise/omisetest"
)

var qrImage = regexp.MustCompile(`<img src="([^"]+/qr/([^"/]+)\.png)"`)

// TestPayWithOmisePromptPay: a THB shop paying through Opn Payments with PromptPay.
// Pay now comes back to the link, which shows the charge's QR code from Omise's origin;
// once the bank settles the charge, the status endpoint says paid and the link shows
// the paid page.
func TestPayWithOmisePromptPay(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			secret := base64.StdEncoding.EncodeToString([]byte("omise webhook secret for tests!!"))
			om := omisetest.New(omisetest.Options{WebhookSecrets: []string{secret}})
			t.Cleanup(om.Close)
			a := setupWith(t, store, options{shopBExtra: fmt.Sprintf(`      omise:
        secret_key: %q
        public_key: %q
        webhook_secrets: [%q]
        api_url: %q
        source_type: promptpay`, om.SecretKey(), om.PublicKey(), secret, om.URL)})
			om.SetWebhookURL(a.url + "/webhooks/omise/shop-b")

			o := a.createOrder(keyB, map[string]any{
				"customer": map[string]any{"channel": "webchat", "external_id": "visitor-promptpay", "name": "Somchai"},
				"items":    []any{map[string]any{"name": "Green tea", "quantity": 2, "unit_price": 12550}},
				"currency": "THB",
			})
			link := linkOf(o)
			u, err := url.Parse(link)
			require.NoError(t, err)
			status := func() (int, map[string]any) {
				t.Helper()
				res, body := a.get(link + "/status")
				var v map[string]any
				require.NoError(t, json.Unmarshal([]byte(body), &v), body)
				return res.StatusCode, v
			}

			res := a.postForm(link, url.Values{"gateway": {"omise"}})
			require.Equal(t, http.StatusSeeOther, res.StatusCode)
			require.Equal(t, u.Path, res.Header.Get("Location"), "PromptPay is paid on the link itself")

			page, body := a.get(link)
			require.Equal(t, http.StatusOK, page.StatusCode)
			m := qrImage.FindStringSubmatch(body)
			require.NotNil(t, m, "the pay page shows the QR code: %s", body)
			require.Equal(t, om.URL+"/qr/"+m[2]+".png", m[1], "straight from Omise")
			require.Contains(t, page.Header.Get("Content-Security-Policy"), "img-src "+om.URL+";")
			require.Contains(t, body, "฿251.00")
			require.Contains(t, body, "This page updates by itself")
			ch, ok := om.Charge(m[2])
			require.True(t, ok)
			require.EqualValues(t, 25100, ch.Amount, "the amount comes from the order")

			code, st := status()
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, map[string]any{"status": "awaiting_payment"}, st)

			require.NoError(t, om.Complete(m[2], true))
			a.waitOrder(keyB, o["id"].(string), "paid by PromptPay", func(o map[string]any) bool {
				return o["payment_status"] == "paid"
			})
			code, st = status()
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, map[string]any{"status": "paid"}, st)

			page, body = a.get(link)
			require.Equal(t, http.StatusOK, page.StatusCode)
			require.Contains(t, body, "Payment received")
			require.NotContains(t, body, "<img")
			for _, d := range om.Deliveries() {
				require.Equal(t, http.StatusOK, d.Status, "every signed event is accepted: %s", d.Key)
			}
		})
	}
}
