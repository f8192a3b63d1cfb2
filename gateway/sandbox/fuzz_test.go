package sandbox_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
)

// FuzzParseWebhook feeds arbitrary bodies and event fields to the parser. It must never
// panic, must only fail with ErrSignature or ErrMalformed, must never accept a body
// under someone else's signature, and must accept every well-formed body we sign.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(validBody), "evt_1", "checkout.succeeded", "cs_sbx_1", int64(330000), "VND", "pi_1", "")
	f.Add([]byte(`{"id":"e","type":"checkout.failed","data":{"session_id":"s","amount":0,"currency":"thb","reason":"card_declined"}}`),
		"e", "checkout.failed", "s", int64(0), "thb", "", "card_declined")
	f.Add([]byte(`{"id":"e","type":"x","data":{"session_id":"s"}}`), "e", "charge.refunded", "s", int64(5), "", "", "")
	f.Add([]byte(`[]`), "", "", "", int64(-1), "DOGE", "", "")
	f.Add([]byte(`{"id":"\ud800","type":"checkout.pending","data":{"session_id":"s","amount":1e3,"currency":"USD"}}`),
		"\xff", "checkout.pending", "s", int64(1e15), "usd", "", "")
	f.Add([]byte("{\"id\":\"e\",\"type\":\"checkout.succeeded\",\"data\":null}"), "e", "checkout.succeeded", "s", int64(1e15+1), "VND", "", "")
	f.Add([]byte(""), "e", "checkout.succeeded", strings.Repeat("s", 300), int64(1), "VND", "", "")

	gw := parser(f)
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, body []byte, id, typ, session string, amount int64, currency, paymentID, reason string) {
		// Arbitrary body, correctly signed: either parses or is malformed.
		ev, err := gw.ParseWebhook(signed(body, now), body, now)
		if err != nil {
			require.ErrorIs(t, err, gateway.ErrMalformed)
			require.False(t, errors.Is(err, gateway.ErrSignature))
		} else {
			require.NotEmpty(t, ev.EventID)
			require.NotEmpty(t, ev.Type)
			require.NotEmpty(t, ev.SessionID)
			require.GreaterOrEqual(t, ev.Amount, int64(0))
			require.Equal(t, "sandbox", ev.Gateway)
			require.Equal(t, body, ev.Payload)
		}

		// The same body under another secret or with a fuzzed header never passes.
		_, err = gw.ParseWebhook(http.Header{sandbox.SignatureHeader: {sandbox.Sign("other", body, now)}}, body, now)
		require.ErrorIs(t, err, gateway.ErrSignature)
		_, err = gw.ParseWebhook(http.Header{sandbox.SignatureHeader: {id + "," + typ}}, body, now)
		require.ErrorIs(t, err, gateway.ErrSignature)

		// A well-formed event built from the fields must round-trip. json.Marshal
		// replaces invalid UTF-8, so such fields cannot round-trip and are skipped.
		for _, s := range []string{id, typ, session, currency, paymentID, reason} {
			if !utf8.ValidString(s) {
				return
			}
		}
		amt := amount
		raw, err := json.Marshal(sandbox.Event{ID: id, Type: typ, Created: now.Unix(), Data: sandbox.EventData{
			SessionID: session, Amount: &amt, Currency: currency, PaymentID: paymentID, Reason: reason,
		}})
		require.NoError(t, err)
		ev, err = gw.ParseWebhook(signed(raw, now), raw, now)
		if !wellFormed(id, typ, session, amount, currency, paymentID, reason) {
			require.ErrorIs(t, err, gateway.ErrMalformed)
			return
		}
		require.NoError(t, err)
		require.Equal(t, id, ev.EventID)
		require.Equal(t, session, ev.SessionID)
		require.Equal(t, amount, ev.Amount)
		require.Equal(t, strings.ToUpper(currency), ev.Currency)
		require.Equal(t, paymentID, ev.PaymentRef)
		require.Equal(t, reason, ev.Reason)
		switch typ {
		case "checkout.succeeded":
			require.Equal(t, orders.EventSucceeded, ev.Type)
		case "checkout.failed":
			require.Equal(t, orders.EventFailed, ev.Type)
		case "checkout.pending":
			require.Equal(t, orders.EventPending, ev.Type)
		default:
			require.Equal(t, typ, ev.Type)
		}
	})
}

// wellFormed says whether the parser must accept an event with these fields.
func wellFormed(id, typ, session string, amount int64, currency, paymentID, reason string) bool {
	for _, s := range []string{id, typ, session, paymentID, reason} {
		if len(s) > 255 {
			return false
		}
	}
	if id == "" || typ == "" || session == "" || amount < 0 || amount > orders.MaxAmount {
		return false
	}
	if _, ok := orders.LookupCurrency(currency); !ok {
		switch typ {
		case "checkout.succeeded", "checkout.failed", "checkout.pending":
			return false
		}
		return currency == ""
	}
	return true
}

// FuzzSignatureHeader feeds arbitrary signature headers. The parser must never panic,
// must only ever fail with ErrSignature, and must accept a header only if it carries the
// right signature for a timestamp within the tolerance.
func FuzzSignatureHeader(f *testing.F) {
	body := []byte(validBody)
	now := time.Unix(1_700_000_000, 0)
	good := sandbox.Sign(testSecret, body, now)
	f.Add(good)
	f.Add("")
	f.Add("t=1700000000")
	f.Add("v1=" + strings.Repeat("0", 64))
	f.Add("t=1700000000,v1=zz,v1=" + good[len("t=1700000000,v1="):])
	f.Add(" t=1700000000 , v0=00 , " + good[len("t=1700000000,"):])
	f.Add("t=,v1=")
	f.Add("t=99999999999999999999," + good[len("t=1700000000,"):])
	f.Add("t=1700000000,t=1700000000," + good[len("t=1700000000,"):])
	f.Add(strings.Repeat("v1=00,", 1000))
	f.Add("=,=,,,t")

	gw := parser(f)
	sig := good[len("t=1700000000,v1="):]
	f.Fuzz(func(t *testing.T, header string) {
		ev, err := gw.ParseWebhook(http.Header{sandbox.SignatureHeader: {header}}, body, now)
		if err != nil {
			require.ErrorIs(t, err, gateway.ErrSignature)
			return
		}
		require.Equal(t, "evt_1", ev.EventID)
		require.Contains(t, header, sig, "accepted without the right signature")
	})
}
