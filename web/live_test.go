package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
	"github.com/chatpay/chatpay/web/live"
)

// liveSite is a dashboard with live updates on a real HTTP server whose read and
// write timeouts are far shorter than a stream lives, as production's are.
type liveSite struct {
	t      *testing.T
	svc    *orders.Service
	hub    *live.Hub
	url    string
	client *http.Client
	// owner is the session cookie of shop-a's owner.
	owner *http.Cookie
	auth  *auth.Service
	// clock is the auth service's: sessions expire as the test moves it.
	clock *authtest.Clock
}

// Test routes serving the dashboard's stream (requireUser and dashboardEvents) with
// the session checks' intervals shortened. Both check before every event (no
// freshness window), so that what a test does to the session shows on the next
// change; liveEachEvent never checks while idle, liveIdleCheck does so constantly.
const (
	liveEachEvent = "/test/dashboard/events/each-event"
	liveIdleCheck = "/test/dashboard/events/idle"
)

// liveTimeout is the test server's ReadTimeout and WriteTimeout.
const liveTimeout = 300 * time.Millisecond

func setupLive(t *testing.T, withHub bool) *liveSite {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	require.NoError(t, store.Migrate(ctx))
	pages, err := templates.New()
	require.NoError(t, err)
	ls := &liveSite{t: t, hub: live.NewHub(live.Options{})}
	t.Cleanup(func() { require.NoError(t, ls.hub.Close(context.Background())) })
	ls.svc, err = orders.NewService(orders.Config{
		Shops: []*orders.Shop{
			{ID: "shop-a", Name: "Shop A", Currency: "VND", Locale: "en"},
			{ID: "shop-b", Name: "Shop B", Currency: "THB", Locale: "en"},
		},
		Store: store, Renderer: testRenderer{pages}, PublicURL: "https://pay.example",
		LinkKey: bytes.Repeat([]byte{7}, orders.LinkKeyLen),
		Changes: ls.hub,
	})
	require.NoError(t, err)
	authSvc, clock := authtest.NewService(t, store)
	ls.auth, ls.clock = authSvc, clock
	_, err = authSvc.AddUser(ctx, "shop-a", "owner@example.com", auth.RoleOwner, authtest.Password)
	require.NoError(t, err)
	cfg := Config{Service: ls.svc, Gateways: gateway.NewRegistry(), Pages: pages, Auth: authSvc}
	if withHub {
		cfg.Live = ls.hub
	}
	srv, err := New(cfg)
	require.NoError(t, err)
	engine := gin.New()
	srv.Register(engine)
	// A route of the test's own, the way the web chat uses streamChanges: one
	// conversation of shop-a.
	engine.GET("/test/conversation/:id/events", func(c *gin.Context) {
		id := c.Param("id")
		srv.streamChanges(c, "shop-a", func(ch orders.Change) bool { return ch.Conversation == id })
	})
	testStreams := func(idleCheck time.Duration) gin.HandlerFunc {
		ds := &dashboardStreams{
			counts:    &streamCounts{max: maxUserStreams, open: map[string]int{}},
			idleCheck: idleCheck,
		}
		return func(c *gin.Context) { srv.dashboardEvents(c, ds) }
	}
	engine.GET(liveEachEvent, srv.requireUser, testStreams(time.Hour))
	engine.GET(liveIdleCheck, srv.requireUser, testStreams(10*time.Millisecond))
	hs := httptest.NewUnstartedServer(engine)
	hs.Config.ReadTimeout, hs.Config.WriteTimeout = liveTimeout, liveTimeout
	hs.Start()
	t.Cleanup(hs.Close)
	ls.url = hs.URL
	ls.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	form := url.Values{"shop": {"shop-a"}, "email": {"owner@example.com"}, "password": {authtest.Password}}
	req, err := http.NewRequest(http.MethodPost, ls.url+signInPath, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := ls.client.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			ls.owner = c
		}
	}
	require.NotNil(t, ls.owner, "signed in")
	return ls
}

// open requests path with the cookie (none when nil); the caller closes the body.
func (ls *liveSite) open(path string, cookie *http.Cookie) *http.Response {
	ls.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ls.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ls.url+path, nil)
	require.NoError(ls.t, err)
	req.Header.Set("Accept", "text/event-stream")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, err := ls.client.Do(req)
	require.NoError(ls.t, err)
	ls.t.Cleanup(func() { res.Body.Close() })
	return res
}

// sseEvent is one event of a stream; end is set when the stream ended instead.
type sseEvent struct {
	name   string
	change orders.Change
	end    bool
}

// events reads the stream's events as they come, skipping comments.
func events(t *testing.T, res *http.Response) <-chan sseEvent {
	out := make(chan sseEvent, 16)
	go func() {
		defer close(out)
		rd := bufio.NewReader(res.Body)
		var ev sseEvent
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				out <- sseEvent{end: true}
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if ev.name != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.change); err != nil {
					t.Errorf("data %q: %v", line, err)
				}
			}
		}
	}()
	return out
}

func nextEvent(t *testing.T, evs <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev := <-evs:
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no event arrived")
		return sseEvent{}
	}
}

func (ls *liveSite) createOrder(shop, visitor string) *orders.Order {
	ls.t.Helper()
	o, err := ls.svc.CreateOrder(context.Background(), shop, orders.CreateOrderInput{
		Customer:      orders.Customer{Channel: orders.ChannelWebchat, ExternalID: visitor, Name: "Lan"},
		Items:         []orders.Item{{Name: "Tea", Quantity: 1, UnitPrice: 150000}},
		PaymentMethod: orders.MethodCOD,
	})
	require.NoError(ls.t, err)
	return o
}

func TestLiveEventsRequireSession(t *testing.T) {
	t.Parallel()
	ls := setupLive(t, true)
	for _, cookie := range []*http.Cookie{nil, {Name: sessionCookie, Value: "not-a-session"}} {
		res := ls.open(liveEventsPath, cookie)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, signInPath, res.Header.Get("Location"))
		require.NotEqual(t, "text/event-stream", res.Header.Get("Content-Type"))
	}
}

// TestLiveEventsOwnShopOnly: the signed-in owner of shop-a hears of shop-a's orders
// and never of shop-b's, on a stream that outlives the server's read and write
// timeouts.
func TestLiveEventsOwnShopOnly(t *testing.T) {
	t.Parallel()
	ls := setupLive(t, true)
	res := ls.open(liveEventsPath, ls.owner)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	require.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
	require.Equal(t, "no", res.Header.Get("X-Accel-Buffering"))
	evs := events(t, res)

	// Longer than the server's ReadTimeout and WriteTimeout: the stream must
	// survive both.
	time.Sleep(3 * liveTimeout)

	other := ls.createOrder("shop-b", "visitor-b")
	mine := ls.createOrder("shop-a", "visitor-a")
	ev := nextEvent(t, evs)
	require.Equal(t, "change", ev.name)
	require.Equal(t, orders.Change{Kind: orders.ChangeOrder, Shop: "shop-a", Order: mine.ID, Conversation: mine.ConversationID}, ev.change,
		"shop-b's order %s, created first, never arrives", other.ID)

	// When the server shuts down, the hub ends its subscriptions and the stream ends.
	ls.hub.CloseSubscriptions()
	for ev := range evs {
		if ev.end {
			return
		}
		require.Equal(t, "shop-a", ev.change.Shop)
	}
	t.Fatal("the stream did not end")
}

// TestLiveStreamKeep: streamChanges passes on only what keep accepts, here one
// conversation's changes, as the web chat's stream does.
func TestLiveStreamKeep(t *testing.T) {
	t.Parallel()
	ls := setupLive(t, true)
	mine := ls.createOrder("shop-a", "visitor-1")
	res := ls.open("/test/conversation/"+mine.ConversationID+"/events", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	evs := events(t, res)

	ls.createOrder("shop-a", "visitor-2") // another conversation of the same shop
	_, err := ls.svc.CancelOrder(context.Background(), "shop-a", mine.ID)
	require.NoError(t, err)
	ev := nextEvent(t, evs)
	require.Equal(t, mine.ID, ev.change.Order)
	require.Equal(t, mine.ConversationID, ev.change.Conversation)
}

func TestLiveEventsWithoutHub(t *testing.T) {
	t.Parallel()
	ls := setupLive(t, false)
	res := ls.open(liveEventsPath, ls.owner)
	require.Equal(t, http.StatusNoContent, res.StatusCode, "an EventSource stops on 204; the page works without it")
}

// TestLiveEventsPerUserCap: one user cannot hold an unbounded number of streams open
// (each holds a goroutine and a subscription); the one past the cap gets 429, and a
// stream closed frees its place.
func TestLiveEventsPerUserCap(t *testing.T) {
	t.Parallel()
	ls := setupLive(t, true)
	var open []*http.Response
	for range maxUserStreams {
		res := ls.open(liveEventsPath, ls.owner)
		require.Equal(t, http.StatusOK, res.StatusCode)
		open = append(open, res)
	}
	res := ls.open(liveEventsPath, ls.owner)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	res.Body.Close()

	open[0].Body.Close()
	require.Eventually(t, func() bool {
		res := ls.open(liveEventsPath, ls.owner)
		defer res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 5*time.Second, 20*time.Millisecond, "a closed stream frees its place")
}

// requireSessionEnd reads the stream to its end, which must come, after an "end"
// event and with no change in between.
func requireSessionEnd(t *testing.T, evs <-chan sseEvent) {
	t.Helper()
	ev := nextEvent(t, evs)
	require.Equal(t, "end", ev.name, "the stream tells the page its session ended, and no change: %+v", ev)
	require.True(t, nextEvent(t, evs).end, "then it ends")
}

// TestLiveEventsEndAtSignOut: signing out (in another tab, with the same session)
// ends the open stream, which passes on no change made afterwards.
func TestLiveEventsEndAtSignOut(t *testing.T) {
	t.Parallel()
	ls := setupLive(t, true)
	res := ls.open(liveEachEvent, ls.owner)
	require.Equal(t, http.StatusOK, res.StatusCode)
	evs := events(t, res)

	// While the session works, changes arrive, each checked.
	before := ls.createOrder("shop-a", "visitor-1")
	ev := nextEvent(t, evs)
	require.Equal(t, "change", ev.name)
	require.Equal(t, before.ID, ev.change.Order)

	req, err := http.NewRequest(http.MethodPost, ls.url+signOutPath, nil)
	require.NoError(t, err)
	req.Header.Set("Origin", ls.url)
	req.AddCookie(ls.owner)
	out, err := ls.client.Do(req)
	require.NoError(t, err)
	out.Body.Close()
	require.Equal(t, http.StatusSeeOther, out.StatusCode)
	require.Equal(t, signInURL("shop-a"), out.Header.Get("Location"))

	after := ls.createOrder("shop-a", "visitor-2")
	ev = nextEvent(t, evs)
	require.NotEqual(t, after.ID, ev.change.Order, "a change made after sign-out reached the stream")
	require.Equal(t, "end", ev.name)
	require.True(t, nextEvent(t, evs).end, "the stream ends")

	// Reconnecting meets the sign-in page, as before.
	again := ls.open(liveEventsPath, ls.owner)
	require.Equal(t, http.StatusSeeOther, again.StatusCode)
}

// TestLiveEventsRevokedWhileIdle: a session revoked elsewhere ends a stream on which
// nothing happens, at the stream's next idle check.
func TestLiveEventsRevokedWhileIdle(t *testing.T) {
	t.Parallel()
	ls := setupLive(t, true)
	res := ls.open(liveIdleCheck, ls.owner)
	require.Equal(t, http.StatusOK, res.StatusCode)
	evs := events(t, res)

	require.NoError(t, ls.auth.EndSession(context.Background(), ls.owner.Value))
	requireSessionEnd(t, evs)
}

// TestLiveEventsIdleTimeout: the stream's own checks do not count as use of the
// session, so a tab left open does not keep its session from idling out (the test
// service's idle timeout is 1 h).
func TestLiveEventsIdleTimeout(t *testing.T) {
	t.Parallel()
	ls := setupLive(t, true)
	res := ls.open(liveIdleCheck, ls.owner)
	require.Equal(t, http.StatusOK, res.StatusCode)
	evs := events(t, res)

	// 59 minutes on, the session works: the change, checked before it is sent,
	// arrives. Had that check counted as use, the session would be good for another
	// hour from here.
	ls.clock.Advance(59 * time.Minute)
	o := ls.createOrder("shop-a", "visitor-1")
	ev := nextEvent(t, evs)
	require.Equal(t, "change", ev.name)
	require.Equal(t, o.ID, ev.change.Order)

	ls.clock.Advance(2 * time.Minute) // 61 minutes unused
	requireSessionEnd(t, evs)
}

// TestSessionGuardFresh: a check vouches for the session for fresh, so a burst of
// events costs one store read, not one each.
func TestSessionGuardFresh(t *testing.T) {
	t.Parallel()
	checks := 0
	g := &sessionGuard{
		fresh: time.Hour,
		check: func(context.Context) error { checks++; return nil },
	}
	for range 100 {
		require.NoError(t, g.valid(context.Background()))
	}
	require.Equal(t, 1, checks, "the first call checks (checked is long ago), the rest rely on it")

	g.checked = time.Now().Add(-2 * time.Hour)
	g.check = func(context.Context) error { checks++; return auth.ErrNoSession }
	require.ErrorIs(t, g.valid(context.Background()), auth.ErrNoSession)
	require.ErrorIs(t, g.valid(context.Background()), auth.ErrNoSession, "a failed check vouches for nothing")
	require.Equal(t, 3, checks)
}
