package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/chatpay/chatpay/gateway/omise/omisetest"
)

// TestPayWithOmise pays an order through Opn Payments (Omise), emulated: the pay page
// offers Omise next to the sandbox, a tap starts a charge and sends the customer to
// the bank's page, and the signed charge.complete webhook (the charge re-fetched
// from the API before it is applied) marks the order paid. A decline leaves it
// payable.
func TestPayWithOmise(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			secret := base64.StdEncoding.EncodeToString([]byte("omise webhook secret for tests!!"))
			om := omisetest.New(omisetest.Options{WebhookSecrets: []string{secret}})
			t.Cleanup(om.Close)
			a := setupWith(t, store, options{shopAExtra: fmt.Sprintf(`      omise:
        secret_key: %q
        public_key: %q
        webhook_secrets: [%q]
        api_url: %q
        source_type: mobile_banking_scb`, om.SecretKey(), om.PublicKey(), secret, om.URL)})
			om.SetWebhookURL(a.url + "/webhooks/omise/shop-a")

			o := a.createOrder(keyA, webchatOrder("visitor-omise"))
			link := linkOf(o)
			page, body := a.get(link)
			require.Equal(t, http.StatusOK, page.StatusCode)
			require.Contains(t, body, `value="omise"`, "the pay page offers every enabled gateway")

			tap := func() string {
				t.Helper()
				res := a.postForm(link, url.Values{"gateway": {"omise"}})
				require.Equal(t, http.StatusSeeOther, res.StatusCode)
				checkout := res.Header.Get("Location")
				require.True(t, strings.HasPrefix(checkout, om.URL+"/pay/"), checkout)
				return strings.TrimPrefix(checkout, om.URL+"/pay/")
			}

			// Declined at the bank: still payable, and a fresh tap is a fresh charge.
			first := tap()
			require.NoError(t, om.Complete(first, false))
			second := tap()
			require.NotEqual(t, first, second)
			ch, ok := om.Charge(second)
			require.True(t, ok)
			require.EqualValues(t, o["total"], ch.Amount, "the amount comes from the order")

			require.NoError(t, om.Complete(second, true))
			a.waitOrder(keyA, o["id"].(string), "paid through Omise", func(o map[string]any) bool {
				return o["payment_status"] == "paid"
			})
			for _, d := range om.Deliveries() {
				require.Equal(t, http.StatusOK, d.Status, "every signed event is accepted: %s", d.Key)
			}

			// A forged event is refused.
			res, err := http.Post(a.url+"/webhooks/omise/shop-a", "application/json", strings.NewReader(`{"object":"event","key":"charge.complete"}`))
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		})
	}
}

// TestStripeWired: a shop with a stripe block gets Stripe on its pay page, and
// Stripe's webhook route checks Stripe-Signature: a signed event for a session
// chatpay did not make is acknowledged and changes nothing; an unsigned one is
// refused. (Payments against Stripe's API are tested in gateway/stripe, against
// stripe-mock.)
func TestStripeWired(t *testing.T) {
	t.Parallel()
	a := setupWith(t, "sqlite", options{shopAExtra: `      stripe:
        secret_key: sk_test_chatpay
        webhook_secrets: [whsec_chatpay_test]
        api_url: "http://127.0.0.1:1"`})
	o := a.createOrder(keyA, webchatOrder("visitor-stripe"))
	_, body := a.get(linkOf(o))
	require.Contains(t, body, `value="stripe"`)

	event := []byte(`{"id":"evt_1","object":"event","api_version":"2024-06-20","created":1700000000,"type":"checkout.session.completed",` +
		`"data":{"object":{"id":"cs_test_elsewhere","object":"checkout.session","payment_status":"paid","amount_total":1000,"currency":"vnd","metadata":{}}}}`)
	post := func(header string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/stripe/shop-a", strings.NewReader(string(event)))
		require.NoError(t, err)
		if header != "" {
			req.Header.Set("Stripe-Signature", header)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: "whsec_chatpay_test"})
	require.Equal(t, http.StatusOK, post(signed.Header))
	require.Equal(t, http.StatusUnauthorized, post(""))
	wrong := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: "whsec_someone_else"})
	require.Equal(t, http.StatusUnauthorized, post(wrong.Header))
	_, got := a.call(http.MethodGet, "/api/v1/orders/"+o["id"].(string), keyA, nil)
	require.Equal(t, "unpaid", got["payment_status"])
}
