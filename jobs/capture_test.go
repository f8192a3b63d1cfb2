package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// capturingGateway is a gateway that captures (as Stripe with manual capture): it
// records the requests and answers as it is told to.
type capturingGateway struct {
	gateway.Gateway
	mu   sync.Mutex
	reqs []gateway.CaptureRequest
	fail error
}

func (g *capturingGateway) Capture(_ context.Context, req gateway.CaptureRequest) (*gateway.CaptureResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reqs = append(g.reqs, req)
	if g.fail != nil {
		return nil, g.fail
	}
	return &gateway.CaptureResult{ID: req.PaymentRef, Amount: req.Amount}, nil
}

func (g *capturingGateway) requests() []gateway.CaptureRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gateway.CaptureRequest(nil), g.reqs...)
}

// authorized creates an order whose payment the gateway only authorised, and asks to
// capture amount of it; it returns the capture job's arguments.
func (b *bundle) authorized(t *testing.T, amount *int64) (*orders.Order, orders.ProcessCapture) {
	t.Helper()
	ctx := context.Background()
	o := b.order(t, orders.ChannelWebchat)
	a := b.attempt(t, o, true)
	_, err := b.svc.ApplyEvent(ctx, &orders.GatewayEvent{
		ShopID: b.shop.ID, Gateway: a.Gateway, EventID: "evt_" + a.ID, Type: orders.EventSucceeded,
		SessionID: a.SessionID, PaymentRef: "pi_" + a.ID, Amount: a.Amount, Currency: a.Currency,
		Payload: []byte(`{}`), Authorized: true,
	})
	require.NoError(t, err)
	p, err := b.svc.CapturePayment(ctx, b.shop.ID, o.ID, amount)
	require.NoError(t, err)
	var args orders.ProcessCapture
	row := b.store.Writer().QueryRowContext(ctx, `SELECT json(args) FROM river_job WHERE kind = ? ORDER BY id DESC LIMIT 1`, orders.ProcessCapture{}.Kind())
	var raw string
	require.NoError(t, row.Scan(&raw))
	require.NoError(t, json.Unmarshal([]byte(raw), &args))
	require.Equal(t, p.ID, args.PaymentID)
	o, err = b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	return o, args
}

func TestCaptureWorker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	sb, err := b.jobs.cfg.Gateways.Get(b.shop.ID, "sandbox")
	require.NoError(t, err)
	gw := &capturingGateway{Gateway: sb}
	b.jobs.cfg.Gateways.Add(b.shop.ID, gw)
	w := &captureWorker{j: b.jobs}

	o, args := b.authorized(t, new(int64(40000)))
	require.NoError(t, w.Work(ctx, job(args, 1)))
	require.Equal(t, []gateway.CaptureRequest{{PaymentRef: o.Payments[0].GatewayRef, Amount: 40000, Currency: "VND", IdempotencyKey: args.Key}}, gw.requests())
	got, err := b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.Equal(t, orders.PaymentStatusSucceeded, got.Payments[0].Status)
	require.EqualValues(t, 40000, got.Payments[0].Amount)
	// A rerun after the answer was recorded does not ask the gateway again.
	require.NoError(t, w.Work(ctx, job(args, 2)))
	require.Len(t, gw.requests(), 1)

	// A passing failure is retried and leaves the payment capturing.
	o, args = b.authorized(t, nil)
	gw.fail = errors.New("stripe: 502 bad gateway")
	require.ErrorContains(t, w.Work(ctx, job(args, 1)), "502")
	p, err := b.store.Payment(ctx, b.shop.ID, args.PaymentID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentStatusCapturing, p.Status)

	// A refusal puts the payment back to authorised and ends the job.
	gw.fail = orders.Errorf(orders.ECONFLICT, "the authorisation expired")
	require.NoError(t, w.Work(ctx, job(args, 2)))
	got, err = b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentAuthorized, got.PaymentStatus)
	require.Equal(t, orders.PaymentStatusAuthorized, got.Payments[0].Status)
	require.EqualValues(t, 100000, got.Payments[0].Amount, "the authorised amount is kept")
}

func TestCaptureWorkerWithoutCapturer(t *testing.T) {
	t.Parallel()
	b := setup(t) // the plain sandbox cannot capture
	ctx := context.Background()
	o, args := b.authorized(t, nil)
	require.NoError(t, (&captureWorker{j: b.jobs}).Work(ctx, job(args, 1)))
	got, err := b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentAuthorized, got.PaymentStatus)
}

// TestCaptureWorkerHoldExpired: a gateway that says the authorisation expired
// (gateway.ErrHoldExpired, as Omise's ExpiredError) has already given the money back,
// so the payment is released like a hold released at the gateway: the order awaits
// payment again and staff hear why. The job ends; asking again cannot help.
func TestCaptureWorkerHoldExpired(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	sb, err := b.jobs.cfg.Gateways.Get(b.shop.ID, "sandbox")
	require.NoError(t, err)
	gw := &capturingGateway{Gateway: sb}
	b.jobs.cfg.Gateways.Add(b.shop.ID, gw)
	w := &captureWorker{j: b.jobs}

	o, args := b.authorized(t, nil)
	gw.fail = expiredHold{orders.Errorf(orders.ECONFLICT, "Charge chrg_1 cannot be captured: the authorisation expired.")}
	require.NoError(t, w.Work(ctx, job(args, 1)))
	require.Len(t, gw.requests(), 1)
	got, err := b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusAwaitingPayment, got.Status, "nothing is held: the link takes payment again")
	require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
	require.Nil(t, got.PaidAt)
	require.Equal(t, orders.PaymentStatusVoided, got.Payments[0].Status)
	require.Zero(t, got.Payments[0].Amount, "nothing was taken")
	ns, err := b.store.Notices(ctx, b.shop.ID, 1)
	require.NoError(t, err)
	require.Equal(t, orders.NoticeHoldReleased, ns[0].Kind)
	require.Contains(t, ns[0].Text, "the authorisation expired")

	// A rerun finds the answer recorded and asks the gateway nothing.
	require.NoError(t, w.Work(ctx, job(args, 2)))
	require.Len(t, gw.requests(), 1)

	// Any other refusal still leaves the payment authorised, for staff to try again.
	o, args = b.authorized(t, nil)
	gw.fail = orders.Errorf(orders.ECONFLICT, "Charge chrg_2 is failed and cannot be captured.")
	require.NoError(t, w.Work(ctx, job(args, 1)))
	got, err = b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, orders.PaymentAuthorized, got.PaymentStatus)
	ns, err = b.store.Notices(ctx, b.shop.ID, 1)
	require.NoError(t, err)
	require.Equal(t, orders.NoticeCaptureFailed, ns[0].Kind)
}

// expiredHold is a gateway's refusal of a capture whose authorisation expired, built
// as Omise's ExpiredError is: a conflict that also matches gateway.ErrHoldExpired.
type expiredHold struct{ err error }

func (e expiredHold) Error() string   { return e.err.Error() }
func (e expiredHold) Unwrap() []error { return []error{e.err, gateway.ErrHoldExpired} }
