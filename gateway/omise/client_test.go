package omise_test

import (
	"bytes"
	"context"
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
	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/gateway/omise/omisetest"
	"github.com/chatpay/chatpay/orders"
)

// receiver collects webhook deliveries.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies, r.heads = append(r.bodies, b), append(r.heads, req.Header.Clone())
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) last(t *testing.T) ([]byte, http.Header) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.bodies, "no webhook delivered")
	return r.bodies[len(r.bodies)-1], r.heads[len(r.heads)-1]
}

type env struct {
	srv *omisetest.Server
	rcv *receiver
	c   *omise.Client
	gw  *omise.Gateway
}

func newEnv(t *testing.T, opts omise.ClientOptions) *env {
	t.Helper()
	rcv := newReceiver(t)
	srv := omisetest.New(omisetest.Options{WebhookURL: rcv.URL, WebhookSecrets: []string{secretB, secretA}})
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL
	if opts.SecretKey == "" {
		opts.SecretKey = srv.SecretKey()
	}
	c, err := omise.NewClient(opts)
	require.NoError(t, err)
	gw, err := omise.New(omise.Config{ShopID: "shop1", Client: c, WebhookSecrets: []string{secretA}})
	require.NoError(t, err)
	return &env{srv: srv, rcv: rcv, c: c, gw: gw}
}

func ptr[T any](v T) *T { return &v }

func TestAuthVersionAndSecretNeverInErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, omise.ClientOptions{SecretKey: "skey_test_wrongwrongwrong"})
	_, err := e.c.RetrieveCharge(context.Background(), "chrg_test_x")
	var oe *omise.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, http.StatusUnauthorized, oe.Status)
	require.Equal(t, omise.CodeAuthenticationFailure, oe.Code)
	require.NotContains(t, err.Error(), "skey_test_wrongwrongwrong")

	// A transport failure names the call, never the key.
	c, err := omise.NewClient(omise.ClientOptions{SecretKey: "skey_test_secret123", BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	_, err = c.RetrieveCharge(context.Background(), "chrg_test_x")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "skey_test_secret123")
	require.Contains(t, err.Error(), "GET /charges/chrg_test_x")

	// The emulator refuses a request without Omise-Version, as the pinned header matters.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/charges/x", nil)
	req.SetBasicAuth(e.srv.SecretKey(), "")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestChargesCaptureReverse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, omise.ClientOptions{})
	ctx := context.Background()

	ch, err := e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 10000, Currency: "THB", Card: "tokn_test_ok",
		Capture: ptr(false), AuthorizationType: "pre_auth", Metadata: map[string]string{"order": "A1"}})
	require.NoError(t, err)
	require.Equal(t, omise.ChargePending, ch.Status)
	require.True(t, ch.Capturable)
	require.Equal(t, "A1", ch.Metadata["order"])

	ch, err = e.c.CaptureCharge(ctx, ch.ID, 7000)
	require.NoError(t, err)
	require.Equal(t, omise.ChargeSuccessful, ch.Status)
	require.EqualValues(t, 7000, ch.CapturedAmount)
	body, _ := e.rcv.last(t)
	require.Contains(t, string(body), `"key":"charge.capture"`)

	_, err = e.c.CaptureCharge(ctx, ch.ID, 0)
	var oe *omise.Error
	require.ErrorAs(t, err, &oe, "a second capture is refused: only a single partial capture exists")

	ch2, err := e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 5000, Currency: "thb", Card: "tokn_test_ok", Capture: ptr(false)})
	require.NoError(t, err)
	_, err = e.c.CaptureCharge(ctx, ch2.ID, 100)
	require.ErrorAs(t, err, &oe, "partial capture needs pre_auth")
	ch2, err = e.c.ReverseCharge(ctx, ch2.ID)
	require.NoError(t, err)
	require.Equal(t, omise.ChargeReversed, ch2.Status)

	failed, err := e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 5000, Currency: "thb", Card: omisetest.FailingToken})
	require.NoError(t, err)
	require.Equal(t, omise.ChargeFailed, failed.Status)
	require.Equal(t, "insufficient_fund", failed.FailureCode)

	got, err := e.c.RetrieveCharge(ctx, ch.ID)
	require.NoError(t, err)
	require.Equal(t, ch.ID, got.ID)
	_, err = e.c.RetrieveCharge(ctx, "chrg_test_missing")
	require.ErrorAs(t, err, &oe)
	require.Equal(t, omise.CodeNotFound, oe.Code)

	_, err = e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 1, Currency: "thb"})
	require.Error(t, err, "a charge needs a card or a source")
}

func TestSources(t *testing.T) {
	t.Parallel()
	e := newEnv(t, omise.ClientOptions{PublicKey: "pkey_test_chatpay"})
	src, err := e.c.CreateSource(context.Background(), omise.SourceParams{Type: omise.SourcePromptPay, Amount: 2000, Currency: "THB"})
	require.NoError(t, err)
	require.Equal(t, "offline", src.Flow)
	src, err = e.c.CreateSource(context.Background(), omise.SourceParams{Type: omise.SourceMobileBankingSCB, Amount: 2000, Currency: "THB"})
	require.NoError(t, err)
	require.Equal(t, "redirect", src.Flow)
	ch, err := e.c.CreateCharge(context.Background(), omise.ChargeParams{Amount: 2000, Currency: "THB", Source: src.ID, ReturnURI: "https://shop.example/pay/x"})
	require.NoError(t, err)
	require.NotEmpty(t, ch.AuthorizeURI)
}

func paidCharge(t *testing.T, e *env, amount int64) *omise.Charge {
	t.Helper()
	ch, err := e.c.CreateCharge(context.Background(), omise.ChargeParams{Amount: amount, Currency: "THB", Card: "tokn_test_ok"})
	require.NoError(t, err)
	require.Equal(t, omise.ChargeSuccessful, ch.Status)
	return ch
}

func TestRefundRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("refunds, list, retrieve, captured amount", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, omise.ClientOptions{})
		ch := paidCharge(t, e, 10000)
		r, err := e.c.CreateRefund(ctx, ch.ID, omise.RefundParams{Amount: 4000, Metadata: map[string]string{"why": "broken"}})
		require.NoError(t, err)
		require.EqualValues(t, 4000, r.Amount)
		require.Equal(t, "broken", r.Metadata["why"])
		l, err := e.c.ListRefunds(ctx, ch.ID)
		require.NoError(t, err)
		require.Len(t, l.Data, 1)
		got, err := e.c.RetrieveRefund(ctx, ch.ID, r.ID)
		require.NoError(t, err)
		require.Equal(t, r.ID, got.ID)

		before := e.srv.Requests()
		_, err = e.c.CreateRefund(ctx, ch.ID, omise.RefundParams{Amount: 6001})
		var re *omise.RuleError
		require.ErrorAs(t, err, &re)
		require.Equal(t, omise.RuleRefundOverCapture, re.Rule)
		require.Contains(t, re.Message, "6001 exceeds the 6000 left")
		require.Equal(t, before+1, e.srv.Requests(), "only the charge was fetched; no refund call was made")
		_, err = e.c.CreateRefund(ctx, ch.ID, omise.RefundParams{Amount: 6000})
		require.NoError(t, err)
	})

	t.Run("at most 15 refunds", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, omise.ClientOptions{})
		ch := paidCharge(t, e, 10000)
		for range omise.MaxRefundsPerCharge {
			_, err := e.c.CreateRefund(ctx, ch.ID, omise.RefundParams{Amount: 1})
			require.NoError(t, err)
		}
		_, err := e.c.CreateRefund(ctx, ch.ID, omise.RefundParams{Amount: 1})
		var re *omise.RuleError
		require.ErrorAs(t, err, &re)
		require.Equal(t, omise.RuleRefundCount, re.Rule)
		require.ErrorIs(t, err, omise.ErrRule)
	})

	t.Run("none on a disputed charge", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, omise.ClientOptions{})
		ch := paidCharge(t, e, 10000)
		_, err := e.srv.OpenDispute(ch.ID)
		require.NoError(t, err)
		_, err = e.c.CreateRefund(ctx, ch.ID, omise.RefundParams{Amount: 1})
		var re *omise.RuleError
		require.ErrorAs(t, err, &re)
		require.Equal(t, omise.RuleRefundDisputed, re.Rule)
	})

	t.Run("none after 365 days", func(t *testing.T) {
		t.Parallel()
		later := time.Now().Add(366 * 24 * time.Hour)
		e := newEnv(t, omise.ClientOptions{Now: func() time.Time { return later }})
		ch := paidCharge(t, e, 10000)
		_, err := e.c.CreateRefund(ctx, ch.ID, omise.RefundParams{Amount: 1})
		var re *omise.RuleError
		require.ErrorAs(t, err, &re)
		require.Equal(t, omise.RuleRefundTooLate, re.Rule)
	})

	t.Run("pure rules", func(t *testing.T) {
		t.Parallel()
		now := time.Now()
		var re *omise.RuleError
		require.ErrorAs(t, omise.CheckRefund(&omise.Charge{ID: "c", Status: "pending", CreatedAt: now}, 1, now), &re)
		require.Equal(t, omise.RuleRefundNotCaptured, re.Rule)
		require.ErrorAs(t, omise.CheckRefund(&omise.Charge{ID: "c", Paid: true, Amount: 5, CreatedAt: now}, 0, now), &re)
		require.Equal(t, omise.RuleRefundAmount, re.Rule)
		require.NoError(t, omise.CheckRefund(&omise.Charge{ID: "c", Paid: true, Amount: 5, CreatedAt: now}, 5, now))
		require.ErrorAs(t, omise.CheckRefund(&omise.Charge{ID: "c", Paid: true, Amount: 5, CreatedAt: now,
			Refunds: &omise.List[omise.Refund]{Total: 15}}, 1, now), &re)
		require.Equal(t, omise.RuleRefundCount, re.Rule)
	})

	t.Run("the emulator enforces the rules too", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, omise.ClientOptions{})
		ch := paidCharge(t, e, 100)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/charges/"+ch.ID+"/refunds", strings.NewReader("amount=101"))
		req.SetBasicAuth(e.srv.SecretKey(), "")
		req.Header.Set(omise.VersionHeader, omise.APIVersion)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}

var (
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	pdfBytes = []byte("%PDF-1.4\n%fake\n")
)

func TestDisputes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, omise.ClientOptions{})
	ch := paidCharge(t, e, 10000)
	d, err := e.srv.OpenDispute(ch.ID)
	require.NoError(t, err)

	l, err := e.c.ListDisputes(ctx, omise.DisputeOpen)
	require.NoError(t, err)
	require.Len(t, l.Data, 1)
	got, err := e.c.RetrieveDispute(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, ch.ID, got.Charge)

	doc, err := e.c.UploadDisputeDocument(ctx, d.ID, "receipt.png", pngBytes)
	require.NoError(t, err)
	require.Equal(t, "receipt.png", doc.Filename)
	_, err = e.c.UploadDisputeDocument(ctx, d.ID, "slip.pdf", pdfBytes)
	require.NoError(t, err)

	var re *omise.RuleError
	_, err = e.c.UploadDisputeDocument(ctx, d.ID, "notes.txt", []byte("hello, plain text"))
	require.ErrorAs(t, err, &re)
	require.Equal(t, omise.RuleDocumentType, re.Rule)
	big := append(append([]byte(nil), pngBytes...), bytes.Repeat([]byte{0}, omise.MaxDocumentSize)...)
	before := e.srv.Requests()
	_, err = e.c.UploadDisputeDocument(ctx, d.ID, "huge.png", big)
	require.ErrorAs(t, err, &re)
	require.Equal(t, omise.RuleDocumentSize, re.Rule)
	require.Equal(t, before, e.srv.Requests(), "size is checked before any call")

	d2, err := e.c.UpdateDispute(ctx, d.ID, "Delivered on 2026-03-01, tracking TH123.")
	require.NoError(t, err)
	require.Equal(t, omise.DisputePending, d2.Status)
	_, err = e.c.UploadDisputeDocument(ctx, d.ID, "late.png", pngBytes)
	require.ErrorAs(t, err, &re)
	require.Equal(t, omise.RuleDisputeNotOpen, re.Rule)

	l, err = e.c.ListDisputes(ctx, omise.DisputePending)
	require.NoError(t, err)
	require.Len(t, l.Data, 1)
	d3, err := e.c.AcceptDispute(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, omise.DisputeLost, d3.Status)
	l, err = e.c.ListDisputes(ctx, omise.DisputeLost)
	require.NoError(t, err)
	require.Len(t, l.Data, 1)
	l, err = e.c.ListDisputes(ctx, "")
	require.NoError(t, err)
	require.Len(t, l.Data, 1)
	_, err = e.c.ListDisputes(ctx, "bogus")
	require.Error(t, err)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, omise.ClientOptions{Timeout: 200 * time.Millisecond})
	e.srv.FailNext(http.StatusServiceUnavailable)
	_, err := e.c.RetrieveCharge(context.Background(), "chrg_test_x")
	var oe *omise.Error
	require.ErrorAs(t, err, &oe)
	require.True(t, oe.Temporary())

	e.srv.HangNext(1)
	start := time.Now()
	_, err = e.c.RetrieveCharge(context.Background(), "chrg_test_x")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)

	// A non-JSON error body still yields a typed error.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer bad.Close()
	c, err := omise.NewClient(omise.ClientOptions{SecretKey: "skey_test_x", BaseURL: bad.URL})
	require.NoError(t, err)
	_, err = c.RetrieveCharge(context.Background(), "chrg_test_x")
	require.ErrorAs(t, err, &oe)
	require.Equal(t, http.StatusBadGateway, oe.Status)
	require.True(t, oe.Temporary())
}

func TestGatewayPromptPayFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, omise.ClientOptions{})
	s, err := e.gw.CreateSession(ctx, gateway.SessionRequest{ShopID: "shop1", OrderID: "o1", AttemptID: "a1",
		Amount: 25000, Currency: "thb", ReturnURL: "https://chatpay.example/p/abc"})
	require.NoError(t, err)
	require.Contains(t, s.CheckoutURL, "/qr/"+s.ID)
	qr, err := e.gw.QRCode(ctx, s.ID)
	require.NoError(t, err)
	require.Equal(t, s.CheckoutURL, qr.ImageURL)
	require.NotNil(t, qr.ExpiresAt)
	ch, _ := e.srv.Charge(s.ID)
	require.Equal(t, "a1", ch.Metadata[omise.MetaAttemptID])
	require.Equal(t, "https://chatpay.example/p/abc", ch.ReturnURI)

	st, err := e.gw.SessionStatus(ctx, s.ID)
	require.NoError(t, err)
	require.Equal(t, gateway.StatusOpen, st.Status)

	require.NoError(t, e.srv.Complete(s.ID, true))
	body, h := e.rcv.last(t)
	ge, err := e.gw.ParseWebhook(h, body, time.Now())
	require.NoError(t, err)
	require.Equal(t, omise.TypeUnresolved+omise.KeyChargeComplete, ge.Type, "nothing acts on an unresolved event")
	require.Equal(t, s.ID, ge.SessionID)

	ev, err := omise.ParseEvent(ge.Payload)
	require.NoError(t, err)
	res, err := e.gw.ResolveEvent(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, orders.EventSucceeded, res.Type)
	require.EqualValues(t, 25000, res.Amount)
	require.Equal(t, "THB", res.Currency)
	require.Equal(t, s.ID, res.PaymentRef)

	st, err = e.gw.SessionStatus(ctx, s.ID)
	require.NoError(t, err)
	require.Equal(t, orders.EventSucceeded, st.Status)
	_, err = e.gw.QRCode(ctx, s.ID)
	require.Equal(t, orders.EGONE, orders.ErrorCode(err))

	// Refund through the gateway: idempotent by key, rules mapped to ECONFLICT.
	r1, err := e.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: s.ID, Amount: 5000, Currency: "THB", IdempotencyKey: "k1"})
	require.NoError(t, err)
	r2, err := e.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: s.ID, Amount: 5000, IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.Equal(t, r1.ID, r2.ID)
	_, err = e.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: s.ID, Amount: 6000, IdempotencyKey: "k1"})
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err))
	_, err = e.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: s.ID, Amount: 20001, IdempotencyKey: "k2"})
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err))
	require.Contains(t, err.Error(), "exceeds the 20000 left")
	_, err = e.gw.Refund(ctx, gateway.RefundRequest{PaymentRef: s.ID, Amount: 1, Currency: "USD", IdempotencyKey: "k3"})
	require.Equal(t, orders.EINVALID, orders.ErrorCode(err))

	body, h = e.rcv.last(t)
	ge, err = e.gw.ParseWebhook(h, body, time.Now())
	require.NoError(t, err)
	ev, err = omise.ParseEvent(ge.Payload)
	require.NoError(t, err)
	res, err = e.gw.ResolveEvent(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, omise.EventRefunded, res.Type)
	require.Equal(t, r1.ID, res.RefundID)
	require.EqualValues(t, 5000, res.RefundAmount)
	require.EqualValues(t, 5000, res.RefundedTotal)
	require.EqualValues(t, 5000, res.Amount, "the cumulative refunded total, as orders.EventRefunded wants")
}

func TestGatewayRedirectFailedAndDisputes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, omise.ClientOptions{})
	gw, err := omise.New(omise.Config{ShopID: "shop1", Client: e.c, WebhookSecrets: []string{secretA}, SourceType: omise.SourceMobileBankingSCB})
	require.NoError(t, err)
	_, err = gw.CreateSession(ctx, gateway.SessionRequest{ShopID: "shop2", Amount: 100, Currency: "THB"})
	require.Equal(t, orders.EINVALID, orders.ErrorCode(err))
	s, err := gw.CreateSession(ctx, gateway.SessionRequest{ShopID: "shop1", Amount: 9900, Currency: "THB", ReturnURL: "https://chatpay.example/p/x"})
	require.NoError(t, err)
	require.Contains(t, s.CheckoutURL, "/pay/"+s.ID)
	_, err = gw.QRCode(ctx, s.ID)
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err))

	require.NoError(t, e.srv.Complete(s.ID, false))
	resolve := func() *omise.ResolvedEvent {
		body, h := e.rcv.last(t)
		_, err := gw.ParseWebhook(h, body, time.Now())
		require.NoError(t, err)
		ev, err := omise.ParseEvent(body)
		require.NoError(t, err)
		res, err := gw.ResolveEvent(ctx, ev)
		require.NoError(t, err)
		return res
	}
	res := resolve()
	require.Equal(t, orders.EventFailed, res.Type)
	require.Equal(t, "payment_rejected", res.Reason)

	ch := paidCharge(t, e, 3000)
	d, err := e.srv.OpenDispute(ch.ID)
	require.NoError(t, err)
	res = resolve()
	require.Equal(t, omise.EventDisputeOpened, res.Type)
	require.Equal(t, d.ID, res.DisputeID)
	require.Equal(t, ch.ID, res.PaymentRef)
	_, err = e.c.UpdateDispute(ctx, d.ID, "evidence attached")
	require.NoError(t, err)
	res = resolve()
	require.Equal(t, omise.EventDisputeUpdated, res.Type)
	require.Equal(t, omise.DisputePending, res.DisputeStatus)
	require.Equal(t, orders.DisputePending, res.Dispute.Status)
	require.NoError(t, e.srv.CloseDispute(d.ID, true))
	res = resolve()
	require.Equal(t, omise.EventDisputeClosed, res.Type)
	require.Equal(t, omise.DisputeWon, res.DisputeStatus)
	require.Equal(t, d.ID, res.Dispute.ID)
	require.Equal(t, orders.DisputeWon, res.Dispute.Status)

	// Capture and reverse events.
	pre, err := e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 800, Currency: "THB", Card: "tokn_test_ok", Capture: ptr(false)})
	require.NoError(t, err)
	_, err = e.c.CaptureCharge(ctx, pre.ID, 0)
	require.NoError(t, err)
	res = resolve()
	require.Equal(t, omise.EventCaptured, res.Type)
	require.EqualValues(t, 800, res.CapturedAmount)
	pre2, err := e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 800, Currency: "THB", Card: "tokn_test_ok", Capture: ptr(false)})
	require.NoError(t, err)
	_, err = e.c.ReverseCharge(ctx, pre2.ID)
	require.NoError(t, err)
	res = resolve()
	require.Equal(t, omise.EventReversed, res.Type)

	_, err = gw.ResolveEvent(ctx, &omise.Event{ID: "evnt_1", Key: "customer.create", DataObject: "customer", DataID: "cust_1"})
	require.ErrorIs(t, err, omise.ErrUnsupportedEvent)
}

func TestResolveUsesFetchedStateNotSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, omise.ClientOptions{})
	s, err := e.gw.CreateSession(ctx, gateway.SessionRequest{Amount: 1000, Currency: "THB", ReturnURL: "https://x.example/p"})
	require.NoError(t, err)
	// A forged-but-signed (or replayed) snapshot claims success; Omise says pending.
	body := []byte(`{"object":"event","id":"evnt_test_forged","key":"charge.complete","data":{"object":"charge","id":"` + s.ID + `","status":"successful","amount":1000}}`)
	ev, err := omise.ParseEvent(body)
	require.NoError(t, err)
	res, err := e.gw.ResolveEvent(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, orders.EventPending, res.Type)

	e.srv.FailNext(http.StatusInternalServerError)
	_, err = e.gw.ResolveEvent(ctx, ev)
	var oe *omise.Error
	require.True(t, errors.As(err, &oe) && oe.Temporary(), "a failed fetch is an error to retry, never a guess")
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := omise.NewClient(omise.ClientOptions{})
	require.Error(t, err)
	_, err = omise.NewClient(omise.ClientOptions{SecretKey: "skey_x", BaseURL: "ftp://x"})
	require.Error(t, err)
	c, err := omise.NewClient(omise.ClientOptions{SecretKey: "skey_x"})
	require.NoError(t, err)
	_, err = omise.New(omise.Config{Client: c})
	require.Error(t, err)
	_, err = omise.New(omise.Config{Client: c, WebhookSecrets: []string{"!!"}})
	require.Error(t, err)
}

func TestGatewayCapture(t *testing.T) {
	t.Parallel()
	e := newEnv(t, omise.ClientOptions{})
	ctx := context.Background()
	var _ gateway.Capturer = e.gw

	// A partial capture of a pre-authorised charge; a retry reports the same capture.
	ch, err := e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 10000, Currency: "THB", Card: "tokn_test_ok", Capture: ptr(false), AuthorizationType: "pre_auth"})
	require.NoError(t, err)
	// A held charge is a payment, only authorised: to reconciliation and to webhooks.
	st, err := e.gw.SessionStatus(ctx, ch.ID)
	require.NoError(t, err)
	require.Equal(t, gateway.SessionStatus{Status: orders.EventSucceeded, Amount: 10000, Currency: "THB", PaymentRef: ch.ID, Authorized: true}, *st)
	res0, err := e.gw.ResolveEvent(ctx, &omise.Event{ID: "evnt_held", Key: omise.KeyChargeComplete, DataObject: "charge", DataID: ch.ID})
	require.NoError(t, err)
	require.Equal(t, orders.EventSucceeded, res0.Type)
	require.True(t, res0.Authorized)
	require.Equal(t, ch.ID, res0.PaymentRef)
	require.True(t, e.gw.Capabilities().Capture)

	req := gateway.CaptureRequest{PaymentRef: ch.ID, Amount: 6000, Currency: "THB", IdempotencyKey: "cap_1"}
	res, err := e.gw.Capture(ctx, req)
	require.NoError(t, err)
	require.Equal(t, gateway.CaptureResult{ID: ch.ID, Amount: 6000}, *res)
	got, _ := e.srv.Charge(ch.ID)
	require.EqualValues(t, 6000, got.CapturedAmount)
	res, err = e.gw.Capture(ctx, req)
	require.NoError(t, err, "a retried capture job succeeds")
	require.EqualValues(t, 6000, res.Amount)
	var oe *orders.Error
	_, err = e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: ch.ID, Amount: 4000, IdempotencyKey: "cap_2"})
	require.ErrorAs(t, err, &oe, "only one capture per charge")
	require.Equal(t, orders.ECONFLICT, oe.Code)

	// A full capture of a charge that is not pre_auth.
	ch2, err := e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 5000, Currency: "THB", Card: "tokn_test_ok", Capture: ptr(false)})
	require.NoError(t, err)
	_, err = e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: ch2.ID, Amount: 100, IdempotencyKey: "cap_3"})
	require.ErrorAs(t, err, &oe, "a partial capture needs pre_auth")
	require.Equal(t, orders.ECONFLICT, oe.Code)
	_, err = e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: ch2.ID, Amount: 5001, IdempotencyKey: "cap_3"})
	require.ErrorAs(t, err, &oe)
	require.Equal(t, orders.ECONFLICT, oe.Code)
	_, err = e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: ch2.ID, Amount: 5000, Currency: "USD", IdempotencyKey: "cap_3"})
	require.ErrorAs(t, err, &oe)
	require.Equal(t, orders.EINVALID, oe.Code)
	res, err = e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: ch2.ID, Amount: 5000, IdempotencyKey: "cap_3"})
	require.NoError(t, err)
	require.EqualValues(t, 5000, res.Amount)

	// Once captured, the charge is an ordinary payment.
	st, err = e.gw.SessionStatus(ctx, ch2.ID)
	require.NoError(t, err)
	require.Equal(t, orders.EventSucceeded, st.Status)
	require.False(t, st.Authorized)

	// A charge that was captured at once cannot be captured again.
	paid := paidCharge(t, e, 3000)
	st, err = e.gw.SessionStatus(ctx, paid.ID)
	require.NoError(t, err)
	require.False(t, st.Authorized)
	_, err = e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: paid.ID, Amount: 1000, IdempotencyKey: "cap_4"})
	require.ErrorAs(t, err, &oe)
	require.Equal(t, orders.ECONFLICT, oe.Code)
}
