package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// startChat starts a visitor's chat with shopID as the start page's form does and
// returns the chat page's path.
func (b *bundle) startChat(shopID string) string {
	b.t.Helper()
	rec := b.form("/chat/"+shopID+"/new", nil)
	require.Equal(b.t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc := rec.Header().Get("Location")
	require.Regexp(b.t, `^/chat/`+shopID+`\.[A-Za-z0-9_-]{43}$`, loc)
	return loc
}

// chatConversation is the conversation behind a chat page's path.
func (b *bundle) chatConversation(path string) *orders.Conversation {
	b.t.Helper()
	conv, err := b.svc.ConversationByChatToken(context.Background(), strings.TrimPrefix(path, "/chat/"))
	require.NoError(b.t, err)
	return conv
}

// say posts a message from the chat page's form.
func (b *bundle) say(path, nonce, text string, header ...http.Header) *httptest.ResponseRecorder {
	b.t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"same-origin"}}
	for _, extra := range header {
		for k, v := range extra {
			h[k] = v
		}
	}
	return b.request(http.MethodPost, path+"/messages", strings.NewReader(url.Values{"nonce": {nonce}, "text": {text}}.Encode()), h)
}

// chatMessages fetches the messages the page's script reads.
func (b *bundle) chatMessages(path, after string) []chatMessageJSON {
	b.t.Helper()
	q := ""
	if after != "" {
		q = "?after=" + url.QueryEscape(after)
	}
	rec := b.request(http.MethodGet, path+"/messages"+q, nil, http.Header{"Accept": {"application/json"}})
	require.Equal(b.t, http.StatusOK, rec.Code, rec.Body.String())
	return decode[struct {
		Messages []chatMessageJSON `json:"messages"`
	}](b.t, rec).Messages
}

var formNonce = regexp.MustCompile(`name="nonce" value="([A-Za-z0-9_-]{22})"`)

// requireChatFraming checks the chat pages' framing rules: chatpay itself and the
// shop's allowed origins, nobody else.
func requireChatFraming(t testing.TB, rec *httptest.ResponseRecorder, origins string) {
	t.Helper()
	csp := rec.Header().Get("Content-Security-Policy")
	require.Contains(t, csp, "frame-ancestors 'self'"+origins+";", csp)
	require.NotContains(t, csp, "frame-ancestors 'none'")
	for _, d := range []string{"default-src 'none'", "form-action 'self'", "base-uri 'none'", "script-src 'self'", "connect-src 'self'"} {
		require.Contains(t, csp, d)
	}
	if origins == "" {
		require.Equal(t, "SAMEORIGIN", rec.Header().Get("X-Frame-Options"))
	} else {
		require.Empty(t, rec.Header().Values("X-Frame-Options"), "X-Frame-Options cannot name other origins")
	}
	require.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

func TestWebChatStart(t *testing.T) {
	t.Parallel()
	b := setup(t)

	rec := b.request(http.MethodGet, "/chat/shop-a/new", nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `<form method="post" action="/chat/shop-a/new" id="start" data-shop="shop-a">`)
	require.Contains(t, rec.Body.String(), `<script src="/assets/chat.js" defer></script>`)
	requireChatFraming(t, rec, "")
	require.Empty(t, b.conversations(t, "shop-a"), "showing the start page opens nothing: crawlers and link previews GET")

	// The form opens a conversation for a new visitor; each visitor gets their own.
	first := b.startChat("shop-a")
	second := b.startChat("shop-a")
	require.NotEqual(t, first, second)
	conv := b.chatConversation(first)
	require.Equal(t, orders.ChannelWebchat, conv.Channel)
	require.Regexp(t, `^[0-9a-f]{32}$`, conv.ExternalID)

	rec = b.request(http.MethodGet, first, nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	html := rec.Body.String()
	require.Contains(t, html, `lang="vi"`, "the shop's language")
	require.Contains(t, html, "Nhắn tin với cửa hàng")
	require.Contains(t, html, `<p class="note intro">`, "an empty chat says what it is for")
	require.Contains(t, html, `action="`+first+`/messages"`)
	requireChatFraming(t, rec, "")

	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		status             int
	}{
		{"unknown shop", http.MethodGet, "/chat/nope/new", nil, http.StatusNotFound},
		{"unknown shop, post", http.MethodPost, "/chat/nope/new", http.Header{"Sec-Fetch-Site": {"same-origin"}}, http.StatusNotFound},
		{"cross-site post", http.MethodPost, "/chat/shop-a/new", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
	} {
		rec := b.request(tc.method, tc.path, nil, tc.header)
		require.Equal(t, tc.status, rec.Code, tc.name)
		require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"), "%s: error pages are never framed", tc.name)
	}
}

// conversations lists the shop's web chat conversations.
func (b *bundle) conversations(t *testing.T, shopID string) []*orders.ConversationSummary {
	t.Helper()
	list, _, err := b.svc.ListConversations(context.Background(), shopID, orders.ConversationFilter{Channel: orders.ChannelWebchat})
	require.NoError(t, err)
	return list
}

func TestWebChatNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := b.startChat("shop-a")
	other := b.startChat("shop-b")
	_, blob, _ := strings.Cut(strings.TrimPrefix(path, "/chat/"), ".")
	_, otherBlob, _ := strings.Cut(strings.TrimPrefix(other, "/chat/"), ".")
	last := blob[len(blob)-1]
	forged := blob[:len(blob)-1] + map[bool]string{true: "B", false: "A"}[last == 'A']

	for _, p := range []string{
		"/chat/garbage",
		"/chat/shop-a." + strings.Repeat("A", 43),
		"/chat/shop-a." + forged,
		"/chat/shop-a." + otherBlob, // shop B's conversation under shop A
		"/chat/shop-b." + blob,
		"/chat/shop-x." + blob,
		"/chat/" + url.PathEscape("shop-a."+blob[:20]+"\n"+blob[21:]),
	} {
		rec := b.request(http.MethodGet, p, nil, nil)
		require.Contains(t, requirePage(t, rec, http.StatusNotFound), "<html", p)
		rec = b.request(http.MethodGet, p+"/messages", nil, http.Header{"Accept": {"application/json"}})
		requireError(t, rec, http.StatusNotFound, orders.ENOTFOUND, "")
		rec = b.request(http.MethodGet, p+"/events", nil, nil)
		require.Equal(t, http.StatusNotFound, rec.Code, p)
		rec = b.say(p, orders.NewLinkToken(), "hello")
		require.Equal(t, http.StatusNotFound, rec.Code, p)
	}
	require.Empty(t, b.transcript(t, b.chatConversation(path)), "nothing was recorded anywhere")
	require.Empty(t, b.transcript(t, b.chatConversation(other)))
}

// transcript is what the store holds of a conversation, oldest first.
func (b *bundle) transcript(t *testing.T, conv *orders.Conversation) []*orders.Message {
	t.Helper()
	tr, err := b.svc.Transcript(context.Background(), conv.ShopID, conv.ID, orders.MessageFilter{Limit: orders.MaxTranscriptPage})
	require.NoError(t, err)
	return tr.Messages
}

func TestWebChatSend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := b.startChat("shop-b")
	conv := b.chatConversation(path)

	rec := b.request(http.MethodGet, path, nil, nil)
	m := formNonce.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m, "the form carries a nonce")
	nonce := m[1]
	rec = b.request(http.MethodGet, path, nil, nil)
	require.NotEqual(t, nonce, formNonce.FindStringSubmatch(rec.Body.String())[1], "a fresh nonce on every render")

	// Without script: 303 back to the newest message. A double submit (the same
	// form, so the same nonce) records the message once.
	for range 2 {
		rec = b.say(path, nonce, "  Do you have size M? <b>bold</b>  ")
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		require.Equal(t, path+"#end", rec.Header().Get("Location"))
	}
	ms := b.transcript(t, conv)
	require.Len(t, ms, 1)
	require.Equal(t, orders.DirectionIn, ms[0].Direction)
	require.Equal(t, "Do you have size M? <b>bold</b>", ms[0].Text)

	rec = b.request(http.MethodGet, path, nil, nil)
	html := rec.Body.String()
	require.Contains(t, html, `class="msg mine"`)
	require.Contains(t, html, "Do you have size M? &lt;b&gt;bold&lt;/b&gt;")
	require.Contains(t, html, `<p class="note intro" hidden>`)

	// With script: JSON, and the same idempotency.
	jsonReq := http.Header{"Accept": {"application/json"}}
	second := orders.NewLinkToken()
	for range 2 {
		rec = b.say(path, second, "and in blue?", jsonReq)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.JSONEq(t, `{"ok": true}`, rec.Body.String())
	}
	got := b.chatMessages(path, "")
	require.Len(t, got, 2)
	require.True(t, got[0].Mine)
	require.Equal(t, "and in blue?", got[1].Text)
	require.Equal(t, got, b.chatMessages(path, got[1].ID),
		"messages stamped within a minute before the last one seen come again (one may commit late); the page skips those it has")

	// A blank message sends nothing and loses nothing.
	rec = b.say(path, orders.NewLinkToken(), "   ")
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Len(t, b.transcript(t, conv), 2)

	// A cross-site post is refused.
	rec = b.request(http.MethodPost, path+"/messages", strings.NewReader("nonce="+orders.NewLinkToken()+"&text=hi"), http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}})
	require.Equal(t, http.StatusForbidden, rec.Code)

	// A form without a usable nonce (an old page) keeps the draft and says why.
	rec = b.say(path, "not-a-nonce", "keep me")
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.Contains(t, rec.Body.String(), "This form has expired.")
	require.Contains(t, rec.Body.String(), ">keep me</textarea>")
	requireChatFraming(t, rec, "")
	rec = b.say(path, "not-a-nonce", "keep me", jsonReq)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.JSONEq(t, `{"error": {"code": "invalid", "reason": "expired"}}`, rec.Body.String())
	require.Len(t, b.transcript(t, conv), 2)
}

func TestWebChatSizeLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := b.startChat("shop-b")
	conv := b.chatConversation(path)

	// Longer than a message may be, but a readable form: refused, the draft kept.
	long := strings.Repeat("ก", orders.MaxChatText+1)
	rec := b.say(path, orders.NewLinkToken(), long)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.Contains(t, rec.Body.String(), "Your message is too long.")
	require.Contains(t, rec.Body.String(), long+"</textarea>")
	rec = b.say(path, orders.NewLinkToken(), long, http.Header{"Accept": {"application/json"}})
	require.JSONEq(t, `{"error": {"code": "invalid", "reason": "too_long"}}`, rec.Body.String())

	// Exactly the limit, in the widest script, fits the body limit.
	widest := strings.Repeat("😀", orders.MaxChatText)
	rec = b.say(path, orders.NewLinkToken(), widest)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())

	// A body past the limit is not read at all.
	rec = b.say(path, orders.NewLinkToken(), strings.Repeat("a", maxChatForm))
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Contains(t, rec.Body.String(), "Your message is too long.")

	ms := b.transcript(t, conv)
	require.Len(t, ms, 1)
	require.Equal(t, widest, ms[0].Text)
}

func TestWebChatRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := b.startChat("shop-b")
	other := b.startChat("shop-b")
	for i := range chatSendLimit {
		rec := b.say(path, orders.NewLinkToken(), "message "+strings.Repeat("!", i))
		require.Equal(t, http.StatusSeeOther, rec.Code, "message %d", i)
	}
	rec := b.say(path, orders.NewLinkToken(), "one too many")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Contains(t, rec.Body.String(), "You are sending messages too quickly.")
	require.Contains(t, rec.Body.String(), ">one too many</textarea>", "the draft is kept")
	require.Len(t, b.transcript(t, b.chatConversation(path)), chatSendLimit)

	rec = b.say(other, orders.NewLinkToken(), "another visitor is not held back")
	require.Equal(t, http.StatusSeeOther, rec.Code)
}

func TestSinceSeen(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	msg := func(id string, at time.Duration) *orders.Message {
		return &orders.Message{ID: id, CreatedAt: t0.Add(at)}
	}
	ms := []*orders.Message{msg("a", 0), msg("b", 2*time.Minute), msg("c", 150*time.Second), msg("d", 3*time.Minute), msg("e", 3*time.Minute)}
	ids := func(ms []*orders.Message) string {
		var b strings.Builder
		for _, m := range ms {
			b.WriteString(m.ID)
		}
		return b.String()
	}
	for after, want := range map[string]string{
		"":        "abcde",
		"a":       "abcde",
		"b":       "bcde",
		"c":       "bcde", // b is stamped within a minute before c: it may have committed after
		"d":       "bcde",
		"e":       "bcde",
		"unknown": "abcde",
	} {
		require.Equal(t, want, ids(sinceSeen(ms, after)), "after %q", after)
	}
}

func TestWebChatTranscript(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := b.startChat("shop-a")
	conv := b.chatConversation(path)
	ctx := context.Background()

	rec := b.say(path, orders.NewLinkToken(), "Chào shop")
	require.Equal(t, http.StatusSeeOther, rec.Code)
	// The shop sells to the visitor through the API, by their visitor id.
	o := b.createOrder(keyA, `{"customer": {"channel": "webchat", "external_id": "`+conv.ExternalID+`", "name": "Lan"},
		"items": [{"name": "Áo thun", "quantity": 2, "unit_price": 150000}], "shipping_fee": 30000}`)
	// A staff note about the conversation never reaches the customer.
	require.NoError(t, b.svc.SendMessages(ctx, "shop-a", conv.ID, "note-1",
		orders.Outbound{Direction: orders.DirectionStaff, Kind: orders.KindStaffNote, Text: "internal: VIP"}))
	require.NoError(t, b.svc.Reply(ctx, "shop-a", conv.ID, "reply-1", "Dạ, shop gửi đơn ạ"))

	rec = b.request(http.MethodGet, path, nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	html := rec.Body.String()
	require.NotContains(t, html, "internal: VIP")
	require.Contains(t, html, "Dạ, shop gửi đơn ạ", "queued messages show at once: the web chat delivers by storing")
	require.Contains(t, html, `class="msg theirs ordercard"`)
	require.Contains(t, html, "#"+o.Code)
	require.Contains(t, html, `href="`+o.PaymentLink.URL+`" target="_blank" rel="noopener">Thanh toán ngay</a>`,
		"Pay now opens outside the widget's frame")
	require.Less(t, strings.Index(html, "Chào shop"), strings.Index(html, "#"+o.Code), "oldest first")

	got := b.chatMessages(path, "")
	require.Len(t, got, 3)
	require.True(t, got[0].Mine)
	require.True(t, got[1].Card)
	require.Equal(t, []chatButtonJSON{{Label: "Thanh toán ngay", URL: o.PaymentLink.URL}}, got[1].Buttons)
	require.False(t, got[2].Mine)
	require.NotEmpty(t, got[2].TimeISO)
	require.Len(t, b.chatMessages(path, "unknown-id"), 3, "an unknown ID gets the latest page")

	// The shop's messages to the visitor's conversation are another shop's 404.
	rec = b.request(http.MethodGet, strings.Replace(path, "shop-a.", "shop-b.", 1), nil, nil)
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestWebChatFraming(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shop, err := b.svc.Shop("shop-b")
	require.NoError(t, err)
	shop.WebChatOrigins = []string{"https://shop-b.example", "https://*.shop-b.example", "https://evil.example; script-src *"}
	path := b.startChat("shop-b")

	want := " https://shop-b.example https://*.shop-b.example"
	rec := b.request(http.MethodGet, path, nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	requireChatFraming(t, rec, want)
	require.NotContains(t, rec.Header().Get("Content-Security-Policy"), "evil", "a value that is not an origin never reaches the header")
	rec = b.request(http.MethodGet, "/chat/shop-b/new", nil, nil)
	requireChatFraming(t, rec, want)
	rec = b.say(path, "bad", "x")
	requireChatFraming(t, rec, want)

	// Shop A allowed nobody else; every other page is never framed.
	rec = b.request(http.MethodGet, b.startChat("shop-a"), nil, nil)
	requireChatFraming(t, rec, "")
	o := b.createOrder(keyB, orderBody)
	rec = b.request(http.MethodGet, payPathOf(o), nil, nil)
	requirePage(t, rec, http.StatusOK)
	rec = b.request(http.MethodGet, "/chat/nope", nil, nil)
	requirePage(t, rec, http.StatusNotFound)
}

func TestWebChatWidget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := b.request(http.MethodGet, "/widget.js", nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/javascript; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Equal(t, "cross-origin", rec.Header().Get("Cross-Origin-Resource-Policy"))
	require.Equal(t, "public, max-age=3600", rec.Header().Get("Cache-Control"))
	js := rec.Body.String()
	require.Contains(t, js, `"/chat/" + shop + "/new"`)
	// Nothing in it writes markup or inline styles (a shop's CSP would refuse them),
	// stores anything on the shop's site, or reads its cookies.
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "setAttribute(\"style\"", "localStorage", "sessionStorage", "document.cookie", "eval(", "postMessage"} {
		require.NotContains(t, js, banned)
	}
	rec = b.request(http.MethodGet, "/assets/chat.js", nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
}

// fakeLive hands out one channel of changes per subscription, which the test feeds.
type fakeLive struct {
	mu   sync.Mutex
	subs []chan orders.Change
	shop []string
}

func (f *fakeLive) Subscribe(ctx context.Context, shopID string) (<-chan orders.Change, func()) {
	ch := make(chan orders.Change, 8)
	f.mu.Lock()
	f.subs, f.shop = append(f.subs, ch), append(f.shop, shopID)
	f.mu.Unlock()
	return ch, func() {}
}

func (f *fakeLive) publish(c orders.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ch := range f.subs {
		if f.shop[i] == c.Shop {
			ch <- c
		}
	}
}

func (f *fakeLive) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func TestWebChatEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	live := &fakeLive{}
	pages, err := templates.New()
	require.NoError(t, err)
	srv, err := New(Config{Service: b.svc, Gateways: b.gateways, Pages: pages, Live: live})
	require.NoError(t, err)
	engine := gin.New()
	srv.Register(engine)
	ts := httptest.NewServer(engine)
	t.Cleanup(ts.Close)

	path := b.startChat("shop-a")
	conv := b.chatConversation(path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path+"/events", nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	require.Eventually(t, func() bool { return live.subscribers() == 1 }, 30*time.Second, 10*time.Millisecond)

	// Another conversation's changes, and the order changes, are not this visitor's.
	live.publish(orders.Change{Kind: orders.ChangeMessage, Shop: "shop-a", Conversation: "someone-else"})
	live.publish(orders.Change{Kind: orders.ChangeOrder, Shop: "shop-a", Conversation: conv.ID, Order: "o1"})
	live.publish(orders.Change{Kind: orders.ChangeMessage, Shop: "shop-a", Conversation: conv.ID, Order: "o1"})

	lines := bufio.NewScanner(res.Body)
	var events []orders.Change
	for lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
			var ch orders.Change
			require.NoError(t, json.Unmarshal([]byte(data), &ch))
			events = append(events, ch)
			break
		}
	}
	require.Equal(t, []orders.Change{{Kind: orders.ChangeMessage, Shop: "shop-a", Conversation: conv.ID, Order: "o1"}}, events)

	// A conversation holds a few streams at most.
	var open []*http.Response
	for range maxChatStreams - 1 {
		r, err := http.Get(ts.URL + path + "/events")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode)
		open = append(open, r)
	}
	r, err := http.Get(ts.URL + path + "/events")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	for _, r := range open {
		r.Body.Close()
	}

	// Without a hub the page is told not to stream (204), and polls instead.
	rec := b.request(http.MethodGet, path+"/events", nil, nil)
	require.Equal(t, http.StatusNoContent, rec.Code)
}

// TestWebChatCancelledOrder: a card sent before the order was cancelled keeps its Pay
// now (the chat is a record of what was sent), and the pay page it leads to says the
// link is gone.
func TestWebChatCancelledOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := b.startChat("shop-b")
	conv := b.chatConversation(path)
	o := b.createOrder(keyB, `{"customer": {"channel": "webchat", "external_id": "`+conv.ExternalID+`"},
		"items": [{"name": "Tee", "quantity": 1, "unit_price": 50000}]}`)
	rec := b.api(http.MethodPost, "/api/v1/orders/"+o.ID+"/cancel", keyB, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	rec = b.request(http.MethodGet, path, nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `href="`+o.PaymentLink.URL+`" target="_blank" rel="noopener">Pay now</a>`)
	rec = b.request(http.MethodGet, payPathOf(o), nil, nil)
	require.Equal(t, http.StatusGone, rec.Code)
}

// TestWebChatStaffMirror: a shop whose staff work in a Telegram group gets the
// visitor's words in the visitor's topic there, as for a Telegram customer.
func TestWebChatStaffMirror(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shop, err := b.svc.Shop("shop-b")
	require.NoError(t, err)
	shop.StaffChat = true
	path := b.startChat("shop-b")
	conv := b.chatConversation(path)
	nonce := orders.NewLinkToken()
	rec := b.say(path, nonce, "Is the blue one in stock?")
	require.Equal(t, http.StatusSeeOther, rec.Code)

	// The replies to a message are queued under its key (the service's outbound IDs).
	mirror, err := b.svc.Store().Message(context.Background(), "shop-b", "out:webchat:"+conv.ID+":"+nonce+":0")
	require.NoError(t, err)
	require.Equal(t, orders.DirectionStaff, mirror.Direction)
	require.Equal(t, orders.KindMirror, mirror.Kind)
	require.Equal(t, conv.ID, mirror.ConversationID)
	require.Equal(t, "Customer: Is the blue one in stock?", mirror.Text)
	rec = b.request(http.MethodGet, path, nil, nil)
	require.Equal(t, 1, strings.Count(rec.Body.String(), "Is the blue one in stock?"), "the customer sees their message once, not the staff's copy")
}

func TestWebChatOpenThroughAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	type chat struct {
		ConversationID string `json:"conversation_id"`
		ExternalID     string `json:"external_id"`
		URL            string `json:"url"`
	}
	rec := b.api(http.MethodPost, "/api/v1/chats", keyA, `{"external_id": "customer-7", "name": "Lan"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := decode[chat](t, rec)
	require.Equal(t, "customer-7", got.ExternalID)
	require.Regexp(t, `^`+regexp.QuoteMeta(b.url)+`/chat/shop-a\.[A-Za-z0-9_-]{43}$`, got.URL)
	rec = b.api(http.MethodPost, "/api/v1/chats", keyA, `{"external_id": "customer-7"}`)
	require.Equal(t, got, decode[chat](t, rec), "the same id, the same chat")

	// The order the shop makes for that id shows on the page.
	o := b.createOrder(keyA, `{"customer": {"channel": "webchat", "external_id": "customer-7"},
		"items": [{"name": "Áo thun", "quantity": 1, "unit_price": 150000}]}`)
	path := strings.TrimPrefix(got.URL, b.url)
	rec = b.request(http.MethodGet, path, nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "#"+o.Code)

	// Numbers are ids too; no id is a new visitor; bad input names the field.
	rec = b.api(http.MethodPost, "/api/v1/chats", keyA, `{"external_id": 42}`)
	require.Equal(t, "42", decode[chat](t, rec).ExternalID)
	rec = b.api(http.MethodPost, "/api/v1/chats", keyA, ``)
	require.Regexp(t, `^[0-9a-f]{32}$`, decode[chat](t, rec).ExternalID)
	requireError(t, b.api(http.MethodPost, "/api/v1/chats", keyA, `{"external_id": "  "}`), http.StatusBadRequest, orders.EINVALID, "external_id")
	requireError(t, b.api(http.MethodPost, "/api/v1/chats", keyA, `{"visitor": "x"}`), http.StatusBadRequest, orders.EINVALID, "visitor")
	requireError(t, b.api(http.MethodPost, "/api/v1/chats", "", `{}`), http.StatusUnauthorized, orders.EUNAUTHORIZED, "")

	// Another shop's key opens that shop's own conversation, never shop A's.
	rec = b.api(http.MethodPost, "/api/v1/chats", keyB, `{"external_id": "customer-7"}`)
	other := decode[chat](t, rec)
	require.NotEqual(t, got.ConversationID, other.ConversationID)
	require.Contains(t, other.URL, "/chat/shop-b.")
}

// TestWebChatEventsPerAddress: starting chats is cheap, so one address cannot hold
// more than maxChatStreamsPerIP streams over all its conversations; a stream closed
// frees its place.
func TestWebChatEventsPerAddress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pages, err := templates.New()
	require.NoError(t, err)
	srv, err := New(Config{Service: b.svc, Gateways: b.gateways, Pages: pages, Live: &fakeLive{}})
	require.NoError(t, err)
	engine := gin.New()
	srv.Register(engine)
	ts := httptest.NewServer(engine)
	t.Cleanup(ts.Close)

	get := func(path string) *http.Response {
		res, err := http.Get(ts.URL + path + "/events")
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	var open []*http.Response
	for len(open) < maxChatStreamsPerIP {
		path := b.startChat("shop-a")
		for range min(maxChatStreams, maxChatStreamsPerIP-len(open)) {
			res := get(path)
			require.Equal(t, http.StatusOK, res.StatusCode)
			open = append(open, res)
		}
	}
	fresh := b.startChat("shop-a")
	res := get(fresh)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "a new conversation does not lift the address's bound")

	open[0].Body.Close()
	require.Eventually(t, func() bool {
		res, err := http.Get(ts.URL + fresh + "/events")
		require.NoError(t, err)
		defer res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 5*time.Second, 20*time.Millisecond, "a closed stream frees its place")
}

// TestWebChatStartLimitIsFramable: a visitor meets the "too many chats" answer inside
// the widget's frame, so it must be framable there, not a browser error.
func TestWebChatStartLimitIsFramable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range chatStartLimit {
		b.startChat("shop-b")
	}
	rec := b.form("/chat/shop-b/new", nil)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'self'")
	require.NotContains(t, rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'")
}
