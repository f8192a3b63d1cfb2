package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger/messengertest"
)

// messengerBlock is a shop's messenger config pointing at the emulator.
func messengerBlock(fb *messengertest.Server, extra string) string {
	return fmt.Sprintf(`    messenger:
      page_id: %q
      page_access_token: %q
      app_secret: %q
      verify_token: "verify-me"
      app_id: %q
      api_url: %q
      api_version: %q%s`, fb.PageID(), fb.PageToken(), fb.AppSecret(), fb.AppID(), fb.URL(), fb.GraphVersion(), extra)
}

// waitSent waits until the page sent psid a message satisfying cond.
func waitSent(t *testing.T, fb *messengertest.Server, psid, what string, cond func(m messengertest.Message) bool) messengertest.Message {
	t.Helper()
	var found messengertest.Message
	require.Eventually(t, func() bool {
		for _, m := range fb.Sent(psid) {
			if cond(m) {
				found = m
				return true
			}
		}
		return false
	}, 15*time.Second, 10*time.Millisecond, "waiting for %s; sent: %v", what, fb.Sent(psid))
	return found
}

// TestMessengerSellsInChat: a customer messages the page; staff type /order in
// Meta's Page inbox; the customer gets the card (a button template with Pay now),
// pays, and gets the confirmation. chatpay's own echoes and a duplicated delivery
// create nothing twice; a mistyped command becomes a notice for staff.
func TestMessengerSellsInChat(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			fb := messengertest.New(t, messengertest.WithEchoes(true))
			a := setupWith(t, store, options{shopAExtra: messengerBlock(fb, "")})
			fb.SetWebhook(a.url + "/webhooks/messenger/shop-a")

			d, err := fb.CustomerSays("Lan", "Chào shop, áo còn không?")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, d.Status)
			psid := d.Event.PSID

			order, err := fb.PageInboxSays(psid, "/order 2 x Áo thun @ 150000; ship 30000")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, order.Status)
			card := waitSent(t, fb, psid, "the card", func(m messengertest.Message) bool { return strings.Contains(m.Text, "#1001") })
			require.Contains(t, card.Text, "330.000")
			require.Len(t, card.Buttons, 1)
			require.Equal(t, "web_url", card.Buttons[0].Type)
			require.Contains(t, card.Buttons[0].URL, "/pay/")

			// The same delivery again (Meta retries) creates nothing; a forged one is
			// refused.
			again, err := fb.Deliver(order.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, again.Status)
			forged, err := fb.DeliverWithSignature(order.Body, "sha256="+strings.Repeat("0", 64))
			require.NoError(t, err)
			require.Equal(t, http.StatusUnauthorized, forged.Status)

			// Declined: Pay again, to the same link. Then paid.
			a.pay(card.Buttons[0].URL, "decline", "normal")
			retry := waitSent(t, fb, psid, "Pay again", func(m messengertest.Message) bool {
				return len(m.Buttons) == 1 && m.Buttons[0].Title == "Thanh toán lại"
			})
			require.Equal(t, card.Buttons[0].URL, retry.Buttons[0].URL)
			a.pay(card.Buttons[0].URL, "success", "normal")
			waitSent(t, fb, psid, "the confirmation", func(m messengertest.Message) bool {
				return strings.Contains(m.Text, "#1001 thành công")
			})

			// A mistyped command: nothing for the customer, a notice for staff.
			_, err = fb.PageInboxSays(psid, "/order 2 x Áo thun")
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				_, ns := a.call(http.MethodGet, "/api/v1/notices", keyA, nil)
				for _, n := range ns["notices"].([]any) {
					n := n.(map[string]any)
					if n["kind"] == "command_failed" && strings.Contains(n["text"].(string), "@") {
						return true
					}
				}
				return false
			}, 15*time.Second, 10*time.Millisecond, "the notice for staff")

			require.NoError(t, fb.WaitEchoes(context.Background()))
			_, list := a.call(http.MethodGet, "/api/v1/orders", keyA, nil)
			require.Len(t, list["orders"].([]any), 1, "echoes of chatpay's own messages are not commands")
			for _, m := range fb.Sent(psid) {
				require.NotContains(t, m.Text, "Couldn't read", "staff errors never reach the customer")
			}
		})
	}
}

// TestMessengerWindow: outside the customer's 24-hour window, the card cannot go
// (it fails with the reason, and the owner is told), and the paid confirmation goes
// as the shop's approved utility template.
func TestMessengerWindow(t *testing.T) {
	t.Parallel()
	start := time.Now().Add(-25 * time.Hour)
	var offset time.Duration
	fb := messengertest.New(t, messengertest.WithClock(func() time.Time { return start.Add(offset) }),
		messengertest.WithTemplates(messengertest.Template{Name: "order_paid", Language: "vi", BodyParams: 1}))
	a := setupWith(t, "sqlite", options{shopAExtra: messengerBlock(fb, `
      paid_template: {name: order_paid, language: vi}`)})
	fb.SetWebhook(a.url + "/webhooks/messenger/shop-a")

	d, err := fb.CustomerSays("Minh", "Chào shop")
	require.NoError(t, err)
	psid := d.Event.PSID
	fb.Advance(25 * time.Hour) // a day and an hour later, for Meta and for chatpay
	_, err = fb.PageInboxSays(psid, "/order 1 x Mũ @ 50000")
	require.NoError(t, err)

	var id string
	require.Eventually(t, func() bool {
		_, list := a.call(http.MethodGet, "/api/v1/orders", keyA, nil)
		if os := list["orders"].([]any); len(os) == 1 {
			id = os[0].(map[string]any)["id"].(string)
			return true
		}
		return false
	}, 15*time.Second, 10*time.Millisecond)
	ms := a.waitMessages(keyA, id, "the card failed", func(ms []map[string]any) bool {
		c := find(ms, "order_card")
		return c != nil && c["status"] == "failed"
	})
	require.Contains(t, find(ms, "order_card")["failure_reason"], "24-hour")
	require.Empty(t, fb.Sent(psid), "nothing was sent outside the window")

	_, o := a.call(http.MethodGet, "/api/v1/orders/"+id, keyA, nil)
	a.pay(linkOf(o), "success", "normal")
	paid := waitSent(t, fb, psid, "the utility template", func(m messengertest.Message) bool { return m.Template == "order_paid" })
	require.Equal(t, []string{"1001"}, paid.TemplateParams)
}

// TestMessengerOrderFromComment: a customer comments on the page's post; staff answer
// the comment from the page with /order; the card goes as the comment's private reply
// into the customer's Messenger conversation; once the customer writes back (which
// opens Meta's window) and pays, the confirmation follows in that conversation. A
// second /order on the same comment cannot get a second private reply, and staff are
// told; the page's other comments make nothing.
func TestMessengerOrderFromComment(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			fb := messengertest.New(t)
			a := setupWith(t, store, options{shopAExtra: messengerBlock(fb, "")})
			fb.SetWebhook(a.url + "/webhooks/messenger/shop-a")

			post := fb.Post("Áo thun mới về, 150k")
			comment, err := fb.Comment(post, "Lan", "Cho mình 2 cái size M")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, comment.Status)
			_, err = fb.PageComments(post, "Cảm ơn cả nhà đã ủng hộ!")
			require.NoError(t, err)

			cmd, err := fb.PageRepliesToComment(comment.Event.CommentID, "/order 2 x Áo thun @ 150000")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, cmd.Status)
			var reply messengertest.PrivateReply
			require.Eventually(t, func() bool {
				var ok bool
				reply, ok = fb.PrivateReplyTo(comment.Event.CommentID)
				return ok
			}, 15*time.Second, 10*time.Millisecond, "the private reply")
			card := waitSent(t, fb, reply.PSID, "the card", func(m messengertest.Message) bool { return strings.Contains(m.Text, "#1001") })
			require.Equal(t, comment.Event.CommentID, card.CommentID, "sent as the comment's private reply")
			require.Contains(t, card.Buttons[0].URL, "/pay/")

			// The order belongs to that conversation and lists the card as sent.
			_, list := a.call(http.MethodGet, "/api/v1/orders", keyA, nil)
			require.Len(t, list["orders"].([]any), 1, "the page's other comment made nothing")
			o := list["orders"].([]any)[0].(map[string]any)
			ms := a.waitMessages(keyA, o["id"].(string), "the card", func(ms []map[string]any) bool { return find(ms, "order_card") != nil })
			require.Equal(t, "sent", find(ms, "order_card")["status"])

			// Handled again (the same delivery), nothing more is sent.
			_, err = fb.Deliver(cmd.Body)
			require.NoError(t, err)

			// The customer writes back, pays, and the confirmation follows there.
			_, err = fb.CustomerSays(reply.PSID, "Mình chuyển khoản liền nha")
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				c, err := a.m.Store.ConversationByExternalID(context.Background(), "shop-a", "messenger", reply.PSID)
				return err == nil && c.LastInboundAt != nil
			}, 15*time.Second, 10*time.Millisecond, "the customer's message handled")
			a.pay(card.Buttons[0].URL, "success", "normal")
			waitSent(t, fb, reply.PSID, "the confirmation", func(m messengertest.Message) bool {
				return strings.Contains(m.Text, "#1001 thành công")
			})

			// A second /order on the same comment: Meta allows one private reply, so
			// staff get a notice, the customer nothing more, and no second order is made.
			_, err = fb.PageRepliesToComment(comment.Event.CommentID, "/order 1 x Mũ @ 50000")
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				_, ns := a.call(http.MethodGet, "/api/v1/notices", keyA, nil)
				for _, n := range ns["notices"].([]any) {
					n := n.(map[string]any)
					if n["kind"] == "command_failed" && strings.Contains(n["text"].(string), "#1001 was already made from this comment") {
						return true
					}
				}
				return false
			}, 15*time.Second, 10*time.Millisecond, "the notice for staff")
			require.Len(t, fb.PrivateReplies(), 1)
			_, list = a.call(http.MethodGet, "/api/v1/orders", keyA, nil)
			require.Len(t, list["orders"].([]any), 1, "no stray order")

			// The private reply went out but its answer was lost (a 500 after Meta
			// sent it): the retry cannot reply again, and staff are told what
			// happened, with the link to share.
			chi, err := fb.Comment(post, "Chi", "Còn size L không?")
			require.NoError(t, err)
			fb.FailNext(messengertest.SendAPI, 1, func() messengertest.Fault {
				f := messengertest.ServerError(http.StatusInternalServerError)
				f.Apply = true
				return f
			}())
			_, err = fb.PageRepliesToComment(chi.Event.CommentID, "/order 1 x Áo thun @ 150000")
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				_, ns := a.call(http.MethodGet, "/api/v1/notices", keyA, nil)
				for _, n := range ns["notices"].([]any) {
					n := n.(map[string]any)
					if strings.Contains(n["text"].(string), "could not learn their conversation") && strings.Contains(n["text"].(string), "/pay/") {
						return true
					}
				}
				return false
			}, 30*time.Second, 20*time.Millisecond, "the notice for staff")
			require.Len(t, fb.PrivateReplies(), 2, "one reply per comment, however often the job runs")
		})
	}
}
