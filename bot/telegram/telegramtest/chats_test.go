package telegramtest_test

import (
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
)

func TestBusinessChatsAndThe24HourWindow(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s, b := newBot(t, telegramtest.WithClock(func() time.Time { return base }))
	owner := s.NewCustomer("Shop Owner")
	customer := s.NewUser("Quinn")

	conn, err := s.ConnectBusiness(owner)
	require.NoError(t, err)
	require.Equal(t, owner.ChatID, conn.UserChatID)
	got, err := b.GetBusinessConnection(t.Context(), &bot.GetBusinessConnectionParams{BusinessConnectionID: conn.ID})
	require.NoError(t, err)
	require.True(t, got.IsEnabled)
	require.Equal(t, owner.ID, got.User.ID)
	require.True(t, got.Rights.CanReply)

	send := func(text string) (*models.Message, error) {
		return b.SendMessage(t.Context(), &bot.SendMessageParams{BusinessConnectionID: conn.ID, ChatID: customer.ID, Text: text, ReplyMarkup: payKeyboard()})
	}
	// The customer has not written yet, so the bot may not write first.
	_, err = send("Hello from the shop")
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	require.ErrorContains(t, err, "BUSINESS_PEER_USAGE_MISSING")

	in, err := s.BusinessCustomerSays(conn.ID, customer, "Do you ship to Hue?")
	require.NoError(t, err)
	msg, err := send("Yes. Order #Q1: 250,000 VND")
	require.NoError(t, err)
	require.Equal(t, conn.ID, msg.BusinessConnectionID)
	require.Equal(t, owner.ID, msg.From.ID, "business messages come from the owner")
	require.Equal(t, s.BotID(), msg.SenderBusinessBot.ID)

	// Editing a business message needs the connection id too.
	_, err = b.EditMessageText(t.Context(), &bot.EditMessageTextParams{BusinessConnectionID: conn.ID, ChatID: customer.ID, MessageID: msg.ID, Text: "Order #Q1: paid"})
	require.NoError(t, err)

	cb, err := s.PressBusinessButton(conn.ID, customer, customer.ID, msg.ID, "help")
	require.ErrorContains(t, err, "no button", "the edit removed the keyboard")
	require.Empty(t, cb.ID)

	_, err = s.BusinessOwnerSays(conn.ID, customer, "Thanks!")
	require.NoError(t, err)
	msgs := s.BusinessMessages(conn.ID, customer.ID)
	require.Len(t, msgs, 3)
	require.Equal(t, []telegramtest.Sender{telegramtest.SenderUser, telegramtest.SenderBot, telegramtest.SenderBusinessOwner},
		[]telegramtest.Sender{msgs[0].Sender, msgs[1].Sender, msgs[2].Sender})
	require.Equal(t, in.MessageID, msgs[0].ID)
	require.Equal(t, "Order #Q1: paid", msgs[1].Text)
	require.Empty(t, s.Messages(customer.ID), "the customer's own chat with the bot is a different chat")

	// The owner writing does not reopen the window; only the customer does.
	s.Advance(24*time.Hour + time.Second)
	_, err = send("Still there?")
	require.ErrorContains(t, err, "BUSINESS_PEER_USAGE_MISSING")
	_, err = s.BusinessOwnerSays(conn.ID, customer, "Ping")
	require.NoError(t, err)
	_, err = send("Still there?")
	require.ErrorContains(t, err, "BUSINESS_PEER_USAGE_MISSING")
	_, err = s.BusinessCustomerSays(conn.ID, customer, "Yes")
	require.NoError(t, err)
	_, err = send("Great")
	require.NoError(t, err)

	_, r := call(t, t.Context(), s, "getUpdates", nil)
	us := updates(t, r)
	require.NotNil(t, us[0].BusinessConnection)
	require.Equal(t, conn.ID, us[1].BusinessMessage.BusinessConnectionID)
	require.Equal(t, "Do you ship to Hue?", us[1].BusinessMessage.Text)
	require.Equal(t, customer.ID, us[1].BusinessMessage.Chat.ID)

	_, err = s.DisconnectBusiness(conn.ID)
	require.NoError(t, err)
	_, err = send("Bye")
	require.ErrorContains(t, err, "BUSINESS_CONNECTION_INVALID")
}

func TestGroupsChannelsAndThreads(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	buyer := s.NewUser("Rae")
	staffer := s.NewUser("Sam")

	group := s.NewGroup("Buyers club")
	in, err := s.GroupSays(group, 0, buyer, "/order@chatpay_test_bot 2 shirts")
	require.NoError(t, err)
	_, err = s.GroupSays(group, 99, buyer, "no such thread")
	require.ErrorContains(t, err, "message thread not found")

	forum := s.NewStaffForum("Staff")
	topic, err := s.CreateTopic(forum, staffer, "Rae")
	require.NoError(t, err)
	staffIn, err := s.StaffSays(forum, topic, staffer, "I'll take this one")
	require.NoError(t, err)
	require.Equal(t, topic, staffIn.ThreadID)

	channel, discussion := s.NewChannel("Shop news")
	post, thread, err := s.ChannelPost(channel, "New arrivals!")
	require.NoError(t, err)
	comment, err := s.GroupSays(discussion, thread.ThreadID, buyer, "Price of the red one?")
	require.NoError(t, err)
	reply, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: discussion, MessageThreadID: thread.ThreadID, Text: "120,000 VND",
		ReplyParameters: &models.ReplyParameters{MessageID: comment.MessageID}})
	require.NoError(t, err)
	require.Equal(t, comment.MessageID, reply.ReplyToMessage.ID)
	require.Len(t, s.ThreadMessages(discussion, thread.ThreadID), 2)

	_, r := call(t, t.Context(), s, "getUpdates", nil)
	us := updates(t, r)
	require.Len(t, us, 6)
	require.Equal(t, in.UpdateID, us[0].ID)
	require.Equal(t, models.ChatTypeGroup, us[0].Message.Chat.Type)
	require.Equal(t, models.MessageEntityTypeBotCommand, us[0].Message.Entities[0].Type)
	require.Equal(t, "Rae", us[1].Message.ForumTopicCreated.Name)
	require.True(t, us[2].Message.IsTopicMessage)
	require.Equal(t, topic, us[2].Message.MessageThreadID)
	require.Equal(t, post.UpdateID, us[3].ID)
	require.Equal(t, channel, us[3].ChannelPost.SenderChat.ID)
	require.True(t, us[4].Message.IsAutomaticForward)
	require.Equal(t, models.MessageOriginTypeChannel, us[4].Message.ForwardOrigin.Type)
	require.Equal(t, thread.ThreadID, us[5].Message.MessageThreadID)
	require.Equal(t, thread.MessageID, us[5].Message.ReplyToMessage.ID)

	info, err := b.GetChat(t.Context(), &bot.GetChatParams{ChatID: forum})
	require.NoError(t, err)
	require.True(t, info.IsForum)
	require.Equal(t, models.ChatTypeSupergroup, info.Type)
	_, err = b.GetChat(t.Context(), &bot.GetChatParams{ChatID: "@nosuchchannel"})
	require.ErrorContains(t, err, "Bad Request: chat not found")
}

func TestRateLimitsAnswer429AndAreCounted(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s, b := newBot(t, telegramtest.WithClock(func() time.Time { return base }), telegramtest.WithLimits(telegramtest.TelegramLimits()))
	c := s.NewCustomer("Tia")
	send := func(chat any) error {
		_, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: chat, Text: "hi"})
		return err
	}

	require.NoError(t, send(c.ChatID))
	err := send(c.ChatID)
	var tooMany *bot.TooManyRequestsError
	require.ErrorAs(t, err, &tooMany)
	require.Equal(t, 1, tooMany.RetryAfter)
	s.Advance(time.Second)
	require.NoError(t, send(c.ChatID))

	// 20 per minute in a group, even when each send respects the per-chat pace.
	group := s.NewSupergroup("Buyers")
	for range 20 {
		require.NoError(t, send(group))
		s.Advance(time.Second)
	}
	require.ErrorAs(t, send(group), &tooMany)
	// The sends were at 0s..19s and it is now 20s: the first leaves the
	// minute window in 40s.
	require.Equal(t, 40, tooMany.RetryAfter)
	s.Advance(39 * time.Second)
	require.ErrorAs(t, send(group), &tooMany)
	s.Advance(time.Second)
	require.NoError(t, send(group))

	// 30 per second across chats.
	s.Advance(time.Minute)
	for range 30 {
		require.NoError(t, send(s.NewCustomer("Many").ChatID))
	}
	require.ErrorAs(t, send(s.NewCustomer("One more").ChatID), &tooMany)
	require.Equal(t, 4, s.TooManyRequests())

	times := s.Sends(c.ChatID)
	require.Len(t, times, 2)
	require.Equal(t, time.Second, times[1].Sub(times[0]))
}

func TestConcurrentUseIsSafe(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	forum := s.NewStaffForum("Staff")
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			c := s.NewCustomer("Concurrent")
			topic, err := b.CreateForumTopic(t.Context(), &bot.CreateForumTopicParams{ChatID: forum, Name: "topic"})
			if err != nil {
				t.Error(err)
				return
			}
			for i := range each {
				in := s.CustomerSays(c, "msg")
				if _, err := b.CopyMessage(t.Context(), &bot.CopyMessageParams{ChatID: forum, MessageThreadID: topic.MessageThreadID, FromChatID: c.ChatID, MessageID: in.MessageID}); err != nil {
					t.Error(err)
				}
				m, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: c.ChatID, Text: "reply", ReplyMarkup: payKeyboard()})
				if err != nil {
					t.Error(err)
					continue
				}
				if i%2 == 0 {
					if _, err := b.EditMessageText(t.Context(), &bot.EditMessageTextParams{ChatID: c.ChatID, MessageID: m.ID, Text: "edited"}); err != nil {
						t.Error(err)
					}
				}
				_ = s.Messages(c.ChatID)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			_, _, _ = rawCall(t.Context(), s, "getUpdates", url.Values{"limit": {"5"}})
		}
	})
	wg.Wait()
	require.Len(t, s.SendLog(), workers*each*2)
	require.Len(t, s.Topics(forum), workers)
	require.Len(t, s.Messages(forum), workers*(each+1))
	require.Equal(t, workers*each, s.PendingUpdates(), "getUpdates without offset confirms nothing")
}
