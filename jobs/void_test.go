package jobs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/gateway/omise"
	"github.com/chatpay/chatpay/gateway/omise/omisetest"
	"github.com/chatpay/chatpay/orders"
)

// voidingGateway is a gateway that releases holds (as Stripe and Omise do): it records
// the requests and answers as it is told to.
type voidingGateway struct {
	gateway.Gateway
	mu   sync.Mutex
	reqs []gateway.VoidRequest
	fail error
}

func (g *voidingGateway) Void(_ context.Context, req gateway.VoidRequest) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reqs = append(g.reqs, req)
	return g.fail
}

func (g *voidingGateway) requests() []gateway.VoidRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gateway.VoidRequest(nil), g.reqs...)
}

// cancelledHold creates an order whose payment the gateway only authorised and cancels
// it; it returns the void job's arguments.
func (b *bundle) cancelledHold(t *testing.T) (*orders.Order, orders.ProcessVoid) {
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
	_, err = b.svc.CancelOrder(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	var raw string
	row := b.store.Writer().QueryRowContext(ctx, `SELECT json(args) FROM river_job WHERE kind = ? ORDER BY id DESC LIMIT 1`, orders.ProcessVoid{}.Kind())
	require.NoError(t, row.Scan(&raw))
	var args orders.ProcessVoid
	require.NoError(t, json.Unmarshal([]byte(raw), &args))
	o, err = b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, o.Payments[0].ID, args.PaymentID)
	require.Equal(t, orders.VoidKey(args.PaymentID), args.Key)
	return o, args
}

// lastNotice returns the shop's newest notice.
func (b *bundle) lastNotice(t *testing.T) *orders.Notice {
	t.Helper()
	ns, err := b.store.Notices(context.Background(), b.shop.ID, 1)
	require.NoError(t, err)
	require.Len(t, ns, 1)
	return ns[0]
}

func TestVoidWorker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	sb, err := b.jobs.cfg.Gateways.Get(b.shop.ID, "sandbox")
	require.NoError(t, err)
	gw := &voidingGateway{Gateway: sb}
	b.jobs.cfg.Gateways.Add(b.shop.ID, gw)
	w := &voidWorker{j: b.jobs}

	o, args := b.cancelledHold(t)
	require.NoError(t, w.Work(ctx, job(args, 1)))
	require.Equal(t, []gateway.VoidRequest{{PaymentRef: o.Payments[0].GatewayRef, IdempotencyKey: orders.VoidKey(o.Payments[0].ID)}}, gw.requests())
	got, err := b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
	require.Equal(t, orders.PaymentStatusVoided, got.Payments[0].Status)
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.KindHoldReleased, ms[len(ms)-1].Kind)
	// A rerun after the answer was recorded does not ask the gateway again.
	require.NoError(t, w.Work(ctx, job(args, 2)))
	require.Len(t, gw.requests(), 1)

	// A passing failure is retried with the same key and leaves the payment voiding.
	o, args = b.cancelledHold(t)
	gw.fail = errors.New("stripe: 502 bad gateway")
	require.ErrorContains(t, w.Work(ctx, job(args, 1)), "502")
	p, err := b.store.Payment(ctx, b.shop.ID, args.PaymentID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentStatusVoiding, p.Status)
	gw.fail = nil
	require.NoError(t, w.Work(ctx, job(args, 2)))
	reqs := gw.requests()
	require.Equal(t, reqs[len(reqs)-2], reqs[len(reqs)-1], "the retry sends the same idempotency key")

	// A refusal puts the payment back to authorised, ends the job and tells staff.
	o, args = b.cancelledHold(t)
	gw.fail = orders.Errorf(orders.ECONFLICT, "Stripe: payment intent pi_1 is succeeded and cannot be released")
	require.NoError(t, w.Work(ctx, job(args, 1)))
	got, err = b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusCancelled, got.Status)
	require.Equal(t, orders.PaymentAuthorized, got.PaymentStatus)
	require.Equal(t, orders.PaymentStatusAuthorized, got.Payments[0].Status)
	n := b.lastNotice(t)
	require.Equal(t, orders.NoticeVoidFailed, n.Kind)
	require.Contains(t, n.Text, "cannot be released")

	// Passing failures until the last attempt: staff are told then too.
	o, args = b.cancelledHold(t)
	gw.fail = errors.New("omise: GET /charges/x: no answer within 30s")
	require.Error(t, w.Work(ctx, job(args, 5)))
	got, err = b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentStatusAuthorized, got.Payments[0].Status)
	require.Equal(t, orders.NoticeVoidFailed, b.lastNotice(t).Kind)
}

func TestVoidWorkerWithoutVoider(t *testing.T) {
	t.Parallel()
	b := setup(t) // the plain sandbox cannot release holds
	ctx := context.Background()
	o, args := b.cancelledHold(t)
	require.NoError(t, (&voidWorker{j: b.jobs}).Work(ctx, job(args, 1)))
	got, err := b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentStatusAuthorized, got.Payments[0].Status)
	n := b.lastNotice(t)
	require.Equal(t, orders.NoticeVoidFailed, n.Kind)
	require.Contains(t, n.Text, "cannot release")
}

// omiseVoider releases the bundle's sandbox payments through the real Omise gateway
// against the emulator: the payment's reference is mapped to an emulator charge, since
// the bundle's orders are paid through the sandbox.
type omiseVoider struct {
	gateway.Gateway // the sandbox, for its name and everything but Void
	omise           *omise.Gateway
	charges         map[string]string // payment ref -> Omise charge id
}

func (g *omiseVoider) Void(ctx context.Context, req gateway.VoidRequest) error {
	req.PaymentRef = g.charges[req.PaymentRef]
	return g.omise.Void(ctx, req)
}

// TestVoidWorkerExpiredOmiseHold: cancelling an order whose Omise authorisation has
// expired releases the payment as a successful void would (the money is back with the
// customer), instead of asking staff to release a hold that no longer exists. The
// charge still reads as capturable (Omise has not marked it yet), so only Omise's
// expired_charge answer to the reversal tells.
func TestVoidWorkerExpiredOmiseHold(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	var mu sync.Mutex
	now := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := omisetest.New(omisetest.Options{Now: clock})
	t.Cleanup(srv.Close)
	c, err := omise.NewClient(omise.ClientOptions{BaseURL: srv.URL, SecretKey: srv.SecretKey()})
	require.NoError(t, err)
	og, err := omise.New(omise.Config{ShopID: b.shop.ID, Client: c,
		WebhookSecrets: []string{base64.StdEncoding.EncodeToString([]byte("whsec-jobs-0123456789abcdef"))}})
	require.NoError(t, err)
	capture := false // a hold
	held, err := c.CreateCharge(ctx, omise.ChargeParams{Amount: 9900, Currency: "THB", Card: "tokn_test_ok", Capture: &capture})
	require.NoError(t, err)

	sb, err := b.jobs.cfg.Gateways.Get(b.shop.ID, "sandbox")
	require.NoError(t, err)
	gw := &omiseVoider{Gateway: sb, omise: og, charges: map[string]string{}}
	b.jobs.cfg.Gateways.Add(b.shop.ID, gw)

	o, args := b.cancelledHold(t)
	gw.charges[o.Payments[0].GatewayRef] = held.ID
	mu.Lock()
	now = now.Add(omisetest.HoldDuration + time.Hour) // the authorisation ran out
	mu.Unlock()

	require.NoError(t, (&voidWorker{j: b.jobs}).Work(ctx, job(args, 1)))
	got, err := b.svc.Order(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentStatusVoided, got.Payments[0].Status)
	require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.KindHoldReleased, ms[len(ms)-1].Kind, "the customer hears that nothing was taken")
	ns, err := b.store.Notices(ctx, b.shop.ID, 50)
	require.NoError(t, err)
	for _, n := range ns {
		require.NotEqual(t, orders.NoticeVoidFailed, n.Kind, "staff are not asked to release it: %s", n.Text)
	}
	ch, ok := srv.Charge(held.ID)
	require.True(t, ok)
	require.False(t, ch.Reversed, "nothing was reversed")
}
