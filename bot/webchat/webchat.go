// Package webchat is the built-in web chat channel. Its conversations live entirely in
// chatpay's store: an outbound message is delivered the moment it is stored, and the
// customer's chat page (web/webchat.go, at the conversation's secret URL) reads the
// conversation from there, live through the conversation's change events.
package webchat

import (
	"context"
	"strings"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
)

// idPrefix starts the channel's ID for a message it delivered: the prefix, then the
// message's own ID.
const idPrefix = "webchat:"

// Channel delivers messages to web chat conversations.
type Channel struct {
	// Messages edits stored messages (orders.Service). Without it the channel cannot
	// edit a card, and Edit says so with a PermanentError: the customer still gets
	// the news as a message.
	Messages interface {
		EditMessage(ctx context.Context, shopID, conversationID, messageID, text string, buttons []orders.Button) error
	}
}

var (
	_ bot.Channel = Channel{}
	_ bot.Editor  = Channel{}
)

// Name implements bot.Channel.
func (Channel) Name() string { return orders.ChannelWebchat }

// Send implements bot.Channel. The message is already stored with its conversation, so
// delivering it only needs the delivery recorded; the message ID doubles as the
// channel's ID for it, which makes a retried send harmless. The chat page shows a
// message from the moment it is stored, so recording the delivery changes nothing the
// customer sees, and they never see a message twice.
func (Channel) Send(_ context.Context, _ *orders.Shop, _ *orders.Conversation, m *orders.Message) (string, error) {
	return idPrefix + m.ID, nil
}

// Edit implements bot.Editor. What the customer sees is the stored message, so
// editing a delivered card is rewriting it in the store, within the conversation it
// was sent to; the chat page hears of it and redraws the card. Editing to the same
// text changes nothing, so the RefreshCard job may run again.
func (c Channel) Edit(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, externalID, text string, buttons []orders.Button) error {
	if c.Messages == nil {
		return &bot.PermanentError{Reason: "The web chat channel is not set up to edit messages."}
	}
	id, ok := strings.CutPrefix(externalID, idPrefix)
	if !ok || id == "" {
		return &bot.PermanentError{Reason: "The web chat did not deliver message " + externalID + "."}
	}
	err := c.Messages.EditMessage(ctx, shop.ID, conv.ID, id, text, buttons)
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		// Asking again would find nothing either.
		return &bot.PermanentError{Reason: "The web chat message " + id + " is gone."}
	}
	return err
}
