package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/gateway/stripe/stripemock"
)

// The gateways deliver webhooks at least once and in no guaranteed order. These tests
// deliver one payment's life (paid, refunded twice at the gateway, disputed, lost) as
// signed events in order, reversed, each twice, concurrently and stale, through the
// real webhook routes, and check that the order always ends the same: paid, then
// taken back in full (100,000 refunded at the gateway, the rest by the lost
// dispute), the customer told once that it was paid and once that the dispute
// returned their money.
//
// "Reversed" keeps the event that records the payment first and reverses every later
// one; "payment last" reverses the whole life, so that every other event is about a
// payment chatpay has not recorded yet (a refund reported before the checkout
// completed). Those wait for it (outcome awaiting_payment) and are applied when it
// arrives.

// deliveryModes are the orders the events are delivered in. first is the event that
// records the payment; rest are the others, in the order they happened. post delivers
// one event and returns the HTTP status, which must be 200 every time.
var deliveryModes = map[string]func(t *testing.T, post func(ev []byte) int, first []byte, rest [][]byte){
	"in order": func(t *testing.T, post func([]byte) int, first []byte, rest [][]byte) {
		for _, ev := range append([][]byte{first}, rest...) {
			require.Equal(t, http.StatusOK, post(ev))
		}
	},
	"reversed": func(t *testing.T, post func([]byte) int, first []byte, rest [][]byte) {
		require.Equal(t, http.StatusOK, post(first))
		for _, ev := range slices.Backward(rest) {
			require.Equal(t, http.StatusOK, post(ev))
		}
	},
	"payment last": func(t *testing.T, post func([]byte) int, first []byte, rest [][]byte) {
		for _, ev := range slices.Backward(rest) {
			require.Equal(t, http.StatusOK, post(ev))
		}
		require.Equal(t, http.StatusOK, post(first))
	},
	"doubled": func(t *testing.T, post func([]byte) int, first []byte, rest [][]byte) {
		for _, ev := range append([][]byte{first}, rest...) {
			require.Equal(t, http.StatusOK, post(ev))
			require.Equal(t, http.StatusOK, post(ev), "a redelivery is acknowledged")
		}
	},
	"concurrently": func(t *testing.T, post func([]byte) int, first []byte, rest [][]byte) {
		require.Equal(t, http.StatusOK, post(first))
		// Every later event twice, all at once.
		all := append(slices.Clone(rest), rest...)
		statuses := make([]int, len(all))
		var wg sync.WaitGroup
		for i, ev := range all {
			wg.Go(func() { statuses[i] = post(ev) })
		}
		wg.Wait()
		for _, st := range statuses {
			require.Equal(t, http.StatusOK, st)
		}
	},
}

// requireTakenBack checks the end state every delivery order must reach. With exact,
// the refunds must also split as the gateway reported them: 100,000 refunded, the rest
// by the lost dispute. (Omise's emulator disputes the whole charge, so there the split
// depends on which is recorded first; the total does not.)
func (a *app) requireTakenBack(id string, exact bool) {
	t := a.t
	o := a.waitOrder(keyA, id, "taken back in full", func(o map[string]any) bool {
		return o["payment_status"] == "refunded" && payment0(o)["refunded_amount"] == float64(330000)
	})
	require.Equal(t, "paid", o["status"])
	require.Len(t, o["payments"], 1)
	_, refunds := a.call(http.MethodGet, "/api/v1/orders/"+id+"/refunds", keyA, nil)
	byReason := map[string]float64{}
	for _, r := range refunds["refunds"].([]any) {
		r := r.(map[string]any)
		require.Equal(t, "succeeded", r["status"])
		byReason[r["reason"].(string)] += r["amount"].(float64)
	}
	require.Equal(t, float64(330000), byReason["refunded_at_gateway"]+byReason["dispute_lost"])
	require.Positive(t, byReason["dispute_lost"])
	if exact {
		require.Equal(t, map[string]float64{"refunded_at_gateway": 100000, "dispute_lost": 230000}, byReason)
	}
	_, ds := a.call(http.MethodGet, "/api/v1/disputes", keyA, nil)
	var mine []map[string]any
	for _, d := range ds["disputes"].([]any) {
		if d := d.(map[string]any); d["order_id"] == id {
			mine = append(mine, d)
		}
	}
	require.Len(t, mine, 1)
	require.Equal(t, "lost", mine[0]["status"])
	ms := a.waitMessages(keyA, id, "the messages", func(ms []map[string]any) bool {
		return find(ms, "dispute_refunded") != nil && allSent(ms)
	})
	require.Equal(t, 1, countKinds(ms, "paid_confirmation"))
	require.Equal(t, 1, countKinds(ms, "dispute_refunded"))
	require.Zero(t, countKinds(ms, "payment_failed"), "a declined card inside an open checkout is not a failed payment")
	if exact {
		require.GreaterOrEqual(t, countKinds(ms, "refunded"), 1, "the refunds at the gateway are told")
	}
}

// stripeEvent is a Stripe event envelope around a data object.
func stripeEvent(id, typ string, created time.Time, object string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2026-03-25.dahlia","created":%d,`+
		`"data":{"object":%s},"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":%q}`,
		id, created.Unix(), object, typ)
}

// stripeLife is one payment's life at Stripe as signed-to-be events, built from the
// objects of Stripe's API reference (trimmed): first the completed checkout, then a
// declined card before it (delivered late), two refunds (amount_refunded is
// cumulative) and a dispute that is lost.
func stripeLife(sessionID, attemptID, orderID, tag string, at time.Time) (first []byte, rest [][]byte) {
	pi, ch, du := "pi_"+tag, "ch_"+tag, "du_"+tag
	first = stripeEvent("evt_"+tag+"_completed", "checkout.session.completed", at, fmt.Sprintf(
		`{"id":%q,"object":"checkout.session","amount_total":330000,"currency":"vnd","client_reference_id":%q,`+
			`"metadata":{"shop_id":"shop-a","order_id":%q,"attempt_id":%q},"mode":"payment","payment_intent":%q,`+
			`"payment_status":"paid","status":"complete"}`, sessionID, attemptID, orderID, attemptID, pi))
	charge := func(refunded int64) string {
		return fmt.Sprintf(`{"id":%q,"object":"charge","amount":330000,"amount_captured":330000,"amount_refunded":%d,`+
			`"captured":true,"currency":"vnd","paid":true,"payment_intent":%q,"refunded":false,"status":"succeeded"}`, ch, refunded, pi)
	}
	dispute := func(status string) string {
		return fmt.Sprintf(`{"id":%q,"object":"dispute","amount":230000,"charge":%q,"currency":"vnd",`+
			`"evidence_details":{"due_by":%d,"has_evidence":false,"past_due":false,"submission_count":0},`+
			`"is_charge_refundable":false,"payment_intent":%q,"reason":"product_not_received","status":%q}`,
			du, ch, at.Add(7*24*time.Hour).Unix(), pi, status)
	}
	rest = [][]byte{
		stripeEvent("evt_"+tag+"_declined", "payment_intent.payment_failed", at, fmt.Sprintf(
			`{"id":%q,"object":"payment_intent","amount":330000,"currency":"vnd","status":"requires_payment_method",`+
				`"last_payment_error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}`, pi)),
		stripeEvent("evt_"+tag+"_refund1", "charge.refunded", at, charge(50000)),
		stripeEvent("evt_"+tag+"_refund2", "charge.refunded", at, charge(100000)),
		stripeEvent("evt_"+tag+"_dispute1", "charge.dispute.created", at, dispute("needs_response")),
		stripeEvent("evt_"+tag+"_dispute2", "charge.dispute.updated", at, dispute("under_review")),
		stripeEvent("evt_"+tag+"_dispute3", "charge.dispute.closed", at, dispute("lost")),
	}
	return first, rest
}

// postStripeStatus posts a Stripe event signed at time at and returns the status, 0
// when the request fails. It may run on any goroutine.
func (a *app) postStripeStatus(event []byte, at time.Time) int {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: stripeTestSecret, Timestamp: at})
	req, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/stripe/shop-a", bytes.NewReader(event))
	if err != nil {
		return 0
	}
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// payStripe taps Pay now with Stripe (at stripe-mock) and returns the session and
// attempt the tap created.
func (a *app) payStripe(rec *stripemock.Recorder, o map[string]any) (sessionID, attemptID string) {
	a.t.Helper()
	res := a.postForm(linkOf(o), url.Values{"gateway": {"stripe"}})
	require.Equal(a.t, http.StatusSeeOther, res.StatusCode)
	for _, r := range rec.Requests() {
		if r.Path == "/v1/checkout/sessions" && r.Form.Get("metadata[order_id]") == o["id"] {
			var s struct{ ID string }
			require.NoError(a.t, json.Unmarshal(r.Response, &s))
			return s.ID, r.Form.Get("client_reference_id")
		}
	}
	a.t.Fatalf("no checkout session was created for order %s", o["id"])
	return "", ""
}

func TestStripeEventsInAnyOrder(t *testing.T) {
	t.Parallel()
	rec := startStripeMock(t)
	forEachStore(t, func(t *testing.T, store string) {
		a := setupWith(t, store, options{shopAExtra: fmt.Sprintf(`      stripe:
        secret_key: sk_test_123
        webhook_secrets: [%q]
        api_url: %q`, stripeTestSecret, rec.URL)})
		for name, deliver := range deliveryModes {
			t.Run(name, func(t *testing.T) {
				a := *a
				a.t = t
				o := a.createOrder(keyA, webchatOrder("visitor-"+name))
				id := o["id"].(string)
				session, attempt := a.payStripe(rec, o)
				tag := strconv.FormatInt(time.Now().UnixNano(), 36)
				first, rest := stripeLife(session, attempt, id, tag, time.Now())
				deliver(t, func(ev []byte) int { return a.postStripeStatus(ev, time.Now()) }, first, rest)
				a.requireTakenBack(id, true)
			})
		}

		t.Run("stale", func(t *testing.T) {
			a := *a
			a.t = t
			o := a.createOrder(keyA, webchatOrder("visitor-stale"))
			id := o["id"].(string)
			session, attempt := a.payStripe(rec, o)
			first, rest := stripeLife(session, attempt, id, "stale", time.Now())
			for _, ev := range append([][]byte{first}, rest...) {
				status, _ := a.postStripe(ev, time.Now().Add(-301*time.Second))
				require.Equal(t, http.StatusUnauthorized, status)
				status, _ = a.postStripe(ev, time.Now().Add(301*time.Second))
				require.Equal(t, http.StatusUnauthorized, status, "from the future")
			}
			_, got := a.call(http.MethodGet, "/api/v1/orders/"+id, keyA, nil)
			require.Equal(t, "unpaid", got["payment_status"], "nothing stale was applied")
		})
	})
}

// collector is where the Omise emulator delivers while a test gathers the events of a
// payment's life, to deliver them to chatpay afterwards in the order it chooses.
type collector struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	keys   []string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		ev, err := omise.ParseEvent(buf.Bytes())
		require.NoError(t, err)
		c.mu.Lock()
		c.bodies, c.keys = append(c.bodies, buf.Bytes()), append(c.keys, ev.Key)
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) take() ([][]byte, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, k := c.bodies, c.keys
	c.bodies, c.keys = nil, nil
	return b, k
}

// TestOmiseEventsInAnyOrder: Omise's webhooks carry a snapshot, and chatpay applies
// the charge (or refund, or dispute) as the API shows it when the event arrives, so
// every delivery order ends the same, however stale the snapshot.
func TestOmiseEventsInAnyOrder(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store string) {
		a, om := withOmise(t, store)
		col := newCollector(t)
		om.SetWebhookURL(col.URL)
		dashboard, err := omise.NewClient(omise.ClientOptions{SecretKey: om.SecretKey(), BaseURL: om.URL})
		require.NoError(t, err)

		// life plays one payment's life at the emulator and returns its events.
		life := func(t *testing.T, visitor string) (string, [][]byte) {
			o := a.createOrder(keyA, webchatOrder(visitor))
			charge := a.tapOmise(om, o)
			require.NoError(t, om.Complete(charge, true))
			for range 2 {
				_, err := dashboard.CreateRefund(t.Context(), charge, omise.RefundParams{Amount: 50000})
				require.NoError(t, err)
			}
			d, err := om.OpenDispute(charge)
			require.NoError(t, err)
			require.NoError(t, om.CloseDispute(d.ID, false))
			bodies, keys := col.take()
			require.Equal(t, []string{omise.KeyChargeComplete, omise.KeyRefundCreate, omise.KeyRefundCreate,
				omise.KeyDisputeCreate, omise.KeyDisputeClose}, keys)
			return o["id"].(string), bodies
		}
		// post delivers one event; it may run on another goroutine, so it reports a
		// failed request as status 0 instead of failing the test there.
		post := func(body []byte, h http.Header) int {
			req, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/omise/shop-a", bytes.NewReader(body))
			if err != nil {
				return 0
			}
			req.Header = h
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0
			}
			res.Body.Close()
			return res.StatusCode
		}

		for name, deliver := range deliveryModes {
			t.Run(name, func(t *testing.T) {
				a := *a
				a.t = t
				id, bodies := life(t, "visitor-omise-"+name)
				deliver(t, func(body []byte) int { return post(body, om.SignedHeader(body)) }, bodies[0], bodies[1:])
				a.requireTakenBack(id, false)
			})
		}

		t.Run("stale", func(t *testing.T) {
			id, bodies := life(t, "visitor-omise-stale")
			for _, body := range bodies {
				for _, at := range []time.Time{time.Now().Add(-301 * time.Second), time.Now().Add(301 * time.Second)} {
					ts := strconv.FormatInt(at.Unix(), 10)
					sig, err := omise.Sign(omiseTestSecret, ts, body)
					require.NoError(t, err)
					h := http.Header{}
					h.Set(omise.TimestampHeader, ts)
					h.Set(omise.SignatureHeader, sig)
					require.Equal(t, http.StatusUnauthorized, post(body, h))
				}
			}
			_, got := a.call(http.MethodGet, "/api/v1/orders/"+id, keyA, nil)
			require.Equal(t, "unpaid", got["payment_status"], "nothing stale was applied")
		})
	})
}
