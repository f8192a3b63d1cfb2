package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatpay/chatpay/gateway"
)

// SignatureHeader carries a sandbox webhook's signature: "t=<unix>,v1=<hex>".
const SignatureHeader = "Chatpay-Sandbox-Signature"

// Tolerance is how far a webhook's timestamp may be from the receiver's clock, either
// way. It bounds how long a captured delivery can be replayed.
const Tolerance = 300 * time.Second

// maxSignatureHeader bounds the header we are willing to parse. A real header is under
// a hundred bytes; anything far larger is an attack on the parser, not a gateway.
const maxSignatureHeader = 4096

// maxSignatures bounds how many v1 entries one header may carry (secret rotation needs
// two; a handful leaves room without letting a sender make us compute hundreds of MACs).
const maxSignatures = 8

// Sign returns the signature header value for body at time t: the HMAC-SHA256 of
// "<unix seconds>.<body>" keyed with the shop's webhook secret, in the format Stripe
// popularised, so that a timestamp cannot be swapped without breaking the MAC.
func Sign(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// signatureHeader is a parsed signature header. ts is kept as sent, because the MAC
// covers the exact digits the sender signed.
type signatureHeader struct {
	ts   string
	unix int64
	v1   [][]byte
}

// parseSignatureHeader parses "t=<unix>,v1=<hex>[,v1=<hex>...]". Unknown schemes (v0,
// future versions) are skipped, as are v1 entries that are not 32 bytes of hex: they can
// never match, and rejecting the whole header for them would break rotation.
func parseSignatureHeader(s string) (*signatureHeader, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: %s header is missing", gateway.ErrSignature, SignatureHeader)
	}
	if len(s) > maxSignatureHeader {
		return nil, fmt.Errorf("%w: %s header is too long", gateway.ErrSignature, SignatureHeader)
	}
	var h signatureHeader
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if h.ts != "" {
				return nil, fmt.Errorf("%w: %s header has more than one timestamp", gateway.ErrSignature, SignatureHeader)
			}
			if !allDigits(v) || len(v) > 12 {
				return nil, fmt.Errorf("%w: %s timestamp %q is not unix seconds", gateway.ErrSignature, SignatureHeader, v)
			}
			h.ts = v
			h.unix, _ = strconv.ParseInt(v, 10, 64) // 12 digits always fit
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				continue
			}
			if len(h.v1) == maxSignatures {
				return nil, fmt.Errorf("%w: %s header has more than %d signatures", gateway.ErrSignature, SignatureHeader, maxSignatures)
			}
			h.v1 = append(h.v1, sig)
		}
	}
	if h.ts == "" {
		return nil, fmt.Errorf("%w: %s header has no timestamp", gateway.ErrSignature, SignatureHeader)
	}
	if len(h.v1) == 0 {
		return nil, fmt.Errorf("%w: %s header has no v1 signature", gateway.ErrSignature, SignatureHeader)
	}
	return &h, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// verify checks the header against body with secret at now: the timestamp must be
// within Tolerance either way and one of the v1 signatures must match. Every signature
// is compared in constant time, and all of them are compared, so that timing reveals
// neither the expected MAC nor which entry matched.
func verify(secret, header string, body []byte, now time.Time) error {
	h, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}
	age := now.Unix() - h.unix
	if age > int64(Tolerance/time.Second) {
		return fmt.Errorf("%w: timestamp is %d seconds old (tolerance %s)", gateway.ErrSignature, age, Tolerance)
	}
	if -age > int64(Tolerance/time.Second) {
		return fmt.Errorf("%w: timestamp is %d seconds in the future (tolerance %s)", gateway.ErrSignature, -age, Tolerance)
	}
	want := mac(secret, h.ts, body)
	ok := false
	for _, sig := range h.v1 {
		if hmac.Equal(sig, want) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: no signature matches", gateway.ErrSignature)
	}
	return nil
}
