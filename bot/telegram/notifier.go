package telegram

import (
	"context"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
)

// Notifier posts the notices that belong to no customer's topic (an order made
// through the API without a chat, a refund that failed for it, …) in the General
// topic of the shop's operator group (jobs.Notifier). Notices about an order with a
// conversation go to that conversation's topic instead, as staff messages.
type Notifier struct {
	Clients      func(shopID string) (*Client, bool)
	OperatorChat func(shopID string) int64
}

// Notify implements jobs.Notifier.
func (n Notifier) Notify(ctx context.Context, shop *orders.Shop, notice *orders.Notice) error {
	client, ok := n.Clients(shop.ID)
	group := n.OperatorChat(shop.ID)
	if !ok || group == 0 {
		return &bot.PermanentError{Reason: "The shop has no Telegram operator group for staff notices."}
	}
	_, err := client.Send(ctx, Target{ChatID: group}, Out{Text: notice.Text})
	if after, ok := RetryAfter(err); ok {
		return &bot.RateLimitedError{After: after, Err: err}
	}
	return err
}
