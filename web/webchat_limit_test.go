package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	ratelimitredis "github.com/chatpay/chatpay/bot/ratelimit/redis"
	"github.com/chatpay/chatpay/internal/redistest"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// replica is another replica of b's chatpay: a Server of its own on b's service and
// store, counting the web chat's limits with limiter and logging to logs (nil: b's).
// Requests through the returned bundle reach only that Server.
func (b *bundle) replica(limiter bot.Limiter, logs *lockedBuffer) *bundle {
	b.t.Helper()
	pages, err := templates.New()
	require.NoError(b.t, err)
	r := *b
	if logs != nil {
		r.logs = logs
	}
	srv, err := New(Config{
		Service:     b.svc,
		Gateways:    b.gateways,
		Pages:       pages,
		Logger:      slog.New(slog.NewTextHandler(r.logs, nil)),
		ChatLimiter: limiter,
	})
	require.NoError(b.t, err)
	r.engine = gin.New()
	srv.Register(r.engine)
	return &r
}

// requireTooFast checks a refusal for sending too fast: 429 with a Retry-After of
// whole seconds within the window.
func requireTooFast(t *testing.T, rec *httptest.ResponseRecorder, window time.Duration) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", rec.Header().Get("Retry-After"))
	require.GreaterOrEqual(t, secs, 1)
	require.LessOrEqual(t, secs, int(window/time.Second))
}

// TestWebChatLimitsSharedBetweenReplicas: with one limiter in Redis, a visitor's
// messages and chats are counted once across replicas, not once per replica.
func TestWebChatLimitsSharedBetweenReplicas(t *testing.T) {
	t.Parallel()
	client := redistest.Client(t)
	b := setup(t)
	shared := ratelimitredis.New(client, redistest.Prefix(t, client, "chatpay-webchat"))
	replicas := []*bundle{b.replica(shared, nil), b.replica(shared, nil)}

	path := replicas[0].startChat("shop-b")
	for i := range chatSendLimit {
		rec := replicas[i%2].say(path, orders.NewLinkToken(), fmt.Sprintf("message %d", i))
		require.Equal(t, http.StatusSeeOther, rec.Code, "message %d on replica %d", i, i%2)
	}
	for i, r := range replicas {
		rec := r.say(path, orders.NewLinkToken(), "one too many")
		requireTooFast(t, rec, chatSendWindow)
		require.Contains(t, rec.Body.String(), "You are sending messages too quickly.", "replica %d", i)
		require.Contains(t, rec.Body.String(), ">one too many</textarea>", "the draft is kept")

		rec = r.say(path, orders.NewLinkToken(), "one too many", http.Header{"Accept": {"application/json"}})
		requireTooFast(t, rec, chatSendWindow)
		require.JSONEq(t, `{"error": {"code": "invalid", "reason": "too_fast"}}`, rec.Body.String())
	}
	require.Len(t, b.transcript(t, b.chatConversation(path)), chatSendLimit)
	rec := replicas[1].say(replicas[1].startChat("shop-b"), orders.NewLinkToken(), "another visitor is not held back")
	require.Equal(t, http.StatusSeeOther, rec.Code)

	// New chats from one address likewise: two have been started above.
	for i := 2; i < chatStartLimit; i++ {
		replicas[i%2].startChat("shop-b")
	}
	for _, r := range replicas {
		rec := r.form("/chat/shop-b/new", nil)
		requireTooFast(t, rec, chatStartWindow)
	}
}

// failingLimiter fails every reservation, as the Redis limiter does while Redis is
// down.
type failingLimiter struct{ calls atomic.Int32 }

func (f *failingLimiter) Reserve(context.Context, ...bot.Limit) (time.Duration, error) {
	f.calls.Add(1)
	return 0, errors.New("ratelimit/redis: reserve: dial tcp 127.0.0.1:6379: connect: connection refused")
}

// TestWebChatLimiterDownFailsOpen: while the shared limiter fails, a visitor still
// starts a chat and writes, a warning says why the limits are per process, and this
// process's own count still stops a flood.
func TestWebChatLimiterDownFailsOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	down := &failingLimiter{}
	logs := &lockedBuffer{}
	r := b.replica(down, logs)

	path := r.startChat("shop-b")
	rec := r.say(path, orders.NewLinkToken(), "is anyone there?")
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	ms := b.transcript(t, b.chatConversation(path))
	require.Len(t, ms, 1)
	require.Equal(t, "is anyone there?", ms[0].Text)
	require.Equal(t, int32(2), down.calls.Load(), "the start and the message asked the limiter")
	require.Contains(t, logs.String(), `level=WARN msg="web chat rate limiter failed; counting in this process only" limit=start`)
	require.Contains(t, logs.String(), `level=WARN msg="web chat rate limiter failed; counting in this process only" limit=send`)
	require.Contains(t, logs.String(), "connection refused")

	for i := 1; i < chatSendLimit; i++ {
		rec := r.say(path, orders.NewLinkToken(), fmt.Sprintf("message %d", i))
		require.Equal(t, http.StatusSeeOther, rec.Code, "message %d", i)
	}
	rec = r.say(path, orders.NewLinkToken(), "one too many")
	requireTooFast(t, rec, chatSendWindow)
	require.Len(t, b.transcript(t, b.chatConversation(path)), chatSendLimit)
}

func TestChatLimitKey(t *testing.T) {
	t.Parallel()
	require.Equal(t, "webchat:send:0190b6c2-5f3a-7c1e-9d2b-4a6f8e1c3b5d", chatLimitKey("send", "0190b6c2-5f3a-7c1e-9d2b-4a6f8e1c3b5d"))
	require.Equal(t, "webchat:start:2001:db8::1", chatLimitKey("start", "2001:db8::1"))
	require.NotEqual(t, chatLimitKey("send", "x"), chatLimitKey("start", "x"))

	// A long id is hashed, which keeps the key valid and apart from every short id's.
	long := strings.Repeat("a", 10*maxChatKeyID)
	key := chatLimitKey("start", long)
	require.NoError(t, bot.ValidateLimits([]bot.Limit{{Key: key, Events: 1, Per: time.Second}}))
	require.True(t, strings.HasPrefix(key, "webchat:start#sha256:"), key)
	require.NotEqual(t, key, chatLimitKey("start", long+"b"))
	require.Equal(t, "webchat:start:"+strings.Repeat("a", maxChatKeyID), chatLimitKey("start", strings.Repeat("a", maxChatKeyID)))
}
