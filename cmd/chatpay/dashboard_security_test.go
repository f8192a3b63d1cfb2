package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// dashboardRoutes lists every dashboard route the running server registered, with
// its parameters filled with well-formed identifiers, so that a route added later is
// checked without anyone remembering to list it here.
func dashboardRoutes(t *testing.T, a *app) []gin.RouteInfo {
	t.Helper()
	engine, ok := a.m.server.Handler.(*gin.Engine)
	require.True(t, ok, "the server's handler is the gin engine")
	var out []gin.RouteInfo
	for _, r := range engine.Routes() {
		if !strings.HasPrefix(r.Path, "/dashboard") || strings.HasPrefix(r.Path, "/dashboard/signin") {
			continue
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			continue
		}
		var parts []string
		for _, p := range strings.Split(r.Path, "/") {
			if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
				p = "0190a0f2-1111-7abc-8def-000000000001"
			}
			parts = append(parts, p)
		}
		r.Path = strings.Join(parts, "/")
		out = append(out, r)
	}
	require.Greater(t, len(out), 10, "the dashboard's routes are registered")
	t.Logf("%d dashboard routes", len(out))
	return out
}

// TestDashboardRoutesNeedASession: every dashboard route, including ones added after
// this test was written, sends a browser without a session to the sign-in page and
// changes nothing; every POST is refused cross-origin before it is even looked at.
func TestDashboardRoutesNeedASession(t *testing.T) {
	t.Parallel()
	a := setup(t, "sqlite")
	a.addUser("shop-a", "owner@shop-a.example", "owner", "correct horse battery staple")
	session := a.signIn("shop-a", "owner@shop-a.example", "correct horse battery staple")
	for _, r := range dashboardRoutes(t, a) {
		var form url.Values
		if r.Method == http.MethodPost {
			form = url.Values{"x": {"1"}}
		}
		resp, _ := a.browse(r.Method, r.Path, form, "same-origin", nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "%s %s without a session", r.Method, r.Path)
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/dashboard/signin"),
			"%s %s sends to sign-in, not %q", r.Method, r.Path, resp.Header.Get("Location"))

		if r.Method == http.MethodPost {
			resp, _ = a.browse(r.Method, r.Path, form, "cross-site", session)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "cross-site %s %s with a session", r.Method, r.Path)
		}
	}
}

// TestDashboardTenantIsolation: another shop's staff get 404 for this shop's order and
// conversation on every dashboard route that names one, GET or POST, and nothing of
// the order changes.
func TestDashboardTenantIsolation(t *testing.T) {
	t.Parallel()
	a := setup(t, "sqlite")
	a.addUser("shop-b", "staff@shop-b.example", "staff", "correct horse battery staple")
	intruder := a.signIn("shop-b", "staff@shop-b.example", "correct horse battery staple")
	o := a.createOrder(keyA, webchatOrder("visitor-isolation"))
	orderID := o["id"].(string)
	conv, err := a.m.Service.Store().ConversationByExternalID(t.Context(), "shop-a", "webchat", "visitor-isolation")
	require.NoError(t, err)

	checked := 0
	for _, r := range dashboardRoutes(t, a) {
		var id string
		switch {
		case strings.HasPrefix(r.Path, "/dashboard/orders/"):
			id = orderID
		case strings.HasPrefix(r.Path, "/dashboard/inbox/"):
			id = conv.ID
		default:
			continue
		}
		path := strings.Replace(r.Path, "0190a0f2-1111-7abc-8def-000000000001", id, 1)
		var form url.Values
		if r.Method == http.MethodPost {
			form = url.Values{"nonce": {"AAAAAAAAAAAAAAAAAAAAAA"}, "text": {"hello"}, "amount": {"1"}, "carrier": {"x"}, "item_name": {"x"}, "item_qty": {"1"}, "item_price": {"1"}}
		}
		resp, body := a.browse(r.Method, path, form, "same-origin", intruder)
		require.NotContains(t, body, "visitor-isolation")
		if resp.StatusCode == http.StatusForbidden {
			// An action staff may never take (a refund) is refused before any lookup:
			// the answer must then be the same for an ID that exists nowhere, so it
			// tells nothing about this shop's objects.
			other, _ := a.browse(r.Method, r.Path, form, "same-origin", intruder)
			require.Equal(t, http.StatusForbidden, other.StatusCode, "%s %s: 403 only when the role is refused whatever the object", r.Method, path)
			checked++
			continue
		}
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s as another shop's staff", r.Method, path)
		checked++
	}
	require.Greater(t, checked, 5)
	got := a.waitOrder(keyA, orderID, "unchanged", func(o map[string]any) bool { return true })
	require.Equal(t, "awaiting_payment", got["status"])
	require.Empty(t, got["shipments"])
}
