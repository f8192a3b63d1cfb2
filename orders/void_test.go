package orders_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// voidJobs returns the void jobs queued so far.
func (b *bundle) voidJobs(t *testing.T) []orders.ProcessVoid {
	t.Helper()
	var out []orders.ProcessVoid
	for _, j := range b.jobs(t) {
		if v, ok := j.(orders.ProcessVoid); ok {
			out = append(out, v)
		}
	}
	return out
}

// heldEvent is an event of type typ (EventCaptured, EventVoided) about payment p.
func heldEvent(p *orders.Payment, typ, eventID string, amount int64) *orders.GatewayEvent {
	return &orders.GatewayEvent{
		ShopID: p.ShopID, Gateway: p.Gateway, EventID: eventID, Type: typ,
		PaymentRef: p.GatewayRef, Amount: amount, Currency: p.Currency, Payload: []byte(`{}`),
	}
}

// countKind counts the messages of one kind.
func countKind(ms []*orders.Message, kind string) int {
	n := 0
	for _, m := range ms {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

// cancelAuthorized authorises a fresh order, cancels it and checks what the cancel
// did at once: the order is cancelled, its payment is being released (not refunded)
// and still counts as authorised until the gateway says it is released.
func (b *bundle) cancelAuthorized(t *testing.T) (*orders.Order, *orders.Payment) {
	t.Helper()
	o := b.authorize(t, b.create(t, shopA, input()))
	got, err := b.svc.CancelOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusCancelled, got.Status)
	o = b.reload(t, o)
	require.Equal(t, orders.StatusCancelled, o.Status)
	require.Equal(t, orders.PaymentAuthorized, o.PaymentStatus, "the money is held until the gateway confirms the release")
	p := o.Payments[0]
	require.Equal(t, orders.PaymentStatusVoiding, p.Status)
	require.Equal(t, int64(330000), p.Amount)
	require.Empty(t, b.refunds(t, o), "a hold is released, not refunded")
	require.Equal(t, []orders.ProcessVoid{{ShopID: shopA, OrderID: o.ID, PaymentID: p.ID, Key: orders.VoidKey(p.ID)}}, b.voidJobs(t))
	require.Equal(t, []string{orders.KindOrderCard, orders.KindAuthorized, orders.KindCancelled}, kinds(b.messages(t, o)))
	return o, p
}

// requireReleased checks that the order's hold is released and the customer was told
// so once.
func (b *bundle) requireReleased(t *testing.T, o *orders.Order) {
	t.Helper()
	o = b.reload(t, o)
	require.Equal(t, orders.StatusCancelled, o.Status)
	require.Equal(t, orders.PaymentUnpaid, o.PaymentStatus)
	require.Equal(t, orders.PaymentStatusVoided, o.Payments[0].Status)
	require.Zero(t, o.Payments[0].Amount, "nothing was taken")
	ms := b.messages(t, o)
	require.Equal(t, 1, countKind(ms, orders.KindHoldReleased))
	last := ms[len(ms)-1]
	require.Equal(t, orders.KindHoldReleased, last.Kind)
	require.Contains(t, last.Text, "₫330,000")
	require.Contains(t, last.Text, "#"+o.Code)
	require.Empty(t, b.refunds(t, o))
}

func TestCancelAuthorizedReleasesHold(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, p := b.cancelAuthorized(t)

	// Cancelled, so never captured; a second cancel is refused.
	_, err := b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
	requireCode(t, err, orders.ECONFLICT)
	_, err = b.svc.CancelOrder(b.ctx, shopA, o.ID)
	requireCode(t, err, orders.ECONFLICT)

	require.NoError(t, b.svc.CompleteVoid(b.ctx, shopA, o.ID, p.ID, orders.VoidResult{Succeeded: true}))
	b.requireReleased(t, o)

	// The job running again, and the gateway's own webhook, change nothing.
	before := b.snapshot(t)
	require.NoError(t, b.svc.CompleteVoid(b.ctx, shopA, o.ID, p.ID, orders.VoidResult{Succeeded: true}))
	require.Equal(t, before, b.snapshot(t))
	res := b.apply(t, heldEvent(p, orders.EventVoided, "evt_void_1", 330000))
	require.Equal(t, orders.OutcomeIgnored, res.Outcome)
	b.requireOnlyEventRecorded(t, before)
	b.requireReleased(t, o)

	// Nothing is left to refund, and the order took no money, so it may be deleted.
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	requireCode(t, err, orders.EPAYMENTREQUIRED)
	_, err = b.svc.DeleteOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
}

func TestCancelAuthorizedWebhookFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, p := b.cancelAuthorized(t)

	res := b.apply(t, heldEvent(p, orders.EventVoided, "evt_void_1", 330000))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	b.requireReleased(t, o)

	// The job's answer arrives after the webhook: nothing happens twice.
	before := b.snapshot(t)
	require.NoError(t, b.svc.CompleteVoid(b.ctx, shopA, o.ID, p.ID, orders.VoidResult{Succeeded: true}))
	require.Equal(t, before, b.snapshot(t))
	require.True(t, b.apply(t, heldEvent(p, orders.EventVoided, "evt_void_1", 330000)).Duplicate)
	require.Equal(t, before, b.snapshot(t))
	b.requireReleased(t, o)
}

func TestVoidFailedThenReleasedInDashboard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, p := b.cancelAuthorized(t)

	require.NoError(t, b.svc.CompleteVoid(b.ctx, shopA, o.ID, p.ID, orders.VoidResult{Reason: "the payment intent is in state processing"}))
	got := b.reload(t, o)
	require.Equal(t, orders.StatusCancelled, got.Status)
	require.Equal(t, orders.PaymentAuthorized, got.PaymentStatus, "still held")
	require.Equal(t, orders.PaymentStatusAuthorized, got.Payments[0].Status)
	require.Equal(t, int64(330000), got.Payments[0].Amount)
	n := b.lastNotice(t, shopA)
	require.Equal(t, orders.NoticeVoidFailed, n.Kind)
	require.Equal(t, o.ID, n.OrderID)
	for _, want := range []string{"#" + o.Code, "₫330,000", "state processing", "dashboard"} {
		require.Contains(t, n.Text, want)
	}
	require.Zero(t, countKind(b.messages(t, o), orders.KindHoldReleased), "the customer is told only once it is released")
	_, err := b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
	requireCode(t, err, orders.ECONFLICT)

	// Staff release it in the gateway's dashboard; its webhook completes the cancel.
	res := b.apply(t, heldEvent(p, orders.EventVoided, "evt_void_dashboard", 0))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	b.requireReleased(t, o)
}

func TestHoldReleasedAtGatewayReopensOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created := b.create(t, shopA, input())
	o := b.authorize(t, created)
	p := o.Payments[0]
	msgs := len(b.messages(t, o))

	// The hold expired (or was released in the dashboard) while the order was open.
	ev := heldEvent(p, orders.EventVoided, "evt_expired", 330000)
	ev.Reason = "automatic"
	require.Equal(t, orders.OutcomeApplied, b.apply(t, ev).Outcome)
	got := b.reload(t, o)
	require.Equal(t, orders.StatusAwaitingPayment, got.Status)
	require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
	require.Nil(t, got.PaidAt)
	require.True(t, got.LinkActive(), "the customer can pay again")
	require.Equal(t, orders.PaymentStatusVoided, got.Payments[0].Status)
	n := b.lastNotice(t, shopA)
	require.Equal(t, orders.NoticeHoldReleased, n.Kind)
	require.Contains(t, n.Text, "₫330,000")
	require.Contains(t, n.Text, "automatic")
	ms := b.messages(t, o)
	require.Len(t, ms, msgs+1, "the customer hears of the release, and nothing else")
	require.Equal(t, orders.KindHoldReleased, ms[len(ms)-1].Kind)
	require.Contains(t, ms[len(ms)-1].Text, "₫330,000")
	require.Empty(t, b.voidJobs(t))

	// Paid again: a payment of the order, not a duplicate; the voided one counts for nothing.
	b.pay(t, created)
	got = b.reload(t, o)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.Len(t, got.Payments, 2)
	require.False(t, got.Payments[1].Duplicate)
	r, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	require.Equal(t, got.Payments[1].ID, r.PaymentID)
	require.Equal(t, int64(330000), r.Amount)
}

func TestCapturedAtGateway(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.authorize(t, b.create(t, shopA, input()))
	p := o.Payments[0]

	// Captured in the gateway's dashboard, in part.
	require.Equal(t, orders.OutcomeApplied, b.apply(t, heldEvent(p, orders.EventCaptured, "evt_cap_1", 200000)).Outcome)
	got := b.reload(t, o)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.Equal(t, orders.PaymentStatusSucceeded, got.Payments[0].Status)
	require.Equal(t, int64(200000), got.Payments[0].Amount)
	ms := b.messages(t, o)
	require.Equal(t, orders.KindCaptured, ms[len(ms)-1].Kind)
	require.Contains(t, ms[len(ms)-1].Text, "₫200,000")
	require.Equal(t, orders.NoticeCaptured, b.lastNotice(t, shopA).Kind)

	// Another event about the same capture changes nothing; the order ships.
	before := b.snapshot(t)
	require.Equal(t, orders.OutcomeIgnored, b.apply(t, heldEvent(p, orders.EventCaptured, "evt_cap_2", 200000)).Outcome)
	b.requireOnlyEventRecorded(t, before)
	_, err := b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "1")
	require.NoError(t, err)
}

func TestCaptureJobAndWebhookTellOnce(t *testing.T) {
	t.Parallel()
	for name, webhookFirst := range map[string]bool{"job first": false, "webhook first": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			o := b.authorize(t, b.create(t, shopA, input()))
			p, err := b.svc.CapturePayment(b.ctx, shopA, o.ID, nil)
			require.NoError(t, err)
			complete := func() {
				require.NoError(t, b.svc.CompleteCapture(b.ctx, shopA, o.ID, p.ID, orders.CaptureResult{Succeeded: true, Amount: 330000}))
			}
			webhook := func() { b.apply(t, heldEvent(p, orders.EventCaptured, "evt_cap", 330000)) }
			if webhookFirst {
				webhook()
				complete()
			} else {
				complete()
				webhook()
			}
			got := b.reload(t, o)
			require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
			require.Equal(t, 1, countKind(b.messages(t, o), orders.KindCaptured))
			require.Equal(t, 1, countKind(b.messages(t, o), orders.KindAuthorized))
			require.Zero(t, countKind(b.messages(t, o), orders.KindPaidConfirmation))
			n := 0
			for _, x := range b.notices(t, shopA) {
				if x.Kind == orders.NoticeCaptured {
					n++
				}
			}
			require.Equal(t, 1, n)
		})
	}
}

func TestCapturedAfterCancelIsRefunded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, p := b.cancelAuthorized(t)

	// Someone captured it in the dashboard before the release went through.
	require.Equal(t, orders.OutcomeApplied, b.apply(t, heldEvent(p, orders.EventCaptured, "evt_cap", 330000)).Outcome)
	got := b.reload(t, o)
	require.Equal(t, orders.StatusCancelled, got.Status)
	require.Equal(t, orders.PaymentStatusSucceeded, got.Payments[0].Status)
	rs := b.refunds(t, o)
	require.Len(t, rs, 1)
	require.Equal(t, int64(330000), rs[0].Amount)
	require.Equal(t, orders.RefundPending, rs[0].Status)
	require.Equal(t, orders.NoticeCapturedCancelled, b.lastNotice(t, shopA).Kind)
	require.Zero(t, countKind(b.messages(t, o), orders.KindCaptured), "the customer hears of the refund, not of a charge")

	// The void job's refusal comes after: it changes nothing.
	before := b.snapshot(t)
	require.NoError(t, b.svc.CompleteVoid(b.ctx, shopA, o.ID, p.ID, orders.VoidResult{Reason: "already captured"}))
	require.Equal(t, before, b.snapshot(t))

	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, rs[0].ID, orders.RefundResult{Succeeded: true, GatewayRef: "re_1"}))
	require.Equal(t, orders.PaymentRefunded, b.reload(t, o).PaymentStatus)
}

func TestAuthorizedDuplicateIsReleased(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	first := b.attempt(t, o)
	second := b.attempt(t, o)
	b.apply(t, event(first, orders.EventSucceeded, "evt_first"))
	ev := event(second, orders.EventSucceeded, "evt_second")
	ev.Authorized = true
	require.Equal(t, orders.OutcomeDuplicatePaid, b.apply(t, ev).Outcome)

	got := b.reload(t, o)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	dup := got.Payments[1]
	require.True(t, dup.Duplicate)
	require.Equal(t, orders.PaymentStatusVoiding, dup.Status)
	require.Empty(t, b.refunds(t, o), "a hold cannot be refunded")
	require.Equal(t, []orders.ProcessVoid{{ShopID: shopA, OrderID: o.ID, PaymentID: dup.ID, Key: orders.VoidKey(dup.ID)}}, b.voidJobs(t))

	require.NoError(t, b.svc.CompleteVoid(b.ctx, shopA, o.ID, dup.ID, orders.VoidResult{Succeeded: true}))
	got = b.reload(t, o)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus, "the order's own payment is untouched")
	require.Equal(t, orders.PaymentStatusVoided, got.Payments[1].Status)
	require.Equal(t, 1, countKind(b.messages(t, o), orders.KindHoldReleased))
}

func TestAuthorizedMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.authorize(t, b.create(t, shopA, input()))
	ms := b.messages(t, o)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindAuthorized}, kinds(ms))
	require.Contains(t, ms[1].Text, "#"+o.Code)
	require.Contains(t, ms[1].Text, "₫330,000")
	require.Contains(t, ms[1].Text, "authorised")
	require.NotContains(t, ms[1].Text, "successfully paid")
	n := b.lastNotice(t, shopA)
	require.Equal(t, orders.NoticeAuthorized, n.Kind)
	require.Contains(t, n.Text, "Capture")

	// Reported again (a replay, reconciliation): the customer is told once.
	before := len(b.messages(t, o))
	ev := event(&orders.Attempt{ShopID: shopA, Gateway: sandbox, SessionID: "cs_" + o.Payments[0].AttemptID, Amount: 330000, Currency: "VND"},
		orders.EventSucceeded, "evt_auth_again")
	ev.Authorized = true
	require.Equal(t, orders.OutcomeIgnored, b.apply(t, ev).Outcome)
	require.Len(t, b.messages(t, o), before)

	// A shop that sends no paid confirmations sends no authorised one either.
	ob := b.create(t, shopB, orders.CreateOrderInput{
		Customer: orders.Customer{Channel: orders.ChannelWebchat, ExternalID: "v-b"},
		Items:    []orders.Item{{Name: "Tea", Quantity: 1, UnitPrice: 5000}},
	})
	ab, _, err := b.svc.StartAttempt(b.ctx, ob.Link.Token, sandbox)
	require.NoError(t, err)
	require.NoError(t, b.svc.AttachSession(b.ctx, ab, "cs_"+ab.ID))
	evb := event(ab, orders.EventSucceeded, "evt_auth_b")
	evb.Authorized = true
	require.True(t, b.apply(t, evb).Paid)
	require.Equal(t, []string{orders.KindOrderCard}, kinds(b.messages(t, ob)))
}
