package omise_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/orders"
)

// resolveLast verifies, parses and resolves the last webhook the emulator sent.
func (e *env) resolveLast(t *testing.T) *orders.GatewayEvent {
	t.Helper()
	body, h := e.rcv.last(t)
	parsed, err := e.gw.ParseWebhook(h, body, time.Now())
	require.NoError(t, err)
	ev, err := e.gw.Resolve(context.Background(), parsed)
	require.NoError(t, err)
	return ev
}

// TestGatewayVoid releases an authorised charge against the emulator: the charge is
// reversed there, its charge.reverse webhook resolves to orders.EventVoided naming the
// charge, and releasing again (a retried job) succeeds without a second reversal.
func TestGatewayVoid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, omise.ClientOptions{})

	// A source charge the customer authorised (as a card charge with capture=false).
	s, err := e.gw.CreateSession(ctx, gateway.SessionRequest{ShopID: "shop1", Amount: 9900, Currency: "THB", ReturnURL: "https://x.example/p"})
	require.NoError(t, err)
	require.NoError(t, e.srv.Authorize(s.ID))
	ev := e.resolveLast(t)
	require.Equal(t, orders.EventSucceeded, ev.Type)
	require.True(t, ev.Authorized)
	require.Equal(t, s.ID, ev.PaymentRef)
	st, err := e.gw.SessionStatus(ctx, s.ID)
	require.NoError(t, err)
	require.True(t, st.Authorized)

	require.NoError(t, e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: s.ID, IdempotencyKey: orders.VoidKey("pay_1")}))
	ch, ok := e.srv.Charge(s.ID)
	require.True(t, ok)
	require.Equal(t, omise.ChargeReversed, ch.Status)
	require.True(t, ch.Reversed)
	require.False(t, ch.Capturable)
	require.Zero(t, ch.CapturedAmount, "nothing was taken")
	ev = e.resolveLast(t)
	require.Equal(t, orders.EventVoided, ev.Type)
	require.Equal(t, s.ID, ev.PaymentRef)
	require.EqualValues(t, 9900, ev.Amount)

	requests := e.srv.Requests()
	require.NoError(t, e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: s.ID, IdempotencyKey: orders.VoidKey("pay_1")}))
	require.Equal(t, requests+1, e.srv.Requests(), "a released charge is only read")
}

func TestGatewayVoidRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, omise.ClientOptions{})

	captured := paidCharge(t, e, 5000)
	err := e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: captured.ID, IdempotencyKey: "k"})
	require.Equal(t, orders.ECONFLICT, orders.ErrorCode(err), "%v", err)
	require.Contains(t, orders.ErrorMessage(err), "successful")

	err = e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: "chrg_test_missing", IdempotencyKey: "k"})
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err), "%v", err)
	err = e.gw.Void(ctx, gateway.VoidRequest{IdempotencyKey: "k"})
	require.Equal(t, orders.EINVALID, orders.ErrorCode(err), "%v", err)

	// Omise failing is worth a retry, which then releases the charge.
	held, err := e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 800, Currency: "THB", Card: "tokn_test_ok", Capture: ptr(false)})
	require.NoError(t, err)
	e.srv.FailNext(http.StatusServiceUnavailable)
	err = e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: held.ID, IdempotencyKey: "k"})
	require.Error(t, err)
	require.Equal(t, orders.EINTERNAL, orders.ErrorCode(err), "not a refusal: %v", err)
	require.NoError(t, e.gw.Void(ctx, gateway.VoidRequest{PaymentRef: held.ID, IdempotencyKey: "k"}))
	ch, _ := e.srv.Charge(held.ID)
	require.Equal(t, omise.ChargeReversed, ch.Status)
}

// TestResolveCapturedAmount: a partial capture's event carries what was captured.
func TestResolveCapturedAmount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, omise.ClientOptions{})
	pre, err := e.c.CreateCharge(ctx, omise.ChargeParams{Amount: 800, Currency: "THB", Card: "tokn_test_ok",
		Capture: ptr(false), AuthorizationType: "pre_auth"})
	require.NoError(t, err)
	_, err = e.gw.Capture(ctx, gateway.CaptureRequest{PaymentRef: pre.ID, Amount: 500, Currency: "THB", IdempotencyKey: "c1"})
	require.NoError(t, err)
	ev := e.resolveLast(t)
	require.Equal(t, orders.EventCaptured, ev.Type)
	require.Equal(t, pre.ID, ev.PaymentRef)
	require.EqualValues(t, 500, ev.Amount)
}

// TestResolveUnsupportedIsAcknowledged: an event chatpay does not act on (Omise sends
// every event of the account) comes back unresolved, to be recorded and acknowledged,
// not refused until Omise gives up.
func TestResolveUnsupportedIsAcknowledged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, omise.ClientOptions{})
	body := []byte(`{"object":"event","id":"evnt_test_cust","key":"customer.create","created_at":"2026-11-01T00:00:00Z",` +
		`"data":{"object":"customer","id":"cust_test_1"}}`)
	h := e.srv.SignedHeader(body)
	parsed, err := e.gw.ParseWebhook(h, body, time.Now())
	require.NoError(t, err)
	ev, err := e.gw.Resolve(context.Background(), parsed)
	require.NoError(t, err)
	require.Equal(t, omise.TypeUnresolved+"customer.create", ev.Type)
	require.Equal(t, "evnt_test_cust", ev.EventID)
	require.Zero(t, e.srv.Requests(), "nothing to fetch")
}
