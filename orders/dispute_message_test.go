package orders_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// TestDisputeLostTellsCustomerOnce: the customer hears nothing while a dispute is open
// and is told once that the money was returned when it is lost, however often and in
// whatever order the gateway reports it.
func TestDisputeLostTellsCustomerOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, ref := b.paidRef(t)
	msgs := len(b.messages(t, o))

	b.apply(t, disputeEvent(shopA, ref, "evt_d1", orders.EventDisputeOpened, "du_1", orders.DisputeOpen, 330000, nil))
	b.apply(t, disputeEvent(shopA, ref, "evt_d2", orders.EventDisputeUpdated, "du_1", orders.DisputePending, 330000, nil))
	require.Len(t, b.messages(t, o), msgs, "an open dispute is between the shop and the bank")

	lost := disputeEvent(shopA, ref, "evt_d3", orders.EventDisputeClosed, "du_1", orders.DisputeLost, 330000, nil)
	require.Equal(t, orders.OutcomeApplied, b.apply(t, lost).Outcome)
	ms := b.messages(t, o)
	require.Len(t, ms, msgs+1)
	m := ms[len(ms)-1]
	require.Equal(t, orders.KindDisputeRefunded, m.Kind)
	require.Equal(t, orders.DirectionOut, m.Direction)
	require.Contains(t, m.Text, "₫330,000")
	require.Contains(t, m.Text, "#"+o.Code)

	// Redelivered, and reported again by a later event: still told once.
	require.True(t, b.apply(t, lost).Duplicate)
	b.apply(t, disputeEvent(shopA, ref, "evt_d4", orders.EventDisputeUpdated, "du_1", orders.DisputeLost, 330000, nil))
	b.apply(t, disputeEvent(shopA, ref, "evt_d0", orders.EventDisputeOpened, "du_1", orders.DisputeOpen, 330000, nil))
	require.Equal(t, 1, countKind(b.messages(t, o), orders.KindDisputeRefunded))
}

// TestDisputeFirstSeenLostTellsCustomer: a dispute chatpay first hears of as lost (its
// earlier events were lost or arrive later) still tells the customer, once.
func TestDisputeFirstSeenLostTellsCustomer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, ref := b.paidRef(t)
	b.apply(t, disputeEvent(shopA, ref, "evt_d9", orders.EventDisputeClosed, "du_9", orders.DisputeLost, 100000, nil))
	b.apply(t, disputeEvent(shopA, ref, "evt_d8", orders.EventDisputeOpened, "du_9", orders.DisputeOpen, 100000, nil))
	ms := b.messages(t, o)
	require.Equal(t, 1, countKind(ms, orders.KindDisputeRefunded))
	require.Contains(t, ms[len(ms)-1].Text, "₫100,000")

	// A won dispute tells the customer nothing.
	o2, ref2 := b.paidRef(t)
	n := len(b.messages(t, o2))
	b.apply(t, disputeEvent(shopA, ref2, "evt_w1", orders.EventDisputeClosed, "du_w", orders.DisputeWon, 330000, nil))
	require.Len(t, b.messages(t, o2), n)
}

// TestRefundReportedAfterLostDispute: the gateway's refund total counts refunds only,
// not what a lost dispute took back, so a refund reported after the dispute is lost
// is still recorded. Whatever the order of the events, the payment ends taken back in
// full, by one refund and one loss, and later reports add nothing.
func TestRefundReportedAfterLostDispute(t *testing.T) {
	t.Parallel()
	for name, disputeFirst := range map[string]bool{"refund first": false, "dispute first": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			o, ref := b.paidRef(t)
			refund := refundedEvent(shopA, ref, "evt_r1", 100000)
			lost := disputeEvent(shopA, ref, "evt_d1", orders.EventDisputeClosed, "du_1", orders.DisputeLost, 230000, nil)
			first, second := refund, lost
			if disputeFirst {
				first, second = lost, refund
			}
			require.Equal(t, orders.OutcomeApplied, b.apply(t, first).Outcome)
			require.Equal(t, orders.OutcomeApplied, b.apply(t, second).Outcome)

			got := b.reload(t, o)
			require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
			require.Equal(t, int64(330000), got.Payments[0].RefundedAmount)
			byReason := map[string]int64{}
			for _, r := range b.refunds(t, o) {
				byReason[r.Reason] += r.Amount
			}
			require.Equal(t, map[string]int64{orders.RefundReasonGateway: 100000, orders.RefundReasonDisputeLost: 230000}, byReason)

			// A larger total than the payment can still hold adds nothing.
			before := b.snapshot(t)
			require.Equal(t, orders.OutcomeIgnored, b.apply(t, refundedEvent(shopA, ref, "evt_r2", 330000)).Outcome)
			b.requireOnlyEventRecorded(t, before)
		})
	}
}
