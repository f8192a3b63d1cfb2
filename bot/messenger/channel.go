package messenger

import (
	"context"
	"time"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
)

// Window is how long after a customer's last message or postback Meta lets a page
// send them ordinary messages (the standard messaging window).
const Window = 24 * time.Hour

// Channel delivers outbound messages to Messenger conversations (bot.Channel). A
// conversation's external id is the customer's page-scoped id (PSID).
//
// Inside the 24-hour window messages go as they are. Outside it, the paid
// confirmation goes as the shop's approved utility message template when it has one;
// anything else fails at once with the reason (the owner is told), since Meta would
// refuse it and message tags are deprecated.
type Channel struct {
	Clients func(shopID string) (*Client, bool)
	// PaidTemplate returns the shop's approved utility template for the paid
	// confirmation (ok=false: none). The template takes the order code as its one
	// body parameter.
	PaidTemplate func(shopID string) (name, language string, ok bool)
	// Orders reads the order a message is about, for the template's parameter.
	Orders interface {
		Order(ctx context.Context, shopID, id string) (*orders.Order, error)
	}
	// Now is the clock the window is measured on; nil means time.Now.
	Now func() time.Time
}

// Name implements bot.Channel.
func (Channel) Name() string { return orders.ChannelMessenger }

// Send implements bot.Channel.
func (c Channel) Send(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, m *orders.Message) (string, error) {
	client, ok := c.Clients(shop.ID)
	if !ok {
		return "", &bot.PermanentError{Reason: "Messenger is not configured for this shop."}
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	inWindow := conv.LastInboundAt != nil && now().Sub(*conv.LastInboundAt) < Window
	if !inWindow {
		if m.Kind == orders.KindPaidConfirmation && c.PaidTemplate != nil {
			if name, lang, ok := c.PaidTemplate(shop.ID); ok {
				code := ""
				if c.Orders != nil && m.OrderID != "" {
					o, err := c.Orders.Order(ctx, shop.ID, m.OrderID)
					if err != nil {
						return "", err
					}
					code = o.Code
				}
				return client.SendUtility(ctx, conv.ExternalID, UtilityTemplate{
					Name: name, Language: lang, Parameters: []TemplateParameter{{Text: code}},
				})
			}
		}
		return "", &bot.PermanentError{Reason: ReasonWindowClosed}
	}
	return client.Send(ctx, conv.ExternalID, Out{Text: m.Text, Buttons: m.Buttons}, SendOptions{})
}
