package telegram

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// The guided /order: staff who would rather tap than type send /order (or
// /order_ship) with nothing after it in a customer's topic. The bot answers with the
// draft and a keyboard: the shop's recent items, − and + per chosen line, "type an
// item", "shipping fee", create and discard. Each press edits that one message;
// "type an item" and "shipping fee" make the staff member's next message in the
// topic the input instead of words for the customer.
//
// The draft is kept in Dialogs under the topic, so one topic has one draft at a
// time, and any replica can take the next press when Dialogs is Redis. The updates
// of the operator group are handled one at a time in order (jobs), so presses on one
// draft never race.
const (
	// draftTTL is how long an untouched draft is kept.
	draftTTL = 30 * time.Minute
	// closedDraftTTL is how long a created or discarded draft is kept, so that a
	// retried update or a late press finds what happened to it.
	closedDraftTTL = 10 * time.Minute
	// draftOfferFrom is how many recent orders the offered items come from.
	draftOfferFrom = 50
)

func draftKey(shopID string, thread int64) string {
	return "tg-order-draft:" + shopID + ":" + strconv.FormatInt(thread, 10)
}

// startDraft opens a draft in the conversation's topic.
func (h *Handler) startDraft(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, key string, shipOnPayment bool) error {
	offer, err := h.recentItems(ctx, shop)
	if err != nil {
		return err
	}
	d := bot.NewDraft(key, shipOnPayment, offer)
	dk := draftKey(shop.ID, conv.StaffThreadID)
	if old, err := h.loadDraft(ctx, dk); err != nil {
		return err
	} else if old != nil && old.ID == d.ID {
		d = old // this update again: its draft may have moved on since
	}
	if err := h.saveDraft(ctx, dk, d); err != nil {
		return err
	}
	text, buttons, err := h.renderDraft(ctx, shop, conv, d)
	if err != nil {
		return err
	}
	return h.Service.SendMessages(ctx, shop.ID, conv.ID, key,
		orders.Outbound{Direction: orders.DirectionStaff, Kind: orders.KindStaffNote, Text: text, Buttons: buttons})
}

// recentItems are the distinct items (name and price) of the shop's latest orders,
// newest first: what staff most likely sell next.
func (h *Handler) recentItems(ctx context.Context, shop *orders.Shop) ([]orders.Item, error) {
	recent, err := h.Service.ListOrders(ctx, shop.ID, orders.OrderFilter{Limit: draftOfferFrom})
	if err != nil {
		return nil, err
	}
	type item struct {
		name  string
		price int64
	}
	seen := map[item]bool{}
	var offer []orders.Item
	for _, o := range recent {
		if o.Currency != shop.Currency {
			continue
		}
		for _, it := range o.Items {
			k := item{it.Name, it.UnitPrice}
			if seen[k] {
				continue
			}
			seen[k] = true
			offer = append(offer, orders.Item{Name: it.Name, UnitPrice: it.UnitPrice})
			if len(offer) == bot.MaxDraftOffer {
				return offer, nil
			}
		}
	}
	return offer, nil
}

func (h *Handler) loadDraft(ctx context.Context, key string) (*bot.Draft, error) {
	raw, ok, err := h.Dialogs.Load(ctx, key)
	if err != nil || !ok {
		return nil, err
	}
	d, err := bot.DecodeDraft(raw)
	if err != nil {
		h.logger().Warn("order draft unreadable; starting over", "key", key, "err", err)
		return nil, nil
	}
	return d, nil
}

func (h *Handler) saveDraft(ctx context.Context, key string, d *bot.Draft) error {
	ttl := draftTTL
	if d.Closed() {
		ttl = closedDraftTTL
	}
	return h.Dialogs.Save(ctx, key, d.Encode(), ttl)
}

// draftPress acts on a draft's button and returns the answer for the button press.
func (h *Handler) draftPress(ctx context.Context, shop *orders.Shop, client *Client, key string, msg *models.Message, press bot.DraftPress) (string, error) {
	if msg == nil {
		return "", nil
	}
	// expired answers a button of a draft that is gone or replaced, and takes the
	// keyboard off its message so that nobody presses it again.
	expired := func() (string, error) {
		text, err := h.Texts.Chat("draft_expired", templates.ChatView{Locale: shop.Locale})
		if err != nil {
			return "", err
		}
		return text, h.editDraftMessage(ctx, client, msg.Chat.ID, msg.ID, text, nil)
	}
	conv, err := h.Service.ConversationByStaffThread(ctx, shop.ID, int64(msg.MessageThreadID))
	if orders.ErrorCode(err) == orders.ENOTFOUND {
		return expired()
	} else if err != nil {
		return "", err
	}
	dk := draftKey(shop.ID, conv.StaffThreadID)
	d, err := h.loadDraft(ctx, dk)
	if err != nil {
		return "", err
	}
	if d == nil || d.ID != press.ID {
		return expired()
	}
	answer := ""
	if !d.Seen(key) && !d.Closed() && !d.Stale(press) {
		switch press.Op {
		case bot.DraftOpDiscard:
			d.Discarded, d.Awaiting = true, ""
		case bot.DraftOpCreate:
			o, err := h.Service.CreateOrder(ctx, shop.ID, orders.CreateOrderInput{
				Customer:      orders.Customer{Channel: conv.Channel, ExternalID: conv.ExternalID, Name: conv.CustomerName},
				Items:         d.Lines,
				ShippingFee:   d.ShippingFee,
				ShipOnPayment: d.ShipOnPayment,
				Key:           key,
			})
			if orders.ErrorCode(err) == orders.EINTERNAL {
				return "", err
			} else if err != nil {
				return orders.ErrorMessage(err), nil // the draft stays as it is
			}
			d.OrderCode, d.Awaiting = o.Code, ""
		default:
			if err := d.Press(press.Op, press.Index); err != nil {
				answer = orders.ErrorMessage(err)
			}
			if d.Awaiting != "" {
				d.AwaitingSince = h.Service.Now().Unix()
			}
		}
		d.MessageID = msg.ID
		d.MarkApplied(key)
		if err := h.saveDraft(ctx, dk, d); err != nil {
			return "", err
		}
	}
	return answer, h.showDraft(ctx, shop, client, conv, d, msg.Chat.ID, msg.ID)
}

// awaitingLapse is how long a draft reads staff messages as its input after ✏️ or
// 🚚 was pressed.
const awaitingLapse = 5 * time.Minute

// draftInput takes a staff member's message as the item or fee a draft in their
// topic is waiting for. It reports whether the message was taken. Only messages that
// answer the draft's message, or look like what it waits for, are taken: staff keep
// talking to the customer in the same topic, and their words must reach them.
func (h *Handler) draftInput(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, key string, msg *models.Message, text string) (bool, error) {
	dk := draftKey(shop.ID, conv.StaffThreadID)
	d, err := h.loadDraft(ctx, dk)
	if err != nil {
		// Without the draft store, staff replies must still reach customers.
		h.logger().Warn("order draft store unavailable", "shop_id", shop.ID, "err", err)
		return false, nil
	}
	if d == nil || (d.Closed() && !d.Seen(key)) {
		return false, nil
	}
	if !d.Seen(key) {
		cur, _ := orders.LookupCurrency(shop.Currency)
		lapsed := h.Service.Now().Sub(time.Unix(d.AwaitingSince, 0)) > awaitingLapse
		answersDraft := msg.ReplyToMessage != nil && d.MessageID != 0 && msg.ReplyToMessage.ID == d.MessageID
		if d.Awaiting == "" || lapsed || !(answersDraft || looksLikeInput(d.Awaiting, text, cur)) {
			return false, nil
		}
		var inputErr error
		switch d.Awaiting {
		case bot.DraftAwaitItem:
			var spec bot.OrderSpec
			if spec, inputErr = bot.ParseOrder(text, cur); inputErr == nil {
				if inputErr = d.AddItems(spec.Items); inputErr == nil && spec.ShippingFee > 0 {
					inputErr = d.SetShipping(spec.ShippingFee)
				}
			}
		case bot.DraftAwaitShipping:
			var fee int64
			if fee, inputErr = bot.ParseFee(text, cur); inputErr == nil {
				inputErr = d.SetShipping(fee)
			}
		}
		if inputErr != nil {
			// Still waiting: say what is wrong, in the topic.
			note, err := h.Texts.Chat("order_invalid", templates.ChatView{Locale: shop.Locale, Text: orders.ErrorMessage(inputErr)})
			if err != nil {
				return true, err
			}
			if d.Awaiting == bot.DraftAwaitItem {
				note += "\n\n" + bot.OrderUsage(cur)
			}
			return true, h.Service.SendMessages(ctx, shop.ID, conv.ID, key,
				orders.Outbound{Direction: orders.DirectionStaff, Kind: orders.KindStaffNote, Text: note})
		}
		d.Awaiting = ""
		d.MarkApplied(key)
		if err := h.saveDraft(ctx, dk, d); err != nil {
			return true, err
		}
	}
	client, ok := h.Clients(shop.ID)
	if !ok || d.MessageID == 0 {
		return true, nil
	}
	return true, h.showDraft(ctx, shop, client, conv, d, h.OperatorChat(shop.ID), d.MessageID)
}

// looksLikeInput reports whether a message is plausibly the item or fee a draft
// waits for: an item line has "@ price"; a fee is an amount, or a few words with a
// number in them ("30k ship"), which get an error when they do not parse.
func looksLikeInput(awaiting, text string, cur orders.Currency) bool {
	switch awaiting {
	case bot.DraftAwaitItem:
		return strings.Contains(text, "@")
	case bot.DraftAwaitShipping:
		if _, err := bot.ParseFee(text, cur); err == nil {
			return true
		}
		return len(strings.Fields(text)) <= 3 && strings.ContainsAny(text, "0123456789")
	}
	return false
}

// showDraft edits the draft's message to show the draft as it is now.
func (h *Handler) showDraft(ctx context.Context, shop *orders.Shop, client *Client, conv *orders.Conversation, d *bot.Draft, chatID int64, messageID int) error {
	text, buttons, err := h.renderDraft(ctx, shop, conv, d)
	if err != nil {
		return err
	}
	return h.editDraftMessage(ctx, client, chatID, messageID, text, buttons)
}

func (h *Handler) editDraftMessage(ctx context.Context, client *Client, chatID int64, messageID int, text string, buttons []orders.Button) error {
	err := client.Edit(ctx, Target{ChatID: chatID}, messageID, Out{Text: text, Buttons: buttons})
	switch {
	case err == nil:
		return nil
	case bot.IsPermanent(err):
		// Deleted by staff, most likely; the draft still works from a new /order.
		h.logger().Warn("order draft message not edited", "chat_id", chatID, "message_id", messageID, "err", err)
		return nil
	}
	if after, ok := RetryAfter(err); ok {
		return &bot.RateLimitedError{After: after, Err: err}
	}
	return err
}

// renderDraft is the text and keyboard of a draft: while open, its lines and a hint
// of what to do next; once created, the order as /order reports it; once discarded,
// a line that says so.
func (h *Handler) renderDraft(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, d *bot.Draft) (string, []orders.Button, error) {
	switch {
	case d.Discarded:
		text, err := h.Texts.Chat("draft_discarded", templates.ChatView{Locale: shop.Locale})
		return text, nil, err
	case d.OrderCode != "":
		o, err := h.Service.OrderByCode(ctx, shop.ID, d.OrderCode)
		if err != nil {
			return "", nil, err
		}
		kind := "order_created"
		if o.ShipOnPayment {
			kind = "order_created_ship"
		}
		text, err := h.Texts.Chat(kind, h.orderView(shop, o))
		return text, nil, err
	}
	hintKind := "draft_hint_pick"
	switch d.Awaiting {
	case bot.DraftAwaitItem:
		hintKind = "draft_hint_item"
	case bot.DraftAwaitShipping:
		hintKind = "draft_hint_shipping"
	}
	hint, err := h.Texts.Chat(hintKind, templates.ChatView{Locale: shop.Locale})
	if err != nil {
		return "", nil, err
	}
	v := bot.View(orders.MessageData{Shop: shop, Order: &orders.Order{
		Currency: shop.Currency, Items: d.Lines, ShippingFee: d.ShippingFee, Total: d.Total(),
	}})
	for i := range v.Items {
		v.Items[i].Name = clip(v.Items[i].Name, draftNameInText)
	}
	text, err := h.Texts.Chat("order_draft", templates.ChatView{
		Locale: shop.Locale, CustomerName: conv.CustomerName, Items: v.Items, Shipping: v.Shipping,
		Total: v.Total, Text: hint, ShipOnPayment: d.ShipOnPayment,
	})
	if err != nil {
		return "", nil, err
	}
	label := func(name string) string { return h.Texts.ButtonLabel(shop.Locale, name) }
	buttons := d.Buttons(bot.DraftLabels{
		TypeItem: label("add_item"), Shipping: label("shipping_fee"),
		Create: label("create_order"), Discard: label("discard"),
	}, func(n int64) string { return bot.Money(shop, shop.Currency, n) })
	return text, buttons, nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// draftNameInText bounds an item's name in a draft's text, which must stay within
// Telegram's 4,096 characters with MaxDraftLines lines.
const draftNameInText = 80

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
