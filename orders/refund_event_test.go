package orders_test

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// refundedEvent is an EventRefunded as Stripe sends it (charge.refunded): the payment
// is named by its ref only, and Amount is the cumulative refunded total.
func refundedEvent(shopID, ref, eventID string, total int64) *orders.GatewayEvent {
	return &orders.GatewayEvent{
		ShopID: shopID, Gateway: sandbox, EventID: eventID, Type: orders.EventRefunded,
		PaymentRef: ref, Amount: total, Currency: "VND", Payload: []byte(`{}`),
	}
}

// paidRef pays a fresh order of shop A and returns it with its payment's gateway ref.
func (b *bundle) paidRef(t *testing.T) (*orders.Order, string) {
	t.Helper()
	o := b.create(t, shopA, input())
	b.pay(t, o)
	o = b.reload(t, o)
	require.Len(t, o.Payments, 1)
	require.NotEmpty(t, o.Payments[0].GatewayRef)
	return o, o.Payments[0].GatewayRef
}

// requireOnlyEventRecorded checks that nothing but the gateway event row changed.
func (b *bundle) requireOnlyEventRecorded(t *testing.T, before map[string]int) {
	t.Helper()
	after := b.snapshot(t)
	require.Equal(t, before["gateway_events"]+1, after["gateway_events"])
	before, after = maps.Clone(before), maps.Clone(after)
	delete(before, "gateway_events")
	delete(after, "gateway_events")
	require.Equal(t, before, after)
}

func TestRefundAtGatewayPartialThenFull(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, ref := b.paidRef(t)
	msgs, notices := len(b.messages(t, o)), len(b.notices(t, shopA))

	res := b.apply(t, refundedEvent(shopA, ref, "evt_r1", 100000))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	require.Equal(t, o.ID, res.Order.ID)
	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, orders.PaymentPartiallyRefunded, got.PaymentStatus)
	require.Equal(t, int64(100000), got.Payments[0].RefundedAmount)
	rs := b.refunds(t, o)
	require.Len(t, rs, 1)
	require.Equal(t, orders.RefundSucceeded, rs[0].Status)
	require.Equal(t, orders.RefundReasonGateway, rs[0].Reason)
	require.Equal(t, int64(100000), rs[0].Amount)
	require.Equal(t, got.Payments[0].ID, rs[0].PaymentID)
	for _, j := range b.jobs(t) {
		require.NotEqual(t, orders.Job(orders.ProcessRefund{ShopID: shopA, RefundID: rs[0].ID}), j,
			"a refund made at the gateway is never sent to it again")
	}
	ms := b.messages(t, o)
	require.Len(t, ms, msgs+1)
	refunded := ms[msgs]
	require.Equal(t, orders.KindRefunded, refunded.Kind)
	require.Equal(t, orders.DirectionOut, refunded.Direction)
	require.Contains(t, refunded.Text, "₫100,000")
	require.Contains(t, b.jobs(t), orders.Job(orders.DeliverMessage{ShopID: shopA, MessageID: refunded.ID}))
	ns := b.notices(t, shopA)
	require.Len(t, ns, notices+1)
	require.Equal(t, orders.NoticeRefundedAtGateway, ns[len(ns)-1].Kind)
	require.Contains(t, ns[len(ns)-1].Text, "#1001")
	require.Contains(t, ns[len(ns)-1].Text, "₫100,000")
	staff := b.staffMessages(t)
	require.Equal(t, ns[len(ns)-1].Text, staff[len(staff)-1].Text, "staff are told in the customer's topic")

	// Redelivered: recorded once, nothing changes.
	before := b.snapshot(t)
	require.True(t, b.apply(t, refundedEvent(shopA, ref, "evt_r1", 100000)).Duplicate)
	require.Equal(t, before, b.snapshot(t))
	// Another event reporting the same total (a later event about something else on
	// the charge): recorded and ignored.
	res = b.apply(t, refundedEvent(shopA, ref, "evt_r1b", 100000))
	require.Equal(t, orders.OutcomeIgnored, res.Outcome)
	b.requireOnlyEventRecorded(t, before)

	// The rest, refunded on the dashboard too: only the difference is recorded.
	res = b.apply(t, refundedEvent(shopA, ref, "evt_r2", 330000))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	got = b.reload(t, o)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
	require.Equal(t, int64(330000), got.Payments[0].RefundedAmount)
	rs = b.refunds(t, o)
	require.Len(t, rs, 2)
	require.Equal(t, int64(230000), rs[1].Amount)
	ms = b.messages(t, o)
	require.Equal(t, orders.KindRefunded, ms[len(ms)-1].Kind)
	require.Contains(t, ms[len(ms)-1].Text, "₫230,000")

	// The first event, delivered again late under a new id: a lower total is ignored.
	before = b.snapshot(t)
	res = b.apply(t, refundedEvent(shopA, ref, "evt_r1c", 100000))
	require.Equal(t, orders.OutcomeIgnored, res.Outcome)
	b.requireOnlyEventRecorded(t, before)

	// Nothing is left to refund through chatpay.
	_, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	requireInvalid(t, err, "amount")
}

func TestRefundAtGatewayReversedOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, ref := b.paidRef(t)
	// The full refund's event overtakes the partial one's.
	require.Equal(t, orders.OutcomeApplied, b.apply(t, refundedEvent(shopA, ref, "evt_full", 330000)).Outcome)
	before := b.snapshot(t)
	require.Equal(t, orders.OutcomeIgnored, b.apply(t, refundedEvent(shopA, ref, "evt_part", 100000)).Outcome)
	b.requireOnlyEventRecorded(t, before)
	got := b.reload(t, o)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
	require.Equal(t, int64(330000), got.Payments[0].RefundedAmount)
	rs := b.refunds(t, o)
	require.Len(t, rs, 1)
	require.Equal(t, int64(330000), rs[0].Amount)
}

// The webhook of a refund chatpay made itself, before and after the refund job records
// the gateway's answer, counts nothing a second time.
func TestRefundEventOfChatpaysOwnRefund(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, ref := b.paidRef(t)
	part := int64(100000)
	r, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, &part)
	require.NoError(t, err)

	// Gateways often deliver the webhook before the refund call has returned.
	before := b.snapshot(t)
	require.Equal(t, orders.OutcomeIgnored, b.apply(t, refundedEvent(shopA, ref, "evt_own_early", 100000)).Outcome)
	b.requireOnlyEventRecorded(t, before)

	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r.ID, orders.RefundResult{Succeeded: true, GatewayRef: "re_1"}))
	before = b.snapshot(t)
	require.Equal(t, orders.OutcomeIgnored, b.apply(t, refundedEvent(shopA, ref, "evt_own_late", 100000)).Outcome)
	b.requireOnlyEventRecorded(t, before)

	got := b.reload(t, o)
	require.Equal(t, orders.PaymentPartiallyRefunded, got.PaymentStatus)
	require.Equal(t, int64(100000), got.Payments[0].RefundedAmount)
	require.Len(t, b.refunds(t, o), 1)
	n := 0
	for _, m := range b.messages(t, o) {
		if m.Kind == orders.KindRefunded {
			n++
		}
	}
	require.Equal(t, 1, n, "one refunded message")

	// A dashboard refund after chatpay's: only it is added.
	require.Equal(t, orders.OutcomeApplied, b.apply(t, refundedEvent(shopA, ref, "evt_dash", 150000)).Outcome)
	got = b.reload(t, o)
	require.Equal(t, int64(150000), got.Payments[0].RefundedAmount)
	rs := b.refunds(t, o)
	require.Len(t, rs, 2)
	require.Equal(t, int64(50000), rs[1].Amount)
	require.Equal(t, orders.RefundReasonGateway, rs[1].Reason)
}

func TestRefundEventIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, ref := b.paidRef(t)
	// A ref that names no payment of the shop at the gateway may name one not recorded
	// yet: the event waits for it (awaiting_payment), and changes nothing else now.
	awaiting := map[string]bool{"unknown ref": true, "other shop's ref": true, "other gateway": true}
	for name, ev := range map[string]*orders.GatewayEvent{
		"unknown ref":      refundedEvent(shopA, "pi_nobody", "evt_u1", 1000),
		"empty ref":        refundedEvent(shopA, "", "evt_u2", 1000),
		"other shop's ref": refundedEvent(shopB, ref, "evt_u3", 1000),
		"other gateway": func() *orders.GatewayEvent {
			ev := refundedEvent(shopA, ref, "evt_u4", 1000)
			ev.Gateway = "omise"
			return ev
		}(),
		"other currency": func() *orders.GatewayEvent {
			ev := refundedEvent(shopA, ref, "evt_u5", 1000)
			ev.Currency = "USD"
			return ev
		}(),
		"nothing refunded": refundedEvent(shopA, ref, "evt_u6", 0),
	} {
		before := b.snapshot(t)
		res, err := b.svc.ApplyEvent(b.ctx, ev)
		require.NoError(t, err, name)
		want := orders.OutcomeIgnored
		if awaiting[name] {
			want = orders.OutcomeAwaitingPayment
		}
		require.Equal(t, want, res.Outcome, name)
		b.requireOnlyEventRecorded(t, before)
	}
	require.Equal(t, orders.PaymentPaid, b.reload(t, o).PaymentStatus)
}

// Omise names the charge as the session too; a payment is found by its session when
// the event's ref does not name it.
func TestRefundEventBySession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	a := b.pay(t, o)
	ev := refundedEvent(shopA, "", "evt_s1", 330000)
	ev.SessionID = a.SessionID
	require.Equal(t, orders.OutcomeApplied, b.apply(t, ev).Outcome)
	got := b.reload(t, o)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
	require.Equal(t, int64(330000), got.Payments[0].RefundedAmount)

	// A total beyond the payment is capped at what was paid.
	o2, ref2 := b.paidRef(t)
	require.Equal(t, orders.OutcomeApplied, b.apply(t, refundedEvent(shopA, ref2, "evt_s2", 999999)).Outcome)
	require.Equal(t, int64(330000), b.reload(t, o2).Payments[0].RefundedAmount)
}
