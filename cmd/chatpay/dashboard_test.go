package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// browse sends a request as a browser holding cookie (nil for none) would; form, when
// not nil, is posted with the given Sec-Fetch-Site.
func (a *app) browse(method, path string, form url.Values, fetchSite string, cookie *http.Cookie) (*http.Response, string) {
	a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, a.url+path, body)
	require.NoError(a.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, err := a.client.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	return res, string(b)
}

// TestDashboardEndToEnd makes an owner with `chatpay user add`, signs in to the real
// server and sees their shop's orders only, then signs out. SQLite only: the command
// opens the database the config names, which for Postgres tests is not the schema the
// running server uses (auth's store contract runs on Postgres in orders/postgres).
func TestDashboardEndToEnd(t *testing.T) {
	t.Parallel()
	a := setup(t, "sqlite")
	ctx := context.Background()
	const password = "correct horse battery staple"

	orderA := webchatOrder("dash-visitor-a")
	orderA["customer"].(map[string]any)["name"] = "Customer-of-A"
	a.createOrder(keyA, orderA)
	orderB := webchatOrder("dash-visitor-b")
	orderB["customer"].(map[string]any)["name"] = "Customer-of-B"
	orderB["currency"] = "THB"
	a.createOrder(keyB, orderB)

	// The server's own config file sits next to its SQLite database.
	dbPath := strings.TrimPrefix(a.m.Config.DatabaseURL, "sqlite:")
	var out bytes.Buffer
	err := RunUser(ctx, []string{"add", "--config", filepath.Join(filepath.Dir(dbPath), "chatpay.yaml"),
		"--shop", "shop-a", "--email", "owner@example.com"},
		strings.NewReader(password+"\n"), &out, io.Discard, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Contains(t, out.String(), "Added owner owner@example.com to shop shop-a.")

	// Without a session every dashboard route leads to the sign-in page.
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		path := map[string]string{http.MethodGet: "/dashboard", http.MethodPost: "/dashboard/signout"}[method]
		var form url.Values
		if method == http.MethodPost {
			form = url.Values{}
		}
		res, _ := a.browse(method, path, form, "same-origin", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, path)
		require.Equal(t, "/dashboard/signin", res.Header.Get("Location"))
	}

	signIn := func(pw string) (*http.Response, string) {
		return a.browse(http.MethodPost, "/dashboard/signin",
			url.Values{"shop": {"shop-a"}, "email": {"owner@example.com"}, "password": {pw}}, "same-origin", nil)
	}
	res, body := signIn("not the password at all")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Contains(t, body, "Email hoặc mật khẩu không đúng.", "shop-a speaks Vietnamese")

	res, _ = signIn(password)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/dashboard", res.Header.Get("Location"))
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "chatpay_session" {
			session = c
		}
	}
	require.NotNil(t, session, "served over http, the cookie has no __Host- prefix")
	require.True(t, session.HttpOnly)

	res, body = a.browse(http.MethodGet, "/dashboard", nil, "", session)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "Customer-of-A")
	require.Contains(t, body, "330.000")
	require.NotContains(t, body, "Customer-of-B")

	res, _ = a.browse(http.MethodPost, "/dashboard/signout", url.Values{}, "cross-site", session)
	require.Equal(t, http.StatusForbidden, res.StatusCode, "a cross-site sign-out is refused")
	res, _ = a.browse(http.MethodPost, "/dashboard/signout", url.Values{}, "same-origin", session)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = a.browse(http.MethodGet, "/dashboard", nil, "", session)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "the signed-out cookie no longer works")

	// One failure so far; four more, and the sixth attempt is throttled.
	for range 4 {
		res, _ = signIn("not the password at all")
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	}
	res, _ = signIn(password)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
}

// TestSignInThrottleIgnoresForwardedFor: with no trusted proxies configured, a client
// cannot pose as many addresses with X-Forwarded-For: failed sign-ins for different
// emails from one peer still hit the per-address limit.
func TestSignInThrottleIgnoresForwardedFor(t *testing.T) {
	t.Parallel()
	a := setup(t, "sqlite")
	status := 0
	for i := range 6 {
		form := url.Values{"shop": {"shop-a"}, "email": {fmt.Sprintf("nobody%d@example.com", i)}, "password": {"not the password at all"}}
		req, err := http.NewRequest(http.MethodPost, a.url+"/dashboard/signin", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		res, err := a.client.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		status = res.StatusCode
	}
	require.Equal(t, http.StatusTooManyRequests, status, "the sixth failure from one address is throttled")
}
