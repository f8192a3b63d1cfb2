package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// API keys of the test shops: shop-a sells in VND with Vietnamese pages, shop-b in THB
// with English pages, shop-c has a gateway that always fails.
const (
	keyA = "key-a-0123456789abcdef"
	keyB = "key-b-0123456789abcdef"
	keyC = "key-c-0123456789abcdef"
	// keyD's shop sells in THB with Thai pages through a sandbox gateway that shows
	// QR codes (qrGateway in qr_test.go).
	keyD = "key-d-0123456789abcdef"
)

// bundle is one test's chatpay: a real service on SQLite, the real templates and the
// sandbox gateway, served by a real HTTP server so that sandbox webhooks arrive.
type bundle struct {
	t       testing.TB
	engine  *gin.Engine
	svc     *orders.Service
	sandbox *sandbox.Engine
	qr      *qrGateway // shop-d's gateway
	// gateways is the server's registry, for tests that swap a shop's gateway
	// before their first request.
	gateways *gateway.Registry
	metrics  *prometheus.Registry
	logs     *lockedBuffer
	url      string
}

type setupOpts struct {
	ready func(context.Context) error
}

func setup(t testing.TB, opts ...func(*setupOpts)) *bundle {
	t.Helper()
	var o setupOpts
	for _, fn := range opts {
		fn(&o)
	}
	ctx := context.Background()
	ts := httptest.NewUnstartedServer(nil)
	b := &bundle{t: t, url: "http://" + ts.Listener.Addr().String(), logs: &lockedBuffer{}, metrics: prometheus.NewRegistry()}

	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	require.NoError(t, store.Migrate(ctx))

	pages, err := templates.New()
	require.NoError(t, err)
	b.svc, err = orders.NewService(orders.Config{
		Shops: []*orders.Shop{
			{ID: "shop-a", Name: "Shop A", Currency: "VND", Locale: "vi", SendPaidConfirmation: true, Gateways: []string{"sandbox"}},
			{ID: "shop-b", Name: "Shop B", Currency: "THB", Locale: "en", SendPaidConfirmation: true, Gateways: []string{"sandbox"}},
			{ID: "shop-c", Name: "Shop C", Currency: "USD", Locale: "en", Gateways: []string{"broken"}},
			{ID: "shop-d", Name: "Shop D", Currency: "THB", Locale: "th", Gateways: []string{"sandbox"}},
		},
		Store:     store,
		Renderer:  testRenderer{pages},
		PublicURL: b.url,
		LinkKey:   bytes.Repeat([]byte{7}, orders.LinkKeyLen),
	})
	require.NoError(t, err)

	b.sandbox = sandbox.New(sandbox.Options{
		PublicURL:  b.url,
		WebhookURL: func(shopID string) string { return b.url + "/test-webhooks/" + shopID },
		RetryBase:  10 * time.Millisecond,
		RetryMax:   100 * time.Millisecond,
	})
	reg := gateway.NewRegistry()
	reg.Add("shop-a", b.sandbox.Gateway("shop-a", "secret-a"))
	reg.Add("shop-b", b.sandbox.Gateway("shop-b", "secret-b"))
	reg.Add("shop-c", brokenGateway{})
	b.qr = &qrGateway{Gateway: b.sandbox.Gateway("shop-d", "secret-d"), engine: b.sandbox}
	reg.Add("shop-d", b.qr)
	b.gateways = reg

	ready := o.ready
	if ready == nil {
		ready = store.Ping
	}
	srv, err := New(Config{
		Service:    b.svc,
		Gateways:   reg,
		Sandbox:    b.sandbox,
		Pages:      pages,
		APIKeys:    map[string]string{keyA: "shop-a", keyB: "shop-b", keyC: "shop-c", keyD: "shop-d"},
		Ready:      ready,
		Gatherer:   b.metrics,
		Registerer: b.metrics,
		Logger:     slog.New(slog.NewTextHandler(b.logs, nil)),
	})
	require.NoError(t, err)
	b.engine = gin.New()
	srv.Register(b.engine)
	// A minimal webhook receiver standing in for package webhooks: verify, apply, 2xx.
	b.engine.POST("/test-webhooks/:shop", func(c *gin.Context) {
		body, _ := io.ReadAll(c.Request.Body)
		g, err := reg.Get(c.Param("shop"), "sandbox")
		if err != nil {
			c.Status(http.StatusNotFound)
			return
		}
		ev, err := g.ParseWebhook(c.Request.Header, body, time.Now())
		if err != nil {
			c.Status(http.StatusUnauthorized)
			return
		}
		ev.ShopID = c.Param("shop")
		if _, err := b.svc.ApplyEvent(c.Request.Context(), ev); err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Status(http.StatusOK)
	})
	ts.Config.Handler = b.engine
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(func() { require.NoError(t, b.sandbox.Close()) }) // runs before ts.Close
	return b
}

// lockedBuffer collects log output written from concurrent requests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testRenderer renders chat messages and notices with the real templates, as package
// bot does in production.
type testRenderer struct{ pages *templates.Templates }

func (r testRenderer) view(d orders.MessageData) templates.View {
	v := templates.View{Locale: d.Shop.Locale, ShopName: d.Shop.Name, LinkURL: d.LinkURL, Reason: d.Reason}
	if o := d.Order; o != nil {
		v.OrderCode, v.CustomerName, v.Status = o.Code, o.Customer.Name, o.Status
		v.Total = money(d.Shop, o.Currency, o.Total)
		v.Amount = money(d.Shop, o.Currency, max(d.Amount, o.Total))
	}
	if d.Shipment != nil {
		v.Carrier, v.TrackingNumber = d.Shipment.Carrier, d.Shipment.TrackingNumber
	}
	return v
}

func (r testRenderer) Message(kind string, d orders.MessageData) (string, []orders.Button, error) {
	text, buttons, err := r.pages.Message(kind, r.view(d))
	out := make([]orders.Button, 0, len(buttons))
	for _, b := range buttons {
		out = append(out, orders.Button{Label: b.Label, URL: b.URL})
	}
	return text, out, err
}

func (r testRenderer) Notice(kind string, d orders.MessageData) (string, error) {
	return r.pages.Notice(kind, r.view(d))
}

// brokenGateway fails to create sessions, like a gateway that is down.
type brokenGateway struct{ gateway.Gateway }

func (brokenGateway) Name() string { return "broken" }
func (brokenGateway) CreateSession(context.Context, gateway.SessionRequest) (*gateway.Session, error) {
	return nil, errors.New("dial tcp: connection refused")
}

// request serves one request through the engine.
func (b *bundle) request(method, path string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	b.t.Helper()
	req := httptest.NewRequest(method, path, body)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	b.engine.ServeHTTP(rec, req)
	return rec
}

// api calls the REST API with a shop's key ("" sends none).
func (b *bundle) api(method, path, key, body string) *httptest.ResponseRecorder {
	b.t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	return b.request(method, path, strings.NewReader(body), h)
}

// form posts a form as a same-origin browser would.
func (b *bundle) form(path string, values url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.request(http.MethodPost, path, strings.NewReader(values.Encode()), http.Header{
		"Content-Type":   {"application/x-www-form-urlencoded"},
		"Sec-Fetch-Site": {"same-origin"},
	})
}

func decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

// requireError checks an API error answer.
func requireError(t testing.TB, rec *httptest.ResponseRecorder, status int, code, field string) errorJSON {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	e := decode[errorBody](t, rec).Error
	require.Equal(t, code, e.Code, rec.Body.String())
	require.Equal(t, field, e.Field, rec.Body.String())
	require.NotEmpty(t, e.Message)
	return e
}

const orderBody = `{"customer": {"channel": "webchat", "external_id": "visitor-42", "name": "Lan"},
	"items": [{"name": "Áo thun", "quantity": 2, "unit_price": 150000}], "shipping_fee": 30000,
	"metadata": {"branch": "hcm"}}`

func (b *bundle) createOrder(key, body string) orderJSON {
	b.t.Helper()
	rec := b.api(http.MethodPost, "/api/v1/orders", key, body)
	require.Equal(b.t, http.StatusCreated, rec.Code, rec.Body.String())
	return decode[orderJSON](b.t, rec)
}

func (b *bundle) getOrder(key, id string) orderJSON {
	b.t.Helper()
	rec := b.api(http.MethodGet, "/api/v1/orders/"+id, key, "")
	require.Equal(b.t, http.StatusOK, rec.Code, rec.Body.String())
	return decode[orderJSON](b.t, rec)
}

func payPathOf(o orderJSON) string {
	u, _ := url.Parse(o.PaymentLink.URL)
	return u.Path
}

// startCheckout taps Pay now and returns the sandbox checkout path it redirects to.
func (b *bundle) startCheckout(o orderJSON) string {
	b.t.Helper()
	rec := b.form(payPathOf(o), nil)
	require.Equal(b.t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc := rec.Header().Get("Location")
	require.True(b.t, strings.HasPrefix(loc, b.url+"/sandbox/checkout/cs_sbx_"), loc)
	return strings.TrimPrefix(loc, b.url)
}

// checkout pays (or declines) an order through the sandbox and waits until its
// webhooks are applied.
func (b *bundle) checkout(o orderJSON, outcome string) {
	b.t.Helper()
	rec := b.form(b.startCheckout(o), url.Values{"outcome": {outcome}})
	require.Equal(b.t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.Equal(b.t, o.PaymentLink.URL, rec.Header().Get("Location"))
	require.NoError(b.t, b.sandbox.Wait(context.Background()))
}

func requirePageHeaders(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "style-src 'unsafe-inline'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		require.Contains(t, csp, d)
	}
}

func requirePage(t testing.TB, rec *httptest.ResponseRecorder, status int) string {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"), "pages are sent whole, not chunked")
	requirePageHeaders(t, rec)
	return rec.Body.String()
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, h := range []string{"", "Bearer", "Bearer wrong-key", "Basic " + keyA, "Bearer " + keyA + "x", keyA} {
		rec := b.request(http.MethodGet, "/api/v1/orders", nil, http.Header{"Authorization": {h}})
		requireError(t, rec, http.StatusUnauthorized, orders.EUNAUTHORIZED, "")
		require.Equal(t, `Bearer realm="chatpay"`, rec.Header().Get("WWW-Authenticate"))
	}
	rec := b.api(http.MethodPost, "/api/v1/orders", "", orderBody)
	requireError(t, rec, http.StatusUnauthorized, orders.EUNAUTHORIZED, "")

	rec = b.api(http.MethodGet, "/api/v1/orders", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"orders": []}`, rec.Body.String())
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	svc, err := orders.NewService(orders.Config{
		Shops:   []*orders.Shop{{ID: "s", Currency: "USD"}},
		LinkKey: make([]byte, orders.LinkKeyLen),
	})
	require.NoError(t, err)
	pages, err := templates.New()
	require.NoError(t, err)
	base := Config{Service: svc, Gateways: gateway.NewRegistry(), Pages: pages}

	_, err = New(base)
	require.NoError(t, err)
	cfg := base
	cfg.APIKeys = map[string]string{"k": "nope"}
	_, err = New(cfg)
	require.ErrorContains(t, err, `shop "nope"`)
	cfg.APIKeys = map[string]string{"": "s"}
	_, err = New(cfg)
	require.ErrorContains(t, err, "empty API key")
	cfg = base
	cfg.Pages = nil
	_, err = New(cfg)
	require.ErrorContains(t, err, "Pages")

	// Two servers may share a registry.
	reg := prometheus.NewRegistry()
	cfg = base
	cfg.Registerer, cfg.Gatherer = reg, reg
	_, err = New(cfg)
	require.NoError(t, err)
	_, err = New(cfg)
	require.NoError(t, err)
}

func TestCreateOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)

	rec := b.api(http.MethodPost, "/api/v1/orders", keyA, orderBody)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	// The wire shape, key by key, as API.md promises.
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
	for _, k := range []string{"id", "code", "status", "payment_status", "currency", "items", "shipping_fee", "total",
		"customer", "ship_on_payment", "metadata", "payment_method", "payment_link", "payments", "shipments",
		"created_at", "updated_at", "paid_at"} {
		require.Contains(t, raw, k)
	}
	require.JSONEq(t, `[]`, string(raw["payments"]))
	require.JSONEq(t, `[]`, string(raw["shipments"]))
	require.JSONEq(t, `null`, string(raw["paid_at"]))

	o := decode[orderJSON](t, rec)
	require.Equal(t, "1001", o.Code)
	require.Equal(t, orders.StatusAwaitingPayment, o.Status)
	require.Equal(t, orders.PaymentUnpaid, o.PaymentStatus)
	require.Equal(t, "VND", o.Currency) // the shop's currency by default
	require.Equal(t, []itemJSON{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000, Amount: 300000}}, o.Items)
	require.Equal(t, int64(30000), o.ShippingFee)
	require.Equal(t, int64(330000), o.Total)
	require.Equal(t, customerJSON{Channel: "webchat", ExternalID: "visitor-42", Name: "Lan"}, o.Customer)
	require.Equal(t, map[string]string{"branch": "hcm"}, o.Metadata)
	require.Equal(t, orders.MethodOnline, o.PaymentMethod)
	require.NotNil(t, o.PaymentLink)
	require.True(t, o.PaymentLink.Active)
	require.Regexp(t, `^`+b.url+`/pay/[A-Za-z0-9_-]{22}$`, o.PaymentLink.URL)
	require.WithinDuration(t, time.Now(), o.CreatedAt, time.Minute)
	require.Equal(t, o, b.getOrder(keyA, o.ID))

	// The order card is queued to the customer's conversation with the link.
	rec = b.api(http.MethodGet, "/api/v1/orders/"+o.ID+"/messages", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	msgs := decode[struct{ Messages []messageJSON }](t, rec).Messages
	require.Len(t, msgs, 1)
	require.Equal(t, orders.KindOrderCard, msgs[0].Kind)
	require.Equal(t, orders.DirectionOut, msgs[0].Direction)
	require.Equal(t, orders.MessageQueued, msgs[0].Status)
	require.Contains(t, msgs[0].Text, "#1001")
	require.Len(t, msgs[0].Buttons, 1)
	require.Equal(t, o.PaymentLink.URL, msgs[0].Buttons[0].URL)
	require.Nil(t, msgs[0].SentAt)

	// Cash on delivery: no link at all.
	cod := b.createOrder(keyA, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 50000}], "payment_method": "cod", "currency": "vnd"}`)
	require.Equal(t, "1002", cod.Code)
	require.Equal(t, "VND", cod.Currency)
	require.Nil(t, cod.PaymentLink)
	rec = b.api(http.MethodGet, "/api/v1/orders/"+cod.ID, keyA, "")
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
	require.JSONEq(t, `null`, string(raw["payment_link"]))
}

func TestCreateOrderInvalid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name, body    string
		status        int
		field, needle string
	}{
		{"UnknownField", `{"foo": 1, "items": [{"name": "a", "quantity": 1, "unit_price": 1}]}`, 400, "foo", `unknown field \"foo\"`},
		{"TrailingData", `{"items": [{"name": "a", "quantity": 1, "unit_price": 1}]} {"x": 1}`, 400, "", "unexpected data after the JSON object"},
		{"WrongType", `{"items": [{"name": "a", "quantity": "1", "unit_price": 1}]}`, 400, "items[0].quantity", "must be an integer"},
		{"InvalidJSON", `{"items": [`, 400, "", "Invalid JSON at offset 11"},
		{"NegativeQuantity", `{"items": [{"name": "a", "quantity": -2, "unit_price": 1}]}`, 400, "items[0].quantity", "must be between 1 and"},
		{"ZeroQuantity", `{"items": [{"name": "a", "unit_price": 1}]}`, 400, "items[0].quantity", "must be between 1 and"},
		{"LineOverflow", `{"items": [{"name": "a", "quantity": 1000000, "unit_price": 1000000000000000}]}`, 400, "items[0]", "exceeds the largest amount"},
		{"TotalOverflow", `{"items": [{"name": "a", "quantity": 1, "unit_price": 1000000000000000}], "shipping_fee": 1}`, 400, "shipping_fee", "exceeds the largest amount"},
		{"Int64Overflow", `{"items": [{"name": "a", "quantity": 1, "unit_price": 9223372036854775808}]}`, 400, "items[0].unit_price", "must be an integer"},
		{"UnknownCurrency", `{"currency": "XYZ", "items": [{"name": "a", "quantity": 1, "unit_price": 1}]}`, 400, "currency", "unknown currency"},
		{"NoItems", `{"items": []}`, 400, "items", "at least one item"},
		{"BadChannel", `{"customer": {"channel": "sms", "external_id": "1"}, "items": [{"name": "a", "quantity": 1, "unit_price": 1}]}`, 400, "customer.channel", "must be webchat"},
		{"TelegramIDNotNumber", `{"customer": {"channel": "telegram", "external_id": "bob"}, "items": [{"name": "a", "quantity": 1, "unit_price": 1}]}`, 400, "customer.external_id", "Telegram chat id"},
		{"BadPaymentMethod", `{"payment_method": "card", "items": [{"name": "a", "quantity": 1, "unit_price": 1}]}`, 400, "payment_method", "must be"},
		{"TooLarge", `{"items": [{"name": "` + strings.Repeat("a", maxBody) + `"}]}`, 413, "", "larger than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := b.api(http.MethodPost, "/api/v1/orders", keyA, tc.body)
			e := requireError(t, rec, tc.status, orders.EINVALID, tc.field)
			raw, _ := json.Marshal(e.Message)
			require.Contains(t, string(raw), tc.needle)
			if tc.field != "" {
				require.True(t, strings.HasPrefix(e.Message, tc.field+": "), e.Message)
			}
		})
	}
	// Nothing was created by any of them.
	rec := b.api(http.MethodGet, "/api/v1/orders", keyA, "")
	require.JSONEq(t, `{"orders": []}`, rec.Body.String())
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(keyA, orderBody)
	b.createOrder(keyB, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}]}`)

	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "", ""},
		{http.MethodDelete, "", ""},
		{http.MethodPost, "/cancel", ""},
		{http.MethodPost, "/complete", ""},
		{http.MethodPost, "/resend-link", ""},
		{http.MethodPost, "/shipments", `{"carrier": "GHN", "tracking_number": "1"}`},
		{http.MethodPost, "/refunds", `{"amount": 1}`},
		{http.MethodGet, "/refunds", ""},
		{http.MethodGet, "/messages", ""},
	} {
		rec := b.api(r.method, "/api/v1/orders/"+o.ID+r.path, keyB, r.body)
		requireError(t, rec, http.StatusNotFound, orders.ENOTFOUND, "")
	}
	rec := b.api(http.MethodGet, "/api/v1/orders", keyB, "")
	list := decode[listOrdersResponse](t, rec)
	require.Len(t, list.Orders, 1)
	require.NotEqual(t, o.ID, list.Orders[0].ID)

	// Shop A's order is untouched.
	require.Equal(t, orders.StatusAwaitingPayment, b.getOrder(keyA, o.ID).Status)

	// Malformed and unknown ids are simply not found.
	for _, id := range []string{"nope", "' OR 1=1 --", orders.NewID()} {
		rec := b.api(http.MethodGet, "/api/v1/orders/"+url.PathEscape(id), keyA, "")
		requireError(t, rec, http.StatusNotFound, orders.ENOTFOUND, "")
	}
}

func TestListOrders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var created []string
	for range 45 {
		created = append(created, b.createOrder(keyB, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}]}`).ID)
	}

	// Page through everything: newest first, 20 + 20 + 5, no repeats.
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		path := "/api/v1/orders?limit=20"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		rec := b.api(http.MethodGet, path, keyB, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		list := decode[listOrdersResponse](t, rec)
		for _, o := range list.Orders {
			seen = append(seen, o.ID)
		}
		if page < 2 {
			require.Len(t, list.Orders, 20)
			require.NotEmpty(t, list.NextCursor)
		} else {
			require.Len(t, list.Orders, 5)
			require.Empty(t, list.NextCursor)
			require.NotContains(t, rec.Body.String(), "next_cursor")
			break
		}
		cursor = list.NextCursor
	}
	want := make([]string, len(created))
	for i, id := range created {
		want[len(created)-1-i] = id
	}
	require.Equal(t, want, seen)

	// The default page size is 20; a page that ends exactly at the last order has no
	// next cursor.
	rec := b.api(http.MethodGet, "/api/v1/orders", keyB, "")
	require.Len(t, decode[listOrdersResponse](t, rec).Orders, 20)
	rec = b.api(http.MethodGet, "/api/v1/orders?limit=100", keyB, "")
	list := decode[listOrdersResponse](t, rec)
	require.Len(t, list.Orders, 45)
	require.Empty(t, list.NextCursor)

	// Deleted orders leave the default listing (across page boundaries too) but can be
	// asked for; cancelled ones are filtered by status.
	for _, id := range created[40:44] {
		rec := b.api(http.MethodDelete, "/api/v1/orders/"+id, keyB, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, orders.StatusDeleted, decode[orderJSON](t, rec).Status)
	}
	rec = b.api(http.MethodPost, "/api/v1/orders/"+created[0]+"/cancel", keyB, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	rec = b.api(http.MethodGet, "/api/v1/orders?limit=2", keyB, "")
	list = decode[listOrdersResponse](t, rec)
	require.Equal(t, []string{created[44], created[39]}, []string{list.Orders[0].ID, list.Orders[1].ID})
	rec = b.api(http.MethodGet, "/api/v1/orders?limit=2&cursor="+list.NextCursor, keyB, "")
	list = decode[listOrdersResponse](t, rec)
	require.Equal(t, []string{created[38], created[37]}, []string{list.Orders[0].ID, list.Orders[1].ID})

	rec = b.api(http.MethodGet, "/api/v1/orders?limit=100", keyB, "")
	require.Len(t, decode[listOrdersResponse](t, rec).Orders, 41)
	rec = b.api(http.MethodGet, "/api/v1/orders?status=deleted", keyB, "")
	require.Len(t, decode[listOrdersResponse](t, rec).Orders, 4)
	rec = b.api(http.MethodGet, "/api/v1/orders?status=cancelled", keyB, "")
	list = decode[listOrdersResponse](t, rec)
	require.Len(t, list.Orders, 1)
	require.Equal(t, created[0], list.Orders[0].ID)
	require.False(t, list.Orders[0].PaymentLink.Active)
	rec = b.api(http.MethodGet, "/api/v1/orders?payment_status=paid", keyB, "")
	require.JSONEq(t, `{"orders": []}`, rec.Body.String())
	rec = b.api(http.MethodGet, "/api/v1/orders?status=awaiting_payment&payment_status=unpaid&limit=100", keyB, "")
	require.Len(t, decode[listOrdersResponse](t, rec).Orders, 40)

	for _, tc := range []struct{ query, field string }{
		{"status=lost", "status"},
		{"payment_status=maybe", "payment_status"},
		{"limit=0", "limit"},
		{"limit=101", "limit"},
		{"limit=ten", "limit"},
		{"cursor=%21%21%21", "cursor"},
		{"cursor=" + encodeCursor("not-an-order-id"), "cursor"},
	} {
		rec := b.api(http.MethodGet, "/api/v1/orders?"+tc.query, keyB, "")
		requireError(t, rec, http.StatusBadRequest, orders.EINVALID, tc.field)
	}
}

func TestOrderLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(keyA, orderBody)
	base := "/api/v1/orders/" + o.ID

	// Nothing ships, completes or refunds before payment.
	requireError(t, b.api(http.MethodPost, base+"/shipments", keyA, `{"carrier": "GHN", "tracking_number": "GHN123"}`),
		http.StatusConflict, orders.EPAYMENTREQUIRED, "")
	requireError(t, b.api(http.MethodPost, base+"/refunds", keyA, `{"amount": 1000}`),
		http.StatusConflict, orders.EPAYMENTREQUIRED, "")
	requireError(t, b.api(http.MethodPost, base+"/complete", keyA, ""), http.StatusConflict, orders.ECONFLICT, "")

	b.checkout(o, "success")
	paid := b.getOrder(keyA, o.ID)
	require.Equal(t, orders.StatusPaid, paid.Status)
	require.Equal(t, orders.PaymentPaid, paid.PaymentStatus)
	require.NotNil(t, paid.PaidAt)
	require.False(t, paid.PaymentLink.Active)
	require.Len(t, paid.Payments, 1)
	require.Equal(t, "sandbox", paid.Payments[0].Gateway)
	require.Equal(t, orders.PaymentStatusSucceeded, paid.Payments[0].Status)
	require.Equal(t, int64(330000), paid.Payments[0].Amount)
	require.False(t, paid.Payments[0].Duplicate)
	requireError(t, b.api(http.MethodPost, base+"/resend-link", keyA, ""), http.StatusConflict, orders.ECONFLICT, "")

	// Shipment body validation, then a shipment.
	requireError(t, b.api(http.MethodPost, base+"/shipments", keyA, `{"carrier": ""}`), http.StatusBadRequest, orders.EINVALID, "carrier")
	requireError(t, b.api(http.MethodPost, base+"/shipments", keyA, `{"carrier": "GHN", "tracking": "1"}`), http.StatusBadRequest, orders.EINVALID, "tracking")
	rec := b.api(http.MethodPost, base+"/shipments", keyA, `{"carrier": "GHN", "tracking_number": "GHN123"}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	sh := decode[shipmentJSON](t, rec)
	require.Equal(t, "GHN", sh.Carrier)
	require.Equal(t, "GHN123", sh.TrackingNumber)
	require.Equal(t, o.ID, sh.OrderID)
	shipped := b.getOrder(keyA, o.ID)
	require.Equal(t, orders.StatusShipped, shipped.Status)
	require.Equal(t, []shipmentJSON{sh}, shipped.Shipments)

	rec = b.api(http.MethodPost, base+"/complete", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, orders.StatusCompleted, decode[orderJSON](t, rec).Status)
	requireError(t, b.api(http.MethodPost, base+"/cancel", keyA, ""), http.StatusConflict, orders.ECONFLICT, "")
	requireError(t, b.api(http.MethodDelete, base, keyA, ""), http.StatusConflict, orders.ECONFLICT, "")

	// Refunds: past the refundable amount is 422; a part, then the rest.
	requireError(t, b.api(http.MethodPost, base+"/refunds", keyA, `{"amount": 330001}`), http.StatusUnprocessableEntity, orders.EINVALID, "amount")
	requireError(t, b.api(http.MethodPost, base+"/refunds", keyA, `{"amount": -5}`), http.StatusUnprocessableEntity, orders.EINVALID, "amount")
	requireError(t, b.api(http.MethodPost, base+"/refunds", keyA, `{"amount": "5"}`), http.StatusBadRequest, orders.EINVALID, "amount")
	requireError(t, b.api(http.MethodPost, base+"/refunds", keyA, `{"amount": 5, "why": "x"}`), http.StatusBadRequest, orders.EINVALID, "why")
	rec = b.api(http.MethodPost, base+"/refunds", keyA, `{"amount": 30000}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	r1 := decode[refundJSON](t, rec)
	require.Equal(t, int64(30000), r1.Amount)
	require.Equal(t, "VND", r1.Currency)
	require.Equal(t, orders.RefundPending, r1.Status)
	require.Equal(t, orders.RefundReasonRequested, r1.Reason)
	require.Equal(t, paid.Payments[0].ID, r1.PaymentID)
	rec = b.api(http.MethodPost, base+"/refunds", keyA, "")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	r2 := decode[refundJSON](t, rec)
	require.Equal(t, int64(300000), r2.Amount)
	requireError(t, b.api(http.MethodPost, base+"/refunds", keyA, `{}`), http.StatusUnprocessableEntity, orders.EINVALID, "amount")

	rec = b.api(http.MethodGet, base+"/refunds", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, []refundJSON{r1, r2}, decode[struct{ Refunds []refundJSON }](t, rec).Refunds)

	// Every chat message about the order, oldest first.
	rec = b.api(http.MethodGet, base+"/messages", keyA, "")
	msgs := decode[struct{ Messages []messageJSON }](t, rec).Messages
	var kinds []string
	for _, m := range msgs {
		kinds = append(kinds, m.Kind)
	}
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation, orders.KindShipped}, kinds)
	require.Equal(t, "Bạn đã thanh toán cho đơn hàng #1001 thành công.", msgs[1].Text)
	require.Contains(t, msgs[2].Text, "GHN123")

	// The owner was told.
	rec = b.api(http.MethodGet, "/api/v1/notices", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code)
	notices := decode[struct{ Notices []noticeJSON }](t, rec).Notices
	require.Len(t, notices, 1)
	require.Equal(t, orders.NoticePaid, notices[0].Kind)
	require.Equal(t, o.ID, notices[0].OrderID)
	requireError(t, b.api(http.MethodGet, "/api/v1/notices?limit=500", keyA, ""), http.StatusBadRequest, orders.EINVALID, "limit")
	rec = b.api(http.MethodGet, "/api/v1/notices", keyB, "")
	require.JSONEq(t, `{"notices": []}`, rec.Body.String())
}

func TestCancelDeleteResend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	withChat := b.createOrder(keyA, orderBody)
	linkOnly := b.createOrder(keyA, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 50000}]}`)

	rec := b.api(http.MethodPost, "/api/v1/orders/"+withChat.ID+"/resend-link", keyA, "")
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"queued": true}`, rec.Body.String())
	rec = b.api(http.MethodGet, "/api/v1/orders/"+withChat.ID+"/messages", keyA, "")
	require.Len(t, decode[struct{ Messages []messageJSON }](t, rec).Messages, 2)
	requireError(t, b.api(http.MethodPost, "/api/v1/orders/"+linkOnly.ID+"/resend-link", keyA, ""), http.StatusConflict, orders.ECONFLICT, "")

	rec = b.api(http.MethodPost, "/api/v1/orders/"+withChat.ID+"/cancel", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	cancelled := decode[orderJSON](t, rec)
	require.Equal(t, orders.StatusCancelled, cancelled.Status)
	require.False(t, cancelled.PaymentLink.Active)
	require.Equal(t, withChat.PaymentLink.URL, cancelled.PaymentLink.URL)
	requireError(t, b.api(http.MethodPost, "/api/v1/orders/"+withChat.ID+"/cancel", keyA, ""), http.StatusConflict, orders.ECONFLICT, "")
	requirePage(t, b.request(http.MethodGet, payPathOf(withChat), nil, nil), http.StatusGone)
	requirePage(t, b.form(payPathOf(withChat), nil), http.StatusGone)

	rec = b.api(http.MethodDelete, "/api/v1/orders/"+linkOnly.ID, keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, orders.StatusDeleted, decode[orderJSON](t, rec).Status)
	requireError(t, b.api(http.MethodDelete, "/api/v1/orders/"+linkOnly.ID, keyA, ""), http.StatusConflict, orders.ECONFLICT, "")
	requirePage(t, b.request(http.MethodGet, payPathOf(linkOnly), nil, nil), http.StatusGone)

	// Cash on delivery ships at once and counts as paid when completed.
	cod := b.createOrder(keyA, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 50000}], "payment_method": "cod"}`)
	rec = b.api(http.MethodPost, "/api/v1/orders/"+cod.ID+"/shipments", keyA, `{"carrier": "GHN"}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	rec = b.api(http.MethodPost, "/api/v1/orders/"+cod.ID+"/complete", keyA, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	done := decode[orderJSON](t, rec)
	require.Equal(t, orders.StatusCompleted, done.Status)
	require.Equal(t, orders.PaymentPaid, done.PaymentStatus)
}

func TestPayPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.createOrder(keyA, orderBody)
	en := b.createOrder(keyB, `{"items": [{"name": "Green tea", "quantity": 3, "unit_price": 41150}], "shipping_fee": 0}`)

	// Awaiting payment: the order, its total in the shop's locale, and Pay now.
	body := requirePage(t, b.request(http.MethodGet, payPathOf(a), nil, nil), http.StatusOK)
	require.Contains(t, body, "Áo thun")
	require.Contains(t, body, "330.000 ₫")
	require.Contains(t, body, `<form method="post" action="`+payPathOf(a)+`">`)
	require.Contains(t, body, `name="gateway" value="sandbox"`)
	require.Contains(t, body, `lang="vi"`)

	body = requirePage(t, b.request(http.MethodGet, payPathOf(en), nil, nil), http.StatusOK)
	require.Contains(t, body, "฿1,234.50")
	require.Contains(t, body, "Pay now")
	require.NotContains(t, body, "confirming your payment")

	// Unknown and malformed tokens.
	requirePage(t, b.request(http.MethodGet, "/pay/"+orders.NewLinkToken(), nil, nil), http.StatusNotFound)
	requirePage(t, b.request(http.MethodGet, "/pay/nope", nil, nil), http.StatusNotFound)
	requirePage(t, b.form("/pay/"+orders.NewLinkToken(), nil), http.StatusNotFound)

	// A declined attempt offers Pay again with the reason.
	b.checkout(en, "decline")
	body = requirePage(t, b.request(http.MethodGet, payPathOf(en), nil, nil), http.StatusOK)
	require.Contains(t, body, "card_declined")
	require.Contains(t, body, "Pay again")

	// The customer is back from the gateway before its webhook: the page asks the
	// gateway and shows the payment as being confirmed, without recording anything.
	rec := b.form(b.startCheckout(en), url.Values{"outcome": {"success"}, "deliver": {"none"}})
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	body = requirePage(t, b.request(http.MethodGet, payPathOf(en), nil, nil), http.StatusOK)
	require.Contains(t, body, "confirming your payment")
	require.Equal(t, orders.StatusAwaitingPayment, b.getOrder(keyB, en.ID).Status)

	// A pending attempt, as the gateway's webhook reported it.
	checkout := b.startCheckout(en)
	sessionID := strings.TrimPrefix(checkout, "/sandbox/checkout/")
	_, err := b.svc.ApplyEvent(context.Background(), &orders.GatewayEvent{
		ShopID: "shop-b", Gateway: "sandbox", EventID: "evt_pending", Type: orders.EventPending,
		SessionID: sessionID, Amount: en.Total, Currency: en.Currency,
	})
	require.NoError(t, err)
	body = requirePage(t, b.request(http.MethodGet, payPathOf(en), nil, nil), http.StatusOK)
	require.Contains(t, body, "confirming your payment")

	// Paid: the paid page, and Pay now only leads back to it.
	b.checkout(a, "success")
	body = requirePage(t, b.request(http.MethodGet, payPathOf(a), nil, nil), http.StatusOK)
	require.Contains(t, body, "#1001")
	require.Contains(t, body, "330.000 ₫")
	require.NotContains(t, body, "<form")
	rec = b.form(payPathOf(a), nil)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, payPathOf(a), rec.Header().Get("Location"))
}

func TestPayCreatesFreshSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(keyB, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}]}`)

	first, second := b.startCheckout(o), b.startCheckout(o)
	require.NotEqual(t, first, second)

	// Both sessions are for the stored total, and the newest attempt holds the second.
	for _, p := range []string{first, second} {
		v, err := b.sandbox.Checkout(strings.TrimPrefix(p, "/sandbox/checkout/"))
		require.NoError(t, err)
		require.Equal(t, int64(5000), v.Amount)
		require.Equal(t, "THB", v.Currency)
		require.Equal(t, o.PaymentLink.URL, v.ReturnURL)
	}
	a, err := b.svc.Store().LatestAttempt(context.Background(), "shop-b", o.ID)
	require.NoError(t, err)
	require.Equal(t, "/sandbox/checkout/"+a.SessionID, second)
	require.Equal(t, orders.AttemptCreated, a.Status)

	// A gateway that is not enabled is refused, naming the field.
	rec := b.form(payPathOf(o), url.Values{"gateway": {"stripe"}})
	body := requirePage(t, rec, http.StatusBadRequest)
	require.Contains(t, body, "gateway: choose one of: sandbox")
}

func TestPayGatewayDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(keyC, `{"items": [{"name": "Mug", "quantity": 1, "unit_price": 1200}]}`)
	rec := b.form(payPathOf(o), nil)
	body := requirePage(t, rec, http.StatusBadGateway)
	require.Contains(t, body, "Something went wrong")
	require.NotContains(t, body, "connection refused")

	a, err := b.svc.Store().LatestAttempt(context.Background(), "shop-c", o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.AttemptCreated, a.Status)
	require.Empty(t, a.SessionID)
	require.Contains(t, b.logs.String(), "connection refused")
}

func TestCrossOriginPostsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(keyB, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}]}`)
	checkout := b.startCheckout(o)

	for _, path := range []string{payPathOf(o), checkout} {
		for _, h := range []http.Header{
			{"Sec-Fetch-Site": {"cross-site"}},
			{"Sec-Fetch-Site": {"same-site"}},
			{"Origin": {"https://evil.example"}},
		} {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := b.request(http.MethodPost, path, strings.NewReader("outcome=success"), h)
			requirePage(t, rec, http.StatusForbidden)
		}
	}
	// Nothing happened: still one attempt, still open at the gateway.
	v, err := b.sandbox.Checkout(strings.TrimPrefix(checkout, "/sandbox/checkout/"))
	require.NoError(t, err)
	require.Equal(t, sandbox.StatusOpen, v.Status)

	// Same-origin and non-browser posts pass.
	rec := b.request(http.MethodPost, payPathOf(o), nil, http.Header{"Origin": {"http://example.com"}})
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String()) // httptest requests are for example.com
	rec = b.request(http.MethodPost, payPathOf(o), nil, nil)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
}

func TestSandboxCheckout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(keyB, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 123450}]}`)
	checkout := b.startCheckout(o)

	body := requirePage(t, b.request(http.MethodGet, checkout, nil, nil), http.StatusOK)
	require.Contains(t, body, "฿1,234.50")
	require.Contains(t, body, `action="`+checkout+`"`)

	requirePage(t, b.request(http.MethodGet, "/sandbox/checkout/cs_sbx_unknown", nil, nil), http.StatusNotFound)
	requirePage(t, b.form("/sandbox/checkout/cs_sbx_unknown", url.Values{"outcome": {"success"}}), http.StatusNotFound)
	body = requirePage(t, b.form(checkout, url.Values{"outcome": {"maybe"}}), http.StatusBadRequest)
	require.Contains(t, body, "outcome: must be")
	body = requirePage(t, b.form(checkout, nil), http.StatusBadRequest)
	require.Contains(t, body, "outcome: must be")
	body = requirePage(t, b.form(checkout, url.Values{"outcome": {"success"}, "deliver": {"carrier-pigeon"}}), http.StatusBadRequest)
	require.Contains(t, body, "deliver: must be")

	rec := b.form(checkout, url.Values{"outcome": {"success"}})
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.Equal(t, o.PaymentLink.URL, rec.Header().Get("Location"))
	requirePage(t, b.form(checkout, url.Values{"outcome": {"success"}}), http.StatusConflict)
	require.NoError(t, b.sandbox.Wait(context.Background()))
	require.Equal(t, orders.StatusPaid, b.getOrder(keyB, o.ID).Status)
}

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := b.request(http.MethodGet, "/healthz", nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"status": "ok"}`, rec.Body.String())
	rec = b.request(http.MethodGet, "/readyz", nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"status": "ok"}`, rec.Body.String())
	require.Equal(t, http.StatusOK, b.request(http.MethodHead, "/healthz", nil, nil).Code)
	require.Equal(t, http.StatusOK, b.request(http.MethodHead, "/readyz", nil, nil).Code)

	down := setup(t, func(o *setupOpts) {
		o.ready = func(context.Context) error {
			return errors.New("database: dial tcp 10.0.0.5:5432: connection refused (user=chatpay)")
		}
	})
	rec = down.request(http.MethodGet, "/readyz", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.JSONEq(t, `{"status": "unavailable", "reason": "database"}`, rec.Body.String())
	require.NotContains(t, rec.Body.String(), "10.0.0.5", "the public probe names the dependency, not its address")

	// Pay tokens stay out of metrics and logs: both name the route, not the path.
	o := b.createOrder(keyB, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}]}`)
	token := strings.TrimPrefix(payPathOf(o), "/pay/")
	requirePage(t, b.request(http.MethodGet, payPathOf(o), nil, nil), http.StatusOK)
	requirePage(t, b.request(http.MethodGet, "/pay/"+orders.NewLinkToken(), nil, nil), http.StatusNotFound)
	checkout := b.startCheckout(o)
	requirePage(t, b.request(http.MethodGet, checkout, nil, nil), http.StatusOK)

	rec = b.request(http.MethodGet, "/metrics", nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	metrics := rec.Body.String()
	require.Contains(t, metrics, `chatpay_http_requests_total{code="200",route="/pay/:token"} 1`)
	require.Contains(t, metrics, `chatpay_http_requests_total{code="404",route="/pay/:token"} 1`)
	require.Contains(t, metrics, `chatpay_http_requests_total{code="303",route="/pay/:token"} 1`)
	require.Contains(t, metrics, `chatpay_http_requests_total{code="201",route="/api/v1/orders"} 1`)
	require.Contains(t, metrics, `chatpay_http_request_duration_seconds_count{route="/sandbox/checkout/:session"} 1`)
	require.NotContains(t, metrics, token)
	require.NotContains(t, metrics, checkout)

	logs := b.logs.String()
	require.Contains(t, logs, `route=/pay/:token status=200`)
	require.NotContains(t, logs, token)
	require.NotContains(t, logs, checkout)
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := b.api(http.MethodGet, "/api/v1/nothing", keyA, "")
	requireError(t, rec, http.StatusNotFound, orders.ENOTFOUND, "")
	rec = b.api(http.MethodGet, "/api", "", "")
	requireError(t, rec, http.StatusNotFound, orders.ENOTFOUND, "")
	requirePage(t, b.request(http.MethodGet, "/nothing", nil, nil), http.StatusNotFound)

	rec = b.api(http.MethodPut, "/api/v1/orders", keyA, "")
	requireError(t, rec, http.StatusMethodNotAllowed, orders.EINVALID, "")
	require.Equal(t, "GET, POST", rec.Header().Get("Allow"))
	rec = b.request(http.MethodDelete, "/pay/"+orders.NewLinkToken(), nil, nil)
	requirePage(t, rec, http.StatusMethodNotAllowed)
	require.Equal(t, "GET, POST", rec.Header().Get("Allow"))
}

// BenchmarkPayPage measures GET /pay/{token} through the gin engine: token lookup on
// SQLite, the latest attempt, and rendering the page.
func BenchmarkPayPage(b *testing.B) {
	bb := setup(b)
	o := bb.createOrder(keyA, orderBody)
	path := payPathOf(o)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			rec := httptest.NewRecorder()
			bb.engine.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}

func TestPayFormBodyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := "gateway=sandbox&pad=" + strings.Repeat("x", maxFormBytes)
	res, err := http.Post(b.url+"/pay/AAAAAAAAAAAAAAAAAAAAAA", "application/x-www-form-urlencoded", strings.NewReader(body))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
}
