package telegramtest

import (
	"slices"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// chatKey names a chat as the bot sees it. Business chats are the owner's
// private chats with customers, so their id is the customer's user id, the
// same as the customer's private chat with the bot; the connection id keeps
// them apart.
type chatKey struct {
	business string
	id       int64
}

type user struct {
	u       models.User
	blocked bool // the user blocked the bot
	started bool // the user opened the private chat with the bot
}

type chat struct {
	key       chatKey
	info      models.Chat
	nextMsgID int
	msgs      []*message
	byID      map[int]*message
	topics    map[int]*topic
	topicIDs  []int
	// discussion is a channel's linked discussion group; comments on a post
	// are replies in the group to the post's automatic forward.
	discussion int64
	// channel is, for a discussion group, the channel it is linked to.
	channel int64
	// creator and admins are a group's or channel's owner and its other
	// administrators by user id (the bot among them where it administers the
	// chat); members are the users who wrote there. getChatMember reads them.
	creator int64
	admins  map[int64]bool
	members map[int64]bool
	// lastCustomer is when the customer last wrote in a business chat.
	lastCustomer time.Time
}

type topic struct {
	id        int
	name      string
	iconColor int
	deleted   bool
}

type businessConn struct {
	id      string
	owner   int64
	date    time.Time
	enabled bool
}

type callback struct {
	id       string
	from     int64
	chat     chatKey
	msgID    int
	data     string
	answered bool
	answer   AnsweredCallback
}

type message struct {
	id          int
	chat        *chat
	thread      int
	topicMsg    bool
	sender      Sender
	from        models.User
	senderChat  *models.Chat
	date        time.Time
	text        string
	parseMode   string
	entities    []models.MessageEntity
	markup      *models.InlineKeyboardMarkup
	linkPreview *models.LinkPreviewOptions
	editDate    time.Time
	edits       []Edit
	deleted     bool
	replyTo     *message
	forwardOf   *message
	copyOf      *message
	topicMade   *models.ForumTopicCreated
	autoForward bool
}

// Sender says who wrote a message.
type Sender int

const (
	// SenderBot is the bot under test (also when it writes in a business chat
	// on the owner's behalf).
	SenderBot Sender = iota + 1
	// SenderUser is a customer, staff member or other person.
	SenderUser
	// SenderBusinessOwner is the business account's owner writing by hand in a
	// business chat.
	SenderBusinessOwner
	// SenderChannel is a channel post (or its automatic forward), or a
	// message a discussion group's linked channel wrote in the group.
	SenderChannel
	// SenderAnonymousAdmin is a group administrator writing anonymously, on
	// behalf of the group itself.
	SenderAnonymousAdmin
)

func (s Sender) String() string {
	switch s {
	case SenderBot:
		return "bot"
	case SenderUser:
		return "user"
	case SenderBusinessOwner:
		return "business_owner"
	case SenderChannel:
		return "channel"
	case SenderAnonymousAdmin:
		return "anonymous_admin"
	}
	return "unknown"
}

// Button is an inline keyboard button as the emulator stored it.
type Button struct {
	Text         string
	URL          string
	CallbackData string
}

// Edit is an earlier version of a message, replaced at At.
type Edit struct {
	At      time.Time
	Text    string
	Buttons [][]Button
}

// MessageRef points at a message in a chat.
type MessageRef struct {
	ChatID    int64
	MessageID int
}

// Message is a snapshot of a message the emulator holds.
type Message struct {
	ID                   int
	ChatID               int64
	ThreadID             int
	BusinessConnectionID string
	Sender               Sender
	FromID               int64
	// SenderChatID is the chat a message was sent on behalf of (sender_chat):
	// a channel, or a group whose administrator wrote anonymously; 0 for none.
	SenderChatID int64
	// ReplyToID is the message this one replies to (reply_to_message); in a
	// thread without an explicit reply it is the thread's first message.
	ReplyToID int
	Date      time.Time
	Text      string
	ParseMode string
	// Buttons is the current inline keyboard, row by row; nil without one.
	Buttons             [][]Button
	LinkPreviewDisabled bool
	// Edits are the earlier versions, oldest first.
	Edits   []Edit
	Deleted bool
	// ForwardOf and CopyOf name the source of a forwarded or copied message.
	ForwardOf *MessageRef
	CopyOf    *MessageRef
	// TopicCreated is the topic's name when this is a topic's first (service)
	// message.
	TopicCreated string
}

// Topic is a forum topic.
type Topic struct {
	ThreadID  int
	Name      string
	IconColor int
	Deleted   bool
}

// AnsweredCallback is an answerCallbackQuery call.
type AnsweredCallback struct {
	ID        string
	Data      string
	Text      string
	ShowAlert bool
	URL       string
	At        time.Time
}

func buttons(m *models.InlineKeyboardMarkup) [][]Button {
	if m == nil {
		return nil
	}
	out := make([][]Button, 0, len(m.InlineKeyboard))
	for _, row := range m.InlineKeyboard {
		r := make([]Button, 0, len(row))
		for _, b := range row {
			r = append(r, Button{Text: b.Text, URL: b.URL, CallbackData: b.CallbackData})
		}
		out = append(out, r)
	}
	return out
}

func (m *message) snapshot() Message {
	out := Message{
		ID:                   m.id,
		ChatID:               m.chat.key.id,
		ThreadID:             m.thread,
		BusinessConnectionID: m.chat.key.business,
		Sender:               m.sender,
		FromID:               m.from.ID,
		Date:                 m.date,
		Text:                 m.text,
		ParseMode:            m.parseMode,
		Buttons:              buttons(m.markup),
		Edits:                slices.Clone(m.edits),
		Deleted:              m.deleted,
	}
	if m.senderChat != nil {
		out.SenderChatID = m.senderChat.ID
	}
	if m.replyTo != nil {
		out.ReplyToID = m.replyTo.id
	}
	if m.linkPreview != nil && m.linkPreview.IsDisabled != nil {
		out.LinkPreviewDisabled = *m.linkPreview.IsDisabled
	}
	if m.forwardOf != nil {
		out.ForwardOf = &MessageRef{ChatID: m.forwardOf.chat.key.id, MessageID: m.forwardOf.id}
	}
	if m.copyOf != nil {
		out.CopyOf = &MessageRef{ChatID: m.copyOf.chat.key.id, MessageID: m.copyOf.id}
	}
	if m.topicMade != nil {
		out.TopicCreated = m.topicMade.Name
	}
	return out
}

// model builds a fresh models.Message, so encoding it never races with later
// changes to the stored one.
func (s *Server) model(m *message, withReply bool) *models.Message {
	from := m.from
	out := &models.Message{
		ID:                   m.id,
		MessageThreadID:      m.thread,
		Date:                 int(m.date.Unix()),
		BusinessConnectionID: m.chat.key.business,
		Chat:                 m.chat.info,
		IsTopicMessage:       m.topicMsg,
		IsAutomaticForward:   m.autoForward,
		Text:                 m.text,
		Entities:             slices.Clone(m.entities),
	}
	// Channel posts have no sender; their automatic forwards come from
	// Telegram's service user.
	if from.ID != 0 {
		out.From = &from
	}
	if m.senderChat != nil {
		sc := *m.senderChat
		out.SenderChat = &sc
	}
	if m.sender == SenderBot && m.chat.key.business != "" {
		b := s.bot
		out.SenderBusinessBot = &b
	}
	if !m.editDate.IsZero() {
		out.EditDate = int(m.editDate.Unix())
	}
	if m.markup != nil {
		kb := models.InlineKeyboardMarkup{InlineKeyboard: make([][]models.InlineKeyboardButton, len(m.markup.InlineKeyboard))}
		for i, row := range m.markup.InlineKeyboard {
			kb.InlineKeyboard[i] = slices.Clone(row)
		}
		out.ReplyMarkup = &kb
	}
	if m.linkPreview != nil {
		lp := *m.linkPreview
		out.LinkPreviewOptions = &lp
	}
	if m.topicMade != nil {
		tc := *m.topicMade
		out.ForumTopicCreated = &tc
	}
	if withReply && m.replyTo != nil && !m.replyTo.deleted {
		out.ReplyToMessage = s.model(m.replyTo, false)
	}
	if src := m.forwardOf; src != nil {
		out.ForwardOrigin = origin(src)
	}
	return out
}

func origin(src *message) *models.MessageOrigin {
	date := int(src.date.Unix())
	if src.sender == SenderChannel && src.senderChat != nil {
		return &models.MessageOrigin{Type: models.MessageOriginTypeChannel, MessageOriginChannel: &models.MessageOriginChannel{
			Date: date, Chat: *src.senderChat, MessageID: src.id,
		}}
	}
	return &models.MessageOrigin{Type: models.MessageOriginTypeUser, MessageOriginUser: &models.MessageOriginUser{
		Date: date, SenderUser: src.from,
	}}
}

func (c *chat) add(m *message) *message {
	c.nextMsgID++
	m.id = c.nextMsgID
	m.chat = c
	c.msgs = append(c.msgs, m)
	c.byID[m.id] = m
	return m
}

// join records that user id wrote in c, which makes them a member for
// getChatMember.
func (c *chat) join(id int64) {
	if c.members == nil {
		c.members = map[int64]bool{}
	}
	c.members[id] = true
}

func (c *chat) isGroup() bool {
	return c.info.Type == models.ChatTypeGroup || c.info.Type == models.ChatTypeSupergroup || c.info.Type == models.ChatTypeChannel
}

func (s *Server) newChat(key chatKey, info models.Chat) *chat {
	c := &chat{key: key, info: info, byID: map[int]*message{}, topics: map[int]*topic{}}
	s.chats[key] = c
	if info.Username != "" {
		s.usernames[strings.ToLower(info.Username)] = info.ID
	}
	return c
}

// Messages returns every message of the bot's chat chatID (private chat,
// group, supergroup or channel), deleted ones included, in order.
func (s *Server) Messages(chatID int64) []Message {
	return s.messages(chatKey{id: chatID}, func(*message) bool { return true })
}

// ThreadMessages returns the messages of one thread (forum topic or comment
// thread) of chatID, in order: the users' comments and replies, the bot's
// answers and, in a forum, the topic's opening service message. A comment
// thread's root, the channel post's automatic forward, is not in it; Message
// (chatID, threadID) returns it.
func (s *Server) ThreadMessages(chatID int64, threadID int) []Message {
	return s.messages(chatKey{id: chatID}, func(m *message) bool { return m.thread == threadID })
}

// BusinessMessages returns the messages of the business chat with the
// customer customerID through connection connID, in order.
func (s *Server) BusinessMessages(connID string, customerID int64) []Message {
	return s.messages(chatKey{business: connID, id: customerID}, func(*message) bool { return true })
}

// Message returns one message of the bot's chat chatID.
func (s *Server) Message(chatID int64, messageID int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatKey{id: chatID}]
	if c == nil || c.byID[messageID] == nil {
		return Message{}, false
	}
	return c.byID[messageID].snapshot(), true
}

func (s *Server) messages(k chatKey, keep func(*message) bool) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[k]
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range c.msgs {
		if keep(m) {
			out = append(out, m.snapshot())
		}
	}
	return out
}

// Topics returns the forum topics of chatID in creation order, deleted ones
// included.
func (s *Server) Topics(chatID int64) []Topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatKey{id: chatID}]
	if c == nil {
		return nil
	}
	out := make([]Topic, 0, len(c.topicIDs))
	for _, id := range c.topicIDs {
		t := c.topics[id]
		out = append(out, Topic{ThreadID: t.id, Name: t.name, IconColor: t.iconColor, Deleted: t.deleted})
	}
	return out
}

// AnsweredCallbacks returns the answerCallbackQuery calls, in the order the
// queries were made.
func (s *Server) AnsweredCallbacks() []AnsweredCallback {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AnsweredCallback
	for _, id := range s.callbackOrder {
		if cb := s.callbacks[id]; cb.answered {
			out = append(out, cb.answer)
		}
	}
	return out
}

// UnansweredCallbacks returns the ids of callback queries the bot never
// answered. Telegram clients show a spinner on the button until it does.
func (s *Server) UnansweredCallbacks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range s.callbackOrder {
		if !s.callbacks[id].answered {
			out = append(out, id)
		}
	}
	return out
}
