package stripe

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// FuzzParseWebhook feeds arbitrary headers and bodies to ParseWebhook. Half the inputs
// are signed with the gateway's secret, so that the fuzzer gets past verification
// and into event decoding. Whatever comes in, ParseWebhook must not panic, must
// classify every failure as ErrSignature or ErrMalformed, and must never accept an
// unsigned body.
func FuzzParseWebhook(f *testing.F) {
	now := time.Now()
	body := sessionFixture("2026-03-25.dahlia", "checkout.session.completed", 1999, "usd", "paid", "complete")
	f.Add(sign(secretOld, body, now), body, true)
	f.Add(sign(secretOld, []byte("another body"), now), body, false)
	f.Add("t=1,v1=00,v1=zz,v0=1", []byte(`{}`), false)
	f.Add("t=,v1=", []byte(`{"object":"event"}`), true)
	f.Add("t=99999999999999999999,v1=ab", []byte(`null`), true)
	f.Add("", []byte(paymentFailedEvent), true)
	f.Add("v1=a=b,t=1", []byte(chargeRefundedEvent), true)
	f.Add("t=1", []byte(`{"object":"event","id":"evt_1","type":"charge.dispute.created","data":{"object":{"id":"dp_1","amount":-5}}}`), true)
	f.Add("t=1", []byte(`{"object":"event","id":"evt_1","type":"checkout.session.completed","data":{"object":{"id":"cs_1","payment_intent":{"id":"pi_1"},"currency":"idr","amount_total":150}}}`), true)
	f.Add("t=1", []byte(`{"object":"event","id":"evt_1","type":"charge.refunded","data":{"object":"ch_1"}}`), true)
	f.Add("", []byte(paymentIntentCanceledEvent), true)
	f.Add("", []byte(chargeCapturedEvent), true)
	f.Add("t=1", []byte(`{"object":"event","id":"evt_1","type":"charge.captured","data":{"object":{"id":"ch_1","amount_captured":-1}}}`), true)
	f.Add("t=1", []byte(`{"object":"event","id":"evt_1","type":"payment_intent.canceled","data":{"object":{"id":"pi_1","cancellation_reason":7}}}`), true)
	g, err := New(Config{SecretKey: "sk_test_1", WebhookSecrets: []string{secretNew, secretOld}, APIURL: "http://127.0.0.1:1"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte, signIt bool) {
		if signIt {
			sig = sign(secretOld, body, now) + "," + sig
		}
		ev, err := g.ParseWebhook(http.Header{SignatureHeader: {sig}}, body, now)
		if err != nil {
			if ev != nil {
				t.Fatal("event returned with an error")
			}
			if !errors.Is(err, gateway.ErrSignature) && !errors.Is(err, gateway.ErrMalformed) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if !signIt && !carriesValidMAC(sig, body) {
			// The fuzzer may reuse a genuine signature it saw (in any letter case),
			// but it cannot forge one.
			t.Fatalf("unsigned body accepted: %q %q", sig, body)
		}
		if ev.EventID == "" || ev.Gateway != Name || string(ev.Payload) != string(body) {
			t.Fatalf("incomplete event: %+v", ev)
		}
		switch ev.Type {
		case orders.EventSucceeded, orders.EventFailed, orders.EventPending:
			if ev.SessionID == "" {
				t.Fatalf("%s event without a session: %+v", ev.Type, ev)
			}
		case orders.EventCaptured, orders.EventVoided, orders.EventRefunded:
			if ev.PaymentRef == "" {
				t.Fatalf("%s event without a payment: %+v", ev.Type, ev)
			}
		}
		if ev.Amount < 0 {
			t.Fatalf("negative amount: %+v", ev)
		}
	})
}

// carriesValidMAC is an oracle independent of the code under test: does the header hold
// a v1 entry equal to the HMAC of its timestamp and body under one of the secrets?
func carriesValidMAC(sig string, body []byte) bool {
	var ts int64 = -1
	var macs [][]byte
	for part := range strings.SplitSeq(sig, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts, _ = strconv.ParseInt(v, 10, 64)
		case "v1":
			if m, err := hex.DecodeString(v); err == nil {
				macs = append(macs, m)
			}
		}
	}
	for _, secret := range []string{secretNew, secretOld} {
		want := webhook.ComputeSignature(time.Unix(ts, 0), body, secret)
		for _, m := range macs {
			if bytes.Equal(m, want) {
				return true
			}
		}
	}
	return false
}
