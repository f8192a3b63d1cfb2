package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// addUser runs `chatpay user add` against the server's own config and database.
func (a *app) addUser(shop, email, role, password string) {
	a.t.Helper()
	dbPath := strings.TrimPrefix(a.m.Config.DatabaseURL, "sqlite:")
	var out bytes.Buffer
	err := RunUser(context.Background(), []string{"add", "--config", filepath.Join(filepath.Dir(dbPath), "chatpay.yaml"),
		"--shop", shop, "--email", email, "--role", role},
		strings.NewReader(password+"\n"), &out, io.Discard, func(string) (string, bool) { return "", false })
	require.NoError(a.t, err)
}

// signIn signs a user in and returns their session cookie.
func (a *app) signIn(shop, email, password string) *http.Cookie {
	a.t.Helper()
	res, _ := a.browse(http.MethodPost, "/dashboard/signin",
		url.Values{"shop": {shop}, "email": {email}, "password": {password}}, "same-origin", nil)
	require.Equal(a.t, http.StatusSeeOther, res.StatusCode)
	for _, c := range res.Cookies() {
		if c.Name == "chatpay_session" {
			return c
		}
	}
	a.t.Fatal("no session cookie")
	return nil
}

// TestDashboardOrderPage walks an order through the dashboard's order page on the
// real server: the page shows items, link and timeline; another shop's order is not
// found; ship is refused until the order is paid through the sandbox and works after;
// the owner refunds half and sees the other half left; staff cannot refund; a
// cross-site post is refused. Shop A speaks Vietnamese, so the page does too.
func TestDashboardOrderPage(t *testing.T) {
	t.Parallel()
	a := setup(t, "sqlite")
	const password = "correct horse battery staple"
	a.addUser("shop-a", "owner@example.com", "owner", password)
	a.addUser("shop-a", "staff@example.com", "staff", password)

	o := a.createOrder(keyA, webchatOrder("dash-order-visitor"))
	id, link := o["id"].(string), linkOf(o)
	other := a.createOrder(keyB, webchatOrder("dash-order-visitor-b"))
	a.waitMessages(keyA, id, "order card sent", allSent)
	page := "/dashboard/orders/" + id

	owner := a.signIn("shop-a", "owner@example.com", password)
	res, body := a.browse(http.MethodGet, "/dashboard", nil, "", owner)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `href="`+page+`"`, "the list links each order to its page")

	res, body = a.browse(http.MethodGet, page, nil, "", owner)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "Áo thun")
	require.Contains(t, body, "330.000")
	require.Contains(t, body, `value="`+link+`"`, "the payment link, ready to copy")
	require.Contains(t, body, "Tin nhắn gửi khách", "the order card is on the timeline")
	require.Contains(t, body, "#1001")
	require.Contains(t, body, "Đã gửi", "with its delivery status")
	require.Contains(t, body, "<fieldset disabled", "ship is disabled until paid")
	require.Contains(t, body, "Chưa thanh toán: đơn có thể gửi khi khách đã trả tiền.")
	require.NotContains(t, body, page+"/refund", "nothing to refund yet")

	res, _ = a.browse(http.MethodGet, "/dashboard/orders/"+other["id"].(string), nil, "", owner)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "another shop's order")

	ship := url.Values{"carrier": {"VNPost"}, "tracking": {"VN123"}}
	res, _ = a.browse(http.MethodPost, page+"/ship", ship, "same-origin", owner)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, page+"?msg=not_paid", res.Header.Get("Location"), "the server refuses to ship an unpaid order")
	_, body = a.browse(http.MethodGet, page+"?msg=not_paid", nil, "", owner)
	require.Contains(t, body, `class="banner bad"`)

	a.pay(link, "success", "normal")
	a.waitOrder(keyA, id, "paid", func(o map[string]any) bool { return o["status"] == "paid" })
	_, body = a.browse(http.MethodGet, page, nil, "", owner)
	require.NotContains(t, body, "<fieldset disabled")
	res, _ = a.browse(http.MethodPost, page+"/ship", ship, "same-origin", owner)
	require.Equal(t, page+"?msg=shipped", res.Header.Get("Location"))

	refund := url.Values{"amount": {"165000"}}
	res, _ = a.browse(http.MethodPost, page+"/refund", refund, "cross-site", owner)
	require.Equal(t, http.StatusForbidden, res.StatusCode, "a cross-site post is refused")
	res, _ = a.browse(http.MethodPost, page+"/refund", url.Values{"amount": {"999999"}}, "same-origin", owner)
	require.Equal(t, page+"?msg=amount", res.Header.Get("Location"), "more than was paid")
	res, _ = a.browse(http.MethodPost, page+"/refund", refund, "same-origin", owner)
	require.Equal(t, page+"?msg=refunded", res.Header.Get("Location"))
	_, body = a.browse(http.MethodGet, page+"?msg=refunded", nil, "", owner)
	require.Contains(t, body, "Đã bắt đầu hoàn tiền.")
	require.Contains(t, body, `name="amount" inputmode="decimal" value="165000"`, "half is left to refund")
	require.Contains(t, body, "VN123", "the shipment is listed")

	staff := a.signIn("shop-a", "staff@example.com", password)
	res, body = a.browse(http.MethodGet, page, nil, "", staff)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NotContains(t, body, page+"/refund", "staff see no refund form")
	res, _ = a.browse(http.MethodPost, page+"/refund", refund, "same-origin", staff)
	require.Equal(t, http.StatusForbidden, res.StatusCode, "staff cannot refund")
	_, body = a.browse(http.MethodGet, page, nil, "", owner)
	require.Contains(t, body, `value="165000"`, "the refused post refunded nothing")
}
