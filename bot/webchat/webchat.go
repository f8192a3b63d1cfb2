// Package webchat is the built-in web chat channel. Its conversations live entirely in
// chatpay's store: an outbound message is delivered the moment it is stored, and the
// chat widget reads the conversation from there.
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
// channel's ID for it, which makes a retried send harmless.
func (Channel) Send(_ context.Context, _ *orders.Shop, _ *orders.Conversation, m *orders.Message) (string, error) {
	return "webchat:" + m.ID, nil
}
