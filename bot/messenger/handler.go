package messenger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// Handler is the conversation handler for a shop's Facebook Page (jobs.ChatHandler).
// Customers message the page; their messages are recorded, and their time keeps the
// 24-hour window. Staff answer in Meta's own Page inbox, and may type the same /order
// (or /order_ship) as on Telegram there: chatpay sees the message as an echo sent by
// another app than its own, creates the order for that customer and sends the card.
// Echoes of chatpay's own messages are ignored.
//
// Everything it does is keyed by the update, so handling an update again (a job
// retried after a crash) repeats nothing.
type Handler struct {
	Service *orders.Service
	Texts   *templates.Templates
	// Clients returns the shop's page client.
	Clients func(shopID string) (*Client, bool)
	// Limiter spaces the private replies the handler sends itself under the page's
	// limits, with the messages the jobs send; nil sends without limits.
	Limiter bot.Limiter
	Logger  *slog.Logger
}

// HandleUpdate implements jobs.ChatHandler.
func (h *Handler) HandleUpdate(ctx context.Context, shop *orders.Shop, u *orders.ChatUpdate) error {
	ev, err := DecodeUpdate(u.Payload)
	if err != nil {
		return &bot.PermanentError{Reason: "The Messenger event cannot be read: " + err.Error()}
	}
	client, ok := h.Clients(shop.ID)
	if !ok || ev.PageID != client.PageID() {
		return nil // not this shop's page (any more)
	}
	key := u.Source + ":" + strconv.FormatInt(u.UpdateID, 10)
	switch ev.Kind {
	case KindMessage, KindPostback:
		return h.customerMessage(ctx, shop, key, ev)
	case KindEcho:
		if ev.AppID == client.AppID() {
			return nil // a message chatpay sent
		}
		return h.pageInboxMessage(ctx, shop, key, ev)
	case KindComment:
		if ev.From.ID != ev.PageID {
			return nil // a customer's comment: an order comes when the page answers it
		}
		return h.pageComment(ctx, shop, client, key, ev)
	}
	return nil
}

// customerMessage records what a customer wrote (or which button they pressed).
func (h *Handler) customerMessage(ctx context.Context, shop *orders.Shop, key string, ev Event) error {
	text := ev.Text
	if text == "" {
		text = "[attachment]"
	}
	var replies []orders.Outbound
	if bot.HasRedactedCard(text) {
		warning, err := h.Texts.Chat("card_warning", templates.ChatView{Locale: shop.Locale})
		if err != nil {
			return err
		}
		replies = append(replies, orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindCardWarning, Text: warning})
	}
	_, _, err := h.Service.ReceiveMessage(ctx, shop.ID, orders.InboundMessage{
		Channel: orders.ChannelMessenger, ExternalID: ev.PSID, Key: key, Text: text, At: ev.Timestamp,
	}, replies...)
	return err
}

// pageComment acts on the page's own comments: one that answers a customer's comment
// with /order (or /order_ship) sells to its author. Meta gives a commenter no
// page-scoped id, so the card goes as the comment's private reply, which Meta
// delivers into the customer's Messenger conversation with the page (opening one
// if need be) and whose answer names it; the order then belongs to that
// conversation. Other comments of the page are ignored.
func (h *Handler) pageComment(ctx context.Context, shop *orders.Shop, client *Client, key string, ev Event) error {
	cmd, ok := bot.ParseCommand(ev.Text)
	if !ok || (cmd.Name != "order" && cmd.Name != "order_ship") {
		return nil
	}
	cur, _ := orders.LookupCurrency(shop.Currency)
	failed := func(reason string) error {
		return h.Service.NotifyStaff(ctx, shop.ID, orders.NoticeCommandFailed, reason, key)
	}
	if ev.ParentID == "" || ev.ParentID == ev.PostID {
		return failed("Reply to the customer's comment with /order, so that chatpay knows who the order is for.")
	}
	spec, err := bot.ParseOrder(cmd.Args, cur)
	if err != nil {
		return failed(orders.ErrorMessage(err) + "\n\n" + bot.OrderUsage(cur))
	}
	// One order per comment: Meta allows the comment one private reply, so a
	// second order could not reach the customer this way.
	o, err := h.Service.CreateOrder(ctx, shop.ID, orders.CreateOrderInput{
		Items:         spec.Items,
		ShippingFee:   spec.ShippingFee,
		ShipOnPayment: cmd.Name == "order_ship",
		Metadata:      map[string]string{commentKey: ev.ParentID, commandKey: key},
		Key:           "messenger-comment:" + ev.ParentID,
	})
	if orders.ErrorCode(err) == orders.EINTERNAL {
		return err
	} else if err != nil {
		return failed(orders.ErrorMessage(err))
	}
	mine := o.Metadata[commandKey] == key
	if o.ConversationID != "" {
		if mine {
			return nil // sent before: this is the update handled again
		}
		return failed(fmt.Sprintf("Order #%s was already made from this comment and sent to the customer; Messenger allows one private reply per comment. Answer another of their comments, or write to them in the Page inbox.", o.Code))
	}
	link, err := h.Service.LinkURL(o)
	if err != nil {
		return err
	}
	text, buttons, err := bot.Renderer{Templates: h.Texts}.Message(orders.KindOrderCard,
		orders.MessageData{Shop: shop, Order: o, LinkURL: link})
	if err != nil {
		return err
	}
	if h.Limiter != nil {
		wait, err := h.Limiter.Reserve(ctx, bot.MessengerLimits(client.PageID(), "comment:"+ev.ParentID)...)
		if err != nil {
			return err
		}
		if wait > 0 {
			return &bot.RateLimitedError{After: wait, Err: errors.New("the page's send limit is reached")}
		}
	}
	psid, mid, err := client.PrivateReply(ctx, ev.ParentID, Out{Text: text, Buttons: buttons})
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == codeAlreadyReplied:
		// The reply went out before (a run that failed after sending it), but its
		// answer, which names the conversation, was lost with that run.
		return failed(fmt.Sprintf("The card of order #%s went to the customer as the comment's private reply, but chatpay could not learn their conversation, so it cannot send them the confirmation. Payment link: %s", o.Code, link))
	case bot.IsPermanent(err):
		return failed(fmt.Sprintf("%s Order #%s is made; share its payment link with the customer another way: %s", err.Error(), o.Code, link))
	case err != nil:
		return err // throttled or down: the job tries again
	case psid == "":
		return failed(fmt.Sprintf("Meta did not say which conversation the private reply with order #%s went to, so chatpay cannot send the customer the confirmation.", o.Code))
	}
	conv, err := h.Service.EnsureConversation(ctx, shop.ID, orders.ChannelMessenger, psid, "")
	if err != nil {
		return err
	}
	_, err = h.Service.AttachOrder(ctx, shop.ID, o.ID, conv, &orders.Message{
		ID: "out:" + key + ":card", Kind: orders.KindOrderCard, Text: text, Buttons: buttons, ExternalID: mid,
	})
	return err
}

// Metadata an order made from a comment carries: the comment, and the update whose
// command made it.
const (
	commentKey = "messenger_comment"
	commandKey = "messenger_command"
)

// pageInboxMessage acts on what staff typed in the Page inbox: /order and
// /order_ship create an order for the customer of that thread. Anything else is the
// staff talking to the customer, which Meta has delivered already. Staff cannot be
// answered in the thread (the customer would read it), so a command that fails
// becomes a notice for them.
func (h *Handler) pageInboxMessage(ctx context.Context, shop *orders.Shop, key string, ev Event) error {
	cmd, ok := bot.ParseCommand(ev.Text)
	if !ok || (cmd.Name != "order" && cmd.Name != "order_ship") {
		return nil
	}
	cur, _ := orders.LookupCurrency(shop.Currency)
	failed := func(err error) error {
		return h.Service.NotifyStaff(ctx, shop.ID, orders.NoticeCommandFailed,
			orders.ErrorMessage(err)+"\n\n"+bot.OrderUsage(cur), key)
	}
	spec, err := bot.ParseOrder(cmd.Args, cur)
	if err != nil {
		return failed(err)
	}
	_, err = h.Service.CreateOrder(ctx, shop.ID, orders.CreateOrderInput{
		Customer:      orders.Customer{Channel: orders.ChannelMessenger, ExternalID: ev.PSID},
		Items:         spec.Items,
		ShippingFee:   spec.ShippingFee,
		ShipOnPayment: cmd.Name == "order_ship",
		Key:           key,
	})
	if orders.ErrorCode(err) == orders.EINTERNAL {
		return err
	} else if err != nil {
		return failed(err)
	}
	return nil
}
