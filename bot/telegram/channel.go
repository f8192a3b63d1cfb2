package telegram

import (
	"context"
	"strconv"
	"sync"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
)

// Channel delivers outbound messages to Telegram conversations (bot.Channel). A
// conversation's external id is the customer's chat id with the shop's bot. Messages
// to staff (orders.DirectionStaff) go to the conversation's topic in the shop's
// operator group, which the channel opens on first use, and opens again when staff
// deleted it.
type Channel struct {
	// Clients returns the shop's bot.
	Clients func(shopID string) (*Client, bool)
	// OperatorChat returns the shop's operator forum group, 0 for none.
	OperatorChat func(shopID string) int64
	// Topics records the topic opened for a conversation (orders.Service).
	Topics interface {
		SetStaffThread(ctx context.Context, shopID, conversationID string, thread int64) error
	}
	// opening serialises opening topics, so that two messages for a new customer
	// do not open two topics (within one process).
	opening *sync.Mutex
}

// NewChannel returns a Channel.
func NewChannel(clients func(string) (*Client, bool), operatorChat func(string) int64, topics interface {
	SetStaffThread(ctx context.Context, shopID, conversationID string, thread int64) error
}) Channel {
	return Channel{Clients: clients, OperatorChat: operatorChat, Topics: topics, opening: &sync.Mutex{}}
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
	out := Out{Text: m.Text, Buttons: m.Buttons}
	var id int
	var err error
	if m.Direction == orders.DirectionStaff {
		id, err = c.sendToStaff(ctx, client, shop, conv, out)
	} else {
		chatID, business, perr := orders.TelegramChat(conv.ExternalID)
		if perr != nil {
			return "", &bot.PermanentError{Reason: "The conversation's Telegram chat id is not a number."}
		}
		id, err = client.Send(ctx, Target{ChatID: chatID, BusinessConnectionID: business, ReplyTo: orders.TelegramReplyTo(conv.ExternalID)}, out)
	}
	if err != nil {
		if after, ok := RetryAfter(err); ok {
			return "", &bot.RateLimitedError{After: after, Err: err}
		}
		return "", err
	}
	return strconv.Itoa(id), nil
}

// sendToStaff sends into the conversation's topic, opening it first if need be.
func (c Channel) sendToStaff(ctx context.Context, client *Client, shop *orders.Shop, conv *orders.Conversation, out Out) (int, error) {
	group := int64(0)
	if c.OperatorChat != nil {
		group = c.OperatorChat(shop.ID)
	}
	if group == 0 || c.Topics == nil {
		return 0, &bot.PermanentError{Reason: "The shop has no Telegram operator group for staff messages."}
	}
	thread := conv.StaffThreadID
	if thread == 0 {
		var err error
		if thread, err = c.openTopic(ctx, client, shop, conv, group, 0); err != nil {
			return 0, err
		}
	}
	id, err := client.Send(ctx, Target{ChatID: group, ThreadID: int(thread)}, out)
	if IsThreadNotFound(err) {
		// Staff deleted the topic: open a new one and keep the conversation there.
		if thread, err = c.openTopic(ctx, client, shop, conv, group, thread); err != nil {
			return 0, err
		}
		id, err = client.Send(ctx, Target{ChatID: group, ThreadID: int(thread)}, out)
	}
	return id, err
}

// openTopic opens a topic named after the customer and records it. stale is the
// topic being replaced (0 for none): if another message opened a new one meanwhile,
// that one is used.
func (c Channel) openTopic(ctx context.Context, client *Client, shop *orders.Shop, conv *orders.Conversation, group, stale int64) (int64, error) {
	if c.opening != nil {
		c.opening.Lock()
		defer c.opening.Unlock()
	}
	if fresh, err := c.currentThread(ctx, shop, conv); err == nil && fresh != 0 && fresh != stale {
		return fresh, nil
	}
	name := conv.CustomerName
	if name == "" {
		name = "Customer " + conv.ExternalID
	}
	thread, err := client.CreateTopic(ctx, group, name)
	if err != nil {
		return 0, err
	}
	conv.StaffThreadID = int64(thread)
	if err := c.Topics.SetStaffThread(ctx, shop.ID, conv.ID, int64(thread)); err != nil {
		return 0, err
	}
	return int64(thread), nil
}

// currentThread reads the conversation's topic as stored now, when the recorder can
// tell (orders.Service can).
func (c Channel) currentThread(ctx context.Context, shop *orders.Shop, conv *orders.Conversation) (int64, error) {
	type reader interface {
		Conversation(ctx context.Context, shopID, id string) (*orders.Conversation, error)
	}
	r, ok := c.Topics.(reader)
	if !ok {
		return conv.StaffThreadID, nil
	}
	stored, err := r.Conversation(ctx, shop.ID, conv.ID)
	if err != nil {
		return 0, err
	}
	return stored.StaffThreadID, nil
}

// Edit implements bot.Editor: the message is edited in place in the customer's chat.
func (c Channel) Edit(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, externalID, text string, buttons []orders.Button) error {
	client, ok := c.Clients(shop.ID)
	if !ok {
		return &bot.PermanentError{Reason: "Telegram is not configured for this shop."}
	}
	chatID, business, err := orders.TelegramChat(conv.ExternalID)
	if err != nil {
		return &bot.PermanentError{Reason: "The conversation's Telegram chat id is not a number."}
	}
	msgID, err := strconv.Atoi(externalID)
	if err != nil {
		return &bot.PermanentError{Reason: "The message's Telegram id is not a number."}
	}
	err = client.Edit(ctx, Target{ChatID: chatID, BusinessConnectionID: business}, msgID, Out{Text: text, Buttons: buttons})
	if after, ok := RetryAfter(err); ok {
		return &bot.RateLimitedError{After: after, Err: err}
	}
	return err
}
