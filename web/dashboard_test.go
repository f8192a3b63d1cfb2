package web

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// dash is a dashboard under test: a server with auth on SQLite, two shops with one
// order each and an owner of shop-a.
type dash struct {
	t        *testing.T
	engine   *gin.Engine
	auth     *auth.Service
	clock    *authtest.Clock
	svc      *orders.Service
	store    orders.Store
	gateways *gateway.Registry
}

func setupDashboard(t *testing.T, secure bool) *dash {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	require.NoError(t, store.Migrate(ctx))
	pages, err := templates.New()
	require.NoError(t, err)
	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{
			{ID: "shop-a", Name: "Shop A", Currency: "VND", Locale: "fa"},
			{ID: "shop-b", Name: "Shop B", Currency: "THB", Locale: "en"},
		},
		Store: store, Renderer: testRenderer{pages}, PublicURL: "https://pay.example",
		LinkKey: bytes.Repeat([]byte{7}, orders.LinkKeyLen),
	})
	require.NoError(t, err)
	for shop, name := range map[string]string{"shop-a": "Customer-of-A", "shop-b": "Customer-of-B"} {
		_, err := svc.CreateOrder(ctx, shop, orders.CreateOrderInput{
			Customer:      orders.Customer{Name: name},
			Items:         []orders.Item{{Name: "Tea", Quantity: 2, UnitPrice: 150000}},
			PaymentMethod: orders.MethodCOD,
		})
		require.NoError(t, err)
	}
	d := &dash{t: t, svc: svc, store: store, gateways: gateway.NewRegistry()}
	d.auth, d.clock = authtest.NewService(t, store)
	_, err = d.auth.AddUser(ctx, "shop-a", "owner@example.com", auth.RoleOwner, authtest.Password)
	require.NoError(t, err)
	srv, err := New(Config{
		Service: svc, Gateways: d.gateways, Pages: pages,
		Auth: d.auth, SecureCookies: secure,
	})
	require.NoError(t, err)
	d.engine = gin.New()
	srv.Register(d.engine)
	return d
}

func (d *dash) do(method, path string, form url.Values, header http.Header, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	d.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	d.engine.ServeHTTP(rec, req)
	return rec
}

var sameSite = http.Header{"Sec-Fetch-Site": {"same-origin"}}

func (d *dash) signIn(email, password string) *httptest.ResponseRecorder {
	d.t.Helper()
	return d.do(http.MethodPost, "/dashboard/signin",
		url.Values{"shop": {"shop-a"}, "email": {email}, "password": {password}}, sameSite)
}

func sessionCookieOf(t *testing.T, rec *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, rec.Header()["Set-Cookie"])
	return nil
}

func TestDashboardRequiresSession(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)
	bogus := &http.Cookie{Name: "chatpay_session", Value: "not-a-session"}
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/dashboard"},
		{http.MethodPost, "/dashboard/signout"},
	} {
		for _, cookies := range [][]*http.Cookie{nil, {bogus}} {
			rec := d.do(c.method, c.path, url.Values{}, sameSite, cookies...)
			require.Equal(t, http.StatusSeeOther, rec.Code, "%s %s", c.method, c.path)
			require.Equal(t, "/dashboard/signin", rec.Header().Get("Location"))
		}
	}
	// The sign-in page itself is open, in the shop's language and direction.
	rec := d.do(http.MethodGet, "/dashboard/signin?shop=shop-a", nil, nil)
	body := requirePage(t, rec, http.StatusOK)
	require.Contains(t, body, `dir="rtl"`)
	require.Contains(t, body, `name="shop" value="shop-a"`)
	require.Contains(t, body, "ورود به فروشگاه")
}

func TestDashboardSignInAndOut(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)

	rec := d.signIn("Owner@Example.com", authtest.Password)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.Equal(t, "/dashboard", rec.Header().Get("Location"))
	ck := sessionCookieOf(t, rec, "chatpay_session")
	require.True(t, ck.HttpOnly)
	require.False(t, ck.Secure)
	require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	require.Equal(t, "/", ck.Path)

	body := requirePage(t, d.do(http.MethodGet, "/dashboard", nil, nil, ck), http.StatusOK)
	require.Contains(t, body, "Customer-of-A")
	require.NotContains(t, body, "Customer-of-B", "another shop's orders never show")
	require.Contains(t, body, "owner@example.com")
	require.Contains(t, body, `dir="rtl"`)

	// Signing in again hands out a new token and ends the old session.
	rec = d.signIn("owner@example.com", authtest.Password)
	ck2 := sessionCookieOf(t, rec, "chatpay_session")
	require.NotEqual(t, ck.Value, ck2.Value)

	// A cross-site sign-out is refused and changes nothing.
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}},
	} {
		rec = d.do(http.MethodPost, "/dashboard/signout", url.Values{}, h, ck2)
		requirePage(t, rec, http.StatusForbidden)
	}
	requirePage(t, d.do(http.MethodGet, "/dashboard", nil, nil, ck2), http.StatusOK)

	rec = d.do(http.MethodPost, "/dashboard/signout", url.Values{}, sameSite, ck2)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, "/dashboard/signin?shop=shop-a", rec.Header().Get("Location"))
	require.Equal(t, -1, sessionCookieOf(t, rec, "chatpay_session").MaxAge)
	rec = d.do(http.MethodGet, "/dashboard", nil, nil, ck2)
	require.Equal(t, http.StatusSeeOther, rec.Code, "the old cookie no longer works")
}

func TestDashboardSignInSecureCookie(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, true)
	ck := sessionCookieOf(t, d.signIn("owner@example.com", authtest.Password), "__Host-chatpay_session")
	require.True(t, ck.Secure)
	require.True(t, ck.HttpOnly)
	require.Equal(t, "/", ck.Path)
	requirePage(t, d.do(http.MethodGet, "/dashboard", nil, nil, ck), http.StatusOK)
	// The plain-HTTP name is not read when the server is on HTTPS.
	ck.Name = "chatpay_session"
	require.Equal(t, http.StatusSeeOther, d.do(http.MethodGet, "/dashboard", nil, nil, ck).Code)
}

func TestDashboardSignInFailures(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)

	// A wrong password, an unknown email and an unknown shop read the same.
	wrong := requirePage(t, d.signIn("owner@example.com", "wrong password, twelve+"), http.StatusUnauthorized)
	unknown := requirePage(t, d.signIn("nobody@example.com", authtest.Password), http.StatusUnauthorized)
	otherShop := requirePage(t, d.do(http.MethodPost, "/dashboard/signin",
		url.Values{"shop": {"nope"}, "email": {"owner@example.com"}, "password": {authtest.Password}}, sameSite),
		http.StatusUnauthorized)
	const generic = "ایمیل یا رمز عبور اشتباه است." // shop-a is Persian
	require.Contains(t, wrong, generic)
	require.Contains(t, unknown, generic)
	require.Contains(t, otherShop, "Wrong email or password.")
	require.Equal(t, strings.Replace(unknown, "nobody@", "owner@", 1), wrong, "nothing tells a known email from an unknown one")

	// A cross-site sign-in (login CSRF) is refused before any password is checked.
	rec := d.do(http.MethodPost, "/dashboard/signin",
		url.Values{"shop": {"shop-a"}, "email": {"owner@example.com"}, "password": {authtest.Password}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}})
	requirePage(t, rec, http.StatusForbidden)
	require.Empty(t, rec.Result().Cookies())

	// Two more failures make five from this client (the throttle counts per IP as well
	// as per email); the sixth try is throttled, even with the right password, and says
	// when to come back.
	for range 2 {
		requirePage(t, d.signIn("owner@example.com", "wrong password, twelve+"), http.StatusUnauthorized)
	}
	rec = d.signIn("owner@example.com", authtest.Password)
	body := requirePage(t, rec, http.StatusTooManyRequests)
	require.Contains(t, body, "تعداد تلاش‌های ناموفق")
	secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err)
	require.Greater(t, secs, 0)
	require.LessOrEqual(t, secs, int(auth.DefaultFailureWindow.Seconds()))
	require.Empty(t, rec.Result().Cookies())

	// Once the window has passed, the right password works again.
	d.clock.Advance(auth.DefaultFailureWindow + 1)
	require.Equal(t, http.StatusSeeOther, d.signIn("owner@example.com", authtest.Password).Code)
}
