package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/gateway/omise/omisetest"
)

// TestOmiseDashboardRefund: a refund made in Omise's dashboard (here: its API, which
// emits the same refund.create event) reaches the order through the webhook, and the
// customer is told; a refund chatpay makes afterwards is counted once, although its
// own refund.create webhook arrives too.
func TestOmiseDashboardRefund(t *testing.T) {
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

			o := a.createOrder(keyA, webchatOrder("visitor-omise-refund"))
			id := o["id"].(string)
			res := a.postForm(linkOf(o), url.Values{"gateway": {"omise"}})
			require.Equal(t, http.StatusSeeOther, res.StatusCode)
			charge := strings.TrimPrefix(res.Header.Get("Location"), om.URL+"/pay/")
			require.NoError(t, om.Complete(charge, true))
			a.waitOrder(keyA, id, "paid through Omise", func(o map[string]any) bool { return o["payment_status"] == "paid" })

			dashboard, err := omise.NewClient(omise.ClientOptions{SecretKey: om.SecretKey(), BaseURL: om.URL})
			require.NoError(t, err)
			_, err = dashboard.CreateRefund(context.Background(), charge, omise.RefundParams{Amount: 100000})
			require.NoError(t, err)
			refundedAmount := func(o map[string]any) any {
				ps, _ := o["payments"].([]any)
				if len(ps) != 1 {
					return nil
				}
				return ps[0].(map[string]any)["refunded_amount"]
			}
			a.waitOrder(keyA, id, "the dashboard refund", func(o map[string]any) bool {
				return o["payment_status"] == "partially_refunded" && refundedAmount(o) == float64(100000)
			})
			ms := a.waitMessages(keyA, id, "the refunded message", func(ms []map[string]any) bool {
				return find(ms, "refunded") != nil
			})
			require.Contains(t, find(ms, "refunded")["text"], "100.000 ₫")

			// The rest, refunded by chatpay: its own webhook adds nothing.
			code, r := a.call(http.MethodPost, "/api/v1/orders/"+id+"/refunds", keyA, map[string]any{})
			require.Equal(t, http.StatusCreated, code, "%v", r)
			require.EqualValues(t, 230000, r["amount"])
			a.waitOrder(keyA, id, "refunded", func(o map[string]any) bool {
				return o["payment_status"] == "refunded" && refundedAmount(o) == float64(330000)
			})
			require.Eventually(t, func() bool {
				n := 0
				for _, d := range om.Deliveries() {
					if d.Key == omise.KeyRefundCreate {
						n++
					}
				}
				return n == 2
			}, 15*time.Second, 20*time.Millisecond, "both refund.create webhooks delivered")
			for _, d := range om.Deliveries() {
				require.Equal(t, http.StatusOK, d.Status, "every signed event is accepted: %s", d.Key)
			}
			ms = a.waitMessages(keyA, id, "two refunded messages", func(ms []map[string]any) bool {
				n := 0
				for _, m := range ms {
					if m["kind"] == "refunded" {
						n++
					}
				}
				return n == 2
			})
			o = a.waitOrder(keyA, id, "still refunded once", func(o map[string]any) bool { return true })
			require.Equal(t, float64(330000), refundedAmount(o), "chatpay's own refund is not counted twice")
		})
	}
}
