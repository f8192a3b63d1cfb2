package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
	"github.com/chatpay/chatpay/orders"
)

// addDashboardUser makes a dashboard user: with `chatpay user add` on SQLite, the
// store the command opens from the config; through the auth service on the running
// server's store on Postgres, whose test schema the command cannot name.
func (a *app) addDashboardUser(store, shop, email, role, password string) {
	a.t.Helper()
	if store == "sqlite" {
		a.addUser(shop, email, role, password)
		return
	}
	as, ok := a.m.Store.(auth.Store)
	require.True(a.t, ok)
	svc, err := auth.NewService(auth.Config{Store: as})
	require.NoError(a.t, err)
	r, err := auth.ParseRole(role)
	require.NoError(a.t, err)
	_, err = svc.AddUser(context.Background(), shop, email, r, password)
	require.NoError(a.t, err)
}

// botMessages are the bot's messages in a chat, oldest first; botTexts their texts.
func botMessages(tg *telegramtest.Server, chatID int64) []telegramtest.Message {
	var out []telegramtest.Message
	for _, m := range tg.Messages(chatID) {
		if m.Sender == telegramtest.SenderBot {
			out = append(out, m)
		}
	}
	return out
}

func botTexts(tg *telegramtest.Server, chatID int64) []string {
	var out []string
	for _, m := range botMessages(tg, chatID) {
		out = append(out, m.Text)
	}
	return out
}

var pageNonce = regexp.MustCompile(`name="nonce" value="([^"]+)"`)

// nonceIn is the form nonce a dashboard page was drawn with.
func nonceIn(t *testing.T, body string) string {
	t.Helper()
	m := pageNonce.FindStringSubmatch(body)
	require.NotNil(t, m, "no form nonce in the page")
	return m[1]
}

// TestInbox works the dashboard's inbox on the real server, on both stores: a web
// chat customer (from an order made over the API) and a Telegram customer (writing
// to the shop's bot in the emulator) are both listed, the Telegram one first; staff
// reply from the dashboard and the customer gets the reply once however often the
// form is sent; staff create an order for the Telegram customer and its card reaches
// them once; another shop's conversation is not found, a cross-site post is refused,
// and without a session the inbox sends the browser to sign in.
func TestInbox(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		ctx := context.Background()
		tg := telegramtest.New(t)
		a := setupWith(t, store, options{shopAExtra: shopBExtralock(tg, "polling", "")})
		const password = "correct horse battery staple"
		a.addDashboardUser(store, "shop-a", "staff@example.com", "staff", password)

		web := webchatOrder("inbox-visitor")
		web["customer"].(map[string]any)["name"] = "Minh"
		first := a.createOrder(keyA, web)
		a.createOrder(keyB, webchatOrder("inbox-visitor-b"))
		lan := tg.NewCustomer("Lan")
		chat := strconv.FormatInt(lan.ChatID, 10)
		tg.CustomerSays(lan, "Chào shop, áo còn size M không?")
		var tgConv *orders.Conversation
		require.Eventually(t, func() bool {
			c, err := a.m.Store.ConversationByExternalID(ctx, "shop-a", orders.ChannelTelegram, chat)
			if err != nil || c.LastInboundAt == nil {
				return false
			}
			tgConv = c
			return true
		}, 15*time.Second, 20*time.Millisecond, "the Telegram customer's message recorded")
		webConv, err := a.m.Store.ConversationByExternalID(ctx, "shop-a", orders.ChannelWebchat, "inbox-visitor")
		require.NoError(t, err)
		otherConv, err := a.m.Store.ConversationByExternalID(ctx, "shop-b", orders.ChannelWebchat, "inbox-visitor-b")
		require.NoError(t, err)

		// Without a session: to the sign-in page.
		res, _ := a.browse(http.MethodGet, "/dashboard/inbox", nil, "", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/dashboard/signin", res.Header.Get("Location"))

		staff := a.signIn("shop-a", "staff@example.com", password)
		res, body := a.browse(http.MethodGet, "/dashboard/inbox", nil, "", staff)
		require.Equal(t, http.StatusOK, res.StatusCode)
		tgPath, webPath := "/dashboard/inbox/"+tgConv.ID, "/dashboard/inbox/"+webConv.ID
		require.Contains(t, body, `href="`+tgPath+`"`)
		require.Contains(t, body, `href="`+webPath+`"`)
		require.Less(t, strings.Index(body, tgPath), strings.Index(body, webPath), "the latest activity first")
		require.Contains(t, body, "Chào shop, áo còn size M không?", "the Telegram customer's message as the preview")
		require.NotContains(t, body, otherConv.ID, "no other shop's conversation")

		// The web chat conversation: the order card, delivered, and the chat link.
		a.waitMessages(keyA, first["id"].(string), "card sent", allSent)
		_, body = a.browse(http.MethodGet, webPath, nil, "", staff)
		require.Contains(t, body, "thẻ đơn hàng") // vi: the order card's kind
		require.Contains(t, body, "Đã gửi")       // vi: sent
		require.Contains(t, body, `href="/dashboard/orders/`+first["id"].(string)+`" dir="ltr">#1001`)
		require.Contains(t, body, a.url+"/chat/shop-a.", "the customer's chat link")

		// A reply, sent twice from one form: the customer gets it once.
		_, body = a.browse(http.MethodGet, tgPath, nil, "", staff)
		require.Contains(t, body, "Chào shop, áo còn size M không?")
		reply := url.Values{"nonce": {nonceIn(t, body)}, "text": {"Dạ còn ạ, shop gửi đơn ngay!"}}
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Go(func() {
				res, _ := a.browse(http.MethodPost, tgPath+"/reply", reply, "same-origin", staff)
				statuses[i] = res.StatusCode
			})
		}
		wg.Wait()
		require.Equal(t, []int{http.StatusSeeOther, http.StatusSeeOther}, statuses)
		res, _ = a.browse(http.MethodPost, tgPath+"/reply", reply, "same-origin", staff)
		require.Equal(t, tgPath+"?msg=sent", res.Header.Get("Location"))
		res, _ = a.browse(http.MethodPost, tgPath+"/reply",
			url.Values{"nonce": {"cross-site-form-nonce"}, "text": {"Not from here"}}, "cross-site", staff)
		require.Equal(t, http.StatusForbidden, res.StatusCode, "a cross-site post is refused")
		require.Eventually(t, func() bool {
			_, body := a.browse(http.MethodGet, tgPath, nil, "", staff)
			return strings.Contains(body, "Dạ còn ạ, shop gửi đơn ngay!") && strings.Contains(body, "Đã gửi")
		}, 15*time.Second, 50*time.Millisecond, "the reply delivered, as the transcript shows")
		require.Equal(t, []string{"Dạ còn ạ, shop gửi đơn ngay!"}, botTexts(tg, lan.ChatID), "once, and nothing cross-site")

		// An order for the Telegram customer, submitted twice: one order, one card.
		_, body = a.browse(http.MethodGet, tgPath+"/orders/new", nil, "", staff)
		form := url.Values{
			"nonce": {nonceIn(t, body)}, "item_name": {"Áo thun", ""}, "item_qty": {"2", ""},
			"item_price": {"150.000", ""}, "shipping": {"30.000"}, "method": {"online"},
		}
		res, _ = a.browse(http.MethodPost, tgPath+"/orders/new", form, "same-origin", staff)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		orderPage := res.Header.Get("Location")
		require.True(t, strings.HasPrefix(orderPage, "/dashboard/orders/"), orderPage)
		res, _ = a.browse(http.MethodPost, tgPath+"/orders/new", form, "same-origin", staff)
		require.Equal(t, orderPage, res.Header.Get("Location"), "the same form twice is one order")
		id := strings.TrimPrefix(orderPage, "/dashboard/orders/")
		o := a.waitOrder(keyA, id, "the order", func(o map[string]any) bool { return o["code"] == "1002" })
		require.EqualValues(t, 330000, o["total"])
		require.Equal(t, "telegram", o["customer"].(map[string]any)["channel"])
		ms := a.waitMessages(keyA, id, "card sent", allSent)
		require.Equal(t, []string{"order_card"}, kinds(ms))
		require.Eventually(t, func() bool { return len(botTexts(tg, lan.ChatID)) == 2 }, 15*time.Second, 20*time.Millisecond)
		card := botMessages(tg, lan.ChatID)[1]
		require.Contains(t, card.Text, "#1002")
		require.Len(t, card.Buttons, 1)
		require.Equal(t, linkOf(o), card.Buttons[0][0].URL, "Pay now opens the order's link")
		_, body = a.browse(http.MethodGet, tgPath, nil, "", staff)
		require.Contains(t, body, `href="`+orderPage+`" dir="ltr">#1002`, "the conversation lists its order")

		// Another shop's conversation is not found, to read or to write to.
		res, _ = a.browse(http.MethodGet, "/dashboard/inbox/"+otherConv.ID, nil, "", staff)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		res, _ = a.browse(http.MethodPost, "/dashboard/inbox/"+otherConv.ID+"/reply",
			url.Values{"nonce": {"other-shop-form-nonce"}, "text": {"hi"}}, "same-origin", staff)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		res, _ = a.browse(http.MethodGet, "/dashboard/inbox/"+otherConv.ID+"/orders/new", nil, "", staff)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})
}
