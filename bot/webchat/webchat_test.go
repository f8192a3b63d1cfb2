package webchat_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/webchat"
	"github.com/chatpay/chatpay/orders"
)

func TestChannel(t *testing.T) {
	t.Parallel()
	var ch bot.Channel = webchat.Channel{}
	require.Equal(t, orders.ChannelWebchat, ch.Name())
	_, isEditor := ch.(bot.Editor)
	require.False(t, isEditor, "a delivered card stays as it was sent: the paid confirmation follows it")

	shop := &orders.Shop{ID: "shop-a"}
	conv := &orders.Conversation{ID: "c1", ShopID: "shop-a", Channel: orders.ChannelWebchat, ExternalID: "visitor-42"}
	m := &orders.Message{ID: "out:k:0", ConversationID: "c1", Direction: orders.DirectionOut, Kind: orders.KindOrderCard}
	id, err := ch.Send(context.Background(), shop, conv, m)
	require.NoError(t, err)
	require.Equal(t, "webchat:out:k:0", id)
	again, err := ch.Send(context.Background(), shop, conv, m)
	require.NoError(t, err)
	require.Equal(t, id, again, "a retried send is the same delivery")
	other, err := ch.Send(context.Background(), shop, conv, &orders.Message{ID: "out:k:1"})
	require.NoError(t, err)
	require.NotEqual(t, id, other)
}
