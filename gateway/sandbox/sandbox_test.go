package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/sandbox"
	"github.com/chatpay/chatpay/orders"
)

const (
	testShop   = "shop1"
	testSecret = "whsec_test_secret"
)

// delivery is one webhook request the receiver got.
type delivery struct {
	shopPath string
	header   http.Header
	body     []byte
	event    *orders.GatewayEvent // nil when the signature did not verify
	err      error
}

// receiver is an httptest server standing in for chatpay's webhook endpoint. It answers
// 500 to the first fail requests, then 200, and verifies every request with the shop's
// gateway so that tests see what chatpay would see.
type receiver struct {
	mu         sync.Mutex
	fail       int
	deliveries []delivery
	gw         gateway.Gateway
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ev, err := rc.gw.ParseWebhook(r.Header, body, time.Now())
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.deliveries = append(rc.deliveries, delivery{shopPath: r.URL.Path, header: r.Header.Clone(), body: body, event: ev, err: err})
	if rc.fail > 0 {
		rc.fail--
		http.Error(w, "try later", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) got() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.deliveries...)
}

type bundle struct {
	engine *sandbox.Engine
	gw     gateway.Gateway
	recv   *receiver
	server *httptest.Server
}

func setup(t *testing.T, fail int) *bundle {
	t.Helper()
	recv := &receiver{fail: fail}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	e := sandbox.New(sandbox.Options{
		PublicURL:    "http://chatpay.test/",
		WebhookURL:   func(shop string) string { return srv.URL + "/webhooks/sandbox/" + shop },
		Client:       srv.Client(),
		RetryBase:    time.Millisecond,
		RetryMax:     4 * time.Millisecond,
		PendingDelay: time.Millisecond,
	})
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	gw := e.Gateway(testShop, testSecret)
	recv.gw = gw
	return &bundle{engine: e, gw: gw, recv: recv, server: srv}
}

func (b *bundle) session(t *testing.T, amount int64, currency string) *gateway.Session {
	t.Helper()
	s, err := b.gw.CreateSession(context.Background(), gateway.SessionRequest{
		ShopID: testShop, OrderID: "ord1", AttemptID: "att1",
		Amount: amount, Currency: currency, ReturnURL: "http://chatpay.test/pay/tok",
	})
	require.NoError(t, err)
	return s
}

func (b *bundle) complete(t *testing.T, sessionID string, o sandbox.Outcome, d sandbox.Delivery) []delivery {
	t.Helper()
	ret, err := b.engine.Complete(context.Background(), sessionID, o, d)
	require.NoError(t, err)
	require.Equal(t, "http://chatpay.test/pay/tok", ret)
	require.NoError(t, b.engine.Wait(context.Background()))
	return b.recv.got()
}

func types(ds []delivery) []string {
	var out []string
	for _, d := range ds {
		if d.event == nil {
			out = append(out, "unverified")
			continue
		}
		out = append(out, d.event.Type)
	}
	return out
}

func TestCreateSession(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 330000, "vnd")
	require.True(t, strings.HasPrefix(s.ID, "cs_sbx_"), s.ID)
	require.Len(t, s.ID, len("cs_sbx_")+32)
	require.Equal(t, "http://chatpay.test/sandbox/checkout/"+s.ID, s.CheckoutURL)
	require.NotEqual(t, s.ID, b.session(t, 330000, "VND").ID)

	v, err := b.engine.Checkout(s.ID)
	require.NoError(t, err)
	require.Equal(t, &sandbox.CheckoutView{
		SessionID: s.ID, ShopID: testShop, Amount: 330000, Currency: "VND",
		Status: "open", ReturnURL: "http://chatpay.test/pay/tok",
	}, v)

	st, err := b.gw.SessionStatus(context.Background(), s.ID)
	require.NoError(t, err)
	require.Equal(t, &gateway.SessionStatus{Status: gateway.StatusOpen, Amount: 330000, Currency: "VND"}, st)

	_, err = b.engine.Checkout("cs_sbx_nope")
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))
	// Another shop's gateway cannot see this shop's session.
	_, err = b.engine.Gateway("shop2", "other").SessionStatus(context.Background(), s.ID)
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))
}

func TestCreateSessionInvalid(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	for _, tc := range []struct {
		req   gateway.SessionRequest
		field string
	}{
		{gateway.SessionRequest{Amount: 0, Currency: "VND"}, "amount"},
		{gateway.SessionRequest{Amount: -5, Currency: "VND"}, "amount"},
		{gateway.SessionRequest{Amount: orders.MaxAmount + 1, Currency: "VND"}, "amount"},
		{gateway.SessionRequest{Amount: 100, Currency: "XXX"}, "currency"},
		{gateway.SessionRequest{ShopID: "shop2", Amount: 100, Currency: "VND"}, "shop_id"},
	} {
		_, err := b.gw.CreateSession(context.Background(), tc.req)
		var oe *orders.Error
		require.ErrorAs(t, err, &oe)
		require.Equal(t, orders.EINVALID, oe.Code)
		require.Equal(t, tc.field, oe.Field)
	}
}

func TestCompleteSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 330000, "VND")
	ds := b.complete(t, s.ID, sandbox.OutcomeSuccess, sandbox.DeliverNormal)
	require.Len(t, ds, 1)
	require.Equal(t, "/webhooks/sandbox/"+testShop, ds[0].shopPath)
	require.Equal(t, "application/json", ds[0].header.Get("Content-Type"))
	require.NoError(t, ds[0].err)
	ev := ds[0].event
	require.Equal(t, orders.EventSucceeded, ev.Type)
	require.Equal(t, "sandbox", ev.Gateway)
	require.Equal(t, s.ID, ev.SessionID)
	require.Equal(t, int64(330000), ev.Amount)
	require.Equal(t, "VND", ev.Currency)
	require.True(t, strings.HasPrefix(ev.EventID, "evt_sbx_"), ev.EventID)
	require.True(t, strings.HasPrefix(ev.PaymentRef, "pi_sbx_"), ev.PaymentRef)
	require.Equal(t, ds[0].body, ev.Payload)

	var raw map[string]any
	require.NoError(t, json.Unmarshal(ds[0].body, &raw))
	require.Equal(t, "checkout.succeeded", raw["type"])

	st, err := b.gw.SessionStatus(context.Background(), s.ID)
	require.NoError(t, err)
	require.Equal(t, &gateway.SessionStatus{Status: orders.EventSucceeded, Amount: 330000, Currency: "VND", PaymentRef: ev.PaymentRef}, st)
	v, err := b.engine.Checkout(s.ID)
	require.NoError(t, err)
	require.Equal(t, "succeeded", v.Status)
}

func TestCompleteDecline(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 1250, "THB")
	ds := b.complete(t, s.ID, sandbox.OutcomeDecline, "")
	require.Equal(t, []string{orders.EventFailed}, types(ds))
	require.Equal(t, "card_declined", ds[0].event.Reason)
	require.Empty(t, ds[0].event.PaymentRef)
	require.Equal(t, int64(1250), ds[0].event.Amount)

	st, err := b.gw.SessionStatus(context.Background(), s.ID)
	require.NoError(t, err)
	require.Equal(t, &gateway.SessionStatus{Status: orders.EventFailed, Amount: 1250, Currency: "THB", Reason: "card_declined"}, st)
}

func TestCompleteErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 100, "VND")
	ctx := context.Background()

	_, err := b.engine.Complete(ctx, s.ID, "maybe", sandbox.DeliverNormal)
	var oe *orders.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, orders.EINVALID, oe.Code)
	require.Equal(t, "outcome", oe.Field)

	_, err = b.engine.Complete(ctx, s.ID, sandbox.OutcomeSuccess, "thrice")
	require.ErrorAs(t, err, &oe)
	require.Equal(t, orders.EINVALID, oe.Code)
	require.Equal(t, "deliver", oe.Field)

	_, err = b.engine.Complete(ctx, "cs_sbx_unknown", sandbox.OutcomeSuccess, sandbox.DeliverNormal)
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))

	// Invalid input left the session open; the first real completion wins, the second
	// conflicts and sends nothing.
	b.complete(t, s.ID, sandbox.OutcomeSuccess, sandbox.DeliverNormal)
	_, err = b.engine.Complete(ctx, s.ID, sandbox.OutcomeDecline, sandbox.DeliverNormal)
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err))
	require.NoError(t, b.engine.Wait(ctx))
	require.Equal(t, []string{orders.EventSucceeded}, types(b.recv.got()))
}

func TestDeliveryRetriesUntilAcknowledged(t *testing.T) {
	t.Parallel()
	b := setup(t, 3)
	s := b.session(t, 500, "USD")
	ds := b.complete(t, s.ID, sandbox.OutcomeSuccess, sandbox.DeliverNormal)
	require.Len(t, ds, 4, "three failures, then the acknowledged try")
	for _, d := range ds {
		require.NoError(t, d.err, "every try carries a valid signature")
		require.Equal(t, ds[0].body, d.body, "every try carries the same event")
		require.Equal(t, ds[0].event.EventID, d.event.EventID)
	}
}

func TestDeliveryTwice(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 500, "USD")
	ds := b.complete(t, s.ID, sandbox.OutcomeSuccess, sandbox.DeliverTwice)
	require.Equal(t, []string{orders.EventSucceeded, orders.EventSucceeded}, types(ds))
	require.Equal(t, ds[0].event.EventID, ds[1].event.EventID)
	require.Equal(t, ds[0].body, ds[1].body)
}

func TestDeliveryReversedSingleEvent(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 500, "USD")
	ds := b.complete(t, s.ID, sandbox.OutcomeDecline, sandbox.DeliverReversed)
	require.Equal(t, []string{orders.EventFailed}, types(ds))
}

func TestDeliveryNone(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 500, "USD")
	ds := b.complete(t, s.ID, sandbox.OutcomeSuccess, sandbox.DeliverNone)
	require.Empty(t, ds)
	// Reconciliation still finds the payment.
	st, err := b.gw.SessionStatus(context.Background(), s.ID)
	require.NoError(t, err)
	require.Equal(t, orders.EventSucceeded, st.Status)
	require.True(t, strings.HasPrefix(st.PaymentRef, "pi_sbx_"))
}

func TestPendingSettles(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 330000, "VND")
	ds := b.complete(t, s.ID, sandbox.OutcomePending, sandbox.DeliverNormal)
	require.Equal(t, []string{orders.EventPending, orders.EventSucceeded}, types(ds))
	require.Empty(t, ds[0].event.PaymentRef)
	require.NotEqual(t, ds[0].event.EventID, ds[1].event.EventID)

	st, err := b.gw.SessionStatus(context.Background(), s.ID)
	require.NoError(t, err)
	require.Equal(t, orders.EventSucceeded, st.Status)
	require.Equal(t, ds[1].event.PaymentRef, st.PaymentRef)
}

func TestPendingReversed(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 330000, "VND")
	ds := b.complete(t, s.ID, sandbox.OutcomePending, sandbox.DeliverReversed)
	require.Equal(t, []string{orders.EventSucceeded, orders.EventPending}, types(ds))
}

func TestPendingTwice(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 330000, "VND")
	ds := b.complete(t, s.ID, sandbox.OutcomePending, sandbox.DeliverTwice)
	require.Equal(t, []string{orders.EventPending, orders.EventPending, orders.EventSucceeded, orders.EventSucceeded}, types(ds))
}

func TestPendingNone(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	s := b.session(t, 330000, "VND")
	require.Empty(t, b.complete(t, s.ID, sandbox.OutcomePending, sandbox.DeliverNone))
	st, err := b.gw.SessionStatus(context.Background(), s.ID)
	require.NoError(t, err)
	require.Equal(t, orders.EventSucceeded, st.Status, "the payment settles even when nobody is told")
}

func TestCloseStopsRetries(t *testing.T) {
	t.Parallel()
	b := setup(t, 1<<30) // the receiver never acknowledges
	s := b.session(t, 100, "VND")
	_, err := b.engine.Complete(context.Background(), s.ID, sandbox.OutcomeSuccess, sandbox.DeliverNormal)
	require.NoError(t, err)
	require.NoError(t, b.engine.Close())
	require.NoError(t, b.engine.Wait(context.Background()))
	n := len(b.recv.got())
	require.Equal(t, n, len(b.recv.got()), "no delivery after Close")

	_, err = b.engine.Complete(context.Background(), b.session(t, 100, "VND").ID, sandbox.OutcomeSuccess, sandbox.DeliverNormal)
	require.Equal(t, orders.EINTERNAL, orders.ErrorCode(err))
}

func TestWaitHonoursContext(t *testing.T) {
	t.Parallel()
	b := setup(t, 1<<30)
	s := b.session(t, 100, "VND")
	_, err := b.engine.Complete(context.Background(), s.ID, sandbox.OutcomeSuccess, sandbox.DeliverNormal)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, b.engine.Wait(ctx), context.Canceled)
}

func TestRefund(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	ctx := context.Background()
	s := b.session(t, 1000, "THB")
	ds := b.complete(t, s.ID, sandbox.OutcomeSuccess, sandbox.DeliverNormal)
	ref := ds[0].event.PaymentRef

	r1, err := b.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: ref, Amount: 300, Currency: "THB", IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(r1.ID, "re_sbx_"), r1.ID)

	// A retry with the same key returns the same refund and moves no money.
	again, err := b.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: ref, Amount: 300, IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.Equal(t, r1.ID, again.ID)

	// Same key, different amount: refused.
	_, err = b.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: ref, Amount: 200, IdempotencyKey: "k1"})
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err))

	// 700 is left: 701 is too much, 700 by session id is fine, then nothing is left.
	_, err = b.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: ref, Amount: 701, IdempotencyKey: "k2"})
	requireInvalid(t, err, "amount")
	r2, err := b.gw.Refund(ctx, gateway.RefundRequest{SessionID: s.ID, Amount: 700, IdempotencyKey: "k3"})
	require.NoError(t, err)
	require.NotEqual(t, r1.ID, r2.ID)
	_, err = b.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: ref, Amount: 1, IdempotencyKey: "k4"})
	requireInvalid(t, err, "amount")

	_, err = b.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: ref, Amount: 0, IdempotencyKey: "k5"})
	requireInvalid(t, err, "amount")
	_, err = b.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: ref, Amount: 1})
	requireInvalid(t, err, "idempotency_key")
	_, err = b.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: "pi_sbx_unknown", Amount: 1, IdempotencyKey: "k6"})
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))
	// Another shop cannot refund this shop's payment.
	_, err = b.engine.Gateway("shop2", "x").Refund(ctx, gateway.RefundRequest{PaymentRef: ref, Amount: 1, IdempotencyKey: "k7"})
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))
}

func TestRefundUnpaid(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	ctx := context.Background()
	open := b.session(t, 1000, "THB")
	_, err := b.gw.Refund(ctx, gateway.RefundRequest{SessionID: open.ID, Amount: 1, IdempotencyKey: "k1"})
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err))

	declined := b.session(t, 1000, "THB")
	b.complete(t, declined.ID, sandbox.OutcomeDecline, sandbox.DeliverNone)
	_, err = b.gw.Refund(ctx, gateway.RefundRequest{SessionID: declined.ID, Amount: 1, IdempotencyKey: "k2"})
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err))
}

func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var oe *orders.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, orders.EINVALID, oe.Code)
	require.Equal(t, field, oe.Field)
}

func TestDefaultWebhookURL(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Path
	}))
	t.Cleanup(srv.Close)
	e := sandbox.New(sandbox.Options{PublicURL: srv.URL + "/"})
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	s, err := e.Gateway("shop-9", testSecret).CreateSession(context.Background(), gateway.SessionRequest{Amount: 1, Currency: "USD"})
	require.NoError(t, err)
	require.Equal(t, srv.URL+"/sandbox/checkout/"+s.ID, s.CheckoutURL)
	_, err = e.Complete(context.Background(), s.ID, sandbox.OutcomeSuccess, sandbox.DeliverNormal)
	require.NoError(t, err)
	require.NoError(t, e.Wait(context.Background()))
	require.Equal(t, "/webhooks/sandbox/shop-9", <-got)
}

// signed returns a header signing body with the test secret at t.
func signed(body []byte, t time.Time) http.Header {
	h := http.Header{}
	h.Set(sandbox.SignatureHeader, sandbox.Sign(testSecret, body, t))
	return h
}

const validBody = `{"id":"evt_1","type":"checkout.succeeded","created":1700000000,` +
	`"data":{"session_id":"cs_sbx_1","amount":330000,"currency":"VND","payment_id":"pi_sbx_1"}}`

func TestParseWebhookSignature(t *testing.T) {
	t.Parallel()
	gw := parser(t)
	now := time.Unix(1_700_000_000, 0)
	body := []byte(validBody)

	ev, err := gw.ParseWebhook(signed(body, now), body, now)
	require.NoError(t, err)
	require.Equal(t, &orders.GatewayEvent{
		Gateway: "sandbox", EventID: "evt_1", Type: orders.EventSucceeded, SessionID: "cs_sbx_1",
		PaymentRef: "pi_sbx_1", Amount: 330000, Currency: "VND", Payload: body,
	}, ev)

	// The tolerance is 300 s either way, inclusive.
	_, err = gw.ParseWebhook(signed(body, now.Add(-300*time.Second)), body, now)
	require.NoError(t, err)
	_, err = gw.ParseWebhook(signed(body, now.Add(300*time.Second)), body, now)
	require.NoError(t, err)

	// A rotated secret: any one matching v1 is enough.
	rotated := sandbox.Sign("old-secret", body, now) + "," + strings.SplitN(sandbox.Sign(testSecret, body, now), ",", 2)[1]
	_, err = gw.ParseWebhook(http.Header{sandbox.SignatureHeader: {rotated}}, body, now)
	require.NoError(t, err)

	tampered := []byte(strings.Replace(validBody, "330000", "330001", 1))
	stripped := strings.SplitN(sandbox.Sign(testSecret, body, now), ",", 2)[1]
	for name, tc := range map[string]struct {
		header http.Header
		body   []byte
	}{
		"tampered body": {signed(body, now), tampered},
		"wrong secret":  {http.Header{sandbox.SignatureHeader: {sandbox.Sign("nope", body, now)}}, body},
		"stale":         {signed(body, now.Add(-301*time.Second)), body},
		"future":        {signed(body, now.Add(301*time.Second)), body},
		"missing":       {http.Header{}, body},
		"empty":         {http.Header{sandbox.SignatureHeader: {""}}, body},
		"no timestamp":  {http.Header{sandbox.SignatureHeader: {stripped}}, body},
		"no v1":         {http.Header{sandbox.SignatureHeader: {"t=1700000000"}}, body},
		"v0 only":       {http.Header{sandbox.SignatureHeader: {strings.Replace(sandbox.Sign(testSecret, body, now), "v1=", "v0=", 1)}}, body},
		"swapped time":  {http.Header{sandbox.SignatureHeader: {strings.Replace(sandbox.Sign(testSecret, body, now), "t=1700000000", "t=1700000001", 1)}}, body},
		"two times":     {http.Header{sandbox.SignatureHeader: {"t=1700000000," + sandbox.Sign(testSecret, body, now)}}, body},
		"signed junk":   {signed([]byte("x"), now), body},
		"negative time": {http.Header{sandbox.SignatureHeader: {"t=-1,v1=00"}}, body},
	} {
		_, err := gw.ParseWebhook(tc.header, tc.body, now)
		require.ErrorIs(t, err, gateway.ErrSignature, name)
		require.NotErrorIs(t, err, gateway.ErrMalformed, name)
	}
}

func TestParseWebhookBody(t *testing.T) {
	t.Parallel()
	gw := parser(t)
	now := time.Unix(1_700_000_000, 0)
	parse := func(body string) (*orders.GatewayEvent, error) {
		return gw.ParseWebhook(signed([]byte(body), now), []byte(body), now)
	}

	for name, body := range map[string]string{
		"not json":         `{"id":`,
		"array":            `[1,2]`,
		"string":           `"hello"`,
		"trailing":         validBody + `{}`,
		"missing id":       `{"type":"checkout.succeeded","data":{"session_id":"cs","amount":1,"currency":"VND"}}`,
		"missing type":     `{"id":"e","data":{"session_id":"cs","amount":1,"currency":"VND"}}`,
		"missing session":  `{"id":"e","type":"checkout.succeeded","data":{"amount":1,"currency":"VND"}}`,
		"negative amount":  `{"id":"e","type":"checkout.succeeded","data":{"session_id":"cs","amount":-1,"currency":"VND"}}`,
		"huge amount":      `{"id":"e","type":"checkout.succeeded","data":{"session_id":"cs","amount":1e300,"currency":"VND"}}`,
		"fraction amount":  `{"id":"e","type":"checkout.succeeded","data":{"session_id":"cs","amount":1.5,"currency":"VND"}}`,
		"missing amount":   `{"id":"e","type":"checkout.succeeded","data":{"session_id":"cs","currency":"VND"}}`,
		"bad currency":     `{"id":"e","type":"checkout.succeeded","data":{"session_id":"cs","amount":1,"currency":"DOGE"}}`,
		"missing currency": `{"id":"e","type":"checkout.failed","data":{"session_id":"cs","amount":1}}`,
		"id not string":    `{"id":7,"type":"checkout.succeeded","data":{"session_id":"cs","amount":1,"currency":"VND"}}`,
		"data not object":  `{"id":"e","type":"checkout.succeeded","data":"cs"}`,
		"long id":          `{"id":"` + strings.Repeat("e", 256) + `","type":"checkout.succeeded","data":{"session_id":"cs","amount":1,"currency":"VND"}}`,
	} {
		_, err := parse(body)
		require.ErrorIs(t, err, gateway.ErrMalformed, name)
		require.NotErrorIs(t, err, gateway.ErrSignature, name)
	}

	// Unknown fields are fine; currency is normalised; failures carry their reason.
	ev, err := parse(`{"id":"e2","type":"checkout.failed","livemode":false,"created":1,` +
		`"data":{"session_id":"cs2","amount":0,"currency":"thb","reason":"card_declined","extra":{"a":1}}}`)
	require.NoError(t, err)
	require.Equal(t, orders.EventFailed, ev.Type)
	require.Equal(t, "THB", ev.Currency)
	require.Equal(t, "card_declined", ev.Reason)

	ev, err = parse(`{"id":"e3","type":"checkout.pending","data":{"session_id":"cs3","amount":5,"currency":"USD"}}`)
	require.NoError(t, err)
	require.Equal(t, orders.EventPending, ev.Type)

	// Types chatpay does not act on pass through unchanged, without amount or currency.
	ev, err = parse(`{"id":"e4","type":"charge.dispute.created","data":{"session_id":"cs4"}}`)
	require.NoError(t, err)
	require.Equal(t, "charge.dispute.created", ev.Type)
	require.Zero(t, ev.Amount)
	require.Empty(t, ev.Currency)
}

func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	// printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
	require.Equal(t,
		"t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163",
		sandbox.Sign("secret", []byte("{}"), time.Unix(1_700_000_000, 0)))
}

func TestErrorsAreWrapped(t *testing.T) {
	t.Parallel()
	gw := parser(t)
	_, err := gw.ParseWebhook(http.Header{}, []byte(validBody), time.Now())
	require.True(t, errors.Is(err, gateway.ErrSignature))
	require.Contains(t, err.Error(), "missing")
}

// parser returns the test shop's sandbox gateway, for parsing only.
func parser(t testing.TB) gateway.Gateway {
	e := sandbox.New(sandbox.Options{})
	t.Cleanup(func() { _ = e.Close() })
	return e.Gateway(testShop, testSecret)
}
