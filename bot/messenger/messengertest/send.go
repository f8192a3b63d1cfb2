package messengertest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Meta's limits on what the Send API accepts, in characters.
const (
	maxTextLen           = 2000 // message.text
	maxButtonTextLen     = 640  // button template text
	maxButtons           = 3    // buttons per button template
	maxButtonTitleLen    = 20   // button title
	maxPostbackLen       = 1000 // postback button payload
	maxMetadataLen       = 1000 // message.metadata
	windowClosedMessage  = "This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview"
	errSubcodeNoUser     = 2018001
	errSubcodeWindow     = 2018278
	errSubcodeBadComment = 2018292
	errSubcodeBlocked    = 1545041
)

// sendResult is the Send API's answer.
type sendResult struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id,omitempty"`
}

var messagingTypes = []string{"RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY"}

// messageTags are the tags the emulator accepts with MESSAGE_TAG. HUMAN_AGENT
// extends the window to 7 days; the others are accepted at any time.
var messageTags = []string{"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"}

// outgoing is a validated message before it has a recipient.
type outgoing struct {
	msg     Message
	utility bool
	action  string // sender_action, when the call carries no message
}

// send runs one Send API call.
func (s *Server) send(f fields) (any, *graphError) {
	req, gerr := decodeSend(f)
	if gerr != nil {
		return nil, gerr
	}
	out, gerr := validate(req)
	if gerr != nil {
		return nil, gerr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if out.utility {
		tpl := out.msg
		t, ok := s.template(tpl.Template, tpl.TemplateLanguage)
		if !ok {
			return nil, invalidParam("Template %q (language %q) does not exist or is not approved for this Page", tpl.Template, tpl.TemplateLanguage)
		}
		if t.BodyParams >= 0 && len(tpl.TemplateParams) != t.BodyParams {
			return nil, invalidParam("Template %q expects %d body parameters, got %d", tpl.Template, t.BodyParams, len(tpl.TemplateParams))
		}
	}

	var p *person
	var c *comment
	switch {
	case req.recipient.CommentID != "":
		if out.action != "" {
			return nil, invalidParam("sender_action cannot be sent to recipient[comment_id]")
		}
		c = s.comments[string(req.recipient.CommentID)]
		if c == nil {
			return nil, oauthError(100, errSubcodeBadComment, "Invalid comment_id parameter")
		}
		if c.author == nil || now.Sub(c.at) > privateReplyWindow {
			return nil, oauthError(10903, 0, "This user cant reply to this activity")
		}
		if c.reply != nil {
			return nil, oauthError(10900, 0, "Activity already replied to")
		}
		p = c.author
		if p.blocked {
			return nil, oauthError(551, errSubcodeBlocked, "This person isn't available right now.")
		}
	default:
		p = s.people[string(req.recipient.ID)]
		if p == nil || !p.thread {
			return nil, oauthError(100, errSubcodeNoUser, "No matching user found")
		}
		if p.blocked {
			return nil, oauthError(551, errSubcodeBlocked, "This person isn't available right now.")
		}
		if !s.windowAllows(p, out.msg.MessagingType, out.msg.Tag, now) {
			return nil, oauthError(10, errSubcodeWindow, windowClosedMessage)
		}
	}

	if out.action != "" {
		// Sender actions (typing indicators, mark_seen) are not messages:
		// Meta answers with the recipient only.
		return sendResult{RecipientID: p.PSID}, nil
	}

	m := out.msg
	m.MID = s.newMID()
	m.PSID = p.PSID
	m.At = now
	if c != nil {
		m.CommentID = c.id
		s.openThread(p, now)
		c.reply = &PrivateReply{CommentID: c.id, PostID: c.postID, PSID: p.PSID, UserID: p.UserID, MID: m.MID, At: now}
		s.replies = append(s.replies, *c.reply)
	}
	s.sent = append(s.sent, m)
	p.lines = append(p.lines, Line{From: "bot", MID: m.MID, Text: m.Text, At: now})
	if s.echoes && s.webhook != "" {
		s.queueEcho(echoJob{entry: s.echoEntry(p, m, s.cfg.appID, now)})
	}
	return sendResult{RecipientID: p.PSID, MessageID: m.MID}, nil
}

// windowAllows applies the standard messaging window and its exceptions.
// The caller holds s.mu.
func (s *Server) windowAllows(p *person, messagingType, tag string, now time.Time) bool {
	switch messagingType {
	case "UTILITY":
		return true
	case "MESSAGE_TAG":
		if tag != "HUMAN_AGENT" {
			return true
		}
		return !p.last.IsZero() && now.Sub(p.last) <= humanAgentWindow
	default:
		return !p.last.IsZero() && now.Sub(p.last) <= standardWindow
	}
}

// validate checks a request's recipient shape, messaging type and content
// against Meta's rules and limits, without looking at any state.
func validate(req *sendRequest) (*outgoing, *graphError) {
	if gerr := validateRecipient(req.recipient); gerr != nil {
		return nil, gerr
	}
	out := &outgoing{}
	tpl := req.template
	if req.message != nil && req.message.Template != nil {
		tpl = req.message.Template
	}
	hasMessage := req.message != nil || tpl != nil
	switch {
	case req.senderAction != "" && hasMessage:
		return nil, invalidParam("Cannot send both message and state at the same time.")
	case req.senderAction != "":
		switch strings.ToLower(req.senderAction) {
		case "typing_on", "typing_off", "mark_seen":
		default:
			return nil, invalidParam("param sender_action must be one of {TYPING_ON, TYPING_OFF, MARK_SEEN}")
		}
		out.action = strings.ToLower(req.senderAction)
	case !hasMessage:
		return nil, oauthError(100, 2018015, "Must send either message or state")
	}

	mt := strings.ToUpper(req.messagingType)
	if mt == "" {
		// Meta's utility message samples leave messaging_type out; the
		// emulator then takes UTILITY for a template and RESPONSE otherwise.
		mt = "RESPONSE"
		if tpl != nil {
			mt = "UTILITY"
		}
	}
	if !slices.Contains(messagingTypes, mt) {
		return nil, invalidParam("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG, UTILITY} - got %q", req.messagingType)
	}
	out.msg.MessagingType = mt
	if mt == "MESSAGE_TAG" {
		tag := strings.ToUpper(req.tag)
		if tag == "" {
			return nil, invalidParam("param tag is required for messaging_type MESSAGE_TAG")
		}
		if !slices.Contains(messageTags, tag) {
			return nil, invalidParam("param tag must be one of {%s} - got %q", strings.Join(messageTags, ", "), req.tag)
		}
		out.msg.Tag = tag
	}
	if out.action != "" {
		return out, nil
	}

	if tpl != nil {
		if mt != "UTILITY" {
			return nil, invalidParam("message[template] must be sent with messaging_type UTILITY")
		}
		if req.message != nil && (req.message.Text != nil || req.message.Attachment != nil) {
			return nil, invalidParam("message[template] cannot be combined with message[text] or message[attachment]")
		}
		if gerr := readTemplate(tpl, &out.msg); gerr != nil {
			return nil, gerr
		}
		out.utility = true
		return out, nil
	}
	if mt == "UTILITY" {
		return nil, invalidParam("messaging_type UTILITY requires a utility message template in message[template]")
	}

	m := req.message
	if len(m.QuickReplies) > 0 && string(m.QuickReplies) != "null" {
		return nil, unsupported("message[quick_replies]")
	}
	if len(m.Attachments) > 0 && string(m.Attachments) != "null" {
		return nil, unsupported("message[attachments]")
	}
	if utf8.RuneCountInString(m.Metadata) > maxMetadataLen {
		return nil, invalidParam("Length of param message[metadata] must be less than or equal to %d", maxMetadataLen)
	}
	out.msg.Metadata = m.Metadata
	switch {
	case m.Text != nil && m.Attachment != nil:
		return nil, invalidParam("Only one of message[text] and message[attachment] may be set")
	case m.Attachment != nil:
		if gerr := readAttachment(m.Attachment, &out.msg); gerr != nil {
			return nil, gerr
		}
	case m.Text != nil && *m.Text != "":
		if n := utf8.RuneCountInString(*m.Text); n > maxTextLen {
			return nil, invalidParam("Length of param message[text] must be less than or equal to %d", maxTextLen)
		}
		out.msg.Text = *m.Text
	default:
		return nil, oauthError(100, 2018034, "Message cannot be empty, must provide valid attachment or text")
	}
	return out, nil
}

func validateRecipient(r recipientIn) *graphError {
	set := 0
	for _, v := range []flexString{r.ID, r.CommentID, r.PostID, r.UserRef, r.Phone} {
		if v != "" {
			set++
		}
	}
	switch {
	case set == 0:
		return invalidParam("The parameter recipient is required")
	case set > 1:
		return invalidParam("param recipient must contain exactly one of id, comment_id, post_id, user_ref, phone_number")
	case r.PostID != "":
		return unsupported("recipient[post_id] (private replies to visitor posts)")
	case r.UserRef != "":
		return unsupported("recipient[user_ref] (Checkbox plugin)")
	case r.Phone != "":
		return unsupported("recipient[phone_number] (Customer Matching)")
	}
	return nil
}

// readAttachment checks a button template, the only attachment emulated.
func readAttachment(a *attachmentIn, m *Message) *graphError {
	if a.Type == "" {
		return invalidParam("The parameter message[attachment][type] is required")
	}
	if len(a.Payload) == 0 || string(a.Payload) == "null" {
		return invalidParam("The parameter message[attachment][payload] is required")
	}
	if a.Type != "template" {
		return unsupported("attachment type %q", a.Type)
	}
	var p buttonPayloadIn
	if err := json.Unmarshal(a.Payload, &p); err != nil {
		return invalidParam("param message[attachment][payload] must be a JSON object")
	}
	switch p.TemplateType {
	case "button":
	case "generic", "media", "receipt", "customer_feedback", "product", "coupon":
		return unsupported("template_type %q", p.TemplateType)
	default:
		return invalidParam("Invalid template type")
	}
	switch {
	case p.Text == nil:
		return invalidParam("The parameter name_placeholder[text] is required")
	case *p.Text == "":
		return invalidParam("Param name_placeholder[text] must be a non-empty UTF-8 encoded string")
	case utf8.RuneCountInString(*p.Text) > maxButtonTextLen:
		return invalidParam("Length of param name_placeholder[text] must be less than or equal to %d", maxButtonTextLen)
	}
	m.Text = *p.Text
	switch {
	case p.Buttons == nil:
		return invalidParam("The parameter name_placeholder[buttons] is required")
	case len(*p.Buttons) == 0:
		return invalidParam("param name_placeholder[buttons] must be non-empty.")
	case len(*p.Buttons) > maxButtons:
		return oauthError(105, 0, "param name_placeholder[buttons] has too many elements.")
	}
	for i, b := range *p.Buttons {
		at := fmt.Sprintf("name_placeholder[buttons][%d]", i)
		switch {
		case b.Type == "":
			return invalidParam("The parameter %s[type] is required", at)
		case b.Title == nil:
			return oauthError(100, 2018053, "Element button title cannot be empty.")
		case *b.Title == "":
			return invalidParam("Param %s[title] must be a non-empty UTF-8 encoded string", at)
		case utf8.RuneCountInString(*b.Title) > maxButtonTitleLen:
			return invalidParam("Length of param %s[title] must be less than or equal to %d", at, maxButtonTitleLen)
		}
		btn := Button{Type: b.Type, Title: *b.Title}
		switch b.Type {
		case "web_url":
			if b.URL == "" {
				return oauthError(100, 2018041, "Web url cannot be empty for url type button")
			}
			u, err := url.Parse(b.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return invalidParam("%s[url] should represent a valid URL", at)
			}
			btn.URL = b.URL
		case "postback":
			if b.Payload == "" {
				return oauthError(100, 2018040, "Payload cannot be empty for postback type button")
			}
			if utf8.RuneCountInString(string(b.Payload)) > maxPostbackLen {
				return invalidParam("Length of param %s[payload] must be less than or equal to %d", at, maxPostbackLen)
			}
			btn.Payload = string(b.Payload)
		case "phone_number", "account_link", "account_unlink", "game_play":
			return unsupported("button type %q", b.Type)
		default:
			return invalidParam("param %s[type] must be one of {web_url, postback, phone_number, account_link, account_unlink, game_play} - got %q", at, b.Type)
		}
		m.Buttons = append(m.Buttons, btn)
	}
	return nil
}

// readTemplate reads a utility template's name, language and body
// parameters; send checks them against the Page's approved templates.
func readTemplate(t *templateIn, m *Message) *graphError {
	if t.Name == "" {
		return invalidParam("The parameter template[name] is required")
	}
	m.Template = t.Name
	m.TemplateLanguage = t.language()
	for i, c := range t.Components {
		switch strings.ToLower(c.Type) {
		case "body":
			for j, p := range c.Parameters {
				if p.Text == "" {
					return invalidParam("Param template[components][%d][parameters][%d][text] must be a non-empty UTF-8 encoded string", i, j)
				}
				m.TemplateParams = append(m.TemplateParams, p.Text)
			}
		case "header", "buttons", "button":
		case "":
			return invalidParam("The parameter template[components][%d][type] is required", i)
		default:
			return invalidParam("param template[components][%d][type] must be one of {header, body, buttons} - got %q", i, c.Type)
		}
	}
	return nil
}
