package telegram

import (
	"context"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// claimPrefix starts the payload of the t.me/<bot>?start= link that opens an order
// made in a comment thread: "order_<code>".
const claimPrefix = "order_"

// groupMessage handles a message in a group other than the operator group, such as a
// channel's discussion group, where customers comment under posts. A shop
// administrator answers a customer's comment with /order (or /order_ship): the order
// is for the comment's author. Its card goes to the customer's private chat with the
// bot when they have one; otherwise the bot answers in the thread with a link that
// opens that private chat and shows the card there (Telegram does not let a bot write
// first to someone who never started it). Everything else in groups is ignored, and
// so are commands from anyone but the group's administrators.
func (h *Handler) groupMessage(ctx context.Context, shop *orders.Shop, key string, msg *models.Message) error {
	cmd, ok := bot.ParseCommand(messageText(msg))
	if !ok || (cmd.Name != "order" && cmd.Name != "order_ship") {
		return nil
	}
	client, ok := h.Clients(shop.ID)
	if !ok {
		return nil
	}
	_, username, err := client.Me(ctx)
	if err != nil {
		return err
	}
	if !cmd.For(username) {
		return nil
	}
	if staff, err := h.isGroupStaff(ctx, client, msg); err != nil || !staff {
		return err
	}

	// reply answers in the thread, as a reply to the message anchor: the customer's
	// comment for what concerns them (which notifies them), the administrator's
	// command for mistakes, which are no business of the customer's.
	reply := func(anchor int, kind string, v templates.ChatView, orderID string, buttons []orders.Button, extra ...string) error {
		thread, err := h.Service.EnsureConversation(ctx, shop.ID, orders.ChannelTelegram,
			orders.TelegramReplyChat(msg.Chat.ID, anchor), strings.TrimSpace(msg.Chat.Title))
		if err != nil {
			return err
		}
		v.Locale = shop.Locale
		text, err := h.Texts.Chat(kind, v)
		if err != nil {
			return err
		}
		for _, e := range extra {
			text += "\n\n" + e
		}
		return h.Service.SendMessages(ctx, shop.ID, thread.ID, key,
			orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindStaffNote, Text: text, Buttons: buttons, OrderID: orderID})
	}
	cur, _ := orders.LookupCurrency(shop.Currency)
	customer := msg.ReplyToMessage
	if !validCustomerMessage(msg, customer) {
		return reply(msg.ID, "group_reply_needed", templates.ChatView{}, "", nil, bot.OrderUsage(cur))
	}
	spec, err := bot.ParseOrder(cmd.Args, cur)
	if err != nil {
		return reply(msg.ID, "order_invalid", templates.ChatView{Text: orders.ErrorMessage(err)}, "", nil, bot.OrderUsage(cur))
	}

	user := customer.From
	name := strings.TrimSpace(user.FirstName + " " + user.LastName)
	chat := strconv.FormatInt(user.ID, 10) // a user's private chat id is their user id
	_, err = h.Service.ReachableConversation(ctx, shop.ID, orders.ChannelTelegram, chat)
	reachable := err == nil
	if err != nil && orders.ErrorCode(err) != orders.ENOTFOUND {
		return err
	}
	o, err := h.Service.CreateOrder(ctx, shop.ID, orders.CreateOrderInput{
		Customer:      orders.Customer{Channel: orders.ChannelTelegram, ExternalID: chat, Name: name},
		Items:         spec.Items,
		ShippingFee:   spec.ShippingFee,
		ShipOnPayment: cmd.Name == "order_ship",
		AwaitCustomer: !reachable,
		Key:           key,
	})
	if err != nil {
		if orders.ErrorCode(err) == orders.EINTERNAL {
			return err
		}
		return reply(msg.ID, "order_invalid", templates.ChatView{Text: orders.ErrorMessage(err)}, "", nil, bot.OrderUsage(cur))
	}
	v := h.orderView(shop, o)
	v.LinkURL = "" // the pay link is the customer's; the thread is public
	// The button always opens the order in the private chat: when the card went
	// there already, opening it again changes nothing (ClaimOrder), and it still
	// works if the customer lost the chat. What the order says decides the text,
	// not what was found above: a retried update finds the order as first made.
	kind, label := "group_order_start", "open_order"
	if o.ConversationID != "" {
		kind, label = "group_order_sent", "open_chat"
	}
	start := orders.Button{Label: h.Texts.ButtonLabel(shop.Locale, label),
		URL: "https://t.me/" + username + "?start=" + claimPrefix + o.Code}
	return reply(customer.ID, kind, v, o.ID, []orders.Button{start})
}

// validCustomerMessage reports whether the command answers a person's comment: not
// the channel's own post, not a bot, not a message sent on behalf of a chat, and not
// the administrator's own.
func validCustomerMessage(cmd, m *models.Message) bool {
	if m == nil || m.From == nil || m.From.IsBot || m.SenderChat != nil || m.IsAutomaticForward {
		return false
	}
	if m.From.ID == telegramServiceUser {
		return false
	}
	return cmd.From == nil || cmd.SenderChat != nil || cmd.From.ID != m.From.ID
}

// telegramServiceUser is the account Telegram posts automatic forwards from.
const telegramServiceUser = 777000

// isGroupStaff reports whether a group message comes from someone who speaks for the
// shop there: an administrator of the group, the group itself (an anonymous
// administrator), or the channel the group discusses.
func (h *Handler) isGroupStaff(ctx context.Context, client *Client, msg *models.Message) (bool, error) {
	if sc := msg.SenderChat; sc != nil {
		if sc.ID == msg.Chat.ID {
			return true, nil
		}
		if msg.IsAutomaticForward {
			return false, nil
		}
		linked, err := client.LinkedChat(ctx, msg.Chat.ID)
		if bot.IsPermanent(err) {
			return false, nil
		}
		return err == nil && linked != 0 && linked == sc.ID, err
	}
	if msg.From == nil {
		return false, nil
	}
	admin, err := client.IsAdmin(ctx, msg.Chat.ID, msg.From.ID)
	if bot.IsPermanent(err) {
		return false, nil
	}
	return admin, err
}

// claim attaches an order made in a comment thread to the private chat its customer
// just opened through the order's start link, which sends the card. Someone else
// opening the link is told there is no order for them.
func (h *Handler) claim(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, key, payload string) error {
	code, ok := strings.CutPrefix(payload, claimPrefix)
	if !ok {
		return nil // another start payload (an ad campaign, say): the welcome is enough
	}
	o, err := h.Service.OrderByCode(ctx, shop.ID, code)
	claimed := false
	if err == nil {
		o, claimed, err = h.Service.ClaimOrder(ctx, shop.ID, o.ID, conv)
	}
	kind := "claim_not_found"
	switch orders.ErrorCode(err) {
	case "":
		if !claimed || o.LinkActive() {
			return nil // the card is on its way, or this chat has the order already
		}
		// Claimed, but cancelled or otherwise closed meanwhile: no card, so say why.
		kind = "claim_closed"
	case orders.EINTERNAL:
		return err
	}
	text, err := h.Texts.Chat(kind, templates.ChatView{Locale: shop.Locale, OrderCode: code})
	if err != nil {
		return err
	}
	return h.Service.SendMessages(ctx, shop.ID, conv.ID, key+":claim",
		orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindStaffNote, Text: text})
}
