package orders_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// Gateways deliver webhooks in any order: an event about a payment chatpay has not
// recorded yet waits for it (awaiting_payment) and is applied, once, in the
// transaction that records the payment.

// eventOutcome reads the stored outcome of one of shop A's sandbox events.
func (b *bundle) eventOutcome(t *testing.T, eventID string) string {
	t.Helper()
	var outcome string
	require.NoError(t, b.store.Writer().QueryRowContext(b.ctx,
		`SELECT outcome FROM gateway_events WHERE shop_id = ? AND gateway = ? AND event_id = ?`,
		shopA, sandbox, eventID).Scan(&outcome))
	return outcome
}

// unpaid creates an order with an attempt and returns them with the event that will
// pay it, not yet applied; its PaymentRef is what the early events name.
func (b *bundle) unpaid(t *testing.T) (*orders.Order, *orders.GatewayEvent) {
	t.Helper()
	o := b.create(t, shopA, input())
	a := b.attempt(t, o)
	return o, event(a, orders.EventSucceeded, "evt_pay_"+a.ID)
}

// early applies an event about a payment not recorded yet: it is recorded as waiting
// and changes nothing else.
func (b *bundle) early(t *testing.T, ev *orders.GatewayEvent) {
	t.Helper()
	before := b.snapshot(t)
	res := b.apply(t, ev)
	require.False(t, res.Duplicate)
	require.Equal(t, orders.OutcomeAwaitingPayment, res.Outcome)
	b.requireOnlyEventRecorded(t, before)
	require.Equal(t, orders.OutcomeAwaitingPayment, b.eventOutcome(t, ev.EventID))
	// Delivered again: a duplicate of its key, as any event.
	before = b.snapshot(t)
	require.True(t, b.apply(t, ev).Duplicate)
	require.Equal(t, before, b.snapshot(t))
	b.now = b.now.Add(time.Second)
}

func TestRefundBeforePayment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, pay := b.unpaid(t)
	b.early(t, refundedEvent(shopA, pay.PaymentRef, "evt_r1", 100000))
	require.Equal(t, orders.PaymentUnpaid, b.reload(t, o).PaymentStatus)

	res := b.apply(t, pay)
	require.True(t, res.Paid)
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	require.Equal(t, orders.PaymentPartiallyRefunded, res.Order.PaymentStatus, "the result shows the order as the refund left it")
	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, orders.PaymentPartiallyRefunded, got.PaymentStatus)
	require.Equal(t, int64(100000), got.Payments[0].RefundedAmount)
	rs := b.refunds(t, o)
	require.Len(t, rs, 1)
	require.Equal(t, orders.RefundReasonGateway, rs[0].Reason)
	require.Equal(t, orders.RefundSucceeded, rs[0].Status)
	require.Equal(t, int64(100000), rs[0].Amount)
	require.Equal(t, orders.OutcomeApplied, b.eventOutcome(t, "evt_r1"), "no longer waiting")
	ms := b.messages(t, o)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation, orders.KindRefunded}, kinds(ms),
		"paid first, then the refund, once")
	require.Contains(t, ms[2].Text, "₫100,000")
	ns := noticeKinds(b.notices(t, shopA))
	require.Equal(t, []string{orders.NoticePaid, orders.NoticeRefundedAtGateway}, ns)

	// Delivered again after the payment: still a duplicate, nothing changes.
	before := b.snapshot(t)
	require.True(t, b.apply(t, refundedEvent(shopA, pay.PaymentRef, "evt_r1", 100000)).Duplicate)
	require.True(t, b.apply(t, pay).Duplicate)
	require.Equal(t, before, b.snapshot(t))
	// A later refund applies as usual.
	require.Equal(t, orders.OutcomeApplied, b.apply(t, refundedEvent(shopA, pay.PaymentRef, "evt_r2", 330000)).Outcome)
	require.Equal(t, orders.PaymentRefunded, b.reload(t, o).PaymentStatus)
	require.Equal(t, 2, countKind(b.messages(t, o), orders.KindRefunded))
}

func TestDisputeBeforePayment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, pay := b.unpaid(t)
	due := b.now.Add(10 * 24 * time.Hour)
	b.early(t, disputeEvent(shopA, pay.PaymentRef, "evt_d1", orders.EventDisputeOpened, "du_1", orders.DisputeOpen, 330000, &due))
	require.Empty(t, b.disputes(t, shopA, ""))

	require.True(t, b.apply(t, pay).Paid)
	ds := b.disputes(t, shopA, "")
	require.Len(t, ds, 1, "the dispute is recorded with what its event said")
	d := ds[0]
	require.Equal(t, o.ID, d.OrderID)
	require.Equal(t, "du_1", d.GatewayDisputeID)
	require.Equal(t, orders.DisputeOpen, d.Status)
	require.Equal(t, "fraudulent", d.Reason)
	require.Equal(t, int64(330000), d.Amount)
	require.Equal(t, "VND", d.Currency)
	require.NotNil(t, d.EvidenceDueAt)
	require.True(t, due.Equal(*d.EvidenceDueAt), "%v, want %v", d.EvidenceDueAt, due)
	got := b.reload(t, o)
	require.Equal(t, orders.PaymentDisputed, got.PaymentStatus)
	require.Equal(t, orders.NoticeDisputeOpened, b.lastNotice(t, shopA).Kind)
	require.Equal(t, orders.OutcomeApplied, b.eventOutcome(t, "evt_d1"))

	// The dispute's later events apply as usual.
	require.Equal(t, orders.OutcomeApplied,
		b.apply(t, disputeEvent(shopA, pay.PaymentRef, "evt_d2", orders.EventDisputeClosed, "du_1", orders.DisputeWon, 330000, nil)).Outcome)
	require.Equal(t, orders.PaymentPaid, b.reload(t, o).PaymentStatus)
	require.Len(t, b.disputes(t, shopA, ""), 1)
}

// TestLifeBeforePayment: a held payment's whole life (captured, refunded in part,
// disputed and lost) delivered before the checkout that authorised it, newest first,
// ends as it would have in order. The capture is applied before the refund although
// the refund was received first: nothing is refunded before it is captured.
func TestLifeBeforePayment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, pay := b.unpaid(t)
	pay.Authorized = true
	ref := pay.PaymentRef
	captured := &orders.GatewayEvent{ShopID: shopA, Gateway: sandbox, EventID: "evt_c1", Type: orders.EventCaptured,
		PaymentRef: ref, Amount: 330000, Currency: "VND", Payload: []byte(`{}`)}
	b.early(t, disputeEvent(shopA, ref, "evt_d2", orders.EventDisputeClosed, "du_1", orders.DisputeLost, 230000, nil))
	b.early(t, disputeEvent(shopA, ref, "evt_d1", orders.EventDisputeOpened, "du_1", orders.DisputeOpen, 230000, nil))
	b.early(t, refundedEvent(shopA, ref, "evt_r1", 100000))
	b.early(t, captured)

	res := b.apply(t, pay)
	require.True(t, res.Paid)
	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
	require.Equal(t, orders.PaymentStatusSucceeded, got.Payments[0].Status, "captured")
	require.Equal(t, int64(330000), got.Payments[0].Amount)
	require.Equal(t, int64(330000), got.Payments[0].RefundedAmount)
	byReason := map[string]int64{}
	for _, r := range b.refunds(t, o) {
		require.Equal(t, orders.RefundSucceeded, r.Status)
		byReason[r.Reason] += r.Amount
	}
	require.Equal(t, map[string]int64{orders.RefundReasonGateway: 100000, orders.RefundReasonDisputeLost: 230000}, byReason)
	ds := b.disputes(t, shopA, "")
	require.Len(t, ds, 1)
	require.Equal(t, orders.DisputeLost, ds[0].Status)
	ms := b.messages(t, o)
	for kind, n := range map[string]int{orders.KindAuthorized: 1, orders.KindCaptured: 1, orders.KindRefunded: 1, orders.KindDisputeRefunded: 1} {
		require.Equal(t, n, countKind(ms, kind), kind)
	}
	for _, id := range []string{"evt_c1", "evt_r1", "evt_d2"} {
		require.Equal(t, orders.OutcomeApplied, b.eventOutcome(t, id), id)
	}
	require.Equal(t, orders.OutcomeIgnored, b.eventOutcome(t, "evt_d1"), "the dispute was closed already: closed is final")
}

func TestReleaseBeforePayment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, pay := b.unpaid(t)
	pay.Authorized = true
	b.early(t, &orders.GatewayEvent{ShopID: shopA, Gateway: sandbox, EventID: "evt_v1", Type: orders.EventVoided,
		PaymentRef: pay.PaymentRef, Currency: "VND", Reason: "expired", Payload: []byte(`{}`)})

	require.True(t, b.apply(t, pay).Paid)
	got := b.reload(t, o)
	require.Equal(t, orders.StatusAwaitingPayment, got.Status, "the hold is gone: the order awaits payment again")
	require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
	require.Nil(t, got.PaidAt)
	require.Equal(t, orders.PaymentStatusVoided, got.Payments[0].Status)
	require.Equal(t, orders.NoticeHoldReleased, b.lastNotice(t, shopA).Kind)
	require.Equal(t, orders.OutcomeApplied, b.eventOutcome(t, "evt_v1"))
}

// TestEarlyEventInSameBatch: an early event and its payment delivered together are
// applied in one transaction; the event waits for the payment within it.
func TestEarlyEventInSameBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, pay := b.unpaid(t)
	refund := refundedEvent(shopA, pay.PaymentRef, "evt_r1", 330000)
	res, errs := b.svc.ApplyEvents(b.ctx, []*orders.GatewayEvent{pay, refund})
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.True(t, res[0].Paid)
	require.Equal(t, orders.OutcomeAwaitingPayment, res[1].Outcome, "applied first: the refund has no session, the payment has")
	require.Equal(t, orders.OutcomeApplied, b.eventOutcome(t, "evt_r1"), "and then applied with the payment")
	got := b.reload(t, o)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
	require.Len(t, b.refunds(t, o), 1)
	require.Equal(t, 1, countKind(b.messages(t, o), orders.KindRefunded))
}

// TestEarlyEventOfAnotherPayment: waiting events are the shop's and the gateway's
// own, for the payment's reference only.
func TestEarlyEventOfAnotherPayment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, pay := b.unpaid(t)
	b.early(t, refundedEvent(shopA, "pi_other", "evt_r1", 1000))
	other := refundedEvent(shopA, pay.PaymentRef, "evt_r2", 1000)
	other.Gateway = "omise"
	b.apply(t, other)
	require.True(t, b.apply(t, pay).Paid)
	require.Equal(t, orders.PaymentPaid, b.reload(t, o).PaymentStatus)
	require.Empty(t, b.refunds(t, o))
	require.Equal(t, orders.OutcomeAwaitingPayment, b.eventOutcome(t, "evt_r1"))
}
