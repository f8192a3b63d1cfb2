package omise

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// Name is the gateway's name in URLs and configuration.
const Name = "omise"

// Event types ResolveEvent reports beyond orders.EventSucceeded, EventFailed and
// EventPending. All are the domain's own, which the service applies.
const (
	// EventCaptured: the charge's authorisation was captured (charge.capture). Amount
	// and CapturedAmount are what was captured; PaymentRef is the charge.
	EventCaptured = orders.EventCaptured
	// EventReversed: the authorisation was released without a capture
	// (charge.reverse, or any event of a charge found reversed), or it expired
	// uncaptured (charge.expire, or any event of a charge found so: Reason is then
	// "expired"); PaymentRef is the charge. It is the domain's orders.EventVoided.
	EventReversed = orders.EventVoided
	// EventRefunded: RefundID was created for RefundAmount. Amount is the charge's
	// refunded total (RefundedTotal), as orders.EventRefunded wants.
	EventRefunded = orders.EventRefunded
	// EventDisputeOpened, Updated, Closed are the domain's orders.EventDispute* types:
	// DisputeID, DisputeStatus and DisputeAmount are set, and GatewayEvent.Dispute
	// carries them to the service. Omise's statuses are chatpay's own (open, pending,
	// won, lost) and map one to one; a closed event's status is won or lost. Omise
	// gives no evidence deadline, so EvidenceDueAt stays nil.
	EventDisputeOpened  = orders.EventDisputeOpened
	EventDisputeUpdated = orders.EventDisputeUpdated
	EventDisputeClosed  = orders.EventDisputeClosed
	// TypeUnresolved prefixes the Type ParseWebhook reports: a verified event whose object
	// has not been re-fetched yet, so nothing may act on it (see ResolveEvent).
	TypeUnresolved = "omise.unresolved:"
)

// ErrUnsupportedEvent is returned by ResolveEvent for an event key chatpay does not use;
// the caller acknowledges the delivery and drops it.
var ErrUnsupportedEvent = errors.New("omise: event key not handled")

// Metadata keys chatpay puts on charges and refunds.
const (
	MetaShopID         = "chatpay_shop_id"
	MetaOrderID        = "chatpay_order_id"
	MetaOrderCode      = "chatpay_order_code"
	MetaAttemptID      = "chatpay_attempt_id"
	MetaIdempotencyKey = "chatpay_idempotency_key"
)

// Config configures one shop's Omise gateway.
type Config struct {
	ShopID string
	Client *Client
	// WebhookSecrets are the shop's webhook secrets as the dashboard shows them (base64):
	// the current one first, the previous one during a rotation on our side.
	WebhookSecrets []string
	// SourceType is how customers pay: SourcePromptPay (a QR shown on the pay page) or a
	// redirect source such as SourceMobileBankingSCB (default SourcePromptPay).
	SourceType string
}

// Gateway is Omise as one shop's gateway.Gateway. Session ids are charge ids, and so are
// payment refs: Omise refunds a charge.
type Gateway struct {
	cfg Config
}

var _ gateway.Gateway = (*Gateway)(nil)

// New returns a shop's Omise gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Client == nil {
		return nil, errors.New("omise: gateway needs a client")
	}
	if len(cfg.WebhookSecrets) == 0 {
		return nil, errors.New("omise: gateway needs a webhook secret")
	}
	for _, s := range cfg.WebhookSecrets {
		if _, err := DecodeSecret(s); err != nil {
			return nil, err
		}
	}
	if cfg.SourceType == "" {
		cfg.SourceType = SourcePromptPay
	}
	return &Gateway{cfg: cfg}, nil
}

// Name implements gateway.Gateway.
func (g *Gateway) Name() string { return Name }

// CreateSession creates a charge with an inline source of the configured type. For a
// redirect source the checkout URL is the charge's authorize_uri, and Omise sends the
// customer back to req.ReturnURL. PromptPay has no page at Omise: the checkout URL is the
// QR image itself, a usable fallback, and the pay page should instead embed the image
// from QRCode(ctx, session.ID) next to the order summary and poll SessionStatus.
func (g *Gateway) CreateSession(ctx context.Context, req gateway.SessionRequest) (*gateway.Session, error) {
	if req.ShopID != "" && req.ShopID != g.cfg.ShopID {
		return nil, orders.Invalidf("shop_id", "session for shop %q requested from shop %q's gateway", req.ShopID, g.cfg.ShopID)
	}
	if req.Amount <= 0 || req.Amount > orders.MaxAmount {
		return nil, orders.Invalidf("amount", "must be between 1 and %d minor units, got %d", orders.MaxAmount, req.Amount)
	}
	cur, ok := orders.LookupCurrency(req.Currency)
	if !ok {
		return nil, orders.Invalidf("currency", "unknown currency %q", req.Currency)
	}
	md := map[string]string{}
	for k, v := range req.Metadata {
		md[k] = v
	}
	for k, v := range map[string]string{MetaShopID: g.cfg.ShopID, MetaOrderID: req.OrderID, MetaOrderCode: req.OrderCode, MetaAttemptID: req.AttemptID} {
		if v != "" {
			md[k] = v
		}
	}
	ch, err := g.cfg.Client.CreateCharge(ctx, ChargeParams{
		Amount:      req.Amount,
		Currency:    cur.Code,
		Description: req.Description,
		ReturnURI:   req.ReturnURL,
		Metadata:    md,
		SourceType:  g.cfg.SourceType,
	})
	if err != nil {
		return nil, err
	}
	s := &gateway.Session{ID: ch.ID, CheckoutURL: ch.AuthorizeURI}
	if qr := qrOf(ch); qr != nil {
		s.CheckoutURL = qr.ImageURL
	}
	if s.CheckoutURL == "" {
		return nil, fmt.Errorf("omise: charge %s has neither an authorize_uri nor a QR code", ch.ID)
	}
	return s, nil
}

// QRCode is what a pay page shows for a PromptPay charge.
type QRCode struct {
	ChargeID string
	// ImageURL is the QR image at Omise (source.scannable_code.image.download_uri).
	ImageURL  string
	Amount    int64
	Currency  string
	ExpiresAt *time.Time
}

// QRCode fetches the charge behind a session and returns its QR code. It is an ENOTFOUND
// error for a charge without one (a redirect source, or a charge no longer pending).
func (g *Gateway) QRCode(ctx context.Context, sessionID string) (*QRCode, error) {
	ch, err := g.cfg.Client.RetrieveCharge(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	qr := qrOf(ch)
	if qr == nil {
		return nil, orders.Errorf(orders.ENOTFOUND, "Omise charge %s has no QR code.", sessionID)
	}
	if ch.Status != ChargePending {
		return nil, orders.Errorf(orders.EGONE, "Omise charge %s is %s; its QR code can no longer be paid.", sessionID, ch.Status)
	}
	return qr, nil
}

func qrOf(ch *Charge) *QRCode {
	if ch.Source == nil || ch.Source.ScannableCode == nil || ch.Source.ScannableCode.Image == nil || ch.Source.ScannableCode.Image.DownloadURI == "" {
		return nil
	}
	return &QRCode{ChargeID: ch.ID, ImageURL: ch.Source.ScannableCode.Image.DownloadURI,
		Amount: ch.Amount, Currency: strings.ToUpper(ch.Currency), ExpiresAt: ch.ExpiresAt}
}

// SessionStatus re-fetches the charge. A pending charge the customer has not authorised
// is open; an authorised one waiting for capture (pre-authorisation) is succeeded and
// Authorized: the money is held, and Capture takes it.
func (g *Gateway) SessionStatus(ctx context.Context, sessionID string) (*gateway.SessionStatus, error) {
	ch, err := g.cfg.Client.RetrieveCharge(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	typ, reason := paymentStatus(ch)
	st := &gateway.SessionStatus{Status: typ, Amount: ch.Amount, Currency: strings.ToUpper(ch.Currency), Reason: reason}
	if typ == orders.EventSucceeded {
		st.PaymentRef, st.Authorized = ch.ID, heldForCapture(ch)
	}
	return st, nil
}

// paymentStatus maps a fetched charge to a session status.
func paymentStatus(ch *Charge) (status, reason string) {
	if ch.Expired && ch.Status == ChargePending {
		// Marked expired while its status still says pending: it can no longer be
		// paid or captured, whatever the status says.
		return orders.EventFailed, "expired"
	}
	switch ch.Status {
	case ChargeSuccessful:
		return orders.EventSucceeded, ""
	case ChargeFailed:
		return orders.EventFailed, cmpOr(ch.FailureCode, "failed")
	case ChargeExpired:
		return orders.EventFailed, "expired"
	case ChargeReversed:
		return orders.EventFailed, "reversed"
	default: // pending
		if heldForCapture(ch) {
			return orders.EventSucceeded, ""
		}
		if ch.Authorized {
			return orders.EventPending, ""
		}
		return gateway.StatusOpen, ""
	}
}

// heldForCapture reports a charge created with capture=false that the card authorised:
// pending, authorised and capturable, but not paid. Other pending charges (a source
// the customer has not paid, a 3-D Secure check under way) are not authorised.
func heldForCapture(ch *Charge) bool {
	return ch.Status == ChargePending && ch.Authorized && ch.Capturable && !ch.Paid && !ch.Expired
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Refund refunds part of a charge. The idempotency key is stored in the refund's
// metadata and looked for first, so a retried refund returns the first one even if
// Omise does not honour the Idempotency-Key header; it is sent as well. Omise's rules
// (15 refunds, captured amount, disputes, 365 days) are checked before calling and
// reported as ECONFLICT errors.
func (g *Gateway) Refund(ctx context.Context, req gateway.RefundRequest) (*gateway.RefundResult, error) {
	if req.Amount <= 0 {
		return nil, orders.Invalidf("amount", "must be positive, got %d", req.Amount)
	}
	if req.IdempotencyKey == "" {
		return nil, orders.Invalidf("idempotency_key", "is required")
	}
	chargeID := req.PaymentRef
	if chargeID == "" {
		chargeID = req.SessionID
	}
	if chargeID == "" {
		return nil, orders.Invalidf("payment_ref", "is required")
	}
	if req.SessionID != "" && req.PaymentRef != "" && req.SessionID != req.PaymentRef {
		return nil, orders.Invalidf("payment_ref", "%q is not the payment of session %q", req.PaymentRef, req.SessionID)
	}
	refunds, err := g.cfg.Client.ListRefunds(ctx, chargeID)
	if err != nil {
		return nil, err
	}
	for _, r := range refunds.Data {
		if k, _ := r.Metadata[MetaIdempotencyKey].(string); k == req.IdempotencyKey {
			if r.Amount != req.Amount {
				return nil, orders.Errorf(orders.ECONFLICT, "Idempotency key %q was already used for a refund of %d on charge %s.", req.IdempotencyKey, r.Amount, chargeID)
			}
			return &gateway.RefundResult{ID: r.ID}, nil
		}
	}
	if req.Currency != "" {
		ch, err := g.cfg.Client.RetrieveCharge(ctx, chargeID)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(ch.Currency, req.Currency) {
			return nil, orders.Invalidf("currency", "the charge is in %s, not %s", strings.ToUpper(ch.Currency), req.Currency)
		}
	}
	r, err := g.cfg.Client.CreateRefund(ctx, chargeID, RefundParams{
		Amount:         req.Amount,
		Metadata:       map[string]string{MetaIdempotencyKey: req.IdempotencyKey, MetaShopID: g.cfg.ShopID},
		IdempotencyKey: req.IdempotencyKey,
	})
	var re *RuleError
	if errors.As(err, &re) {
		return nil, orders.Errorf(orders.ECONFLICT, "%s", re.Message)
	}
	if err != nil {
		return nil, err
	}
	return &gateway.RefundResult{ID: r.ID}, nil
}

// The Gateway releases pre-authorised charges.
var _ gateway.Voider = (*Gateway)(nil)

// Void reverses an authorised, uncaptured charge (POST /charges/{id}/reverse), which
// releases the hold on the customer's card. Omise documents no idempotency key for a
// reversal, and none is needed: the charge is read first, and one that is already
// reversed is released (a retry after a lost answer, or a reversal in the dashboard),
// while one that is captured or failed cannot be.
//
// An authorisation that expired uncaptured is released too: Omise cancels it by itself
// and the money is back with the customer, so there is nothing left to release and
// nothing for staff to do. Void knows it either from the charge it read first (marked
// expired) or from Omise's answer to the reversal (expired_charge, when the expiry came
// after the read or before Omise marked the charge). Any other reversal Omise refuses
// is read again, in case it raced with another release.
func (g *Gateway) Void(ctx context.Context, req gateway.VoidRequest) error {
	if req.PaymentRef == "" {
		return orders.Invalidf("payment_ref", "is required")
	}
	ch, err := g.cfg.Client.RetrieveCharge(ctx, req.PaymentRef)
	if err != nil {
		return notFoundError(err)
	}
	if released(ch) {
		return nil
	}
	if !ch.Capturable {
		return orders.Errorf(orders.ECONFLICT, "Charge %s is %s and cannot be released.", ch.ID, ch.Status)
	}
	_, err = g.cfg.Client.ReverseCharge(ctx, ch.ID)
	if isExpiredCharge(err) {
		return nil
	}
	var oe *Error
	if errors.As(err, &oe) && !oe.Temporary() {
		if again, rerr := g.cfg.Client.RetrieveCharge(ctx, ch.ID); rerr == nil && released(again) {
			return nil
		}
		return orders.Errorf(orders.ECONFLICT, "Omise: reverse charge: %s", oe.Message)
	}
	return err
}

// released reports a charge whose authorisation was released: reversed, or expired
// uncaptured.
func released(ch *Charge) bool {
	return ch.Reversed || ch.Status == ChargeReversed || ch.lapsedHold()
}

// isExpiredCharge reports Omise's expired_charge error: the charge's authorisation
// expired, so it can be neither captured nor reversed.
func isExpiredCharge(err error) bool {
	var oe *Error
	return errors.As(err, &oe) && oe.Code == CodeExpiredCharge
}

// ErrAuthorizationExpired is in the chain of the error Capture returns for a charge
// whose authorisation expired, for errors.Is. So is gateway.ErrHoldExpired, which the
// capture job, knowing no gateway, tells an expired hold from a refusal by.
var ErrAuthorizationExpired = errors.New("omise: the authorisation expired")

// ExpiredError is Capture's answer for a charge whose authorisation expired before it
// was captured. It is an orders.ECONFLICT error, so the capture job does not retry it
// (a later attempt cannot succeed: Omise has already released the money) and staff are
// told its message.
type ExpiredError struct {
	ChargeID string
	// ExpiredAt is when the authorisation expired, nil when Omise did not say.
	ExpiredAt *time.Time
	err       *orders.Error
}

func newExpiredError(ch *Charge) *ExpiredError {
	e := &ExpiredError{ChargeID: ch.ID, ExpiredAt: ch.expiryTime()}
	when := ""
	if e.ExpiredAt != nil {
		when = " on " + e.ExpiredAt.UTC().Format("2006-01-02 15:04 MST")
	}
	e.err = orders.Errorf(orders.ECONFLICT,
		"Charge %s cannot be captured: the authorisation expired%s, and Omise gave the money back to the customer. Ask the customer to pay again.",
		ch.ID, when)
	return e
}

func (e *ExpiredError) Error() string { return "omise: " + e.err.Message }

// Unwrap gives orders.ErrorCode and ErrorMessage the ECONFLICT error, and errors.Is
// ErrAuthorizationExpired and gateway.ErrHoldExpired.
func (e *ExpiredError) Unwrap() []error {
	return []error{e.err, ErrAuthorizationExpired, gateway.ErrHoldExpired}
}

// notFoundError turns Omise's 404 into orders' not-found error: asking again cannot
// help.
func notFoundError(err error) error {
	var oe *Error
	if errors.As(err, &oe) && oe.Status == http.StatusNotFound {
		return orders.Errorf(orders.ENOTFOUND, "Omise: %s", oe.Message)
	}
	return err
}

// The Gateway captures pre-authorised charges.
var _ gateway.Capturer = (*Gateway)(nil)

// Capture captures Amount of an authorised charge: the whole charge, or its single
// partial capture (Omise allows one, on a pre_auth charge), Omise releasing the rest.
// Omise answers a second capture with an error, so a charge that is already captured
// is reported as this capture's result when it captured the same amount: a retried
// job must not fail after the first attempt succeeded.
func (g *Gateway) Capture(ctx context.Context, req gateway.CaptureRequest) (*gateway.CaptureResult, error) {
	if req.PaymentRef == "" {
		return nil, orders.Invalidf("payment_ref", "is required")
	}
	if req.Amount <= 0 {
		return nil, orders.Invalidf("amount", "must be positive, got %d", req.Amount)
	}
	ch, err := g.cfg.Client.RetrieveCharge(ctx, req.PaymentRef)
	if err != nil {
		return nil, err
	}
	if req.Currency != "" && !strings.EqualFold(ch.Currency, req.Currency) {
		return nil, orders.Invalidf("currency", "the charge is in %s, not %s", strings.ToUpper(ch.Currency), req.Currency)
	}
	if ch.lapsedHold() {
		return nil, newExpiredError(ch)
	}
	if !ch.Capturable {
		if ch.Status == ChargeSuccessful && ch.CapturedAmount == req.Amount {
			return &gateway.CaptureResult{ID: ch.ID, Amount: ch.CapturedAmount}, nil
		}
		return nil, orders.Errorf(orders.ECONFLICT, "Charge %s is %s and cannot be captured.", ch.ID, ch.Status)
	}
	if req.Amount > ch.Amount {
		return nil, orders.Errorf(orders.ECONFLICT, "A capture of %d exceeds the %d authorised on charge %s.", req.Amount, ch.Amount, ch.ID)
	}
	amount := req.Amount
	if amount == ch.Amount {
		amount = 0 // the full amount, which every authorised charge allows
	}
	captured, err := g.cfg.Client.CaptureCharge(ctx, ch.ID, amount)
	if isExpiredCharge(err) {
		// The authorisation expired after the read, or Omise has not marked the charge
		// yet. Read it again for when it expired; the charge read first still has
		// expires_at if that fails.
		if again, rerr := g.cfg.Client.RetrieveCharge(ctx, ch.ID); rerr == nil {
			ch = again
		}
		return nil, newExpiredError(ch)
	}
	var oe *Error
	if errors.As(err, &oe) && !oe.Temporary() {
		return nil, orders.Errorf(orders.ECONFLICT, "Omise: capture charge: %s", oe.Message)
	}
	if err != nil {
		return nil, err
	}
	return &gateway.CaptureResult{ID: captured.ID, Amount: captured.CapturedAmount}, nil
}

// ParseWebhook verifies and parses a delivery. It cannot fetch (no context), and the
// body is only a snapshot, so the event it returns is unresolved: Type is TypeUnresolved
// followed by the event key, which the domain records and does not act on. The caller
// then passes the parsed event (ParseEvent(ev.Payload)) to ResolveEvent.
func (g *Gateway) ParseWebhook(header http.Header, body []byte, now time.Time) (*orders.GatewayEvent, error) {
	if err := VerifyWebhook(header, body, now, g.cfg.WebhookSecrets...); err != nil {
		return nil, err
	}
	ev, err := ParseEvent(body)
	if err != nil {
		return nil, err
	}
	return &orders.GatewayEvent{
		Gateway:   Name,
		ShopID:    g.cfg.ShopID,
		EventID:   ev.ID,
		Type:      TypeUnresolved + ev.Key,
		SessionID: ev.ChargeID,
		Payload:   body,
	}, nil
}

// ResolvedEvent is an event after its object was re-fetched. The embedded GatewayEvent
// has Type orders.EventSucceeded, EventFailed or EventPending for charge.complete, or one
// of this package's Event* constants; the other fields carry what those need.
type ResolvedEvent struct {
	orders.GatewayEvent
	Key            string
	ChargeStatus   string
	CapturedAmount int64
	RefundID       string
	RefundAmount   int64
	RefundedTotal  int64
	DisputeID      string
	DisputeStatus  string
	DisputeAmount  int64
}

// ResolveEvent re-fetches the object an event is about and normalises it. The event's
// snapshot is used only for ids; status and amounts come from the API.
func (g *Gateway) ResolveEvent(ctx context.Context, ev *Event) (*ResolvedEvent, error) {
	out := &ResolvedEvent{Key: ev.Key}
	out.Gateway, out.ShopID, out.EventID = Name, g.cfg.ShopID, ev.ID
	out.Payload = ev.Data

	fromCharge := func(ch *Charge) {
		out.SessionID, out.Amount, out.Currency = ch.ID, ch.Amount, strings.ToUpper(ch.Currency)
		out.ChargeStatus, out.CapturedAmount, out.RefundedTotal = ch.Status, ch.CapturedAmount, ch.RefundedAmount
	}
	switch ev.Key {
	case KeyChargeComplete, KeyChargeCapture, KeyChargeReverse, KeyChargeExpire:
		if ev.DataObject != "charge" {
			return nil, fmt.Errorf("%w: %s event carries a %s", gateway.ErrMalformed, ev.Key, ev.DataObject)
		}
		ch, err := g.cfg.Client.RetrieveCharge(ctx, ev.DataID)
		if err != nil {
			return nil, err
		}
		fromCharge(ch)
		switch {
		case ev.Key == KeyChargeCapture && ch.Status == ChargeSuccessful:
			out.Type, out.PaymentRef, out.Amount = EventCaptured, ch.ID, ch.captured()
		case ev.Key == KeyChargeReverse || ch.Status == ChargeReversed:
			out.Type, out.PaymentRef, out.Reason = EventReversed, ch.ID, "reversed"
		case ch.lapsedHold():
			// An authorisation that expired uncaptured is released as a reversal is,
			// whichever event (charge.expire, or a later charge.complete) brings it.
			out.Type, out.PaymentRef, out.Reason = EventReversed, ch.ID, "expired"
		default:
			// charge.complete, or a capture whose charge is not successful (yet): the
			// fetched status decides, as for reconciliation.
			st, reason := paymentStatus(ch)
			if st == gateway.StatusOpen {
				st = orders.EventPending
			}
			out.Type, out.Reason = st, reason
			if st == orders.EventSucceeded {
				out.PaymentRef, out.Authorized = ch.ID, heldForCapture(ch)
			}
		}
	case KeyRefundCreate:
		if ev.DataObject != "refund" || ev.ChargeID == "" {
			return nil, fmt.Errorf("%w: refund.create event without a refund of a charge", gateway.ErrMalformed)
		}
		r, err := g.cfg.Client.RetrieveRefund(ctx, ev.ChargeID, ev.DataID)
		if err != nil {
			return nil, err
		}
		ch, err := g.cfg.Client.RetrieveCharge(ctx, ev.ChargeID)
		if err != nil {
			return nil, err
		}
		fromCharge(ch)
		// The total as fetched now, not as of the event: a redelivered or older event
		// reports the same or a larger total, never a refund twice.
		out.Type, out.PaymentRef, out.Amount = EventRefunded, ch.ID, ch.RefundedAmount
		out.RefundID, out.RefundAmount = r.ID, r.Amount
	case KeyDisputeCreate, KeyDisputeUpdate, KeyDisputeClose:
		if ev.DataObject != "dispute" {
			return nil, fmt.Errorf("%w: %s event carries a %s", gateway.ErrMalformed, ev.Key, ev.DataObject)
		}
		d, err := g.cfg.Client.RetrieveDispute(ctx, ev.DataID)
		if err != nil {
			return nil, err
		}
		out.SessionID, out.PaymentRef = d.Charge, d.Charge
		out.Amount, out.Currency = d.Amount, strings.ToUpper(d.Currency)
		out.DisputeID, out.DisputeStatus, out.DisputeAmount = d.ID, d.Status, d.Amount
		out.Dispute = &orders.DisputeDetails{ID: d.ID, Status: d.Status, Reason: d.ReasonCode}
		switch {
		case ev.Key == KeyDisputeClose || d.Status == DisputeWon || d.Status == DisputeLost:
			out.Type = EventDisputeClosed
		case ev.Key == KeyDisputeCreate:
			out.Type = EventDisputeOpened
		default:
			out.Type = EventDisputeUpdated
		}
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedEvent, ev.Key)
	}
	return out, nil
}

// Resolve implements gateway.Resolver: the event ParseWebhook verified carries only
// Omise's snapshot, so the charge (or refund, or dispute) is fetched again and the
// event applied is what the API says now.
func (g *Gateway) Resolve(ctx context.Context, ev *orders.GatewayEvent) (*orders.GatewayEvent, error) {
	parsed, err := ParseEvent(ev.Payload)
	if err != nil {
		return nil, err
	}
	resolved, err := g.ResolveEvent(ctx, parsed)
	if errors.Is(err, ErrUnsupportedEvent) {
		// Omise delivers every event of the account (customers, transfers, schedules)
		// to the endpoint. One chatpay does not act on is recorded as it came, with
		// its unresolved type that the service ignores, and acknowledged: refusing it
		// would only make Omise deliver it again until it gives up.
		return ev, nil
	}
	if err != nil {
		return nil, err
	}
	out := resolved.GatewayEvent
	return &out, nil
}
