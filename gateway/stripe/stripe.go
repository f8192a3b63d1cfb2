package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// Name is the Stripe gateway's name in URLs and configuration.
const Name = "stripe"

// Session lifetimes Stripe accepts for expires_at: between 30 minutes and 24 hours
// after creation.
const (
	MinSessionTTL     = 30 * time.Minute
	MaxSessionTTL     = 24 * time.Hour
	DefaultSessionTTL = time.Hour
)

// Metadata keys chatpay sets on every session and PaymentIntent. They win over an
// order's own metadata of the same name, because webhooks are routed by them.
const (
	MetaShopID    = "shop_id"
	MetaOrderID   = "order_id"
	MetaAttemptID = "attempt_id"
	// MetaCapture is "manual" on the sessions of a gateway with ManualCapture: their
	// completed-session webhooks say "paid" although the money is only authorised
	// (the intent's id is not expanded in events, so its status is not there), and
	// the session's own metadata says so even if the shop changes the setting later.
	MetaCapture = "capture"
	// CaptureManual is MetaCapture's value.
	CaptureManual = "manual"
)

// Stripe's metadata limits (https://docs.stripe.com/api/metadata).
const (
	maxMetadataKeys     = 50
	maxMetadataKeyLen   = 40
	maxMetadataValueLen = 500
)

// Config configures one shop's Stripe gateway.
type Config struct {
	// SecretKey is the shop's secret API key (sk_live_… or sk_test_…, or a restricted
	// key allowed to write Checkout Sessions and Refunds).
	SecretKey string
	// WebhookSecrets are the signing secrets (whsec_…) of the shop's webhook endpoint.
	// While a secret is being rolled Stripe signs with both, so every one is tried.
	WebhookSecrets []string
	// APIURL overrides https://api.stripe.com, for stripe-mock in tests.
	APIURL string
	// SessionTTL is how long a Checkout Session stays payable: 30 min to 24 h, 0 for
	// the default of one hour.
	SessionTTL time.Duration
	// ManualCapture makes Checkout only authorise the card; chatpay captures later
	// (Service.CapturePayment, through Capture).
	ManualCapture bool
	// ShopID, when set, makes CreateSession refuse requests for another shop, as a
	// guard against sending one shop's order to another shop's Stripe account.
	ShopID string
	// HTTPClient carries the API requests; nil means stripe-go's default (80 s timeout).
	HTTPClient *http.Client
	// Now is the clock for expires_at; nil means time.Now.
	Now func() time.Time
}

// Gateway is one shop's Stripe account as a gateway.Gateway.
type Gateway struct {
	client  *stripego.Client
	secrets []string
	ttl     time.Duration
	manual  bool
	shopID  string
	now     func() time.Time
}

var _ gateway.Gateway = (*Gateway)(nil)

// New validates cfg and returns the gateway.
func New(cfg Config) (*Gateway, error) {
	if strings.TrimSpace(cfg.SecretKey) == "" {
		return nil, orders.Invalidf("secret_key", "is required")
	}
	if len(cfg.WebhookSecrets) == 0 {
		return nil, orders.Invalidf("webhook_secrets", "at least one webhook signing secret is required")
	}
	for i, s := range cfg.WebhookSecrets {
		if strings.TrimSpace(s) == "" {
			return nil, orders.Invalidf("webhook_secrets", "secret %d is empty", i)
		}
	}
	ttl := cfg.SessionTTL
	if ttl == 0 {
		ttl = DefaultSessionTTL
	}
	if ttl < MinSessionTTL || ttl > MaxSessionTTL {
		return nil, orders.Invalidf("session_ttl", "must be between %s and %s, got %s", MinSessionTTL, MaxSessionTTL, ttl)
	}
	bc := &stripego.BackendConfig{
		HTTPClient: cfg.HTTPClient,
		// Errors are returned to the caller, who logs them with the order's context;
		// stripe-go's own logger would print them a second time to stderr.
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
	}
	if cfg.APIURL != "" {
		bc.URL = stripego.String(cfg.APIURL)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Gateway{
		client:  stripego.NewClient(cfg.SecretKey, stripego.WithBackends(stripego.NewBackendsWithConfig(bc))),
		secrets: slices.Clone(cfg.WebhookSecrets),
		ttl:     ttl,
		manual:  cfg.ManualCapture,
		shopID:  cfg.ShopID,
		now:     now,
	}, nil
}

// Name implements gateway.Gateway.
func (g *Gateway) Name() string { return Name }

// sessionIdempotencyKey is the Idempotency-Key of the request that creates an
// attempt's session: a retried CreateSession (a timeout, a crash before the session id
// was stored) gets the same session back instead of a second one the customer could
// also pay. Stripe keeps keys for at least 24 hours, longer than any session lives.
func sessionIdempotencyKey(attemptID string) string { return "chatpay-session-" + attemptID }

// CreateSession creates a Checkout Session in payment mode for the attempt's amount.
func (g *Gateway) CreateSession(ctx context.Context, req gateway.SessionRequest) (*gateway.Session, error) {
	if g.shopID != "" && req.ShopID != "" && req.ShopID != g.shopID {
		return nil, orders.Invalidf("shop_id", "session for shop %q requested from shop %q's gateway", req.ShopID, g.shopID)
	}
	if req.AttemptID == "" || len(req.AttemptID) > 200 {
		// The attempt id keys the idempotency of the request (255 bytes at most).
		return nil, orders.Invalidf("attempt_id", "is required and at most 200 bytes")
	}
	if req.Amount <= 0 || req.Amount > orders.MaxAmount {
		return nil, orders.Invalidf("amount", "must be between 1 and %d minor units, got %d", orders.MaxAmount, req.Amount)
	}
	cur, err := stripeCurrency(req.Currency)
	if err != nil {
		return nil, err
	}
	amount, err := cur.toStripe(req.Amount)
	if err != nil {
		return nil, err
	}
	if req.ReturnURL == "" {
		return nil, orders.Invalidf("return_url", "is required")
	}
	name := req.Description
	if name == "" {
		name = "Order " + req.OrderCode
	}
	meta := sessionMetadata(req)
	if g.manual {
		meta[MetaCapture] = CaptureManual
	}
	params := &stripego.CheckoutSessionCreateParams{
		Mode:              stripego.String(string(stripego.CheckoutSessionModePayment)),
		ClientReferenceID: stripego.String(req.AttemptID),
		SuccessURL:        stripego.String(req.ReturnURL),
		CancelURL:         stripego.String(req.ReturnURL),
		ExpiresAt:         stripego.Int64(g.now().Add(g.ttl).Unix()),
		Metadata:          meta,
		LineItems: []*stripego.CheckoutSessionCreateLineItemParams{{
			Quantity: stripego.Int64(1),
			PriceData: &stripego.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripego.String(cur.stripeCode),
				UnitAmount:  stripego.Int64(amount),
				ProductData: &stripego.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripego.String(truncate(name, 250))},
			},
		}},
		// The PaymentIntent carries the same routing metadata, because its own events
		// (payment_intent.payment_failed) do not name the Checkout Session.
		PaymentIntentData: &stripego.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta},
	}
	if g.manual {
		params.PaymentIntentData.CaptureMethod = stripego.String(string(stripego.PaymentIntentCaptureMethodManual))
	}
	params.SetIdempotencyKey(sessionIdempotencyKey(req.AttemptID))
	s, err := g.client.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return nil, apiError("create checkout session", err)
	}
	return &gateway.Session{ID: s.ID, CheckoutURL: s.URL}, nil
}

// sessionMetadata is the order's metadata within Stripe's limits plus chatpay's routing
// keys. Entries Stripe would reject (long keys or values, brackets in keys) are
// dropped rather than failing the customer's checkout over a note the shop attached;
// past the key limit the order's keys are kept in sorted order, so the choice is stable.
func sessionMetadata(req gateway.SessionRequest) map[string]string {
	meta := map[string]string{
		MetaShopID:    truncate(req.ShopID, maxMetadataValueLen),
		MetaOrderID:   truncate(req.OrderID, maxMetadataValueLen),
		MetaAttemptID: req.AttemptID,
	}
	// MetaCapture is reserved (CreateSession sets it): an order's own key of that name
	// must neither win nor push the count past Stripe's limit when it is added.
	reserved := map[string]bool{MetaCapture: true}
	keys := make([]string, 0, len(req.Metadata))
	for k := range req.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := req.Metadata[k]
		if len(meta) == maxMetadataKeys-len(reserved) {
			break
		}
		if _, taken := meta[k]; taken || reserved[k] || k == "" || utf8.RuneCountInString(k) > maxMetadataKeyLen ||
			strings.ContainsAny(k, "[]") || utf8.RuneCountInString(v) > maxMetadataValueLen || v == "" {
			// An empty value would unset the key rather than store it.
			continue
		}
		meta[k] = v
	}
	return meta
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// SessionStatus retrieves the session with its PaymentIntent and reports its state.
func (g *Gateway) SessionStatus(ctx context.Context, sessionID string) (*gateway.SessionStatus, error) {
	if sessionID == "" {
		return nil, orders.Invalidf("session_id", "is required")
	}
	params := &stripego.CheckoutSessionRetrieveParams{}
	params.AddExpand("payment_intent")
	s, err := g.client.V1CheckoutSessions.Retrieve(ctx, sessionID, params)
	if err != nil {
		return nil, apiError("retrieve checkout session", err)
	}
	return sessionStatus(s), nil
}

// sessionStatus maps a retrieved session. A failed card inside an open session is not
// a failure: Checkout lets the customer try another card until the session expires.
func sessionStatus(s *stripego.CheckoutSession) *gateway.SessionStatus {
	st := &gateway.SessionStatus{}
	// Lenient like webhooks: a session in a currency chatpay does not know is still a
	// fact to report; the caller compares it with the attempt.
	cur := eventCurrency(string(s.Currency))
	st.Currency = cur.code
	st.Amount = cur.fromStripe(s.AmountTotal)
	pi := s.PaymentIntent
	if pi != nil {
		st.PaymentRef = pi.ID
	}
	lastError := func() string {
		if pi != nil && pi.LastPaymentError != nil {
			return paymentErrorReason(pi.LastPaymentError)
		}
		return ""
	}
	switch s.Status {
	case stripego.CheckoutSessionStatusExpired:
		st.Status, st.Reason = orders.EventFailed, ReasonExpired
	case stripego.CheckoutSessionStatusComplete:
		switch {
		case s.PaymentStatus == stripego.CheckoutSessionPaymentStatusPaid:
			st.Status = orders.EventSucceeded
			st.Authorized = s.Metadata[MetaCapture] == CaptureManual ||
				(pi != nil && pi.Status == stripego.PaymentIntentStatusRequiresCapture)
		case pi != nil && (pi.Status == stripego.PaymentIntentStatusRequiresPaymentMethod ||
			pi.Status == stripego.PaymentIntentStatusCanceled):
			// A completed session whose intent went back to needing a payment method
			// (or was cancelled) is a delayed payment method that failed.
			st.Status, st.Reason = orders.EventFailed, lastError()
			if st.Reason == "" {
				st.Reason = ReasonAsyncPaymentFailed
			}
		default:
			// Bank debits and vouchers: the customer finished, the money is on its way.
			st.Status = orders.EventPending
		}
	default:
		st.Status, st.Reason = gateway.StatusOpen, lastError()
	}
	return st
}

// paymentErrorReason is the failure reason chatpay records: Stripe's message, which is
// written for the customer, or its code when there is no message.
func paymentErrorReason(e *stripego.Error) string {
	switch {
	case e.Msg != "":
		return e.Msg
	case e.DeclineCode != "":
		return string(e.DeclineCode)
	default:
		return string(e.Code)
	}
}

// refundIdempotencyKey namespaces the caller's key, so that it can never collide with
// the keys this package derives for sessions.
func refundIdempotencyKey(key string) string { return "chatpay-refund-" + key }

// Refund refunds part or all of a payment. PaymentRef is the PaymentIntent id; when it
// is empty the session's intent is looked up.
func (g *Gateway) Refund(ctx context.Context, req gateway.RefundRequest) (*gateway.RefundResult, error) {
	if req.Amount <= 0 || req.Amount > orders.MaxAmount {
		return nil, orders.Invalidf("amount", "must be between 1 and %d minor units, got %d", orders.MaxAmount, req.Amount)
	}
	if req.IdempotencyKey == "" || len(req.IdempotencyKey) > 200 {
		return nil, orders.Invalidf("idempotency_key", "is required and at most 200 bytes")
	}
	cur, err := stripeCurrency(req.Currency)
	if err != nil {
		return nil, err
	}
	amount, err := cur.toStripe(req.Amount)
	if err != nil {
		return nil, err
	}
	ref := req.PaymentRef
	if ref == "" {
		if req.SessionID == "" {
			return nil, orders.Invalidf("payment_ref", "a payment reference or session id is required")
		}
		s, err := g.client.V1CheckoutSessions.Retrieve(ctx, req.SessionID, nil)
		if err != nil {
			return nil, apiError("retrieve checkout session", err)
		}
		if s.PaymentIntent == nil || s.PaymentIntent.ID == "" {
			return nil, orders.Errorf(orders.ECONFLICT, "Stripe session %q has no payment to refund.", req.SessionID)
		}
		ref = s.PaymentIntent.ID
	}
	params := &stripego.RefundCreateParams{
		PaymentIntent: stripego.String(ref),
		Amount:        stripego.Int64(amount),
	}
	params.SetIdempotencyKey(refundIdempotencyKey(req.IdempotencyKey))
	r, err := g.client.V1Refunds.Create(ctx, params)
	if err != nil {
		return nil, apiError("create refund", err)
	}
	return &gateway.RefundResult{ID: r.ID}, nil
}

// The Gateway captures payments that Checkout only authorised (ManualCapture).
var _ gateway.Capturer = (*Gateway)(nil)

// captureIdempotencyKey namespaces the caller's key like refundIdempotencyKey.
func captureIdempotencyKey(key string) string { return "chatpay-capture-" + key }

// Capture captures Amount of an authorised PaymentIntent (amount_to_capture); Stripe
// releases the rest of the authorisation. A retry with the same idempotency key gets
// Stripe's first answer back, so a capture job may run twice safely.
func (g *Gateway) Capture(ctx context.Context, req gateway.CaptureRequest) (*gateway.CaptureResult, error) {
	if req.PaymentRef == "" {
		return nil, orders.Invalidf("payment_ref", "is required")
	}
	if req.Amount <= 0 || req.Amount > orders.MaxAmount {
		return nil, orders.Invalidf("amount", "must be between 1 and %d minor units, got %d", orders.MaxAmount, req.Amount)
	}
	if req.IdempotencyKey == "" || len(req.IdempotencyKey) > 200 {
		return nil, orders.Invalidf("idempotency_key", "is required and at most 200 bytes")
	}
	cur, err := stripeCurrency(req.Currency)
	if err != nil {
		return nil, err
	}
	amount, err := cur.toStripe(req.Amount)
	if err != nil {
		return nil, err
	}
	params := &stripego.PaymentIntentCaptureParams{AmountToCapture: stripego.Int64(amount)}
	params.SetIdempotencyKey(captureIdempotencyKey(req.IdempotencyKey))
	pi, err := g.client.V1PaymentIntents.Capture(ctx, req.PaymentRef, params)
	if err != nil {
		var se *stripego.Error
		if errors.As(err, &se) && se.HTTPStatusCode == http.StatusBadRequest && se.Code != stripego.ErrorCodeResourceMissing {
			// An intent that is not (or no longer) capturable, or an amount over the
			// authorisation: asking again cannot help.
			return nil, orders.Errorf(orders.ECONFLICT, "Stripe: capture payment intent: %s", se.Msg)
		}
		return nil, apiError("capture payment intent", err)
	}
	captured := pi.AmountReceived
	if captured == 0 {
		captured = amount
	}
	return &gateway.CaptureResult{ID: pi.ID, Amount: cur.fromStripe(captured)}, nil
}

// The Gateway releases payments that Checkout only authorised (ManualCapture).
var _ gateway.Voider = (*Gateway)(nil)

// voidIdempotencyKey namespaces the caller's key like refundIdempotencyKey.
func voidIdempotencyKey(key string) string { return "chatpay-void-" + key }

// Void cancels an authorised PaymentIntent, which releases the hold on the customer's
// card (https://docs.stripe.com/api/payment_intents/cancel). Stripe refuses to cancel
// an intent that is already cancelled or that succeeded, with a 400 whose code alone
// does not say which; the intent's status then decides: cancelled is success (a retry
// after a lost answer, or a release in the dashboard), anything else a conflict.
func (g *Gateway) Void(ctx context.Context, req gateway.VoidRequest) error {
	if req.PaymentRef == "" {
		return orders.Invalidf("payment_ref", "is required")
	}
	if req.IdempotencyKey == "" || len(req.IdempotencyKey) > 200 {
		return orders.Invalidf("idempotency_key", "is required and at most 200 bytes")
	}
	params := &stripego.PaymentIntentCancelParams{}
	params.SetIdempotencyKey(voidIdempotencyKey(req.IdempotencyKey))
	_, err := g.client.V1PaymentIntents.Cancel(ctx, req.PaymentRef, params)
	if err == nil {
		return nil
	}
	var se *stripego.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != http.StatusBadRequest || se.Code == stripego.ErrorCodeResourceMissing {
		return apiError("cancel payment intent", err)
	}
	pi, rerr := g.client.V1PaymentIntents.Retrieve(ctx, req.PaymentRef, nil)
	if rerr != nil {
		return apiError("retrieve payment intent", rerr)
	}
	if pi.Status == stripego.PaymentIntentStatusCanceled {
		return nil
	}
	return orders.Errorf(orders.ECONFLICT, "Stripe: payment intent %s is %s and cannot be released: %s", pi.ID, pi.Status, se.Msg)
}

// The Gateway expires the sessions of cancelled orders' attempts.
var _ gateway.SessionExpirer = (*Gateway)(nil)

// ExpireSession expires an open session, so that the customer of a cancelled order can
// no longer pay through it. A session that is already expired or complete is not an
// error: expiring is about making sure no new payment starts, and a complete session's
// payment is handled by its webhook (a duplicate payment is refunded).
func (g *Gateway) ExpireSession(ctx context.Context, sessionID string) error {
	if sessionID == "" {
		return orders.Invalidf("session_id", "is required")
	}
	_, err := g.client.V1CheckoutSessions.Expire(ctx, sessionID, nil)
	if err == nil {
		return nil
	}
	var se *stripego.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != http.StatusBadRequest {
		return apiError("expire checkout session", err)
	}
	// Stripe answers 400 for a session that is no longer open; its error code for
	// that is not documented, so ask for the session's state instead of matching text.
	s, rerr := g.client.V1CheckoutSessions.Retrieve(ctx, sessionID, nil)
	if rerr == nil && s.Status != stripego.CheckoutSessionStatusOpen {
		return nil
	}
	return apiError("expire checkout session", err)
}

// apiError wraps a stripe-go error with what was being done, turning a missing object
// into orders' not-found error so that callers treat it like the sandbox's.
func apiError(op string, err error) error {
	var se *stripego.Error
	if errors.As(err, &se) && se.Code == stripego.ErrorCodeResourceMissing {
		return orders.Errorf(orders.ENOTFOUND, "Stripe: %s: %s", op, se.Msg)
	}
	return fmt.Errorf("stripe: %s: %w", op, err)
}

// Capabilities implements gateway.Capable. Stripe refunds part of a payment as often as
// money is left, without a limit on the number of refunds or a window chatpay could
// check locally (https://docs.stripe.com/refunds); chatpay applies its disputes from
// webhooks. With ManualCapture a Checkout payment is only authorised, and Stripe can
// capture it in full or in part (https://docs.stripe.com/payments/place-a-hold-on-a-payment-method).
// Checkout offers the payment methods enabled in the Stripe dashboard; chatpay asks for
// none in particular, so only cards are certain.
func (g *Gateway) Capabilities() gateway.Capabilities {
	return gateway.Capabilities{
		PartialRefund:  true,
		Capture:        g.manual,
		PartialCapture: g.manual,
		Disputes:       true,
		Methods:        []string{"card"},
	}
}
