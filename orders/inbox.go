package orders

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The dashboard's inbox: a shop's conversations from every channel by their latest
// activity, a conversation's transcript, staff replies and orders made for a
// conversation.

// Cursor marks where a page of a list ordered by time, then ID, ended: the next page
// holds what comes after it. The zero Cursor is the start of the list.
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == "" }

// String encodes the cursor for a URL: base64url of "<unix microseconds>:<id>". It
// is opaque to people; ParseCursor reads it back.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMicro(), 10) + ":" + c.ID))
}

// Bounds of a cursor read from a request: IDs are UUIDs or message IDs derived from
// platform keys, far below maxCursorID, and times are the stores' own.
const (
	maxCursorID  = 400
	maxCursorLen = 4 * (maxCursorID + 21) / 3
)

// maxCursorMicros is 9999-12-31, past anything a store holds and inside every store's
// time range.
var maxCursorMicros = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).UnixMicro()

// ParseCursor reads a cursor String wrote. s comes from a request: anything else is
// an EINVALID error naming field. An empty s is the zero Cursor.
func ParseCursor(field, s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := Invalidf(field, "is not a cursor from this list; open the list again")
	if len(s) > maxCursorLen {
		return Cursor{}, bad
	}
	// Strict: a cursor has one spelling, so the same page has one URL.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	at, id, ok := strings.Cut(string(raw), ":")
	if !ok || id == "" || len(id) > maxCursorID || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return Cursor{}, bad
	}
	micros, err := strconv.ParseInt(at, 10, 64)
	if err != nil || micros < 0 || micros > maxCursorMicros || strconv.FormatInt(micros, 10) != at {
		return Cursor{}, bad
	}
	return Cursor{At: time.UnixMicro(micros).UTC(), ID: id}, nil
}

// ConversationFilter selects conversations for ListConversations.
type ConversationFilter struct {
	// Channel, when set, keeps the conversations on that channel.
	Channel string
	// Before pages: only conversations whose (LastActivityAt, ID) is below it.
	Before Cursor
	Limit  int
}

// ConversationSummary is a conversation as the inbox lists it.
type ConversationSummary struct {
	Conversation *Conversation
	// LastActivityAt is when the conversation's newest message with the customer (in
	// or out) was recorded, or when the conversation began while it has none.
	LastActivityAt time.Time
	// LastMessage is that message, nil when there is none.
	LastMessage *Message
}

// Cursor is where a page ending with this conversation ends.
func (c *ConversationSummary) Cursor() Cursor {
	return Cursor{At: c.LastActivityAt, ID: c.Conversation.ID}
}

// AwaitingReply reports whether the customer wrote last: nobody has answered them.
func (c *ConversationSummary) AwaitingReply() bool {
	return c.LastMessage != nil && c.LastMessage.Direction == DirectionIn
}

// MessageFilter pages a conversation's messages for ConversationMessages.
type MessageFilter struct {
	// Before, when set, keeps the messages whose (CreatedAt, ID) is below it.
	Before Cursor
	Limit  int
}

// Page sizes of the inbox and of a transcript.
const (
	DefaultConversationPage = 30
	MaxConversationPage     = 100
	DefaultTranscriptPage   = 50
	MaxTranscriptPage       = 200
	// MaxReplyText is the longest reply staff may send, in characters; Telegram's own
	// limit is 4,096.
	MaxReplyText = maxChatText
)

// ListConversations returns a page of the shop's conversations, the latest activity
// first, each with its latest message with the customer. next is where the following
// page starts, zero when this one is the last.
func (s *Service) ListConversations(ctx context.Context, shopID string, f ConversationFilter) (list []*ConversationSummary, next Cursor, err error) {
	if _, err := s.Shop(shopID); err != nil {
		return nil, Cursor{}, err
	}
	switch f.Channel {
	case "", ChannelWebchat, ChannelTelegram, ChannelMessenger:
	default:
		return nil, Cursor{}, Invalidf("channel", "must be webchat, telegram or messenger, not %q", f.Channel)
	}
	if f.Limit <= 0 {
		f.Limit = DefaultConversationPage
	}
	if f.Limit > MaxConversationPage {
		return nil, Cursor{}, Invalidf("limit", "must be between 1 and %d, got %d", MaxConversationPage, f.Limit)
	}
	limit := f.Limit
	f.Limit++ // one more tells whether there is a next page
	list, err = s.store.ListConversations(ctx, shopID, f)
	if err != nil {
		return nil, Cursor{}, err
	}
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].Cursor()
	}
	return list, next, nil
}

// Transcript is a page of a conversation's messages with its customer.
type Transcript struct {
	Conversation *Conversation
	// Messages are oldest first.
	Messages []*Message
	// Older is where the page of earlier messages starts, zero when these are the
	// conversation's first.
	Older Cursor
}

// Transcript returns a page of the messages between the shop and the customer of a
// conversation (not the staff topic's): the latest f.Limit before f.Before, oldest
// first. Another shop's conversation is not found.
func (s *Service) Transcript(ctx context.Context, shopID, conversationID string, f MessageFilter) (*Transcript, error) {
	if _, err := s.Shop(shopID); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = DefaultTranscriptPage
	}
	if f.Limit > MaxTranscriptPage {
		return nil, Invalidf("limit", "must be between 1 and %d, got %d", MaxTranscriptPage, f.Limit)
	}
	conv, err := s.store.Conversation(ctx, shopID, conversationID)
	if err != nil {
		return nil, notFound(err, "no conversation %s", conversationID)
	}
	limit := f.Limit
	f.Limit++
	ms, err := s.store.ConversationMessages(ctx, shopID, conv.ID, f)
	if err != nil {
		return nil, err
	}
	t := &Transcript{Conversation: conv, Messages: ms}
	if len(ms) > limit {
		t.Messages = ms[len(ms)-limit:]
		first := t.Messages[0]
		t.Older = Cursor{At: first.CreatedAt, ID: first.ID}
	}
	return t, nil
}

// ConversationOrders returns the orders made in a conversation, newest first, at
// most limit (deleted ones included: callers decide what to show).
func (s *Service) ConversationOrders(ctx context.Context, shopID, conversationID string, limit int) ([]*Order, error) {
	if _, err := s.Shop(shopID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxConversationPage {
		limit = MaxConversationPage
	}
	return s.store.ConversationOrders(ctx, shopID, conversationID, limit)
}

// Reply queues a staff member's words to the customer of a conversation (as the shop,
// on the conversation's channel), once per key: submitting the same reply form twice
// sends it once. The text must not be blank and has at most MaxReplyText characters;
// it is sent as typed, without surrounding blank space. A channel that cannot deliver
// it now (a closed reply window) records the failure on the message.
func (s *Service) Reply(ctx context.Context, shopID, conversationID, key, text string) error {
	if _, err := s.Shop(shopID); err != nil {
		return err
	}
	if key == "" {
		return Invalidf("key", "a reply needs an idempotency key")
	}
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return Invalidf("text", "write something to send")
	case !utf8.ValidString(text):
		return Invalidf("text", "must be valid text")
	case utf8.RuneCountInString(text) > MaxReplyText:
		return Invalidf("text", "must be at most %d characters, got %d", MaxReplyText, utf8.RuneCountInString(text))
	}
	conv, err := s.store.Conversation(ctx, shopID, conversationID)
	if err != nil {
		return notFound(err, "no conversation %s", conversationID)
	}
	// The key is the conversation's, so a key sent with another conversation's form
	// is a different reply, not a silent no-op.
	k := "reply:" + conv.ID + ":" + key
	err = s.SendMessages(ctx, shopID, conv.ID, k, Outbound{Direction: DirectionOut, Kind: KindStaffReply, Text: text})
	if err != nil && ErrorCode(err) != ENOTFOUND {
		// Two submits at once: both found nothing queued, one inserted the message
		// and the other's insert of the same ID failed. The reply is queued once,
		// which is what both asked for.
		if _, merr := s.store.Message(ctx, shopID, outboundID(k, 0)); merr == nil {
			return nil
		}
	}
	return err
}

// CreateConversationOrder creates an order for the customer of one of the shop's
// conversations, on its channel, and queues the order card to it (see CreateOrder;
// in.Customer's channel, external id and name are the conversation's). in.Key, when
// set, makes it idempotent per conversation: the same key returns the same order.
func (s *Service) CreateConversationOrder(ctx context.Context, shopID, conversationID string, in CreateOrderInput) (*Order, error) {
	if _, err := s.Shop(shopID); err != nil {
		return nil, err
	}
	conv, err := s.store.Conversation(ctx, shopID, conversationID)
	if err != nil {
		return nil, notFound(err, "no conversation %s", conversationID)
	}
	in.Customer = Customer{Channel: conv.Channel, ExternalID: conv.ExternalID, Name: conv.CustomerName, Phone: in.Customer.Phone}
	in.AwaitCustomer = false
	if in.Key != "" {
		in.Key = "conversation-order:" + conv.ID + ":" + in.Key
	}
	return s.CreateOrder(ctx, shopID, in)
}

// ReplyWindowLength is how long after a customer's last message the platforms that
// limit it let a shop write: Messenger's standard messaging window, and Telegram's for
// a bot writing in a business chat on the owner's behalf. bot/messenger and
// bot/telegram enforce it when they deliver; this package only reports it.
const ReplyWindowLength = 24 * time.Hour

// ReplyWindow says whether a conversation's channel lets the shop write to the
// customer now.
type ReplyWindow struct {
	// Applies: the channel limits when the shop may write (Messenger, a Telegram
	// Business chat). Web chat and a Telegram chat with the shop's bot have no window.
	Applies bool
	// Open: a message sent now is delivered. Closes is when an open window closes.
	Open   bool
	Closes time.Time
}

// ReplyWindow reports the conversation's reply window at now, as its channel's
// adapter decides it on delivery: Messenger needs the customer's last message less
// than 24 hours ago, a Telegram Business chat at most 24 hours ago.
func (c *Conversation) ReplyWindow(now time.Time) ReplyWindow {
	var w ReplyWindow
	switch {
	case c.Channel == ChannelMessenger:
		w.Applies = true
		w.Open = c.LastInboundAt != nil && now.Sub(*c.LastInboundAt) < ReplyWindowLength
	case c.Channel == ChannelTelegram && strings.HasPrefix(c.ExternalID, telegramBusinessPrefix):
		w.Applies = true
		w.Open = c.LastInboundAt != nil && now.Sub(*c.LastInboundAt) <= ReplyWindowLength
	default:
		return w
	}
	if w.Open {
		w.Closes = c.LastInboundAt.Add(ReplyWindowLength)
	}
	return w
}
