// Package webchat is the built-in web chat channel. Its conversations live entirely in
// chatpay's store: an outbound message is delivered the moment it is stored, and the
// customer's chat page (web/webchat.go, at the conversation's secret URL) reads the
// conversation from there, live through the conversation's change events.
package webchat

import (
	"context"

	"github.com/chatpay/chatpay/orders"
)

// Channel delivers messages to web chat conversations.
type Channel struct{}

// Name implements bot.Channel.
func (Channel) Name() string { return orders.ChannelWebchat }

// Send implements bot.Channel. The message is already stored with its conversation, so
// delivering it only needs the delivery recorded; the message ID doubles as the
// channel's ID for it, which makes a retried send harmless. The chat page shows a
// message from the moment it is stored, so recording the delivery changes nothing the
// customer sees, and they never see a message twice.
func (Channel) Send(_ context.Context, _ *orders.Shop, _ *orders.Conversation, m *orders.Message) (string, error) {
	return "webchat:" + m.ID, nil
}
