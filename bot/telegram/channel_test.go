package telegram_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

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
