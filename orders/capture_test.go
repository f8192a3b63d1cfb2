package orders_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// withCaptureRules replaces the bundle's service with one whose sandbox payments
// follow rules, as cmd wires a gateway's capabilities.
func (b *bundle) withCaptureRules(t *testing.T, rules orders.CaptureRules) {
	t.Helper()
	b.svc = b.service(t, b.key, func(c *orders.Config) {
		c.CaptureRules = func(shopID, gateway string) orders.CaptureRules {
			if shopID != shopA || gateway != sandbox {
				t.Errorf("capture rules asked for %s/%s, want %s/%s", shopID, gateway, shopA, sandbox)
			}
			return rules
		}
	})
}

// authorize pays the order with an event saying the money is only authorised.
func (b *bundle) authorize(t *testing.T, o *orders.Order) *orders.Order {
	t.Helper()
	a := b.attempt(t, o)
	ev := event(a, orders.EventSucceeded, "evt_auth_"+a.ID)
	ev.Authorized = true
	require.True(t, b.apply(t, ev).Paid)
	o = b.reload(t, o)
	require.Equal(t, orders.StatusPaid, o.Status)
	require.Equal(t, orders.PaymentAuthorized, o.PaymentStatus)
	require.Len(t, o.Payments, 1)
	require.Equal(t, orders.PaymentStatusAuthorized, o.Payments[0].Status)
	return o
}

// captureJobs returns the capture jobs queued so far.
func (b *bundle) captureJobs(t *testing.T) []orders.ProcessCapture {
	t.Helper()
	var out []orders.ProcessCapture
	for _, j := range b.jobs(t) {
		if c, ok := j.(orders.ProcessCapture); ok {
			out = append(out, c)
		}
	}
	return out
}

func TestCaptureFull(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.withCaptureRules(t, orders.CaptureRules{Capture: true, PartialCapture: true})
	o := b.authorize(t, b.create(t, shopA, input()))

	// Until captured, nothing ships and nothing is refunded.
	_, err := b.svc.CreateShipment(b.ctx, shopA, o.ID, "DHL", "1")
	requireCode(t, err, orders.EPAYMENTREQUIRED)
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	requireCode(t, err, orders.ECONFLICT)

	p, err := b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentStatusCapturing, p.Status)
	jobs := b.captureJobs(t)
	require.Len(t, jobs, 1)
	require.Equal(t, orders.ProcessCapture{ShopID: shopA, OrderID: o.ID, PaymentID: p.ID, Amount: 330000, Key: jobs[0].Key}, jobs[0])
	require.NotEmpty(t, jobs[0].Key)

	// A second request while the first is under way is refused, and queues nothing.
	before := b.snapshot(t)
	_, err = b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
	requireCode(t, err, orders.ECONFLICT)
	require.Equal(t, before, b.snapshot(t))
	_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "DHL", "1")
	requireCode(t, err, orders.EPAYMENTREQUIRED)
	// Nor is it cancelled: whether to release or refund is known once it is captured.
	_, err = b.svc.CancelOrder(b.ctx, shopA, o.ID)
	requireCode(t, err, orders.ECONFLICT)
	require.Equal(t, before, b.snapshot(t))

	require.NoError(t, b.svc.CompleteCapture(b.ctx, shopA, o.ID, p.ID, orders.CaptureResult{Succeeded: true, Amount: 330000}))
	o = b.reload(t, o)
	require.Equal(t, orders.PaymentPaid, o.PaymentStatus)
	require.Equal(t, orders.StatusPaid, o.Status)
	require.Equal(t, orders.PaymentStatusSucceeded, o.Payments[0].Status)
	require.Equal(t, int64(330000), o.Payments[0].Amount)
	ms := b.messages(t, o)
	require.Equal(t, orders.KindCaptured, ms[len(ms)-1].Kind)
	require.Contains(t, ms[len(ms)-1].Text, "#"+o.Code)
	require.Contains(t, noticeKinds(b.notices(t, shopA)), orders.NoticeCaptured)

	// The job running again changes nothing; the order now ships.
	before = b.snapshot(t)
	require.NoError(t, b.svc.CompleteCapture(b.ctx, shopA, o.ID, p.ID, orders.CaptureResult{Succeeded: true, Amount: 330000}))
	require.Equal(t, before, b.snapshot(t))
	_, err = b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
	requireCode(t, err, orders.ECONFLICT)
	_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "DHL", "1")
	require.NoError(t, err)
}

func TestCapturePartial(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.withCaptureRules(t, orders.CaptureRules{Capture: true, PartialCapture: true})
	o := b.authorize(t, b.create(t, shopA, input()))

	p, err := b.svc.CapturePayment(b.ctx, shopA, o.ID, new(int64(100000)))
	require.NoError(t, err)
	require.Equal(t, int64(100000), b.captureJobs(t)[0].Amount)
	require.NoError(t, b.svc.CompleteCapture(b.ctx, shopA, o.ID, p.ID, orders.CaptureResult{Succeeded: true, Amount: 100000}))
	o = b.reload(t, o)
	require.Equal(t, orders.PaymentPaid, o.PaymentStatus)
	require.Equal(t, int64(100000), o.Payments[0].Amount, "the payment is what was captured; the rest was released")

	// Only the captured amount can be refunded.
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, new(int64(100001)))
	requireInvalid(t, err, "amount")
	r, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	require.Equal(t, int64(100000), r.Amount)
}

func TestCaptureRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.withCaptureRules(t, orders.CaptureRules{Capture: true})

	unpaid := b.create(t, shopA, input())
	_, err := b.svc.CapturePayment(b.ctx, shopA, unpaid.ID, nil)
	requireCode(t, err, orders.EPAYMENTREQUIRED)

	captured := b.create(t, shopA, input())
	b.pay(t, captured)
	_, err = b.svc.CapturePayment(b.ctx, shopA, captured.ID, nil)
	requireCode(t, err, orders.ECONFLICT)

	o := b.authorize(t, b.create(t, shopA, input()))
	before := b.snapshot(t)
	for _, amount := range []int64{0, -1, 330001} {
		_, err = b.svc.CapturePayment(b.ctx, shopA, o.ID, &amount)
		requireInvalid(t, err, "amount")
	}
	_, err = b.svc.CapturePayment(b.ctx, shopA, o.ID, new(int64(1000)))
	e := requireCode(t, err, orders.ECONFLICT)
	require.Contains(t, e.Message, orders.RuleNoPartialCapture)
	_, err = b.svc.CapturePayment(b.ctx, shopB, o.ID, nil)
	requireCode(t, err, orders.ENOTFOUND)
	require.Equal(t, before, b.snapshot(t))

	b.withCaptureRules(t, orders.CaptureRules{})
	_, err = b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
	e = requireCode(t, err, orders.ECONFLICT)
	require.Contains(t, e.Message, orders.RuleNoCapture)
	require.Equal(t, before, b.snapshot(t))
}

func TestCaptureFailedCanBeRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.authorize(t, b.create(t, shopA, input()))
	p, err := b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	require.NoError(t, b.svc.CompleteCapture(b.ctx, shopA, o.ID, p.ID, orders.CaptureResult{Reason: "authorization expired"}))
	o = b.reload(t, o)
	require.Equal(t, orders.PaymentAuthorized, o.PaymentStatus)
	require.Equal(t, orders.PaymentStatusAuthorized, o.Payments[0].Status)
	ns := b.notices(t, shopA)
	require.Equal(t, orders.NoticeCaptureFailed, ns[len(ns)-1].Kind)
	require.Contains(t, ns[len(ns)-1].Text, "authorization expired")

	// A new request gets a new key: the gateway must not answer it with the old failure.
	_, err = b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	jobs := b.captureJobs(t)
	require.Len(t, jobs, 2)
	require.NotEqual(t, jobs[0].Key, jobs[1].Key)
}
