package telegram

import (
	"context"
	"strconv"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
)

// Channel delivers outbound messages to Telegram conversations (bot.Channel). A
// conversation's external id is the customer's chat id with the shop's bot.
type Channel struct {
	// Clients returns the shop's bot.
	Clients func(shopID string) (*Client, bool)
}

// Name implements bot.Channel.
func (Channel) Name() string { return orders.ChannelTelegram }

// Send implements bot.Channel. A 429 comes back as a bot.RateLimitedError carrying
// Telegram's retry_after, and failures retrying cannot fix as bot.PermanentError.
func (c Channel) Send(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, m *orders.Message) (string, error) {
	client, ok := c.Clients(shop.ID)
	if !ok {
		return "", &bot.PermanentError{Reason: "Telegram is not configured for this shop."}
	}
	chatID, err := strconv.ParseInt(conv.ExternalID, 10, 64)
	if err != nil {
		return "", &bot.PermanentError{Reason: "The conversation's Telegram chat id is not a number."}
	}
	id, err := client.Send(ctx, Target{ChatID: chatID}, Out{Text: m.Text, Buttons: m.Buttons})
	if err != nil {
		if after, ok := RetryAfter(err); ok {
			return "", &bot.RateLimitedError{After: after, Err: err}
		}
		return "", err
	}
	return strconv.Itoa(id), nil
}
