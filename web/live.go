package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// Live updates: the dashboard's pages (and the web chat) hold a server-sent event
// stream open and redraw the parts of the page that a committed change concerns
// (templates/assets/live.js). A change carries identifiers only; the page reads the
// state again through its own route, with its own checks.

const (
	// liveEventsPath is the dashboard's stream of its shop's changes.
	liveEventsPath = dashboardPath + "/events"
	// liveHeartbeat is how often an idle stream sends a comment. It keeps proxies and
	// load balancers, which close connections idle for 30 to 60 s, from closing the
	// stream, and lets the server notice a client that went away.
	liveHeartbeat = 25 * time.Second
	// liveWriteWait bounds each write to the stream: a client that stops reading
	// (gone without closing) ends the stream instead of holding it forever.
	liveWriteWait = 10 * time.Second
	// maxUserStreams is how many event streams one dashboard user may hold open at a
	// time on one process: one per open tab, with room for many tabs, but not a
	// flood of connections, each of which holds a goroutine and a subscription.
	maxUserStreams = 16
	// liveSessionIdleCheck is how often an open dashboard stream checks its session
	// again while nothing else makes it: a session revoked, signed out in another tab,
	// or expired ends its idle streams within this long.
	liveSessionIdleCheck = 30 * time.Second
	// liveSessionFresh is how long a check of the session vouches for it before an
	// event. Checking before every event would read the store once per change per
	// open tab, which a busy shop (many changes a second, many tabs) turns into a
	// flood of reads for nothing. The price is that a stream may pass on the change
	// identifiers of up to this long after its session ended. Those are identifiers
	// only: the page's redraw fetches them through the dashboard's own routes, which
	// check the session on every request and so refuse it.
	liveSessionFresh = 5 * time.Second
)

// liveRoutes registers its routes on r. Server-sent events for the dashboard and the web chat.
func (s *Server) liveRoutes(r *gin.RouterGroup) {
	if s.auth == nil {
		return // no dashboard, so no one to stream to
	}
	ds := &dashboardStreams{
		counts:    &streamCounts{max: maxUserStreams, open: map[string]int{}},
		idleCheck: liveSessionIdleCheck,
		fresh:     liveSessionFresh,
	}
	r.GET(liveEventsPath, s.requireUser, func(c *gin.Context) { s.dashboardEvents(c, ds) })
}

// dashboardStreams is what the dashboard's event streams share: the count of open
// streams per user and how often each checks its session again (see
// liveSessionIdleCheck and liveSessionFresh; tests shorten both).
type dashboardStreams struct {
	counts    *streamCounts
	idleCheck time.Duration
	fresh     time.Duration
}

// dashboardEvents streams every change of the signed-in user's shop, and no other
// shop's: the shop comes from the session, never from the request. A user past
// maxUserStreams open streams gets 429; live.js then backs off, and the page works
// without live updates.
//
// requireUser checked the session when the stream opened, but a stream lives for
// hours, and the session may end meanwhile: signed out in another tab, revoked, the
// user disabled, or expired. So the stream checks it again before the events it
// sends and while idle (see sessionGuard), and when the session no longer works,
// sends an "end" event and ends: live.js then stops rather than reconnecting, since
// a reconnect would only meet the sign-in page.
func (s *Server) dashboardEvents(c *gin.Context, ds *dashboardStreams) {
	u := dashboardUser(c)
	if !u.Can(auth.ActionViewOrders) {
		s.renderPage(c, http.StatusForbidden, "error", templates.PageView{Locale: "en"})
		return
	}
	key := u.ShopID + "/" + u.ID
	if !ds.counts.acquire(key) {
		c.Header("Retry-After", "30")
		s.renderPage(c, http.StatusTooManyRequests, "error", templates.PageView{Locale: "en",
			Message: "Too many live pages are open for this user. Close some tabs and reload."})
		return
	}
	defer ds.counts.release(key)
	token := s.sessionToken(c)
	guard := &sessionGuard{
		idleCheck: ds.idleCheck,
		fresh:     ds.fresh,
		checked:   time.Now(), // requireUser has just checked it
		check: func(ctx context.Context) error {
			// CheckSession, not SessionUser: the stream's own checks must not count
			// as use, or an open tab would keep its session from idling out.
			cur, err := s.auth.CheckSession(ctx, token)
			if err != nil {
				return err
			}
			// The same token names the same session, so the same user; but the
			// user's role may have changed since.
			if cur.ShopID != u.ShopID || cur.ID != u.ID || !cur.Can(auth.ActionViewOrders) {
				return auth.ErrNoSession
			}
			return nil
		},
	}
	s.stream(c, u.ShopID, nil, guard)
}

// sessionGuard keeps an event stream to the session it opened with.
type sessionGuard struct {
	// check returns nil while the session works, auth.ErrNoSession once it does
	// not, and any other error when it cannot tell (the store is unreachable).
	check func(ctx context.Context) error
	// idleCheck is how often the stream checks while idle, fresh how long a check
	// vouches for the session before an event.
	idleCheck time.Duration
	fresh     time.Duration
	// checked is when the session was last found to work; the stream's goroutine
	// alone reads and writes it.
	checked time.Time
}

// valid checks the session unless a check fresher than g.fresh vouches for it.
func (g *sessionGuard) valid(ctx context.Context) error {
	now := time.Now()
	if now.Sub(g.checked) < g.fresh {
		return nil
	}
	if err := g.check(ctx); err != nil {
		return err
	}
	g.checked = now
	return nil
}

// streamCounts counts the open event streams per key and refuses one past max.
type streamCounts struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

func (sc *streamCounts) acquire(key string) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.open[key] >= sc.max {
		return false
	}
	sc.open[key]++
	return true
}

func (sc *streamCounts) release(key string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.open[key]--; sc.open[key] <= 0 {
		delete(sc.open, key)
	}
}

// streamChanges answers c with a server-sent event stream of shopID's changes that
// keep accepts (all of them when keep is nil), one event per change:
//
//	event: change
//	data: {"kind":"order","shop":"demo","order":"…","conversation":"…"}
//
// and a comment line every liveHeartbeat while nothing happens. The stream ends when
// the client goes away, or when the hub ends the subscription (the server is shutting
// down); live.js then reconnects and redraws, since it may have missed changes. The
// caller has already authorised the request for shopID, and keep narrows it further:
// the web chat's stream, say, passes
//
//	func(ch orders.Change) bool { return ch.Conversation == conv.ID }
//
// so that a visitor hears only of their own conversation. keep runs on the
// streaming goroutine, once per change of the shop.
//
// Without a hub (Config.Live nil) it answers 204 No Content, which tells an
// EventSource not to reconnect: the page then works as it does without script.
//
// The stream outlives the http.Server's WriteTimeout, which is set for ordinary
// requests, by moving the write deadline forward before each write. Its ReadTimeout
// needs nothing: for a request without a body, net/http lifts the read deadline
// itself while it watches the connection for the client leaving.
func (s *Server) streamChanges(c *gin.Context, shopID string, keep func(orders.Change) bool) {
	s.stream(c, shopID, keep, nil)
}

// stream is streamChanges, and with a guard, also checks the session before each
// event it sends and every guard.idleCheck meanwhile. Once the session no longer
// works, it sends
//
//	event: end
//	data: {"reason":"session"}
//
// which tells live.js not to reconnect, and ends. When the check cannot tell (the
// store is unreachable), it ends without that event, sending nothing it could not
// vouch for: live.js reconnects, through requireUser, which checks again.
func (s *Server) stream(c *gin.Context, shopID string, keep func(orders.Change) bool, guard *sessionGuard) {
	if s.live == nil {
		c.Status(http.StatusNoContent)
		return
	}
	ctx := c.Request.Context()
	changes, stop := s.live.Subscribe(ctx, shopID)
	defer stop()

	rc := http.NewResponseController(c.Writer)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	// nginx buffers proxied answers by default, which would hold events back.
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)

	// write sends one block and flushes it; false means the client is gone.
	write := func(block string) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(liveWriteWait)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		if _, err := c.Writer.WriteString(block); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// The first bytes commit the headers, so the browser's EventSource opens now
	// rather than at the first change; retry is how long it waits before
	// reconnecting by itself after a network error.
	if !write(": live\nretry: 5000\n\n") {
		return
	}
	heartbeat := time.NewTicker(liveHeartbeat)
	defer heartbeat.Stop()
	// sessionWorks is false when the stream must end: its session ended (and the
	// client has been told) or could not be checked.
	sessionWorks := func() bool {
		err := guard.valid(ctx)
		switch {
		case err == nil:
			return true
		case errors.Is(err, auth.ErrNoSession):
			write("event: end\ndata: {\"reason\":\"session\"}\n\n")
		case ctx.Err() == nil:
			s.log.WarnContext(ctx, "live: check session", "err", err)
		}
		return false
	}
	var idleCheck <-chan time.Time // nil, so never ready, without a guard
	if guard != nil {
		t := time.NewTicker(guard.idleCheck)
		defer t.Stop()
		idleCheck = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ch, ok := <-changes:
			if !ok {
				return
			}
			if keep != nil && !keep(ch) {
				continue
			}
			if guard != nil && !sessionWorks() {
				return
			}
			data, err := json.Marshal(ch)
			if err != nil {
				s.log.ErrorContext(ctx, "live: encode change", "err", err)
				continue
			}
			if !write("event: change\ndata: " + string(data) + "\n\n") {
				return
			}
		case <-heartbeat.C:
			if !write(": ping\n\n") {
				return
			}
		case <-idleCheck:
			if !sessionWorks() {
				return
			}
		}
	}
}
