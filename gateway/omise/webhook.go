package omise

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatpay/chatpay/gateway"
)

// Webhook headers.
const (
	SignatureHeader = "Omise-Signature"
	TimestampHeader = "Omise-Signature-Timestamp"
)

// Tolerance is how far a webhook's timestamp may be from our clock, either way.
const Tolerance = 300 * time.Second

// maxSignatureHeader and maxSignatures bound the parser: a real header is one or two
// 64-character signatures.
const (
	maxSignatureHeader = 1024
	maxSignatures      = 4
)

// DecodeSecret decodes a webhook secret as the dashboard shows it (base64). Standard and
// URL alphabets, padded or not, are accepted; an empty or undecodable secret is an error.
func DecodeSecret(secret string) ([]byte, error) {
	s := strings.TrimSpace(secret)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) > 0 {
			return k, nil
		}
	}
	return nil, errors.New("omise: webhook secret is not base64")
}

// Sign returns the Omise-Signature value for body at timestamp ts (unix seconds as
// sent): hex HMAC-SHA256 keyed with the decoded secret over "<ts>.<body>". omisetest
// and tests sign with it.
func Sign(secret string, ts string, body []byte) (string, error) {
	key, err := DecodeSecret(secret)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(mac(key, ts, body)), nil
}

func mac(key []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// ParseSignatures parses an Omise-Signature value: one or more comma-separated hex
// HMAC-SHA256 signatures (two while a secret is being rotated). Entries that are not 32
// bytes of hex are skipped, since they can never match; a header with none left is an
// error wrapping gateway.ErrSignature.
func ParseSignatures(s string) ([][]byte, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: %s header is missing", gateway.ErrSignature, SignatureHeader)
	}
	if len(s) > maxSignatureHeader {
		return nil, fmt.Errorf("%w: %s header is too long", gateway.ErrSignature, SignatureHeader)
	}
	var sigs [][]byte
	for part := range strings.SplitSeq(s, ",") {
		sig, err := hex.DecodeString(strings.TrimSpace(part))
		if err != nil || len(sig) != sha256.Size {
			continue
		}
		if len(sigs) == maxSignatures {
			return nil, fmt.Errorf("%w: %s header has more than %d signatures", gateway.ErrSignature, SignatureHeader, maxSignatures)
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("%w: %s header has no well-formed signature", gateway.ErrSignature, SignatureHeader)
	}
	return sigs, nil
}

// parseTimestamp parses Omise-Signature-Timestamp: unix seconds, digits only.
func parseTimestamp(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: %s header is missing", gateway.ErrSignature, TimestampHeader)
	}
	if len(s) > 12 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%w: %s %q is not unix seconds", gateway.ErrSignature, TimestampHeader, s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// VerifyWebhook checks a delivery's signature against each configured secret (the
// current one, and during a rotation on our side, the previous one): the timestamp must
// be within Tolerance of now and one signature in the header must match. All pairs are
// compared in constant time, and all of them are compared, so that timing reveals
// neither the expected MAC nor which entry matched. Errors wrap gateway.ErrSignature.
func VerifyWebhook(header http.Header, body []byte, now time.Time, secrets ...string) error {
	tsRaw := header.Get(TimestampHeader)
	ts, err := parseTimestamp(tsRaw)
	if err != nil {
		return err
	}
	// Senders may split one list over several header lines; treat them as one.
	sigs, err := ParseSignatures(strings.Join(header.Values(SignatureHeader), ","))
	if err != nil {
		return err
	}
	age := now.Unix() - ts
	if age > int64(Tolerance/time.Second) {
		return fmt.Errorf("%w: timestamp is %d seconds old (tolerance %s)", gateway.ErrSignature, age, Tolerance)
	}
	if -age > int64(Tolerance/time.Second) {
		return fmt.Errorf("%w: timestamp is %d seconds in the future (tolerance %s)", gateway.ErrSignature, -age, Tolerance)
	}
	ok, keys := false, 0
	for _, s := range secrets {
		key, err := DecodeSecret(s)
		if err != nil {
			continue
		}
		keys++
		want := mac(key, tsRaw, body)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				ok = true
			}
		}
	}
	if keys == 0 {
		return fmt.Errorf("%w: no usable webhook secret is configured", gateway.ErrSignature)
	}
	if !ok {
		return fmt.Errorf("%w: no signature matches", gateway.ErrSignature)
	}
	return nil
}

// Event keys chatpay handles.
const (
	KeyChargeComplete = "charge.complete"
	KeyChargeCapture  = "charge.capture"
	KeyChargeReverse  = "charge.reverse"
	// KeyChargeExpire is sent when a charge expires (see the package doc for what
	// rests on Omise's documentation). Only an expired authorisation becomes an event
	// chatpay acts on; an unpaid QR that expired resolves to a failed payment.
	KeyChargeExpire  = "charge.expire"
	KeyRefundCreate  = "refund.create"
	KeyDisputeCreate = "dispute.create"
	KeyDisputeUpdate = "dispute.update"
	KeyDisputeClose  = "dispute.close"
)

// Event is a verified webhook body: Omise's event envelope. Data is the snapshot of the
// object the event is about, serialised in the account's default API version; chatpay
// uses only its type and ids and re-fetches the object (Gateway.ResolveEvent).
type Event struct {
	ID        string
	Key       string
	Livemode  bool
	CreatedAt time.Time
	// DataObject is data.object ("charge", "refund", "dispute", ...), DataID is data.id.
	DataObject string
	DataID     string
	// ChargeID is the charge a refund or dispute snapshot names (data.charge), if any;
	// a refund can only be fetched through its charge.
	ChargeID string
	Data     json.RawMessage
}

// maxIDLen bounds identifiers from a webhook; Omise's are about 30 bytes.
const maxIDLen = 255

// maxEventBody bounds a webhook body; a charge snapshot is a few kilobytes.
const maxEventBody = 1 << 20

// ParseEvent decodes an event envelope. It does not verify anything: call VerifyWebhook
// first. Errors wrap gateway.ErrMalformed.
func ParseEvent(body []byte) (*Event, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", gateway.ErrMalformed, fmt.Sprintf(format, args...))
	}
	if len(body) > maxEventBody {
		return nil, bad("body is %d bytes", len(body))
	}
	var env struct {
		Object    string          `json:"object"`
		ID        string          `json:"id"`
		Key       string          `json:"key"`
		Livemode  bool            `json:"livemode"`
		CreatedAt string          `json:"created_at"`
		Data      json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return nil, bad("not a JSON event: %v", err)
	}
	if dec.More() {
		return nil, bad("trailing data after the event")
	}
	if env.Object != "event" {
		return nil, bad("object is %q, not \"event\"", env.Object)
	}
	if !validID(env.ID) {
		return nil, bad("event id %q is missing or invalid", env.ID)
	}
	if env.Key == "" || len(env.Key) > 64 {
		return nil, bad("event key is missing or too long")
	}
	var data struct {
		Object string          `json:"object"`
		ID     string          `json:"id"`
		Charge json.RawMessage `json:"charge"`
	}
	if len(env.Data) == 0 || json.Unmarshal(env.Data, &data) != nil {
		return nil, bad("event data is missing or not an object")
	}
	if data.Object == "" || len(data.Object) > 64 {
		return nil, bad("event data has no object type")
	}
	if !validID(data.ID) {
		return nil, bad("event data id %q is missing or invalid", data.ID)
	}
	ev := &Event{ID: env.ID, Key: env.Key, Livemode: env.Livemode, DataObject: data.Object, DataID: data.ID, Data: env.Data}
	if env.CreatedAt != "" {
		t, err := time.Parse(time.RFC3339, env.CreatedAt)
		if err != nil {
			return nil, bad("created_at %q is not RFC 3339", env.CreatedAt)
		}
		ev.CreatedAt = t
	}
	// data.charge is an id, or the charge object when expanded.
	if len(data.Charge) > 0 && string(data.Charge) != "null" {
		var id string
		if json.Unmarshal(data.Charge, &id) != nil {
			var obj struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(data.Charge, &obj) != nil {
				return nil, bad("event data charge is neither an id nor an object")
			}
			id = obj.ID
		}
		if id != "" && !validID(id) {
			return nil, bad("event data charge id %q is invalid", id)
		}
		ev.ChargeID = id
	}
	if ev.DataObject == "charge" {
		ev.ChargeID = ev.DataID
	}
	return ev, nil
}

// validID accepts Omise-shaped ids: non-empty, bounded, [A-Za-z0-9_-].
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
