package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway/omise/omisetest"
	"github.com/chatpay/chatpay/orders"
)

// TestReportAndDisputePagesOnAPhone opens the report, the disputes list and a dispute
// with its answer forms (an Omise dispute) in headless chromium 375 px wide: nothing
// is wider than the screen (charts scale, tables scroll inside their box) and what
// each page is for is there, with no script loaded. Screenshots are left among the
// test artifacts.
func TestReportAndDisputePagesOnAPhone(t *testing.T) {
	// Not parallel: see newBrowser.
	ctx := newBrowser(t, 375, 812)
	secret := base64.StdEncoding.EncodeToString([]byte("omise webhook secret for tests!!"))
	om := omisetest.New(omisetest.Options{WebhookSecrets: []string{secret}})
	t.Cleanup(om.Close)
	a := setupWith(t, "sqlite", options{shopAExtra: fmt.Sprintf(`      omise:
        secret_key: %q
        public_key: %q
        webhook_secrets: [%q]
        api_url: %q
        source_type: mobile_banking_scb`, om.SecretKey(), om.PublicKey(), secret, om.URL)})
	om.SetWebhookURL(a.url + "/webhooks/omise/shop-a")
	const password = "correct horse battery staple"
	a.addUser("shop-a", "owner@example.com", "owner", password)

	// A decline through the sandbox, then a payment through Omise, disputed there.
	o := a.createOrder(keyA, webchatOrder("phone-visitor"))
	id := o["id"].(string)
	a.waitMessages(keyA, id, "order card sent", allSent)
	a.pay(linkOf(o), "decline", "normal")
	a.waitMessages(keyA, id, "the decline applied", func(ms []map[string]any) bool { return find(ms, "payment_failed") != nil })
	res := a.postForm(linkOf(o), url.Values{"gateway": {"omise"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	charge := strings.TrimPrefix(res.Header.Get("Location"), om.URL+"/pay/")
	require.NoError(t, om.Complete(charge, true))
	a.waitOrder(keyA, id, "paid", func(o map[string]any) bool { return o["status"] == "paid" })
	_, err := om.OpenDispute(charge)
	require.NoError(t, err)
	var list []*orders.Dispute
	require.Eventually(t, func() bool {
		list, err = a.m.Service.ListDisputes(context.Background(), "shop-a", orders.DisputeFilter{})
		return err == nil && len(list) == 1
	}, 15*time.Second, 20*time.Millisecond, "the dispute recorded from Omise's webhook")

	cookie := a.signIn("shop-a", "owner@example.com", password)
	httpOnly := true
	setCookie := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{
			Name: cookie.Name, Value: cookie.Value, URL: a.url, HTTPOnly: &httpOnly,
		})
		return chromedp.Void{}, err
	}
	require.NoError(t, chromedp.Do(ctx, setCookie))
	for _, p := range []struct{ path, name, want string }{
		{"/dashboard/reports?group_by=branch", "reports-phone", "svg.chart"},
		{"/dashboard/disputes", "disputes-phone", ".badge"},
		{"/dashboard/disputes/" + list[0].ID, "dispute-phone", "textarea#text"},
	} {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(a.url+p.path), chromedp.WaitReady(chromedp.CSS("footer"))), p.path)
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		inner, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.innerWidth`))
		require.NoError(t, err)
		found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("`+p.want+`") !== null`))
		require.NoError(t, err)
		require.True(t, found, "%s shows %s", p.path, p.want)
		require.LessOrEqual(t, width, inner, "%s fits a 375 px screen", p.path)
		screenshot(t, ctx, p.name)
	}
}
