package stripe

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// Fixtures of the events that confirm a release and a capture, shaped like the
// payment_intent and charge objects of Stripe's API reference (trimmed).
const paymentIntentCanceledEvent = `{
  "id": "evt_3PiCanceled", "object": "event", "api_version": "2026-03-25.dahlia", "created": 1780000000,
  "data": {"object": {
    "id": "pi_3Abc", "object": "payment_intent", "amount": 250000, "amount_capturable": 0,
    "amount_received": 0, "canceled_at": 1780000000, "cancellation_reason": "requested_by_customer",
    "capture_method": "manual", "currency": "vnd", "status": "canceled",
    "metadata": {"shop_id": "shop_1", "order_id": "ord_1", "attempt_id": "att_1", "capture": "manual"},
    "latest_charge": "ch_3Abc"
  }},
  "livemode": false, "pending_webhooks": 1, "request": {"id": "req_3", "idempotency_key": "chatpay-void-chatpay-void-pay_1"},
  "type": "payment_intent.canceled"
}`

const chargeCapturedEvent = `{
  "id": "evt_3Captured", "object": "event", "api_version": "2026-03-25.dahlia", "created": 1780000000,
  "data": {"object": {
    "id": "ch_3Abc", "object": "charge", "amount": 5000000, "amount_captured": 3000000,
    "amount_refunded": 2000000, "captured": true, "currency": "idr", "paid": true,
    "payment_intent": "pi_3Abc", "refunded": false, "status": "succeeded"
  },
  "previous_attributes": {"amount_captured": 0, "captured": false}},
  "livemode": false, "pending_webhooks": 1, "request": {"id": "req_4", "idempotency_key": "chatpay-capture-capture-1"},
  "type": "charge.captured"
}`

func TestParseWebhookPaymentIntentCanceled(t *testing.T) {
	t.Parallel()
	ev := parse(t, []byte(paymentIntentCanceledEvent))
	require.Equal(t, orders.EventVoided, ev.Type)
	require.Equal(t, "pi_3Abc", ev.PaymentRef)
	require.Empty(t, ev.SessionID)
	require.Equal(t, int64(250000), ev.Amount)
	require.Equal(t, "VND", ev.Currency)
	require.Equal(t, "requested_by_customer", ev.Reason)
}

func TestParseWebhookChargeCaptured(t *testing.T) {
	t.Parallel()
	ev := parse(t, []byte(chargeCapturedEvent))
	require.Equal(t, orders.EventCaptured, ev.Type)
	require.Equal(t, "pi_3Abc", ev.PaymentRef)
	require.Equal(t, int64(30000), ev.Amount, "amount_captured, in whole rupiah")
	require.Equal(t, "IDR", ev.Currency)

	// A charge without a PaymentIntent is named by its own id.
	var e map[string]any
	require.NoError(t, json.Unmarshal([]byte(chargeCapturedEvent), &e))
	e["data"].(map[string]any)["object"].(map[string]any)["payment_intent"] = nil
	body, err := json.Marshal(e)
	require.NoError(t, err)
	require.Equal(t, "ch_3Abc", parse(t, body).PaymentRef)
}

func TestVoidAgainstStripeMock(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	g := mockGateway(t, rec, Config{ManualCapture: true})
	ctx := testContext(t)
	require.NoError(t, g.Void(ctx, gateway.VoidRequest{PaymentRef: "pi_123", IdempotencyKey: orders.VoidKey("pay_1")}))
	r := rec.requests()[0]
	require.Equal(t, "POST /v1/payment_intents/pi_123/cancel", r.Method+" "+r.Path)
	require.Equal(t, http.StatusOK, r.Status, "stripe-mock rejected the request: %v", r.Form)
	require.Equal(t, "chatpay-void-chatpay-void-pay_1", r.IdempotencyKey)

	for _, bad := range []gateway.VoidRequest{
		{IdempotencyKey: "k"},
		{PaymentRef: "pi_1"},
	} {
		err := g.Void(ctx, bad)
		var oe *orders.Error
		require.ErrorAs(t, err, &oe, "%+v", bad)
		require.Equal(t, orders.EINVALID, oe.Code)
	}
	require.Len(t, rec.requests(), 1, "invalid voids never reach Stripe")
}

// stripe-mock keeps no state, so an intent that can no longer be cancelled is played
// by a stand-in answering as Stripe does: 400 payment_intent_unexpected_state on
// cancel, then the intent's status.
func TestVoidNotCancellable(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]string{"canceled": "", "succeeded": orders.ECONFLICT, "processing": orders.ECONFLICT} {
		t.Run(status, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				if r.Method == http.MethodPost {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state",` +
						`"message":"You cannot cancel this PaymentIntent because it has a status of ` + status + `."}}`))
					return
				}
				require.Equal(t, "/v1/payment_intents/pi_1", r.URL.Path)
				_ = json.NewEncoder(w).Encode(map[string]any{"id": "pi_1", "object": "payment_intent", "status": status})
			}))
			t.Cleanup(srv.Close)
			g, err := New(Config{SecretKey: "sk_test_1", WebhookSecrets: []string{"whsec_1"}, APIURL: srv.URL})
			require.NoError(t, err)
			err = g.Void(testContext(t), gateway.VoidRequest{PaymentRef: "pi_1", IdempotencyKey: "k"})
			require.Equal(t, int32(2), calls.Load())
			if want == "" {
				require.NoError(t, err, "an intent already cancelled is released")
				return
			}
			require.Equal(t, want, orders.ErrorCode(err), "%v", err)
			require.Contains(t, err.Error(), status)
		})
	}
}

func TestVoidMissingIsNotFound(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent: 'pi_x'"}}`))
	}))
	t.Cleanup(srv.Close)
	g, err := New(Config{SecretKey: "sk_test_1", WebhookSecrets: []string{"whsec_1"}, APIURL: srv.URL})
	require.NoError(t, err)
	err = g.Void(testContext(t), gateway.VoidRequest{PaymentRef: "pi_x", IdempotencyKey: "k"})
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err), "%v", err)
}
