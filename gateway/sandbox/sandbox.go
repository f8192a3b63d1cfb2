// Package sandbox is chatpay's built-in payment gateway for development and tests. It
// runs in-process but behaves like a remote gateway: it keeps checkout sessions, shows a
// checkout page (package web renders it from Checkout), and reports outcomes only through
// signed webhooks delivered over real HTTP, retried with backoff until acknowledged.
// Nothing it does marks an order paid directly, so the webhook path it exercises is the
// same one Stripe or Opn Payments take.
package sandbox

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// Name is the sandbox gateway's name in URLs and configuration.
const Name = "sandbox"

// Options configures an Engine. Zero values take the documented defaults.
type Options struct {
	// PublicURL is chatpay's public base URL; checkout pages live under it.
	PublicURL string
	// WebhookURL returns where to deliver a shop's webhooks; by default
	// PublicURL+"/webhooks/sandbox/"+shopID.
	WebhookURL func(shopID string) string
	// Client delivers webhooks; by default a client with a 10 s timeout.
	Client *http.Client
	// RetryBase and RetryMax bound the exponential backoff between delivery attempts
	// (defaults 200ms and 30s). Deliveries are retried until a 2xx or Close.
	RetryBase, RetryMax time.Duration
	// PendingDelay is how long a "pending" checkout stays pending before it settles to
	// success (default 3s).
	PendingDelay time.Duration
	// Now is the clock for event and signature timestamps; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Outcome is what the customer chose on the sandbox checkout page.
type Outcome string

const (
	OutcomeSuccess Outcome = "success"
	OutcomeDecline Outcome = "decline"
	// OutcomePending reports the payment as pending, then settles it to success after
	// Options.PendingDelay, like a bank transfer confirmed later.
	OutcomePending Outcome = "pending"
)

// Delivery selects how the webhooks of a completion are delivered, to exercise the
// receiver against what real gateways do.
type Delivery string

const (
	DeliverNormal Delivery = "normal"
	// DeliverTwice delivers every event twice with the same event id (at-least-once).
	DeliverTwice Delivery = "twice"
	// DeliverReversed delivers the events of a completion in reverse order; for a pending
	// outcome the success arrives before the pending notice.
	DeliverReversed Delivery = "reversed"
	// DeliverNone sends no webhook at all; only reconciliation (SessionStatus) can learn
	// the outcome.
	DeliverNone Delivery = "none"
)

// Session statuses as Checkout reports them. They equal the gateway.SessionStatus
// values: gateway.StatusOpen, orders.EventPending, EventSucceeded and EventFailed.
const (
	StatusOpen      = gateway.StatusOpen
	StatusPending   = orders.EventPending
	StatusSucceeded = orders.EventSucceeded
	StatusFailed    = orders.EventFailed
)

// declineReason is the failure reason of a declined checkout.
const declineReason = "card_declined"

// CheckoutView is what the sandbox checkout page shows.
type CheckoutView struct {
	SessionID string
	ShopID    string
	Amount    int64
	Currency  string
	Status    string
	ReturnURL string
}

// Engine is the sandbox gateway shared by every shop. Gateway returns a shop's view of
// it; sessions remember the secret of the shop that created them so that deliveries are
// signed for that shop.
type Engine struct {
	opts   Options
	ctx    context.Context // cancelled by Close; stops retries and pending settlements
	cancel context.CancelFunc

	mu       sync.Mutex
	sessions map[string]*session
	refunds  map[refundKey]*refund
	closed   bool
	inflight int
	idle     chan struct{} // closed and replaced whenever inflight drops
}

type session struct {
	id, shopID, secret   string
	orderID, attemptID   string
	amount               int64
	currency, returnURL  string
	status               string
	paymentRef, reason   string
	refunded             int64
	createdAt, updatedAt time.Time
}

type refundKey struct{ shopID, key string }

type refund struct {
	id         string
	paymentRef string
	amount     int64
}

// New returns an engine. Call Close to stop its deliveries.
func New(opts Options) *Engine {
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.WebhookURL == nil {
		base := opts.PublicURL
		opts.WebhookURL = func(shopID string) string {
			return base + "/webhooks/" + Name + "/" + url.PathEscape(shopID)
		}
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 200 * time.Millisecond
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 30 * time.Second
	}
	if opts.RetryMax < opts.RetryBase {
		opts.RetryMax = opts.RetryBase
	}
	if opts.PendingDelay <= 0 {
		opts.PendingDelay = 3 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		opts:     opts,
		ctx:      ctx,
		cancel:   cancel,
		sessions: map[string]*session{},
		refunds:  map[refundKey]*refund{},
		idle:     make(chan struct{}),
	}
}

// Gateway returns the sandbox as one shop's gateway, signing its webhooks with secret.
func (e *Engine) Gateway(shopID, webhookSecret string) gateway.Gateway {
	return &shopGateway{e: e, shopID: shopID, secret: webhookSecret}
}

// Checkout returns what the checkout page shows for a session.
func (e *Engine) Checkout(sessionID string) (*CheckoutView, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.sessions[sessionID]
	if !ok {
		return nil, orders.Errorf(orders.ENOTFOUND, "Sandbox checkout session %q not found.", sessionID)
	}
	return &CheckoutView{
		SessionID: s.id,
		ShopID:    s.shopID,
		Amount:    s.amount,
		Currency:  s.currency,
		Status:    s.status,
		ReturnURL: s.returnURL,
	}, nil
}

// Complete finishes a checkout with the customer's chosen outcome and starts delivering
// its webhooks in the background as d says. It returns where to send the customer.
// A session completes once; a second completion is a conflict.
func (e *Engine) Complete(ctx context.Context, sessionID string, o Outcome, d Delivery) (returnURL string, err error) {
	switch o {
	case OutcomeSuccess, OutcomeDecline, OutcomePending:
	default:
		return "", orders.Invalidf("outcome", "must be %q, %q or %q, not %q", OutcomeSuccess, OutcomeDecline, OutcomePending, o)
	}
	switch d {
	case "":
		d = DeliverNormal
	case DeliverNormal, DeliverTwice, DeliverReversed, DeliverNone:
	default:
		return "", orders.Invalidf("deliver", "must be %q, %q, %q or %q, not %q", DeliverNormal, DeliverTwice, DeliverReversed, DeliverNone, d)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return "", orders.Errorf(orders.EINTERNAL, "The sandbox gateway is shut down.")
	}
	s, ok := e.sessions[sessionID]
	if !ok {
		return "", orders.Errorf(orders.ENOTFOUND, "Sandbox checkout session %q not found.", sessionID)
	}
	if s.status != StatusOpen {
		return "", orders.Errorf(orders.ECONFLICT, "This checkout is already %s.", s.status)
	}
	now := e.opts.Now()
	s.updatedAt = now
	switch o {
	case OutcomeSuccess:
		s.status, s.paymentRef = StatusSucceeded, newID("pi_sbx_")
		e.startDelivery(s, []*Event{s.event(TypeSucceeded, now)}, d, nil)
	case OutcomeDecline:
		s.status, s.reason = StatusFailed, declineReason
		e.startDelivery(s, []*Event{s.event(TypeFailed, now)}, d, nil)
	case OutcomePending:
		s.status = StatusPending
		pending := s.event(TypePending, now)
		var sent <-chan struct{}
		if d != DeliverReversed {
			sent = e.startDelivery(s, []*Event{pending}, d, nil)
		}
		e.inflight++
		go e.settle(s, pending, d, sent)
	}
	return s.returnURL, nil
}

// event builds an event about the session's current state. Called with e.mu held.
func (s *session) event(typ string, now time.Time) *Event {
	amount := s.amount
	return &Event{
		ID:      newID("evt_sbx_"),
		Type:    typ,
		Created: now.Unix(),
		Data: EventData{
			SessionID: s.id,
			Amount:    &amount,
			Currency:  s.currency,
			PaymentID: s.paymentRef,
			Reason:    s.reason,
		},
	}
}

// settle waits PendingDelay and settles a pending session to success. The success is
// delivered after the pending event (sent closes when that delivery ends), so normal
// delivery arrives in order; with reversed delivery the pending event was held back and
// now follows the success. It runs with one inflight slot taken by Complete.
func (e *Engine) settle(s *session, pending *Event, d Delivery, sent <-chan struct{}) {
	defer e.done()
	t := time.NewTimer(e.opts.PendingDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-e.ctx.Done():
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.status != StatusPending {
		return
	}
	now := e.opts.Now()
	s.status, s.paymentRef, s.updatedAt = StatusSucceeded, newID("pi_sbx_"), now
	events := []*Event{s.event(TypeSucceeded, now)}
	if d == DeliverReversed {
		events = append(events, pending)
	}
	e.startDelivery(s, events, d, sent)
}

// startDelivery delivers events in order in one background goroutine: each is retried
// until acknowledged before the next is sent, so the receiver sees exactly the order d
// asks for. If after is not nil the goroutine first waits for it to close (an earlier
// delivery of the same checkout). The returned channel closes when this delivery ends.
// Called with e.mu held.
func (e *Engine) startDelivery(s *session, events []*Event, d Delivery, after <-chan struct{}) <-chan struct{} {
	finished := make(chan struct{})
	if d == DeliverNone || len(events) == 0 {
		close(finished)
		return finished
	}
	times := 1
	if d == DeliverTwice {
		times = 2
	}
	url, shopID, secret := e.opts.WebhookURL(s.shopID), s.shopID, s.secret
	e.inflight++
	go func() {
		defer e.done()
		defer close(finished)
		if after != nil {
			<-after
		}
		for _, ev := range events {
			body, err := jsonMarshal(ev)
			if err != nil {
				e.opts.Logger.Error("sandbox: encode webhook", "event_id", ev.ID, "err", err)
				return
			}
			for range times {
				if !e.deliver(url, shopID, secret, ev, body) {
					return // closed
				}
			}
		}
	}()
	return finished
}

// deliver POSTs one event until the receiver answers 2xx. Each try is signed afresh, so
// a delivery retried for longer than the tolerance still verifies. It reports false if
// the engine was closed first.
func (e *Engine) deliver(url, shopID, secret string, ev *Event, body []byte) bool {
	log := e.opts.Logger.With("shop_id", shopID, "event_id", ev.ID, "type", ev.Type, "url", url)
	for try := 0; ; try++ {
		status, err := e.post(url, secret, body)
		if err == nil && status >= 200 && status < 300 {
			log.Debug("sandbox: webhook delivered", "tries", try+1)
			return true
		}
		if e.ctx.Err() != nil {
			return false
		}
		wait := backoff(e.opts.RetryBase, e.opts.RetryMax, try)
		log.Warn("sandbox: webhook delivery failed; retrying", "status", status, "err", err, "try", try+1, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-e.ctx.Done():
			t.Stop()
			return false
		}
	}
}

func (e *Engine) post(url, secret string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "chatpay-sandbox/1")
	req.Header.Set(SignatureHeader, Sign(secret, body, e.opts.Now()))
	resp, err := e.opts.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; receivers answer small bodies.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// done releases an inflight slot and wakes Wait.
func (e *Engine) done() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inflight--
	close(e.idle)
	e.idle = make(chan struct{})
}

// Wait blocks until no delivery or pending settlement is in flight, or ctx ends. Tests
// use it instead of sleeping.
func (e *Engine) Wait(ctx context.Context) error {
	for {
		e.mu.Lock()
		n, idle := e.inflight, e.idle
		e.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops retries and pending settlements and waits for their goroutines to end.
// Webhooks not yet acknowledged are dropped, as when a real gateway gives up.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	return e.Wait(context.Background())
}

// shopGateway is the sandbox seen by one shop.
type shopGateway struct {
	e      *Engine
	shopID string
	secret string
}

func (g *shopGateway) Name() string { return Name }

// CreateSession starts a sandbox checkout for one attempt.
func (g *shopGateway) CreateSession(ctx context.Context, req gateway.SessionRequest) (*gateway.Session, error) {
	if req.ShopID != "" && req.ShopID != g.shopID {
		return nil, orders.Invalidf("shop_id", "session for shop %q requested from shop %q's gateway", req.ShopID, g.shopID)
	}
	if req.Amount <= 0 || req.Amount > orders.MaxAmount {
		return nil, orders.Invalidf("amount", "must be between 1 and %d minor units, got %d", orders.MaxAmount, req.Amount)
	}
	cur, ok := orders.LookupCurrency(req.Currency)
	if !ok {
		return nil, orders.Invalidf("currency", "unknown currency %q", req.Currency)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := g.e.opts.Now()
	s := &session{
		id:        newID("cs_sbx_"),
		shopID:    g.shopID,
		secret:    g.secret,
		orderID:   req.OrderID,
		attemptID: req.AttemptID,
		amount:    req.Amount,
		currency:  cur.Code,
		returnURL: req.ReturnURL,
		status:    StatusOpen,
		createdAt: now,
		updatedAt: now,
	}
	g.e.mu.Lock()
	g.e.sessions[s.id] = s
	g.e.mu.Unlock()
	return &gateway.Session{ID: s.id, CheckoutURL: g.e.opts.PublicURL + "/sandbox/checkout/" + s.id}, nil
}

// session returns the shop's session; another shop's session is not found.
// Called with e.mu held.
func (g *shopGateway) session(id string) (*session, error) {
	s, ok := g.e.sessions[id]
	if !ok || s.shopID != g.shopID {
		return nil, orders.Errorf(orders.ENOTFOUND, "Sandbox session %q not found.", id)
	}
	return s, nil
}

// SessionStatus reports the session's state for reconciliation.
func (g *shopGateway) SessionStatus(ctx context.Context, sessionID string) (*gateway.SessionStatus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.e.mu.Lock()
	defer g.e.mu.Unlock()
	s, err := g.session(sessionID)
	if err != nil {
		return nil, err
	}
	return &gateway.SessionStatus{
		Status:     s.status,
		Amount:     s.amount,
		Currency:   s.currency,
		PaymentRef: s.paymentRef,
		Reason:     s.reason,
	}, nil
}

// Refund refunds part of a sandbox payment. A repeated idempotency key returns the
// first refund and moves no money; reusing a key for a different refund is an error,
// as at real gateways.
func (g *shopGateway) Refund(ctx context.Context, req gateway.RefundRequest) (*gateway.RefundResult, error) {
	if req.Amount <= 0 {
		return nil, orders.Invalidf("amount", "must be positive, got %d", req.Amount)
	}
	if req.IdempotencyKey == "" {
		return nil, orders.Invalidf("idempotency_key", "is required")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.e.mu.Lock()
	defer g.e.mu.Unlock()
	var s *session
	if req.SessionID != "" {
		var err error
		if s, err = g.session(req.SessionID); err != nil {
			return nil, err
		}
		if req.PaymentRef != "" && req.PaymentRef != s.paymentRef {
			return nil, orders.Invalidf("payment_ref", "%q is not the payment of session %q", req.PaymentRef, req.SessionID)
		}
	} else {
		for _, c := range g.e.sessions {
			if c.shopID == g.shopID && c.paymentRef != "" && c.paymentRef == req.PaymentRef {
				s = c
				break
			}
		}
		if s == nil {
			return nil, orders.Errorf(orders.ENOTFOUND, "Sandbox payment %q not found.", req.PaymentRef)
		}
	}
	key := refundKey{g.shopID, req.IdempotencyKey}
	if r, ok := g.e.refunds[key]; ok {
		if r.paymentRef != s.paymentRef || r.amount != req.Amount {
			return nil, orders.Errorf(orders.ECONFLICT,
				"Idempotency key %q was already used for a refund of %d on payment %q.", req.IdempotencyKey, r.amount, r.paymentRef)
		}
		return &gateway.RefundResult{ID: r.id}, nil
	}
	if s.status != StatusSucceeded {
		return nil, orders.Errorf(orders.ECONFLICT, "Sandbox session %q has no payment to refund (it is %s).", s.id, s.status)
	}
	if req.Currency != "" && !strings.EqualFold(req.Currency, s.currency) {
		return nil, orders.Invalidf("currency", "the payment is in %s, not %s", s.currency, req.Currency)
	}
	if left := s.amount - s.refunded; req.Amount > left {
		return nil, orders.Invalidf("amount", "%d exceeds the %d left to refund on payment %q", req.Amount, left, s.paymentRef)
	}
	s.refunded += req.Amount
	r := &refund{id: newID("re_sbx_"), paymentRef: s.paymentRef, amount: req.Amount}
	g.e.refunds[key] = r
	return &gateway.RefundResult{ID: r.id}, nil
}

// ParseWebhook verifies a sandbox webhook with the shop's secret and decodes it.
func (g *shopGateway) ParseWebhook(header http.Header, body []byte, now time.Time) (*orders.GatewayEvent, error) {
	return parseEvent(g.secret, header, body, now)
}

// newID returns prefix followed by 128 random bits in hex.
func newID(prefix string) string {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

// backoff returns the wait before retry number try (0-based): RetryBase doubled per try,
// capped at RetryMax, with "equal jitter" (half fixed, half random) so that many
// deliveries failing together do not retry in lockstep.
func backoff(base, ceiling time.Duration, try int) time.Duration {
	d := base
	for i := 0; i < try && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	half := d / 2
	return half + rand.N(d-half+1)
}

// jsonMarshal encodes an event without HTML escaping, as gateways send it.
func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Capabilities implements gateway.Capable: the sandbox refunds any part of a payment,
// as often as there is money left, at any time; it knows no disputes and no QR codes.
func (g *shopGateway) Capabilities() gateway.Capabilities {
	return gateway.Capabilities{PartialRefund: true, Methods: []string{"card"}}
}
