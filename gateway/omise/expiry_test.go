package omise_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/gateway/omise/omisetest"
	"github.com/chatpay/chatpay/orders"
)

// clock is the emulator's clock in these tests, moved by hand so that authorisations
// expire without waiting 7 days.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newClockEnv is newEnv with the emulator on a clock the test moves.
func newClockEnv(t *testing.T) (*env, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)}
	rcv := newReceiver(t)
	srv := omisetest.New(omisetest.Options{WebhookURL: rcv.URL, WebhookSecrets: []string{secretA}, Now: clk.Now})
	t.Cleanup(srv.Close)
	c, err := omise.NewClient(omise.ClientOptions{BaseURL: srv.URL, SecretKey: srv.SecretKey(), Now: clk.Now})
	require.NoError(t, err)
	gw, err := omise.New(omise.Config{ShopID: "shop1", Client: c, WebhookSecrets: []string{secretA}})
	require.NoError(t, err)
	return &env{srv: srv, rcv: rcv, c: c, gw: gw}, clk
}

// resolveLastAt is resolveLast with the webhook's timestamp checked against the
// emulator's clock rather than the wall clock.
func (e *env) resolveLastAt(t *testing.T, now time.Time) *orders.GatewayEvent {
	t.Helper()
	body, h := e.rcv.last(t)
	parsed, err := e.gw.ParseWebhook(h, body, now)
	require.NoError(t, err)
	ev, err := e.gw.Resolve(context.Background(), parsed)
	require.NoError(t, err)
	return ev
}

// heldCharge is a card charge created with capture=false: authorised, holding amount.
func heldCharge(t *testing.T, e *env, amount int64) *omise.Charge {
	t.Helper()
	ch, err := e.c.CreateCharge(context.Background(), omise.ChargeParams{Amount: amount, Currency: "THB", Card: "tokn_test_ok", Capture: ptr(false)})
	require.NoError(t, err)
	require.True(t, ch.Capturable)
	require.NotNil(t, ch.ExpiresAt, "a hold says when it expires")
	return ch
}

// TestVoidExpiredHold: releasing a hold whose authorisation expired succeeds without a
// reversal, whether the charge already reads as expired or Omise says so only when
// asked to reverse it, and the expiry's own event releases the payment too.
func TestVoidExpiredHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, clk := newClockEnv(t)

	// Omise has expired the authorisation: the charge reads as expired, charge.expire
	// was sent, and Void only reads it.
	held := heldCharge(t, e, 9900)
	require.NoError(t, e.srv.ExpireCharge(held.ID))
	got, err := e.c.RetrieveCharge(ctx, held.ID)
	require.NoError(t, err)
	require.True(t, got.Expired)
	require.Equal(t, omise.ChargeExpired, got.Status)
	require.NotNil(t, got.ExpiredAt)
	require.True(t, clk.Now().Equal(*got.ExpiredAt))
	require.False(t, got.Capturable)
	ev := e.resolveLastAt(t, clk.Now())
	require.Equal(t, orders.EventVoided, ev.Type, "an expired hold is released")
	require.Equal(t, held.ID, ev.PaymentRef)
	require.Equal(t, "expired", ev.Reason)
	_, err = e.c.ReverseCharge(ctx, held.ID)
	var oe *omise.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, http.StatusBadRequest, oe.Status)
	require.Equal(t, omise.CodeExpiredCharge, oe.Code)

	requests := e.srv.Requests()
	require.NoError(t, e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: held.ID, IdempotencyKey: orders.VoidKey("pay_1")}))
	require.Equal(t, requests+1, e.srv.Requests(), "an expired hold is only read")
	after, _ := e.srv.Charge(held.ID)
	require.False(t, after.Reversed)
	require.Equal(t, omise.ChargeExpired, after.Status)

	// The authorisation ran out but Omise has not marked the charge yet: it reads as
	// capturable before and after, and only the reversal's expired_charge tells.
	late := heldCharge(t, e, 4200)
	clk.Add(omisetest.HoldDuration + time.Minute)
	_, err = e.c.ReverseCharge(ctx, late.ID)
	require.ErrorAs(t, err, &oe)
	require.Equal(t, omise.CodeExpiredCharge, oe.Code)
	read, err := e.c.RetrieveCharge(ctx, late.ID)
	require.NoError(t, err)
	require.True(t, read.Capturable)
	require.False(t, read.Expired)
	require.NoError(t, e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: late.ID, IdempotencyKey: orders.VoidKey("pay_2")}))
	after, _ = e.srv.Charge(late.ID)
	require.False(t, after.Reversed)
	// Omise then marks it, and its charge.expire releases the payment too (the
	// domain applies a second release of one payment as nothing).
	require.NoError(t, e.srv.ExpireCharge(late.ID))
	ev = e.resolveLastAt(t, clk.Now())
	require.Equal(t, orders.EventVoided, ev.Type)
	require.Equal(t, late.ID, ev.PaymentRef)
	// A retried job finds it released.
	require.NoError(t, e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: late.ID, IdempotencyKey: orders.VoidKey("pay_2")}))

	// A captured charge is still refused: only holds expire.
	paid := paidCharge(t, e, 5000)
	err = e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: paid.ID, IdempotencyKey: "k"})
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err), "%v", err)
}

// TestCaptureExpiredHold: capturing a hold whose authorisation expired is a permanent
// error (ECONFLICT, which the capture job does not retry) that says when it expired.
func TestCaptureExpiredHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, clk := newClockEnv(t)

	// Known from the charge: nothing is sent to Omise's capture endpoint.
	held := heldCharge(t, e, 10000)
	clk.Add(time.Hour)
	require.NoError(t, e.srv.ExpireCharge(held.ID))
	requests := e.srv.Requests()
	_, err := e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: held.ID, Amount: 10000, Currency: "THB", IdempotencyKey: "cap_1"})
	require.Error(t, err)
	require.Equal(t, requests+1, e.srv.Requests(), "the charge is only read")
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err), "%v", err)
	require.ErrorIs(t, err, omise.ErrAuthorizationExpired)
	var xe *omise.ExpiredError
	require.ErrorAs(t, err, &xe)
	require.Equal(t, held.ID, xe.ChargeID)
	require.NotNil(t, xe.ExpiredAt)
	require.True(t, xe.ExpiredAt.Equal(time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC)), "%v", xe.ExpiredAt)
	require.Contains(t, orders.ErrorMessage(err), "the authorisation expired on 2026-11-01 04:00 UTC")

	// Known only from Omise's answer: the capture is refused with expired_charge.
	late := heldCharge(t, e, 3000)
	clk.Add(omisetest.HoldDuration + time.Minute)
	_, err = e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: late.ID, Amount: 3000, Currency: "THB", IdempotencyKey: "cap_2"})
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err), "%v", err)
	require.True(t, errors.Is(err, omise.ErrAuthorizationExpired), "%v", err)
	require.ErrorAs(t, err, &xe)
	require.True(t, xe.ExpiredAt.Equal(*late.ExpiresAt), "%v, want %v", xe.ExpiredAt, late.ExpiresAt)
	require.Contains(t, orders.ErrorMessage(err), "the authorisation expired on "+late.ExpiresAt.UTC().Format("2006-01-02 15:04")+" UTC")
	got, _ := e.srv.Charge(late.ID)
	require.Zero(t, got.CapturedAmount, "nothing was captured")

	// The client sees Omise's own error.
	_, err = e.c.CaptureCharge(ctx, late.ID, 0)
	var oe *omise.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, omise.CodeExpiredCharge, oe.Code)
	require.False(t, oe.Temporary())

	// A failing Omise is still worth a retry: it is not an expiry.
	ok := heldCharge(t, e, 2000)
	e.srv.FailNext(http.StatusServiceUnavailable)
	_, err = e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: ok.ID, Amount: 2000, IdempotencyKey: "cap_3"})
	require.Equal(t, orders.EINTERNAL, orders.ErrorCode(err), "%v", err)
	require.False(t, errors.Is(err, omise.ErrAuthorizationExpired))
}

// TestExpiredQRIsAFailedPayment: charge.expire also comes for a PromptPay charge nobody
// paid; it held nothing, so it resolves to a failed payment, not a released hold.
func TestExpiredQRIsAFailedPayment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, clk := newClockEnv(t)
	s, err := e.gw.CreateSession(ctx, gateway.SessionRequest{ShopID: "shop1", Amount: 500, Currency: "THB", ReturnURL: "https://x.example/p"})
	require.NoError(t, err)
	require.NoError(t, e.srv.ExpireCharge(s.ID))
	ev := e.resolveLastAt(t, clk.Now())
	require.Equal(t, orders.EventFailed, ev.Type)
	require.Equal(t, "expired", ev.Reason)
	require.Empty(t, ev.PaymentRef)
	st, err := e.gw.SessionStatus(ctx, s.ID)
	require.NoError(t, err)
	require.Equal(t, orders.EventFailed, st.Status)
	require.False(t, st.Authorized)
}
