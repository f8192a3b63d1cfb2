package telegramtest

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

// methods maps lower-case method names to handlers; everything else is 404.
var methods map[string]handler

func init() {
	methods = map[string]handler{
		"getme":                  getMe,
		"sendmessage":            sendMessage,
		"editmessagetext":        editMessageText,
		"editmessagereplymarkup": editMessageReplyMarkup,
		"deletemessage":          deleteMessage,
		"answercallbackquery":    answerCallbackQuery,
		"createforumtopic":       createForumTopic,
		"editforumtopic":         editForumTopic,
		"deleteforumtopic":       deleteForumTopic,
		"copymessage":            copyMessage,
		"forwardmessage":         forwardMessage,
		"getbusinessconnection":  getBusinessConnection,
		"getchat":                getChat,
		"getchatmember":          getChatMember,
		"setwebhook":             setWebhook,
		"deletewebhook":          deleteWebhook,
		"getwebhookinfo":         getWebhookInfo,
		"getupdates":             getUpdates,
	}
}

// Descriptions Telegram uses. The business ones are not documented; the
// emulator uses the error names Telegram's MTProto layer reports, which the
// Bot API passes through as "Bad Request: NAME".
const (
	descChatNotFound     = "chat not found"
	descUserNotFound     = "user not found"
	descThreadNotFound   = "message thread not found"
	descTextEmpty        = "message text is empty"
	descTooLong          = "message is too long"
	descNotModified      = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	descEditNotFound     = "message to edit not found"
	descDeleteNotFound   = "message to delete not found"
	descCantDelete       = "message can't be deleted"
	descCantEdit         = "message can't be edited"
	descQueryInvalid     = "query is too old and response timeout expired or query ID is invalid"
	descNotForum         = "the chat is not a forum"
	descTopicNotModified = "TOPIC_NOT_MODIFIED"
	descTopicInvalid     = "TOPIC_ID_INVALID"
	// descBusinessWindow is what a send into a business chat gets when the
	// customer has not written in the last 24 hours. The exact text Telegram
	// returns could not be confirmed; BUSINESS_PEER_USAGE_MISSING is the
	// MTProto error for it.
	descBusinessWindow  = "BUSINESS_PEER_USAGE_MISSING"
	descBusinessInvalid = "BUSINESS_CONNECTION_INVALID"
	descMarkup          = "can't parse reply keyboard markup JSON object"
)

func getMe(s *Server, _ context.Context, _ params) (any, *apiError) {
	return s.bot, nil
}

// resolveChat finds the chat a call names. The caller holds s.mu.
func (s *Server) resolveChat(raw, business string) (*chat, *apiError) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, badRequest("chat_id is empty")
	}
	var id int64
	if name, ok := strings.CutPrefix(raw, "@"); ok {
		cid, found := s.usernames[strings.ToLower(name)]
		if !found {
			return nil, badRequest(descChatNotFound)
		}
		id = cid
	} else {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, badRequest(descChatNotFound)
		}
		id = n
	}
	if business != "" {
		bc := s.business[business]
		if bc == nil || !bc.enabled {
			return nil, badRequest(descBusinessInvalid)
		}
		c := s.chats[chatKey{business: business, id: id}]
		if c == nil {
			// The customer never wrote, so the window was never open.
			return nil, badRequest(descBusinessWindow)
		}
		return c, nil
	}
	c := s.chats[chatKey{id: id}]
	if c == nil {
		if s.users[id] != nil {
			// A real person who never opened the chat with the bot.
			return nil, forbidden("bot can't initiate conversation with a user")
		}
		return nil, badRequest(descChatNotFound)
	}
	return c, nil
}

// checkThread validates a message_thread_id in c. The caller holds s.mu.
func (s *Server) checkThread(c *chat, thread int) *apiError {
	if c.info.IsForum {
		if t := c.topics[thread]; t != nil && !t.deleted {
			return nil
		}
		return badRequest(descThreadNotFound)
	}
	if c.info.Type == models.ChatTypeSupergroup {
		if m := c.byID[thread]; m != nil && !m.deleted {
			return nil
		}
	}
	return badRequest(descThreadNotFound)
}

// canSend checks that the bot may post into c now. The caller holds s.mu.
func (s *Server) canSend(c *chat) *apiError {
	if c.key.business != "" {
		if s.now().Sub(c.lastCustomer) > 24*time.Hour {
			return badRequest(descBusinessWindow)
		}
		return nil
	}
	if c.info.Type == models.ChatTypePrivate {
		u := s.users[c.key.id]
		switch {
		case u != nil && u.blocked:
			return forbidden("bot was blocked by the user")
		case u == nil || !u.started:
			return forbidden("bot can't initiate conversation with a user")
		}
	}
	return nil
}

// target resolves chat_id, business_connection_id and message_thread_id of a
// send and checks the bot may post there. The caller holds s.mu.
func (s *Server) target(p params) (*chat, int, *apiError) {
	c, err := s.resolveChat(p.str("chat_id"), p.str("business_connection_id"))
	if err != nil {
		return nil, 0, err
	}
	thread, err := p.int("message_thread_id")
	if err != nil {
		return nil, 0, err
	}
	if thread != 0 {
		if err := s.checkThread(c, thread); err != nil {
			return nil, 0, err
		}
	}
	if err := s.canSend(c); err != nil {
		return nil, 0, err
	}
	return c, thread, nil
}

// record stores a message the bot sent after checking the rate limits. The
// caller holds s.mu.
func (s *Server) record(method string, c *chat, m *message) (*message, *apiError) {
	now := s.now()
	if err := s.checkLimits(c, now); err != nil {
		return nil, err
	}
	m.sender = SenderBot
	m.date = now
	m.from = s.bot
	if c.key.business != "" {
		// On the owner's behalf: from is the owner, sender_business_bot the bot.
		m.from = s.users[s.business[c.key.business].owner].u
	}
	if c.info.Type == models.ChatTypeChannel {
		sc := c.info
		m.senderChat = &sc
	}
	if m.thread != 0 {
		m.topicMsg = c.info.IsForum
		if m.replyTo == nil {
			m.replyTo = c.byID[m.thread]
		}
	}
	c.add(m)
	s.sendTimes[c.key.id] = append(s.sendTimes[c.key.id], now)
	s.global = append(s.global, now)
	s.sendLog = append(s.sendLog, SendRecord{Method: method, ChatID: c.key.id, ThreadID: m.thread,
		BusinessConnectionID: c.key.business, MessageID: m.id, At: now})
	return m, nil
}

func parseMode(p params) (string, *apiError) {
	pm := p.str("parse_mode")
	switch pm {
	case "", string(models.ParseModeHTML), string(models.ParseModeMarkdown), string(models.ParseModeMarkdownV1):
		return pm, nil
	}
	return "", badRequest("unsupported parse_mode")
}

// parseMarkup reads reply_markup. Only inline keyboards are kept: reply
// keyboards and force_reply are accepted and not stored. present reports
// whether the field was sent at all.
func parseMarkup(p params) (kb *models.InlineKeyboardMarkup, present bool, aerr *apiError) {
	raw := strings.TrimSpace(p.str("reply_markup"))
	if raw == "" {
		return nil, false, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &probe); err != nil {
		return nil, true, badRequest(descMarkup)
	}
	if _, ok := probe["inline_keyboard"]; !ok {
		return nil, true, nil
	}
	var m models.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, true, badRequest("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
	}
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.Text == "" {
				return nil, true, badRequest("text buttons are unallowed in the inline keyboard")
			}
			if b.URL != "" {
				u, err := url.Parse(b.URL)
				if err != nil || u.Scheme == "" || (u.Host == "" && u.Scheme != "tg") {
					return nil, true, badRequest("inline keyboard button URL '%s' is invalid: Wrong HTTP URL", b.URL)
				}
			}
			if len(b.CallbackData) > 64 {
				return nil, true, badRequest("BUTTON_DATA_INVALID")
			}
			if b.URL == "" && b.CallbackData == "" && b.WebApp == nil && b.LoginURL == nil &&
				b.SwitchInlineQuery == "" && b.SwitchInlineQueryCurrentChat == "" && b.SwitchInlineQueryChosenChat == nil &&
				b.CopyText.Text == "" && b.CallbackGame == nil && !b.Pay {
				return nil, true, badRequest("text buttons are unallowed in the inline keyboard")
			}
		}
	}
	if len(m.InlineKeyboard) == 0 {
		return nil, true, nil
	}
	return &m, true, nil
}

func parseLinkPreview(p params) (*models.LinkPreviewOptions, *apiError) {
	raw := strings.TrimSpace(p.str("link_preview_options"))
	if raw == "" {
		return nil, nil
	}
	var lp models.LinkPreviewOptions
	if err := json.Unmarshal([]byte(raw), &lp); err != nil {
		return nil, badRequest("can't parse link preview options JSON object")
	}
	return &lp, nil
}

func parseEntities(p params, name string) ([]models.MessageEntity, *apiError) {
	raw := strings.TrimSpace(p.str(name))
	if raw == "" {
		return nil, nil
	}
	var es []models.MessageEntity
	if err := json.Unmarshal([]byte(raw), &es); err != nil {
		return nil, badRequest("can't parse entities JSON object")
	}
	return es, nil
}

func checkText(text string) *apiError {
	if strings.TrimSpace(text) == "" {
		return badRequest(descTextEmpty)
	}
	if len(utf16.Encode([]rune(text))) > 4096 {
		return badRequest(descTooLong)
	}
	return nil
}

func sendMessage(s *Server, _ context.Context, p params) (any, *apiError) {
	pm, err := parseMode(p)
	if err != nil {
		return nil, err
	}
	kb, _, err := parseMarkup(p)
	if err != nil {
		return nil, err
	}
	lp, err := parseLinkPreview(p)
	if err != nil {
		return nil, err
	}
	ents, err := parseEntities(p, "entities")
	if err != nil {
		return nil, err
	}
	replyTo, withoutReply := 0, false
	if raw := p.str("reply_parameters"); raw != "" {
		var rp models.ReplyParameters
		if json.Unmarshal([]byte(raw), &rp) != nil {
			return nil, badRequest("can't parse reply parameters JSON object")
		}
		replyTo, withoutReply = rp.MessageID, rp.AllowSendingWithoutReply
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, thread, err := s.target(p)
	if err != nil {
		return nil, err
	}
	text := p.str("text")
	if err := checkText(text); err != nil {
		return nil, err
	}
	m := &message{thread: thread, text: text, parseMode: pm, entities: ents, markup: kb, linkPreview: lp}
	if replyTo != 0 {
		r := c.byID[replyTo]
		switch {
		case (r == nil || r.deleted) && withoutReply:
			// allow_sending_without_reply: sent as an ordinary message.
		case r == nil || r.deleted:
			return nil, badRequest("message to be replied not found")
		default:
			m.replyTo = r
			if m.thread == 0 && !c.info.IsForum {
				// A reply to a comment joins the comment's thread.
				m.thread = r.thread
			}
		}
	}
	m, err = s.record("sendMessage", c, m)
	if err != nil {
		return nil, err
	}
	return s.model(m, true), nil
}

// findEditable finds the message an edit names. The caller holds s.mu.
func (s *Server) findEditable(p params) (*message, *apiError) {
	if p.has("inline_message_id") {
		return nil, badRequest("MESSAGE_ID_INVALID")
	}
	c, err := s.resolveChat(p.str("chat_id"), p.str("business_connection_id"))
	if err != nil {
		return nil, err
	}
	id, err := p.int("message_id")
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return nil, badRequest("message identifier is not specified")
	}
	m := c.byID[id]
	if m == nil || m.deleted {
		return nil, badRequest(descEditNotFound)
	}
	if m.sender != SenderBot {
		return nil, badRequest(descCantEdit)
	}
	return m, nil
}

func (s *Server) applyEdit(m *message, text, pm string, ents []models.MessageEntity, kb *models.InlineKeyboardMarkup, lp *models.LinkPreviewOptions) *apiError {
	if text == m.text && reflect.DeepEqual(kb, m.markup) && pm == m.parseMode {
		return badRequest(descNotModified)
	}
	now := s.now()
	m.edits = append(m.edits, Edit{At: now, Text: m.text, Buttons: buttons(m.markup)})
	m.text, m.parseMode, m.entities, m.markup, m.editDate = text, pm, ents, kb, now
	if lp != nil {
		m.linkPreview = lp
	}
	return nil
}

func editMessageText(s *Server, _ context.Context, p params) (any, *apiError) {
	pm, err := parseMode(p)
	if err != nil {
		return nil, err
	}
	// Without reply_markup Telegram removes the inline keyboard.
	kb, _, err := parseMarkup(p)
	if err != nil {
		return nil, err
	}
	lp, err := parseLinkPreview(p)
	if err != nil {
		return nil, err
	}
	ents, err := parseEntities(p, "entities")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.findEditable(p)
	if err != nil {
		return nil, err
	}
	text := p.str("text")
	if err := checkText(text); err != nil {
		return nil, err
	}
	if err := s.applyEdit(m, text, pm, ents, kb, lp); err != nil {
		return nil, err
	}
	return s.model(m, true), nil
}

func editMessageReplyMarkup(s *Server, _ context.Context, p params) (any, *apiError) {
	kb, _, err := parseMarkup(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.findEditable(p)
	if err != nil {
		return nil, err
	}
	if err := s.applyEdit(m, m.text, m.parseMode, m.entities, kb, nil); err != nil {
		return nil, err
	}
	return s.model(m, true), nil
}

func deleteMessage(s *Server, _ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChat(p.str("chat_id"), "")
	if err != nil {
		return nil, err
	}
	id, err := p.int("message_id")
	if err != nil {
		return nil, err
	}
	m := c.byID[id]
	if m == nil || m.deleted {
		return nil, badRequest(descDeleteNotFound)
	}
	// Telegram lets bots delete messages for 48 hours only.
	if s.now().Sub(m.date) > 48*time.Hour {
		return nil, badRequest(descCantDelete)
	}
	if m.topicMade != nil {
		return nil, badRequest(descCantDelete)
	}
	m.deleted = true
	return true, nil
}

func answerCallbackQuery(s *Server, _ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := p.str("callback_query_id")
	cb := s.callbacks[id]
	if cb == nil || cb.answered {
		return nil, badRequest(descQueryInvalid)
	}
	if len([]rune(p.str("text"))) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	cb.answered = true
	cb.answer = AnsweredCallback{ID: id, Data: cb.data, Text: p.str("text"), ShowAlert: p.bool("show_alert"), URL: p.str("url"), At: s.now()}
	return true, nil
}

func createForumTopic(s *Server, _ context.Context, p params) (any, *apiError) {
	color, err := p.int("icon_color")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChat(p.str("chat_id"), "")
	if err != nil {
		return nil, err
	}
	if !c.info.IsForum {
		return nil, badRequest(descNotForum)
	}
	name := p.str("name")
	if n := len([]rune(name)); n == 0 || n > 128 {
		// Not confirmed against Telegram; it rejects empty and long names.
		return nil, badRequest("TOPIC_TITLE_EMPTY")
	}
	m := s.openTopic(c, s.bot, SenderBot, name, color)
	return &models.ForumTopic{MessageThreadID: m.id, Name: name, IconColor: c.topics[m.id].iconColor}, nil
}

// liveTopic finds an open topic named by chat_id and message_thread_id.
func (s *Server) liveTopic(p params) (*chat, *topic, *apiError) {
	c, err := s.resolveChat(p.str("chat_id"), "")
	if err != nil {
		return nil, nil, err
	}
	if !c.info.IsForum {
		return nil, nil, badRequest(descNotForum)
	}
	id, err := p.int("message_thread_id")
	if err != nil {
		return nil, nil, err
	}
	t := c.topics[id]
	if t == nil || t.deleted {
		return nil, nil, badRequest(descTopicInvalid)
	}
	return c, t, nil
}

func editForumTopic(s *Server, _ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, err := s.liveTopic(p)
	if err != nil {
		return nil, err
	}
	name := p.str("name")
	if name == "" || name == t.name {
		return nil, badRequest(descTopicNotModified)
	}
	if len([]rune(name)) > 128 {
		return nil, badRequest("TOPIC_TITLE_EMPTY")
	}
	t.name = name
	return true, nil
}

func deleteForumTopic(s *Server, _ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, t, err := s.liveTopic(p)
	if err != nil {
		return nil, err
	}
	t.deleted = true
	for _, m := range c.msgs {
		if m.thread == t.id {
			m.deleted = true
		}
	}
	return true, nil
}

// source finds the message copyMessage or forwardMessage reads.
func (s *Server) source(p params, what string) (*message, *apiError) {
	c, err := s.resolveChat(p.str("from_chat_id"), "")
	if err != nil {
		return nil, err
	}
	id, err := p.int("message_id")
	if err != nil {
		return nil, err
	}
	m := c.byID[id]
	if m == nil || m.deleted {
		return nil, badRequest("message to %s not found", what)
	}
	if m.topicMade != nil {
		return nil, badRequest("message can't be %s", map[string]string{"copy": "copied", "forward": "forwarded"}[what])
	}
	return m, nil
}

func copyMessage(s *Server, _ context.Context, p params) (any, *apiError) {
	kb, _, err := parseMarkup(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src, err := s.source(p, "copy")
	if err != nil {
		return nil, err
	}
	c, thread, err := s.target(p)
	if err != nil {
		return nil, err
	}
	m := &message{thread: thread, text: src.text, parseMode: src.parseMode, entities: src.entities, markup: kb, copyOf: src}
	m, err = s.record("copyMessage", c, m)
	if err != nil {
		return nil, err
	}
	return &models.MessageID{ID: m.id}, nil
}

func forwardMessage(s *Server, _ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, err := s.source(p, "forward")
	if err != nil {
		return nil, err
	}
	c, thread, err := s.target(p)
	if err != nil {
		return nil, err
	}
	m := &message{thread: thread, text: src.text, entities: src.entities, forwardOf: src}
	m, err = s.record("forwardMessage", c, m)
	if err != nil {
		return nil, err
	}
	return s.model(m, true), nil
}

func getBusinessConnection(s *Server, _ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bc := s.business[p.str("business_connection_id")]
	if bc == nil {
		return nil, badRequest(descBusinessInvalid)
	}
	return s.businessModel(bc), nil
}

func getChat(s *Server, _ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChat(p.str("chat_id"), "")
	if err != nil {
		return nil, err
	}
	i := c.info
	// A channel and its discussion group name each other in linked_chat_id.
	linked := c.discussion
	if linked == 0 {
		linked = c.channel
	}
	return &models.ChatFullInfo{
		ID: i.ID, Type: i.Type, Title: i.Title, Username: i.Username, FirstName: i.FirstName,
		LastName: i.LastName, IsForum: i.IsForum, MaxReactionCount: 11, LinkedChatID: linked,
	}, nil
}

// getChatMember answers a member's status: "creator" and "administrator" as
// MakeAdmin made them (the bot is an administrator of the chats it
// administers), "member" for whoever wrote in the chat (and the bot
// elsewhere), "left" for a known user who never did. In a private chat the
// user and the bot are members, as in Telegram; the emulator answers "user
// not found" for anyone else there, which is not confirmed against
// Telegram. A pointer is returned because models.ChatMember marshals its
// union (and sets "status") only through a pointer receiver.
func getChatMember(s *Server, _ context.Context, p params) (any, *apiError) {
	uid, err := p.int64("user_id")
	if err != nil {
		return nil, err
	}
	if uid == 0 {
		return nil, badRequest("invalid user_id specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChat(p.str("chat_id"), "")
	if err != nil {
		return nil, err
	}
	var u models.User
	switch uu := s.users[uid]; {
	case uid == s.bot.ID:
		// getChatMember's User has none of getMe's bot-only fields.
		u = models.User{ID: s.bot.ID, IsBot: true, FirstName: s.bot.FirstName, Username: s.bot.Username}
	case uu != nil:
		u = uu.u
	default:
		return nil, badRequest(descUserNotFound)
	}
	if !c.isGroup() {
		if uid != c.key.id && uid != s.bot.ID {
			return nil, badRequest(descUserNotFound)
		}
		return &models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{User: &u}}, nil
	}
	switch {
	case uid == c.creator:
		return &models.ChatMember{Type: models.ChatMemberTypeOwner, Owner: &models.ChatMemberOwner{User: &u}}, nil
	case c.admins[uid]:
		return &models.ChatMember{Type: models.ChatMemberTypeAdministrator, Administrator: adminRights(c, u)}, nil
	case c.members[uid] || uid == s.bot.ID:
		return &models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{User: &u}}, nil
	}
	return &models.ChatMember{Type: models.ChatMemberTypeLeft, Left: &models.ChatMemberLeft{User: &u}}, nil
}

// adminRights are the rights Telegram's apps grant a new administrator by
// default (all but adding administrators), with the channel-only and
// forum-only rights only where they apply. can_be_edited is false: the bot
// did not promote anyone.
func adminRights(c *chat, u models.User) *models.ChatMemberAdministrator {
	channel := c.info.Type == models.ChatTypeChannel
	return &models.ChatMemberAdministrator{
		User: u, CanManageChat: true, CanDeleteMessages: true, CanManageVideoChats: true,
		CanRestrictMembers: !channel, CanChangeInfo: true, CanInviteUsers: true,
		CanPostMessages: channel, CanEditMessages: channel, CanPinMessages: !channel,
		CanPostStories: true, CanEditStories: true, CanDeleteStories: true,
		CanManageTopics: c.info.IsForum,
	}
}
