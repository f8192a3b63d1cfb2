package messengertest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The webhook body as Meta sends it. Field order follows Meta's samples so
// the raw bytes look like Meta's.
type payload struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID        string      `json:"id"`
	Time      int64       `json:"time"`
	Messaging []messaging `json:"messaging,omitempty"`
	Changes   []change    `json:"changes,omitempty"`
}

type idObj struct {
	ID string `json:"id"`
}

type messaging struct {
	Sender    idObj         `json:"sender"`
	Recipient idObj         `json:"recipient"`
	Timestamp int64         `json:"timestamp"`
	Message   *wireMessage  `json:"message,omitempty"`
	Postback  *wirePostback `json:"postback,omitempty"`
}

type wireMessage struct {
	IsEcho      bool             `json:"is_echo,omitempty"`
	AppID       json.Number      `json:"app_id,omitempty"`
	Metadata    string           `json:"metadata,omitempty"`
	MID         string           `json:"mid"`
	Text        string           `json:"text,omitempty"`
	Attachments []wireAttachment `json:"attachments,omitempty"`
}

type wireAttachment struct {
	Type    string `json:"type"`
	Payload any    `json:"payload"`
}

type wireButtonPayload struct {
	TemplateType string       `json:"template_type"`
	Text         string       `json:"text,omitempty"`
	Name         string       `json:"name,omitempty"`
	Buttons      []wireButton `json:"buttons,omitempty"`
}

type wireButton struct {
	Type    string `json:"type"`
	URL     string `json:"url,omitempty"`
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
}

type wirePostback struct {
	MID     string `json:"mid"`
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

type change struct {
	Value feedValue `json:"value"`
	Field string    `json:"field"`
}

// feedValue is a Page feed change for a comment, in the field order of
// payloads Meta delivers.
type feedValue struct {
	From        fromObj   `json:"from"`
	Post        *feedPost `json:"post,omitempty"`
	Message     string    `json:"message,omitempty"`
	PostID      string    `json:"post_id"`
	CommentID   string    `json:"comment_id"`
	CreatedTime int64     `json:"created_time"`
	Item        string    `json:"item"`
	ParentID    string    `json:"parent_id"`
	Verb        string    `json:"verb"`
}

type fromObj struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type feedPost struct {
	StatusType      string `json:"status_type"`
	IsPublished     bool   `json:"is_published"`
	UpdatedTime     string `json:"updated_time"`
	PromotionStatus string `json:"promotion_status"`
	ID              string `json:"id"`
}

// Event is one thing that happened on Facebook, ready to be delivered: what
// the New…Event constructors return and Batch sends.
type Event struct {
	// Kind is "message", "postback", "echo", "inbox" or "comment".
	Kind string
	// PSID is the customer's Page-scoped id for messaging events.
	PSID string
	// UserID is the commenter's id as the feed shows it (comments only).
	UserID    string
	MID       string
	Text      string
	Payload   string // postbacks
	PostID    string // comments
	CommentID string // comments
	ParentID  string // comments: the post, or the comment replied to
	entry     entry
}

// Delivery is one POST to the webhook.
type Delivery struct {
	// Event is the first event delivered; Events are all of them.
	Event
	Events []Event
	// Status is the HTTP status chatpay answered, 0 when the POST failed
	// (Err says why).
	Status   int
	Response []byte
	// Body is the exact body POSTed and Signature its X-Hub-Signature-256
	// header ("" when none was sent).
	Body      []byte
	Signature string
	// Echo marks echoes of Send API calls, delivered in the background.
	Echo bool
	Err  error
	At   time.Time
}

// encodeJSON encodes v the way Meta's webhook bodies are encoded: characters
// outside ASCII as lower-case \uXXXX escapes (UTF-16, so emoji become
// surrogate pairs) and "/" as "\/". Meta signs that escaped text, so a
// receiver that re-encodes the JSON before checking the signature fails
// against both Meta and the emulator.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return metaEscape(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// metaEscape rewrites JSON text. Non-ASCII characters and "/" only occur
// inside JSON strings, so escaping them anywhere keeps the text equivalent.
func metaEscape(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == '/':
			out = append(out, '\\', '/')
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		default:
			for _, u := range utf16.Encode([]rune{r}) {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		}
		b = b[size:]
	}
	return out
}

func (s *Server) signWith(h func() hash.Hash, body []byte) string {
	m := hmac.New(h, []byte(s.cfg.appSecret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Signature is the X-Hub-Signature-256 header value Meta would send with
// body: "sha256=" and the hex HMAC-SHA256 of the raw body keyed with the app
// secret.
func (s *Server) Signature(body []byte) string { return "sha256=" + s.signWith(sha256.New, body) }

// deliver POSTs entries as one webhook and records the delivery.
func (s *Server) deliver(entries []entry, events []Event, echo bool) (Delivery, error) {
	body, err := encodeJSON(payload{Object: "page", Entry: entries})
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{Events: events, Echo: echo}
	if len(events) > 0 {
		d.Event = events[0]
	}
	return s.post(d, body, s.Signature(body), true)
}

// Deliver POSTs raw exactly as given, signed with the app secret, as Meta
// does when it delivers the same event again.
func (s *Server) Deliver(raw []byte) (Delivery, error) {
	return s.post(Delivery{}, slices.Clone(raw), s.Signature(raw), true)
}

// DeliverWithSignature POSTs body with sig as its X-Hub-Signature-256 header
// (none when sig is ""), for tests of rejected signatures.
func (s *Server) DeliverWithSignature(body []byte, sig string) (Delivery, error) {
	return s.post(Delivery{}, slices.Clone(body), sig, false)
}

func (s *Server) post(d Delivery, body []byte, sig string, withSHA1 bool) (Delivery, error) {
	s.mu.Lock()
	target := s.webhook
	d.At = s.now()
	s.mu.Unlock()
	d.Body, d.Signature = body, sig
	d.Err = s.doPost(target, body, sig, withSHA1, &d)
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	return d, d.Err
}

func (s *Server) doPost(target string, body []byte, sig string, withSHA1 bool, d *Delivery) error {
	if target == "" {
		return errors.New("messengertest: no webhook URL (use WithWebhook or SetWebhook)")
	}
	ctx, cancel := s.closingContext()
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	if withSHA1 {
		// Meta still sends the older SHA-1 signature alongside.
		req.Header.Set("X-Hub-Signature", "sha1="+s.signWith(sha1.New, body))
	}
	resp, err := s.cfg.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	d.Status = resp.StatusCode
	d.Response, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return nil
}

// closingContext is cancelled when the server closes, so a hanging webhook
// does not outlive the test.
func (s *Server) closingContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// Deliveries returns every webhook POST made so far, echoes included, in
// the order they finished.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// Verify performs the webhook verification handshake the App Dashboard does:
// GET {webhook}?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…. It
// returns chatpay's status and body; status 0 and the error text when the
// request failed.
func (s *Server) Verify(verifyToken, challenge string) (status int, body string) {
	s.mu.Lock()
	target := s.webhook
	s.mu.Unlock()
	u, err := url.Parse(target)
	if err != nil || target == "" {
		return 0, "messengertest: no valid webhook URL"
	}
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.verify_token", verifyToken)
	q.Set("hub.challenge", challenge)
	u.RawQuery = q.Encode()
	ctx, cancel := s.closingContext()
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("User-Agent", "facebookplatform/1.0 (+http://developers.facebook.com)")
	resp, err := s.cfg.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// echoJob is an echo waiting to be delivered.
type echoJob struct {
	entry entry
	event Event
}

// echoEntry builds the message_echoes event for a message the Page sent.
// appID is the app that sent it. The caller holds s.mu.
func (s *Server) echoEntry(p *person, m Message, appID string, at time.Time) entry {
	wm := &wireMessage{IsEcho: true, AppID: json.Number(appID), Metadata: m.Metadata, MID: m.MID}
	switch {
	case len(m.Buttons) > 0:
		bp := wireButtonPayload{TemplateType: "button", Text: m.Text}
		for _, b := range m.Buttons {
			bp.Buttons = append(bp.Buttons, wireButton{Type: b.Type, URL: b.URL, Title: b.Title, Payload: b.Payload})
		}
		wm.Attachments = []wireAttachment{{Type: "template", Payload: bp}}
	case m.Template != "":
		wm.Attachments = []wireAttachment{{Type: "template", Payload: wireButtonPayload{TemplateType: "utility", Name: m.Template}}}
	default:
		wm.Text = m.Text
	}
	ms := at.UnixMilli()
	return entry{ID: s.cfg.pageID, Time: ms, Messaging: []messaging{{
		Sender: idObj{s.cfg.pageID}, Recipient: idObj{p.PSID}, Timestamp: ms, Message: wm,
	}}}
}

// queueEcho schedules an echo. The caller holds s.mu.
func (s *Server) queueEcho(j echoJob) {
	if j.event.Kind == "" {
		m := j.entry.Messaging[0]
		j.event = Event{Kind: "echo", PSID: m.Recipient.ID, MID: m.Message.MID, Text: m.Message.Text, entry: j.entry}
	}
	s.echoQueue = append(s.echoQueue, j)
	s.echoPending++
	select {
	case s.echoWake <- struct{}{}:
	default:
	}
}

// echoLoop delivers echoes one at a time, in the order the Send API
// accepted the messages.
func (s *Server) echoLoop() {
	defer s.bg.Done()
	for {
		select {
		case <-s.closing:
			return
		case <-s.echoWake:
		}
		for {
			s.mu.Lock()
			if len(s.echoQueue) == 0 {
				s.mu.Unlock()
				break
			}
			j := s.echoQueue[0]
			s.echoQueue = s.echoQueue[1:]
			s.mu.Unlock()
			_, _ = s.deliver([]entry{j.entry}, []Event{j.event}, true)
			s.mu.Lock()
			s.echoPending--
			if s.echoPending == 0 {
				close(s.echoSignal)
				s.echoSignal = make(chan struct{})
			}
			s.mu.Unlock()
		}
	}
}

// WaitEchoes blocks until every queued echo has been delivered.
func (s *Server) WaitEchoes(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.echoPending == 0 {
			s.mu.Unlock()
			return nil
		}
		ch := s.echoSignal
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return errors.New("messengertest: server closed")
		}
	}
}
