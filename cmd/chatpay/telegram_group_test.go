package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram"
	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
)

// waitMessage waits until one of msgs() satisfies cond and returns it.
func waitMessage(t *testing.T, what string, msgs func() []telegramtest.Message, cond func(m telegramtest.Message) bool) telegramtest.Message {
	t.Helper()
	c := &conversation{t: t}
	return c.waitFor(what, msgs, cond)
}

func fromBot(cond func(m telegramtest.Message) bool) func(m telegramtest.Message) bool {
	return func(m telegramtest.Message) bool { return m.Sender == telegramtest.SenderBot && cond(m) }
}

// TestTelegramOrderFromComments sells in a channel's comment thread. The shop owner
// answers customers' comments with /order: a customer who already talks to the bot
// gets the card in that private chat; one who never did gets a reply in the thread
// with a t.me link that opens the private chat and shows the card there. Only the
// customer the order is for can open it; nobody but the group's administrators can
// create orders there.
func TestTelegramOrderFromComments(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			tg := telegramtest.New(t, telegramtest.WithBotUsername("shopbot"))
			channel, discussion := tg.NewChannel("Cửa hàng A")
			elsewhere := tg.NewSupergroup("Chợ đồ cũ") // a group the shop does not sell in
			block := shopBExtralock(tg, "polling", "") + fmt.Sprintf("\n      sales_groups: [%d]", discussion)
			a := setupWith(t, store, options{shopAExtra: block})
			source, err := telegram.Source(tg.Token())
			require.NoError(t, err)
			owner := tg.NewUser("Chủ shop")
			require.NoError(t, tg.MakeAdmin(discussion, owner))
			require.NoError(t, tg.MakeAdmin(elsewhere, owner))
			// again handles a recorded update a second time, as a retried job would.
			again := func(updateID int64) {
				t.Helper()
				u, err := a.m.Store.ChatUpdate(context.Background(), "shop-a", source, updateID)
				require.NoError(t, err)
				shop, err := a.m.Service.Shop("shop-a")
				require.NoError(t, err)
				require.NoError(t, a.m.telegramHandler.HandleUpdate(context.Background(), shop, u))
			}
			lan := tg.NewCustomer("Lan")
			binh := tg.NewUser("Bình") // has never opened the bot
			eve := tg.NewUser("Eve")
			messages := func(chat int64) func() []telegramtest.Message {
				return func() []telegramtest.Message { return tg.Messages(chat) }
			}

			// Lan already talks to the shop's bot.
			tg.SendStart(lan, "")
			waitMessage(t, "Lan's welcome", messages(lan.ChatID), fromBot(contains("Chào Lan")))

			_, post, err := tg.ChannelPost(channel, "Áo thun mới về, 150k")
			require.NoError(t, err)
			lanComment, err := tg.GroupSays(discussion, post.ThreadID, lan, "Cho mình 2 cái size M")
			require.NoError(t, err)
			binhComment, err := tg.GroupSays(discussion, post.ThreadID, binh, "Mình lấy 1 cái")
			require.NoError(t, err)

			// Someone who is not an administrator cannot create orders.
			_, err = tg.ReplyInGroup(discussion, post.ThreadID, eve, binhComment.MessageID, "/order 1 x Áo thun @ 1000")
			require.NoError(t, err)
			// Nor can the administrator of a group the shop does not sell in.
			otherComment, err := tg.GroupSays(elsewhere, 0, lan, "Bán áo không?")
			require.NoError(t, err)
			_, err = tg.ReplyInGroup(elsewhere, 0, owner, otherComment.MessageID, "/order 1 x Áo thun @ 1000")
			require.NoError(t, err)
			// A mistake is answered under the administrator's command, not under the
			// customer's comment.
			typo, err := tg.ReplyInGroup(discussion, post.ThreadID, owner, lanComment.MessageID, "/order 2 x Áo thun")
			require.NoError(t, err)
			waitMessage(t, "the syntax error", messages(discussion), fromBot(func(m telegramtest.Message) bool {
				return m.ReplyToID == typo.MessageID && strings.Contains(m.Text, "@")
			}))

			// Lan: the card goes to her private chat; the thread gets a pointer to it,
			// as a reply to her comment, without the payment link.
			lanOrder, err := tg.ReplyInGroup(discussion, post.ThreadID, owner, lanComment.MessageID, "/order 2 x Áo thun @ 150000")
			require.NoError(t, err)
			card := waitMessage(t, "Lan's card", messages(lan.ChatID), fromBot(contains("#1001")))
			require.Contains(t, card.Text, "300.000")
			require.Contains(t, card.Buttons[0][0].URL, "/pay/")
			sent := waitMessage(t, "the answer under Lan's comment", messages(discussion), fromBot(func(m telegramtest.Message) bool {
				return m.ReplyToID == lanComment.MessageID && strings.Contains(m.Text, "#1001")
			}))
			require.Equal(t, post.ThreadID, sent.ThreadID, "the answer is in the comment thread")
			require.Equal(t, "https://t.me/shopbot?start=order_1001", sent.Buttons[0][0].URL)
			require.NotContains(t, sent.Text, "/pay/", "the payment link stays private")

			// Bình never opened the bot: the answer carries the link that does.
			binhOrder, err := tg.ReplyInGroup(discussion, post.ThreadID, owner, binhComment.MessageID, "/order 1 x Áo thun @ 150000; ship 20000")
			require.NoError(t, err)
			start := waitMessage(t, "the answer under Bình's comment", messages(discussion), fromBot(func(m telegramtest.Message) bool {
				return m.ReplyToID == binhComment.MessageID && strings.Contains(m.Text, "#1002")
			}))
			require.Equal(t, "https://t.me/shopbot?start=order_1002", start.Buttons[0][0].URL)
			payload := strings.TrimPrefix(start.Buttons[0][0].URL, "https://t.me/shopbot?start=")

			// Eve follows Bình's link: there is nothing for her, and no card.
			tg.SendStart(eve, payload)
			waitMessage(t, "Eve is told", messages(eve.ID), fromBot(contains("Không có đơn hàng #1002")))

			// Bình follows it: the card arrives in his new private chat.
			binhStart := tg.SendStart(binh, payload)
			binhCard := waitMessage(t, "Bình's card", messages(binh.ID), fromBot(func(m telegramtest.Message) bool {
				return strings.Contains(m.Text, "#1002") && len(m.Buttons) == 1
			}))
			require.Contains(t, binhCard.Text, "170.000")
			// Again: a welcome, and no second card.
			tg.SendStart(binh, payload)
			require.Eventually(t, func() bool {
				welcomes := 0
				for _, m := range tg.Messages(binh.ID) {
					if m.Sender == telegramtest.SenderBot && strings.Contains(m.Text, "Chào Bình") {
						welcomes++
					}
				}
				return welcomes == 2
			}, 15*time.Second, 10*time.Millisecond, "the second welcome")
			cards := 0
			for _, m := range tg.Messages(binh.ID) {
				if m.Sender == telegramtest.SenderBot && len(m.Buttons) > 0 {
					cards++
				}
			}
			require.Equal(t, 1, cards, "one card, however often the link is opened")

			// He pays from it like from any card, and the order is his conversation's.
			a.pay(binhCard.Buttons[0][0].URL, "success", "normal")
			waitMessage(t, "Bình's confirmation", messages(binh.ID), fromBot(contains("#1002 thành công")))

			// The channel itself (an administrator posting as the channel) may sell too.
			_, err = tg.GroupSaysAsChat(discussion, post.ThreadID, channel, lanComment.MessageID, "/order 1 x Mũ @ 50000")
			require.NoError(t, err)
			waitMessage(t, "Lan's second card", messages(lan.ChatID), fromBot(contains("#1003")))

			// An anonymous administrator who answers nobody is told how it works.
			_, err = tg.GroupSaysAsChat(discussion, post.ThreadID, discussion, 0, "/order 1 x Mũ @ 50000")
			require.NoError(t, err)
			waitMessage(t, "how to make an order in comments", messages(discussion), fromBot(contains("trả lời bình luận")))

			// An order cancelled before its customer opens it: they are told why
			// there is no card.
			chi := tg.NewUser("Chi")
			chiComment, err := tg.GroupSays(discussion, post.ThreadID, chi, "Còn size L không?")
			require.NoError(t, err)
			_, err = tg.ReplyInGroup(discussion, post.ThreadID, owner, chiComment.MessageID, "/order 1 x Áo thun @ 150000")
			require.NoError(t, err)
			chiStart := waitMessage(t, "the answer under Chi's comment", messages(discussion), fromBot(func(m telegramtest.Message) bool {
				return m.ReplyToID == chiComment.MessageID && strings.Contains(m.Text, "#1004")
			}))
			_, list := a.call(http.MethodGet, "/api/v1/orders?limit=1", keyA, nil)
			chiOrder := list["orders"].([]any)[0].(map[string]any)
			require.Equal(t, "1004", chiOrder["code"])
			status, _ := a.call(http.MethodPost, "/api/v1/orders/"+chiOrder["id"].(string)+"/cancel", keyA, nil)
			require.Equal(t, http.StatusOK, status)
			tg.SendStart(chi, strings.TrimPrefix(chiStart.Buttons[0][0].URL, "https://t.me/shopbot?start="))
			waitMessage(t, "Chi is told", messages(chi.ID), fromBot(contains("#1004 không còn chờ thanh toán")))

			// Eve's command and the other group's, handled before that, made
			// nothing: four orders in all.
			_, list = a.call(http.MethodGet, "/api/v1/orders", keyA, nil)
			require.Len(t, list["orders"].([]any), 4)

			// Every update handled a second time (a job retried after a crash)
			// changes nothing: no order, no message.
			before := len(tg.Messages(discussion)) + len(tg.Messages(lan.ChatID)) + len(tg.Messages(binh.ID))
			for _, id := range []int64{lanOrder.UpdateID, binhOrder.UpdateID, binhStart.UpdateID} {
				again(id)
			}
			time.Sleep(300 * time.Millisecond) // anything queued by mistake would be sent by now
			require.Equal(t, before, len(tg.Messages(discussion))+len(tg.Messages(lan.ChatID))+len(tg.Messages(binh.ID)))
			_, list = a.call(http.MethodGet, "/api/v1/orders", keyA, nil)
			require.Len(t, list["orders"].([]any), 4)
		})
	}
}

// TestTelegramGuidedOrder builds an order with buttons in a customer's topic: the
// shop's recent item offered as a button, quantities with − and +, an item and the
// shipping fee typed on request (and not sent to the customer), then create. Every
// press edits the one draft message and is answered.
func TestTelegramGuidedOrder(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			tg := telegramtest.New(t, telegramtest.WithBotUsername("shopbot"))
			forum := tg.NewStaffForum("Shop A staff")
			block := shopBExtralock(tg, "polling", "") + fmt.Sprintf("\n      operator_chat_id: %d", forum)
			a := setupWith(t, store, options{shopAExtra: block})
			c := &conversation{t: t, tg: tg, forum: forum, lan: tg.NewCustomer("Lan"), staff: tg.NewUser("Minh")}

			tg.CustomerSays(c.lan, "Chào shop")
			c.staffGets("the mirror", contains("Chào shop"))
			c.staffSays("/order 1 x Áo thun @ 150000")
			c.customerGets("the first card", contains("#1001"))

			c.staffSays("/order")
			draft := c.staffGets("the draft", func(m telegramtest.Message) bool {
				return m.Sender == telegramtest.SenderBot && strings.Contains(m.Text, "Đơn hàng mới")
			})
			var pressed []string
			var updates []int64 // every update of the dialog, to handle again at the end
			current := func() telegramtest.Message {
				m, ok := tg.Message(forum, draft.ID)
				require.True(t, ok)
				return m
			}
			press := func(label string) {
				t.Helper()
				for _, row := range current().Buttons {
					for _, b := range row {
						if strings.HasPrefix(b.Text, label) {
							cb, err := tg.PressButton(c.staff, forum, draft.ID, b.CallbackData)
							require.NoError(t, err)
							pressed = append(pressed, cb.ID)
							updates = append(updates, cb.UpdateID)
							return
						}
					}
				}
				require.FailNow(t, "no button "+label, "buttons: %v", current().Buttons)
			}
			shows := func(what string, cond func(text string) bool) {
				t.Helper()
				require.Eventually(t, func() bool { return cond(current().Text) }, 15*time.Second, 10*time.Millisecond,
					"the draft shows %s", what)
			}
			has := func(s ...string) func(string) bool {
				return func(text string) bool {
					for _, x := range s {
						if !strings.Contains(text, x) {
							return false
						}
					}
					return true
				}
			}

			press("+ Áo thun") // the item sold before, offered
			shows("one shirt", has("Áo thun × 1"))
			press("+") // one more of that line
			shows("two shirts", has("Áo thun × 2", "300.000"))

			press("✏️") // type an item
			shows("the item hint", has("Gửi món hàng"))
			// Words for the customer still reach the customer meanwhile.
			c.staffSays("Chị đợi em chút nhé")
			c.customerGets("the words for the customer", contains("Chị đợi em chút nhé"))
			in, err := tg.StaffSays(forum, c.topic(), c.staff, "1 x Mũ @ 50000")
			require.NoError(t, err)
			updates = append(updates, in.UpdateID)
			shows("the cap", has("Mũ × 1", "350.000"))

			press("🚚") // the shipping fee
			shows("the fee hint", has("Gửi phí giao hàng"))
			c.staffSays("miễn phí")
			c.staffGets("what is wrong with the fee", contains("miễn phí"))
			c.staffSays("30k")
			shows("the fee", has("30.000", "380.000"))

			// A double tap on "−" from one keyboard takes one away, not two.
			var less string
			for _, row := range current().Buttons {
				if strings.HasPrefix(row[0].Text, "− 2 × Áo thun") {
					less = row[0].CallbackData
				}
			}
			require.NotEmpty(t, less)
			for range 2 {
				cb, err := tg.PressButton(c.staff, forum, draft.ID, less)
				require.NoError(t, err)
				pressed = append(pressed, cb.ID)
			}
			shows("one shirt less", has("Áo thun × 1", "Mũ × 1", "230.000"))
			press("+")
			shows("two shirts again", has("Áo thun × 2", "380.000"))
			press("− 1 × Mũ")
			shows("no cap", func(text string) bool { return !strings.Contains(text, "Mũ") && strings.Contains(text, "330.000") })

			press("✅")
			card := c.customerGets("the card of the guided order", contains("#1002"))
			require.Contains(t, card.Text, "330.000")
			shows("the order made", has("#1002", "Áo thun × 2"))
			require.Empty(t, current().Buttons, "a created draft has no buttons left")

			// Nothing typed for the draft reached the customer.
			for _, m := range tg.Messages(c.lan.ChatID) {
				require.NotContains(t, m.Text, "Mũ @ 50000")
				require.NotContains(t, m.Text, "30k")
			}
			// Every press was answered.
			require.Eventually(t, func() bool {
				answered := map[string]bool{}
				for _, ac := range tg.AnsweredCallbacks() {
					answered[ac.ID] = true
				}
				for _, id := range pressed {
					if !answered[id] {
						return false
					}
				}
				return true
			}, 15*time.Second, 10*time.Millisecond, "every press answered")

			_, o := a.call(http.MethodGet, "/api/v1/orders?limit=1", keyA, nil)
			got := o["orders"].([]any)[0].(map[string]any)
			require.Equal(t, "1002", got["code"])
			require.EqualValues(t, 330000, got["total"])
			require.EqualValues(t, 30000, got["shipping_fee"])
			items := got["items"].([]any)
			require.Len(t, items, 1)
			require.EqualValues(t, 2, items[0].(map[string]any)["quantity"])

			// Every update of the dialog handled again (retried jobs) changes nothing.
			source, err := telegram.Source(tg.Token())
			require.NoError(t, err)
			shop, err := a.m.Service.Shop("shop-a")
			require.NoError(t, err)
			final := current().Text
			sent := len(tg.Messages(c.lan.ChatID))
			for _, id := range updates {
				u, err := a.m.Store.ChatUpdate(context.Background(), "shop-a", source, id)
				require.NoError(t, err)
				require.NoError(t, a.m.telegramHandler.HandleUpdate(context.Background(), shop, u))
			}
			require.Equal(t, final, current().Text)
			_, o = a.call(http.MethodGet, "/api/v1/orders", keyA, nil)
			require.Len(t, o["orders"].([]any), 2)
			time.Sleep(300 * time.Millisecond)
			require.Equal(t, sent, len(tg.Messages(c.lan.ChatID)))

			// After the draft is done, staff messages go to the customer again.
			c.staffSays("Cảm ơn chị!")
			c.customerGets("the reply", contains("Cảm ơn chị!"))
		})
	}
}

// TestTelegramNoticesWithoutAConversation: an order made over the API for nobody's
// chat has no customer topic, so its notices reach staff in the operator group's
// General topic.
func TestTelegramNoticesWithoutAConversation(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			tg := telegramtest.New(t, telegramtest.WithBotUsername("shopbot"))
			forum := tg.NewStaffForum("Shop A staff")
			block := shopBExtralock(tg, "polling", "") + fmt.Sprintf("\n      operator_chat_id: %d", forum)
			a := setupWith(t, store, options{shopAExtra: block})
			o := a.createOrder(keyA, map[string]any{
				"customer": map[string]any{"name": "Khách lẻ"},
				"items":    []map[string]any{{"name": "Áo thun", "quantity": 1, "unit_price": 150000}},
			})
			a.pay(linkOf(o), "success", "normal")
			notice := waitMessage(t, "the paid notice in General", func() []telegramtest.Message {
				return tg.ThreadMessages(forum, 0)
			}, fromBot(contains("Đơn hàng #1001 đã được thanh toán")))
			require.Contains(t, notice.Text, "Khách lẻ")
			require.Empty(t, tg.Topics(forum), "no customer, no topic")
		})
	}
}
