package messengertest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Customer is a person the emulator made up. PSID is the Page-scoped id the
// Messenger Platform uses in messaging webhooks and the Send API; UserID is
// the different id Page feed webhooks show in from.id when the person
// comments. The two never coincide, as on Facebook.
type Customer struct {
	PSID   string
	UserID string
	Name   string
}

// Template is an approved utility message template of the Page.
type Template struct {
	Name string
	// Language is the template's language code ("en_US"); "" accepts any.
	Language string
	// BodyParams is how many body parameters a send must fill; -1 accepts
	// any number.
	BodyParams int
}

func (t Template) key() string { return t.Name + "\x00" + t.Language }

// Button is a button of a button template as the Send API received it.
type Button struct {
	Type    string // "web_url" or "postback"
	Title   string
	URL     string // web_url buttons
	Payload string // postback buttons
}

// Message is one message the Send API accepted.
type Message struct {
	MID  string
	PSID string
	// CommentID is set when the message was a private reply to a comment.
	CommentID     string
	MessagingType string
	Tag           string
	// Text is a text message's text or a button template's text.
	Text    string
	Buttons []Button
	// Template, TemplateLanguage and TemplateParams describe a utility
	// template message; TemplateParams are the body parameters' texts in
	// order.
	Template         string
	TemplateLanguage string
	TemplateParams   []string
	Metadata         string
	At               time.Time
}

// PrivateReply is the one private reply a comment may get.
type PrivateReply struct {
	CommentID string
	PostID    string
	// PSID is the commenter's Page-scoped id: the private reply opened a
	// conversation with them, and the Send API answered with it.
	PSID   string
	UserID string
	MID    string
	At     time.Time
}

// Line is one message in a conversation, whoever sent it.
type Line struct {
	// From is "customer", "bot" (sent through the Send API) or "inbox"
	// (typed by a person in the Page inbox).
	From     string
	MID      string
	Text     string
	Postback string // the payload, when the customer pressed a postback button
	At       time.Time
}

// Conversation is a Messenger thread between the Page and a customer.
type Conversation struct {
	Customer
	Started time.Time
	// LastInteraction is the customer's last message or postback, which
	// opens the 24-hour standard messaging window; zero if they never wrote.
	LastInteraction time.Time
	// WindowOpen reports whether the standard window is open now.
	WindowOpen bool
	Blocked    bool
	Lines      []Line
}

// Stats counts what the Send API answered.
type Stats struct {
	Requests  int
	OK        int
	Status4xx int
	Status5xx int
	// Throttled counts rate-limit errors (codes 4 and 613).
	Throttled int
	// Timeouts counts requests held until the client gave up.
	Timeouts int
}

type person struct {
	Customer
	blocked bool
	thread  bool      // a conversation exists
	started time.Time // when it began
	last    time.Time // the customer's last message or postback
	lines   []Line
}

type post struct {
	id   string
	text string
	at   time.Time
}

type comment struct {
	id       string
	postID   string
	parentID string
	author   *person // nil for the Page's own comments
	text     string
	at       time.Time
	reply    *PrivateReply
}

// standardWindow is the 24-hour standard messaging window; humanAgentWindow
// is how long the HUMAN_AGENT tag extends it; privateReplyWindow is how long
// after a comment a private reply may be sent.
const (
	standardWindow     = 24 * time.Hour
	humanAgentWindow   = 7 * 24 * time.Hour
	privateReplyWindow = 7 * 24 * time.Hour
)

// NewCustomer makes up a person who has not written to the Page yet: the
// Send API answers "No matching user found" for their PSID until they do.
func (s *Server) NewCustomer(name string) Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newPerson(name).Customer
}

func (s *Server) newPerson(name string) *person {
	s.nextPerson++
	n := s.nextPerson
	p := &person{Customer: Customer{
		PSID:   strconv.FormatInt(25000000000000000+n*13, 10),
		UserID: strconv.FormatInt(10200000000000000+n*7, 10),
		Name:   name,
	}}
	if p.Name == "" {
		p.Name = fmt.Sprintf("Customer %d", n)
	}
	s.people[p.PSID] = p
	s.byUserID[p.UserID] = p
	if _, taken := s.byName[p.Name]; !taken {
		s.byName[p.Name] = p
	}
	s.order = append(s.order, p)
	return p
}

// resolve finds a person by PSID or name and makes up a new one for an
// unknown name. An unknown all-digit string is taken for a mistyped PSID.
func (s *Server) resolve(who string) (*person, error) {
	if p, ok := s.people[who]; ok {
		return p, nil
	}
	if p, ok := s.byName[who]; ok {
		return p, nil
	}
	if _, err := strconv.ParseUint(who, 10, 64); err == nil {
		return nil, fmt.Errorf("messengertest: no customer with PSID %s", who)
	}
	return s.newPerson(who), nil
}

// Customer finds a customer by PSID or name.
func (s *Server) Customer(who string) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.people[who]; ok {
		return p.Customer, true
	}
	if p, ok := s.byName[who]; ok {
		return p.Customer, true
	}
	return Customer{}, false
}

// Block makes the customer block the Page: sends to them fail with error 551.
func (s *Server) Block(psid string) { s.setBlocked(psid, true) }

// Unblock undoes Block.
func (s *Server) Unblock(psid string) { s.setBlocked(psid, false) }

func (s *Server) setBlocked(psid string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.people[psid]
	if !ok {
		s.t.Errorf("messengertest: Block: no customer with PSID %s", psid)
		return
	}
	p.blocked = on
}

// ApproveTemplate adds an approved utility template to the Page's library.
func (s *Server) ApproveTemplate(t Template) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[t.key()] = t
}

func (s *Server) template(name, lang string) (Template, bool) {
	if t, ok := s.templates[name+"\x00"+lang]; ok {
		return t, true
	}
	t, ok := s.templates[name+"\x00"]
	return t, ok
}

// Sent returns the messages the Send API accepted for psid, in order.
func (s *Server) Sent(psid string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.sent {
		if m.PSID == psid {
			out = append(out, cloneMessage(m))
		}
	}
	return out
}

// AllSent returns every message the Send API accepted, in order.
func (s *Server) AllSent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.sent))
	for i, m := range s.sent {
		out[i] = cloneMessage(m)
	}
	return out
}

func cloneMessage(m Message) Message {
	m.Buttons = slices.Clone(m.Buttons)
	m.TemplateParams = slices.Clone(m.TemplateParams)
	return m
}

// PrivateReplies returns every private reply sent, in order.
func (s *Server) PrivateReplies() []PrivateReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.replies)
}

// PrivateReplyTo returns the private reply to commentID, if one was sent.
func (s *Server) PrivateReplyTo(commentID string) (PrivateReply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.comments[commentID]
	if !ok || c.reply == nil {
		return PrivateReply{}, false
	}
	return *c.reply, true
}

// Conversation returns the thread with psid, if there is one.
func (s *Server) Conversation(psid string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.people[psid]
	if !ok || !p.thread {
		return Conversation{}, false
	}
	return s.conversation(p), true
}

// Conversations returns every thread, in the order the customers appeared.
func (s *Server) Conversations() []Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Conversation
	for _, p := range s.order {
		if p.thread {
			out = append(out, s.conversation(p))
		}
	}
	return out
}

func (s *Server) conversation(p *person) Conversation {
	return Conversation{
		Customer:        p.Customer,
		Started:         p.started,
		LastInteraction: p.last,
		WindowOpen:      !p.last.IsZero() && s.now().Sub(p.last) <= standardWindow,
		Blocked:         p.blocked,
		Lines:           slices.Clone(p.lines),
	}
}

// Stats returns the Send API's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// openThread starts p's conversation if it has none. The caller holds s.mu.
func (s *Server) openThread(p *person, at time.Time) {
	if !p.thread {
		p.thread = true
		p.started = at
	}
}

// newMID makes a message id shaped like Meta's "m_" ids. The caller holds
// s.mu.
func (s *Server) newMID() string {
	s.nextMID++
	sum := sha256.Sum256([]byte(s.cfg.pageID + ":mid:" + strconv.FormatInt(s.nextMID, 10)))
	return "m_" + base64.RawURLEncoding.EncodeToString(sum[:]) + base64.RawURLEncoding.EncodeToString(sum[:12])
}
