package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// SignatureHeader carries a Stripe webhook's signature: "t=<unix>,v1=<hex>[,v1=…]".
const SignatureHeader = "Stripe-Signature"

// Tolerance is how far a webhook's timestamp may be from the receiver's clock. Stripe's
// libraries default to the same five minutes.
const Tolerance = 300 * time.Second

// Bounds on the header, checked before stripe-go parses it: a real header is about 150
// bytes with one or two v1 entries (two while a secret is rolled). Anything far larger
// is an attack on the parser, and each v1 entry costs an HMAC per configured secret.
const (
	maxSignatureHeader = 4096
	maxSignatures      = 8
)

// maxIDLen bounds the identifiers an event may carry; Stripe's are under 100 bytes.
const maxIDLen = 255

// maxReasonLen bounds a failure reason kept from an event (Stripe's messages are
// sentences, but the field is free text).
const maxReasonLen = 500

// Event types for what orders.GatewayEvent cannot express yet. The service records
// events of these types and ignores them; the values are what the domain's own
// constants can later take over. Stripe's own type names always contain a dot, so these
// never collide with an event type passed through as Stripe sent it.
const (
	// TypeDisputeCreated, Updated, Closed: a chargeback's life; the domain's
	// orders.EventDispute* types, which the service applies. GatewayEvent.Dispute
	// carries the details (status mapped by DisputeStatus); DisputeOf decodes the rest.
	TypeDisputeCreated = orders.EventDisputeOpened
	TypeDisputeUpdated = orders.EventDisputeUpdated
	TypeDisputeClosed  = orders.EventDisputeClosed
	// TypePaymentAttemptFailed: one try to pay inside a Checkout Session failed (a
	// declined card). The session stays open and the customer can try again, so this
	// is not orders.EventFailed; SessionID is empty because a PaymentIntent does not
	// name its Checkout Session.
	TypePaymentAttemptFailed = "payment_attempt_failed"
	// TypeForeignSession: a Checkout Session chatpay did not create (the shop's Stripe
	// account is also used elsewhere). Recorded, but not reported as unknown.
	TypeForeignSession = "foreign_session"
)

// normalisedTypes are the types normalise assigns; no passed-through type may equal one.
var normalisedTypes = map[string]bool{
	orders.EventSucceeded: true, orders.EventFailed: true, orders.EventPending: true,
	orders.EventRefunded: true, orders.EventCaptured: true, orders.EventVoided: true, TypeDisputeCreated: true, TypeDisputeUpdated: true, TypeDisputeClosed: true,
	TypePaymentAttemptFailed: true, TypeForeignSession: true,
}

// TypeRefunded is the type of a charge.refunded event: money was returned on a charge
// (by chatpay or on the dashboard). It is the domain's orders.EventRefunded, so the
// service applies it: Amount is the charge's cumulative refunded amount (see RefundOf)
// and PaymentRef its PaymentIntent, the ref a completed checkout records.
const TypeRefunded = orders.EventRefunded

// Failure reasons for session outcomes that carry no error message of their own.
const (
	ReasonExpired            = "expired"
	ReasonAsyncPaymentFailed = "async_payment_failed"
)

// Stripe event types this package maps.
const (
	stripeSessionCompleted          = "checkout.session.completed"
	stripeSessionAsyncSucceeded     = "checkout.session.async_payment_succeeded"
	stripeSessionAsyncFailed        = "checkout.session.async_payment_failed"
	stripeSessionExpired            = "checkout.session.expired"
	stripePaymentIntentFailed       = "payment_intent.payment_failed"
	stripePaymentIntentCanceled     = "payment_intent.canceled"
	stripeChargeCaptured            = "charge.captured"
	stripeChargeRefunded            = "charge.refunded"
	stripeChargeDisputeCreated      = "charge.dispute.created"
	stripeChargeDisputeUpdated      = "charge.dispute.updated"
	stripeChargeDisputeClosed       = "charge.dispute.closed"
	stripeChargeDisputeFundsWithdrn = "charge.dispute.funds_withdrawn"
)

// ParseWebhook verifies the Stripe-Signature header against each configured secret and
// normalises the event. now must be close to the wall clock: stripe-go measures the
// timestamp's age with time.Since, and this package also checks it against now (in both
// directions, which stripe-go does not).
func (g *Gateway) ParseWebhook(header http.Header, body []byte, now time.Time) (*orders.GatewayEvent, error) {
	return parseWebhook(g.secrets, header, body, now)
}

func parseWebhook(secrets []string, header http.Header, body []byte, now time.Time) (*orders.GatewayEvent, error) {
	// A proxy may split a header over several lines; stripe-go wants one list.
	sig := strings.Join(header.Values(SignatureHeader), ",")
	if err := precheckSignature(sig, now); err != nil {
		return nil, err
	}
	var (
		ev  stripego.Event
		err error
	)
	for _, secret := range secrets {
		ev, err = webhook.ConstructEventWithOptions(body, sig, secret, webhook.ConstructEventOptions{
			Tolerance: Tolerance,
			// The endpoint's API version is whatever the shop chose in its dashboard;
			// the fields read below are stable across versions, and unknown fields are
			// ignored, so a version mismatch must not drop payments.
			IgnoreAPIVersionMismatch: true,
		})
		if err == nil || !errors.Is(err, webhook.ErrNoValidSignature) {
			break // verified (or failed for a reason no other secret changes)
		}
	}
	if err != nil {
		switch {
		case errors.Is(err, webhook.ErrNoValidSignature):
			return nil, fmt.Errorf("%w: no signature matches", gateway.ErrSignature)
		case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader), errors.Is(err, webhook.ErrTooOld):
			return nil, fmt.Errorf("%w: %v", gateway.ErrSignature, err)
		default:
			// stripe-go checks the signature before it reads the body, so any other
			// error is about a signed body it could not decode.
			return nil, fmt.Errorf("%w: %v", gateway.ErrMalformed, err)
		}
	}
	return normalise(&ev, body)
}

// precheckSignature bounds the header and checks its timestamp against now, before
// stripe-go computes any MAC. stripe-go repeats the parse and verifies the signatures.
func precheckSignature(sig string, now time.Time) error {
	if sig == "" {
		return fmt.Errorf("%w: %s header is missing", gateway.ErrSignature, SignatureHeader)
	}
	if len(sig) > maxSignatureHeader {
		return fmt.Errorf("%w: %s header is too long", gateway.ErrSignature, SignatureHeader)
	}
	var ts string
	n := 0
	for part := range strings.SplitSeq(sig, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			if ts != "" && ts != v {
				return fmt.Errorf("%w: %s header has two timestamps", gateway.ErrSignature, SignatureHeader)
			}
			ts = v
		case "v1":
			if n++; n > maxSignatures {
				return fmt.Errorf("%w: %s header has more than %d signatures", gateway.ErrSignature, SignatureHeader, maxSignatures)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s header has no valid timestamp", gateway.ErrSignature, SignatureHeader)
	}
	age := now.Unix() - unix
	if age > int64(Tolerance/time.Second) {
		return fmt.Errorf("%w: timestamp is %d seconds old (tolerance %s)", gateway.ErrSignature, age, Tolerance)
	}
	if -age > int64(Tolerance/time.Second) {
		return fmt.Errorf("%w: timestamp is %d seconds in the future (tolerance %s)", gateway.ErrSignature, -age, Tolerance)
	}
	return nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", gateway.ErrMalformed, fmt.Sprintf(format, args...))
}

// validText reports whether s can be stored as an identifier.
func validText(s string, max int) bool { return len(s) <= max && utf8.ValidString(s) }

// normalise maps a verified event. Objects are decoded with stripe-go's types, which
// accept both an id and an expanded object wherever Stripe may send either.
func normalise(e *stripego.Event, body []byte) (*orders.GatewayEvent, error) {
	if e.ID == "" || !validText(e.ID, maxIDLen) {
		return nil, malformed("event id is missing or invalid")
	}
	if e.Type == "" || !validText(string(e.Type), maxIDLen) {
		return nil, malformed("event type is missing or invalid")
	}
	if e.Data == nil || len(e.Data.Raw) == 0 {
		return nil, malformed("event %s has no data.object", e.ID)
	}
	ev := &orders.GatewayEvent{
		Gateway: Name,
		EventID: e.ID,
		Type:    string(e.Type),
		Payload: bytes.Clone(body),
	}
	var err error
	switch string(e.Type) {
	case stripeSessionCompleted, stripeSessionAsyncSucceeded, stripeSessionAsyncFailed, stripeSessionExpired:
		err = sessionEvent(ev, string(e.Type), e.Data.Raw)
	case stripePaymentIntentFailed:
		err = paymentIntentFailed(ev, e.Data.Raw)
	case stripePaymentIntentCanceled:
		err = paymentIntentCanceled(ev, e.Data.Raw)
	case stripeChargeCaptured:
		err = chargeCaptured(ev, e.Data.Raw)
	case stripeChargeRefunded:
		var r *Refund
		if r, err = decodeRefund(e.Data.Raw); err == nil {
			ev.Type, ev.PaymentRef, ev.Amount, ev.Currency = TypeRefunded, r.PaymentRef, r.AmountRefunded, r.Currency
		}
	case stripeChargeDisputeCreated, stripeChargeDisputeUpdated, stripeChargeDisputeClosed, stripeChargeDisputeFundsWithdrn:
		var d *Dispute
		if d, err = decodeDispute(e.Data.Raw); err == nil {
			ev.Type = map[string]string{
				stripeChargeDisputeCreated: TypeDisputeCreated,
				stripeChargeDisputeUpdated: TypeDisputeUpdated,
				// Funds withdrawn is a dispute update that moved money; the domain
				// tracks the dispute, not the balance.
				stripeChargeDisputeFundsWithdrn: TypeDisputeUpdated,
				stripeChargeDisputeClosed:       TypeDisputeClosed,
			}[string(e.Type)]
			ev.PaymentRef, ev.Amount, ev.Currency, ev.Reason = d.PaymentRef, d.Amount, d.Currency, d.Reason
			det := &orders.DisputeDetails{ID: d.ID, Status: DisputeStatus(d.Status), Reason: d.Reason}
			if !d.EvidenceDueBy.IsZero() {
				due := d.EvidenceDueBy
				det.EvidenceDueAt = &due
			}
			ev.Dispute = det
		}
	default:
		// Other types are recorded and ignored by the service; pass them through as
		// sent, unless the name is one of the normalised types (Stripe's all contain a
		// dot, but the service must never act on a type it was not mapped to).
		if normalisedTypes[ev.Type] {
			ev.Type = "stripe:" + ev.Type
		}
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// eventCurrency converts an event's currency. A currency chatpay does not know is kept
// as sent, upper-cased and unscaled: the event is genuine, and the service reports an
// amount mismatch rather than chatpay rejecting (and Stripe endlessly retrying) it.
func eventCurrency(code string) currency {
	if c, err := stripeCurrency(code); err == nil {
		return c
	}
	return currency{code: strings.ToUpper(code), stripeCode: code, scale: 1}
}

func sessionEvent(ev *orders.GatewayEvent, typ string, raw json.RawMessage) error {
	var s stripego.CheckoutSession
	if err := json.Unmarshal(raw, &s); err != nil {
		return malformed("checkout session: %v", err)
	}
	if s.ID == "" || !validText(s.ID, maxIDLen) {
		return malformed("checkout session id is missing or invalid")
	}
	if !validText(string(s.Currency), 16) {
		return malformed("checkout session currency is invalid")
	}
	ev.SessionID = s.ID
	if s.PaymentIntent != nil {
		if !validText(s.PaymentIntent.ID, maxIDLen) {
			return malformed("checkout session payment_intent is invalid")
		}
		ev.PaymentRef = s.PaymentIntent.ID
	}
	cur := eventCurrency(string(s.Currency))
	if s.AmountTotal < 0 {
		return malformed("checkout session amount_total is negative")
	}
	ev.Amount, ev.Currency = cur.fromStripe(s.AmountTotal), cur.code
	if s.ClientReferenceID == "" && s.Metadata[MetaAttemptID] == "" {
		ev.Type = TypeForeignSession
		return nil
	}
	switch typ {
	case stripeSessionCompleted:
		// Delayed payment methods (bank debits, vouchers) complete the session unpaid;
		// async_payment_succeeded or _failed follows.
		if s.PaymentStatus == stripego.CheckoutSessionPaymentStatusPaid {
			ev.Type = orders.EventSucceeded
			// With manual capture Checkout reports "paid" for money it only holds.
			ev.Authorized = s.Metadata[MetaCapture] == CaptureManual ||
				(s.PaymentIntent != nil && s.PaymentIntent.Status == stripego.PaymentIntentStatusRequiresCapture)
		} else {
			ev.Type = orders.EventPending
		}
	case stripeSessionAsyncSucceeded:
		ev.Type = orders.EventSucceeded
	case stripeSessionAsyncFailed:
		ev.Type, ev.Reason = orders.EventFailed, ReasonAsyncPaymentFailed
	case stripeSessionExpired:
		ev.Type, ev.Reason = orders.EventFailed, ReasonExpired
	}
	return nil
}

func paymentIntentFailed(ev *orders.GatewayEvent, raw json.RawMessage) error {
	var pi stripego.PaymentIntent
	if err := json.Unmarshal(raw, &pi); err != nil {
		return malformed("payment intent: %v", err)
	}
	if pi.ID == "" || !validText(pi.ID, maxIDLen) {
		return malformed("payment intent id is missing or invalid")
	}
	cur := eventCurrency(string(pi.Currency))
	ev.Type, ev.PaymentRef = TypePaymentAttemptFailed, pi.ID
	ev.Amount, ev.Currency = cur.fromStripe(max(pi.Amount, 0)), cur.code
	if pi.LastPaymentError != nil {
		ev.Reason = truncate(strings.ToValidUTF8(paymentErrorReason(pi.LastPaymentError), ""), maxReasonLen)
	}
	return nil
}

// paymentIntentCanceled maps payment_intent.canceled to orders.EventVoided: an intent
// whose authorisation was released, by chatpay (Void), in the dashboard, or by Stripe
// when it expired (cancellation_reason "automatic" or "expired"). Intents of
// abandoned Checkout Sessions are cancelled too; they name no payment chatpay
// recorded, and the service ignores them.
func paymentIntentCanceled(ev *orders.GatewayEvent, raw json.RawMessage) error {
	var pi stripego.PaymentIntent
	if err := json.Unmarshal(raw, &pi); err != nil {
		return malformed("payment intent: %v", err)
	}
	if pi.ID == "" || !validText(pi.ID, maxIDLen) {
		return malformed("payment intent id is missing or invalid")
	}
	if !validText(string(pi.CancellationReason), maxIDLen) {
		return malformed("payment intent cancellation_reason is invalid")
	}
	cur := eventCurrency(string(pi.Currency))
	ev.Type, ev.PaymentRef, ev.Reason = orders.EventVoided, pi.ID, string(pi.CancellationReason)
	ev.Amount, ev.Currency = cur.fromStripe(max(pi.Amount, 0)), cur.code
	return nil
}

// chargeCaptured maps charge.captured to orders.EventCaptured: an authorised charge was
// captured, by chatpay (Capture) or in the dashboard. Amount is amount_captured, which
// is less than the charge's amount after a partial capture; PaymentRef is the charge's
// PaymentIntent, the ref a completed checkout records.
func chargeCaptured(ev *orders.GatewayEvent, raw json.RawMessage) error {
	var c stripego.Charge
	if err := json.Unmarshal(raw, &c); err != nil {
		return malformed("charge: %v", err)
	}
	if c.ID == "" || !validText(c.ID, maxIDLen) {
		return malformed("charge id is missing or invalid")
	}
	if c.AmountCaptured < 0 {
		return malformed("charge amount_captured is negative")
	}
	ev.Type, ev.PaymentRef = orders.EventCaptured, c.ID
	if c.PaymentIntent != nil && c.PaymentIntent.ID != "" {
		if !validText(c.PaymentIntent.ID, maxIDLen) {
			return malformed("charge payment_intent is invalid")
		}
		ev.PaymentRef = c.PaymentIntent.ID
	}
	cur := eventCurrency(string(c.Currency))
	ev.Amount, ev.Currency = cur.fromStripe(c.AmountCaptured), cur.code
	return nil
}

// Refund is what a charge.refunded event says, in chatpay's minor units.
type Refund struct {
	ChargeID string
	// PaymentRef is the charge's PaymentIntent (what Refund is called with), or the
	// charge id for a charge made without one.
	PaymentRef string
	Amount     int64 // the charge's amount
	// AmountRefunded is cumulative over every refund of the charge, so a replayed or
	// reordered event never counts a refund twice.
	AmountRefunded int64
	Currency       string
	// FullyRefunded is Stripe's charge.refunded flag.
	FullyRefunded bool
}

// RefundOf decodes the refund details of a TypeRefunded event from its payload.
func RefundOf(ev *orders.GatewayEvent) (*Refund, error) {
	raw, err := objectOf(ev, TypeRefunded)
	if err != nil {
		return nil, err
	}
	return decodeRefund(raw)
}

func decodeRefund(raw json.RawMessage) (*Refund, error) {
	var c stripego.Charge
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, malformed("charge: %v", err)
	}
	if c.ID == "" || !validText(c.ID, maxIDLen) {
		return nil, malformed("charge id is missing or invalid")
	}
	if c.Amount < 0 || c.AmountRefunded < 0 {
		return nil, malformed("charge amounts must not be negative")
	}
	cur := eventCurrency(string(c.Currency))
	r := &Refund{
		ChargeID:       c.ID,
		PaymentRef:     c.ID,
		Amount:         cur.fromStripe(c.Amount),
		AmountRefunded: cur.fromStripe(c.AmountRefunded),
		Currency:       cur.code,
		FullyRefunded:  c.Refunded,
	}
	if !c.Captured {
		// A charge that was never captured took nothing, so nothing of it was refunded.
		// API versions before 2025-03-31 record the release of an uncaptured hold (a
		// cancelled or expired authorisation) as a refund of all of it and send
		// charge.refunded for it; read as a refund, it would record money returned
		// that was never taken and tell the customer so.
		r.AmountRefunded, r.FullyRefunded = 0, false
	}
	if c.PaymentIntent != nil && c.PaymentIntent.ID != "" {
		if !validText(c.PaymentIntent.ID, maxIDLen) {
			return nil, malformed("charge payment_intent is invalid")
		}
		r.PaymentRef = c.PaymentIntent.ID
	}
	return r, nil
}

// Dispute is what a charge.dispute.* event says, in chatpay's minor units.
type Dispute struct {
	ID       string
	ChargeID string
	// PaymentRef is the disputed PaymentIntent, or the charge id without one.
	PaymentRef string
	Amount     int64
	Currency   string
	// Status is Stripe's: warning_needs_response, needs_response, under_review, won,
	// lost, prevented, warning_under_review, warning_closed.
	Status string
	// Reason is the cardholder's stated reason (fraudulent, product_not_received, …).
	Reason string
	// EvidenceDueBy is when the shop must have submitted evidence; zero when none is due.
	EvidenceDueBy time.Time
	// ChargeRefundable reports whether refunding the charge can still settle the
	// dispute (inquiries and warnings).
	ChargeRefundable bool
}

// DisputeStatus maps Stripe's dispute status onto chatpay's four:
//
//   - warning_needs_response, needs_response → open (the shop can still answer);
//   - warning_under_review, under_review → pending (evidence is with the bank);
//   - won, and also prevented and warning_closed (an inquiry or early warning that
//     ended without a chargeback: the shop keeps the money) → won;
//   - lost → lost.
//
// An unknown status is taken as open: the dispute needs the shop's attention.
func DisputeStatus(s string) string {
	switch s {
	case "warning_under_review", "under_review":
		return orders.DisputePending
	case "won", "prevented", "warning_closed":
		return orders.DisputeWon
	case "lost":
		return orders.DisputeLost
	}
	return orders.DisputeOpen
}

// DisputeOf decodes the dispute details of a TypeDispute* event from its payload.
func DisputeOf(ev *orders.GatewayEvent) (*Dispute, error) {
	raw, err := objectOf(ev, TypeDisputeCreated, TypeDisputeUpdated, TypeDisputeClosed)
	if err != nil {
		return nil, err
	}
	return decodeDispute(raw)
}

func decodeDispute(raw json.RawMessage) (*Dispute, error) {
	var d stripego.Dispute
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, malformed("dispute: %v", err)
	}
	if d.ID == "" || !validText(d.ID, maxIDLen) {
		return nil, malformed("dispute id is missing or invalid")
	}
	if d.Amount < 0 {
		return nil, malformed("dispute amount is negative")
	}
	for _, s := range []string{string(d.Status), string(d.Reason)} {
		if !validText(s, maxIDLen) {
			return nil, malformed("dispute status or reason is invalid")
		}
	}
	cur := eventCurrency(string(d.Currency))
	out := &Dispute{
		ID:               d.ID,
		Amount:           cur.fromStripe(d.Amount),
		Currency:         cur.code,
		Status:           string(d.Status),
		Reason:           string(d.Reason),
		ChargeRefundable: d.IsChargeRefundable,
	}
	if d.Charge != nil {
		if !validText(d.Charge.ID, maxIDLen) {
			return nil, malformed("dispute charge is invalid")
		}
		out.ChargeID, out.PaymentRef = d.Charge.ID, d.Charge.ID
	}
	if d.PaymentIntent != nil && d.PaymentIntent.ID != "" {
		if !validText(d.PaymentIntent.ID, maxIDLen) {
			return nil, malformed("dispute payment_intent is invalid")
		}
		out.PaymentRef = d.PaymentIntent.ID
	}
	if d.EvidenceDetails != nil && d.EvidenceDetails.DueBy > 0 {
		out.EvidenceDueBy = time.Unix(d.EvidenceDetails.DueBy, 0).UTC()
	}
	return out, nil
}

// objectOf returns data.object of a normalised event's payload after checking its type.
func objectOf(ev *orders.GatewayEvent, types ...string) (json.RawMessage, error) {
	if ev == nil || ev.Gateway != Name {
		return nil, fmt.Errorf("stripe: not a Stripe event")
	}
	ok := false
	for _, t := range types {
		ok = ok || ev.Type == t
	}
	if !ok {
		return nil, fmt.Errorf("stripe: event %s is of type %q, want one of %q", ev.EventID, ev.Type, types)
	}
	var e struct {
		Data struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(ev.Payload, &e); err != nil || len(e.Data.Object) == 0 {
		return nil, malformed("event %s payload has no data.object", ev.EventID)
	}
	return e.Data.Object, nil
}
