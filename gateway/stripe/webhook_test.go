package stripe

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// Fixtures follow the event objects in Stripe's API reference (event object with
// id, object "event", api_version, created, data.object, livemode, pending_webhooks,
// request, type), trimmed to the fields a receiver reads plus a few it must ignore.
const sessionEventTmpl = `{
  "id": "evt_1SessionEvent",
  "object": "event",
  "api_version": %q,
  "created": 1780000000,
  "data": {
    "object": {
      "id": "cs_test_a1b2c3",
      "object": "checkout.session",
      "amount_subtotal": %[3]d,
      "amount_total": %[3]d,
      "client_reference_id": "att_1",
      "currency": %[4]q,
      "customer_details": {"email": "buyer@example.com", "tax_ids": []},
      "expires_at": 1780003600,
      "livemode": false,
      "metadata": {"shop_id": "shop_1", "order_id": "ord_1", "attempt_id": "att_1"},
      "mode": "payment",
      "payment_intent": "pi_3Abc",
      "payment_method_types": ["card"],
      "payment_status": %[5]q,
      "status": %[6]q,
      "success_url": "https://pay.example/p/tok",
      "url": null
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": %[2]q
}`

func sessionFixture(apiVersion, typ string, amount int64, currency, paymentStatus, status string) []byte {
	return fmt.Appendf(nil, sessionEventTmpl, apiVersion, typ, amount, currency, paymentStatus, status)
}

const paymentFailedEvent = `{
  "id": "evt_3PiFailed", "object": "event", "api_version": "2026-03-25.dahlia", "created": 1780000000,
  "data": {"object": {
    "id": "pi_3Abc", "object": "payment_intent", "amount": 1999, "amount_received": 0,
    "currency": "usd", "status": "requires_payment_method", "capture_method": "automatic",
    "metadata": {"shop_id": "shop_1", "order_id": "ord_1", "attempt_id": "att_1"},
    "last_payment_error": {
      "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
      "message": "Your card has insufficient funds.", "charge": "ch_3Abc"
    },
    "latest_charge": "ch_3Abc"
  }},
  "livemode": false, "pending_webhooks": 1, "request": {"id": "req_1", "idempotency_key": null},
  "type": "payment_intent.payment_failed"
}`

const chargeRefundedEvent = `{
  "id": "evt_3Refunded", "object": "event", "api_version": "2026-03-25.dahlia", "created": 1780000000,
  "data": {"object": {
    "id": "ch_3Abc", "object": "charge", "amount": 5000000, "amount_captured": 5000000,
    "amount_refunded": 2000000, "captured": true, "currency": "idr", "disputed": false,
    "paid": true, "payment_intent": "pi_3Abc", "refunded": false, "status": "succeeded"
  },
  "previous_attributes": {"amount_refunded": 0}},
  "livemode": false, "pending_webhooks": 1, "request": {"id": "req_2", "idempotency_key": "chatpay-refund-rf_1"},
  "type": "charge.refunded"
}`

const disputeEventTmpl = `{
  "id": "evt_Dispute_%[1]s", "object": "event", "api_version": "2026-03-25.dahlia", "created": 1780000000,
  "data": {"object": {
    "id": "dp_1Abc", "object": "dispute", "amount": 1999, "charge": "ch_3Abc", "currency": "usd",
    "evidence": {"customer_email_address": null},
    "evidence_details": {"due_by": 1780864000, "has_evidence": false, "past_due": false, "submission_count": 0},
    "is_charge_refundable": false, "livemode": false, "metadata": {},
    "payment_intent": "pi_3Abc", "reason": "product_not_received", "status": %[2]q
  }},
  "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
  "type": "charge.dispute.%[1]s"
}`

const (
	secretOld = "whsec_old_0123456789"
	secretNew = "whsec_new_abcdefghij"
)

func sign(secret string, body []byte, t time.Time) string {
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(webhook.ComputeSignature(t, body, secret)))
}

func headerWith(sig string) http.Header {
	h := http.Header{}
	h.Set(SignatureHeader, sig)
	return h
}

func testGateway(t *testing.T, secrets ...string) *Gateway {
	t.Helper()
	g, err := New(Config{SecretKey: "sk_test_1", WebhookSecrets: secrets, APIURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	return g
}

func TestParseWebhookSignatures(t *testing.T) {
	t.Parallel()
	now := time.Now()
	body := sessionFixture("2026-03-25.dahlia", "checkout.session.completed", 1999, "usd", "paid", "complete")
	good := sign(secretOld, body, now)
	ts := fmt.Sprint(now.Unix())
	sigOf := func(secret string, at time.Time) string {
		return hex.EncodeToString(webhook.ComputeSignature(at, body, secret))
	}
	g := testGateway(t, secretOld)
	rotated := testGateway(t, secretNew, secretOld)

	for name, tc := range map[string]struct {
		g      *Gateway
		header http.Header
		body   []byte
		err    error
	}{
		"good":                {g, headerWith(good), body, nil},
		"two v1, second good": {g, headerWith("t=" + ts + ",v1=" + sigOf("whsec_other", now) + ",v1=" + sigOf(secretOld, now)), body, nil},
		"two v1, first good":  {g, headerWith("t=" + ts + ",v1=" + sigOf(secretOld, now) + ",v1=" + sigOf(secretNew, now)), body, nil},
		"v0 and v1":           {g, headerWith("t=" + ts + ",v0=deadbeef,v1=" + sigOf(secretOld, now)), body, nil},
		"rotated: old secret": {rotated, headerWith(good), body, nil},
		"rotated: new secret": {rotated, headerWith(sign(secretNew, body, now)), body, nil},
		"split header lines":  {g, http.Header{SignatureHeader: {"t=" + ts, "v1=" + sigOf(secretOld, now)}}, body, nil},
		// stripe-go checks the age on the wall clock, not on now, so the cases near the
		// edge leave room for a slow machine between now and the check.
		"inside tolerance": {g, headerWith(sign(secretOld, body, now.Add(-Tolerance+30*time.Second))), body, nil},

		"stale":              {g, headerWith(sign(secretOld, body, now.Add(-Tolerance-5*time.Second))), body, gateway.ErrSignature},
		"future":             {g, headerWith(sign(secretOld, body, now.Add(Tolerance+60*time.Second))), body, gateway.ErrSignature},
		"wrong secret":       {g, headerWith(sign("whsec_wrong", body, now)), body, gateway.ErrSignature},
		"new secret only":    {g, headerWith(sign(secretNew, body, now)), body, gateway.ErrSignature},
		"tampered body":      {g, headerWith(good), append([]byte(" "), body...), gateway.ErrSignature},
		"timestamp swapped":  {g, headerWith(strings.Replace(good, ts, fmt.Sprint(now.Unix()-1), 1)), body, gateway.ErrSignature},
		"missing":            {g, http.Header{}, body, gateway.ErrSignature},
		"no timestamp":       {g, headerWith("v1=" + sigOf(secretOld, now)), body, gateway.ErrSignature},
		"no v1":              {g, headerWith("t=" + ts + ",v0=" + sigOf(secretOld, now)), body, gateway.ErrSignature},
		"garbage":            {g, headerWith("not a signature"), body, gateway.ErrSignature},
		"bad timestamp":      {g, headerWith("t=12a,v1=" + sigOf(secretOld, now)), body, gateway.ErrSignature},
		"two timestamps":     {g, headerWith("t=" + ts + ",t=1,v1=" + sigOf(secretOld, now)), body, gateway.ErrSignature},
		"double equals":      {g, headerWith("t=" + ts + ",v1=" + sigOf(secretOld, now) + "=="), body, gateway.ErrSignature},
		"too many v1":        {g, headerWith("t=" + ts + strings.Repeat(",v1=00", maxSignatures) + ",v1=" + sigOf(secretOld, now)), body, gateway.ErrSignature},
		"too long":           {g, headerWith(good + ",x=" + strings.Repeat("a", maxSignatureHeader)), body, gateway.ErrSignature},
		"signed non-JSON":    {g, headerWith(sign(secretOld, []byte("{not json"), now)), []byte("{not json"), gateway.ErrMalformed},
		"signed non-event":   {g, headerWith(sign(secretOld, []byte(`{"object":"v2.core.event"}`), now)), []byte(`{"object":"v2.core.event"}`), gateway.ErrMalformed},
		"signed, no data":    {g, headerWith(sign(secretOld, []byte(`{"object":"event","id":"evt_1","type":"x.y"}`), now)), []byte(`{"object":"event","id":"evt_1","type":"x.y"}`), gateway.ErrMalformed},
		"signed, bad object": {g, headerWith(sign(secretOld, []byte(`{"object":"event","id":"evt_1","type":"checkout.session.expired","data":{"object":{"id":7}}}`), now)), []byte(`{"object":"event","id":"evt_1","type":"checkout.session.expired","data":{"object":{"id":7}}}`), gateway.ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev, err := tc.g.ParseWebhook(tc.header, tc.body, now)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Nil(t, ev)
				other := gateway.ErrMalformed
				if tc.err == gateway.ErrMalformed {
					other = gateway.ErrSignature
				}
				require.NotErrorIs(t, err, other)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "evt_1SessionEvent", ev.EventID)
			require.Equal(t, orders.EventSucceeded, ev.Type)
		})
	}
}

// The endpoint's API version is the shop's choice; events of another release train
// (or from before release trains) must still be accepted.
func TestParseWebhookAPIVersionMismatch(t *testing.T) {
	t.Parallel()
	g := testGateway(t, secretOld)
	now := time.Now()
	for _, v := range []string{"2026-03-25.dahlia", "2025-01-27.acacia", "2024-06-20", ""} {
		body := sessionFixture(v, "checkout.session.completed", 1999, "usd", "paid", "complete")
		ev, err := g.ParseWebhook(headerWith(sign(secretOld, body, now)), body, now)
		require.NoError(t, err, "api_version %q", v)
		require.Equal(t, orders.EventSucceeded, ev.Type)
	}
}

func parse(t *testing.T, body []byte) *orders.GatewayEvent {
	t.Helper()
	now := time.Now()
	ev, err := testGateway(t, secretOld).ParseWebhook(headerWith(sign(secretOld, body, now)), body, now)
	require.NoError(t, err)
	require.Equal(t, Name, ev.Gateway)
	require.Equal(t, string(body), string(ev.Payload))
	return ev
}

func TestParseWebhookSessionEvents(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		typ, paymentStatus, status string
		want, reason               string
	}{
		"completed paid":         {"checkout.session.completed", "paid", "complete", orders.EventSucceeded, ""},
		"completed unpaid":       {"checkout.session.completed", "unpaid", "complete", orders.EventPending, ""},
		"async succeeded":        {"checkout.session.async_payment_succeeded", "paid", "complete", orders.EventSucceeded, ""},
		"async failed":           {"checkout.session.async_payment_failed", "unpaid", "complete", orders.EventFailed, ReasonAsyncPaymentFailed},
		"expired":                {"checkout.session.expired", "unpaid", "expired", orders.EventFailed, ReasonExpired},
		"completed, no payment?": {"checkout.session.completed", "no_payment_required", "complete", orders.EventPending, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev := parse(t, sessionFixture("2026-03-25.dahlia", tc.typ, 250000, "vnd", tc.paymentStatus, tc.status))
			require.Equal(t, tc.want, ev.Type)
			require.Equal(t, tc.reason, ev.Reason)
			require.Equal(t, "cs_test_a1b2c3", ev.SessionID)
			require.Equal(t, "pi_3Abc", ev.PaymentRef)
			require.Equal(t, int64(250000), ev.Amount)
			require.Equal(t, "VND", ev.Currency)
		})
	}
	// IDR comes back to chatpay's whole rupiah.
	ev := parse(t, sessionFixture("2026-03-25.dahlia", "checkout.session.completed", 5_000_000, "idr", "paid", "complete"))
	require.Equal(t, int64(50000), ev.Amount)
	require.Equal(t, "IDR", ev.Currency)

	// A session chatpay did not create is recorded but not routed to an attempt.
	foreign := strings.NewReplacer(`"client_reference_id": "att_1"`, `"client_reference_id": null`,
		`"attempt_id": "att_1"`, `"other": "x"`).Replace(string(sessionFixture("2026-03-25.dahlia", "checkout.session.completed", 100, "usd", "paid", "complete")))
	ev = parse(t, []byte(foreign))
	require.Equal(t, TypeForeignSession, ev.Type)
}

func TestParseWebhookManualCapture(t *testing.T) {
	t.Parallel()
	// A session of a gateway with ManualCapture says "paid" for money only held; its
	// capture metadata, or an expanded intent that requires capture, tells.
	plain := string(sessionFixture("2026-03-25.dahlia", "checkout.session.completed", 250000, "vnd", "paid", "complete"))
	ev := parse(t, []byte(plain))
	require.Equal(t, orders.EventSucceeded, ev.Type)
	require.False(t, ev.Authorized)

	manual := strings.Replace(plain, `"attempt_id": "att_1"`, `"attempt_id": "att_1", "capture": "manual"`, 1)
	require.NotEqual(t, plain, manual, "the fixture changed: the test needs its metadata")
	ev = parse(t, []byte(manual))
	require.Equal(t, orders.EventSucceeded, ev.Type)
	require.True(t, ev.Authorized)

	expanded := strings.Replace(plain, `"payment_intent": "pi_3Abc"`, `"payment_intent": {"id": "pi_3Abc", "object": "payment_intent", "status": "requires_capture"}`, 1)
	require.NotEqual(t, plain, expanded, "the fixture changed: the test needs its payment_intent")
	ev = parse(t, []byte(expanded))
	require.Equal(t, "pi_3Abc", ev.PaymentRef)
	require.True(t, ev.Authorized)

	// Unpaid sessions are pending, never authorised.
	ev = parse(t, []byte(strings.Replace(manual, `"payment_status": "paid"`, `"payment_status": "unpaid"`, 1)))
	require.Equal(t, orders.EventPending, ev.Type)
	require.False(t, ev.Authorized)
}

func TestParseWebhookPaymentIntentFailed(t *testing.T) {
	t.Parallel()
	ev := parse(t, []byte(paymentFailedEvent))
	require.Equal(t, TypePaymentAttemptFailed, ev.Type)
	require.Equal(t, "pi_3Abc", ev.PaymentRef)
	require.Empty(t, ev.SessionID, "a PaymentIntent does not name its Checkout Session")
	require.Equal(t, "Your card has insufficient funds.", ev.Reason)
	require.Equal(t, int64(1999), ev.Amount)
	require.Equal(t, "USD", ev.Currency)
}

func TestParseWebhookChargeRefunded(t *testing.T) {
	t.Parallel()
	ev := parse(t, []byte(chargeRefundedEvent))
	require.Equal(t, TypeRefunded, ev.Type)
	require.Equal(t, "pi_3Abc", ev.PaymentRef)
	require.Equal(t, int64(20000), ev.Amount, "cumulative refunded amount, in whole rupiah")
	require.Equal(t, "IDR", ev.Currency)
	r, err := RefundOf(ev)
	require.NoError(t, err)
	require.Equal(t, &Refund{ChargeID: "ch_3Abc", PaymentRef: "pi_3Abc", Amount: 50000, AmountRefunded: 20000, Currency: "IDR"}, r)
	_, err = DisputeOf(ev)
	require.Error(t, err)
}

func TestParseWebhookDisputes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ kind, status, want, mapped string }{
		{"created", "needs_response", TypeDisputeCreated, orders.DisputeOpen},
		{"updated", "under_review", TypeDisputeUpdated, orders.DisputePending},
		{"funds_withdrawn", "needs_response", TypeDisputeUpdated, orders.DisputeOpen},
		{"closed", "lost", TypeDisputeClosed, orders.DisputeLost},
		{"closed", "warning_closed", TypeDisputeClosed, orders.DisputeWon},
	} {
		ev := parse(t, fmt.Appendf(nil, disputeEventTmpl, tc.kind, tc.status))
		require.Equal(t, tc.want, ev.Type, tc.kind)
		due := time.Unix(1780864000, 0).UTC()
		require.Equal(t, &orders.DisputeDetails{ID: "dp_1Abc", Status: tc.mapped, Reason: "product_not_received",
			EvidenceDueAt: &due}, ev.Dispute, tc.status)
		require.Equal(t, "pi_3Abc", ev.PaymentRef)
		require.Equal(t, int64(1999), ev.Amount)
		require.Equal(t, "USD", ev.Currency)
		require.Equal(t, "product_not_received", ev.Reason)
		d, err := DisputeOf(ev)
		require.NoError(t, err)
		require.Equal(t, &Dispute{
			ID: "dp_1Abc", ChargeID: "ch_3Abc", PaymentRef: "pi_3Abc", Amount: 1999, Currency: "USD",
			Status: tc.status, Reason: "product_not_received", EvidenceDueBy: time.Unix(1780864000, 0).UTC(),
		}, d)
	}
}

func TestDisputeStatus(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"warning_needs_response": orders.DisputeOpen, "needs_response": orders.DisputeOpen,
		"warning_under_review": orders.DisputePending, "under_review": orders.DisputePending,
		"won": orders.DisputeWon, "prevented": orders.DisputeWon, "warning_closed": orders.DisputeWon,
		"lost": orders.DisputeLost, "something_new": orders.DisputeOpen,
	} {
		require.Equal(t, want, DisputeStatus(in), in)
	}
}

func TestParseWebhookOtherTypesPassThrough(t *testing.T) {
	t.Parallel()
	ev := parse(t, []byte(`{"id":"evt_9","object":"event","api_version":"2026-03-25.dahlia","created":1,
		"data":{"object":{"id":"cus_1","object":"customer"}},"type":"customer.created"}`))
	require.Equal(t, "customer.created", ev.Type)
	require.Empty(t, ev.SessionID)
}

// Found by FuzzParseWebhook: an event whose type is literally "failed" must not become
// orders.EventFailed without a session.
func TestParseWebhookTypeCollision(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{orders.EventFailed, orders.EventSucceeded, TypeRefunded} {
		ev := parse(t, fmt.Appendf(nil, `{"id":"evt_9","object":"event","created":1,"data":{"object":{}},"type":%q}`, typ))
		require.Equal(t, "stripe:"+typ, ev.Type)
	}
}

// Before API version 2025-03-31, cancelling an uncaptured PaymentIntent (chatpay's
// void, the dashboard, or the authorisation expiring) refunds its charge in full and
// sends charge.refunded: no money was taken, so the event reports nothing refunded.
func TestParseWebhookChargeRefundedUncaptured(t *testing.T) {
	t.Parallel()
	released := strings.NewReplacer(`"api_version": "2026-03-25.dahlia"`, `"api_version": "2024-06-20"`,
		`"amount_captured": 5000000`, `"amount_captured": 0`, `"amount_refunded": 2000000`, `"amount_refunded": 5000000`,
		`"captured": true`, `"captured": false`, `"refunded": false`, `"refunded": true`, `"status": "succeeded"`, `"status": "failed"`,
	).Replace(chargeRefundedEvent)
	require.NotEqual(t, chargeRefundedEvent, released, "the fixture changed: the test needs its amounts")
	ev := parse(t, []byte(released))
	require.Equal(t, TypeRefunded, ev.Type)
	require.Equal(t, "pi_3Abc", ev.PaymentRef)
	require.Zero(t, ev.Amount, "a released hold is not a refund")
	r, err := RefundOf(ev)
	require.NoError(t, err)
	require.Equal(t, &Refund{ChargeID: "ch_3Abc", PaymentRef: "pi_3Abc", Amount: 50000, Currency: "IDR"}, r)
}
