package messengertest_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger/messengertest"
)

// TestMessageWebhookIsMetasJSON pins the exact bytes of a messages webhook:
// field order, millisecond timestamps and Meta's escaping of non-ASCII text
// and slashes.
func TestMessageWebhookIsMetasJSON(t *testing.T) {
	t.Parallel()
	s, h := newPair(t)
	d, err := s.CustomerSays("Ann", "Giá bao nhiêu? 🎉 https://x.example/a")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, d.Status)
	require.Equal(t, "EVENT_RECEIVED", string(d.Response))

	ms := strconv.FormatInt(start.UnixMilli(), 10)
	want := `{"object":"page","entry":[{"id":"` + s.PageID() + `","time":` + ms + `,"messaging":[{"sender":{"id":"` + d.PSID +
		`"},"recipient":{"id":"` + s.PageID() + `"},"timestamp":` + ms + `,"message":{"mid":"` + d.MID +
		`","text":"Gi\u00e1 bao nhi\u00eau? \ud83c\udf89 https:\/\/x.example\/a"}}]}]}`
	require.Equal(t, want, string(d.Body))
	require.Equal(t, [][]byte{d.Body}, h.received())

	// The signature covers the escaped bytes, so re-encoding the decoded
	// JSON before checking it (a common mistake) gives a different one.
	var v any
	require.NoError(t, json.Unmarshal(d.Body, &v))
	reencoded, err := json.Marshal(v)
	require.NoError(t, err)
	require.NotEqual(t, s.Signature(d.Body), s.Signature(reencoded))
	require.Equal(t, "Giá bao nhiêu? 🎉 https://x.example/a", v.(map[string]any)["entry"].([]any)[0].(map[string]any)["messaging"].([]any)[0].(map[string]any)["message"].(map[string]any)["text"])
}

func TestWebhookHeaders(t *testing.T) {
	t.Parallel()
	s, h := newPair(t)
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	hdr := h.header(0)
	require.Equal(t, "application/json", hdr.Get("Content-Type"))
	mac := hmac.New(sha256.New, []byte(messengertest.DefaultAppSecret))
	mac.Write(d.Body)
	require.Equal(t, "sha256="+hex.EncodeToString(mac.Sum(nil)), hdr.Get("X-Hub-Signature-256"))
	require.Equal(t, d.Signature, hdr.Get("X-Hub-Signature-256"))
	mac1 := hmac.New(sha1.New, []byte(messengertest.DefaultAppSecret))
	mac1.Write(d.Body)
	require.Equal(t, "sha1="+hex.EncodeToString(mac1.Sum(nil)), hdr.Get("X-Hub-Signature"))
}

func TestPostbackWebhook(t *testing.T) {
	t.Parallel()
	s, h := newPair(t)
	ann, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	d, err := s.Postback("Ann", "pay:A1", "Pay now")
	require.NoError(t, err)
	require.Equal(t, ann.PSID, d.PSID)
	m := entries(t, h.received()[1])[0]["messaging"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"mid": d.MID, "title": "Pay now", "payload": "pay:A1"}, m["postback"])
	require.Equal(t, ann.PSID, m["sender"].(map[string]any)["id"])
	require.Equal(t, s.PageID(), m["recipient"].(map[string]any)["id"])
	require.NotContains(t, m, "message")
}

func TestCommentWebhookShowsFeedIDNotPSID(t *testing.T) {
	t.Parallel()
	s, h := newPair(t)
	post := s.Post("New dresses, 350k")
	d, err := s.Comment(post, "Ann", "size M còn không?")
	require.NoError(t, err)
	ann, ok := s.Customer("Ann")
	require.True(t, ok)
	require.NotEqual(t, ann.PSID, ann.UserID)
	require.Equal(t, ann.UserID, d.UserID)
	require.Empty(t, d.PSID, "a comment webhook reveals no PSID")

	e := entries(t, h.received()[0])[0]
	require.Equal(t, s.PageID(), e["id"])
	require.Equal(t, float64(start.Unix()), e["time"])
	require.NotContains(t, e, "messaging")
	ch := e["changes"].([]any)[0].(map[string]any)
	require.Equal(t, "feed", ch["field"])
	v := ch["value"].(map[string]any)
	require.Equal(t, map[string]any{"id": ann.UserID, "name": "Ann"}, v["from"])
	require.Equal(t, "comment", v["item"])
	require.Equal(t, "add", v["verb"])
	require.Equal(t, post, v["post_id"])
	require.Equal(t, post, v["parent_id"])
	require.Equal(t, d.CommentID, v["comment_id"])
	require.Equal(t, "size M còn không?", v["message"])
	require.Equal(t, float64(start.Unix()), v["created_time"])

	// A reply to a comment has that comment as its parent; the Page's own
	// comment comes from the Page.
	r, err := s.ReplyToComment(d.CommentID, "Bo", "me too")
	require.NoError(t, err)
	require.Equal(t, d.CommentID, r.ParentID)
	pc, err := s.PageComments(post, "Inbox us!")
	require.NoError(t, err)
	pv := entries(t, h.received()[2])[0]["changes"].([]any)[0].(map[string]any)["value"].(map[string]any)
	require.Equal(t, map[string]any{"id": s.PageID(), "name": s.PageName()}, pv["from"])
	require.Equal(t, pc.CommentID, pv["comment_id"])

	_, err = s.Comment("nope_1", "Ann", "x")
	require.Error(t, err)
}

func TestBatchDuplicateAndBadSignature(t *testing.T) {
	t.Parallel()
	s, h := newPair(t)
	post := s.Post("sale")
	m, err := s.NewMessageEvent("Ann", "one")
	require.NoError(t, err)
	p, err := s.NewPostbackEvent("Ann", "buy:1", "Buy")
	require.NoError(t, err)
	c, err := s.NewCommentEvent(post, "Bo", "two")
	require.NoError(t, err)
	d, err := s.Batch(m, p, c)
	require.NoError(t, err)
	require.Equal(t, 200, d.Status)
	require.Len(t, d.Events, 3)
	require.Equal(t, m.MID, d.MID)
	got := h.received()
	require.Len(t, got, 1, "one POST for the batch")
	es := entries(t, got[0])
	require.Len(t, es, 3)
	require.Contains(t, es[0], "messaging")
	require.Contains(t, es[1], "messaging")
	require.Contains(t, es[2], "changes")

	// Meta delivers the same bytes again; the emulator does too, signed.
	again, err := s.Deliver(d.Body)
	require.NoError(t, err)
	require.Equal(t, 200, again.Status)
	require.Equal(t, d.Signature, again.Signature)
	require.Equal(t, d.Body, h.received()[1])

	bad, err := s.DeliverWithSignature(d.Body, "sha256="+hex.EncodeToString(make([]byte, 32)))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, bad.Status)
	none, err := s.DeliverWithSignature(d.Body, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, none.Status)
	require.Len(t, h.received(), 2)
	require.Len(t, s.Deliveries(), 4)

	_, err = s.Batch(messengertest.Event{})
	require.Error(t, err)
}

func TestWebhookAnswerIsReported(t *testing.T) {
	t.Parallel()
	s, h := newPair(t)
	h.mu.Lock()
	h.answer = http.StatusInternalServerError
	h.mu.Unlock()
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, d.Status)

	s.SetWebhook("")
	_, err = s.CustomerSays("Ann", "anyone?")
	require.Error(t, err)
	// The customer still wrote: the conversation has both lines.
	conv, _ := s.Conversation(d.PSID)
	require.Len(t, conv.Lines, 2)
}

func TestVerifyHandshake(t *testing.T) {
	t.Parallel()
	s, h := newPair(t)
	status, body := s.Verify(h.token, "1158201444")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "1158201444", body)
	status, _ = s.Verify("wrong", "1158201444")
	require.Equal(t, http.StatusForbidden, status)
}

func TestEchoesOfOwnSendsAndPageInbox(t *testing.T) {
	t.Parallel()
	s, h := newPair(t, messengertest.WithEchoes(true), messengertest.WithAppID("555000111222333"))
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	r := postJSON(t, s, textTo(d.PSID, "hello from the bot"))
	require.Equal(t, 200, r.Status)
	b := postJSON(t, s, buttonTemplate(d.PSID, "Pay?", []any{map[string]any{"type": "web_url", "url": "https://x.example/p", "title": "Pay"}}))
	require.Equal(t, 200, b.Status)
	require.NoError(t, s.WaitEchoes(t.Context()))

	got := h.received()
	require.Len(t, got, 3)
	echo := entries(t, got[1])[0]["messaging"].([]any)[0].(map[string]any)
	require.Equal(t, s.PageID(), echo["sender"].(map[string]any)["id"])
	require.Equal(t, d.PSID, echo["recipient"].(map[string]any)["id"])
	msg := echo["message"].(map[string]any)
	require.Equal(t, true, msg["is_echo"])
	require.Equal(t, float64(555000111222333), msg["app_id"], "app_id is a JSON number")
	require.Equal(t, r.MessageID, msg["mid"])
	require.Equal(t, "hello from the bot", msg["text"])
	require.Contains(t, string(got[1]), `"app_id":555000111222333`)
	att := entries(t, got[2])[0]["messaging"].([]any)[0].(map[string]any)["message"].(map[string]any)["attachments"].([]any)[0].(map[string]any)
	require.Equal(t, "template", att["type"])

	in, err := s.PageInboxSays(d.PSID, "Hi Ann, this is Linh from the shop")
	require.NoError(t, err)
	require.Equal(t, 200, in.Status)
	require.Contains(t, string(in.Body), `"is_echo":true,"app_id":`+messengertest.PageInboxAppID+`,`)
	conv, _ := s.Conversation(d.PSID)
	var from []string
	for _, l := range conv.Lines {
		from = append(from, l.From)
	}
	require.Equal(t, []string{"customer", "bot", "bot", "inbox"}, from)

	_, err = s.PageInboxSays(s.NewCustomer("Nobody").PSID, "hi")
	require.Error(t, err)
	echoes := 0
	for _, d := range s.Deliveries() {
		if d.Echo {
			echoes++
		}
	}
	require.Equal(t, 2, echoes)
}
