package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/configs"
	"github.com/chatpay/chatpay/internal/redistest"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
)

const (
	keyA = "test-key-shop-a-0123456789abcdef"
	keyB = "test-key-shop-b-0123456789abcdef"
)

// app is a running chatpay and an HTTP client that does not follow redirects, so
// tests see every 303 the way a browser would receive it.
type app struct {
	t      testing.TB
	m      *Main
	url    string
	client *http.Client
}

// stores lists the stores every end-to-end test runs against.
var stores = []string{"sqlite", "postgres"}

// setup starts the real Main on a free port with two shops and the given store.
func setup(t testing.TB, store string, pendingDelay ...time.Duration) *app {
	t.Helper()
	var o options
	if len(pendingDelay) > 0 {
		o.pendingDelay = pendingDelay[0]
	}
	return setupWith(t, store, o)
}

// options vary setup.
type options struct {
	pendingDelay time.Duration
	// shopAExtra and shopBExtra are more of the shops' keys, such as their telegram
	// or messenger blocks (YAML, indented for a shop's keys), empty for none.
	shopAExtra, shopBExtra string
}

func setupWith(t testing.TB, store string, o options) *app {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`
http:
  addr: "127.0.0.1:0"
  public_url: %q
database_url: "sqlite:%s"
jobs:
  reconcile_after: 1s
  reconcile_every: 1h
shops:
  - id: shop-a
    name: "Cửa hàng A"
    currency: VND
    locale: vi
    api_keys: [%q]
    gateways:
      sandbox:
        webhook_secret: "secret-a"
%s
  - id: shop-b
    name: "Shop B"
    currency: THB
    locale: en
    api_keys: [%q]
    send_paid_confirmation: false
    gateways:
      sandbox:
        webhook_secret: "secret-b"
%s
`, base, filepath.Join(dir, "chatpay.db"), keyA, o.shopAExtra, keyB, o.shopBExtra)
	path := filepath.Join(dir, "chatpay.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	cfg, err := configs.Load(path, func(string) (string, bool) { return "", false })
	require.NoError(t, err)

	m := NewMain(cfg)
	m.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m.Listener = ln
	m.SandboxPendingDelay = o.pendingDelay
	if store == "postgres" {
		st := postgrestest.Open(t)
		m.OpenStore = func(context.Context) (Store, error) { return st, nil }
	}
	require.NoError(t, m.Open(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		require.NoError(t, m.Close(ctx))
	})
	return &app{
		t:   t,
		m:   m,
		url: base,
		client: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// call sends a JSON API request and decodes the JSON answer.
func (a *app) call(method, path, key string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(a.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	require.NoError(a.t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.client.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	out := map[string]any{}
	raw, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	if len(raw) > 0 {
		require.NoError(a.t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return res.StatusCode, out
}

// get fetches a page.
func (a *app) get(rawURL string) (*http.Response, string) {
	a.t.Helper()
	res, err := a.client.Get(rawURL)
	require.NoError(a.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	return res, string(b)
}

// postForm submits a form as a browser on the same origin would.
func (a *app) postForm(rawURL string, form url.Values) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := a.client.Do(req)
	require.NoError(a.t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func (a *app) createOrder(key string, body map[string]any) map[string]any {
	a.t.Helper()
	code, o := a.call(http.MethodPost, "/api/v1/orders", key, body)
	require.Equal(a.t, http.StatusCreated, code, "%v", o)
	return o
}

func webchatOrder(visitor string) map[string]any {
	return map[string]any{
		"customer":     map[string]any{"channel": "webchat", "external_id": visitor, "name": "Lan", "phone": "0901234567"},
		"items":        []any{map[string]any{"name": "Áo thun", "quantity": 2, "unit_price": 150000}},
		"shipping_fee": 30000,
		"currency":     "VND",
		"metadata":     map[string]any{"branch": "hcm"},
	}
}

// pay taps Pay now on a link and completes the sandbox checkout with an outcome,
// returning the checkout URL it used.
func (a *app) pay(link, outcome, deliver string) string {
	a.t.Helper()
	res := a.postForm(link, url.Values{"gateway": {"sandbox"}})
	require.Equal(a.t, http.StatusSeeOther, res.StatusCode)
	checkout := res.Header.Get("Location")
	require.Contains(a.t, checkout, "/sandbox/checkout/")
	page, body := a.get(checkout)
	require.Equal(a.t, http.StatusOK, page.StatusCode)
	require.Contains(a.t, body, "Sandbox")
	res = a.postForm(checkout, url.Values{"outcome": {outcome}, "deliver": {deliver}})
	require.Equal(a.t, http.StatusSeeOther, res.StatusCode)
	require.Equal(a.t, link, res.Header.Get("Location"), "the sandbox returns the customer to the pay link")
	return checkout
}

// waitOrder polls the API until cond holds for the order (jobs and webhooks run in
// the background) and returns it.
func (a *app) waitOrder(key, id string, what string, cond func(o map[string]any) bool) map[string]any {
	a.t.Helper()
	var last map[string]any
	require.Eventually(a.t, func() bool {
		_, last = a.call(http.MethodGet, "/api/v1/orders/"+id, key, nil)
		return cond(last)
	}, 15*time.Second, 20*time.Millisecond, "waiting for %s; last: %v", what, last)
	return last
}

// waitMessages polls until the order's messages satisfy cond.
func (a *app) waitMessages(key, id string, what string, cond func(ms []map[string]any) bool) []map[string]any {
	a.t.Helper()
	var ms []map[string]any
	require.Eventually(a.t, func() bool {
		_, out := a.call(http.MethodGet, "/api/v1/orders/"+id+"/messages", key, nil)
		ms = ms[:0]
		list, _ := out["messages"].([]any)
		for _, m := range list {
			ms = append(ms, m.(map[string]any))
		}
		return cond(ms)
	}, 15*time.Second, 20*time.Millisecond, "waiting for %s; last: %v", what, ms)
	return ms
}

func kinds(ms []map[string]any) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m["kind"].(string))
	}
	return out
}

func allSent(ms []map[string]any) bool {
	for _, m := range ms {
		if m["status"] != "sent" {
			return false
		}
	}
	return len(ms) > 0
}

func find(ms []map[string]any, kind string) map[string]any {
	for _, m := range ms {
		if m["kind"] == kind {
			return m
		}
	}
	return nil
}

func linkOf(o map[string]any) string {
	return o["payment_link"].(map[string]any)["url"].(string)
}

func forEachStore(t *testing.T, fn func(t *testing.T, store string)) {
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			fn(t, store)
		})
	}
}

func TestPaySuccess(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-1"))
		require.Equal(t, "1001", o["code"])
		require.Equal(t, "awaiting_payment", o["status"])
		require.Equal(t, "unpaid", o["payment_status"])
		require.EqualValues(t, 330000, o["total"])
		link := linkOf(o)
		require.True(t, strings.HasPrefix(link, a.url+"/pay/"), link)
		require.Len(t, strings.TrimPrefix(link, a.url+"/pay/"), 22, "128-bit token, base64url")
		id := o["id"].(string)

		// The order card reaches the web chat with a Pay now button to the link.
		ms := a.waitMessages(keyA, id, "order card sent", allSent)
		require.Equal(t, []string{"order_card"}, kinds(ms))
		card := ms[0]
		buttons := card["buttons"].([]any)
		require.Len(t, buttons, 1)
		require.Equal(t, link, buttons[0].(map[string]any)["url"])
		require.Contains(t, card["text"], "#1001")

		res, body := a.get(link)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
		require.Contains(t, body, "330.000")
		require.Contains(t, body, "Áo thun")

		a.pay(link, "success", "normal")
		o = a.waitOrder(keyA, id, "paid", func(o map[string]any) bool { return o["status"] == "paid" })
		require.Equal(t, "paid", o["payment_status"])
		require.NotNil(t, o["paid_at"])
		payments := o["payments"].([]any)
		require.Len(t, payments, 1)
		require.EqualValues(t, 330000, payments[0].(map[string]any)["amount"])

		ms = a.waitMessages(keyA, id, "confirmation sent", func(ms []map[string]any) bool { return len(ms) == 2 && allSent(ms) })
		require.Equal(t, "Bạn đã thanh toán cho đơn hàng #1001 thành công.", find(ms, "paid_confirmation")["text"])

		res, body = a.get(link)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "#1001")
		require.NotContains(t, body, `name="gateway"`, "a paid order offers no Pay now")

		// Tapping Pay now again on a paid order starts no checkout: it lands back on
		// the paid page.
		res = a.postForm(link, url.Values{"gateway": {"sandbox"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.True(t, strings.HasSuffix(link, res.Header.Get("Location")), res.Header.Get("Location"))
	})
}

func TestPayDeclineThenPayAgain(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-2"))
		id, link := o["id"].(string), linkOf(o)

		first := a.pay(link, "decline", "normal")
		ms := a.waitMessages(keyA, id, "payment failed message", func(ms []map[string]any) bool {
			return find(ms, "payment_failed") != nil && allSent(ms)
		})
		failed := find(ms, "payment_failed")
		buttons := failed["buttons"].([]any)
		require.Len(t, buttons, 1)
		require.Equal(t, link, buttons[0].(map[string]any)["url"], "Pay again goes to the same link")
		_, o = a.call(http.MethodGet, "/api/v1/orders/"+id, keyA, nil)
		require.Equal(t, "awaiting_payment", o["status"])

		// Pay again: a fresh gateway session, and this time it succeeds.
		second := a.pay(link, "success", "normal")
		require.NotEqual(t, first, second, "each tap of Pay now starts a fresh session")
		a.waitOrder(keyA, id, "paid", func(o map[string]any) bool { return o["status"] == "paid" })
	})
}

func TestPayPendingThenSuccess(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store, 300*time.Millisecond)
		o := a.createOrder(keyA, webchatOrder("visitor-3"))
		id, link := o["id"].(string), linkOf(o)
		a.pay(link, "pending", "normal")
		o = a.waitOrder(keyA, id, "paid after pending", func(o map[string]any) bool { return o["status"] == "paid" })
		require.Len(t, o["payments"], 1)
	})
}

func TestPayEventsTwiceAndReversed(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store, 100*time.Millisecond)
		o := a.createOrder(keyA, webchatOrder("visitor-4"))
		a.pay(linkOf(o), "success", "twice")
		o = a.waitOrder(keyA, o["id"].(string), "paid", func(o map[string]any) bool { return o["status"] == "paid" })
		require.NoError(t, a.m.Sandbox.Wait(context.Background()))
		_, o = a.call(http.MethodGet, "/api/v1/orders/"+o["id"].(string), keyA, nil)
		require.Len(t, o["payments"], 1, "a replayed event changes nothing")

		o2 := a.createOrder(keyA, webchatOrder("visitor-4"))
		a.pay(linkOf(o2), "pending", "reversed")
		o2 = a.waitOrder(keyA, o2["id"].(string), "paid", func(o map[string]any) bool { return o["status"] == "paid" })
		require.NoError(t, a.m.Sandbox.Wait(context.Background()))
		_, o2 = a.call(http.MethodGet, "/api/v1/orders/"+o2["id"].(string), keyA, nil)
		require.Equal(t, "paid", o2["status"], "a late pending event does not undo the payment")
		require.Len(t, o2["payments"], 1)
	})
}

func TestDuplicatePaymentIsRefunded(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-5"))
		id, link := o["id"].(string), linkOf(o)

		// Two tabs: both tap Pay now before either pays.
		start := func() string {
			res := a.postForm(link, url.Values{"gateway": {"sandbox"}})
			require.Equal(t, http.StatusSeeOther, res.StatusCode)
			return res.Header.Get("Location")
		}
		c1, c2 := start(), start()
		require.Equal(t, http.StatusSeeOther, a.postForm(c1, url.Values{"outcome": {"success"}}).StatusCode)
		a.waitOrder(keyA, id, "paid", func(o map[string]any) bool { return o["status"] == "paid" })
		require.Equal(t, http.StatusSeeOther, a.postForm(c2, url.Values{"outcome": {"success"}}).StatusCode)

		o = a.waitOrder(keyA, id, "duplicate refunded", func(o map[string]any) bool {
			ps, _ := o["payments"].([]any)
			if len(ps) != 2 {
				return false
			}
			dup := ps[1].(map[string]any)
			return dup["duplicate"] == true && dup["refunded_amount"] == dup["amount"]
		})
		require.Equal(t, "paid", o["status"])
		require.Equal(t, "paid", o["payment_status"], "the order's own payment stays whole")

		_, notices := a.call(http.MethodGet, "/api/v1/notices", keyA, nil)
		var found bool
		for _, n := range notices["notices"].([]any) {
			found = found || n.(map[string]any)["kind"] == "duplicate_payment"
		}
		require.True(t, found, "the owner is told about the duplicate: %v", notices)
	})
}

func TestReconcileSettlesUndeliveredWebhook(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-6"))
		id := o["id"].(string)
		a.pay(linkOf(o), "success", "none")
		_, o = a.call(http.MethodGet, "/api/v1/orders/"+id, keyA, nil)
		require.Equal(t, "awaiting_payment", o["status"], "the return page never marks anything paid")

		// The gateway never called back; reconciliation asks it once the attempt is
		// older than reconcile_after (1s in this config).
		require.Eventually(t, func() bool {
			n, err := a.m.Jobs.Reconcile(context.Background())
			require.NoError(t, err)
			return n == 1
		}, 10*time.Second, 100*time.Millisecond)
		a.waitOrder(keyA, id, "paid by reconciliation", func(o map[string]any) bool { return o["status"] == "paid" })
	})
}

func TestShipRefundCancel(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-7"))
		id, link := o["id"].(string), linkOf(o)
		ship := map[string]any{"carrier": "GHN", "tracking_number": "GHN123"}

		code, e := a.call(http.MethodPost, "/api/v1/orders/"+id+"/shipments", keyA, ship)
		require.Equal(t, http.StatusConflict, code)
		require.Equal(t, "payment_required", e["error"].(map[string]any)["code"])

		a.pay(link, "success", "normal")
		a.waitOrder(keyA, id, "paid", func(o map[string]any) bool { return o["status"] == "paid" })

		code, e = a.call(http.MethodPost, "/api/v1/orders/"+id+"/refunds", keyA, map[string]any{"amount": 400000})
		require.Equal(t, http.StatusUnprocessableEntity, code, "%v", e)
		code, r := a.call(http.MethodPost, "/api/v1/orders/"+id+"/refunds", keyA, map[string]any{"amount": 30000})
		require.Equal(t, http.StatusCreated, code, "%v", r)
		a.waitOrder(keyA, id, "partially refunded", func(o map[string]any) bool { return o["payment_status"] == "partially_refunded" })

		code, s := a.call(http.MethodPost, "/api/v1/orders/"+id+"/shipments", keyA, ship)
		require.Equal(t, http.StatusCreated, code, "%v", s)
		require.Equal(t, "GHN123", s["tracking_number"])
		ms := a.waitMessages(keyA, id, "shipped and refunded messages", func(ms []map[string]any) bool {
			return find(ms, "shipped") != nil && find(ms, "refunded") != nil && allSent(ms)
		})
		require.Contains(t, find(ms, "shipped")["text"], "GHN123")

		// The rest of the money back (amount omitted).
		code, r = a.call(http.MethodPost, "/api/v1/orders/"+id+"/refunds", keyA, map[string]any{})
		require.Equal(t, http.StatusCreated, code, "%v", r)
		require.EqualValues(t, 300000, r["amount"])
		a.waitOrder(keyA, id, "refunded", func(o map[string]any) bool { return o["payment_status"] == "refunded" })

		// Cancelling an unpaid order kills its link.
		o2 := a.createOrder(keyA, webchatOrder("visitor-7"))
		require.Equal(t, "1002", o2["code"])
		code, o2 = a.call(http.MethodPost, "/api/v1/orders/"+o2["id"].(string)+"/cancel", keyA, nil)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "cancelled", o2["status"])
		res, _ := a.get(linkOf(o2))
		require.Equal(t, http.StatusGone, res.StatusCode)
		require.Equal(t, http.StatusGone, a.postForm(linkOf(o2), url.Values{"gateway": {"sandbox"}}).StatusCode)
	})
}

func TestCashOnDeliveryShipsAtOnce(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		body := webchatOrder("visitor-8")
		body["payment_method"] = "cod"
		o := a.createOrder(keyA, body)
		require.Nil(t, o["payment_link"])
		code, s := a.call(http.MethodPost, "/api/v1/orders/"+o["id"].(string)+"/shipments", keyA,
			map[string]any{"carrier": "GHTK", "tracking_number": "T1"})
		require.Equal(t, http.StatusCreated, code, "%v", s)
	})
}

func TestTenantIsolationAndWebhookRouting(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-9"))
		id := o["id"].(string)
		for _, path := range []string{"", "/messages", "/cancel", "/resend-link", "/refunds", "/shipments"} {
			method := http.MethodGet
			if path == "/cancel" || path == "/resend-link" || path == "/shipments" || path == "/refunds" {
				method = http.MethodPost
			}
			var body any
			switch path {
			case "/shipments":
				body = map[string]any{"carrier": "x", "tracking_number": "y"}
			case "/refunds":
				body = map[string]any{"amount": 1}
			}
			code, e := a.call(method, "/api/v1/orders/"+id+path, keyB, body)
			require.Equal(t, http.StatusNotFound, code, "%s %s: %v", method, path, e)
		}
		_, list := a.call(http.MethodGet, "/api/v1/orders", keyB, nil)
		require.Empty(t, list["orders"])

		code, e := a.call(http.MethodGet, "/api/v1/orders", "", nil)
		require.Equal(t, http.StatusUnauthorized, code)
		require.Equal(t, "unauthorized", e["error"].(map[string]any)["code"])

		// A webhook signed with shop B's secret, sent to shop A's URL, is refused.
		res, err := a.client.Post(a.url+"/webhooks/sandbox/shop-a", "application/json", strings.NewReader(`{}`))
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		res, err = a.client.Post(a.url+"/webhooks/sandbox/no-such-shop", "application/json", strings.NewReader(`{}`))
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})
}

func TestOperations(t *testing.T) {
	t.Parallel()
	a := setup(t, "sqlite")
	o := a.createOrder(keyA, webchatOrder("visitor-ops"))
	a.pay(linkOf(o), "success", "normal")
	a.waitOrder(keyA, o["id"].(string), "paid", func(o map[string]any) bool { return o["status"] == "paid" })
	// The webhook handler counts its outcome after the transaction commits, so the
	// order can read as paid a moment before the counter moves.
	require.Eventually(t, func() bool {
		_, body := a.get(a.url + "/metrics")
		return strings.Contains(body, `chatpay_webhooks_total{gateway="sandbox",result="applied"} 1`)
	}, 10*time.Second, 10*time.Millisecond)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200} {
		res, body := a.get(a.url + path)
		require.Equal(t, want, res.StatusCode, path)
		if path == "/metrics" {
			require.Contains(t, body, `chatpay_webhooks_total{gateway="sandbox",result="applied"} 1`)
			require.Contains(t, body, `chatpay_payments_total{gateway="sandbox",result="succeeded"} 1`)
			require.Contains(t, body, "chatpay_time_to_pay_seconds_count 1")
			require.Contains(t, body, `chatpay_http_requests_total`)
		}
	}
}

// TestDemoDefaultsPersist starts chatpay twice on the embedded default config: the
// demo shop's API key is random, printed, and the same after a restart, and so is a
// payment link created before it.
func TestDemoDefaultsPersist(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := func(k string) (string, bool) {
		switch k {
		case "CHATPAY_DATABASE_URL":
			return "sqlite:" + filepath.Join(dir, "chatpay.db"), true
		case "CHATPAY_HTTP_ADDR":
			return "127.0.0.1:0", true
		}
		return "", false
	}
	start := func() (*Main, string) {
		cfg, err := configs.Load("", env)
		require.NoError(t, err)
		require.True(t, cfg.UsesDefaultShops())
		m := NewMain(cfg)
		var out bytes.Buffer
		m.Stdout = &out
		require.NoError(t, m.Open(context.Background()))
		return m, out.String()
	}
	m1, out1 := start()
	var key string
	for k, shop := range m1.APIKeys {
		if shop == "demo" {
			key = k
		}
	}
	require.NotEmpty(t, key)
	require.Contains(t, out1, key, "the demo key is printed at start-up")
	require.GreaterOrEqual(t, len(key), 32)
	o, err := m1.Service.CreateOrder(context.Background(), "demo", orderInput())
	require.NoError(t, err)
	link, err := m1.Service.LinkURL(o)
	require.NoError(t, err)
	require.NoError(t, m1.Close(context.Background()))

	m2, out2 := start()
	defer m2.Close(context.Background())
	require.Contains(t, out2, key, "the same key after a restart")
	got, err := m2.Service.OrderByToken(context.Background(), link[strings.LastIndex(link, "/")+1:])
	require.NoError(t, err)
	require.Equal(t, o.ID, got.ID, "links survive restarts")
}

func TestCommands(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	noEnv := func(string) (string, bool) { return "", false }
	require.NoError(t, Run(context.Background(), []string{"version"}, &out, &errOut, noEnv))
	require.True(t, strings.HasPrefix(out.String(), "chatpay "), out.String())

	dir := t.TempDir()
	env := func(k string) (string, bool) {
		if k == "CHATPAY_DATABASE_URL" {
			return "sqlite:" + filepath.Join(dir, "m.db"), true
		}
		return "", false
	}
	require.NoError(t, Run(context.Background(), []string{"migrate"}, &out, &errOut, env))
	_, err := os.Stat(filepath.Join(dir, "m.db"))
	require.NoError(t, err)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("http:\n  addr: 8080\n  bogus: 1\n"), 0o600))
	err = Run(context.Background(), []string{"--config", bad}, &out, &errOut, env)
	require.Error(t, err)
	require.Contains(t, err.Error(), "http.")
	require.NotContains(t, err.Error(), "\n", "one clear line")

	err = Run(context.Background(), []string{"frobnicate"}, &out, &errOut, env)
	require.ErrorContains(t, err, "unknown command")
}

func orderInput() orders.CreateOrderInput {
	return orders.CreateOrderInput{
		Customer: orders.Customer{Channel: "webchat", ExternalID: "visitor-demo", Name: "Lan"},
		Items:    []orders.Item{{Name: "Áo thun", Quantity: 1, UnitPrice: 150000}},
		Currency: "VND",
	}
}

// testWriter sends log lines to the test's log, so they show only for failing tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// testRedisURL returns the Redis the tests may use (see internal/redistest).
func testRedisURL(t *testing.T) string {
	t.Helper()
	redistest.Client(t)
	return redistest.URL()
}

func TestRedis(t *testing.T) {
	t.Parallel()
	redisURL := testRedisURL(t)
	dir := t.TempDir()
	start := func(redisURL string) (*Main, error) {
		cfg, err := configs.Load("", func(k string) (string, bool) {
			switch k {
			case "CHATPAY_DATABASE_URL":
				return "sqlite:" + filepath.Join(dir, "chatpay.db"), true
			case "CHATPAY_HTTP_ADDR":
				return "127.0.0.1:0", true
			case "CHATPAY_REDIS_URL":
				return redisURL, true
			}
			return "", false
		})
		require.NoError(t, err)
		m := NewMain(cfg)
		m.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
		return m, m.Open(context.Background())
	}

	m, err := start(redisURL)
	require.NoError(t, err)
	require.NotNil(t, m.Redis)
	res, err := http.Get(m.URL + "/readyz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NoError(t, m.Close(context.Background()))

	// A Redis that does not answer stops start-up with a line that says so.
	m, err = start("redis://127.0.0.1:1/0")
	require.ErrorContains(t, err, "redis at redis://127.0.0.1:1/0")
	require.NoError(t, m.Close(context.Background()))
}

func TestDeletedOrderLinkIsGone(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		o := a.createOrder(keyA, webchatOrder("visitor-10"))
		code, deleted := a.call(http.MethodDelete, "/api/v1/orders/"+o["id"].(string), keyA, nil)
		require.Equal(t, http.StatusOK, code, "%v", deleted)
		require.Equal(t, "deleted", deleted["status"])
		res, body := a.get(linkOf(o))
		require.Equal(t, http.StatusGone, res.StatusCode)
		require.Contains(t, body, "#1001")
		res, _ = a.get(a.url + "/pay/AAAAAAAAAAAAAAAAAAAAAA")
		require.Equal(t, http.StatusNotFound, res.StatusCode, "an unknown token is not found")
	})
}
