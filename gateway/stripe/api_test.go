package stripe

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	stripego "github.com/stripe/stripe-go/v85"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	ok := Config{SecretKey: "sk_test_1", WebhookSecrets: []string{"whsec_1"}}
	for name, tc := range map[string]struct {
		mut   func(*Config)
		field string
	}{
		"no key":       {func(c *Config) { c.SecretKey = " " }, "secret_key"},
		"no secrets":   {func(c *Config) { c.WebhookSecrets = nil }, "webhook_secrets"},
		"empty secret": {func(c *Config) { c.WebhookSecrets = []string{"whsec_1", ""} }, "webhook_secrets"},
		"ttl short":    {func(c *Config) { c.SessionTTL = 29 * time.Minute }, "session_ttl"},
		"ttl long":     {func(c *Config) { c.SessionTTL = 24*time.Hour + time.Second }, "session_ttl"},
		"ttl negative": {func(c *Config) { c.SessionTTL = -time.Hour }, "session_ttl"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.mut(&c)
			_, err := New(c)
			var oe *orders.Error
			require.ErrorAs(t, err, &oe)
			require.Equal(t, orders.EINVALID, oe.Code)
			require.Equal(t, tc.field, oe.Field)
		})
	}
	for ttl, want := range map[time.Duration]time.Duration{0: DefaultSessionTTL, MinSessionTTL: MinSessionTTL, MaxSessionTTL: MaxSessionTTL} {
		c := ok
		c.SessionTTL = ttl
		g, err := New(c)
		require.NoError(t, err)
		require.Equal(t, want, g.ttl, "ttl %s", ttl)
	}
}

func sessionRequest() gateway.SessionRequest {
	return gateway.SessionRequest{
		ShopID: "shop_1", OrderID: "ord_1", OrderCode: "A7K2", AttemptID: "att_1",
		Amount: 250000, Currency: "VND", ReturnURL: "https://pay.example/p/tok",
		Description: "Order A7K2 at Shop 1",
		Metadata:    map[string]string{"channel": "telegram", "order_id": "must not win"},
	}
}

func TestCreateSessionAgainstStripeMock(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	now := time.Unix(1_800_000_000, 0)
	g := mockGateway(t, rec, Config{ManualCapture: true, SessionTTL: 2 * time.Hour, Now: func() time.Time { return now }})

	s, err := g.CreateSession(testContext(t), sessionRequest())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(s.ID, "cs_"), s.ID)
	require.NotEmpty(t, s.CheckoutURL)

	reqs := rec.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.StatusOK, r.Status, "stripe-mock rejected the request: %v", r.Form)
	require.Equal(t, "POST /v1/checkout/sessions", r.Method+" "+r.Path)
	require.Equal(t, "chatpay-session-att_1", r.IdempotencyKey)
	f := r.Form
	for k, want := range map[string]string{
		"mode":                                   "payment",
		"client_reference_id":                    "att_1",
		"success_url":                            "https://pay.example/p/tok",
		"cancel_url":                             "https://pay.example/p/tok",
		"expires_at":                             strconv.FormatInt(now.Add(2*time.Hour).Unix(), 10),
		"line_items[0][quantity]":                "1",
		"line_items[0][price_data][currency]":    "vnd",
		"line_items[0][price_data][unit_amount]": "250000", // VND is zero-decimal at Stripe too
		"line_items[0][price_data][product_data][name]": "Order A7K2 at Shop 1",
		"metadata[shop_id]":                             "shop_1",
		"metadata[order_id]":                            "ord_1",
		"metadata[attempt_id]":                          "att_1",
		"metadata[channel]":                             "telegram",
		"payment_intent_data[capture_method]":           "manual",
		"metadata[capture]":                             "manual",
		"payment_intent_data[metadata][attempt_id]":     "att_1",
		"payment_intent_data[metadata][order_id]":       "ord_1",
	} {
		require.Equal(t, want, f.Get(k), k)
	}
}

func TestCreateSessionAmounts(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	g := mockGateway(t, rec, Config{})
	ctx := testContext(t)
	for i, tc := range []struct {
		currency string
		amount   int64
		want     string
	}{
		{"JPY", 1200, "1200"},
		{"krw", 15000, "15000"},
		{"USD", 1999, "1999"},
		// chatpay counts whole rupiah; Stripe counts IDR in hundredths.
		{"IDR", 50000, "5000000"},
	} {
		req := sessionRequest()
		req.AttemptID, req.Currency, req.Amount = fmt.Sprint("att_amount_", i), tc.currency, tc.amount
		_, err := g.CreateSession(ctx, req)
		require.NoError(t, err, tc.currency)
		reqs := rec.requests()
		last := reqs[len(reqs)-1]
		require.Equal(t, http.StatusOK, last.Status)
		require.Equal(t, tc.want, last.Form.Get("line_items[0][price_data][unit_amount]"), tc.currency)
		require.Equal(t, strings.ToLower(tc.currency), last.Form.Get("line_items[0][price_data][currency]"))
		require.Empty(t, last.Form.Get("payment_intent_data[capture_method]"), "automatic capture is Stripe's default")
	}
	n := len(rec.requests())
	for _, mut := range []func(*gateway.SessionRequest){
		func(r *gateway.SessionRequest) { r.Currency = "IRR" }, // Stripe does not support it
		func(r *gateway.SessionRequest) { r.Currency = "XYZ" },
		func(r *gateway.SessionRequest) { r.Amount = 0 },
		func(r *gateway.SessionRequest) { r.AttemptID = "" },
		func(r *gateway.SessionRequest) { r.ReturnURL = "" },
	} {
		req := sessionRequest()
		mut(&req)
		_, err := g.CreateSession(ctx, req)
		var oe *orders.Error
		require.ErrorAs(t, err, &oe)
		require.Equal(t, orders.EINVALID, oe.Code)
	}
	require.Len(t, rec.requests(), n, "invalid requests must not reach Stripe")
}

func TestSessionMetadataLimits(t *testing.T) {
	t.Parallel()
	req := sessionRequest()
	req.Metadata = map[string]string{
		"shop_id":                         "forged",
		strings.Repeat("k", 41):           "too long a key",
		"a_40_" + strings.Repeat("k", 35): "fits",
		"brackets[x]":                     "rejected by Stripe",
		"long_value":                      strings.Repeat("v", 501),
		"max_value":                       strings.Repeat("é", 500),
		"empty":                           "",
	}
	for i := range 60 {
		req.Metadata[fmt.Sprintf("n%02d", i)] = "x"
	}
	req.Metadata[MetaCapture] = "the order's own"
	m := sessionMetadata(req)
	require.Len(t, m, maxMetadataKeys-1, "one key is kept for CreateSession's capture key")
	require.NotContains(t, m, MetaCapture)
	require.Equal(t, "shop_1", m["shop_id"])
	require.Equal(t, "att_1", m["attempt_id"])
	require.Equal(t, "fits", m["a_40_"+strings.Repeat("k", 35)])
	require.Equal(t, strings.Repeat("é", 500), m["max_value"])
	for _, k := range []string{strings.Repeat("k", 41), "brackets[x]", "long_value", "empty"} {
		require.NotContains(t, m, k)
	}
	// Sorted order decides which of the n keys fit: the first ones do.
	require.Contains(t, m, "n00")
	require.NotContains(t, m, "n59")
}

func TestCreateSessionRefusesOtherShop(t *testing.T) {
	t.Parallel()
	g, err := New(Config{SecretKey: "sk_test_1", WebhookSecrets: []string{"whsec_1"}, ShopID: "shop_2", APIURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	_, err = g.CreateSession(testContext(t), sessionRequest())
	var oe *orders.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "shop_id", oe.Field)
}

func TestSessionStatusAgainstStripeMock(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	g := mockGateway(t, rec, Config{})
	st, err := g.SessionStatus(testContext(t), "cs_test_123")
	require.NoError(t, err)
	// stripe-mock's fixture session is open and unpaid, with an expanded intent.
	require.Equal(t, gateway.StatusOpen, st.Status)
	require.True(t, strings.HasPrefix(st.PaymentRef, "pi_"), st.PaymentRef)
	r := rec.requests()[0]
	require.Equal(t, "GET /v1/checkout/sessions/cs_test_123", r.Method+" "+r.Path)
	require.Equal(t, "payment_intent", r.Query.Get("expand[0]"), "%v", r.Query)
	require.Equal(t, http.StatusOK, r.Status)
}

func TestSessionStatusMapping(t *testing.T) {
	t.Parallel()
	declined := &stripego.PaymentIntent{ID: "pi_1", Status: stripego.PaymentIntentStatusRequiresPaymentMethod,
		LastPaymentError: &stripego.Error{Msg: "Your card was declined.", Code: "card_declined"}}
	for name, tc := range map[string]struct {
		s                   stripego.CheckoutSession
		status, reason, ref string
	}{
		"open":               {stripego.CheckoutSession{Status: "open", PaymentStatus: "unpaid"}, gateway.StatusOpen, "", ""},
		"open after decline": {stripego.CheckoutSession{Status: "open", PaymentStatus: "unpaid", PaymentIntent: declined}, gateway.StatusOpen, "Your card was declined.", "pi_1"},
		"paid": {stripego.CheckoutSession{Status: "complete", PaymentStatus: "paid",
			PaymentIntent: &stripego.PaymentIntent{ID: "pi_2", Status: "succeeded"}}, orders.EventSucceeded, "", "pi_2"},
		"async pending": {stripego.CheckoutSession{Status: "complete", PaymentStatus: "unpaid",
			PaymentIntent: &stripego.PaymentIntent{ID: "pi_3", Status: "processing"}}, orders.EventPending, "", "pi_3"},
		"async failed": {stripego.CheckoutSession{Status: "complete", PaymentStatus: "unpaid", PaymentIntent: declined}, orders.EventFailed, "Your card was declined.", "pi_1"},
		"async failed, no message": {stripego.CheckoutSession{Status: "complete", PaymentStatus: "unpaid",
			PaymentIntent: &stripego.PaymentIntent{ID: "pi_4", Status: "canceled"}}, orders.EventFailed, ReasonAsyncPaymentFailed, "pi_4"},
		"expired": {stripego.CheckoutSession{Status: "expired", PaymentStatus: "unpaid"}, orders.EventFailed, ReasonExpired, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := tc.s
			s.Currency, s.AmountTotal = "idr", 5_000_000
			st := sessionStatus(&s)
			require.Equal(t, tc.status, st.Status)
			require.Equal(t, tc.reason, st.Reason)
			require.Equal(t, tc.ref, st.PaymentRef)
			require.Equal(t, int64(50000), st.Amount)
			require.Equal(t, "IDR", st.Currency)
		})
	}
	// With manual capture a paid session's money is only held.
	held := sessionStatus(&stripego.CheckoutSession{Status: "complete", PaymentStatus: "paid",
		PaymentIntent: &stripego.PaymentIntent{ID: "pi_5", Status: stripego.PaymentIntentStatusRequiresCapture}})
	require.Equal(t, orders.EventSucceeded, held.Status)
	require.True(t, held.Authorized)
	held = sessionStatus(&stripego.CheckoutSession{Status: "complete", PaymentStatus: "paid", Metadata: map[string]string{MetaCapture: CaptureManual}})
	require.True(t, held.Authorized)
	require.False(t, sessionStatus(&stripego.CheckoutSession{Status: "complete", PaymentStatus: "paid"}).Authorized)
}

func TestRefundAgainstStripeMock(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	g := mockGateway(t, rec, Config{})
	ctx := testContext(t)
	res, err := g.Refund(ctx, gateway.RefundRequest{PaymentRef: "pi_123", Amount: 700, Currency: "IDR", IdempotencyKey: "rf_1"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(res.ID, "re_"), res.ID)
	r := rec.requests()[0]
	require.Equal(t, "POST /v1/refunds", r.Method+" "+r.Path)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "pi_123", r.Form.Get("payment_intent"))
	require.Equal(t, "70000", r.Form.Get("amount"))
	require.Equal(t, "chatpay-refund-rf_1", r.IdempotencyKey)

	// Without a payment reference the session's intent is refunded.
	_, err = g.Refund(ctx, gateway.RefundRequest{SessionID: "cs_test_9", Amount: 5, Currency: "USD", IdempotencyKey: "rf_2"})
	require.NoError(t, err)
	reqs := rec.requests()[1:]
	require.Len(t, reqs, 2)
	require.Equal(t, "GET /v1/checkout/sessions/cs_test_9", reqs[0].Method+" "+reqs[0].Path)
	require.True(t, strings.HasPrefix(reqs[1].Form.Get("payment_intent"), "pi_"))
	require.Equal(t, "5", reqs[1].Form.Get("amount"))

	for _, bad := range []gateway.RefundRequest{
		{PaymentRef: "pi_1", Amount: 0, Currency: "USD", IdempotencyKey: "k"},
		{PaymentRef: "pi_1", Amount: 1, Currency: "USD"},
		{Amount: 1, Currency: "USD", IdempotencyKey: "k"},
		{PaymentRef: "pi_1", Amount: 1, Currency: "IRR", IdempotencyKey: "k"},
	} {
		_, err := g.Refund(ctx, bad)
		var oe *orders.Error
		require.ErrorAs(t, err, &oe, "%+v", bad)
	}
	require.Len(t, rec.requests(), 3)
}

func TestExpireSessionAgainstStripeMock(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	g := mockGateway(t, rec, Config{})
	require.NoError(t, g.ExpireSession(testContext(t), "cs_test_123"))
	r := rec.requests()[0]
	require.Equal(t, "POST /v1/checkout/sessions/cs_test_123/expire", r.Method+" "+r.Path)
	require.Equal(t, http.StatusOK, r.Status)
}

// stripe-mock keeps no state, so a session that is no longer open is played by a
// stand-in answering as Stripe does: 400 on expire, then the session's status.
func TestExpireSessionNotOpen(t *testing.T) {
	t.Parallel()
	for _, status := range []string{"expired", "complete", "open"} {
		t.Run(status, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.Method == http.MethodPost {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Only Checkout Sessions with a status in [\"open\"] can be expired."}}`))
					return
				}
				_ = json.NewEncoder(w).Encode(map[string]any{"id": "cs_1", "object": "checkout.session", "status": status})
			}))
			t.Cleanup(srv.Close)
			g, err := New(Config{SecretKey: "sk_test_1", WebhookSecrets: []string{"whsec_1"}, APIURL: srv.URL})
			require.NoError(t, err)
			err = g.ExpireSession(testContext(t), "cs_1")
			if status == "open" {
				var se *stripego.Error
				require.True(t, errors.As(err, &se), "%v", err)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestNotFoundIsOrdersNotFound(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such checkout.session: 'cs_x'"}}`))
	}))
	t.Cleanup(srv.Close)
	g, err := New(Config{SecretKey: "sk_test_1", WebhookSecrets: []string{"whsec_1"}, APIURL: srv.URL})
	require.NoError(t, err)
	_, err = g.SessionStatus(testContext(t), "cs_x")
	var oe *orders.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, orders.ENOTFOUND, oe.Code)
}

func TestCaptureAgainstStripeMock(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	g := mockGateway(t, rec, Config{ManualCapture: true})
	ctx := testContext(t)
	res, err := g.Capture(ctx, gateway.CaptureRequest{PaymentRef: "pi_123", Amount: 700, Currency: "IDR", IdempotencyKey: "cap_1"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(res.ID, "pi_"), res.ID)
	require.Positive(t, res.Amount)
	r := rec.requests()[0]
	require.Equal(t, "POST /v1/payment_intents/pi_123/capture", r.Method+" "+r.Path)
	require.Equal(t, http.StatusOK, r.Status, "stripe-mock rejected the request: %v", r.Form)
	require.Equal(t, "70000", r.Form.Get("amount_to_capture"), "IDR is two-decimal at Stripe")
	require.Equal(t, "chatpay-capture-cap_1", r.IdempotencyKey)

	for _, bad := range []gateway.CaptureRequest{
		{PaymentRef: "pi_1", Amount: 0, Currency: "USD", IdempotencyKey: "k"},
		{PaymentRef: "pi_1", Amount: 1, Currency: "USD"},
		{Amount: 1, Currency: "USD", IdempotencyKey: "k"},
		{PaymentRef: "pi_1", Amount: 1, Currency: "IRR", IdempotencyKey: "k"},
	} {
		_, err := g.Capture(ctx, bad)
		var oe *orders.Error
		require.ErrorAs(t, err, &oe, "%+v", bad)
		require.Equal(t, orders.EINVALID, oe.Code)
	}
	require.Len(t, rec.requests(), 1, "invalid captures never reach Stripe")
}
