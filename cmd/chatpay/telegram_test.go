package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram"
	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
)

// shopBExtralock is a shop's telegram config pointing at the emulator.
func shopBExtralock(tg *telegramtest.Server, mode, secret string) string {
	return fmt.Sprintf(`    telegram:
      token: %q
      api_url: %q
      mode: %s
      webhook_secret: %q`, tg.Token(), tg.URL(), mode, secret)
}

// TestTelegramOrderCardAndConfirmation creates an order over the API for a Telegram
// customer of a shop whose bot polls, and follows it in the customer's chat: the card
// with Pay now, then, after paying, the confirmation.
func TestTelegramOrderCardAndConfirmation(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			tg := telegramtest.New(t)
			a := setupWith(t, store, options{shopAExtra: shopBExtralock(tg, "polling", "")})
			lan := tg.NewCustomer("Lan")

			o := a.createOrder(keyA, map[string]any{
				"customer":     map[string]any{"channel": "telegram", "external_id": strconv.FormatInt(lan.ChatID, 10), "name": "Lan"},
				"items":        []any{map[string]any{"name": "Áo thun", "quantity": 2, "unit_price": 150000}},
				"shipping_fee": 30000,
			})
			link := o["payment_link"].(map[string]any)["url"].(string)
			require.Eventually(t, func() bool { return len(tg.Messages(lan.ChatID)) == 1 }, 15*time.Second, 10*time.Millisecond)
			card := tg.Messages(lan.ChatID)[0]
			require.Contains(t, card.Text, "#1001")
			require.Contains(t, card.Text, "330.000")
			require.Len(t, card.Buttons, 1)
			require.Equal(t, link, card.Buttons[0][0].URL, "Pay now opens the order's link")

			// A declined payment: Pay again, to the same link.
			a.pay(link, "decline", "normal")
			require.Eventually(t, func() bool { return len(tg.Messages(lan.ChatID)) == 2 }, 15*time.Second, 10*time.Millisecond)
			failed := tg.Messages(lan.ChatID)[1]
			require.Contains(t, failed.Text, "#1001")
			require.Len(t, failed.Buttons, 1)
			require.Equal(t, "Thanh toán lại", failed.Buttons[0][0].Text)
			require.Equal(t, link, failed.Buttons[0][0].URL)

			a.pay(link, "success", "normal")
			require.Eventually(t, func() bool { return len(tg.Messages(lan.ChatID)) == 3 }, 15*time.Second, 10*time.Millisecond)
			require.Equal(t, "Bạn đã thanh toán cho đơn hàng #1001 thành công.", tg.Messages(lan.ChatID)[2].Text)
			ms := a.waitMessages(keyA, o["id"].(string), "all sent", func(ms []map[string]any) bool {
				return len(ms) == 3 && ms[0]["status"] == "sent" && ms[1]["status"] == "sent" && ms[2]["status"] == "sent"
			})
			require.Equal(t, []string{"order_card", "payment_failed", "paid_confirmation"}, kinds(ms))

			// The card itself now reads paid, without Pay now.
			require.Eventually(t, func() bool {
				m, ok := tg.Message(lan.ChatID, card.ID)
				return ok && strings.HasSuffix(m.Text, "✅ Đã thanh toán") && len(m.Buttons) == 0 && len(m.Edits) == 1
			}, 15*time.Second, 10*time.Millisecond, "the card edited to paid")
			edited, _ := tg.Message(lan.ChatID, card.ID)
			require.Contains(t, edited.Text, "330.000", "the order is still on the card")

			// So does the Pay again message: the same words, the card's status line,
			// and no button inviting the customer to pay a paid order. The same job
			// edits it, after the card, in the chat's next edit slot.
			require.Eventually(t, func() bool {
				m, ok := tg.Message(lan.ChatID, failed.ID)
				return ok && len(m.Buttons) == 0 && len(m.Edits) == 1
			}, 15*time.Second, 10*time.Millisecond, "the Pay again message edited")
			again, _ := tg.Message(lan.ChatID, failed.ID)
			require.Equal(t, failed.Text+"\n\n✅ Đã thanh toán", again.Text)
		})
	}
}

// TestTelegramUpdatesAreRecorded shows both ways updates arrive: shop A's bot polls,
// shop B's bot takes webhooks. Each update is recorded once, with any card number the
// customer typed redacted before it is stored.
func TestTelegramUpdatesAreRecorded(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			polled := telegramtest.New(t)
			hooked := telegramtest.New(t, telegramtest.WithToken("777:hooked-bot-token"), telegramtest.WithWebhookBackoff(time.Millisecond, 20*time.Millisecond))
			a := setupWith(t, store, options{
				shopAExtra: shopBExtralock(polled, "polling", ""),
				shopBExtra: shopBExtralock(hooked, "webhook", "hook-secret_1"),
			})
			ctx := context.Background()
			check := func(tg *telegramtest.Server, shop string) {
				source, err := telegram.Source(tg.Token())
				require.NoError(t, err)
				lan := tg.NewCustomer("Lan")
				first := tg.CustomerSays(lan, "Chào shop")
				card := tg.CustomerSays(lan, "my card is 4111 1111 1111 1111, exp 12/27")
				require.Eventually(t, func() bool {
					_, err := a.m.Store.ChatUpdate(ctx, shop, source, card.UpdateID)
					return err == nil
				}, 15*time.Second, 10*time.Millisecond, "%s: update recorded", shop)
				u, err := a.m.Store.ChatUpdate(ctx, shop, source, first.UpdateID)
				require.NoError(t, err)
				require.Contains(t, string(u.Payload), "Chào shop")
				u, err = a.m.Store.ChatUpdate(ctx, shop, source, card.UpdateID)
				require.NoError(t, err)
				require.NotContains(t, string(u.Payload), "4111 1111", "a card number is never stored")
				require.Contains(t, string(u.Payload), "exp 12/27")
			}
			check(polled, "shop-a")
			check(hooked, "shop-b")

			// The webhook route refuses a request without the secret.
			req, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/telegram/shop-b", strings.NewReader(`{"update_id":1}`))
			require.NoError(t, err)
			res, err := a.client.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		})
	}
}

// conversation drives a shop's Telegram conversation through the emulator: the
// customer in a private chat, staff in the operator forum.
type conversation struct {
	t     *testing.T
	tg    *telegramtest.Server
	forum int64
	lan   telegramtest.User
	staff telegramtest.User
}

// waitFor waits until the chat's last message satisfies cond and returns it.
func (c *conversation) waitFor(what string, msgs func() []telegramtest.Message, cond func(m telegramtest.Message) bool) telegramtest.Message {
	c.t.Helper()
	// Generous: a message passes through the poller, a River job and the rate
	// limiter, on a machine that runs every end-to-end test at once.
	deadline := time.Now().Add(30 * time.Second)
	for {
		last := msgs()
		for _, m := range last {
			if cond(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			texts := make([]string, len(last))
			for i, m := range last {
				texts[i] = m.Text
			}
			require.FailNow(c.t, "waiting for "+what, "messages: %q", texts)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *conversation) customerGets(what string, cond func(m telegramtest.Message) bool) telegramtest.Message {
	c.t.Helper()
	return c.waitFor(what, func() []telegramtest.Message { return c.tg.Messages(c.lan.ChatID) }, cond)
}

func (c *conversation) topic() int {
	c.t.Helper()
	var thread int
	require.Eventually(c.t, func() bool {
		for _, tp := range c.tg.Topics(c.forum) {
			if tp.Name == "Lan" && !tp.Deleted {
				thread = tp.ThreadID
				return true
			}
		}
		return false
	}, 15*time.Second, 10*time.Millisecond, "the customer's topic")
	return thread
}

func (c *conversation) staffGets(what string, cond func(m telegramtest.Message) bool) telegramtest.Message {
	c.t.Helper()
	thread := c.topic()
	return c.waitFor(what, func() []telegramtest.Message { return c.tg.ThreadMessages(c.forum, thread) }, cond)
}

func (c *conversation) staffSays(text string) {
	c.t.Helper()
	_, err := c.tg.StaffSays(c.forum, c.topic(), c.staff, text)
	require.NoError(c.t, err)
}

func contains(s string) func(m telegramtest.Message) bool {
	return func(m telegramtest.Message) bool { return strings.Contains(m.Text, s) }
}

// TestTelegramSellsInChat is a sale in a Telegram chat from first message to shipment:
// the customer's messages reach staff in a topic named after them, staff reply and
// create the order with /order, the customer pays from the card, /ship is refused
// until then and allowed after.
func TestTelegramSellsInChat(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			tg := telegramtest.New(t, telegramtest.WithBotUsername("shopbot"))
			forum := tg.NewStaffForum("Shop A staff")
			block := shopBExtralock(tg, "polling", "") + fmt.Sprintf("\n      operator_chat_id: %d", forum)
			a := setupWith(t, store, options{shopAExtra: block})
			c := &conversation{t: t, tg: tg, forum: forum, lan: tg.NewCustomer("Lan"), staff: tg.NewUser("Minh")}

			// The customer writes; staff see it in the customer's topic.
			tg.CustomerSays(c.lan, "Chào shop, áo còn size M không?")
			c.staffGets("the mirror", contains("Lan: Chào shop, áo còn size M không?"))

			// Staff answer in the topic; the customer gets it.
			c.staffSays("Dạ còn ạ!")
			c.customerGets("the staff reply", contains("Dạ còn ạ!"))

			// Bad syntax: staff are told what is wrong, with an example.
			c.staffSays("/order 2 x Áo thun")
			c.staffGets("the syntax error", contains("@ price"))

			// The order: the customer gets the card with Pay now, staff the summary.
			c.staffSays("/order@shopbot 2 x Áo thun @ 150000; ship 30000")
			card := c.customerGets("the card", contains("#1001"))
			require.Contains(t, card.Text, "330.000")
			require.Len(t, card.Buttons, 1)
			link := card.Buttons[0][0].URL
			require.Contains(t, link, "/pay/")
			c.staffGets("the order summary", contains("#1001"))

			// Not paid yet: no shipment.
			c.staffSays("/ship 1001")
			c.staffGets("payment required", func(m telegramtest.Message) bool {
				return strings.Contains(m.Text, "#1001") && strings.Contains(m.Text, "chưa") // vi: "not yet"
			})

			// The customer pays; the confirmation follows in their chat, and staff get
			// the news in the topic.
			a.pay(link, "success", "normal")
			c.customerGets("the confirmation", contains("Bạn đã thanh toán cho đơn hàng #1001 thành công."))
			c.staffGets("the paid notice", contains("Đơn hàng #1001 đã được thanh toán"))

			// Now it ships, and the customer is told.
			c.staffSays("/ship 1001")
			c.customerGets("the shipped message", func(m telegramtest.Message) bool {
				return strings.Contains(m.Text, "#1001") && m.ID != card.ID && !strings.Contains(m.Text, "thanh toán")
			})
			_, o := a.call(http.MethodGet, "/api/v1/orders?limit=1", keyA, nil)
			list := o["orders"].([]any)
			require.Equal(t, "shipped", list[0].(map[string]any)["status"])

			// A card number typed into chat: the customer is warned, staff never see it.
			tg.CustomerSays(c.lan, "số thẻ của mình 4111 1111 1111 1111")
			c.staffGets("the redacted mirror", contains("••••"))
			for _, m := range tg.ThreadMessages(forum, c.topic()) {
				require.NotContains(t, m.Text, "4111", "a card number reaches no one")
			}
			c.customerGets("the card warning", func(m telegramtest.Message) bool {
				return m.Sender == telegramtest.SenderBot && strings.Contains(m.Text, "không gửi số thẻ")
			})

			// A second order, cancelled: the customer is told, the card shows it and
			// its link stops working.
			c.staffSays("/order 1 x Mũ @ 50000")
			second := c.customerGets("the second card", contains("#1002"))
			c.staffSays("/cancel 1002")
			c.customerGets("the cancellation", func(m telegramtest.Message) bool {
				return strings.Contains(m.Text, "#1002") && m.ID != second.ID
			})
			require.Eventually(t, func() bool {
				m, _ := tg.Message(c.lan.ChatID, second.ID)
				return strings.HasSuffix(m.Text, "❌ Đã hủy") && len(m.Buttons) == 0
			}, 15*time.Second, 10*time.Millisecond, "the card edited to cancelled")
			res, _ := a.get(second.Buttons[0][0].URL)
			require.Equal(t, http.StatusGone, res.StatusCode)
		})
	}
}

// TestTelegramOrderShipButton: an /order_ship order, once paid, posts a ready-to-ship
// notice with a Ship button in the topic; pressing it ships the order, the customer is
// told and the button's query is answered.
func TestTelegramOrderShipButton(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			tg := telegramtest.New(t, telegramtest.WithBotUsername("shopbot"))
			forum := tg.NewStaffForum("Shop A staff")
			block := shopBExtralock(tg, "polling", "") + fmt.Sprintf("\n      operator_chat_id: %d", forum)
			a := setupWith(t, store, options{shopAExtra: block})
			c := &conversation{t: t, tg: tg, forum: forum, lan: tg.NewCustomer("Lan"), staff: tg.NewUser("Minh")}

			tg.CustomerSays(c.lan, "Cho mình 1 mũ nhé")
			c.staffGets("the mirror", contains("Cho mình 1 mũ nhé"))
			c.staffSays("/order_ship 1 x Mũ @ 50k")
			card := c.customerGets("the card", contains("#1001"))
			a.pay(card.Buttons[0][0].URL, "success", "normal")

			notice := c.staffGets("the ready-to-ship notice", func(m telegramtest.Message) bool {
				return strings.Contains(m.Text, "#1001") && len(m.Buttons) == 1
			})
			require.Equal(t, "Giao hàng", notice.Buttons[0][0].Text)
			cb, err := tg.PressButton(c.staff, forum, notice.ID, notice.Buttons[0][0].CallbackData)
			require.NoError(t, err)
			c.customerGets("the shipped message", func(m telegramtest.Message) bool {
				return strings.Contains(m.Text, "#1001") && m.ID != card.ID && !strings.Contains(m.Text, "thanh toán")
			})
			require.Eventually(t, func() bool {
				for _, ac := range tg.AnsweredCallbacks() {
					if ac.ID == cb.ID {
						return strings.Contains(ac.Text, "#1001")
					}
				}
				return false
			}, 15*time.Second, 10*time.Millisecond, "the button's query is answered")
			_, o := a.call(http.MethodGet, "/api/v1/orders?limit=1", keyA, nil)
			require.Equal(t, "shipped", o["orders"].([]any)[0].(map[string]any)["status"])
		})
	}
}

// TestTelegramRestartMidBurst stops chatpay in the middle of a burst of updates and
// starts it again on the same database: every update is handled, none twice. Forty
// customers each send /start; each must get exactly one welcome.
func TestTelegramRestartMidBurst(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New(t)
	a := setupWith(t, "sqlite", options{shopAExtra: shopBExtralock(tg, "polling", "")})
	source, err := telegram.Source(tg.Token())
	require.NoError(t, err)
	ctx := context.Background()

	const n = 40
	customers := make([]telegramtest.User, n)
	ids := make([]int64, n)
	start := func(i int) {
		customers[i] = tg.NewCustomer(fmt.Sprintf("Khách %d", i))
		ids[i] = tg.SendStart(customers[i], "").UpdateID
	}
	for i := range n / 2 {
		start(i)
	}
	// Stop once part of the burst is recorded, while its jobs are still running.
	require.Eventually(t, func() bool {
		_, err := a.m.Store.ChatUpdate(ctx, "shop-a", source, ids[3])
		return err == nil
	}, 15*time.Second, time.Millisecond)
	closeCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	require.NoError(t, a.m.Close(closeCtx))
	cancel()
	// The rest of the burst arrives while chatpay is down.
	for i := n / 2; i < n; i++ {
		start(i)
	}

	// The same configuration and database, a new process.
	m := NewMain(a.m.Config)
	m.Logger = a.m.Logger
	require.NoError(t, m.Open(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		require.NoError(t, m.Close(ctx))
	})

	for i, u := range customers {
		require.Eventually(t, func() bool {
			return len(tg.Messages(u.ChatID)) >= 2 // the /start and the welcome
		}, 20*time.Second, 5*time.Millisecond, "customer %d's welcome", i)
	}
	require.Eventually(t, func() bool { return tg.PendingUpdates() == 0 }, 10*time.Second, 5*time.Millisecond)
	// Give a duplicate, were there one, the time to arrive.
	time.Sleep(300 * time.Millisecond)
	for i, u := range customers {
		var welcomes int
		for _, msg := range tg.Messages(u.ChatID) {
			if msg.Sender == telegramtest.SenderBot {
				welcomes++
			}
		}
		require.Equal(t, 1, welcomes, "customer %d", i)
		_, err := m.Store.ChatUpdate(ctx, "shop-a", source, ids[i])
		require.NoError(t, err, "update %d recorded", i)
	}
}

// TestTelegramBusiness: the shop owner's business account is connected to the bot.
// The owner types /order in their own chat with a customer; the card goes into that
// chat on the owner's behalf and the owner's own chat with the bot gets the summary.
// Once the customer has been silent for more than 24 hours, Telegram would refuse the
// card, so the owner gets the link to forward instead.
func TestTelegramBusiness(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			tg := telegramtest.New(t)
			a := setupWith(t, store, options{shopAExtra: shopBExtralock(tg, "polling", "")})
			owner := tg.NewCustomer("Chủ shop") // has opened the bot
			conn, err := tg.ConnectBusiness(owner)
			require.NoError(t, err)
			lan := tg.NewUser("Lan")
			inBusinessChat := func() []telegramtest.Message { return tg.BusinessMessages(conn.ID, lan.ID) }
			c := &conversation{t: t, tg: tg}

			_, err = tg.BusinessCustomerSays(conn.ID, lan, "Shop ơi, mình lấy 1 áo nhé")
			require.NoError(t, err)
			_, err = tg.BusinessOwnerSays(conn.ID, lan, "/order 1 x Áo thun @ 150000")
			require.NoError(t, err)
			card := c.waitFor("the card in the business chat", inBusinessChat, func(m telegramtest.Message) bool {
				return m.Sender == telegramtest.SenderBot && strings.Contains(m.Text, "#1001")
			})
			require.Len(t, card.Buttons, 1, "Pay now")
			require.Contains(t, card.Buttons[0][0].URL, "/pay/")
			c.waitFor("the summary in the owner's chat", func() []telegramtest.Message { return tg.Messages(owner.ChatID) },
				contains("#1001"))
			for _, m := range inBusinessChat() {
				require.NotContains(t, m.Text, "Đã tạo đơn hàng", "chatpay's answers never go into the customer's chat")
			}

			// A day and more later, without a word from the customer.
			tg.Advance(25 * time.Hour)
			_, err = tg.BusinessOwnerSays(conn.ID, lan, "/order 1 x Mũ @ 50000")
			require.NoError(t, err)
			note := c.waitFor("the link to forward", func() []telegramtest.Message { return tg.Messages(owner.ChatID) },
				contains("#1002"))
			require.Contains(t, note.Text, "24")
			require.Contains(t, note.Text, a.url+"/pay/")
			for _, m := range inBusinessChat() {
				require.NotContains(t, m.Text, "#1002", "no card outside the window")
			}
		})
	}
}
