package web

import (
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
)

// liveRoutes registers its routes on r. Server-sent events for the dashboard and the web chat.
func (s *Server) liveRoutes(r *gin.RouterGroup) {
	if s.auth == nil {
		return // no dashboard, so no one to stream to
	}
	streams := &streamCounts{max: maxUserStreams, open: map[string]int{}}
	r.GET(liveEventsPath, s.requireUser, func(c *gin.Context) { s.dashboardEvents(c, streams) })
}

// dashboardEvents streams every change of the signed-in user's shop, and no other
// shop's: the shop comes from the session, never from the request. A user past
// maxUserStreams open streams gets 429; live.js then backs off, and the page works
// without live updates.
func (s *Server) dashboardEvents(c *gin.Context, streams *streamCounts) {
	u := dashboardUser(c)
	if !u.Can(auth.ActionViewOrders) {
		s.renderPage(c, http.StatusForbidden, "error", templates.PageView{Locale: "en"})
		return
	}
	key := u.ShopID + "/" + u.ID
	if !streams.acquire(key) {
		c.Header("Retry-After", "30")
		s.renderPage(c, http.StatusTooManyRequests, "error", templates.PageView{Locale: "en",
			Message: "Too many live pages are open for this user. Close some tabs and reload."})
		return
	}
	defer streams.release(key)
	s.streamChanges(c, u.ShopID, nil)
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
		}
	}
}
