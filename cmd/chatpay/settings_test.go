package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
)

// ownerOf adds an owner to the shop through the server's own store (on Postgres the
// `chatpay user add` command would open another database) and signs them in.
func (a *app) ownerOf(shop, email string) *http.Cookie {
	a.t.Helper()
	as, ok := a.m.Store.(auth.Store)
	require.True(a.t, ok)
	users, err := auth.NewService(auth.Config{Store: as, Params: &authtest.FastParams})
	require.NoError(a.t, err)
	_, err = users.AddUser(context.Background(), shop, email, auth.RoleOwner, authtest.Password)
	require.NoError(a.t, err)
	return a.signIn(shop, email, authtest.Password)
}

var versionField = regexp.MustCompile(`<input type="hidden" name="version" value="(\d+)">`)

// saveSettings opens the settings page as the owner, and posts its form with the
// given fields changed (a field set to "" is left out, as an unticked checkbox is).
func (a *app) saveSettings(owner *http.Cookie, fields map[string]string) {
	a.t.Helper()
	res, page := a.browse(http.MethodGet, "/dashboard/settings", nil, "", owner)
	require.Equal(a.t, http.StatusOK, res.StatusCode)
	m := versionField.FindStringSubmatch(page)
	require.NotNil(a.t, m, "the form carries its version")
	form := url.Values{"version": {m[1]}, "do": {"save"}}
	for k, v := range fields {
		if v != "" {
			form.Set(k, v)
		}
	}
	res, page = a.browse(http.MethodPost, "/dashboard/settings", form, "same-origin", owner)
	require.Equal(a.t, http.StatusSeeOther, res.StatusCode, page)
	require.Contains(a.t, res.Header.Get("Location"), "msg=saved")
}

// payOrder creates a web chat order in shop A, pays it through the sandbox and
// returns its messages once it is paid and they are all delivered.
func (a *app) payOrder(visitor string) (map[string]any, []map[string]any) {
	a.t.Helper()
	o := a.createOrder(keyA, webchatOrder(visitor))
	id := o["id"].(string)
	a.pay(linkOf(o), "success", "normal")
	a.waitOrder(keyA, id, "paid", func(o map[string]any) bool { return o["status"] == "paid" })
	// The confirmation is queued in the payment's own transaction: once the order is
	// paid, its messages are all there.
	return o, a.waitMessages(keyA, id, "messages sent", allSent)
}

// TestSettingsEndToEnd: shop A's owner changes the shop's name and its Vietnamese
// paid confirmation on the settings page of the real server. The pay page shows the
// new name; an order paid through the sandbox gets the owner's confirmation; with the
// switch off the next one gets none, and with it on again the owner's text is back.
func TestSettingsEndToEnd(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		owner := a.ownerOf("shop-a", "owner@example.com")
		const ownText = "Cảm ơn bạn đã mua hàng tại {{.ShopName}}! Đơn #{{.OrderCode}} ({{.Total}}) đã được thanh toán."
		shop := map[string]string{"tl": "vi", "name": "Tiệm Lan", "locale": "vi", "send_paid_confirmation": "1",
			"tpl_paid_confirmation": ownText}
		a.saveSettings(owner, shop)

		o, ms := a.payOrder("settings-visitor-1")
		code := o["code"].(string)
		require.Equal(t, "Cảm ơn bạn đã mua hàng tại Tiệm Lan! Đơn #"+code+" (330.000 ₫) đã được thanh toán.",
			find(ms, "paid_confirmation")["text"])
		res, body := a.get(linkOf(o))
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "Tiệm Lan", "the paid page names the shop as its owner calls it")
		require.NotContains(t, body, "Cửa hàng A")

		fresh := a.createOrder(keyA, webchatOrder("settings-visitor-2"))
		_, body = a.get(linkOf(fresh))
		require.Contains(t, body, "Tiệm Lan", "so does the pay page")
		card := a.waitMessages(keyA, fresh["id"].(string), "card sent", allSent)[0]
		require.Contains(t, card["text"], "Tiệm Lan", "and the order card")

		// The switch off: the next payment sends no confirmation at all.
		shop["send_paid_confirmation"] = ""
		a.saveSettings(owner, shop)
		_, ms = a.payOrder("settings-visitor-3")
		require.Nil(t, find(ms, "paid_confirmation"), "%v", kinds(ms))

		// On again: the owner's text, which the switch left alone.
		shop["send_paid_confirmation"] = "1"
		delete(shop, "tpl_paid_confirmation")
		a.saveSettings(owner, shop)
		o, ms = a.payOrder("settings-visitor-4")
		require.Equal(t, "Cảm ơn bạn đã mua hàng tại Tiệm Lan! Đơn #"+o["code"].(string)+" (330.000 ₫) đã được thanh toán.",
			find(ms, "paid_confirmation")["text"])

		// Shop B is untouched by shop A's settings.
		b := a.createOrder(keyB, webchatOrder("settings-visitor-b"))
		_, body = a.get(linkOf(b))
		require.Contains(t, body, "Shop B")
	})
}

// TestSettingsAcrossReplicas: two replicas share Postgres and Redis. The owner saves
// on one; the other's pay pages show the new name at once, through the live hub,
// long before its half-minute reload.
func TestSettingsAcrossReplicas(t *testing.T) {
	t.Parallel()
	redisURL := testRedisURL(t)
	schema := postgrestest.Open(t).Schema()
	one := startReplica(t, schema, redisURL)
	two := startReplica(t, schema, redisURL)
	owner := one.ownerOf("shop-a", "owner@example.com")

	o := two.createOrder(keyA, webchatOrder("replica-settings-visitor"))
	_, body := two.get(linkOf(o))
	require.Contains(t, body, "Shop A")

	one.saveSettings(owner, map[string]string{"tl": "en", "name": "Shop A, renamed", "locale": "en", "send_paid_confirmation": "1"})
	require.Eventually(t, func() bool {
		_, body := two.get(linkOf(o))
		return strings.Contains(body, "Shop A, renamed")
	}, 10*time.Second, 20*time.Millisecond, "replica two reloads on replica one's change")
}

// TestSettingsPageInABrowser edits the paid confirmation in headless chromium, 375 px
// wide: the page fits the screen; the preview follows the typing (settings.js), shows
// why a text would be refused, and Reset to default puts the built-in text back
// without leaving the page; Save saves. A screenshot is left among the artifacts.
func TestSettingsPageInABrowser(t *testing.T) {
	// Not parallel: see newBrowser.
	ctx := newBrowser(t, 375, 812)
	a := setup(t, "sqlite")
	cookie := a.ownerOf("shop-a", "owner@example.com")
	httpOnly := true
	require.NoError(t, chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{
			Name: cookie.Name, Value: cookie.Value, URL: a.url, HTTPOnly: &httpOnly,
		})
		return chromedp.Void{}, err
	}))

	fits := func(what string) {
		t.Helper()
		waitJS(t, ctx, what+" fits a 375 px screen", `document.documentElement.scrollWidth <= window.innerWidth`)
	}

	do(t, ctx, "open the settings", chromedp.Navigate(a.url+"/dashboard/settings"), chromedp.WaitVisible("#f-name"))
	fits("the page")
	do(t, ctx, "unfold the paid confirmation", chromedp.Click(`#m-paid_confirmation > summary`),
		chromedp.WaitVisible("#t-paid_confirmation"))
	fits("an open editor")

	const preview = `document.querySelector("#p-paid_confirmation [data-preview-text]").textContent`
	const previewError = `document.querySelector("#p-paid_confirmation [data-preview-error]").textContent`
	clear := func() { js[any](t, ctx, `document.querySelector("#t-paid_confirmation").value = ""`) }
	clear()
	do(t, ctx, "type a text", chromedp.SendKeys("#t-paid_confirmation", "Cảm ơn {{.CustomerName}}! Đơn #{{.OrderCode}} xong."))
	waitJS(t, ctx, "the live preview", preview+` === "Cảm ơn Lan! Đơn #1042 xong."`)
	screenshot(t, ctx, "settings-phone")

	clear()
	do(t, ctx, "type a text without the order's code", chromedp.SendKeys("#t-paid_confirmation", "Cảm ơn!"))
	waitJS(t, ctx, "the reason it would be refused", previewError+`.includes("order's code")`)

	before := js[any](t, ctx, `location.href`)
	do(t, ctx, "reset to default", chromedp.Click(`button[data-reset="paid_confirmation"]`))
	waitJS(t, ctx, "the built-in text back", `document.querySelector("#t-paid_confirmation").value === document.querySelector("#d-paid_confirmation").textContent`)
	waitJS(t, ctx, "its preview", preview+`.includes("#1042")`)
	require.Equal(t, before, js[any](t, ctx, `location.href`), "without leaving the page")

	clear()
	do(t, ctx, "type and save", chromedp.SendKeys("#t-paid_confirmation", "Đã nhận tiền đơn #{{.OrderCode}}."),
		chromedp.Click(`button[name="do"][value="save"]`))
	waitJS(t, ctx, "saved", `location.search.includes("msg=saved")`)
	st, err := a.m.Service.ShopSettings(context.Background(), "shop-a")
	require.NoError(t, err)
	require.Equal(t, "Đã nhận tiền đơn #{{.OrderCode}}.", st.Templates["vi"]["paid_confirmation"])
}
