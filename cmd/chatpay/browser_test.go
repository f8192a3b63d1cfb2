package main

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserSale drives the whole sale the way people do it, in a real browser: the
// owner signs in; a customer opens the shop's web chat and writes; the owner creates an
// order for them from the inbox; the customer pays it in the sandbox; the confirmation
// appears in the chat and the order page turns paid without reloading, enabling Ship
// only then; the owner ships, refunds half and exports the payments CSV. Screenshots of
// each page are kept as test artifacts.
func TestBrowserSale(t *testing.T) {
	// Not parallel: see newBrowser.
	a := setup(t, "sqlite")
	a.addUser("shop-a", "owner@shop-a.example", "owner", "correct horse battery staple")
	browser := newBrowser(t, 1280, 900)

	// The owner signs in.
	owner := browser
	do(t, owner, "sign in",
		chromedp.Navigate(a.url+"/dashboard/signin?shop=shop-a"),
		chromedp.WaitVisible("#email"),
	)
	screenshot(t, owner, "signin")
	do(t, owner, "sign in",
		chromedp.SendKeys("#email", "owner@shop-a.example"),
		chromedp.SendKeys("#password", "correct horse battery staple"),
		chromedp.Click(`form button[type=submit]`),
	)
	waitJS(t, owner, "the dashboard", `location.pathname === "/dashboard"`)
	screenshot(t, owner, "dashboard-orders")

	// A customer opens the shop's web chat in another tab and says hello.
	customer, cancel := chromedp.NewContext(browser)
	defer cancel()
	do(t, customer, "open the web chat",
		chromedp.Navigate(a.url+"/chat/shop-a/new"),
		chromedp.Click(`#start button[type=submit]`),
	)
	waitJS(t, customer, "the chat page", `document.querySelector("#compose") !== null`)
	chatURL := location(t, customer)
	do(t, customer, "write",
		chromedp.SendKeys("#text", "Chào shop, mình lấy 2 áo thun nhé"),
		chromedp.Click(`#compose button[type=submit]`),
	)
	waitJS(t, customer, "the customer's message", `[...document.querySelectorAll("#msgs .msg.mine")].some(m => m.textContent.includes("2 áo thun"))`)

	// The owner finds the conversation in the inbox and creates an order from it.
	do(t, owner, "open the inbox", chromedp.Navigate(a.url+"/dashboard/inbox"))
	waitJS(t, owner, "the conversation in the inbox", `[...document.querySelectorAll("#inbox-list a")].some(a => a.textContent.includes("2 áo thun"))`)
	screenshot(t, owner, "inbox")
	js[bool](t, owner, `(() => { [...document.querySelectorAll("#inbox-list a")].find(a => a.textContent.includes("2 áo thun")).click(); return true })()`)
	waitJS(t, owner, "the transcript", `document.querySelector(".transcript") !== null && location.pathname.startsWith("/dashboard/inbox/")`)
	screenshot(t, owner, "inbox-conversation")
	js[bool](t, owner, `(() => { document.querySelector('a[href$="/orders/new"]').click(); return true })()`)
	waitJS(t, owner, "the new order form", `document.querySelector("#item-1-name") !== null`)
	do(t, owner, "fill the order",
		chromedp.SetValue("#item-1-name", "Áo thun cotton"),
		chromedp.SetValue("#item-1-qty", "2"),
		chromedp.SetValue("#item-1-price", "150000"),
		chromedp.SetValue("#shipping", "30000"),
	)
	screenshot(t, owner, "order-new")
	js[bool](t, owner, `(() => { [...document.querySelectorAll('form button[type=submit]')].filter(b => !b.name && !b.classList.contains("sr-only")).pop().click(); return true })()`)
	waitJS(t, owner, "the new order's page", `location.pathname.startsWith("/dashboard/orders/")`)
	orderURL := location(t, owner)
	waitJS(t, owner, "Ship disabled until paid", `document.querySelector('form[action$="/ship"] fieldset').disabled === true`)
	screenshot(t, owner, "order-unpaid")
	// A marker that a reload would wipe: the page must turn paid without one.
	js[bool](t, owner, `window.__noReload = true`)

	// The order card reaches the customer's chat, live.
	waitJS(t, customer, "the order card with Pay now", `document.querySelector("#msgs .ordercard a.btn") !== null`)
	screenshot(t, customer, "chat-order-card")
	payURL := js[string](t, customer, `document.querySelector("#msgs .ordercard a.btn").href`)
	require.Contains(t, payURL, "/pay/")
	// The chat page too must redraw the card without a reload.
	js[bool](t, customer, `window.__noReload = true`)

	// The customer pays in a third tab, as the card's link opens one.
	payTab, cancelPay := chromedp.NewContext(browser)
	defer cancelPay()
	do(t, payTab, "open the pay page", chromedp.Navigate(payURL), chromedp.WaitVisible(`form button[type=submit]`))
	screenshot(t, payTab, "pay")
	do(t, payTab, "pay now", chromedp.Click(`form button[type=submit]`))
	waitJS(t, payTab, "the sandbox checkout", `location.pathname.startsWith("/sandbox/checkout/")`)
	screenshot(t, payTab, "sandbox-checkout")
	do(t, payTab, "pay successfully", chromedp.Click(`button[value=success]`))
	waitJS(t, payTab, "the paid page", `location.pathname.startsWith("/pay/") && document.querySelector(".hero-ok") !== null`)
	screenshot(t, payTab, "paid")

	// The confirmation appears in the chat and the order page turns paid, both live.
	waitJS(t, customer, "the paid confirmation in the chat", `[...document.querySelectorAll("#msgs .msg.theirs")].some(m => m.textContent.includes("thành công"))`)
	require.Equal(t, chatURL, location(t, customer), "the chat did not navigate")
	// The card the customer paid from is redrawn as paid, its Pay now gone.
	waitJS(t, customer, "the card shown paid, without Pay now", `(() => {
		const card = document.querySelector("#msgs .ordercard");
		return card !== null && card.querySelector("a.btn") === null && card.textContent.includes("✅");
	})()`)
	require.True(t, js[bool](t, customer, `window.__noReload === true`), "the card turned paid without reloading the chat")
	screenshot(t, customer, "chat-paid")
	waitJS(t, owner, "Ship enabled once paid", `document.querySelector('form[action$="/ship"] fieldset').disabled === false`)
	require.True(t, js[bool](t, owner, `window.__noReload === true`), "the order page turned paid without reloading")
	require.Equal(t, orderURL, location(t, owner))
	screenshot(t, owner, "order-paid")

	// Ship, then refund half.
	do(t, owner, "ship",
		chromedp.SendKeys("#carrier", "GHN"),
		chromedp.SendKeys("#tracking", "GHN123456"),
		chromedp.Click(`form[action$="/ship"] button[type=submit]`),
	)
	waitJS(t, owner, "the shipment on the order page", `document.body.innerText.includes("GHN123456")`)
	waitJS(t, owner, "the refund form", `document.querySelector("#amount") !== null`)
	do(t, owner, "refund half",
		chromedp.SetValue("#amount", "165000"),
		chromedp.Click(`form[action$="/refund"] button[type=submit]`),
	)
	waitJS(t, owner, "half refunded, half left", `document.querySelector("#amount") !== null && document.querySelector("#amount").value.replace(/\D/g, "") === "165000" && document.body.innerText.includes("165.000")`)
	screenshot(t, owner, "order-refunded-half")

	// The payments report and its CSV, as a spreadsheet would receive it.
	do(t, owner, "open the report", chromedp.Navigate(a.url+"/dashboard/reports"))
	waitJS(t, owner, "the report's CSV link", `document.querySelector('a[href*=".csv"]') !== null`)
	screenshot(t, owner, "reports")
	// A page's scripts may not fetch (its CSP has no connect-src), so the export is
	// downloaded with the browser's own session cookie, as a download would be.
	csvURL := js[string](t, owner, `document.querySelector('a[href*=".csv"]').href`)
	cookies, err := chromedp.Call(owner, network.GetCookies, network.GetCookiesParams{URLs: []string{a.url}})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, csvURL, nil)
	require.NoError(t, err)
	for _, c := range cookies.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := a.client.Do(req)
	require.NoError(t, err)
	csv, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	require.True(t, bytes.HasPrefix(csv, []byte{0xEF, 0xBB, 0xBF}), "the CSV starts with a UTF-8 byte order mark")
	require.Contains(t, string(csv), "sandbox")
	require.Contains(t, string(csv), "330000", "the paid amount is in the export")

	// The settings page, for the record.
	do(t, owner, "open the settings", chromedp.Navigate(a.url+"/dashboard/settings"))
	waitJS(t, owner, "the settings form", `document.querySelector("form") !== null`)
	screenshot(t, owner, "settings")

	// The owner switches the shop to Persian: every page turns right-to-left, the
	// customer's chat included, and the phone checks below run in it.
	do(t, owner, "choose Persian", chromedp.SetValue("#f-locale", "fa"), chromedp.Click(`button[name=do][value=save]`))
	waitJS(t, owner, "the settings saved", `document.documentElement.lang === "fa" && document.documentElement.dir === "rtl"`)
	do(t, owner, "open the order in Persian", chromedp.Navigate(orderURL))
	waitJS(t, owner, "the order page right-to-left", `document.documentElement.dir === "rtl" && document.querySelector('form[action$="/refund"]') !== null`)
	screenshot(t, owner, "order-fa")
	do(t, customer, "reload the chat", chromedp.Reload())
	waitJS(t, customer, "the chat right-to-left", `document.documentElement.dir === "rtl" && document.querySelector("#msgs .ordercard") !== null`)
	screenshot(t, customer, "chat-fa")

	// The same pages on a phone.
	phone, cancelPhone := chromedp.NewContext(browser)
	defer cancelPhone()
	do(t, phone, "phone size", chromedp.EmulateViewport(390, 844))
	for _, page := range []struct{ name, url string }{
		{"phone-order", orderURL}, {"phone-inbox", a.url + "/dashboard/inbox"}, {"phone-chat", chatURL},
	} {
		do(t, phone, "open "+page.name, chromedp.Navigate(page.url))
		screenshot(t, phone, page.name)
		width := js[int](t, phone, `document.documentElement.scrollWidth`)
		require.LessOrEqual(t, width, 390, "%s fits a phone's width", page.name)
	}
}

// TestBrowserDemo is a newcomer's first minute: chatpay on its defaults prints a
// one-time link; the demo page shows the owner's inbox and the customer's chat side by
// side; an order made on the left reaches the chat on the right, is paid in the
// sandbox, and both sides show it paid without reloading.
func TestBrowserDemo(t *testing.T) {
	// Not parallel: see newBrowser.
	a, out := startDemo(t)
	link := demoLink(t, out)
	browser := newBrowser(t, 1440, 900)
	started := time.Now()

	do(t, browser, "open the printed link", chromedp.Navigate(link), chromedp.WaitVisible(`form button[type=submit]`))
	screenshot(t, browser, "demo-start")
	do(t, browser, "open the demo", chromedp.Click(`form button[type=submit]`))
	waitJS(t, browser, "the demo page", `location.pathname === "/demo"`)

	const dash = `document.querySelector('iframe[name="demo-dashboard"]').contentDocument`
	const chat = `document.querySelector('iframe[name="demo-chat"]').contentDocument`
	waitJS(t, browser, "the customer's greeting in both panes",
		`(`+dash+`.querySelector(".transcript") || {innerText: ""}).innerText.includes("T-shirts") && `+
			`(`+chat+`.querySelector("#msgs") || {innerText: ""}).innerText.includes("T-shirts")`)
	screenshot(t, browser, "demo")

	// The owner creates an order in the left pane.
	js[bool](t, browser, `(() => { `+dash+`.querySelector('a[href$="/orders/new"]').click(); return true })()`)
	waitJS(t, browser, "the order form", dash+`.querySelector("#item-1-name") !== null`)
	js[bool](t, browser, `(() => { const d = `+dash+`;
		d.querySelector("#item-1-name").value = "Cotton T-shirt";
		d.querySelector("#item-1-qty").value = "2";
		d.querySelector("#item-1-price").value = "150000";
		[...d.querySelectorAll('form button[type=submit]')].filter(b => !b.name && !b.classList.contains("sr-only")).pop().click();
		return true })()`)
	waitJS(t, browser, "the order page in the left pane", `document.querySelector('iframe[name="demo-dashboard"]').contentWindow.location.pathname.startsWith("/dashboard/orders/")`)
	waitJS(t, browser, "Ship disabled while unpaid", `(`+dash+`.querySelector('form[action$="/ship"] fieldset') || {}).disabled === true`)

	// The card reaches the right pane; the customer pays in the tab its link opens.
	waitJS(t, browser, "the order card in the chat", chat+`.querySelector("#msgs .ordercard a.btn") !== null`)
	screenshot(t, browser, "demo-order-sent")
	payURL := js[string](t, browser, chat+`.querySelector("#msgs .ordercard a.btn").href`)
	payTab, cancelPay := chromedp.NewContext(browser)
	defer cancelPay()
	do(t, payTab, "pay", chromedp.Navigate(payURL), chromedp.WaitVisible(`form button[type=submit]`), chromedp.Click(`form button[type=submit]`))
	waitJS(t, payTab, "the sandbox checkout", `location.pathname.startsWith("/sandbox/checkout/")`)
	do(t, payTab, "pay successfully", chromedp.Click(`button[value=success]`))
	waitJS(t, payTab, "the paid page", `document.querySelector(".hero-ok") !== null`)

	// Both panes show it, live.
	waitJS(t, browser, "the confirmation in the chat", chat+`.querySelector("#msgs").innerText.includes("successfully paid")`)
	waitJS(t, browser, "the order paid in the dashboard", `(`+dash+`.querySelector('form[action$="/ship"] fieldset') || {}).disabled === false`)
	require.Equal(t, a.url+"/demo", location(t, browser), "the demo page never reloaded")
	elapsed := time.Since(started)
	screenshot(t, browser, "demo-paid")
	t.Logf("the demo's sale, from the printed link to both panes showing it paid: %s", elapsed.Round(time.Millisecond))
	require.Less(t, elapsed, time.Minute)
}
