package telegram

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// Handler is the conversation handler for a shop's Telegram bot: it acts on recorded
// updates (jobs.ChatHandler). Customers write to the bot in private chats; each
// customer's messages are mirrored into a topic of the shop's operator group, where
// staff reply (relayed to the customer) and run commands (/order, /ship, …).
//
// Everything it does is keyed by the update, so processing an update again (a job
// retried after a crash) repeats nothing: messages are queued once per key, orders
// and refunds are created once per key.
type Handler struct {
	Service *orders.Service
	Texts   *templates.Templates
	// Clients returns the shop's bot; OperatorChat its operator group (0: none).
	Clients      func(shopID string) (*Client, bool)
	OperatorChat func(shopID string) int64
	// SalesGroup reports whether a group is one where the shop sells from comments
	// (nil: none is).
	SalesGroup func(shopID string, chat int64) bool
	// Dialogs keeps guided-order drafts between button presses (in Redis when
	// configured, so that any replica can take the next press); nil turns the
	// guided /order off.
	Dialogs bot.Dialogs
	Logger  *slog.Logger
}

// HandleUpdate implements jobs.ChatHandler.
func (h *Handler) HandleUpdate(ctx context.Context, shop *orders.Shop, u *orders.ChatUpdate) error {
	var up models.Update
	if err := json.Unmarshal(u.Payload, &up); err != nil {
		return &bot.PermanentError{Reason: "The Telegram update is not valid JSON: " + err.Error()}
	}
	key := u.Source + ":" + strconv.FormatInt(u.UpdateID, 10)
	switch {
	case up.Message != nil:
		return h.message(ctx, shop, key, up.Message)
	case up.CallbackQuery != nil:
		return h.callback(ctx, shop, key, up.CallbackQuery)
	case up.BusinessMessage != nil:
		return h.businessMessage(ctx, shop, key, up.BusinessMessage)
	}
	return nil // other kinds of update do not concern a shop's sales
}

func (h *Handler) message(ctx context.Context, shop *orders.Shop, key string, msg *models.Message) error {
	if msg.From != nil && msg.From.IsBot && msg.SenderChat == nil {
		// Bots, ours included. A message on behalf of a chat (an anonymous group
		// administrator, a channel) also comes "from" one of Telegram's bots, and is
		// a person's.
		return nil
	}
	switch {
	case msg.Chat.Type == models.ChatTypePrivate:
		return h.customerMessage(ctx, shop, key, msg)
	case h.OperatorChat != nil && msg.Chat.ID == h.OperatorChat(shop.ID) && msg.Chat.ID != 0:
		return h.staffMessage(ctx, shop, key, msg)
	case (msg.Chat.Type == models.ChatTypeGroup || msg.Chat.Type == models.ChatTypeSupergroup) &&
		h.SalesGroup != nil && h.SalesGroup(shop.ID, msg.Chat.ID):
		return h.groupMessage(ctx, shop, key, msg)
	}
	return nil
}

// customerMessage records what a customer wrote and mirrors it to staff.
func (h *Handler) customerMessage(ctx context.Context, shop *orders.Shop, key string, msg *models.Message) error {
	text := messageText(msg)
	name := ""
	if msg.From != nil {
		name = strings.TrimSpace(msg.From.FirstName + " " + msg.From.LastName)
	}
	view := templates.ChatView{Locale: shop.Locale, CustomerName: name, Text: text}
	var replies []orders.Outbound
	mirror, err := h.Texts.Chat("staff_mirror", view)
	if err != nil {
		return err
	}
	replies = append(replies, orders.Outbound{Direction: orders.DirectionStaff, Kind: orders.KindMirror, Text: mirror})
	cmd, isCmd := bot.ParseCommand(text)
	start := isCmd && cmd.Name == "start"
	if start {
		welcome, err := h.Texts.Chat("welcome", view)
		if err != nil {
			return err
		}
		replies = append(replies, orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindWelcome, Text: welcome})
	}
	if bot.HasRedactedCard(text) {
		// The update was stored with the number redacted; tell the customer why.
		warning, err := h.Texts.Chat("card_warning", view)
		if err != nil {
			return err
		}
		replies = append(replies, orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindCardWarning, Text: warning})
	}
	conv, _, err := h.Service.ReceiveMessage(ctx, shop.ID, orders.InboundMessage{
		Channel: orders.ChannelTelegram, ExternalID: strconv.FormatInt(msg.Chat.ID, 10),
		CustomerName: name, Key: key, Text: text,
	}, replies...)
	if err != nil || !start || cmd.Args == "" {
		return err
	}
	// Opened through an order's start link (t.me/<bot>?start=order_<code>).
	return h.claim(ctx, shop, conv, key, cmd.Args)
}

// messageText is a message's text, or a short description of what else it carries.
func messageText(msg *models.Message) string {
	switch {
	case msg.Text != "":
		return msg.Text
	case msg.Caption != "":
		return msg.Caption
	case len(msg.Photo) > 0:
		return "[photo]"
	case msg.Sticker != nil:
		return "[sticker]"
	case msg.Voice != nil:
		return "[voice message]"
	case msg.Document != nil:
		return "[file]"
	case msg.Location != nil:
		return "[location]"
	case msg.Contact != nil:
		return "[contact]"
	}
	return "[message]"
}

// staffMessage handles what staff write in a customer's topic: a command, or words
// for the customer.
func (h *Handler) staffMessage(ctx context.Context, shop *orders.Shop, key string, msg *models.Message) error {
	if msg.MessageThreadID == 0 || msg.ForumTopicCreated != nil {
		return nil // the General topic, or the service message that opens a topic
	}
	conv, err := h.Service.ConversationByStaffThread(ctx, shop.ID, int64(msg.MessageThreadID))
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return nil // a topic chatpay did not open: staff talking among themselves
	} else if err != nil {
		return err
	}
	text := messageText(msg)
	cmd, isCmd := bot.ParseCommand(text)
	if !isCmd && h.Dialogs != nil {
		// A draft waiting for a typed item or fee takes the message; it is not for
		// the customer.
		if taken, err := h.draftInput(ctx, shop, conv, key, msg, text); taken || err != nil {
			return err
		}
	}
	if isCmd {
		username := ""
		if client, ok := h.Clients(shop.ID); ok {
			if _, username, err = client.Me(ctx); err != nil {
				return err
			}
		}
		if !cmd.For(username) {
			return nil // addressed to another bot in the group
		}
		if (cmd.Name == "order" || cmd.Name == "order_ship") && strings.TrimSpace(cmd.Args) == "" && h.Dialogs != nil {
			return h.startDraft(ctx, shop, conv, key, cmd.Name == "order_ship")
		}
		reply, err := h.command(ctx, shop, conv, key, cmd, username)
		if err != nil {
			return err
		}
		return h.Service.SendMessages(ctx, shop.ID, conv.ID, key, reply...)
	}
	// Words for the customer.
	return h.Service.SendMessages(ctx, shop.ID, conv.ID, key,
		orders.Outbound{Direction: orders.DirectionOut, Kind: orders.KindStaffReply, Text: text})
}

// command runs a staff command for the topic's customer and returns the answer for
// staff. Domain errors become answers; only failures worth retrying are returned.
func (h *Handler) command(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, key string, cmd bot.Command, username string) ([]orders.Outbound, error) {
	cur, _ := orders.LookupCurrency(shop.Currency)
	note := func(kind string, v templates.ChatView, orderID string, extra ...string) ([]orders.Outbound, error) {
		v.Locale = shop.Locale
		if v.CustomerName == "" {
			v.CustomerName = conv.CustomerName
		}
		text, err := h.Texts.Chat(kind, v)
		if err != nil {
			return nil, err
		}
		for _, e := range extra {
			text += "\n\n" + e
		}
		return []orders.Outbound{{Direction: orders.DirectionStaff, Kind: orders.KindStaffNote, Text: text, OrderID: orderID}}, nil
	}
	// fail turns a domain error into an answer for staff.
	fail := func(err error, code string) ([]orders.Outbound, error) {
		switch orders.ErrorCode(err) {
		case orders.EINTERNAL:
			return nil, err
		case orders.ENOTFOUND:
			return note("not_found", templates.ChatView{OrderCode: code}, "")
		case orders.EPAYMENTREQUIRED:
			return note("payment_required", templates.ChatView{OrderCode: code}, "")
		}
		return note("error", templates.ChatView{Text: orders.ErrorMessage(err)}, "")
	}
	// ours finds an order of this customer by code.
	ours := func(code string) (*orders.Order, error) {
		o, err := h.Service.OrderByCode(ctx, shop.ID, code)
		if err != nil {
			return nil, err
		}
		if o.ConversationID != conv.ID {
			return nil, orders.Errorf(orders.ENOTFOUND, "no order #%s for this customer", code)
		}
		return o, nil
	}

	switch cmd.Name {
	case "order", "order_ship":
		spec, err := bot.ParseOrder(cmd.Args, cur)
		if err != nil {
			return note("order_invalid", templates.ChatView{Text: orders.ErrorMessage(err)}, "", bot.OrderUsage(cur))
		}
		o, err := h.Service.CreateOrder(ctx, shop.ID, orders.CreateOrderInput{
			Customer:      orders.Customer{Channel: conv.Channel, ExternalID: conv.ExternalID, Name: conv.CustomerName},
			Items:         spec.Items,
			ShippingFee:   spec.ShippingFee,
			ShipOnPayment: cmd.Name == "order_ship",
			Key:           key,
		})
		if err != nil {
			if orders.ErrorCode(err) == orders.EINVALID {
				return note("order_invalid", templates.ChatView{Text: orders.ErrorMessage(err)}, "", bot.OrderUsage(cur))
			}
			return fail(err, "")
		}
		kind := "order_created"
		if o.ShipOnPayment {
			kind = "order_created_ship"
		}
		return note(kind, h.orderView(shop, o), o.ID)

	case "ship", "resend", "cancel":
		args := cmd.Args
		var carrier, tracking string
		if cmd.Name == "ship" {
			// /ship CODE [carrier [tracking number]]; without a carrier the shop
			// delivers the order itself.
			fields := strings.Fields(args)
			if len(fields) > 1 {
				args, carrier = fields[0], fields[1]
				tracking = strings.Join(fields[2:], " ")
			}
			if carrier == "" {
				carrier = shop.Name
			}
		}
		code, err := bot.ParseCode(args)
		if err != nil {
			return note("error", templates.ChatView{Text: orders.ErrorMessage(err)}, "")
		}
		o, err := ours(code)
		if err != nil {
			return fail(err, code)
		}
		switch cmd.Name {
		case "ship":
			_, err = h.Service.CreateShipment(ctx, shop.ID, o.ID, carrier, tracking)
		case "resend":
			err = h.Service.ResendLink(ctx, shop.ID, o.ID)
		case "cancel":
			_, err = h.Service.CancelOrder(ctx, shop.ID, o.ID)
		}
		if err != nil {
			return fail(err, code)
		}
		kind := map[string]string{"ship": "shipped_ok", "resend": "resent_ok", "cancel": "cancelled_ok"}[cmd.Name]
		return note(kind, templates.ChatView{OrderCode: code}, o.ID)

	case "refund":
		code, amount, err := bot.ParseRefund(cmd.Args, cur)
		if err != nil {
			return note("error", templates.ChatView{Text: orders.ErrorMessage(err)}, "")
		}
		o, err := ours(code)
		if err != nil {
			return fail(err, code)
		}
		r, err := h.Service.CreateRefundOnce(ctx, shop.ID, o.ID, amount, key)
		if err != nil {
			return fail(err, code)
		}
		return note("refund_ok", templates.ChatView{OrderCode: code, Total: bot.Money(shop, r.Currency, r.Amount)}, o.ID)

	case "orders":
		open, err := h.Service.ListOrders(ctx, shop.ID, orders.OrderFilter{Limit: 100})
		if err != nil {
			return nil, err
		}
		var lines []templates.ChatOrderLine
		for _, o := range open {
			if o.ConversationID != conv.ID {
				continue
			}
			switch o.Status {
			case orders.StatusAwaitingPayment, orders.StatusPaid, orders.StatusShipped:
				lines = append(lines, templates.ChatOrderLine{Code: o.Code, Status: o.Status, Total: bot.Money(shop, o.Currency, o.Total)})
			}
		}
		return note("orders_list", templates.ChatView{Orders: lines}, "")

	case "help", "start":
		return note("help", templates.ChatView{Bot: username}, "")
	}
	return note("help", templates.ChatView{Bot: username}, "")
}

// orderView is an order as the staff texts show it.
func (h *Handler) orderView(shop *orders.Shop, o *orders.Order) templates.ChatView {
	v := bot.View(orders.MessageData{Shop: shop, Order: o})
	link, err := h.Service.LinkURL(o)
	if err != nil {
		link = ""
	}
	return templates.ChatView{
		Locale: shop.Locale, CustomerName: o.Customer.Name, OrderCode: o.Code, Total: v.Total,
		Items: v.Items, Shipping: v.Shipping, LinkURL: link,
	}
}

// callback acts on a pressed button (Ship on a ready-to-ship notice) and always
// answers the query, so the button stops spinning.
func (h *Handler) callback(ctx context.Context, shop *orders.Shop, key string, cq *models.CallbackQuery) error {
	client, ok := h.Clients(shop.ID)
	if !ok {
		return nil
	}
	answer := ""
	inOperatorGroup := cq.Message.Message != nil && h.OperatorChat != nil && cq.Message.Message.Chat.ID == h.OperatorChat(shop.ID)
	if orderID, ok := strings.CutPrefix(cq.Data, "ship:"); ok && inOperatorGroup {
		var err error
		if answer, err = h.shipFromButton(ctx, shop, key, orderID); err != nil {
			return err
		}
	}
	if press, ok := bot.ParseDraftData(cq.Data); ok && inOperatorGroup && h.Dialogs != nil {
		var err error
		if answer, err = h.draftPress(ctx, shop, client, key, cq.Message.Message, press); err != nil {
			return err
		}
	}
	err := client.AnswerCallback(ctx, cq.ID, answer)
	if bot.IsPermanent(err) {
		return nil // too old to answer; nothing is waiting any more
	}
	return err
}

// shipFromButton ships an order from its Ship button and returns what to tell the
// staff member who pressed it; the topic also gets the answer.
func (h *Handler) shipFromButton(ctx context.Context, shop *orders.Shop, key, orderID string) (string, error) {
	o, err := h.Service.Order(ctx, shop.ID, orderID)
	if err != nil {
		if orders.ErrorCode(err) == orders.ENOTFOUND {
			return orders.ErrorMessage(err), nil
		}
		return "", err
	}
	v := templates.ChatView{Locale: shop.Locale, OrderCode: o.Code}
	kind := "shipped_ok"
	if _, err := h.Service.CreateShipment(ctx, shop.ID, o.ID, shop.Name, ""); err != nil {
		switch orders.ErrorCode(err) {
		case orders.EINTERNAL:
			return "", err
		case orders.EPAYMENTREQUIRED:
			kind = "payment_required"
		default:
			kind, v.Text = "error", orders.ErrorMessage(err)
		}
	}
	text, err := h.Texts.Chat(kind, v)
	if err != nil {
		return "", err
	}
	if o.ConversationID != "" {
		if err := h.Service.SendMessages(ctx, shop.ID, o.ConversationID, key,
			orders.Outbound{Direction: orders.DirectionStaff, Kind: orders.KindStaffNote, Text: text}); err != nil {
			return "", err
		}
	}
	return text, nil
}

// businessWindow is how long after a customer's last message Telegram lets a bot
// write in a business chat on the owner's behalf.
const businessWindow = 24 * time.Hour

// businessMessage handles a message in a chat of the owner's business account the bot
// is connected to (Telegram Business). The customer's messages are recorded (their
// time opens the 24-hour reply window); the owner's commands work as in a staff
// topic: the order card goes into the chat on the owner's behalf, and chatpay's
// answers go to the owner's own chat with the bot, never into the customer's.
func (h *Handler) businessMessage(ctx context.Context, shop *orders.Shop, key string, msg *models.Message) error {
	client, ok := h.Clients(shop.ID)
	if !ok || msg.From == nil || msg.BusinessConnectionID == "" {
		return nil
	}
	ownerID, _, enabled, err := client.BusinessConnection(ctx, msg.BusinessConnectionID)
	if err != nil {
		if bot.IsPermanent(err) {
			return nil // the connection is gone; nothing to act for
		}
		return err
	}
	if !enabled {
		return nil
	}
	chat := orders.TelegramBusinessChat(msg.BusinessConnectionID, msg.Chat.ID)
	customerName := strings.TrimSpace(msg.Chat.FirstName + " " + msg.Chat.LastName)
	at := time.Unix(int64(msg.Date), 0)
	text := messageText(msg)

	if msg.From.ID != ownerID {
		// The customer: record it. The owner reads it in their own app.
		_, _, err := h.Service.ReceiveMessage(ctx, shop.ID, orders.InboundMessage{
			Channel: orders.ChannelTelegram, ExternalID: chat, CustomerName: customerName, Key: key, Text: text, At: at,
		})
		return err
	}
	cmd, isCmd := bot.ParseCommand(text)
	if !isCmd {
		return nil // the owner talking to their customer
	}
	_, username, err := client.Me(ctx)
	if err != nil {
		return err
	}
	if !cmd.For(username) {
		return nil
	}
	conv, err := h.Service.EnsureConversation(ctx, shop.ID, orders.ChannelTelegram, chat, customerName)
	if err != nil {
		return err
	}
	owner, err := h.Service.EnsureConversation(ctx, shop.ID, orders.ChannelTelegram, strconv.FormatInt(ownerID, 10),
		strings.TrimSpace(msg.From.FirstName+" "+msg.From.LastName))
	if err != nil {
		return err
	}
	var replies []orders.Outbound
	windowClosed := conv.LastInboundAt == nil || at.Sub(*conv.LastInboundAt) > businessWindow
	if (cmd.Name == "order" || cmd.Name == "order_ship") && windowClosed {
		replies, err = h.orderOutsideWindow(ctx, shop, conv, key, cmd)
	} else {
		replies, err = h.command(ctx, shop, conv, key, cmd, username)
	}
	if err != nil {
		return err
	}
	for i := range replies {
		replies[i].Direction = orders.DirectionOut // to the owner's own chat with the bot
	}
	return h.Service.SendMessages(ctx, shop.ID, owner.ID, key, replies...)
}

// orderOutsideWindow creates an order for a business chat whose customer has not
// written for 24 hours: Telegram would refuse the card, so the order is made without
// sending it, and the owner gets its link to forward.
func (h *Handler) orderOutsideWindow(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, key string, cmd bot.Command) ([]orders.Outbound, error) {
	cur, _ := orders.LookupCurrency(shop.Currency)
	spec, err := bot.ParseOrder(cmd.Args, cur)
	if err == nil {
		var o *orders.Order
		o, err = h.Service.CreateOrder(ctx, shop.ID, orders.CreateOrderInput{
			Customer:      orders.Customer{Name: conv.CustomerName}, // no conversation: no card
			Items:         spec.Items,
			ShippingFee:   spec.ShippingFee,
			ShipOnPayment: cmd.Name == "order_ship",
			Key:           key,
		})
		if err == nil {
			v := h.orderView(shop, o)
			v.CustomerName = conv.CustomerName
			text, err := h.Texts.Chat("business_window_closed", v)
			if err != nil {
				return nil, err
			}
			return []orders.Outbound{{Kind: orders.KindStaffNote, Text: text}}, nil
		}
	}
	if orders.ErrorCode(err) == orders.EINTERNAL {
		return nil, err
	}
	text, terr := h.Texts.Chat("order_invalid", templates.ChatView{Locale: shop.Locale, Text: orders.ErrorMessage(err)})
	if terr != nil {
		return nil, terr
	}
	return []orders.Outbound{{Kind: orders.KindStaffNote, Text: text + "\n\n" + bot.OrderUsage(cur)}}, nil
}

// ChatOfUpdate names the chat a raw update belongs to, so that one chat's updates are
// handled in order (orders.Config.ChatOfUpdate): the chat of a message or of the
// message under a pressed button; for a business chat, the business connection too.
// Updates without a chat (a business connection made) give "".
func ChatOfUpdate(raw []byte) string {
	type chatRef struct {
		Chat struct {
			ID int64 `json:"id"`
		} `json:"chat"`
		BusinessConnectionID string `json:"business_connection_id"`
	}
	var u struct {
		Message         *chatRef `json:"message"`
		EditedMessage   *chatRef `json:"edited_message"`
		ChannelPost     *chatRef `json:"channel_post"`
		BusinessMessage *chatRef `json:"business_message"`
		CallbackQuery   *struct {
			Message *chatRef `json:"message"`
		} `json:"callback_query"`
	}
	if json.Unmarshal(raw, &u) != nil {
		return ""
	}
	var ref *chatRef
	switch {
	case u.Message != nil:
		ref = u.Message
	case u.EditedMessage != nil:
		ref = u.EditedMessage
	case u.ChannelPost != nil:
		ref = u.ChannelPost
	case u.BusinessMessage != nil:
		return orders.TelegramBusinessChat(u.BusinessMessage.BusinessConnectionID, u.BusinessMessage.Chat.ID)
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		ref = u.CallbackQuery.Message
	default:
		return ""
	}
	return strconv.FormatInt(ref.Chat.ID, 10)
}
