package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
)

// qrGateway is the sandbox gateway with QR codes, as Omise's PromptPay has them: an
// open session's code is an image on another origin; a settled session has none.
type qrGateway struct {
	gateway.Gateway
	engine *sandbox.Engine

	mu    sync.Mutex
	image string // replaces the image URL when set
	extra int64  // added to the code's amount
}

var qrExpiry = time.Date(2026, 11, 25, 7, 10, 0, 0, time.UTC)

func (g *qrGateway) SessionQRCode(_ context.Context, sessionID string) (*gateway.QRCode, error) {
	v, err := g.engine.Checkout(sessionID)
	if err != nil {
		return nil, err
	}
	if v.Status != sandbox.StatusOpen {
		return nil, orders.Errorf(orders.EGONE, "Session %s is %s.", sessionID, v.Status)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	image := g.image
	if image == "" {
		image = "https://qr.example:8443/qr/" + sessionID + ".png"
	}
	return &gateway.QRCode{ImageURL: image, Amount: v.Amount + g.extra, Currency: v.Currency, ExpiresAt: qrExpiry}, nil
}

func (g *qrGateway) set(image string, extra int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.image, g.extra = image, extra
}

// payStatusOf polls a link's status endpoint and returns its status and answer.
func (b *bundle) payStatusOf(path string) (int, map[string]any) {
	b.t.Helper()
	rec := b.request(http.MethodGet, path+"/status", nil, nil)
	require.Equal(b.t, "no-store", rec.Header().Get("Cache-Control"))
	require.Equal(b.t, "no-referrer", rec.Header().Get("Referrer-Policy"))
	var v map[string]any
	require.NoError(b.t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return rec.Code, v
}

var scriptNonce = regexp.MustCompile(`<script nonce="([^"]+)">`)

// TestQRPayPage: Pay now with a QR gateway comes back to the link, which shows the QR
// code (image from the gateway's origin, allowed by the CSP for that origin alone), the
// amount and expiry, and a script with a fresh nonce; once paid the link shows the
// paid page and the status endpoint says paid.
func TestQRPayPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(keyD, `{"items": [{"name": "ชาเขียว", "quantity": 2, "unit_price": 12550}]}`)
	link := payPathOf(o)

	body := requirePage(t, b.request(http.MethodGet, link, nil, nil), http.StatusOK)
	require.Contains(t, body, "<form", "no attempt yet: Pay now")
	code, st := b.payStatusOf(link)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"status": "awaiting_payment"}, st, "nothing but the status")

	rec := b.form(link, nil)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.Equal(t, link, rec.Header().Get("Location"), "a QR session is paid on the link itself")
	a, err := b.svc.Store().LatestAttempt(context.Background(), "shop-d", o.ID)
	require.NoError(t, err)

	qrPage := func() (string, string) {
		t.Helper()
		rec := b.request(http.MethodGet, link, nil, nil)
		body := requirePage(t, rec, http.StatusOK)
		m := scriptNonce.FindStringSubmatch(body)
		require.NotNil(t, m, body)
		csp := rec.Header().Get("Content-Security-Policy")
		require.Contains(t, csp, "img-src https://qr.example:8443;")
		require.Contains(t, csp, "script-src 'nonce-"+m[1]+"';")
		require.Contains(t, csp, "connect-src 'self'")
		require.NotContains(t, csp, "unsafe-eval")
		return body, m[1]
	}
	body, nonce := qrPage()
	require.Contains(t, body, `src="https://qr.example:8443/qr/`+a.SessionID+`.png"`)
	require.Contains(t, body, "สแกนคิวอาร์โค้ดนี้", "Thai shop, Thai page")
	require.Contains(t, body, "฿251.00")
	require.Contains(t, body, `<time datetime="2026-11-25T07:10:00Z" dir="ltr">2026-11-25 14:10 (UTC&#43;7)</time>`)
	require.Contains(t, body, `data-status="`+link+`/status"`)
	require.Contains(t, body, `<meta http-equiv="refresh" content="10">`)
	require.NotContains(t, body, "<form", "the QR page posts nothing")
	_, again := qrPage()
	require.NotEqual(t, nonce, again, "a fresh nonce for every view")

	// Paid at the bank: the status says so, and the link shows the paid page.
	rec = b.form("/sandbox/checkout/"+a.SessionID, url.Values{"outcome": {"success"}})
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.NoError(t, b.sandbox.Wait(context.Background()))
	code, st = b.payStatusOf(link)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"status": "paid"}, st)
	body = requirePage(t, b.request(http.MethodGet, link, nil, nil), http.StatusOK)
	require.NotContains(t, body, "<img")
	require.NotContains(t, body, "<script")
	require.Contains(t, body, "#"+o.Code)
}

// TestQRPayFallbacks: a declined QR payment leads back to Pay again; a QR code for
// another amount, or with an image URL that is not http(s), is never shown.
func TestQRPayFallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(keyD, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}]}`)
	link := payPathOf(o)

	start := func() string {
		t.Helper()
		rec := b.form(link, nil)
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		a, err := b.svc.Store().LatestAttempt(context.Background(), "shop-d", o.ID)
		require.NoError(t, err)
		return a.SessionID
	}
	session := start()
	rec := b.form("/sandbox/checkout/"+session, url.Values{"outcome": {"decline"}})
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.NoError(t, b.sandbox.Wait(context.Background()))
	code, st := b.payStatusOf(link)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "payment_failed", st["status"], "the QR page's script goes back to the link")
	body := requirePage(t, b.request(http.MethodGet, link, nil, nil), http.StatusOK)
	require.NotContains(t, body, "<img")
	require.Contains(t, body, "<form")

	for _, tc := range []struct {
		image string
		extra int64
		log   string
	}{
		{image: "javascript:alert(1)", log: "unusable image URL"},
		{image: "https://user:pw@qr.example/x.png", log: "unusable image URL"},
		{image: "//qr.example/x.png", log: "unusable image URL"},
		{extra: 1, log: "for another amount"},
	} {
		b.qr.set(tc.image, tc.extra)
		rec := b.form(link, nil)
		require.Equal(t, http.StatusSeeOther, rec.Code)
		require.NotEqual(t, link, rec.Header().Get("Location"), "%+v: the fallback checkout, not the QR page", tc)
		body := requirePage(t, b.request(http.MethodGet, link, nil, nil), http.StatusOK)
		require.NotContains(t, body, "<img", "%+v", tc)
		require.NotContains(t, body, "<script", "%+v", tc)
		require.Contains(t, b.logs.String(), tc.log)
	}
}

// TestPayStatus: the status endpoint follows the link's rules: unknown or malformed
// tokens are 404, cancelled orders 410, paid ones 200, and it says nothing else.
func TestPayStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/pay/" + orders.NewLinkToken(), "/pay/nope"} {
		code, v := b.payStatusOf(path)
		require.Equal(t, http.StatusNotFound, code, path)
		require.NotContains(t, v, "status")
	}

	cancelled := b.createOrder(keyB, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}]}`)
	rec := b.api(http.MethodPost, "/api/v1/orders/"+cancelled.ID+"/cancel", keyB, `{}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	code, v := b.payStatusOf(payPathOf(cancelled))
	require.Equal(t, http.StatusGone, code)
	require.Equal(t, map[string]any{"status": "cancelled"}, v)

	paid := b.createOrder(keyB, `{"items": [{"name": "Tea", "quantity": 1, "unit_price": 5000}]}`)
	b.checkout(paid, "success")
	code, v = b.payStatusOf(payPathOf(paid))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"status": "paid"}, v)

	// Only GET: the endpoint changes nothing.
	rec = b.form(payPathOf(paid)+"/status", nil)
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.True(t, strings.Contains(rec.Header().Get("Allow"), http.MethodGet))
}
