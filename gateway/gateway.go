// Package gateway defines what chatpay needs from a payment gateway and a registry of
// the gateways each shop enabled. Implementations live in subpackages: gateway/sandbox
// (built in, for development and tests), and later Stripe and Opn Payments.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// Gateway is one payment gateway configured for one shop.
type Gateway interface {
	// Name is the gateway's name in URLs and config ("sandbox", "stripe").
	Name() string
	// CreateSession starts a checkout for one payment attempt. Sessions may expire at
	// the gateway; the payment link that created them does not.
	CreateSession(ctx context.Context, req SessionRequest) (*Session, error)
	// SessionStatus asks the gateway what became of a session (reconciliation).
	SessionStatus(ctx context.Context, sessionID string) (*SessionStatus, error)
	// Refund returns money. The idempotency key makes retries safe.
	Refund(ctx context.Context, req RefundRequest) (*RefundResult, error)
	// ParseWebhook verifies a webhook's signature and timestamp (constant time) and
	// returns the normalised event. It returns an error wrapping ErrSignature for a
	// missing, wrong or stale signature and ErrMalformed for a body it cannot read.
	ParseWebhook(header http.Header, body []byte, now time.Time) (*orders.GatewayEvent, error)
}

// Resolver is a Gateway whose webhooks carry only a snapshot of what changed (Omise):
// after ParseWebhook has verified an event, Resolve asks the gateway's API for the
// object as it is now and returns the event to apply. An error leaves the webhook
// unanswered (500), so the gateway delivers it again.
type Resolver interface {
	Resolve(ctx context.Context, ev *orders.GatewayEvent) (*orders.GatewayEvent, error)
}

// SessionExpirer is a Gateway whose checkout sessions stay payable until they expire
// (Stripe Checkout: up to 24 hours) and can be expired early. When an order is
// cancelled, a job expires the sessions of its open attempts so that the customer can
// no longer pay a cancelled order. Gateways without expirable sessions (the sandbox,
// Opn Payments' charges) simply do not implement it.
//
// ExpireSession must be idempotent: a session that is already expired or complete is
// not an error. It returns an error coded orders.EINVALID or orders.ENOTFOUND when
// asking again cannot help; any other error is worth a retry.
type SessionExpirer interface {
	ExpireSession(ctx context.Context, sessionID string) error
}

// Capturer is a Gateway whose payments can be only authorised at checkout and captured
// later (Stripe with manual capture, Omise's pre-authorised charges). Capture takes
// Amount of the authorised money; the gateway releases the rest. The idempotency key
// makes a retried capture job return the first capture instead of failing or
// capturing twice. It returns an error coded orders.EINVALID, orders.ENOTFOUND or
// orders.ECONFLICT when asking again cannot help; any other error is worth a retry.
type Capturer interface {
	Capture(ctx context.Context, req CaptureRequest) (*CaptureResult, error)
}

// Voider is a Gateway that can release a payment it only authorised, taking nothing:
// Stripe cancels the PaymentIntent, Omise reverses the charge. chatpay releases a hold
// when an order whose payment is only authorised is cancelled, and when a duplicate
// payment is only authorised (a hold cannot be refunded).
//
// Void must be idempotent: a payment that is already released is not an error, so a
// retried job whose first answer was lost succeeds. The idempotency key is
// deterministic per payment (orders.VoidKey). It returns an error coded
// orders.ECONFLICT when the payment cannot be released (it was captured meanwhile),
// orders.EINVALID or orders.ENOTFOUND when asking again cannot help; any other error
// is worth a retry.
type Voider interface {
	Void(ctx context.Context, req VoidRequest) error
}

// VoidRequest asks a gateway to release an authorised payment.
type VoidRequest struct {
	PaymentRef     string
	IdempotencyKey string
}

// CaptureRequest asks a gateway to capture an authorised payment.
type CaptureRequest struct {
	PaymentRef     string
	Amount         int64
	Currency       string
	IdempotencyKey string
}

// CaptureResult is a gateway's answer to a capture: the amount it captured, in minor
// units of chatpay's currency.
type CaptureResult struct {
	ID     string
	Amount int64
}

// QRCoder is a Gateway whose sessions can be paid by scanning a QR code shown on
// chatpay's own pay page (Opn Payments' PromptPay) instead of on a checkout page at the
// gateway. The pay page shows the code and follows the payment itself.
//
// SessionQRCode returns an error coded orders.ENOTFOUND for a session without a QR code
// (the gateway is configured for another payment method) and orders.EGONE for one that
// can no longer be paid; the pay page then falls back to its usual flow.
type QRCoder interface {
	SessionQRCode(ctx context.Context, sessionID string) (*QRCode, error)
}

// QRCode is a scannable payment code for one session.
type QRCode struct {
	// ImageURL is an absolute URL of the QR image, served by the gateway.
	ImageURL string
	// Amount and Currency are what the code charges, as the gateway reports them.
	Amount   int64
	Currency string
	// ExpiresAt is when the code stops working; zero when the gateway does not say.
	ExpiresAt time.Time
}

// SessionRequest is what a gateway needs to start a checkout. Amount and currency come
// from the stored order, never from the customer.
type SessionRequest struct {
	ShopID    string
	OrderID   string
	OrderCode string
	AttemptID string
	Amount    int64
	Currency  string
	// ReturnURL is where the gateway sends the customer afterwards: the pay link itself.
	ReturnURL   string
	Description string
	Metadata    map[string]string
}

// Session is a started checkout.
type Session struct {
	ID          string
	CheckoutURL string
}

// SessionStatus is a gateway's view of a session. Status is orders.EventSucceeded,
// orders.EventFailed, orders.EventPending, or "open" when the customer has not paid yet.
type SessionStatus struct {
	Status     string
	Amount     int64
	Currency   string
	PaymentRef string
	Reason     string
	// Authorized marks a succeeded session whose money is only authorised (see
	// orders.GatewayEvent.Authorized).
	Authorized bool
}

// StatusOpen is a session the customer has not finished.
const StatusOpen = "open"

// RefundRequest asks for money back on a payment.
type RefundRequest struct {
	PaymentRef     string
	SessionID      string
	Amount         int64
	Currency       string
	IdempotencyKey string
}

// RefundResult is a gateway's answer to a refund.
type RefundResult struct {
	ID string
}

// Errors a webhook parser returns (wrapped), mapped by package webhooks to HTTP statuses.
var (
	ErrSignature = errors.New("webhook signature missing, invalid or stale")
	ErrMalformed = errors.New("webhook body malformed")
)

// ErrHoldExpired is in the chain of the error a Capturer returns for a payment whose
// authorisation expired before it was captured: the gateway released the money to the
// customer by itself, so there is nothing left to capture, now or on a retry. The
// capture job records it as a release (orders.CaptureResult.HoldExpired) instead of a
// failed capture, without having to know which gateway said it.
var ErrHoldExpired = errors.New("the authorisation expired before it was captured")

// Registry holds the gateways each shop enabled.
type Registry struct {
	byShop map[string]map[string]Gateway
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byShop: map[string]map[string]Gateway{}} }

// Add registers a gateway for a shop.
func (r *Registry) Add(shopID string, g Gateway) {
	if r.byShop[shopID] == nil {
		r.byShop[shopID] = map[string]Gateway{}
	}
	r.byShop[shopID][g.Name()] = g
}

// Get returns the shop's gateway with this name.
func (r *Registry) Get(shopID, name string) (Gateway, error) {
	g, ok := r.byShop[shopID][name]
	if !ok {
		return nil, orders.Errorf(orders.ENOTFOUND, "Gateway %q is not enabled for shop %q.", name, shopID)
	}
	return g, nil
}

// Names returns the names of the shop's gateways, sorted.
func (r *Registry) Names(shopID string) []string {
	var out []string
	for name := range r.byShop[shopID] {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// String describes the registry for logs.
func (r *Registry) String() string { return fmt.Sprintf("gateway.Registry(%d shops)", len(r.byShop)) }

// Capabilities are what a gateway can do with a payment, so that chatpay offers only
// that: the API refuses a refund the gateway would refuse anyway, before anything is
// queued, and GET /api/v1/gateways tells API clients what to offer.
type Capabilities struct {
	// PartialRefund: a refund may return less than the whole payment.
	PartialRefund bool `json:"partial_refund"`
	// MaxRefundsPerPayment is how many refunds one payment may have; 0 is no limit.
	MaxRefundsPerPayment int `json:"max_refunds_per_payment"`
	// RefundWindow is how long after the payment a refund is possible; 0 is no limit.
	RefundWindow time.Duration `json:"-"`
	// Capture and PartialCapture: payments are only authorised and captured later,
	// in full or in part (Stripe with manual capture); chatpay captures through a
	// Capturer.
	Capture        bool `json:"capture"`
	PartialCapture bool `json:"partial_capture"`
	// Disputes: chatpay learns of chargebacks from the gateway's webhooks.
	Disputes bool `json:"disputes"`
	// QR: customers pay by scanning a code on chatpay's pay page (a QRCoder).
	QR bool `json:"qr"`
	// Methods are the payment methods customers are offered, in the gateway's words.
	Methods []string `json:"methods"`
}

// Capable is a Gateway that declares its capabilities. Every built-in gateway is.
type Capable interface {
	Capabilities() Capabilities
}

// Capabilities returns what the shop's gateway with this name can do. A gateway that
// does not declare its capabilities gets the zero value: it promises nothing.
func (r *Registry) Capabilities(shopID, name string) (Capabilities, error) {
	g, err := r.Get(shopID, name)
	if err != nil {
		return Capabilities{}, err
	}
	if c, ok := g.(Capable); ok {
		return c.Capabilities(), nil
	}
	return Capabilities{}, nil
}
