package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// Event types the sandbox sends, as they appear on the wire.
const (
	TypeSucceeded = "checkout.succeeded"
	TypeFailed    = "checkout.failed"
	TypePending   = "checkout.pending"
)

// Event is a sandbox webhook body.
type Event struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created int64     `json:"created"`
	Data    EventData `json:"data"`
}

// EventData is the object an event is about: a checkout session.
type EventData struct {
	SessionID string `json:"session_id"`
	Amount    *int64 `json:"amount"`
	Currency  string `json:"currency"`
	PaymentID string `json:"payment_id,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// maxIDLen bounds the identifiers a webhook may carry; real ones are under 50 bytes.
const maxIDLen = 255

// parseEvent verifies and decodes a webhook for a shop's secret.
func parseEvent(secret string, header http.Header, body []byte, now time.Time) (*orders.GatewayEvent, error) {
	// A sender may split signatures over several header lines; treat them as one list.
	if err := verify(secret, strings.Join(header.Values(SignatureHeader), ","), body, now); err != nil {
		return nil, err
	}
	ev, err := decodeEvent(body)
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// decodeEvent decodes a verified body into a normalised event. It is strict about what
// chatpay acts on (ids, amount, currency) and lenient about what it does not (unknown
// fields), so that the sandbox can grow fields without breaking receivers.
func decodeEvent(body []byte) (*orders.GatewayEvent, error) {
	malformed := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", gateway.ErrMalformed, fmt.Sprintf(format, args...))
	}
	if !json.Valid(body) {
		return nil, malformed("body is not valid JSON")
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, malformed("body is not a JSON object")
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, malformed("%v", err)
	}
	d := &e.Data
	for _, f := range []struct{ name, v string }{
		{"id", e.ID}, {"type", e.Type}, {"data.session_id", d.SessionID},
		{"data.payment_id", d.PaymentID}, {"data.reason", d.Reason},
	} {
		if len(f.v) > maxIDLen || !utf8.ValidString(f.v) {
			return nil, malformed("%s must be valid text of at most %d bytes", f.name, maxIDLen)
		}
	}
	if e.ID == "" {
		return nil, malformed("id is missing")
	}
	if e.Type == "" {
		return nil, malformed("type is missing")
	}
	if d.SessionID == "" {
		return nil, malformed("data.session_id is missing")
	}
	ev := &orders.GatewayEvent{
		Gateway:    Name,
		EventID:    e.ID,
		Type:       e.Type,
		SessionID:  d.SessionID,
		PaymentRef: d.PaymentID,
		Reason:     d.Reason,
		Payload:    bytes.Clone(body),
	}
	checkout := true
	switch e.Type {
	case TypeSucceeded:
		ev.Type = orders.EventSucceeded
	case TypeFailed:
		ev.Type = orders.EventFailed
	case TypePending:
		ev.Type = orders.EventPending
	default:
		// Other types are recorded and ignored by the service; pass them through as sent.
		checkout = false
	}
	if d.Amount != nil {
		if *d.Amount < 0 || *d.Amount > orders.MaxAmount {
			return nil, malformed("data.amount must be between 0 and %d, got %d", orders.MaxAmount, *d.Amount)
		}
		ev.Amount = *d.Amount
	} else if checkout {
		return nil, malformed("data.amount is missing")
	}
	if d.Currency != "" || checkout {
		cur, ok := orders.LookupCurrency(d.Currency)
		if !ok {
			return nil, malformed("data.currency %q is not a currency chatpay knows", d.Currency)
		}
		ev.Currency = cur.Code
	}
	return ev, nil
}
