package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// inbox is a dashboard with an inbox under test: shop-a (VND, English) and shop-b
// (THB), an owner and a staff member of shop-a and an owner of shop-b, signed in.
type inbox struct {
	*dash
	svc    *orders.Service
	now    time.Time
	mu     sync.Mutex
	owner  *http.Cookie
	staff  *http.Cookie
	ownerB *http.Cookie
}

func setupInbox(t *testing.T) *inbox {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	require.NoError(t, store.Migrate(ctx))
	pages, err := templates.New()
	require.NoError(t, err)
	in := &inbox{dash: &dash{t: t}, now: time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)}
	in.svc, err = orders.NewService(orders.Config{
		Shops: []*orders.Shop{
			{ID: "shop-a", Name: "Shop A", Currency: "VND", Locale: "en"},
			{ID: "shop-b", Name: "Shop B", Currency: "THB", Locale: "en"},
		},
		Store: store, Renderer: testRenderer{pages}, PublicURL: "https://pay.example",
		LinkKey: bytes.Repeat([]byte{7}, orders.LinkKeyLen),
		Now: func() time.Time {
			in.mu.Lock()
			defer in.mu.Unlock()
			return in.now
		},
	})
	require.NoError(t, err)
	in.auth, in.clock = authtest.NewService(t, store)
	for _, u := range []struct {
		shop, email string
		role        auth.Role
	}{
		{"shop-a", "owner@example.com", auth.RoleOwner},
		{"shop-a", "staff@example.com", auth.RoleStaff},
		{"shop-b", "owner@example.com", auth.RoleOwner},
	} {
		_, err = in.auth.AddUser(ctx, u.shop, u.email, u.role, authtest.Password)
		require.NoError(t, err)
	}
	srv, err := New(Config{Service: in.svc, Gateways: gateway.NewRegistry(), Pages: pages, Auth: in.auth})
	require.NoError(t, err)
	in.engine = gin.New()
	srv.Register(in.engine)
	signIn := func(shop, email string) *http.Cookie {
		rec := in.do(http.MethodPost, "/dashboard/signin",
			url.Values{"shop": {shop}, "email": {email}, "password": {authtest.Password}}, sameSite)
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		return sessionCookieOf(t, rec, "chatpay_session")
	}
	in.owner, in.staff, in.ownerB = signIn("shop-a", "owner@example.com"), signIn("shop-a", "staff@example.com"), signIn("shop-b", "owner@example.com")
	return in
}

// tick moves the service's clock on, so that messages recorded next are newer.
func (in *inbox) tick(d time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.now = in.now.Add(d)
}

// says records a customer's message on channel and returns the conversation.
func (in *inbox) says(shop, channel, who, text string) *orders.Conversation {
	in.t.Helper()
	in.tick(time.Second)
	conv, _, err := in.svc.ReceiveMessage(context.Background(), shop, orders.InboundMessage{
		Channel: channel, ExternalID: who, CustomerName: "Name " + who, Key: fmt.Sprintf("%s-%d", who, in.now.UnixNano()), Text: text,
	})
	require.NoError(in.t, err)
	return conv
}

func (in *inbox) get(path string, cookie *http.Cookie) *httptest.ResponseRecorder {
	in.t.Helper()
	return in.do(http.MethodGet, path, nil, nil, cookie)
}

func (in *inbox) post(path string, form url.Values, cookie *http.Cookie) *httptest.ResponseRecorder {
	in.t.Helper()
	return in.do(http.MethodPost, path, form, sameSite, cookie)
}

var nonceField = regexp.MustCompile(`name="nonce" value="([^"]+)"`)

// nonceOf is the form nonce a page was drawn with.
func nonceOf(t *testing.T, body string) string {
	t.Helper()
	m := nonceField.FindStringSubmatch(body)
	require.NotNil(t, m, "no nonce in the page")
	return m[1]
}

// outbound lists the conversation's messages to the customer.
func (in *inbox) outbound(conv *orders.Conversation) []*orders.Message {
	in.t.Helper()
	tr, err := in.svc.Transcript(context.Background(), conv.ShopID, conv.ID, orders.MessageFilter{Limit: orders.MaxTranscriptPage})
	require.NoError(in.t, err)
	var out []*orders.Message
	for _, m := range tr.Messages {
		if m.Direction == orders.DirectionOut {
			out = append(out, m)
		}
	}
	return out
}

func TestInboxNeedsSession(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	conv := in.says("shop-a", orders.ChannelWebchat, "v1", "hi")
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/dashboard/inbox"},
		{http.MethodGet, conversationPath(conv.ID)},
		{http.MethodGet, conversationPath(conv.ID) + "/orders/new"},
		{http.MethodPost, conversationPath(conv.ID) + "/reply"},
		{http.MethodPost, conversationPath(conv.ID) + "/orders/new"},
	} {
		var form url.Values
		if c.method == http.MethodPost {
			form = url.Values{"nonce": {newNonce()}, "text": {"hi"}}
		}
		rec := in.do(c.method, c.path, form, sameSite)
		require.Equal(t, http.StatusSeeOther, rec.Code, "%s %s", c.method, c.path)
		require.Equal(t, "/dashboard/signin", rec.Header().Get("Location"))
	}
	require.Empty(t, in.outbound(conv))
}

func TestInboxListsConversations(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	web := in.says("shop-a", orders.ChannelWebchat, "visitor-1", "Hello <there>")
	tg := in.says("shop-a", orders.ChannelTelegram, "4242", "Còn size M không?\nCảm ơn")
	in.says("shop-b", orders.ChannelWebchat, "visitor-b", "Other shop's customer")

	rec := in.get("/dashboard/inbox", in.owner)
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	require.Contains(t, body, `aria-current="page">Inbox`)
	require.Contains(t, body, "Name visitor-1")
	require.Contains(t, body, "Hello &lt;there&gt;")
	require.Contains(t, body, "Còn size M không? Cảm ơn", "the preview is one line")
	require.NotContains(t, body, "Other shop")
	require.Less(t, strings.Index(body, conversationPath(tg.ID)), strings.Index(body, conversationPath(web.ID)), "latest activity first")
	require.Contains(t, body, `class="waiting"`, "the customer wrote last")
	require.Contains(t, body, `id="inbox-list" data-live="conversations"`)
	require.Contains(t, body, `<script src="/assets/live.js" defer></script>`)
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "script-src 'self'")

	rec = in.get("/dashboard/inbox?channel=telegram", in.owner)
	require.Equal(t, http.StatusOK, rec.Code)
	body = rec.Body.String()
	require.Contains(t, body, conversationPath(tg.ID)+"?channel=telegram")
	require.NotContains(t, body, conversationPath(web.ID))
	require.Contains(t, body, `href="/dashboard/inbox?channel=telegram" aria-current="true"`)

	rec = in.get("/dashboard/inbox?channel=sms", in.owner)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "channel")
	rec = in.get("/dashboard/inbox?before=garbage", in.owner)
	require.Equal(t, http.StatusBadRequest, rec.Code)

	// Staff see the inbox too.
	require.Equal(t, http.StatusOK, in.get("/dashboard/inbox", in.staff).Code)
}

func TestInboxPagesTheList(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	for i := range orders.DefaultConversationPage + 5 {
		in.says("shop-a", orders.ChannelWebchat, fmt.Sprintf("visitor-%02d", i), "hi")
	}
	body := in.get("/dashboard/inbox", in.owner).Body.String()
	require.Equal(t, orders.DefaultConversationPage, strings.Count(body, `<li class="waiting">`))
	require.Contains(t, body, "Name visitor-34")
	require.NotContains(t, body, "Name visitor-04")
	m := regexp.MustCompile(`href="(/dashboard/inbox\?before=[^"]+)">Older conversations`).FindStringSubmatch(body)
	require.NotNil(t, m)
	next, err := url.QueryUnescape(strings.ReplaceAll(m[1], "&amp;", "&"))
	require.NoError(t, err)
	u, err := url.Parse(next)
	require.NoError(t, err)
	body = in.get(u.Path+"?"+u.Query().Encode(), in.owner).Body.String()
	require.Equal(t, 5, strings.Count(body, `<li class="waiting">`))
	require.Contains(t, body, "Name visitor-04")
	require.Contains(t, body, "Name visitor-00")
	require.NotContains(t, body, "Older conversations", "the last page")
	require.Contains(t, body, `href="/dashboard/inbox">Newest`)
}

func TestInboxTranscript(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	ctx := context.Background()
	conv := in.says("shop-a", orders.ChannelWebchat, "visitor-1", "Tôi muốn mua 2 áo")
	in.tick(time.Second)
	o, err := in.svc.CreateConversationOrder(ctx, "shop-a", conv.ID, orders.CreateOrderInput{
		Items: []orders.Item{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000}},
	})
	require.NoError(t, err)
	in.tick(time.Second)
	require.NoError(t, in.svc.Reply(ctx, "shop-a", conv.ID, "n1", "Shop đã gửi đơn"))
	out := in.outbound(conv)
	require.Len(t, out, 2)
	require.NoError(t, in.svc.RecordDelivery(ctx, "shop-a", out[0].ID, orders.MessageDelivery{Sent: true, ExternalID: "1"}, true))
	require.NoError(t, in.svc.RecordDelivery(ctx, "shop-a", out[1].ID, orders.MessageDelivery{Reason: "The customer <closed> the chat."}, true))
	other := in.says("shop-b", orders.ChannelWebchat, "visitor-b", "hi")

	rec := in.get(conversationPath(conv.ID), in.owner)
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	for _, want := range []string{
		"Tôi muốn mua 2 áo",
		"order card", "Sent",
		`href="` + linkOf(t, in, o) + `" target="_blank" rel="noopener noreferrer">`,
		"Shop đã gửi đơn", "Failed: <bdi>The customer &lt;closed&gt; the chat.</bdi>",
		`href="` + orderPath(o.ID) + `" dir="ltr">#` + o.Code,
		"₫300,000", // 2 × 150,000, no shipping, as English writes đồng
		`data-live="conversation:` + conv.ID + `"`,
		`action="` + conversationPath(conv.ID) + `/reply"`,
		"Customer&#39;s chat link",
		`value="https://pay.example/chat/shop-a.`,
		`aria-current="page"`, // the open conversation, in the list beside it
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, "The customer can receive messages until", "web chat has no reply window")

	require.Equal(t, http.StatusNotFound, in.get(conversationPath(other.ID), in.owner).Code, "another shop's conversation")
	require.Equal(t, http.StatusNotFound, in.get(conversationPath("nope"), in.owner).Code)
	require.Equal(t, http.StatusOK, in.get(conversationPath(other.ID), in.ownerB).Code)
	require.Equal(t, http.StatusBadRequest, in.get(conversationPath(conv.ID)+"?older=junk", in.owner).Code)
}

// linkOf is the order's payment link as the card's button has it.
func linkOf(t *testing.T, in *inbox, o *orders.Order) string {
	t.Helper()
	link, err := in.svc.LinkURL(o)
	require.NoError(t, err)
	return link
}

func TestInboxTranscriptPages(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	var conv *orders.Conversation
	for i := range orders.DefaultTranscriptPage + 3 {
		conv = in.says("shop-a", orders.ChannelWebchat, "visitor-1", fmt.Sprintf("message %03d", i))
	}
	body := in.get(conversationPath(conv.ID), in.owner).Body.String()
	require.Contains(t, body, "message 052")
	require.Contains(t, body, "message 003")
	require.NotContains(t, body, "message 002")
	m := regexp.MustCompile(`href="([^"]+)">Earlier messages`).FindStringSubmatch(body)
	require.NotNil(t, m)
	body = in.get(strings.ReplaceAll(m[1], "&amp;", "&"), in.owner).Body.String()
	require.Contains(t, body, "message 000")
	require.Contains(t, body, "message 002")
	require.NotContains(t, body, "message 003")
	require.NotContains(t, body, "Earlier messages")
	require.Contains(t, body, `href="`+conversationPath(conv.ID)+`">Latest messages`)
}

func TestInboxReplyWindowHints(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	fb := in.says("shop-a", orders.ChannelMessenger, "psid-1", "hi")
	biz := in.says("shop-a", orders.ChannelTelegram, orders.TelegramBusinessChat("conn1", 42), "hi")
	bot := in.says("shop-a", orders.ChannelTelegram, "42", "hi")

	body := in.get(conversationPath(fb.ID), in.owner).Body.String()
	require.Contains(t, body, `The customer can receive messages until <time datetime="2026-11-26T07:00:01Z"`)
	require.Contains(t, in.get(conversationPath(biz.ID), in.owner).Body.String(), "The customer can receive messages until")
	require.NotContains(t, in.get(conversationPath(bot.ID), in.owner).Body.String(), "receive messages", "a bot chat has no window")

	in.tick(25 * time.Hour)
	body = in.get(conversationPath(fb.ID), in.owner).Body.String()
	require.Contains(t, body, "this channel will not deliver a reply until they write again")
	require.Contains(t, body, `name="text"`, "a hint, not a block: the reply form is still there")
	body = in.get(conversationPath(fb.ID)+"/orders/new", in.owner).Body.String()
	require.Contains(t, body, "the order card will not reach them until they write again")
}

func TestInboxReply(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	conv := in.says("shop-a", orders.ChannelWebchat, "visitor-1", "hi")
	page := conversationPath(conv.ID)
	nonce := nonceOf(t, in.get(page, in.staff).Body.String())

	// A double submit: two posts of one form send one reply.
	form := url.Values{"nonce": {nonce}, "text": {"  Dạ, shop còn size M ạ!  "}}
	for range 2 {
		rec := in.post(page+"/reply", form, in.staff)
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		require.Equal(t, page+"?msg=sent", rec.Header().Get("Location"))
	}
	out := in.outbound(conv)
	require.Len(t, out, 1)
	require.Equal(t, "Dạ, shop còn size M ạ!", out[0].Text)
	require.Equal(t, orders.KindStaffReply, out[0].Kind)
	body := in.get(page+"?msg=sent", in.staff).Body.String()
	require.Contains(t, body, "Reply queued.")
	require.NotContains(t, body, `value="`+nonce+`"`, "the page draws a fresh form")

	// Empty or too long: the page again, with what was typed and the same nonce.
	rec := in.post(page+"/reply", url.Values{"nonce": {"empty-form-nonce-1"}, "text": {" \n "}}, in.staff)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.Contains(t, rec.Body.String(), "Write a message to send.")
	require.Contains(t, rec.Body.String(), `aria-invalid="true"`)
	long := strings.Repeat("ข้อความ ", orders.MaxReplyText/8+1) // Thai: 9 bytes a character once encoded
	rec = in.post(page+"/reply", url.Values{"nonce": {"long-form-nonce-01"}, "text": {long}}, in.staff)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	body = rec.Body.String()
	require.Contains(t, body, "A reply can be at most 4,096 characters.")
	require.Contains(t, body, strings.TrimSpace(long)[:60], "nothing typed is lost")
	require.Contains(t, body, `name="nonce" value="long-form-nonce-01"`)
	require.Len(t, in.outbound(conv), 1)

	// The longest reply, over 4 KiB of form.
	max := strings.Repeat("ก", orders.MaxReplyText)
	rec = in.post(page+"/reply", url.Values{"nonce": {"max-form-nonce-001"}, "text": {max}}, in.staff)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.Len(t, in.outbound(conv), 2)

	// Refused: another site, another shop, a hand-made form, too large a body.
	rec = in.do(http.MethodPost, page+"/reply", url.Values{"nonce": {"cross-site-nonce-1"}, "text": {"hi"}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}}, in.staff)
	require.Equal(t, http.StatusForbidden, rec.Code)
	other := in.says("shop-b", orders.ChannelWebchat, "visitor-b", "hi")
	rec = in.post(conversationPath(other.ID)+"/reply", url.Values{"nonce": {"other-shop-nonce1"}, "text": {"hi"}}, in.owner)
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Empty(t, in.outbound(other))
	rec = in.post(page+"/reply", url.Values{"text": {"no nonce"}}, in.owner)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	rec = in.post(page+"/reply", url.Values{"nonce": {"huge-form-nonce-01"}, "text": {strings.Repeat("x", inboxFormBytes)}}, in.owner)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Len(t, in.outbound(conv), 2)
}

func TestInboxCreatesOrder(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	conv := in.says("shop-a", orders.ChannelWebchat, "visitor-1", "2 áo thun nhé")
	page := conversationPath(conv.ID) + "/orders/new"
	rec := in.get(page, in.staff)
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	require.Contains(t, body, `id="item-3-name"`, "three empty lines")
	require.Contains(t, body, "150000", "the price example in VND")
	nonce := nonceOf(t, body)

	form := url.Values{
		"nonce":           {nonce},
		"item_name":       {"Áo thun", "", "Mũ"},
		"item_qty":        {"2", "", ""},
		"item_price":      {"150.000", "", "۵۰٬۰۰۰"}, // grouped thousands; Persian digits
		"shipping":        {"30,000"},
		"method":          {"online"},
		"metadata":        {"branch = hcm\n\nsource=inbox"},
		"ship_on_payment": {"1"},
	}
	rec = in.post(page, form, in.staff)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc := rec.Header().Get("Location")
	require.True(t, strings.HasPrefix(loc, "/dashboard/orders/"), loc)
	id := strings.TrimPrefix(loc, "/dashboard/orders/")
	rec = in.post(page, form, in.staff)
	require.Equal(t, loc, rec.Header().Get("Location"), "the same form twice is one order")

	o, err := in.svc.Order(context.Background(), "shop-a", id)
	require.NoError(t, err)
	require.Equal(t, []orders.Item{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000}, {Name: "Mũ", Quantity: 1, UnitPrice: 50000}}, o.Items)
	require.EqualValues(t, 30000, o.ShippingFee)
	require.EqualValues(t, 380000, o.Total)
	require.True(t, o.ShipOnPayment)
	require.Equal(t, map[string]string{"branch": "hcm", "source": "inbox"}, o.Metadata)
	require.Equal(t, conv.ID, o.ConversationID)
	out := in.outbound(conv)
	require.Len(t, out, 1)
	require.Equal(t, orders.KindOrderCard, out[0].Kind, "the card is queued to the conversation")
	require.Equal(t, o.ID, out[0].OrderID)
	body = in.get(conversationPath(conv.ID), in.staff).Body.String()
	require.Contains(t, body, `href="/dashboard/orders/`+id+`" dir="ltr">#`+o.Code, "the conversation lists its order")
}

func TestInboxOrderFormErrors(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	conv := in.says("shop-a", orders.ChannelWebchat, "visitor-1", "hi")
	page := conversationPath(conv.ID) + "/orders/new"

	rec := in.post(page, url.Values{
		"nonce":      {"bad-form-nonce-001"},
		"item_name":  {"", "Áo <thun>", "Mũ"},
		"item_qty":   {"3", "zero", ""},
		"item_price": {"", "1.5", "1,0000"},
		"shipping":   {"free"},
		"method":     {"barter"},
		"metadata":   {"no equals sign"},
	}, in.owner)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	body := rec.Body.String()
	for _, want := range []string{
		"The order was not created.",
		`<a href="#item-1-name">Line 1: Enter the item&#39;s name.</a>`,
		`<a href="#item-1-price">Line 1: Enter a price`,
		`<a href="#item-2-qty">Line 2: Enter a whole number from 1 to 1,000,000.</a>`,
		`<a href="#item-2-price">Line 2: Enter a price`, // 1.5 đồng: VND has no decimals
		`<a href="#item-3-price">Line 3: Enter a price`, // 1,0000 groups wrongly
		`<a href="#shipping">Enter the shipping fee`,
		`<a href="#method">Choose online payment`,
		`<a href="#metadata">Write each line as key=value.</a>`,
		// Everything typed is still there.
		`name="item_name" value="Áo &lt;thun&gt;"`, `name="item_qty" value="zero"`, `name="item_price" value="1,0000"`,
		`name="shipping" value="free"`, "no equals sign</textarea>",
		`name="nonce" value="bad-form-nonce-001"`,
	} {
		require.Contains(t, body, want)
	}
	require.Empty(t, in.outbound(conv))

	rec = in.post(page, url.Values{"nonce": {"empty-form-nonce-1"}, "item_name": {"", ""}, "method": {"online"}}, in.owner)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.Contains(t, rec.Body.String(), "Add at least one item.")
	rec = in.post(page, url.Values{"nonce": {"zero-form-nonce-01"}, "item_name": {"Gift"}, "item_price": {"0"}, "method": {"online"}}, in.owner)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.Contains(t, rec.Body.String(), "An online order needs a total above zero.")
	rec = in.post(page, url.Values{"nonce": {"huge-form-nonce-01"}, "item_name": {"Gold"}, "item_qty": {"1000000"}, "item_price": {"999999999999"}, "method": {"online"}}, in.owner)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	require.Contains(t, rec.Body.String(), "The order&#39;s total is too large.")

	// A free gift is fine cash on delivery.
	rec = in.post(page, url.Values{"nonce": {"cod-form-nonce-001"}, "item_name": {"Gift"}, "item_price": {"0"}, "method": {"cod"}}, in.owner)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())

	// More lines: the form again with three more, keeping what was typed, no errors.
	rec = in.post(page, url.Values{"nonce": {"more-form-nonce-01"}, "item_name": {"Áo", ""}, "item_qty": {"x"}, "more": {"1"}, "method": {"online"}}, in.owner)
	require.Equal(t, http.StatusOK, rec.Code)
	body = rec.Body.String()
	require.Contains(t, body, `id="item-5-name"`)
	require.Contains(t, body, `name="item_qty" value="x"`)
	require.NotContains(t, body, "The order was not created.")

	// Another shop's conversation.
	other := in.says("shop-b", orders.ChannelWebchat, "visitor-b", "hi")
	require.Equal(t, http.StatusNotFound, in.get(conversationPath(other.ID)+"/orders/new", in.owner).Code)
	rec = in.post(conversationPath(other.ID)+"/orders/new", url.Values{"nonce": {"other-form-nonce-1"}, "item_name": {"Tea"}, "item_price": {"1"}, "method": {"online"}}, in.owner)
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Empty(t, in.outbound(other))
	rec = in.do(http.MethodPost, page, url.Values{"nonce": {"cross-form-nonce-1"}, "item_name": {"Tea"}, "item_price": {"1"}, "method": {"online"}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}}, in.owner)
	require.Equal(t, http.StatusForbidden, rec.Code)
}

func TestInboxOrderInBaht(t *testing.T) {
	t.Parallel()
	in := setupInbox(t)
	conv := in.says("shop-b", orders.ChannelWebchat, "visitor-b", "hi")
	page := conversationPath(conv.ID) + "/orders/new"
	require.Contains(t, in.get(page, in.ownerB).Body.String(), "150000.00", "the price example in THB")
	rec := in.post(page, url.Values{
		"nonce": {"baht-form-nonce-01"}, "item_name": {"Tea", "Cake"}, "item_qty": {"2", "1"},
		"item_price": {"1,234.50", "99,5"}, "shipping": {"40"}, "method": {"cod"},
	}, in.ownerB)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	o, err := in.svc.Order(context.Background(), "shop-b", strings.TrimPrefix(rec.Header().Get("Location"), "/dashboard/orders/"))
	require.NoError(t, err)
	require.EqualValues(t, 123450, o.Items[0].UnitPrice)
	require.EqualValues(t, 9950, o.Items[1].UnitPrice)
	require.EqualValues(t, 4000, o.ShippingFee)
	require.Equal(t, orders.MethodCOD, o.PaymentMethod)
	require.Empty(t, in.outbound(conv), "cash on delivery sends no card")
}

func TestParseMoneyInput(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in       string
		decimals int
		want     int64
		ok       bool
	}{
		{"150000", 0, 150000, true},
		{"150.000", 0, 150000, true},
		{"150,000", 0, 150000, true},
		{"1.500.000", 0, 1500000, true},
		{" 1 500 000 ", 0, 1500000, true},
		{"۱۵۰٬۰۰۰", 0, 150000, true},
		{"๑๒๓", 0, 123, true},
		{"0", 0, 0, true},
		{"1.5", 0, 0, false},
		{"1,0000", 0, 0, false},
		{"1.500,000", 0, 0, false},
		{"-5", 0, 0, false},
		{"", 0, 0, false},
		{".", 0, 0, false},
		{"1e3", 0, 0, false},
		{"150.00", 2, 15000, true},
		{"150", 2, 15000, true},
		{"1,234.50", 2, 123450, true},
		{"1.234,50", 2, 123450, true},
		{"99,5", 2, 9950, true},
		{"1,234", 2, 123400, true},
		{"0.01", 2, 1, true},
		{".50", 2, 0, false},
		{"1.234.5", 2, 0, false},
		{"1.005", 2, 100500, true}, // three digits after the point can only group
		{"1.0055", 2, 0, false},
		{"1000000000000000", 0, orders.MaxAmount, true},
		{"1000000000000001", 0, 0, false},
		{"99999999999999999999", 0, 0, false},
	} {
		got, ok := parseMoneyInput(c.in, c.decimals)
		require.Equal(t, c.ok, ok, "%q with %d decimals", c.in, c.decimals)
		if c.ok {
			require.Equal(t, c.want, got, "%q with %d decimals", c.in, c.decimals)
		}
	}
}

// FuzzParseMoneyInput: typed amounts never panic, never come out negative or past
// MaxAmount, and what the dashboard writes into amount fields reads back the same.
func FuzzParseMoneyInput(f *testing.F) {
	for _, s := range []string{"150.000", "1,234.50", "۱۵۰٬۰۰۰", "1.234,5", "", "-1", "9999999999999999999", "1..2", ",5"} {
		f.Add(s, 0, int64(0))
		f.Add(s, 2, int64(12345))
	}
	f.Fuzz(func(t *testing.T, s string, decimals int, n int64) {
		decimals = ((decimals % 3) + 3) % 3
		if v, ok := parseMoneyInput(s, decimals); ok {
			require.GreaterOrEqual(t, v, int64(0))
			require.LessOrEqual(t, v, orders.MaxAmount)
		}
		n = max(n, -n) % (orders.MaxAmount + 1)
		if n < 0 {
			return
		}
		v, ok := parseMoneyInput(plainAmount(n, decimals), decimals)
		require.True(t, ok, plainAmount(n, decimals))
		require.Equal(t, n, v)
	})
}

func TestParseMetadata(t *testing.T) {
	t.Parallel()
	md, key := parseMetadata("branch=hcm\r\n\n  note = giao buổi sáng = 9h \n")
	require.Empty(t, key)
	require.Equal(t, map[string]string{"branch": "hcm", "note": "giao buổi sáng = 9h"}, md)
	for in, want := range map[string]string{
		"novalue":                       "metadata_line",
		"=x":                            "metadata_line",
		"bad key=x":                     "metadata_key",
		"k=1\nk=2":                      "metadata_duplicate",
		"k=" + strings.Repeat("v", 501): "metadata_value",
	} {
		_, key := parseMetadata(in)
		require.Equal(t, want, key, in)
	}
	var many strings.Builder
	for i := range 21 {
		fmt.Fprintf(&many, "k%d=v\n", i)
	}
	_, key = parseMetadata(many.String())
	require.Equal(t, "metadata_too_many", key)
}

// FuzzParseMetadata: the metadata box never panics, and what it accepts the service
// accepts (keys and values within its rules).
func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{"branch=hcm", "a=b\nc=d", "=", "k==v", "k=v\nk=v", "\xff=\xff", strings.Repeat("k=v\n", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		md, key := parseMetadata(s)
		if key != "" {
			require.Nil(t, md)
			return
		}
		require.LessOrEqual(t, len(md), 20)
		for k, v := range md {
			require.Regexp(t, `^[a-zA-Z0-9_.-]{1,40}$`, k)
			require.LessOrEqual(t, len([]rune(v)), 500)
		}
	})
}

// FuzzReadOrderForm: any posted order form reads without panicking, and a form it
// accepts gives the service an order within the form's limits.
func FuzzReadOrderForm(f *testing.F) {
	f.Add("item_name=Tea&item_qty=2&item_price=1.000&method=online", 0)
	f.Add("item_name=&item_name=Cake&item_price=&item_price=99,5&shipping=40&method=cod&metadata=a%3Db", 2)
	f.Add("item_qty=1&item_qty=2&item_qty=3", 2)
	f.Fuzz(func(t *testing.T, raw string, decimals int) {
		decimals = ((decimals % 3) + 3) % 3
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		form, in := readOrderForm(vals, decimals)
		require.NotEmpty(t, form.Lines)
		if len(form.Errors) > 0 {
			return
		}
		require.NotEmpty(t, in.Items)
		for _, it := range in.Items {
			require.NotEmpty(t, it.Name)
			require.GreaterOrEqual(t, it.Quantity, int64(1))
			require.LessOrEqual(t, it.Quantity, int64(1_000_000))
			require.GreaterOrEqual(t, it.UnitPrice, int64(0))
		}
		require.Contains(t, []string{orders.MethodOnline, orders.MethodCOD}, in.PaymentMethod)
	})
}
