package telegramtest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

// User is a person the emulator made up. In Telegram a user's private chat
// with the bot has the user's id as its chat id; ChatID says so explicitly.
type User struct {
	ID        int64
	ChatID    int64
	FirstName string
	Username  string
}

// Inbound is what a user's action produced: the update (0 when the bot's
// allowed_updates filtered it out) and the message it carries.
type Inbound struct {
	UpdateID  int64
	ChatID    int64
	MessageID int
	ThreadID  int
}

// Callback is a pressed inline button's callback query.
type Callback struct {
	UpdateID int64
	ID       string
}

// BusinessConnection is a business account connected to the bot.
type BusinessConnection struct {
	ID       string
	UpdateID int64
	Owner    User
	// UserChatID is the owner's private chat with the bot.
	UserChatID int64
}

// NewUser makes up a person who has not opened a chat with the bot yet: the
// bot cannot write to them first, as in Telegram.
func (s *Server) NewUser(firstName string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newUser(firstName).public()
}

// NewCustomer makes up a person who has opened the private chat with the bot,
// so the bot may write to them.
func (s *Server) NewCustomer(firstName string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.newUser(firstName)
	s.privateChat(u)
	return u.public()
}

func (s *Server) newUser(firstName string) *user {
	s.nextUserID++
	id := s.nextUserID
	u := &user{u: models.User{
		ID: id, FirstName: firstName, Username: strings.ToLower(strings.ReplaceAll(firstName, " ", "_")) + strconv.FormatInt(id%100000, 10),
		LanguageCode: "en",
	}}
	s.users[id] = u
	return u
}

func (u *user) public() User {
	return User{ID: u.u.ID, ChatID: u.u.ID, FirstName: u.u.FirstName, Username: u.u.Username}
}

func (s *Server) privateChat(u *user) *chat {
	u.started = true
	k := chatKey{id: u.u.ID}
	if c := s.chats[k]; c != nil {
		return c
	}
	return s.newChat(k, models.Chat{ID: u.u.ID, Type: models.ChatTypePrivate, FirstName: u.u.FirstName, Username: u.u.Username})
}

// userFor returns the emulator's user for u, registering a User the test
// made up itself under its own id (or a new one when ID is 0).
func (s *Server) userFor(u User) *user {
	if uu := s.users[u.ID]; uu != nil {
		return uu
	}
	if u.ID == 0 {
		return s.newUser(u.FirstName)
	}
	uu := &user{u: models.User{ID: u.ID, FirstName: u.FirstName, Username: u.Username}}
	s.users[u.ID] = uu
	return uu
}

func (s *Server) lookupUser(u User) (*user, error) {
	uu := s.users[u.ID]
	if uu == nil {
		return nil, fmt.Errorf("telegramtest: unknown user %d", u.ID)
	}
	return uu, nil
}

// BlockBot makes the user block the bot: sends to them fail with 403
// "Forbidden: bot was blocked by the user".
func (s *Server) BlockBot(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if uu := s.users[u.ID]; uu != nil {
		uu.blocked = true
	}
}

// NewStaffForum makes a supergroup with topics (is_forum) that the bot
// administers, such as the shop staff's group.
func (s *Server) NewStaffForum(title string) int64 {
	return s.newGroup(models.ChatTypeSupergroup, title, true, true)
}

// NewSupergroup makes a supergroup without topics, with the bot in it as a
// member (MakeAdmin with the bot's id promotes it).
func (s *Server) NewSupergroup(title string) int64 {
	return s.newGroup(models.ChatTypeSupergroup, title, false, false)
}

// NewGroup makes an ordinary (basic) group with the bot in it as a member.
func (s *Server) NewGroup(title string) int64 {
	return s.newGroup(models.ChatTypeGroup, title, false, false)
}

// NewChannel makes a channel the bot administers and its linked discussion
// supergroup, where comments on posts are threads. The bot administers the
// group too, as it must to read every comment.
func (s *Server) NewChannel(title string) (channelID, discussionID int64) {
	channelID = s.newGroup(models.ChatTypeChannel, title, false, true)
	discussionID = s.newGroup(models.ChatTypeSupergroup, title+" Chat", false, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats[chatKey{id: channelID}].discussion = discussionID
	s.chats[chatKey{id: discussionID}].channel = channelID
	return channelID, discussionID
}

func (s *Server) newGroup(typ models.ChatType, title string, forum, botAdmin bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var id int64
	if typ == models.ChatTypeGroup {
		s.nextGroupID++
		id = -(4000000000 + s.nextGroupID)
	} else {
		// Supergroups and channels have ids -100xxxxxxxxxx.
		s.nextSuperID++
		id = -s.nextSuperID
	}
	info := models.Chat{ID: id, Type: typ, Title: title, IsForum: forum}
	if typ == models.ChatTypeChannel {
		info.Username = fmt.Sprintf("channel%d", -id%100000)
	}
	c := s.newChat(chatKey{id: id}, info)
	c.admins = map[int64]bool{}
	if botAdmin {
		c.admins[s.bot.ID] = true
	}
	return id
}

// MakeAdmin makes u an administrator of the group, supergroup or channel
// chatID, as getChatMember then reports. The first user made an
// administrator of a chat becomes its creator (status "creator"), the rest
// "administrator": chats the emulator makes have no owner until then.
// Passing the bot (User{ID: s.BotID()}) promotes the bot, which is never
// the creator.
func (s *Server) MakeAdmin(chatID int64, u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatKey{id: chatID}]
	if c == nil || !c.isGroup() {
		return fmt.Errorf("telegramtest: %d is not a group or channel", chatID)
	}
	if u.ID == s.bot.ID {
		c.admins[s.bot.ID] = true
		return nil
	}
	uu, err := s.lookupUser(u)
	if err != nil {
		return err
	}
	switch id := uu.u.ID; {
	case c.creator == id:
	case c.creator == 0:
		c.creator = id
	default:
		c.admins[id] = true
	}
	return nil
}

// CreateTopic opens a topic in a forum as a staff member would from their app,
// and returns its message_thread_id. The bot gets the service message.
func (s *Server) CreateTopic(chatID int64, by User, name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatKey{id: chatID}]
	if c == nil || !c.info.IsForum {
		return 0, fmt.Errorf("telegramtest: chat %d is not a forum", chatID)
	}
	u, err := s.lookupUser(by)
	if err != nil {
		return 0, err
	}
	m := s.openTopic(c, u.u, SenderUser, name, 0)
	c.join(u.u.ID)
	s.enqueue(models.AllowedUpdateMessage, &models.Update{Message: s.model(m, true)})
	return m.id, nil
}

func (s *Server) openTopic(c *chat, from models.User, sender Sender, name string, color int) *message {
	if color == 0 {
		color = 7322096 // Telegram's default (blue) topic colour.
	}
	made := &models.ForumTopicCreated{Name: name, IconColor: color}
	m := c.add(&message{sender: sender, from: from, date: s.now(), topicMade: made, topicMsg: true})
	m.thread = m.id
	c.topics[m.id] = &topic{id: m.id, name: name, iconColor: color}
	c.topicIDs = append(c.topicIDs, m.id)
	return m
}

// CustomerSays makes u write text in their private chat with the bot.
func (s *Server) CustomerSays(u User, text string) Inbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	uu := s.userFor(u)
	// Writing to the bot means the user has (un)blocked and opened the chat.
	uu.blocked = false
	c := s.privateChat(uu)
	m := c.add(&message{sender: SenderUser, from: uu.u, date: s.now(), text: text, entities: commandEntities(text)})
	id := s.enqueue(models.AllowedUpdateMessage, &models.Update{Message: s.model(m, true)})
	return Inbound{UpdateID: id, ChatID: c.key.id, MessageID: m.id}
}

// SendStart makes u open the bot through a t.me/<bot>?start=<payload> link:
// Telegram sends "/start <payload>" in the private chat.
func (s *Server) SendStart(u User, payload string) Inbound {
	text := "/start"
	if payload != "" {
		text += " " + payload
	}
	return s.CustomerSays(u, text)
}

// StaffSays makes u write text in the topic threadID of the forum chatID.
func (s *Server) StaffSays(chatID int64, threadID int, u User, text string) (Inbound, error) {
	return s.GroupSays(chatID, threadID, u, text)
}

// GroupSays makes u write text in a group. threadID 0 is the main chat (or a
// forum's General topic); otherwise it is a forum topic or, in other
// supergroups, the comment thread under that message.
func (s *Server) GroupSays(chatID int64, threadID int, u User, text string) (Inbound, error) {
	return s.ReplyInGroup(chatID, threadID, u, 0, text)
}

// ReplyInGroup is GroupSays with u replying to the message replyToMessageID
// of the group (0 for no reply of their own): the update's reply_to_message
// is that message. In a thread the message must belong to it (or be its
// first message), as in Telegram, where a comment in a discussion thread
// carries the thread root's id as message_thread_id and the comment it
// answers as reply_to_message.
func (s *Server) ReplyInGroup(chatID int64, threadID int, u User, replyToMessageID int, text string) (Inbound, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	uu, err := s.lookupUser(u)
	if err != nil {
		return Inbound{}, err
	}
	m := &message{sender: SenderUser, from: uu.u, date: s.now(), text: text, entities: commandEntities(text)}
	in, err := s.groupMessage(chatID, threadID, replyToMessageID, m)
	if err != nil {
		return Inbound{}, err
	}
	m.chat.join(uu.u.ID)
	return in, nil
}

// Telegram's service accounts that stand in "from" for messages sent on
// behalf of a chat.
var (
	groupAnonymousBot = models.User{ID: 1087968824, IsBot: true, FirstName: "Group", Username: "GroupAnonymousBot"}
	channelBot        = models.User{ID: 136817688, IsBot: true, FirstName: "Channel", Username: "Channel_Bot"}
)

// GroupSaysAsChat writes text in a group on behalf of a chat rather than a
// person. senderChatID is either the group itself, for an administrator
// writing anonymously (from is GroupAnonymousBot, 1087968824), or the
// channel the group is the discussion group of (from is Channel_Bot,
// 136817688); sender_chat is that chat. Any other chat is an error.
// threadID and replyToMessageID are as for ReplyInGroup.
func (s *Server) GroupSaysAsChat(chatID int64, threadID int, senderChatID int64, replyToMessageID int, text string) (Inbound, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatKey{id: chatID}]
	if c == nil || !c.isGroup() || c.info.Type == models.ChatTypeChannel {
		return Inbound{}, fmt.Errorf("telegramtest: %d is not a group", chatID)
	}
	m := &message{date: s.now(), text: text, entities: commandEntities(text)}
	switch {
	case senderChatID == chatID:
		m.sender, m.from = SenderAnonymousAdmin, groupAnonymousBot
		sc := c.info
		m.senderChat = &sc
	case senderChatID != 0 && senderChatID == c.channel:
		m.sender, m.from = SenderChannel, channelBot
		sc := s.chats[chatKey{id: c.channel}].info
		m.senderChat = &sc
	default:
		return Inbound{}, fmt.Errorf("telegramtest: chat %d can only write in %d as the group itself or its linked channel", senderChatID, chatID)
	}
	return s.groupMessage(chatID, threadID, replyToMessageID, m)
}

// groupMessage checks the thread and the replied message of m, a message
// someone other than the bot writes in the group chatID, then stores it and
// queues its update. The caller holds s.mu.
func (s *Server) groupMessage(chatID int64, threadID, replyTo int, m *message) (Inbound, error) {
	c := s.chats[chatKey{id: chatID}]
	if c == nil || !c.isGroup() || c.info.Type == models.ChatTypeChannel {
		return Inbound{}, fmt.Errorf("telegramtest: %d is not a group", chatID)
	}
	if threadID != 0 {
		if aerr := s.checkThread(c, threadID); aerr != nil {
			return Inbound{}, errors.New(aerr.Description)
		}
		m.thread = threadID
		m.topicMsg = c.info.IsForum
		m.replyTo = c.byID[threadID]
	}
	if replyTo != 0 {
		r := c.byID[replyTo]
		if r == nil || r.deleted {
			return Inbound{}, fmt.Errorf("telegramtest: no message %d in chat %d", replyTo, chatID)
		}
		if r.thread != threadID && r.id != threadID {
			return Inbound{}, fmt.Errorf("telegramtest: message %d of chat %d is in thread %d, not %d", replyTo, chatID, r.thread, threadID)
		}
		m.replyTo = r
	}
	c.add(m)
	id := s.enqueue(models.AllowedUpdateMessage, &models.Update{Message: s.model(m, true)})
	return Inbound{UpdateID: id, ChatID: chatID, MessageID: m.id, ThreadID: m.thread}, nil
}

// ChannelPost publishes text in a channel: the bot gets a channel_post, and
// the post's automatic forward lands in the discussion group, whose message
// id is the thread for comments (use it with GroupSays).
func (s *Server) ChannelPost(channelID int64, text string) (post Inbound, thread Inbound, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chats[chatKey{id: channelID}]
	if ch == nil || ch.info.Type != models.ChatTypeChannel {
		return Inbound{}, Inbound{}, fmt.Errorf("telegramtest: %d is not a channel", channelID)
	}
	sc := ch.info
	p := ch.add(&message{sender: SenderChannel, senderChat: &sc, date: s.now(), text: text})
	post = Inbound{ChatID: channelID, MessageID: p.id}
	post.UpdateID = s.enqueue(models.AllowedUpdateChannelPost, &models.Update{ChannelPost: s.model(p, true)})
	if ch.discussion == 0 {
		return post, Inbound{}, nil
	}
	g := s.chats[chatKey{id: ch.discussion}]
	// Telegram posts automatic forwards "from" its service user 777000.
	f := g.add(&message{sender: SenderChannel, senderChat: &sc, from: models.User{ID: 777000, FirstName: "Telegram"},
		date: s.now(), text: text, forwardOf: p, autoForward: true})
	thread = Inbound{ChatID: g.key.id, MessageID: f.id, ThreadID: f.id}
	thread.UpdateID = s.enqueue(models.AllowedUpdateMessage, &models.Update{Message: s.model(f, true)})
	return post, thread, nil
}

// PressButton makes u press the inline button with callback data data under
// the message messageID of the bot's chat chatID.
func (s *Server) PressButton(u User, chatID int64, messageID int, data string) (Callback, error) {
	return s.press(u, chatKey{id: chatID}, messageID, data)
}

// PressBusinessButton is PressButton for a message in a business chat.
func (s *Server) PressBusinessButton(connID string, u User, customerID int64, messageID int, data string) (Callback, error) {
	return s.press(u, chatKey{business: connID, id: customerID}, messageID, data)
}

func (s *Server) press(u User, k chatKey, messageID int, data string) (Callback, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	uu, err := s.lookupUser(u)
	if err != nil {
		return Callback{}, err
	}
	c := s.chats[k]
	if c == nil || c.byID[messageID] == nil || c.byID[messageID].deleted {
		return Callback{}, fmt.Errorf("telegramtest: no message %d in chat %d", messageID, k.id)
	}
	m := c.byID[messageID]
	found := false
	for _, row := range buttons(m.markup) {
		for _, b := range row {
			found = found || (b.CallbackData != "" && b.CallbackData == data)
		}
	}
	if !found {
		return Callback{}, fmt.Errorf("telegramtest: message %d has no button with callback data %q", messageID, data)
	}
	s.nextCallback++
	id := strconv.FormatInt(s.bot.ID%1000000*1000000000+int64(s.nextCallback), 10)
	s.callbacks[id] = &callback{id: id, from: uu.u.ID, chat: k, msgID: messageID, data: data}
	s.callbackOrder = append(s.callbackOrder, id)
	cq := &models.CallbackQuery{
		ID:           id,
		From:         uu.u,
		Message:      models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: s.model(m, false)},
		ChatInstance: strconv.FormatInt(k.id*7919+int64(len(k.business)), 10),
		Data:         data,
	}
	upd := s.enqueue(models.AllowedUpdateCallbackQuery, &models.Update{CallbackQuery: cq})
	return Callback{UpdateID: upd, ID: id}, nil
}

// ConnectBusiness makes owner connect their Telegram Business account to the
// bot with the right to reply; the bot gets a business_connection update.
func (s *Server) ConnectBusiness(owner User) (BusinessConnection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookupUser(owner)
	if err != nil {
		return BusinessConnection{}, err
	}
	s.nextBusiness++
	bc := &businessConn{id: fmt.Sprintf("bc%010d", s.nextBusiness), owner: o.u.ID, date: s.now(), enabled: true}
	s.business[bc.id] = bc
	pc := s.privateChat(o)
	upd := s.enqueue(models.AllowedUpdateBusinessConnection, &models.Update{BusinessConnection: s.businessModel(bc)})
	return BusinessConnection{ID: bc.id, UpdateID: upd, Owner: o.public(), UserChatID: pc.key.id}, nil
}

// DisconnectBusiness makes the owner disconnect the bot; the bot gets a
// business_connection update with is_enabled false.
func (s *Server) DisconnectBusiness(connID string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bc := s.business[connID]
	if bc == nil {
		return 0, fmt.Errorf("telegramtest: unknown business connection %q", connID)
	}
	bc.enabled = false
	return s.enqueue(models.AllowedUpdateBusinessConnection, &models.Update{BusinessConnection: s.businessModel(bc)}), nil
}

func (s *Server) businessModel(bc *businessConn) *models.BusinessConnection {
	return &models.BusinessConnection{
		ID: bc.id, User: s.users[bc.owner].u, UserChatID: bc.owner, Date: bc.date.Unix(),
		Rights:    &models.BusinessBotRights{CanReply: true, CanReadMessages: true, CanDeleteOutgoingMessages: true},
		IsEnabled: bc.enabled,
	}
}

// BusinessCustomerSays makes customer write to the business owner; the bot
// gets a business_message, and the 24-hour reply window opens.
func (s *Server) BusinessCustomerSays(connID string, customer User, text string) (Inbound, error) {
	return s.businessSays(connID, customer, text, false)
}

// BusinessOwnerSays makes the owner write by hand in their chat with
// customer; the bot gets a business_message from the owner. It does not open
// the reply window: only the customer's messages do.
func (s *Server) BusinessOwnerSays(connID string, customer User, text string) (Inbound, error) {
	return s.businessSays(connID, customer, text, true)
}

func (s *Server) businessSays(connID string, customer User, text string, byOwner bool) (Inbound, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bc := s.business[connID]
	if bc == nil {
		return Inbound{}, fmt.Errorf("telegramtest: unknown business connection %q", connID)
	}
	cu, err := s.lookupUser(customer)
	if err != nil {
		return Inbound{}, err
	}
	k := chatKey{business: connID, id: cu.u.ID}
	c := s.chats[k]
	if c == nil {
		c = &chat{key: k, info: models.Chat{ID: cu.u.ID, Type: models.ChatTypePrivate, FirstName: cu.u.FirstName, Username: cu.u.Username},
			byID: map[int]*message{}, topics: map[int]*topic{}}
		s.chats[k] = c
	}
	m := &message{sender: SenderUser, from: cu.u, date: s.now(), text: text, entities: commandEntities(text)}
	if byOwner {
		m.sender, m.from = SenderBusinessOwner, s.users[bc.owner].u
	} else {
		c.lastCustomer = m.date
	}
	c.add(m)
	upd := s.enqueue(models.AllowedUpdateBusinessMessage, &models.Update{BusinessMessage: s.model(m, true)})
	return Inbound{UpdateID: upd, ChatID: cu.u.ID, MessageID: m.id}, nil
}

// commandEntities marks a leading /command as Telegram clients do, so
// libraries' command matching works.
func commandEntities(text string) []models.MessageEntity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	cmd, _, _ := strings.Cut(text, " ")
	cmd, _, _ = strings.Cut(cmd, "\n")
	return []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: len(utf16.Encode([]rune(cmd)))}}
}
