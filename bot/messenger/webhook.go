package messenger

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kind is what a webhook event is about.
type Kind string

const (
	// KindMessage is a message a person sent to the page.
	KindMessage Kind = "message"
	// KindPostback is a postback button the person pressed.
	KindPostback Kind = "postback"
	// KindEcho is a copy of a message the page sent (by chatpay, by another
	// app, or by a person in the page inbox: AppID tells which).
	KindEcho Kind = "echo"
	// KindComment is a new comment on one of the page's posts.
	KindComment Kind = "comment"
)

// From is who wrote a comment.
type From struct {
	ID   string
	Name string
}

// Event is one thing a webhook delivery reports, flattened out of Meta's
// entries. Reads, deliveries, reactions, edits and other kinds are not events.
type Event struct {
	Kind   Kind
	PageID string
	// PSID is the customer's page-scoped id: the sender of a message or
	// postback, the recipient of an echo; "" for comments (see From).
	PSID string
	// Mid is the message id of a message, postback or echo; CommentID is a
	// comment's id. Each is the event's dedupe key: Meta retries deliveries.
	Mid       string
	CommentID string
	// Text is a message's or comment's text, or the title of the pressed
	// postback button. Attachments leave it empty (Raw has them).
	Text string
	// Payload is a postback's payload, or a quick reply's.
	Payload string
	// AppID is the app that sent an echoed message; "" when a person sent it
	// from the page inbox.
	AppID  string
	IsEcho bool
	// Timestamp is when Meta says the event happened.
	Timestamp time.Time
	// PostID is the post a comment is on; ParentID is what it answers (the post
	// itself, or the comment it replies to).
	PostID   string
	ParentID string
	// From is a comment's author. A comment the page wrote itself has
	// From.ID == PageID.
	From From
	// Raw is this event's own JSON (one messaging item, or one change's
	// value), for storage.
	Raw json.RawMessage
}

// signaturePrefix starts the X-Hub-Signature-256 header's value.
const signaturePrefix = "sha256="

// VerifySignature reports whether header, the X-Hub-Signature-256 value
// "sha256=<hex HMAC-SHA256 of body keyed with the app secret>", signs body.
// body must be the request's bytes as received: Meta signs those, not a
// re-encoding. The comparison takes constant time; a missing prefix, a wrong
// length, non-hex digits or an empty secret fail.
func VerifySignature(appSecret string, header string, body []byte) bool {
	if appSecret == "" || !strings.HasPrefix(header, signaturePrefix) {
		return false
	}
	sig := header[len(signaturePrefix):]
	if len(sig) != 2*sha256.Size {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// challengeRe bounds what Handshake echoes back: Meta sends an integer, and
// the caller writes it into a response body.
var challengeRe = regexp.MustCompile(`^[0-9A-Za-z_-]{1,256}$`)

// Handshake answers Meta's GET verification request: when hub.mode is
// "subscribe" and hub.verify_token equals verifyToken (compared in constant
// time), it returns hub.challenge, which the caller sends back with 200.
func Handshake(query url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || query.Get("hub.mode") != "subscribe" {
		return "", false
	}
	// Hashing first makes the comparison independent of the lengths too.
	got := sha256.Sum256([]byte(query.Get("hub.verify_token")))
	want := sha256.Sum256([]byte(verifyToken))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return "", false
	}
	challenge = query.Get("hub.challenge")
	if !challengeRe.MatchString(challenge) {
		return "", false
	}
	return challenge, true
}

// flexString is an id Meta writes as a string in some payloads and as a number
// in others (app_id in echoes).
type flexString string

func (s *flexString) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*s = ""
	case len(data) > 0 && data[0] == '"':
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = flexString(v)
	default:
		var n json.Number
		if err := json.Unmarshal(data, &n); err != nil {
			return fmt.Errorf("messenger: an id is neither a string nor a number: %.40s", data)
		}
		*s = flexString(n.String())
	}
	return nil
}

// flexTime is a timestamp Meta writes as a number (milliseconds in messaging
// events, seconds in feed changes) or, in some examples, as a numeric string.
// Anything else reads as no timestamp.
type flexTime int64

func (t *flexTime) UnmarshalJSON(data []byte) error {
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*t = 0
	var s string
	switch v := raw.(type) {
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		s = v
	default:
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*t = flexTime(n)
	} else if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e18 {
		*t = flexTime(f)
	}
	return nil
}

// secondsBelow tells seconds from milliseconds: a millisecond timestamp below
// it would be before 1973, a second timestamp above it after the year 5000.
const secondsBelow = 100_000_000_000

func (t flexTime) time() time.Time {
	switch {
	case t <= 0:
		return time.Time{}
	case t < secondsBelow:
		return time.Unix(int64(t), 0).UTC()
	}
	return time.UnixMilli(int64(t)).UTC()
}

// Wire format of webhook deliveries (see the package doc).
type (
	webhookBody struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}
	entry struct {
		ID        flexString        `json:"id"`
		Time      flexTime          `json:"time"`
		Messaging []json.RawMessage `json:"messaging"`
		Changes   []change          `json:"changes"`
	}
	change struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	participant struct {
		ID flexString `json:"id"`
	}
	messagingItem struct {
		Sender    participant `json:"sender"`
		Recipient participant `json:"recipient"`
		Timestamp flexTime    `json:"timestamp"`
		Message   *struct {
			Mid        string     `json:"mid"`
			Text       string     `json:"text"`
			IsEcho     bool       `json:"is_echo"`
			AppID      flexString `json:"app_id"`
			QuickReply *struct {
				Payload string `json:"payload"`
			} `json:"quick_reply"`
		} `json:"message"`
		Postback *struct {
			Mid     string `json:"mid"`
			Title   string `json:"title"`
			Payload string `json:"payload"`
		} `json:"postback"`
	}
	feedHead struct {
		Item string `json:"item"`
		Verb string `json:"verb"`
	}
	feedComment struct {
		CommentID   flexString `json:"comment_id"`
		PostID      flexString `json:"post_id"`
		ParentID    flexString `json:"parent_id"`
		Message     string     `json:"message"`
		CreatedTime flexTime   `json:"created_time"`
		From        struct {
			ID   flexString `json:"id"`
			Name string     `json:"name"`
		} `json:"from"`
	}
)

// ParseWebhook turns one webhook delivery (`{"object":"page","entry":[...]}`)
// into flat events, in the order Meta listed them. Unknown fields are ignored
// and kinds chatpay does not act on are skipped; a body that is not JSON, or
// whose known fields have the wrong shape, or whose object is not "page", is
// an error.
func ParseWebhook(body []byte) ([]Event, error) {
	var w webhookBody
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("messenger: webhook body: %w", err)
	}
	if w.Object != "page" {
		return nil, fmt.Errorf("messenger: webhook object is %q, not \"page\"", w.Object)
	}
	var events []Event
	for _, en := range w.Entry {
		pageID := string(en.ID)
		for _, raw := range en.Messaging {
			ev, ok, err := messagingEvent(pageID, raw)
			if err != nil {
				return nil, err
			}
			if ok {
				events = append(events, withTime(ev, en.Time))
			}
		}
		for _, ch := range en.Changes {
			ev, ok, err := changeEvent(pageID, ch)
			if err != nil {
				return nil, err
			}
			if ok {
				events = append(events, withTime(ev, en.Time))
			}
		}
	}
	return events, nil
}

// withTime falls back to the entry's time when the event carries none.
func withTime(ev Event, entryTime flexTime) Event {
	if ev.Timestamp.IsZero() {
		ev.Timestamp = entryTime.time()
	}
	return ev
}

// errNotObject reports a messaging item or change value that is not a JSON object.
var errNotObject = errors.New("is not a JSON object")

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// messagingEvent reads one item of an entry's messaging array.
func messagingEvent(pageID string, raw json.RawMessage) (Event, bool, error) {
	if !isObject(raw) {
		return Event{}, false, fmt.Errorf("messenger: webhook messaging item %w", errNotObject)
	}
	var it messagingItem
	if err := json.Unmarshal(raw, &it); err != nil {
		return Event{}, false, fmt.Errorf("messenger: webhook messaging item: %w", err)
	}
	ev := Event{PageID: pageID, Timestamp: it.Timestamp.time(), Raw: raw}
	switch {
	case it.Message != nil && it.Message.IsEcho:
		// The page sent it: the customer is the recipient.
		ev.Kind, ev.IsEcho, ev.PSID = KindEcho, true, string(it.Recipient.ID)
		ev.Mid, ev.Text, ev.AppID = it.Message.Mid, it.Message.Text, string(it.Message.AppID)
	case it.Message != nil:
		ev.Kind, ev.PSID = KindMessage, string(it.Sender.ID)
		ev.Mid, ev.Text = it.Message.Mid, it.Message.Text
		if it.Message.QuickReply != nil {
			ev.Payload = it.Message.QuickReply.Payload
		}
	case it.Postback != nil:
		ev.Kind, ev.PSID = KindPostback, string(it.Sender.ID)
		ev.Mid, ev.Text, ev.Payload = it.Postback.Mid, it.Postback.Title, it.Postback.Payload
	default:
		return Event{}, false, nil // read, delivery, reaction, referral, optin…
	}
	if ev.PSID == "" {
		// A sender known only by user_ref (the checkbox plugin) cannot be
		// answered by page-scoped id.
		return Event{}, false, nil
	}
	return ev, true, nil
}

// changeEvent reads one item of an entry's changes array: feed comments, and
// messaging events in the field/value form Meta also documents.
func changeEvent(pageID string, ch change) (Event, bool, error) {
	switch ch.Field {
	case "messages", "messaging_postbacks", "message_echoes":
		if len(ch.Value) == 0 {
			return Event{}, false, nil
		}
		return messagingEvent(pageID, ch.Value)
	case "feed":
	default:
		return Event{}, false, nil
	}
	if !isObject(ch.Value) {
		return Event{}, false, fmt.Errorf("messenger: webhook feed value %w", errNotObject)
	}
	var head feedHead
	if err := json.Unmarshal(ch.Value, &head); err != nil {
		return Event{}, false, fmt.Errorf("messenger: webhook feed value: %w", err)
	}
	// Edits and removals of comments, and posts, reactions and the rest of
	// the feed are not orders.
	if head.Item != "comment" || head.Verb != "add" {
		return Event{}, false, nil
	}
	var c feedComment
	if err := json.Unmarshal(ch.Value, &c); err != nil {
		return Event{}, false, fmt.Errorf("messenger: webhook feed comment: %w", err)
	}
	if c.CommentID == "" {
		return Event{}, false, nil
	}
	return Event{
		Kind: KindComment, PageID: pageID, CommentID: string(c.CommentID), Text: c.Message,
		Timestamp: c.CreatedTime.time(), PostID: string(c.PostID), ParentID: string(c.ParentID),
		From: From{ID: string(c.From.ID), Name: c.From.Name}, Raw: ch.Value,
	}, true, nil
}
