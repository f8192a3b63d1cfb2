package orders

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kinds of messages a conversation handler sends besides the order messages.
const (
	KindCardWarning = "card_warning" // to a customer who typed a card number
	KindWelcome     = "welcome"      // to a customer who started the chat
	KindStaffReply  = "staff_reply"  // a staff member's words, relayed to the customer
	KindMirror      = "mirror"       // a customer's words, shown to staff
	KindStaffNote   = "staff_note"   // chatpay's answer to a staff command

	// KindOrderCardPaid and KindOrderCardCancelled render an order card as it reads
	// once the order is paid or cancelled; a card already sent is edited to it.
	KindOrderCardPaid      = "order_card_paid"
	KindOrderCardCancelled = "order_card_cancelled"
)

// CardUpdate is how an order's messages in a chat should read now that it is paid or
// cancelled, or awaits payment again after its hold was released (see reopened): its
// cards, and the messages that invited the customer to pay again.
type CardUpdate struct {
	Conversation *Conversation
	// Cards are the order cards delivered to the conversation; each should read Text,
	// with Buttons.
	Cards   []*Message
	Text    string
	Buttons []Button
	// PayAgain are the messages after a failed payment delivered to the conversation,
	// whose Pay again button opens the order's link. Each carries the text and
	// buttons it should read now, not those it was delivered with: its own words with
	// the card's status line under them and no buttons, or, for a reopened order, its
	// own words and its Pay again button back.
	PayAgain []*Message
}

// CardUpdate renders how the order's delivered cards and Pay again messages should
// read now: paid or cancelled, with nothing left to pay, or payable again (the card as
// first sent, with Pay now) for an order reopened by a released hold. It reports ok
// false when they need no change (an order that awaits payment and was never paid) or
// there are none.
//
// A reopened order's messages are all taken in, also those whose stored text is
// already payable: only the web chat stores the edits of the RefreshCard job, so on
// other channels a card stored with Pay now may show paid in the chat. Editing a
// message to what it shows changes nothing, so the extra edits are harmless.
func (s *Service) CardUpdate(ctx context.Context, shopID, orderID string) (u *CardUpdate, ok bool, err error) {
	shop, err := s.Shop(shopID)
	if err != nil {
		return nil, false, err
	}
	o, err := s.store.Order(ctx, shopID, orderID)
	if err != nil {
		return nil, false, notFound(err, "no order %s", orderID)
	}
	kind, settled := settledKind(o)
	if (!settled && !reopened(o)) || o.ConversationID == "" {
		return nil, false, nil
	}
	ms, err := s.store.OrderMessages(ctx, shopID, orderID)
	if err != nil {
		return nil, false, err
	}
	u = &CardUpdate{}
	for _, m := range ms {
		// Only a delivered message can be edited: the channel's id names it.
		if m.Direction != DirectionOut || m.Status != MessageSent || m.ExternalID == "" {
			continue
		}
		switch m.Kind {
		case KindOrderCard:
			u.Cards = append(u.Cards, m)
		case KindPaymentFailed:
			// The only other message the renderer gives the link's button (Pay
			// again); tapping it now only finds the order paid or cancelled.
			u.PayAgain = append(u.PayAgain, m)
		}
	}
	if len(u.Cards) == 0 && len(u.PayAgain) == 0 {
		return nil, false, nil
	}
	if u.Conversation, err = s.store.Conversation(ctx, shopID, o.ConversationID); err != nil {
		return nil, false, err
	}
	d := MessageData{Shop: shop, Order: o}
	if !settled {
		if u.Text, u.Buttons, err = s.payableCard(d); err != nil {
			return nil, false, err
		}
		for _, m := range u.PayAgain {
			if m.Text, m.Buttons, err = s.payableAgain(d, m.Text); err != nil {
				return nil, false, err
			}
		}
		return u, true, nil
	}
	if u.Text, u.Buttons, err = s.renderer.Message(kind, d); err != nil {
		return nil, false, fmt.Errorf("render %s: %w", kind, err)
	}
	if len(u.PayAgain) == 0 {
		return u, true, nil
	}
	lines, err := s.cardStatusLines(d)
	if err != nil {
		return nil, false, err
	}
	for _, m := range u.PayAgain {
		m.Text, m.Buttons = settledPayAgain(m.Text, lines, kind), nil
	}
	return u, true, nil
}

// payableCard renders the card of an order that awaits payment as queueMessage drew
// it when it was first sent: Pay now with the order's link, no status line.
func (s *Service) payableCard(d MessageData) (string, []Button, error) {
	var err error
	if d.LinkURL, err = s.LinkURL(d.Order); err != nil {
		return "", nil, err
	}
	text, buttons, err := s.renderer.Message(KindOrderCard, d)
	if err != nil {
		return "", nil, fmt.Errorf("render %s: %w", KindOrderCard, err)
	}
	return text, buttons, nil
}

// payableAgain returns how a Pay again message with the words text reads once its
// order awaits payment again: its words without the status line it was given when the
// order was paid (the web chat stores it; elsewhere the stored words never had it), and
// its Pay again button back, since tapping it pays the order again. The button is the
// renderer's for KindPaymentFailed; its words are the message's own, whose reason
// was not kept.
func (s *Service) payableAgain(d MessageData, text string) (string, []Button, error) {
	lines, err := s.cardStatusLines(d)
	if err != nil {
		return "", nil, err
	}
	if d.LinkURL, err = s.LinkURL(d.Order); err != nil {
		return "", nil, err
	}
	_, buttons, err := s.renderer.Message(KindPaymentFailed, d)
	if err != nil {
		return "", nil, fmt.Errorf("render %s: %w", KindPaymentFailed, err)
	}
	return withoutStatusLine(text, lines), buttons, nil
}

// settledKind returns how the cards of an order that can no longer be paid are drawn
// (KindOrderCardPaid or KindOrderCardCancelled), and false while it awaits payment.
func settledKind(o *Order) (kind string, ok bool) {
	switch o.Status {
	case StatusPaid, StatusShipped, StatusCompleted:
		return KindOrderCardPaid, true
	case StatusCancelled, StatusDeleted:
		return KindOrderCardCancelled, true
	}
	return "", false
}

// settledPayAgain returns the words of a Pay again message with the status line of
// kind (see cardStatusLines) under them. A message that already has a status line (the
// web chat stores its edits; an order paid and then cancelled) loses it first, so that
// a rerun changes nothing and a new status replaces the old one.
func settledPayAgain(text string, lines map[string]string, kind string) string {
	return withoutStatusLine(text, lines) + lines[kind]
}

// withoutStatusLine returns text without the status line of lines (see
// cardStatusLines) at its end, if it has one.
func withoutStatusLine(text string, lines map[string]string) string {
	for _, line := range lines {
		if t, ok := strings.CutSuffix(text, line); ok {
			return t
		}
	}
	return text
}

// cardStatusLines returns the lines the renderer puts under a card without Pay now
// once its order is paid (KindOrderCardPaid) and once it is cancelled
// (KindOrderCardCancelled), in the shop's language: what such a card adds to the card
// rendered without a link. A Pay again message gets the same line, so the chat says
// the same thing under both. A renderer that draws the cards otherwise gives no line,
// and the message only loses its button.
func (s *Service) cardStatusLines(d MessageData) (map[string]string, error) {
	d.LinkURL = "" // no Pay now, as on the paid and cancelled cards
	plain, _, err := s.renderer.Message(KindOrderCard, d)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", KindOrderCard, err)
	}
	lines := make(map[string]string, 2)
	for _, kind := range []string{KindOrderCardPaid, KindOrderCardCancelled} {
		text, _, err := s.renderer.Message(kind, d)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", kind, err)
		}
		if line, ok := strings.CutPrefix(text, plain); ok && strings.TrimSpace(line) != "" {
			lines[kind] = line
		}
	}
	return lines, nil
}

// maxChatText bounds a stored chat message; Telegram's own limit is 4096 characters.
const maxChatText = 4096

// Outbound is a message a conversation handler queues.
type Outbound struct {
	// Direction is DirectionOut (to the customer) or DirectionStaff (to the staff
	// topic of the conversation).
	Direction string
	Kind      string
	Text      string
	Buttons   []Button
	// OrderID ties the message to an order, so it is listed with the order's messages.
	OrderID string
}

// InboundMessage is what a customer wrote, as a channel adapter hands it over.
type InboundMessage struct {
	Channel      string
	ExternalID   string
	CustomerName string
	// Key is unique per delivery on the platform (the chat update); it makes
	// recording the message idempotent.
	Key  string
	Text string
	// At is when the platform says the customer wrote; zero means now. Reply windows
	// (Telegram Business's 24 hours) are measured on the platform's clock.
	At time.Time
}

// ReceiveMessage records a customer's message in their conversation (creating it on
// first contact, refreshing the name and when they last wrote) and queues the
// messages that follow from it, in one transaction. Messages to staff are queued only
// for shops with a staff chat. Recording the same Key again changes nothing and
// reports fresh false.
func (s *Service) ReceiveMessage(ctx context.Context, shopID string, in InboundMessage, replies ...Outbound) (conv *Conversation, fresh bool, err error) {
	shop, err := s.Shop(shopID)
	if err != nil {
		return nil, false, err
	}
	if in.Key == "" || in.ExternalID == "" {
		return nil, false, Errorf(EINVALID, "an inbound message needs a key and a conversation")
	}
	id := "in:" + in.Key
	if _, err := s.store.Message(ctx, shopID, id); err == nil {
		conv, err := s.conversationOf(ctx, shopID, in.Channel, in.ExternalID, id)
		return conv, false, err
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	now := s.Now()
	err = s.inTx(ctx, func(tx Tx) error {
		conv = &Conversation{ID: NewID(), ShopID: shopID, Channel: in.Channel, ExternalID: in.ExternalID,
			CustomerName: clip(in.CustomerName, maxCustomerField), CreatedAt: now}
		if err := tx.UpsertConversation(ctx, conv); err != nil {
			return err
		}
		if in.CustomerName != "" {
			conv.CustomerName = clip(in.CustomerName, maxCustomerField)
		}
		at := now
		if !in.At.IsZero() {
			at = in.At.UTC().Truncate(time.Microsecond)
		}
		// A platform may deliver an older message late (Meta retries for hours):
		// the window a reply may use is measured from the latest one.
		if conv.LastInboundAt == nil || at.After(*conv.LastInboundAt) {
			conv.LastInboundAt = &at
		}
		if err := tx.UpdateConversation(ctx, conv); err != nil {
			return err
		}
		m := &Message{ID: id, ShopID: shopID, ConversationID: conv.ID, Direction: DirectionIn, Kind: "text",
			Text: clip(in.Text, maxChatText), Status: MessageSent, CreatedAt: now, SentAt: &now}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		return s.queueOutbound(ctx, tx, shop, conv, in.Key, replies)
	})
	if err != nil {
		return nil, false, err
	}
	return conv, true, nil
}

// conversationOf returns the conversation an already recorded message belongs to.
func (s *Service) conversationOf(ctx context.Context, shopID, channel, externalID, messageID string) (*Conversation, error) {
	m, err := s.store.Message(ctx, shopID, messageID)
	if err != nil {
		return nil, err
	}
	return s.store.Conversation(ctx, shopID, m.ConversationID)
}

// SendMessages queues messages in a conversation, once per key: a handler that runs
// again for the same update (key) queues nothing more.
func (s *Service) SendMessages(ctx context.Context, shopID, conversationID, key string, outs ...Outbound) error {
	shop, err := s.Shop(shopID)
	if err != nil {
		return err
	}
	if key == "" {
		return Errorf(EINVALID, "messages need a key")
	}
	if len(outs) == 0 {
		return nil
	}
	if _, err := s.store.Message(ctx, shopID, outboundID(key, 0)); err == nil {
		return nil // already queued by an earlier run
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	conv, err := s.store.Conversation(ctx, shopID, conversationID)
	if err != nil {
		return notFound(err, "no conversation %s", conversationID)
	}
	return s.inTx(ctx, func(tx Tx) error { return s.queueOutbound(ctx, tx, shop, conv, key, outs) })
}

// queueOutbound stores outs as queued messages with IDs derived from key, and their
// delivery jobs.
func (s *Service) queueOutbound(ctx context.Context, tx Tx, shop *Shop, conv *Conversation, key string, outs []Outbound) error {
	now := s.Now()
	var jobs []Job
	for i, out := range outs {
		switch out.Direction {
		case DirectionOut:
		case DirectionStaff:
			if !shop.StaffChat {
				continue
			}
		default:
			return fmt.Errorf("outbound message %d: direction %q", i, out.Direction)
		}
		m := &Message{ID: outboundID(key, i), ShopID: shop.ID, ConversationID: conv.ID, OrderID: out.OrderID,
			Direction: out.Direction, Kind: out.Kind, Text: clip(out.Text, maxChatText), Buttons: out.Buttons,
			Status: MessageQueued, CreatedAt: now}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		jobs = append(jobs, DeliverMessage{ShopID: shop.ID, MessageID: m.ID})
	}
	return tx.Enqueue(ctx, jobs...)
}

func outboundID(key string, i int) string { return fmt.Sprintf("out:%s:%d", key, i) }

// SetStaffThread records the staff topic opened for a conversation.
func (s *Service) SetStaffThread(ctx context.Context, shopID, conversationID string, thread int64) error {
	// Only the topic column is written: rewriting the conversation read a moment
	// earlier would set back a customer message recorded in between.
	err := s.inTx(ctx, func(tx Tx) error { return tx.SetStaffThread(ctx, shopID, conversationID, thread) })
	return notFound(err, "no conversation %s", conversationID)
}

// ConversationByStaffThread returns the conversation a staff topic is about.
func (s *Service) ConversationByStaffThread(ctx context.Context, shopID string, thread int64) (*Conversation, error) {
	c, err := s.store.ConversationByStaffThread(ctx, shopID, thread)
	return c, notFound(err, "no conversation has staff topic %d", thread)
}

// OrderByCode returns an order of the shop by its code.
func (s *Service) OrderByCode(ctx context.Context, shopID, code string) (*Order, error) {
	if _, err := s.Shop(shopID); err != nil {
		return nil, err
	}
	o, err := s.store.OrderByCode(ctx, shopID, code)
	return o, notFound(err, "no order #%s", code)
}

// clip cuts s to at most n runes, on a rune boundary.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// Conversation returns one of the shop's conversations.
func (s *Service) Conversation(ctx context.Context, shopID, id string) (*Conversation, error) {
	c, err := s.store.Conversation(ctx, shopID, id)
	return c, notFound(err, "no conversation %s", id)
}

// EnsureConversation returns the shop's conversation for (channel, external id),
// creating it on first use.
func (s *Service) EnsureConversation(ctx context.Context, shopID, channel, externalID, name string) (*Conversation, error) {
	if _, err := s.Shop(shopID); err != nil {
		return nil, err
	}
	var conv *Conversation
	err := s.inTx(ctx, func(tx Tx) error {
		conv = &Conversation{ID: NewID(), ShopID: shopID, Channel: channel, ExternalID: externalID,
			CustomerName: clip(name, maxCustomerField), CreatedAt: s.Now()}
		return tx.UpsertConversation(ctx, conv)
	})
	return conv, err
}

// A Telegram conversation's external id is the chat id, or, for a chat the bot joins
// through the owner's business account (Telegram Business), "biz:<connection
// id>:<chat id>": the same customer may also have a private chat with the bot, with
// the same chat id.
const telegramBusinessPrefix = "biz:"

// TelegramBusinessChat returns the external id of a business chat.
func TelegramBusinessChat(connectionID string, chatID int64) string {
	return telegramBusinessPrefix + connectionID + ":" + strconv.FormatInt(chatID, 10)
}

// A conversation in a group's comment thread is anchored at the message it answers
// (the customer's comment): "reply:<chat id>:<message id>". Messages to it are sent
// as replies to that message, which puts them in the thread and notifies its author.
const telegramReplyPrefix = "reply:"

// TelegramReplyChat returns the external id of the conversation that answers message
// messageID of group chatID.
func TelegramReplyChat(chatID int64, messageID int) string {
	return telegramReplyPrefix + strconv.FormatInt(chatID, 10) + ":" + strconv.Itoa(messageID)
}

// TelegramReplyTo returns the message a Telegram conversation answers, 0 for a
// conversation that is a whole chat.
func TelegramReplyTo(externalID string) int {
	rest, ok := strings.CutPrefix(externalID, telegramReplyPrefix)
	if !ok {
		return 0
	}
	_, msg, _ := strings.Cut(rest, ":")
	id, err := strconv.Atoi(msg)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// TelegramChat parses a Telegram conversation's external id into the chat id and,
// for a business chat, the business connection.
func TelegramChat(externalID string) (chatID int64, businessConnection string, err error) {
	if rest, ok := strings.CutPrefix(externalID, telegramReplyPrefix); ok {
		chat, msg, found := strings.Cut(rest, ":")
		if id, aerr := strconv.Atoi(msg); !found || aerr != nil || id <= 0 {
			return 0, "", fmt.Errorf("telegram reply chat %q: want reply:<chat id>:<message id>", externalID)
		}
		externalID = chat
	}
	if rest, ok := strings.CutPrefix(externalID, telegramBusinessPrefix); ok {
		i := strings.LastIndexByte(rest, ':')
		if i <= 0 {
			return 0, "", fmt.Errorf("telegram business chat %q: want biz:<connection>:<chat id>", externalID)
		}
		businessConnection, rest = rest[:i], rest[i+1:]
		externalID = rest
	}
	chatID, err = strconv.ParseInt(externalID, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("telegram chat id %q is not an integer", externalID)
	}
	return chatID, businessConnection, nil
}

// MarkChatUpdateProcessed records that the handler is done with an update, which lets
// the next update of its chat go.
func (s *Service) MarkChatUpdateProcessed(ctx context.Context, u *ChatUpdate) error {
	return s.MarkChatUpdatesProcessed(ctx, u)
}

// MarkChatUpdatesProcessed marks several updates processed in one transaction: the
// job that handles updates gathers the marks of updates finished together, so that
// a burst costs a commit per batch rather than per update. If one of them cannot be
// marked (no longer recorded), none is.
func (s *Service) MarkChatUpdatesProcessed(ctx context.Context, ups ...*ChatUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	now := s.Now()
	return s.inTx(ctx, func(tx Tx) error {
		for _, u := range ups {
			if err := tx.MarkChatUpdateProcessed(ctx, u.ShopID, u.Source, u.UpdateID, now); err != nil {
				return err
			}
		}
		return nil
	})
}
