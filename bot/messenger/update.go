package messenger

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/chatpay/chatpay/orders"
)

// Source names a page in recorded updates: "messenger:<page id>".
func Source(pageID string) string { return "messenger:" + pageID }

// Platform is what the webhook route needs of Messenger (webhooks.MessengerPlatform).
type Platform struct{}

// VerifySignature implements webhooks.MessengerPlatform.
func (Platform) VerifySignature(appSecret, header string, body []byte) bool {
	return VerifySignature(appSecret, header, body)
}

// Handshake implements webhooks.MessengerPlatform.
func (Platform) Handshake(query url.Values, verifyToken string) (string, bool) {
	return Handshake(query, verifyToken)
}

// Updates implements webhooks.MessengerPlatform: one update per event of a verified
// delivery for the page pageID, each unique on the event's own id (a message's mid,
// "comment:<id>" for a comment) and stored as a delivery of that one event, so that
// the job handling it reads it with ParseWebhook like any other. Entries of other
// pages are left out: they are not this shop's.
func (Platform) Updates(body []byte, pageID string) ([]*orders.ChatUpdate, error) {
	events, err := ParseWebhook(body)
	if err != nil {
		return nil, err
	}
	ups := make([]*orders.ChatUpdate, 0, len(events))
	for _, ev := range events {
		if ev.PageID != pageID {
			continue
		}
		key := ev.Mid
		if ev.Kind == KindComment {
			key = "comment:" + ev.CommentID
		}
		if key == "" || key == "comment:" {
			continue // nothing to tell a redelivery by
		}
		payload, err := envelope(ev)
		if err != nil {
			return nil, err
		}
		ups = append(ups, &orders.ChatUpdate{Key: key, Payload: payload, Chat: chatOf(ev)})
	}
	return ups, nil
}

// envelope wraps one event back into a delivery of its own.
func envelope(ev Event) ([]byte, error) {
	type change struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	type entry struct {
		ID        string            `json:"id"`
		Time      int64             `json:"time"`
		Messaging []json.RawMessage `json:"messaging,omitempty"`
		Changes   []change          `json:"changes,omitempty"`
	}
	e := entry{ID: ev.PageID, Time: ev.Timestamp.UnixMilli()}
	if ev.Kind == KindComment {
		e.Changes = []change{{Field: "feed", Value: ev.Raw}}
	} else {
		e.Messaging = []json.RawMessage{ev.Raw}
	}
	b, err := json.Marshal(struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}{"page", []entry{e}})
	if err != nil {
		return nil, fmt.Errorf("messenger: store event: %w", err)
	}
	return b, nil
}

// chatOf names the chat an event belongs to, so that one chat's events are handled
// in order: the customer's thread (their PSID) for messages, postbacks and echoes,
// the post for comments.
func chatOf(ev Event) string {
	if ev.Kind == KindComment {
		return "post:" + ev.PostID
	}
	return ev.PSID
}

// ChatOfUpdate names the chat of a recorded update (orders.Config.ChatOfUpdate).
func ChatOfUpdate(raw []byte) string {
	ev, err := DecodeUpdate(raw)
	if err != nil {
		return ""
	}
	return chatOf(ev)
}

// DecodeUpdate reads the one event of a recorded update.
func DecodeUpdate(raw []byte) (Event, error) {
	events, err := ParseWebhook(raw)
	if err != nil {
		return Event{}, err
	}
	if len(events) != 1 {
		return Event{}, fmt.Errorf("messenger: a recorded update holds %d events, not 1", len(events))
	}
	return events[0], nil
}
