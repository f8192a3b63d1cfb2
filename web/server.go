// Package web is chatpay's HTTP surface for people and programs: the REST API shops
// integrate with, the pay pages customers open from the Pay now link, the sandbox
// gateway's checkout pages, and the operational endpoints (healthz, readyz, metrics).
// It turns HTTP into calls on orders.Service and maps orders.Error codes to statuses in
// exactly one place (errorStatus).
package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// Config configures a Server.
type Config struct {
	Service  *orders.Service
	Gateways *gateway.Registry
	// Sandbox serves the sandbox gateway's checkout pages; nil registers no sandbox
	// routes.
	Sandbox *sandbox.Engine
	Pages   *templates.Templates
	// APIKeys maps each API key to the shop it authenticates.
	APIKeys map[string]string
	// Auth signs dashboard users in; nil registers no dashboard routes.
	Auth *auth.Service
	// SecureCookies says the server is reached over HTTPS: the session cookie is then
	// Secure and named with the __Host- prefix.
	SecureCookies bool
	// Ready reports whether the process can serve traffic (the store is reachable);
	// nil means always ready.
	Ready func(ctx context.Context) error
	// Gatherer is served on /metrics and Registerer receives the HTTP metrics. When
	// both are nil, a private registry is used for both.
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Live streams committed changes to the dashboard and the web chat (server-sent
	// events); nil serves pages that the reader refreshes by hand.
	Live Subscriber
	// DemoShop is the embedded demo shop's ID when the default configuration is in
	// use; it turns on /demo and the one-time sign-in that leads there. Empty
	// otherwise: a real installation has no demo routes.
	DemoShop string
	// ChatLimiter counts the web chat's rate limits (messages per conversation, new
	// chats per client address). One shared through Redis (bot/ratelimit/redis) makes
	// them hold across every replica; nil counts them in this process
	// (bot/ratelimit/memory), which is the whole truth only when there is one.
	ChatLimiter bot.Limiter
}

// Subscriber hands out the changes of one shop as they are published, on any replica.
// The channel is closed when stop is called or ctx ends; a subscriber too slow to keep
// up loses changes rather than holding up the publisher, and redraws from the store.
type Subscriber interface {
	Subscribe(ctx context.Context, shopID string) (changes <-chan orders.Change, stop func())
}

// Server serves chatpay's HTTP routes. Create it with New and attach it to an engine
// with Register.
type Server struct {
	svc      *orders.Service
	gateways *gateway.Registry
	sandbox  *sandbox.Engine
	pages    *templates.Templates
	keys     []apiKey
	ready    func(ctx context.Context) error
	gatherer prometheus.Gatherer
	metrics  *httpMetrics
	log      *slog.Logger
	csrf     *http.CrossOriginProtection
	auth     *auth.Service
	live     Subscriber
	demoShop string
	// chatLimiter: see Config.ChatLimiter; webchatRoutes counts in this process when nil.
	chatLimiter bot.Limiter
	// secureCookies: see Config.SecureCookies.
	secureCookies bool
}

// apiKey is a configured API key, kept only as its SHA-256 so that lookups compare
// fixed-length values in constant time.
type apiKey struct {
	hash   [sha256.Size]byte
	shopID string
}

// New checks the configuration and returns a Server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Service == nil:
		return nil, errors.New("web: Config.Service is required")
	case cfg.Gateways == nil:
		return nil, errors.New("web: Config.Gateways is required")
	case cfg.Pages == nil:
		return nil, errors.New("web: Config.Pages is required")
	}
	s := &Server{
		svc:      cfg.Service,
		gateways: cfg.Gateways,
		sandbox:  cfg.Sandbox,
		pages:    cfg.Pages,
		ready:    cfg.Ready,
		gatherer: cfg.Gatherer,
		log:      cfg.Logger,
		csrf:     http.NewCrossOriginProtection(),
		auth:     cfg.Auth,
		live:     cfg.Live,
		demoShop: cfg.DemoShop,

		chatLimiter:   cfg.ChatLimiter,
		secureCookies: cfg.SecureCookies,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for key, shopID := range cfg.APIKeys {
		if key == "" {
			return nil, fmt.Errorf("web: shop %q has an empty API key", shopID)
		}
		if _, err := s.svc.Shop(shopID); err != nil {
			return nil, fmt.Errorf("web: an API key names shop %q, which is not configured", shopID)
		}
		s.keys = append(s.keys, apiKey{hash: sha256.Sum256([]byte(key)), shopID: shopID})
	}
	reg := cfg.Registerer
	if reg == nil && s.gatherer == nil {
		r := prometheus.NewRegistry()
		reg, s.gatherer = r, r
	} else if reg == nil {
		reg = prometheus.NewRegistry() // metrics are kept but not exposed: the caller's choice
	} else if s.gatherer == nil {
		s.gatherer = prometheus.DefaultGatherer
		if g, ok := reg.(prometheus.Gatherer); ok {
			s.gatherer = g
		}
	}
	var err error
	if s.metrics, err = newHTTPMetrics(reg); err != nil {
		return nil, err
	}
	return s, nil
}

// Register attaches every route to r, and takes over r's 404 and 405 answers: JSON
// under /api, an HTML page elsewhere. It turns on r.HandleMethodNotAllowed, so a wrong
// method on any route of r (the caller's too) answers 405 with an Allow header.
// Middleware the caller installed with r.Use (gin's recovery, say) still runs first.
func (s *Server) Register(r *gin.Engine) {
	r.HandleMethodNotAllowed = true
	common := []gin.HandlerFunc{s.observe, s.recover, s.secureHeaders, s.demoFraming}

	root := r.Group("/", common...)
	// Load balancers probe with GET or HEAD.
	root.GET("/healthz", s.healthz)
	root.HEAD("/healthz", s.healthz)
	root.GET("/readyz", s.readyz)
	root.HEAD("/readyz", s.readyz)
	root.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})))

	api := root.Group("/api/v1", s.authenticate)
	api.POST("/orders", s.createOrder)
	api.GET("/orders", s.listOrders)
	api.GET("/orders/:id", s.getOrder)
	api.DELETE("/orders/:id", s.deleteOrder)
	api.POST("/orders/:id/cancel", s.cancelOrder)
	api.POST("/orders/:id/complete", s.completeOrder)
	api.POST("/orders/:id/resend-link", s.resendLink)
	api.POST("/orders/:id/shipments", s.createShipment)
	api.POST("/orders/:id/refunds", s.createRefund)
	api.GET("/orders/:id/refunds", s.listRefunds)
	api.POST("/orders/:id/capture", s.capturePayment)
	api.GET("/orders/:id/messages", s.listMessages)
	api.GET("/notices", s.listNotices)
	api.GET("/disputes", s.listDisputes)
	api.GET("/disputes/:id", s.getDispute)
	s.registerDisputeAnswers(api)
	api.GET("/gateways", s.listGateways)
	api.GET("/reports/payments", s.paymentsReport)
	api.GET("/reports/payments.csv", s.paymentsReportCSV)

	root.GET("/pay/:token", s.payPage)
	root.POST("/pay/:token", s.sameOrigin, s.pay)
	root.GET("/pay/:token/status", s.payStatus)
	if s.sandbox != nil {
		root.GET("/sandbox/checkout/:session", s.sandboxCheckout)
		root.POST("/sandbox/checkout/:session", s.sameOrigin, s.sandboxComplete)
	}
	if s.auth != nil {
		root.GET(signInPath, s.signInPage)
		root.POST(signInPath, s.sameOrigin, s.signIn)
		root.POST(signOutPath, s.sameOrigin, s.requireUser, s.signOut)
		root.GET(dashboardPath, s.requireUser, s.dashboard)
		root.GET(dashboardPath+"/orders/:id", s.requireUser, s.dashboardOrder)
		root.POST(dashboardPath+"/orders/:id/resend", s.sameOrigin, s.requireUser, s.dashboardAction(auth.ActionCreateOrder, "resent", s.resendOrderLink))
		root.POST(dashboardPath+"/orders/:id/cancel", s.sameOrigin, s.requireUser, s.dashboardAction(auth.ActionCancelOrder, "cancelled", s.cancelDashboardOrder))
		root.POST(dashboardPath+"/orders/:id/ship", s.sameOrigin, s.requireUser, s.dashboardAction(auth.ActionShip, "shipped", s.shipDashboardOrder))
		root.POST(dashboardPath+"/orders/:id/refund", s.sameOrigin, s.requireUser, s.dashboardAction(auth.ActionRefund, "refunded", s.refundDashboardOrder))
		root.POST(dashboardPath+"/orders/:id/capture", s.sameOrigin, s.requireUser, s.dashboardAction(auth.ActionShip, "captured", s.captureDashboardOrder))
		s.inboxRoutes(root)
		s.settingsRoutes(root)
		s.reportRoutes(root)
		s.disputePageRoutes(root)
		s.demoRoutes(root)
	}
	s.liveRoutes(root)
	s.webchatRoutes(root)
	root.GET("/assets/:name", s.asset)

	r.NoRoute(append(common, s.noRoute)...)
	r.NoMethod(append(common, s.noMethod)...)
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			// The probe is public, so it names only the failing dependency; the log
			// has the detail (hosts, users) for whoever looks into it.
			s.log.Warn("not ready", "err", err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": readyReason(err)})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// isAPI reports whether a request is for the JSON API, which answers errors in JSON.
func isAPI(c *gin.Context) bool {
	p := c.Request.URL.Path
	return p == "/api" || strings.HasPrefix(p, "/api/")
}

func (s *Server) noRoute(c *gin.Context) {
	if isAPI(c) {
		s.apiError(c, orders.Errorf(orders.ENOTFOUND, "No such endpoint: %s %s.", c.Request.Method, routeLabel(c)), http.StatusBadRequest)
		return
	}
	s.renderPage(c, http.StatusNotFound, "not_found", templates.PageView{Locale: "en"})
}

func (s *Server) noMethod(c *gin.Context) {
	msg := fmt.Sprintf("Method %s is not allowed here; use %s.", c.Request.Method, c.Writer.Header().Get("Allow"))
	if isAPI(c) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorJSON{Code: orders.EINVALID, Message: msg}})
		return
	}
	s.renderPage(c, http.StatusMethodNotAllowed, "error", templates.PageView{Locale: "en", Message: msg})
}

// routeLabel is the route pattern that matched (gin's FullPath), never the raw path:
// raw paths carry pay tokens and session ids, which must stay out of logs and metrics.
func routeLabel(c *gin.Context) string {
	if p := c.FullPath(); p != "" {
		return p
	}
	return "unmatched"
}

// observe records every request's count and latency and writes one access log line.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	route, status := routeLabel(c), c.Writer.Status()
	m := s.metrics.child(route, status)
	m.requests.Inc()
	m.duration.Observe(elapsed.Seconds())
	if ctx := c.Request.Context(); s.log.Enabled(ctx, slog.LevelInfo) {
		s.log.LogAttrs(ctx, slog.LevelInfo, "http request",
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int("bytes", c.Writer.Size()),
			slog.Duration("duration", elapsed),
		)
	}
}

// recover turns a panic in a handler into an internal error answer, logged with its
// stack, so that one bad request never takes the process down.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.Error("panic serving request", "route", routeLabel(c), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		err := errors.New("panic")
		if isAPI(c) {
			s.apiError(c, err, http.StatusBadRequest)
		} else {
			s.pageError(c, err, nil)
		}
	}()
	c.Next()
}

// cspBase is the Content-Security-Policy of every answer: pages have no scripts at
// all, their styles are inline, and forms post only to this origin.
const cspBase = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// cspWithFormActions widens form-action to the given origins. Browsers apply
// form-action to the redirects that follow a form post too, so a pay page must allow
// the origins its gateways redirect the customer to.
func cspWithFormActions(origins []string) string {
	if len(origins) == 0 {
		return cspBase
	}
	return cspBase + " " + strings.Join(origins, " ")
}

// secureHeaderValues are the headers secureHeaders sets, built once with canonical
// keys. Each value slice is full to its capacity, so a handler that adds a value
// (Header.Add) gets a new slice and never writes into the shared one; handlers that
// change a header (payPage's CSP) replace the slice.
var secureHeaderValues = func() http.Header {
	h := http.Header{}
	h.Set("Content-Security-Policy", cspBase)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	for k, v := range h {
		h[k] = slices.Clip(v)
	}
	return h
}()

// secureHeaders sets the headers every answer carries. Pages that post to a gateway
// widen form-action (see payPage); everything else keeps the strict default.
func (s *Server) secureHeaders(c *gin.Context) {
	h := c.Writer.Header()
	for k, v := range secureHeaderValues {
		h[k] = v
	}
	c.Next()
}

// sameOrigin rejects cross-site form posts (CSRF) using the browser's Sec-Fetch-Site
// header, or Origin against Host for older browsers. Requests with neither come from
// non-browser clients and carry no ambient credentials worth forging. It then reads
// the form, bounded at maxFormBytes: these forms carry a few short fields, and the
// bound limits what an anonymous poster can make the server parse.
func (s *Server) sameOrigin(c *gin.Context) {
	if s.refuseCrossOrigin(c) || !s.readForm(c, maxFormBytes) {
		return
	}
	c.Next()
}

// sameOriginForm is sameOrigin for the forms that carry more than a few short fields
// (a reply in Thai, an order's lines, a shop's message texts): the same check, then
// the form read under limit.
func (s *Server) sameOriginForm(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.refuseCrossOrigin(c) || !s.readForm(c, limit) {
			return
		}
		c.Next()
	}
}

// sameOriginBody is sameOrigin for the forms a handler reads as it streams (an
// evidence document, multipart): the same check, with the body bounded at limit and
// left unread.
func (s *Server) sameOriginBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.refuseCrossOrigin(c) {
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// refuseCrossOrigin answers 403 to a cross-site post, before its body is read, and
// reports whether it did.
func (s *Server) refuseCrossOrigin(c *gin.Context) bool {
	if err := s.csrf.Check(c.Request); err != nil {
		s.renderPage(c, http.StatusForbidden, "error", templates.PageView{
			Locale:  "en",
			Message: "This form was submitted from another site and was refused. Open the page again and retry.",
		})
		c.Abort()
		return true
	}
	return false
}

// readForm parses the request's form with its body bounded at limit, and reports
// whether it could; when it could not, it has answered 413 (too large) or 400.
func (s *Server) readForm(c *gin.Context, limit int64) bool {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	if err := c.Request.ParseForm(); err != nil {
		status := http.StatusBadRequest
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		s.renderPage(c, status, "error", templates.PageView{Locale: "en", Message: "This form could not be read. Open the page again and retry."})
		c.Abort()
		return false
	}
	return true
}

// httpMetrics are the request metrics every route reports.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// children caches each (route, status)'s counter and histogram: finding them in
	// the vectors hashes the label values and formats the status on every request.
	// Routes are gin's patterns and statuses HTTP's, so the cache stays small.
	mu       sync.RWMutex
	children map[routeStatus]routeMetrics
}

type routeStatus struct {
	route  string
	status int
}

type routeMetrics struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// child returns the metrics of one route and status.
func (m *httpMetrics) child(route string, status int) routeMetrics {
	k := routeStatus{route, status}
	m.mu.RLock()
	rm, ok := m.children[k]
	m.mu.RUnlock()
	if ok {
		return rm
	}
	rm = routeMetrics{
		requests: m.requests.WithLabelValues(route, strconv.Itoa(status)),
		duration: m.duration.WithLabelValues(route),
	}
	m.mu.Lock()
	m.children[k] = rm
	m.mu.Unlock()
	return rm
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		children: map[routeStatus]routeMetrics{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatpay_http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chatpay_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	var err error
	if m.requests, err = registerOrReuse(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = registerOrReuse(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// registerOrReuse registers c, or returns the identical collector already registered,
// so that two Servers on one registry (tests, restarts in-process) share their metrics.
func registerOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("web: register metrics: %w", err)
	}
	return c, nil
}

// maxFormBytes bounds the pay and sandbox checkout forms.
const maxFormBytes = 4 << 10

// readyReason names the dependency a readiness error comes from, without its detail.
func readyReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ":"); i > 0 {
		return msg[:i]
	}
	return "not ready"
}
