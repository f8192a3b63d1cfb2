package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/telegram"
	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
	"github.com/chatpay/chatpay/orders"
)

func TestChannelSend(t *testing.T) {
	t.Parallel()
	srv, client := setup(t)
	ch := telegram.Channel{Clients: func(shop string) (*telegram.Client, bool) { return client, shop == "shop1" }}
	require.Equal(t, "telegram", ch.Name())
	lan := srv.NewCustomer("Lan")
	shop := &orders.Shop{ID: "shop1"}
	conv := &orders.Conversation{Channel: orders.ChannelTelegram, ExternalID: strconv.FormatInt(lan.ChatID, 10)}
	card := &orders.Message{Text: "Order #1001: 330.000 ₫", Buttons: []orders.Button{{Label: "Pay now", URL: "https://pay.example/pay/tok"}}}

	ext, err := ch.Send(t.Context(), shop, conv, card)
	require.NoError(t, err)
	msgs := srv.Messages(lan.ChatID)
	require.Len(t, msgs, 1)
	require.Equal(t, ext, strconv.Itoa(msgs[0].ID), "the external id is Telegram's message id")
	require.Equal(t, card.Text, msgs[0].Text)
	require.Equal(t, "Pay now", msgs[0].Buttons[0][0].Text)
	require.Equal(t, "https://pay.example/pay/tok", msgs[0].Buttons[0][0].URL)

	// Telegram's 429 becomes a wait, not a failure.
	srv.FailNext("sendMessage", 1, telegramtest.TooManyRequests(9))
	_, err = ch.Send(t.Context(), shop, conv, card)
	after, ok := bot.RetryAfter(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 9*time.Second, after)

	// A 5xx is passing; a blocked bot is permanent, with a reason for the owner.
	srv.FailNext("sendMessage", 1, telegramtest.ServerError(http.StatusBadGateway, "Bad Gateway"))
	_, err = ch.Send(t.Context(), shop, conv, card)
	require.Error(t, err)
	require.False(t, bot.IsPermanent(err))
	srv.BlockBot(lan)
	_, err = ch.Send(t.Context(), shop, conv, card)
	var perm *bot.PermanentError
	require.True(t, errors.As(err, &perm), "%v", err)
	require.Contains(t, perm.Reason, "blocked")

	// A shop without a bot, and a conversation id that is no chat id, are permanent.
	_, err = ch.Send(t.Context(), &orders.Shop{ID: "shop2"}, conv, card)
	require.True(t, bot.IsPermanent(err))
	_, err = ch.Send(t.Context(), shop, &orders.Conversation{ExternalID: "visitor-1"}, card)
	require.True(t, bot.IsPermanent(err))
}

// topics is a recorder of staff topics for the channel.
type topics struct {
	mu   sync.Mutex
	conv map[string]int64
}

func (tp *topics) SetStaffThread(_ context.Context, _, conversationID string, thread int64) error {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.conv[conversationID] = thread
	return nil
}

func TestChannelStaffTopic(t *testing.T) {
	t.Parallel()
	srv, client := setup(t)
	group := srv.NewStaffForum("Shop staff")
	tp := &topics{conv: map[string]int64{}}
	ch := telegram.NewChannel(func(string) (*telegram.Client, bool) { return client, true },
		func(string) int64 { return group }, tp)
	shop := &orders.Shop{ID: "shop1"}
	conv := &orders.Conversation{ID: "c1", Channel: orders.ChannelTelegram, ExternalID: "5001", CustomerName: "Lan"}
	staff := func(text string) *orders.Message {
		return &orders.Message{Direction: orders.DirectionStaff, Text: text}
	}

	// The first staff message opens a topic named after the customer.
	_, err := ch.Send(t.Context(), shop, conv, staff("Lan: Chào shop"))
	require.NoError(t, err)
	thread := tp.conv["c1"]
	require.NotZero(t, thread)
	require.Equal(t, "Lan", srv.Topics(group)[0].Name)
	msgs := srv.ThreadMessages(group, int(thread))
	require.Equal(t, "Lan: Chào shop", msgs[len(msgs)-1].Text)

	// The next goes to the same topic.
	conv.StaffThreadID = thread
	_, err = ch.Send(t.Context(), shop, conv, staff("Lan: Còn size M không?"))
	require.NoError(t, err)
	require.Len(t, srv.Topics(group), 1)

	// Staff deleted the topic: a new one is opened and recorded.
	lib, err := tg.New(srv.Token(), tg.WithServerURL(srv.URL()), tg.WithSkipGetMe())
	require.NoError(t, err)
	ok, err := lib.DeleteForumTopic(t.Context(), &tg.DeleteForumTopicParams{ChatID: group, MessageThreadID: int(thread)})
	require.NoError(t, err)
	require.True(t, ok)
	_, err = ch.Send(t.Context(), shop, conv, staff("Lan: Alo?"))
	require.NoError(t, err)
	require.NotEqual(t, thread, tp.conv["c1"], "a new topic")
	msgs = srv.ThreadMessages(group, int(tp.conv["c1"]))
	require.Equal(t, "Lan: Alo?", msgs[len(msgs)-1].Text)

	// Without an operator group, staff messages are permanent failures.
	none := telegram.NewChannel(func(string) (*telegram.Client, bool) { return client, true }, func(string) int64 { return 0 }, tp)
	_, err = none.Send(t.Context(), shop, conv, staff("x"))
	require.True(t, bot.IsPermanent(err))
}
