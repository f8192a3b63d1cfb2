package messengertest_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger/messengertest"
)

// start is the fixed time the tests' clocks begin at.
var start = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func fixedClock() func() time.Time { return func() time.Time { return start } }

// hook is a stand-in for chatpay's webhook endpoint. It checks signatures
// with its own HMAC code, so the emulator's signing is tested against an
// independent implementation.
type hook struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	token  string // verify token for the GET handshake

	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	answer   int
	rejected int
}

func newHook(t *testing.T, secret string) *hook {
	h := &hook{t: t, secret: secret, token: "verify-me", answer: http.StatusOK}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		if q.Get("hub.mode") == "subscribe" && q.Get("hub.verify_token") == h.token {
			_, _ = io.WriteString(w, q.Get("hub.challenge"))
			return
		}
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	body, _ := io.ReadAll(r.Body)
	m := hmac.New(sha256.New, []byte(h.secret))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	h.mu.Lock()
	defer h.mu.Unlock()
	if !hmac.Equal([]byte(r.Header.Get("X-Hub-Signature-256")), []byte(want)) {
		h.rejected++
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	h.bodies = append(h.bodies, body)
	h.headers = append(h.headers, r.Header.Clone())
	w.WriteHeader(h.answer)
	_, _ = io.WriteString(w, "EVENT_RECEIVED")
}

func (h *hook) header(i int) http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.headers[i]
}

func (h *hook) received() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

// newPair starts an emulator on a fixed clock whose webhooks go to a hook.
func newPair(t *testing.T, opts ...messengertest.Option) (*messengertest.Server, *hook) {
	t.Helper()
	h := newHook(t, messengertest.DefaultAppSecret)
	opts = append([]messengertest.Option{messengertest.WithClock(fixedClock()), messengertest.WithWebhook(h.srv.URL + "/webhooks/messenger")}, opts...)
	return messengertest.New(t, opts...), h
}

// reply is a Send API answer.
type reply struct {
	Status      int
	Header      http.Header
	RecipientID string                  `json:"recipient_id"`
	MessageID   string                  `json:"message_id"`
	Error       *messengertest.APIError `json:"error"`
}

// postJSON sends body as JSON to the Page's Send API with the token in the
// query string, the way most clients do.
func postJSON(t *testing.T, s *messengertest.Server, body any) reply {
	t.Helper()
	q := url.Values{"access_token": {s.PageToken()}}
	return do(t, s.SendURL()+"?"+q.Encode(), "application/json", mustJSON(t, body), nil)
}

func do(t *testing.T, target, contentType string, body []byte, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{Status: resp.StatusCode, Header: resp.Header}
	require.NoError(t, json.Unmarshal(raw, &r), "body %s", raw)
	return r
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	if b, ok := v.(string); ok {
		return []byte(b)
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// textTo is a text message to psid.
func textTo(psid, text string) map[string]any {
	return map[string]any{
		"recipient":      map[string]any{"id": psid},
		"messaging_type": "RESPONSE",
		"message":        map[string]any{"text": text},
	}
}

// requireError checks a Graph API error answer.
func requireError(t *testing.T, r reply, status, code, subcode int, msgPart string) {
	t.Helper()
	require.Equal(t, status, r.Status)
	require.NotNil(t, r.Error, "want an error, got %+v", r)
	require.Equal(t, code, r.Error.Code, r.Error.Message)
	require.Equal(t, subcode, r.Error.Subcode, r.Error.Message)
	require.NotEmpty(t, r.Error.Type)
	require.NotEmpty(t, r.Error.FBTraceID)
	require.Contains(t, r.Error.Message, msgPart)
}

// decode parses a webhook body generically.
func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), "%s", body)
	return m
}

func entries(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range decode(t, body)["entry"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}
