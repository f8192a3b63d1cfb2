package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/gateway/omise/omisetest"
	"github.com/chatpay/chatpay/gateway/stripe/stripemock"
)

// omiseTestSecret is the emulator's webhook secret, as Omise's dashboard shows one.
var omiseTestSecret = base64.StdEncoding.EncodeToString([]byte("omise webhook secret for tests!!"))

// withOmise starts chatpay with Omise enabled for shop A, at an emulator that delivers
// its signed webhooks to chatpay.
func withOmise(t *testing.T, store string) (*app, *omisetest.Server) {
	t.Helper()
	om := omisetest.New(omisetest.Options{WebhookSecrets: []string{omiseTestSecret}})
	t.Cleanup(om.Close)
	a := setupWith(t, store, options{shopAExtra: fmt.Sprintf(`      omise:
        secret_key: %q
        public_key: %q
        webhook_secrets: [%q]
        api_url: %q
        source_type: mobile_banking_scb`, om.SecretKey(), om.PublicKey(), omiseTestSecret, om.URL)})
	om.SetWebhookURL(a.url + "/webhooks/omise/shop-a")
	return a, om
}

// tapOmise taps Pay now with Omise and returns the charge the tap created.
func (a *app) tapOmise(om *omisetest.Server, o map[string]any) string {
	a.t.Helper()
	res := a.postForm(linkOf(o), url.Values{"gateway": {"omise"}})
	require.Equal(a.t, http.StatusSeeOther, res.StatusCode)
	checkout := res.Header.Get("Location")
	require.True(a.t, strings.HasPrefix(checkout, om.URL+"/pay/"), checkout)
	return strings.TrimPrefix(checkout, om.URL+"/pay/")
}

func countKinds(ms []map[string]any, kind string) int {
	n := 0
	for _, m := range ms {
		if m["kind"] == kind {
			n++
		}
	}
	return n
}

// payment0 is the first payment of an order as the API shows it.
func payment0(o map[string]any) map[string]any {
	ps, _ := o["payments"].([]any)
	if len(ps) == 0 {
		return map[string]any{}
	}
	return ps[0].(map[string]any)
}

// requireDelivered waits until the emulator has delivered an event with this key and
// checks that chatpay accepted every event it was sent.
func requireDelivered(t *testing.T, om *omisetest.Server, key string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, d := range om.Deliveries() {
			if d.Key == key {
				return true
			}
		}
		return false
	}, 15*time.Second, 20*time.Millisecond, "%s delivered", key)
	for _, d := range om.Deliveries() {
		require.NoError(t, d.Err)
		require.Equal(t, http.StatusOK, d.Status, "every signed event is accepted: %s", d.Key)
	}
}

// TestCancelAuthorizedOrderOmise: an order paid with an authorisation only (the money
// held on the customer's card) tells the customer it is authorised, not paid; once
// cancelled, chatpay reverses the charge at Omise (the emulator), Omise's
// charge.reverse webhook confirms it, and the customer is told once that the hold was
// released. The order's metadata reached the charge.
func TestCancelAuthorizedOrderOmise(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a, om := withOmise(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-hold"))
		id, code := o["id"].(string), o["code"].(string)
		charge := a.tapOmise(om, o)
		ch, ok := om.Charge(charge)
		require.True(t, ok)
		require.Equal(t, "hcm", ch.Metadata["branch"], "the order's metadata is sent to the gateway")
		require.Equal(t, id, ch.Metadata[omise.MetaOrderID])

		require.NoError(t, om.Authorize(charge))
		a.waitOrder(keyA, id, "authorised", func(o map[string]any) bool {
			return o["payment_status"] == "authorized" && o["status"] == "paid"
		})
		ms := a.waitMessages(keyA, id, "the authorised message", func(ms []map[string]any) bool {
			return find(ms, "authorized") != nil
		})
		require.Nil(t, find(ms, "paid_confirmation"), "held money is not called paid")
		require.Contains(t, find(ms, "authorized")["text"], "330.000 ₫")
		require.Contains(t, find(ms, "authorized")["text"], "#"+code)

		status, got := a.call(http.MethodPost, "/api/v1/orders/"+id+"/cancel", keyA, nil)
		require.Equal(t, http.StatusOK, status, "%v", got)
		require.Equal(t, "cancelled", got["status"])

		require.Eventually(t, func() bool {
			ch, _ := om.Charge(charge)
			return ch.Status == omise.ChargeReversed
		}, 15*time.Second, 20*time.Millisecond, "the charge is reversed at Omise")
		ch, _ = om.Charge(charge)
		require.Zero(t, ch.CapturedAmount, "nothing was taken")
		o = a.waitOrder(keyA, id, "released", func(o map[string]any) bool {
			return o["payment_status"] == "unpaid" && payment0(o)["status"] == "voided"
		})
		require.Equal(t, "cancelled", o["status"])
		require.EqualValues(t, 0, payment0(o)["amount"])
		requireDelivered(t, om, omise.KeyChargeReverse)

		// Both the job's answer and the webhook record the release; the customer
		// hears of it once.
		ms = a.waitMessages(keyA, id, "the hold released message", func(ms []map[string]any) bool {
			return find(ms, "hold_released") != nil && allSent(ms)
		})
		require.Contains(t, find(ms, "hold_released")["text"], "330.000 ₫")
		require.Contains(t, find(ms, "hold_released")["text"], "#"+code)
		require.Equal(t, 1, countKinds(ms, "hold_released"))
		require.Equal(t, 1, countKinds(ms, "cancelled"))
		require.Equal(t, 1, countKinds(ms, "authorized"))

		// Nothing is refunded: nothing was taken.
		status, got = a.call(http.MethodGet, "/api/v1/orders/"+id+"/refunds", keyA, nil)
		require.Equal(t, http.StatusOK, status)
		require.Empty(t, got["refunds"])
	})
}

// TestDisputeLostCustomerToldOnce: a dispute opened at Omise tells the customer
// nothing; lost, it tells them once that the money was returned, and a redelivered
// close changes nothing.
func TestDisputeLostCustomerToldOnce(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a, om := withOmise(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-dispute"))
		id, code := o["id"].(string), o["code"].(string)
		charge := a.tapOmise(om, o)
		require.NoError(t, om.Complete(charge, true))
		a.waitOrder(keyA, id, "paid", func(o map[string]any) bool { return o["payment_status"] == "paid" })
		before := len(a.waitMessages(keyA, id, "the paid confirmation", func(ms []map[string]any) bool {
			return find(ms, "paid_confirmation") != nil
		}))

		d, err := om.OpenDispute(charge)
		require.NoError(t, err)
		a.waitOrder(keyA, id, "disputed", func(o map[string]any) bool { return o["payment_status"] == "disputed" })
		require.NoError(t, om.CloseDispute(d.ID, false))
		o = a.waitOrder(keyA, id, "the dispute lost", func(o map[string]any) bool { return o["payment_status"] == "refunded" })
		require.EqualValues(t, 330000, payment0(o)["refunded_amount"])
		ms := a.waitMessages(keyA, id, "the dispute refunded message", func(ms []map[string]any) bool {
			return find(ms, "dispute_refunded") != nil
		})
		require.Len(t, ms, before+1, "the open dispute told the customer nothing")
		require.Contains(t, find(ms, "dispute_refunded")["text"], "330.000 ₫")
		require.Contains(t, find(ms, "dispute_refunded")["text"], "#"+code)
		requireDelivered(t, om, omise.KeyDisputeClose)

		// Omise delivers the close again.
		var closeBody []byte
		for _, d := range om.Deliveries() {
			if d.Key == omise.KeyDisputeClose {
				closeBody = d.Body
			}
		}
		req, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/omise/shop-a", bytes.NewReader(closeBody))
		require.NoError(t, err)
		req.Header = om.SignedHeader(closeBody)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var receipt map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&receipt))
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, true, receipt["duplicate"])
		_, out := a.call(http.MethodGet, "/api/v1/orders/"+id+"/messages", keyA, nil)
		n := 0
		for _, m := range out["messages"].([]any) {
			if m.(map[string]any)["kind"] == "dispute_refunded" {
				n++
			}
		}
		require.Equal(t, 1, n)
	})
}

// startStripeMock starts stripe-mock for one test, or skips the test without it
// (fails it in CI, with CHATPAY_REQUIRE_SERVICES=1), and returns a recorder in front of
// it.
func startStripeMock(t *testing.T) *stripemock.Recorder {
	t.Helper()
	srv, err := stripemock.Start()
	if err != nil {
		if os.Getenv("CHATPAY_REQUIRE_SERVICES") == "1" {
			t.Fatalf("stripe-mock is required: %v", err)
		}
		t.Skipf("stripe-mock unavailable: %v", err)
	}
	t.Cleanup(srv.Close)
	rec, err := stripemock.NewRecorder(srv.URL)
	require.NoError(t, err)
	t.Cleanup(rec.Close)
	return rec
}

const stripeTestSecret = "whsec_chatpay_e2e"

// postStripe posts a Stripe event signed at time at and returns the status and the
// receipt.
func (a *app) postStripe(event []byte, at time.Time) (int, map[string]any) {
	a.t.Helper()
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: stripeTestSecret, Timestamp: at})
	req, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/stripe/shop-a", bytes.NewReader(event))
	require.NoError(a.t, err)
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// TestCancelAuthorizedOrderStripe: with manual capture, Stripe Checkout only
// authorises. Cancelling the order cancels the PaymentIntent at Stripe (stripe-mock)
// with a deterministic idempotency key; Stripe's payment_intent.canceled webhook then
// changes nothing more, and the customer is told once that the hold was released.
func TestCancelAuthorizedOrderStripe(t *testing.T) {
	t.Parallel()
	rec := startStripeMock(t)
	a := setupWith(t, "sqlite", options{shopAExtra: fmt.Sprintf(`      stripe:
        secret_key: sk_test_123
        webhook_secrets: [%q]
        api_url: %q
        manual_capture: true`, stripeTestSecret, rec.URL)})
	o := a.createOrder(keyA, webchatOrder("visitor-stripe-hold"))
	id, code := o["id"].(string), o["code"].(string)
	res := a.postForm(linkOf(o), url.Values{"gateway": {"stripe"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	created := rec.Requests()[0]
	require.Equal(t, "POST /v1/checkout/sessions", created.Method+" "+created.Path)
	require.Equal(t, "manual", created.Form.Get("payment_intent_data[capture_method]"))
	require.Equal(t, "hcm", created.Form.Get("metadata[branch]"), "the order's metadata is sent to the gateway")
	var session struct{ ID string }
	require.NoError(t, json.Unmarshal(created.Response, &session))
	attempt := created.Form.Get("client_reference_id")
	require.NotEmpty(t, attempt)

	now := time.Now()
	completed := fmt.Appendf(nil, `{"id":"evt_e2e_completed","object":"event","api_version":"2026-03-25.dahlia","created":%d,
		"data":{"object":{"id":%q,"object":"checkout.session","amount_total":330000,"currency":"vnd",
		"client_reference_id":%q,"metadata":{"shop_id":"shop-a","order_id":%q,"attempt_id":%q,"capture":"manual"},
		"mode":"payment","payment_intent":"pi_e2e_hold","payment_status":"paid","status":"complete"}},
		"livemode":false,"pending_webhooks":1,"type":"checkout.session.completed"}`, now.Unix(), session.ID, attempt, id, attempt)
	status, receipt := a.postStripe(completed, now)
	require.Equal(t, http.StatusOK, status, "%v", receipt)
	require.Equal(t, "applied", receipt["outcome"])
	o = a.waitOrder(keyA, id, "authorised", func(o map[string]any) bool { return o["payment_status"] == "authorized" })
	payID := payment0(o)["id"].(string)
	ms := a.waitMessages(keyA, id, "the authorised message", func(ms []map[string]any) bool { return find(ms, "authorized") != nil })
	require.Nil(t, find(ms, "paid_confirmation"))
	require.Contains(t, find(ms, "authorized")["text"], "#"+code)

	status, got := a.call(http.MethodPost, "/api/v1/orders/"+id+"/cancel", keyA, nil)
	require.Equal(t, http.StatusOK, status, "%v", got)
	o = a.waitOrder(keyA, id, "released", func(o map[string]any) bool {
		return o["payment_status"] == "unpaid" && payment0(o)["status"] == "voided"
	})
	var cancels []stripemock.Request
	for _, r := range rec.Requests() {
		if r.Path == "/v1/payment_intents/pi_e2e_hold/cancel" {
			cancels = append(cancels, r)
		}
	}
	require.Len(t, cancels, 1)
	require.Equal(t, http.StatusOK, cancels[0].Status, "stripe-mock accepted the cancel")
	require.Equal(t, "chatpay-void-chatpay-void-"+payID, cancels[0].IdempotencyKey, "deterministic per payment")

	// Stripe confirms by webhook: recorded, and nothing happens twice.
	canceled := fmt.Appendf(nil, `{"id":"evt_e2e_canceled","object":"event","api_version":"2026-03-25.dahlia","created":%d,
		"data":{"object":{"id":"pi_e2e_hold","object":"payment_intent","amount":330000,"currency":"vnd",
		"status":"canceled","cancellation_reason":"requested_by_customer","capture_method":"manual"}},
		"livemode":false,"pending_webhooks":1,"type":"payment_intent.canceled"}`, now.Unix())
	status, receipt = a.postStripe(canceled, now)
	require.Equal(t, http.StatusOK, status, "%v", receipt)
	require.Equal(t, "ignored", receipt["outcome"])
	// A stale delivery is refused.
	status, _ = a.postStripe(canceled, now.Add(-10*time.Minute))
	require.Equal(t, http.StatusUnauthorized, status)

	ms = a.waitMessages(keyA, id, "the hold released message", func(ms []map[string]any) bool {
		return find(ms, "hold_released") != nil && allSent(ms)
	})
	require.Equal(t, 1, countKinds(ms, "hold_released"))
	require.Contains(t, find(ms, "hold_released")["text"], "330.000 ₫")
}

// TestCaptureAuthorizedOrderOmise: an authorised order is captured through the API;
// the capture job captures the charge at Omise (the emulator), its charge.capture
// webhook arrives too, and the customer hears once that they were charged. Only then
// does the order ship.
func TestCaptureAuthorizedOrderOmise(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a, om := withOmise(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-capture"))
		id := o["id"].(string)
		charge := a.tapOmise(om, o)
		require.NoError(t, om.Authorize(charge))
		a.waitOrder(keyA, id, "authorised", func(o map[string]any) bool { return o["payment_status"] == "authorized" })
		status, got := a.call(http.MethodPost, "/api/v1/orders/"+id+"/shipments", keyA, map[string]any{"carrier": "GHN"})
		require.Equal(t, http.StatusConflict, status, "a hold does not ship: %v", got)

		status, got = a.call(http.MethodPost, "/api/v1/orders/"+id+"/capture", keyA, nil)
		require.Less(t, status, 300, "%v", got)
		o = a.waitOrder(keyA, id, "captured", func(o map[string]any) bool {
			return o["payment_status"] == "paid" && payment0(o)["status"] == "succeeded"
		})
		require.EqualValues(t, 330000, payment0(o)["amount"])
		ch, _ := om.Charge(charge)
		require.Equal(t, omise.ChargeSuccessful, ch.Status)
		require.EqualValues(t, 330000, ch.CapturedAmount)
		requireDelivered(t, om, omise.KeyChargeCapture)
		ms := a.waitMessages(keyA, id, "the captured message", func(ms []map[string]any) bool {
			return find(ms, "captured") != nil && allSent(ms)
		})
		require.Equal(t, 1, countKinds(ms, "captured"), "the job and the webhook tell the customer once")
		require.Contains(t, find(ms, "captured")["text"], "330.000 ₫")

		status, got = a.call(http.MethodPost, "/api/v1/orders/"+id+"/shipments", keyA, map[string]any{"carrier": "GHN"})
		require.Equal(t, http.StatusCreated, status, "%v", got)
	})
}
