package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// visitor is a customer in the web chat, browsing without script as the page allows.
type visitor struct {
	a    *app
	path string // the chat page, /chat/<token>
}

var chatNonce = regexp.MustCompile(`name="nonce" value="([A-Za-z0-9_-]{22})"`)

// startChat opens the shop's start page and starts a chat, as the widget does.
func (a *app) startChat(shopID string) *visitor {
	a.t.Helper()
	res, body := a.get(a.url + "/chat/" + shopID + "/new")
	require.Equal(a.t, http.StatusOK, res.StatusCode)
	require.Contains(a.t, body, `action="/chat/`+shopID+`/new"`)
	res = a.postForm(a.url+"/chat/"+shopID+"/new", nil)
	require.Equal(a.t, http.StatusSeeOther, res.StatusCode)
	path := res.Header.Get("Location")
	require.Regexp(a.t, `^/chat/`+shopID+`\.[A-Za-z0-9_-]{43}$`, path)
	return &visitor{a: a, path: path}
}

// page fetches the chat page.
func (v *visitor) page() string {
	v.a.t.Helper()
	res, body := v.a.get(v.a.url + v.path)
	require.Equal(v.a.t, http.StatusOK, res.StatusCode)
	return body
}

// say writes a message with the page's form, as a browser without script would.
func (v *visitor) say(text string) {
	v.a.t.Helper()
	m := chatNonce.FindStringSubmatch(v.page())
	require.NotNil(v.a.t, m)
	res := v.a.postForm(v.a.url+v.path+"/messages", url.Values{"nonce": {m[1]}, "text": {text}})
	require.Equal(v.a.t, http.StatusSeeOther, res.StatusCode)
	require.Equal(v.a.t, v.path+"#end", res.Header.Get("Location"))
}

// waitFor polls the chat page until it shows want (HTML-escaped as the page prints
// it) and returns the page.
func (v *visitor) waitFor(what, want string) string {
	v.a.t.Helper()
	var body string
	require.Eventually(v.a.t, func() bool {
		body = v.page()
		return strings.Contains(body, want)
	}, 30*time.Second, 25*time.Millisecond, "waiting for %s in the chat", what)
	return body
}

// chatCard matches an order card on the chat page.
var chatCard = regexp.MustCompile(`(?s)<li class="msg theirs ordercard"[^>]*>.*?</li>`)

// conversation is the visitor's conversation as the store has it.
func (v *visitor) conversation() *orders.Conversation {
	v.a.t.Helper()
	conv, err := v.a.m.Service.ConversationByChatToken(context.Background(), strings.TrimPrefix(v.path, "/chat/"))
	require.NoError(v.a.t, err)
	return conv
}

// TestWebChatSellsEndToEnd is the web chat on the real Main: a visitor starts a chat
// and writes, the message reaches the shop's inbox, the shop sells to the visitor
// through the REST API, and the visitor sees the order card with Pay now, the Pay again
// message after a declined payment, and the paid confirmation, live on the event
// stream as well as on the page; once paid, the card itself reads paid, without Pay
// now.
func TestWebChatSellsEndToEnd(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a := setup(t, store)
		ctx := context.Background()
		v := a.startChat("shop-a")
		require.Contains(t, v.page(), "Nhắn tin với cửa hàng", "the shop's language")

		v.say("Chào shop, còn áo size M không?")
		conv := v.conversation()
		require.Equal(t, orders.ChannelWebchat, conv.Channel)
		inbox, _, err := a.m.Service.ListConversations(ctx, "shop-a", orders.ConversationFilter{Channel: orders.ChannelWebchat})
		require.NoError(t, err)
		require.Len(t, inbox, 1)
		require.Equal(t, conv.ID, inbox[0].Conversation.ID)
		require.True(t, inbox[0].AwaitingReply(), "the visitor's message waits for the shop in the inbox")
		require.Equal(t, "Chào shop, còn áo size M không?", inbox[0].LastMessage.Text)
		require.Equal(t, orders.DirectionIn, inbox[0].LastMessage.Direction)

		// A card number typed into the chat is never stored, and the visitor is told.
		v.say("số thẻ của tôi 4111 1111 1111 1111")
		body := v.waitFor("the card warning", "vui lòng không gửi số thẻ")
		require.NotContains(t, body, "4111")
		tr, err := a.m.Service.Transcript(ctx, "shop-a", conv.ID, orders.MessageFilter{})
		require.NoError(t, err)
		for _, m := range tr.Messages {
			require.NotContains(t, m.Text, "4111")
		}

		// The visitor's page listens for its conversation's changes.
		events := v.listen(ctx)

		// The shop sells to the visitor by their visitor id.
		o := a.createOrder(keyA, webchatOrder(conv.ExternalID))
		id, link := o["id"].(string), linkOf(o)
		a.waitMessages(keyA, id, "the order card delivered by the web chat channel", allSent)
		body = v.waitFor("the order card", "#"+o["code"].(string))
		require.Contains(t, body, `class="msg theirs ordercard"`)
		require.Contains(t, body, `href="`+html.EscapeString(link)+`" target="_blank" rel="noopener">Thanh toán ngay</a>`)
		require.Equal(t, conv.ID, events.next(t).Conversation, "the page hears of the card")

		// A declined payment: the Pay again message, with the same link.
		a.pay(link, "decline", "normal")
		body = v.waitFor("Pay again", ">Thanh toán lại</a>")
		require.Equal(t, 2, strings.Count(body, `href="`+html.EscapeString(link)+`"`))

		// Paid: the confirmation arrives in the chat.
		a.pay(link, "success", "normal")
		body = v.waitFor("the paid confirmation", "Bạn đã thanh toán cho đơn hàng #"+o["code"].(string)+" thành công.")
		require.Less(t, strings.Index(body, "Chào shop"), strings.Index(body, "thành công."), "oldest first")

		// The card turns paid too: the RefreshCard job edits it through the web chat
		// channel, which rewrites the stored card, so its Pay now is gone.
		const paidMark = "✅ Đã thanh toán"
		body = v.waitFor("the card shown paid", paidMark)
		cards := chatCard.FindAllString(body, -1)
		require.Len(t, cards, 1)
		require.Contains(t, cards[0], "#"+o["code"].(string), "the same order's card")
		require.Contains(t, cards[0], paidMark)
		require.NotContains(t, cards[0], "Thanh toán ngay")
		require.NotContains(t, cards[0], html.EscapeString(link))
		card, err := a.m.Service.Store().OrderMessages(ctx, "shop-a", id)
		require.NoError(t, err)
		require.Equal(t, orders.KindOrderCard, card[0].Kind)
		require.Equal(t, orders.MessageSent, card[0].Status, "edited, still delivered")
		require.Empty(t, card[0].Buttons)

		// The page's script reads the same messages as JSON.
		res, raw := a.get(a.url + v.path + "/messages")
		require.Equal(t, http.StatusOK, res.StatusCode)
		var got struct {
			Messages []struct {
				Mine    bool   `json:"mine"`
				Card    bool   `json:"card"`
				Text    string `json:"text"`
				Buttons []struct {
					Label, URL string
				} `json:"buttons"`
			} `json:"messages"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &got))
		var mine, cardsJSON int
		for _, m := range got.Messages {
			if m.Mine {
				mine++
			}
			if m.Card {
				cardsJSON++
				require.Contains(t, m.Text, paidMark)
				require.Empty(t, m.Buttons, "no Pay now on a paid order's card")
			}
		}
		require.Equal(t, 2, mine)
		require.Equal(t, 1, cardsJSON)

		// Another shop's visitors, and forged tokens, see nothing of it.
		res, _ = a.get(a.url + strings.Replace(v.path, "shop-a.", "shop-b.", 1))
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})
}

// stream is a chat page's open event stream.
type stream struct {
	lines  *bufio.Scanner
	events chan orders.Change
}

// listen opens the chat's event stream, as the page's script does.
func (v *visitor) listen(ctx context.Context) *stream {
	v.a.t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	v.a.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.a.url+v.path+"/events", nil)
	require.NoError(v.a.t, err)
	// Not a.client: its timeout would end the stream.
	res, err := http.DefaultClient.Do(req)
	require.NoError(v.a.t, err)
	require.Equal(v.a.t, http.StatusOK, res.StatusCode)
	require.Equal(v.a.t, "text/event-stream", res.Header.Get("Content-Type"))
	s := &stream{lines: bufio.NewScanner(res.Body), events: make(chan orders.Change, 64)}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		for s.lines.Scan() {
			if data, ok := strings.CutPrefix(s.lines.Text(), "data: "); ok {
				var ch orders.Change
				if json.Unmarshal([]byte(data), &ch) == nil {
					s.events <- ch
				}
			}
		}
	}()
	return s
}

// next waits for the stream's next change.
func (s *stream) next(t *testing.T) orders.Change {
	t.Helper()
	select {
	case ch, ok := <-s.events:
		require.True(t, ok, "the stream ended")
		return ch
	case <-time.After(30 * time.Second):
		t.Fatal("no change on the chat's event stream")
		return orders.Change{}
	}
}

// shopSite is a shop's own site on another origin than chatpay's, with a strict
// Content-Security-Policy that allows chatpay's origin for scripts and frames only,
// and the widget's one tag. Its record.js notes every CSP violation on the page.
func shopSite(t *testing.T, ln net.Listener, chatpay func() string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := chatpay()
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+origin+"; frame-src "+origin+"; style-src 'self'")
		switch r.URL.Path {
		case "/record.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `window.violations = []; document.addEventListener("securitypolicyviolation", e => window.violations.push(e.violatedDirective + " " + e.blockedURI));`)
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Cửa hàng A</title>
<script src="/record.js"></script>
<script src="%s/widget.js" data-shop="shop-a" async></script></head>
<body><h1>Cửa hàng A</h1><p>Áo thun cotton, 150.000 ₫</p></body></html>`, origin)
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// chatFrame waits for the widget's frame, in its own process (the shop's site is
// another site), to show a chat page and attaches to it.
func chatFrame(t *testing.T, browser context.Context, chatpay string) (context.Context, string) {
	t.Helper()
	var found *target.Info
	require.Eventually(t, func() bool {
		infos, err := chromedp.Targets(browser)
		require.NoError(t, err)
		for _, info := range infos {
			if info.Type == "iframe" && chatFramePath.MatchString(strings.TrimPrefix(info.URL, chatpay)) {
				found = info
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, "the widget's frame with a chat page")
	frame, cancel := chromedp.NewContext(browser, chromedp.WithTargetID(found.TargetID))
	t.Cleanup(cancel)
	return frame, strings.TrimPrefix(found.URL, chatpay)
}

// chatFrames counts the frames in the browser that show a chat page.
func chatFrames(t *testing.T, browser context.Context, chatpay string) int {
	t.Helper()
	infos, err := chromedp.Targets(browser)
	require.NoError(t, err)
	n := 0
	for _, info := range infos {
		if info.Type == "iframe" && chatFramePath.MatchString(strings.TrimPrefix(info.URL, chatpay)) {
			n++
		}
	}
	return n
}

// viewportShot saves what the tab's viewport shows as NAME.png among the artifacts.
// A full-page screenshot lays the page out again at its whole height, which moves
// the widget's fixed button and panel and resets the frame's scrolling.
func viewportShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err, "screenshot %s", name)
	path := filepath.Join(screenshotDir(t), name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
}

// tapWidget taps the widget's button. It sits in a closed shadow root, out of the
// page's reach, so the tap goes where the button is: 20 px from the bottom and end
// corner, 52 px high.
func tapWidget(t *testing.T, browser context.Context) {
	t.Helper()
	size := js[[]float64](t, browser, `[window.innerWidth, window.innerHeight]`)
	do(t, browser, "open the chat", chromedp.MouseClickXY(size[0]-60, size[1]-46))
}

var chatFramePath = regexp.MustCompile(`^/chat/shop-a\.[A-Za-z0-9_-]{43}$`)

// TestBrowserWebChatWidget puts the widget on a shop's own site, in a real browser:
// one tap opens the chat in a frame, the customer writes with Enter, the shop's order
// card arrives live with a Pay now that opens outside the frame, and the next visit
// reopens the same chat. The shop's strict CSP reports no violation, and the widget
// fills a phone's screen.
func TestBrowserWebChatWidget(t *testing.T) {
	// Not parallel: see newBrowser.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	// localhost is another site than chatpay's 127.0.0.1, as a shop's site is.
	site := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	var chatpay string
	shopSite(t, ln, func() string { return chatpay })
	a := setupWith(t, "sqlite", options{shopAExtra: "    webchat:\n      allowed_origins: [\"" + site + "\"]\n"})
	chatpay = a.url
	browser := newBrowser(t, 1280, 800)

	do(t, browser, "open the shop's site", chromedp.Navigate(site+"/"))
	waitJS(t, browser, "the widget", `document.querySelector("[data-chatpay-widget]") !== null`)
	viewportShot(t, browser, "widget-closed")
	// The button sits in a closed shadow root, out of the page's reach: tap where it is.
	tapWidget(t, browser)
	frame, path := chatFrame(t, browser, a.url)
	waitJS(t, frame, "the chat page", `document.querySelector("#compose") !== null && document.querySelector(".chat.live") !== null`)
	do(t, frame, "write", chromedp.SendKeys("#text", "Chào shop, còn áo size M không?"))
	// Enter sends (the protocol's own key events would also type the line break that
	// a real keyboard's Enter does not once the page has taken it).
	js[bool](t, frame, `document.querySelector("#text").dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true, cancelable: true})) === false`)
	waitJS(t, frame, "the customer's message", `[...document.querySelectorAll("#msgs .msg.mine")].some(m => m.textContent.includes("size M"))`)
	require.Equal(t, "", js[string](t, frame, `document.querySelector("#text").value`), "the box is emptied once sent")
	v := &visitor{a: a, path: path}
	conv := v.conversation()

	// The shop sells; the card arrives without a reload.
	js[bool](t, frame, `window.noReload = true`)
	o := a.createOrder(keyA, webchatOrder(conv.ExternalID))
	waitJS(t, frame, "the order card", `document.querySelector("#msgs .ordercard a.btn") !== null`)
	require.True(t, js[bool](t, frame, `window.noReload === true`), "the card arrived live")
	require.Equal(t, linkOf(o), js[string](t, frame, `document.querySelector("#msgs .ordercard a.btn").href`))
	require.Equal(t, "_blank", js[string](t, frame, `document.querySelector("#msgs .ordercard a.btn").target`),
		"the pay page opens outside the frame")
	viewportShot(t, browser, "widget-open")
	require.Empty(t, js[[]string](t, browser, `window.violations`), "the widget runs under the shop's strict CSP")

	// Another visit to the shop's site reopens the same chat.
	do(t, browser, "come back", chromedp.Navigate(site+"/"))
	waitJS(t, browser, "the widget", `document.querySelector("[data-chatpay-widget]") !== null`)
	tapWidget(t, browser)
	again, path2 := chatFrame(t, browser, a.url)
	require.Equal(t, path, path2, "the same conversation")
	waitJS(t, again, "the transcript", `document.querySelectorAll("#msgs .msg").length === 2`)
	inbox, _, err := a.m.Service.ListConversations(context.Background(), "shop-a", orders.ConversationFilter{})
	require.NoError(t, err)
	require.Len(t, inbox, 1, "no second conversation")

	// On a phone the widget's chat fills the screen, and the chat page fits its width.
	phone, cancel := chromedp.NewContext(browser)
	defer cancel()
	do(t, phone, "phone size", chromedp.EmulateViewport(375, 740), chromedp.Navigate(site+"/"))
	waitJS(t, phone, "the widget", `document.querySelector("[data-chatpay-widget]") !== null`)
	tapWidget(t, phone)
	waitJS(t, phone, "the chat over the whole screen", `document.elementFromPoint(10, 10) === document.querySelector("[data-chatpay-widget]") &&
		document.elementFromPoint(innerWidth - 10, innerHeight - 10) === document.querySelector("[data-chatpay-widget]")`)
	require.Eventually(t, func() bool { return chatFrames(t, browser, a.url) == 2 }, 20*time.Second, 50*time.Millisecond,
		"the phone's widget reopens the chat too")
	viewportShot(t, phone, "widget-phone")
	do(t, phone, "open the chat page itself", chromedp.Navigate(a.url+path))
	waitJS(t, phone, "the chat page", `document.querySelector(".chat.live") !== null`)
	require.LessOrEqual(t, js[int](t, phone, `document.documentElement.scrollWidth`), 375)
	screenshot(t, phone, "webchat-phone")
}
