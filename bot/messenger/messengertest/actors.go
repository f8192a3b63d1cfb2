package messengertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Customers are named by PSID or by name in the methods below: an unknown
// name makes up a new customer with a fresh PSID; an unknown PSID is an error.

// CustomerSays makes a customer write text to the Page in Messenger and
// delivers the messages webhook. It opens (or refreshes) the 24-hour window.
func (s *Server) CustomerSays(who, text string) (Delivery, error) {
	e, err := s.NewMessageEvent(who, text)
	if err != nil {
		return Delivery{}, err
	}
	return s.Batch(e)
}

// Postback makes a customer press a postback button with payload and title
// and delivers the messaging_postbacks webhook. It refreshes the window.
func (s *Server) Postback(who, payload, title string) (Delivery, error) {
	e, err := s.NewPostbackEvent(who, payload, title)
	if err != nil {
		return Delivery{}, err
	}
	return s.Batch(e)
}

// PageInboxSays makes a staff member type text to the customer in the Page
// inbox and delivers the message echo Meta sends for it: sender the Page,
// recipient the customer, app_id the Page inbox's. The customer must have a
// conversation with the Page.
func (s *Server) PageInboxSays(psid, text string) (Delivery, error) {
	e, err := s.NewInboxEvent(psid, text)
	if err != nil {
		return Delivery{}, err
	}
	return s.Batch(e)
}

// Post publishes a post on the Page and returns its id ("{page-id}_{n}").
// Meta also sends a feed change for the Page's own posts; the emulator does
// not, since a sales bot acts on comments.
func (s *Server) Post(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextPost++
	id := s.cfg.pageID + "_" + strconv.FormatInt(122000000000000000+s.nextPost, 10)
	s.posts[id] = &post{id: id, text: text, at: s.now()}
	return id
}

// Comment makes a customer comment on a post and delivers the feed change.
// The webhook carries the customer's feed id (UserID), not their PSID: the
// PSID becomes known to chatpay when the Send API answers a private reply.
func (s *Server) Comment(postID, who, text string) (Delivery, error) {
	e, err := s.NewCommentEvent(postID, who, text)
	if err != nil {
		return Delivery{}, err
	}
	return s.Batch(e)
}

// ReplyToComment makes a customer reply to a comment; the feed change's
// parent_id is that comment.
func (s *Server) ReplyToComment(commentID, who, text string) (Delivery, error) {
	e, err := s.NewReplyEvent(commentID, who, text)
	if err != nil {
		return Delivery{}, err
	}
	return s.Batch(e)
}

// PageComments makes the Page comment on a post (from.id is the Page's id)
// and delivers the feed change.
func (s *Server) PageComments(postID, text string) (Delivery, error) {
	e, err := s.NewPageCommentEvent(postID, text)
	if err != nil {
		return Delivery{}, err
	}
	return s.Batch(e)
}

// Batch delivers several events in one POST, one entry per event, as Meta
// does when updates pile up.
func (s *Server) Batch(events ...Event) (Delivery, error) {
	if len(events) == 0 {
		return Delivery{}, errors.New("messengertest: Batch needs at least one event")
	}
	entries := make([]entry, len(events))
	for i, e := range events {
		if e.entry.ID == "" {
			return Delivery{}, fmt.Errorf("messengertest: event %d was not made by this package", i)
		}
		entries[i] = e.entry
	}
	return s.deliver(entries, events, false)
}

// NewMessageEvent records a customer's message and returns its webhook event
// without delivering it.
func (s *Server) NewMessageEvent(who, text string) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.resolve(who)
	if err != nil {
		return Event{}, err
	}
	now := s.now()
	mid := s.newMID()
	s.openThread(p, now)
	p.last = now
	p.lines = append(p.lines, Line{From: "customer", MID: mid, Text: text, At: now})
	ms := now.UnixMilli()
	e := entry{ID: s.cfg.pageID, Time: ms, Messaging: []messaging{{
		Sender: idObj{p.PSID}, Recipient: idObj{s.cfg.pageID}, Timestamp: ms,
		Message: &wireMessage{MID: mid, Text: text},
	}}}
	return Event{Kind: "message", PSID: p.PSID, MID: mid, Text: text, entry: e}, nil
}

// NewPostbackEvent records a pressed postback button and returns its event.
func (s *Server) NewPostbackEvent(who, payload, title string) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.resolve(who)
	if err != nil {
		return Event{}, err
	}
	now := s.now()
	mid := s.newMID()
	s.openThread(p, now)
	p.last = now
	p.lines = append(p.lines, Line{From: "customer", MID: mid, Text: title, Postback: payload, At: now})
	ms := now.UnixMilli()
	e := entry{ID: s.cfg.pageID, Time: ms, Messaging: []messaging{{
		Sender: idObj{p.PSID}, Recipient: idObj{s.cfg.pageID}, Timestamp: ms,
		Postback: &wirePostback{MID: mid, Title: title, Payload: payload},
	}}}
	return Event{Kind: "postback", PSID: p.PSID, MID: mid, Text: title, Payload: payload, entry: e}, nil
}

// NewInboxEvent records a Page inbox message and returns its echo event.
func (s *Server) NewInboxEvent(psid, text string) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.people[psid]
	if !ok || !p.thread {
		return Event{}, fmt.Errorf("messengertest: no conversation with PSID %s", psid)
	}
	now := s.now()
	m := Message{MID: s.newMID(), PSID: p.PSID, Text: text, At: now}
	p.lines = append(p.lines, Line{From: "inbox", MID: m.MID, Text: text, At: now})
	e := s.echoEntry(p, m, PageInboxAppID, now)
	return Event{Kind: "inbox", PSID: p.PSID, MID: m.MID, Text: text, entry: e}, nil
}

// NewCommentEvent records a customer's comment on a post and returns its
// feed change event.
func (s *Server) NewCommentEvent(postID, who, text string) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.posts[postID]; !ok {
		return Event{}, fmt.Errorf("messengertest: no post %s (use Post)", postID)
	}
	p, err := s.resolve(who)
	if err != nil {
		return Event{}, err
	}
	return s.commentEvent(postID, postID, p, text), nil
}

// NewReplyEvent records a customer's reply to a comment and returns its
// feed change event.
func (s *Server) NewReplyEvent(commentID, who, text string) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, ok := s.comments[commentID]
	if !ok {
		return Event{}, fmt.Errorf("messengertest: no comment %s", commentID)
	}
	p, err := s.resolve(who)
	if err != nil {
		return Event{}, err
	}
	return s.commentEvent(parent.postID, commentID, p, text), nil
}

// NewPageCommentEvent records the Page's own comment and returns its event.
func (s *Server) NewPageCommentEvent(postID, text string) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.posts[postID]; !ok {
		return Event{}, fmt.Errorf("messengertest: no post %s (use Post)", postID)
	}
	return s.commentEvent(postID, postID, nil, text), nil
}

// NewPageReplyEvent records the Page's reply to a comment (as staff answer a
// customer's comment from the Page) and returns its event.
func (s *Server) NewPageReplyEvent(commentID, text string) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, ok := s.comments[commentID]
	if !ok {
		return Event{}, fmt.Errorf("messengertest: no comment %s", commentID)
	}
	return s.commentEvent(parent.postID, commentID, nil, text), nil
}

// PageRepliesToComment makes the Page reply to a comment and delivers the feed
// change.
func (s *Server) PageRepliesToComment(commentID, text string) (Delivery, error) {
	e, err := s.NewPageReplyEvent(commentID, text)
	if err != nil {
		return Delivery{}, err
	}
	return s.Batch(e)
}

// commentEvent records a comment by p (nil: the Page). A top-level comment's
// parent_id is the post's id, as in Meta's payloads. Comments do not open
// the standard messaging window: Meta allows one private reply instead. The
// caller holds s.mu.
func (s *Server) commentEvent(postID, parentID string, p *person, text string) Event {
	now := s.now()
	s.nextComment++
	postNum := postID[strings.LastIndex(postID, "_")+1:]
	id := postNum + "_" + strconv.FormatInt(1200000000000000+s.nextComment, 10)
	c := &comment{id: id, postID: postID, parentID: parentID, author: p, text: text, at: now}
	s.comments[id] = c
	from := fromObj{ID: s.cfg.pageID, Name: s.cfg.pageName}
	ev := Event{Kind: "comment", PostID: postID, CommentID: id, ParentID: parentID, Text: text}
	if p != nil {
		from = fromObj{ID: p.UserID, Name: p.Name}
		ev.UserID = p.UserID
	}
	pst := s.posts[postID]
	v := feedValue{
		From: from,
		Post: &feedPost{
			StatusType: "mobile_status_update", IsPublished: true,
			UpdatedTime: pst.at.UTC().Format("2006-01-02T15:04:05+0000"), PromotionStatus: "inactive", ID: postID,
		},
		Message: text, PostID: postID, CommentID: id, CreatedTime: now.Unix(),
		Item: "comment", ParentID: parentID, Verb: "add",
	}
	ev.entry = entry{ID: s.cfg.pageID, Time: now.Unix(), Changes: []change{{Value: v, Field: "feed"}}}
	return ev
}

// RawJSON returns the event's entry as Meta would encode it, for tests that
// assemble bodies by hand.
func (e Event) RawJSON() json.RawMessage {
	b, _ := encodeJSON(e.entry)
	return b
}
