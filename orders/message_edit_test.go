package orders_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/webchat"
	"github.com/chatpay/chatpay/orders"
)

// TestEditMessageWebChatCard is what the RefreshCard job does for a web chat order:
// the card delivered by the web chat channel is rewritten in the store as the order
// now reads (paid, no Pay now), the edit is published for the conversation after it
// commits, and doing it again writes and publishes nothing.
func TestEditMessageWebChatCard(t *testing.T) {
	t.Parallel()
	b := chSetup(t)
	o, a := b.payable(t)
	ms, err := b.store.OrderMessages(b.ctx, "a", o.ID)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	card := ms[0]
	require.Equal(t, orders.KindOrderCard, card.Kind)
	require.NotEmpty(t, card.Buttons, "Pay now")

	// Delivered by the web chat channel, as the DeliverMessage job does.
	ch := webchat.Channel{Messages: b.svc}
	conv, err := b.svc.Conversation(b.ctx, "a", o.ConversationID)
	require.NoError(t, err)
	shop, err := b.svc.Shop("a")
	require.NoError(t, err)
	ext, err := ch.Send(b.ctx, shop, conv, card)
	require.NoError(t, err)
	require.NoError(t, b.svc.RecordDelivery(b.ctx, "a", card.ID, orders.MessageDelivery{Sent: true, ExternalID: ext}, false))

	_, err = b.svc.ApplyEvent(b.ctx, succeeded(a))
	require.NoError(t, err)
	b.pub.take()

	// The job: the cards as they read now, edited through the channel.
	u, ok, err := b.svc.CardUpdate(b.ctx, "a", o.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, u.Cards, 1)
	require.Empty(t, u.Buttons)
	require.Contains(t, u.Text, "✅")
	var seen []*orders.Message
	b.pub.check = func(c orders.Change) {
		m, err := b.store.Message(b.ctx, "a", card.ID)
		require.NoError(t, err)
		seen = append(seen, m)
	}
	edit := func() error { return ch.Edit(b.ctx, shop, u.Conversation, u.Cards[0].ExternalID, u.Text, u.Buttons) }
	require.NoError(t, edit())
	b.pub.check = nil
	require.Equal(t, []orders.Change{{Kind: orders.ChangeMessage, Shop: "a", Order: o.ID, Conversation: o.ConversationID}}, b.pub.take())
	require.Len(t, seen, 1)
	require.Equal(t, u.Text, seen[0].Text, "published once the edit is committed")

	got, err := b.store.Message(b.ctx, "a", card.ID)
	require.NoError(t, err)
	require.Equal(t, u.Text, got.Text)
	require.Empty(t, got.Buttons, "no more Pay now")
	require.True(t, strings.HasPrefix(got.Text, strings.SplitN(card.Text, "\n", 2)[0]), "the same order's card")
	require.Equal(t, orders.KindOrderCard, got.Kind, "still the order's card, for the next refresh")
	require.Equal(t, orders.MessageSent, got.Status)
	require.Equal(t, ext, got.ExternalID)

	// A retried job edits to the same text: nothing is written or published.
	require.NoError(t, edit())
	require.Empty(t, b.pub.take())
}

// TestEditMessageScope: a message is edited only by its own shop, within its own
// conversation, and only when it went to the customer.
func TestEditMessageScope(t *testing.T) {
	t.Parallel()
	b := chSetup(t)
	o, _ := b.payable(t)
	ms, err := b.store.OrderMessages(b.ctx, "a", o.ID)
	require.NoError(t, err)
	card := ms[0]
	conv, err := b.svc.Conversation(b.ctx, "a", o.ConversationID)
	require.NoError(t, err)
	other, err := b.svc.CreateOrder(b.ctx, "a", chInput("visitor-other"))
	require.NoError(t, err)
	_, err = b.svc.ReceiveWebChat(b.ctx, conv, orders.NewLinkToken(), "Chào shop")
	require.NoError(t, err)
	tr, err := b.svc.Transcript(b.ctx, "a", conv.ID, orders.MessageFilter{})
	require.NoError(t, err)
	var inbound *orders.Message
	for _, m := range tr.Messages {
		if m.Direction == orders.DirectionIn {
			inbound = m
		}
	}
	require.NotNil(t, inbound)
	b.pub.take()

	for name, err := range map[string]error{
		"another shop":         b.svc.EditMessage(b.ctx, "b", conv.ID, card.ID, "hijacked", nil),
		"another conversation": b.svc.EditMessage(b.ctx, "a", other.ConversationID, card.ID, "hijacked", nil),
		"the customer's words": b.svc.EditMessage(b.ctx, "a", conv.ID, inbound.ID, "hijacked", nil),
		"an unknown message":   b.svc.EditMessage(b.ctx, "a", conv.ID, orders.NewID(), "hijacked", nil),
	} {
		require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err), "%s: %v", name, err)
	}
	require.Error(t, b.svc.EditMessage(b.ctx, "nope", conv.ID, card.ID, "hijacked", nil), "an unknown shop")
	require.Empty(t, b.pub.take(), "nothing changed")
	for _, m := range []*orders.Message{card, inbound} {
		got, err := b.store.Message(b.ctx, "a", m.ID)
		require.NoError(t, err)
		require.Equal(t, m.Text, got.Text)
		require.Equal(t, m.Buttons, got.Buttons)
	}

	// Through the channel, such a message is a permanent failure: the job moves on.
	shop, err := b.svc.Shop("a")
	require.NoError(t, err)
	otherConv, err := b.svc.Conversation(b.ctx, "a", other.ConversationID)
	require.NoError(t, err)
	err = webchat.Channel{Messages: b.svc}.Edit(b.ctx, shop, otherConv, "webchat:"+card.ID, "hijacked", nil)
	require.True(t, bot.IsPermanent(err), "%v", err)
}
