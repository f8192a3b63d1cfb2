package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/webhooks"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

const (
	secret1 = "whsec_shop1"
	secret2 = "whsec_shop2"
)

// testRenderer renders plain texts that name the kind and the order, enough to assert
// which messages and notices the service queued.
type testRenderer struct{}

func (testRenderer) Message(kind string, d orders.MessageData) (string, []orders.Button, error) {
	text := kind + " #" + d.Order.Code
	switch kind {
	case orders.KindOrderCard:
		return text, []orders.Button{{Label: "Pay now", URL: d.LinkURL}}, nil
	case orders.KindPaymentFailed:
		return text + ": " + d.Reason, []orders.Button{{Label: "Pay again", URL: d.LinkURL}}, nil
	}
	return text, nil, nil
}

func (testRenderer) Notice(kind string, d orders.MessageData) (string, error) {
	return kind + ": " + d.Reason, nil
}

// bundle is a webhook endpoint wired like production: a real orders.Service (with a
// store when the test needs one), the sandbox gateway for two shops, and the handler on
// a gin engine, also served over HTTP for the sandbox to deliver to.
type bundle struct {
	service *orders.Service
	store   orders.Store
	engine  *sandbox.Engine
	gws     *gateway.Registry
	router  *gin.Engine
	server  *httptest.Server
	reg     *prometheus.Registry
}

type setupOptions struct {
	store   orders.Store
	maxBody int64
	// maxBatch and maxInFlight set the handler's batching (0: its defaults).
	maxBatch, maxInFlight int
}

func setup(t *testing.T, opts setupOptions) *bundle {
	t.Helper()
	shops := []*orders.Shop{
		{ID: "shop1", Name: "Shop One", Currency: "VND", Locale: "en", SendPaidConfirmation: true, Gateways: []string{"sandbox"}},
		{ID: "shop2", Name: "Shop Two", Currency: "VND", Locale: "en", SendPaidConfirmation: true, Gateways: []string{"sandbox"}},
		{ID: "shop3", Name: "No Gateways", Currency: "VND", Locale: "en"},
	}
	svc, err := orders.NewService(orders.Config{
		Shops:     shops,
		Store:     opts.store,
		Renderer:  testRenderer{},
		PublicURL: "http://chatpay.test",
		LinkKey:   bytes.Repeat([]byte{7}, orders.LinkKeyLen),
	})
	require.NoError(t, err)

	b := &bundle{service: svc, store: opts.store, gws: gateway.NewRegistry(), reg: prometheus.NewRegistry()}
	b.router = gin.New()
	b.server = httptest.NewServer(b.router)
	t.Cleanup(b.server.Close)

	b.engine = sandbox.New(sandbox.Options{
		PublicURL:    b.server.URL,
		Client:       b.server.Client(),
		RetryBase:    time.Millisecond,
		RetryMax:     5 * time.Millisecond,
		PendingDelay: time.Millisecond,
	})
	t.Cleanup(func() { require.NoError(t, b.engine.Close()) })
	b.gws.Add("shop1", b.engine.Gateway("shop1", secret1))
	b.gws.Add("shop2", b.engine.Gateway("shop2", secret2))

	h := &webhooks.Handler{
		Service:     svc,
		Gateways:    b.gws,
		MaxBody:     opts.maxBody,
		Metrics:     webhooks.NewMetrics(b.reg),
		MaxBatch:    opts.maxBatch,
		MaxInFlight: opts.maxInFlight,
	}
	h.Register(b.router)
	return b
}

// post sends a webhook straight to the router.
func (b *bundle) post(t *testing.T, path string, body []byte, sig string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(sandbox.SignatureHeader, sig)
	}
	w := httptest.NewRecorder()
	b.router.ServeHTTP(w, req)
	var out map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	return w.Code, out
}

// postSigned signs body with secret now and posts it.
func (b *bundle) postSigned(t *testing.T, path, secret string, body []byte) (int, map[string]any) {
	t.Helper()
	return b.post(t, path, body, sandbox.Sign(secret, body, time.Now()))
}

// counter returns the value of a counter (or a histogram's sample count) with exactly
// these labels, 0 if it was never touched.
func (b *bundle) counter(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := b.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !labelsMatch(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func labelsMatch(m *dto.Metric, labels []string) bool {
	if len(m.GetLabel())*2 != len(labels) {
		return false
	}
	for i, lp := range m.GetLabel() {
		if lp.GetName() != labels[2*i] || lp.GetValue() != labels[2*i+1] {
			return false
		}
	}
	return true
}

func eventBody(id, typ, session string, amount int64, currency string) []byte {
	body, err := json.Marshal(map[string]any{
		"id": id, "type": typ, "created": time.Now().Unix(),
		"data": map[string]any{"session_id": session, "amount": amount, "currency": currency, "payment_id": "pi_" + id},
	})
	if err != nil {
		panic(err)
	}
	return body
}

func errorCode(t *testing.T, out map[string]any) string {
	t.Helper()
	e, ok := out["error"].(map[string]any)
	require.True(t, ok, "error body: %v", out)
	require.NotEmpty(t, e["message"])
	return e["code"].(string)
}

// TestRejected covers every answer given before the event reaches the store: the
// service here has no store at all, so reaching it would panic.
func TestRejected(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	body := eventBody("evt_1", "checkout.succeeded", "cs_sbx_1", 1000, "VND")

	for _, tc := range []struct {
		name   string
		path   string
		body   []byte
		sig    string
		status int
		code   string
	}{
		{"unknown shop", "/webhooks/sandbox/nope", body, sandbox.Sign(secret1, body, time.Now()), 404, "not_found"},
		{"gateway not enabled", "/webhooks/sandbox/shop3", body, sandbox.Sign(secret1, body, time.Now()), 404, "not_found"},
		{"unknown gateway", "/webhooks/stripe/shop1", body, sandbox.Sign(secret1, body, time.Now()), 404, "not_found"},
		{"missing signature", "/webhooks/sandbox/shop1", body, "", 401, "unauthorized"},
		{"wrong secret", "/webhooks/sandbox/shop1", body, sandbox.Sign(secret2, body, time.Now()), 401, "unauthorized"},
		{"stale", "/webhooks/sandbox/shop1", body, sandbox.Sign(secret1, body, time.Now().Add(-10*time.Minute)), 401, "unauthorized"},
		{"tampered", "/webhooks/sandbox/shop1", bytes.Replace(body, []byte("1000"), []byte("1"), 1), sandbox.Sign(secret1, body, time.Now()), 401, "unauthorized"},
		{"malformed", "/webhooks/sandbox/shop1", []byte(`{"id":"x"}`), sandbox.Sign(secret1, []byte(`{"id":"x"}`), time.Now()), 400, "invalid"},
		{"not json", "/webhooks/sandbox/shop1", []byte(`nope`), sandbox.Sign(secret1, []byte(`nope`), time.Now()), 400, "invalid"},
	} {
		status, out := b.post(t, tc.path, tc.body, tc.sig)
		require.Equal(t, tc.status, status, tc.name)
		require.Equal(t, tc.code, errorCode(t, out), tc.name)
	}

	require.Equal(t, 3.0, b.counter(t, "chatpay_webhooks_total", "gateway", "unknown", "result", "not_found"))
	require.Equal(t, 4.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "unauthorized"))
	require.Equal(t, 2.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "malformed"))
	require.Equal(t, 6.0, b.counter(t, "chatpay_webhook_duration_seconds", "gateway", "sandbox"))
	require.Equal(t, 3.0, b.counter(t, "chatpay_webhook_duration_seconds", "gateway", "unknown"))
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	// The default limit is 1 MiB: one byte more is refused before the signature check.
	big := append([]byte(`{"id":"`), bytes.Repeat([]byte("x"), 1<<20)...)
	status, out := b.post(t, "/webhooks/sandbox/shop1", big, sandbox.Sign(secret1, big, time.Now()))
	require.Equal(t, http.StatusRequestEntityTooLarge, status)
	require.Equal(t, "invalid", errorCode(t, out))
	require.Equal(t, 1.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "too_large"))

	small := setup(t, setupOptions{maxBody: 64})
	body := eventBody("evt_1", "checkout.succeeded", "cs_sbx_1", 1000, "VND")
	status, _ = small.postSigned(t, "/webhooks/sandbox/shop1", secret1, body)
	require.Equal(t, http.StatusRequestEntityTooLarge, status)
}

// failingStore fails every transaction, as a database that is down does.
type failingStore struct{ orders.Store }

func (failingStore) InTx(context.Context, func(orders.Tx) error) error {
	return errors.New("connection refused")
}

func TestStoreErrorIs500(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{store: failingStore{}})
	body := eventBody("evt_1", "checkout.succeeded", "cs_sbx_1", 1000, "VND")
	status, out := b.postSigned(t, "/webhooks/sandbox/shop1", secret1, body)
	require.Equal(t, http.StatusInternalServerError, status)
	require.Equal(t, "internal", errorCode(t, out))
	require.NotContains(t, fmt.Sprint(out), "connection refused", "internal detail must not leak")
	require.Equal(t, 1.0, b.counter(t, "chatpay_webhooks_total", "gateway", "sandbox", "result", "error"))
}

func TestNoMetricsNoLogger(t *testing.T) {
	t.Parallel()
	// A handler with only the required fields works and counts into unregistered metrics.
	svc, err := orders.NewService(orders.Config{
		Shops:   []*orders.Shop{{ID: "shop1", Currency: "VND"}},
		LinkKey: make([]byte, orders.LinkKeyLen),
	})
	require.NoError(t, err)
	r := gin.New()
	(&webhooks.Handler{Service: svc, Gateways: gateway.NewRegistry()}).Register(r)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/webhooks/sandbox/shop1", strings.NewReader("{}")))
	require.Equal(t, http.StatusNotFound, w.Code)
}
