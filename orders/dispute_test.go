package orders_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// disputeEvent is a dispute event as the gateways normalise it: the payment is named
// by its ref, Amount is the disputed amount and Dispute carries the rest.
func disputeEvent(shopID, ref, eventID, typ, disputeID, status string, amount int64, due *time.Time) *orders.GatewayEvent {
	return &orders.GatewayEvent{
		ShopID: shopID, Gateway: sandbox, EventID: eventID, Type: typ, PaymentRef: ref,
		Amount: amount, Currency: "vnd", Payload: []byte(`{}`),
		Dispute: &orders.DisputeDetails{ID: disputeID, Status: status, Reason: "fraudulent", EvidenceDueAt: due},
	}
}

func (b *bundle) disputes(t *testing.T, shopID, status string) []*orders.Dispute {
	t.Helper()
	ds, err := b.svc.ListDisputes(b.ctx, shopID, orders.DisputeFilter{Status: status})
	require.NoError(t, err)
	return ds
}

func (b *bundle) lastNotice(t *testing.T, shopID string) *orders.Notice {
	t.Helper()
	ns := b.notices(t, shopID)
	require.NotEmpty(t, ns)
	return ns[len(ns)-1]
}

func TestDisputeOpenUpdatedWon(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, ref := b.paidRef(t)
	due := time.Date(2025, 3, 28, 23, 59, 59, 0, time.UTC)
	notices := len(b.notices(t, shopA))

	res := b.apply(t, disputeEvent(shopA, ref, "evt_d1", orders.EventDisputeOpened, "du_1", orders.DisputeOpen, 330000, &due))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	require.Equal(t, orders.PaymentDisputed, b.reload(t, o).PaymentStatus)
	ds := b.disputes(t, shopA, "")
	require.Len(t, ds, 1)
	d := ds[0]
	require.Equal(t, orders.Dispute{
		ID: d.ID, ShopID: shopA, OrderID: o.ID, PaymentID: o.Payments[0].ID, Gateway: sandbox,
		GatewayDisputeID: "du_1", Status: orders.DisputeOpen, Reason: "fraudulent", Amount: 330000, Currency: "VND",
		EvidenceDueAt: &due, CreatedAt: b.now, UpdatedAt: b.now,
	}, *d)
	n := b.lastNotice(t, shopA)
	require.Len(t, b.notices(t, shopA), notices+1)
	require.Equal(t, orders.NoticeDisputeOpened, n.Kind)
	require.Equal(t, o.ID, n.OrderID)
	for _, want := range []string{"#1001", "₫330,000", "fraudulent", "2025-03-28 23:59 UTC"} {
		require.Contains(t, n.Text, want)
	}

	// Redelivered: nothing changes.
	before := b.snapshot(t)
	require.True(t, b.apply(t, disputeEvent(shopA, ref, "evt_d1", orders.EventDisputeOpened, "du_1", orders.DisputeOpen, 330000, &due)).Duplicate)
	require.Equal(t, before, b.snapshot(t))

	// Evidence submitted: pending, still disputed, no notice.
	res = b.apply(t, disputeEvent(shopA, ref, "evt_d2", orders.EventDisputeUpdated, "du_1", orders.DisputePending, 330000, &due))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	require.Equal(t, orders.DisputePending, b.disputes(t, shopA, "")[0].Status)
	require.Equal(t, orders.PaymentDisputed, b.reload(t, o).PaymentStatus)
	require.Len(t, b.notices(t, shopA), notices+1)

	// Won: paid again, the owner is told.
	b.now = b.now.Add(time.Hour)
	res = b.apply(t, disputeEvent(shopA, ref, "evt_d3", orders.EventDisputeClosed, "du_1", orders.DisputeWon, 330000, &due))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	got := b.reload(t, o)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.Equal(t, orders.StatusPaid, got.Status)
	d = b.disputes(t, shopA, orders.DisputeClosed)[0]
	require.Equal(t, orders.DisputeWon, d.Status)
	require.Equal(t, &b.now, d.ClosedAt)
	n = b.lastNotice(t, shopA)
	require.Equal(t, orders.NoticeDisputeClosed, n.Kind)
	require.Contains(t, n.Text, "won")
	require.Empty(t, b.refunds(t, o), "a won dispute takes no money")

	// A late update after the close changes nothing: closed is final.
	before = b.snapshot(t)
	res = b.apply(t, disputeEvent(shopA, ref, "evt_d2b", orders.EventDisputeUpdated, "du_1", orders.DisputeOpen, 330000, &due))
	require.Equal(t, orders.OutcomeIgnored, res.Outcome)
	b.requireOnlyEventRecorded(t, before)
	require.Equal(t, orders.DisputeWon, b.disputes(t, shopA, "")[0].Status)
	require.Empty(t, b.disputes(t, shopA, orders.DisputeOpen))
}

func TestDisputeLost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, ref := b.paidRef(t)
	// A partial refund first, so that the loss is capped by what is left.
	b.apply(t, refundedEvent(shopA, ref, "evt_r1", 100000))

	b.apply(t, disputeEvent(shopA, ref, "evt_d1", orders.EventDisputeOpened, "du_1", orders.DisputeOpen, 330000, nil))
	require.Equal(t, orders.PaymentDisputed, b.reload(t, o).PaymentStatus)
	require.NotContains(t, b.lastNotice(t, shopA).Text, "<no value>")
	_, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	require.Error(t, err, "no refund while disputed")

	res := b.apply(t, disputeEvent(shopA, ref, "evt_d2", orders.EventDisputeClosed, "du_1", orders.DisputeLost, 330000, nil))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	got := b.reload(t, o)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus, "the rest of the money is gone")
	require.Equal(t, int64(330000), got.Payments[0].RefundedAmount)
	rs := b.refunds(t, o)
	require.Len(t, rs, 2)
	require.Equal(t, orders.RefundReasonDisputeLost, rs[1].Reason)
	require.Equal(t, orders.RefundSucceeded, rs[1].Status)
	require.Equal(t, int64(230000), rs[1].Amount)
	n := b.lastNotice(t, shopA)
	require.Equal(t, orders.NoticeDisputeClosed, n.Kind)
	require.Contains(t, n.Text, "lost")
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	require.Error(t, err, "lost money is not refundable again")

	// Reordered: the "created" arrives after the close; nothing changes.
	before := b.snapshot(t)
	res = b.apply(t, disputeEvent(shopA, ref, "evt_d0", orders.EventDisputeOpened, "du_1", orders.DisputeOpen, 330000, nil))
	require.Equal(t, orders.OutcomeIgnored, res.Outcome)
	b.requireOnlyEventRecorded(t, before)
	require.Equal(t, []*orders.Dispute(nil), b.disputes(t, shopA, orders.DisputeOpen))
}

func TestDisputeFirstSeenClosedAndIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, ref := b.paidRef(t)

	// A dispute chatpay first hears of when it is lost (the earlier events were lost).
	b.apply(t, disputeEvent(shopA, ref, "evt_x", orders.EventDisputeClosed, "du_9", orders.DisputeLost, 50000, nil))
	got := b.reload(t, o)
	require.Equal(t, orders.PaymentPartiallyRefunded, got.PaymentStatus)
	require.Equal(t, orders.NoticeDisputeClosed, b.lastNotice(t, shopA).Kind)

	// Money chatpay has not recorded (it may yet: the event waits for it), another
	// shop's payment (the same), an unknown status (ignored): nothing changes now.
	before := b.snapshot(t)
	for i, ev := range []*orders.GatewayEvent{
		disputeEvent(shopA, "pi_unknown", "evt_i1", orders.EventDisputeOpened, "du_2", orders.DisputeOpen, 1, nil),
		disputeEvent(shopB, ref, "evt_i2", orders.EventDisputeOpened, "du_3", orders.DisputeOpen, 1, nil),
		disputeEvent(shopA, ref, "evt_i3", orders.EventDisputeOpened, "du_4", "needs_response", 1, nil),
	} {
		want := orders.OutcomeAwaitingPayment
		if i == 2 {
			want = orders.OutcomeIgnored
		}
		require.Equal(t, want, b.apply(t, ev).Outcome, i)
	}
	after := b.snapshot(t)
	require.Equal(t, before["gateway_events"]+3, after["gateway_events"])
	require.Empty(t, b.disputes(t, shopB, ""))

	_, err := b.svc.ListDisputes(b.ctx, shopA, orders.DisputeFilter{Status: "bogus"})
	require.Error(t, err)
	_, err = b.svc.Dispute(b.ctx, shopB, b.disputes(t, shopA, "")[0].ID)
	require.Equal(t, orders.ENOTFOUND, orders.ErrorCode(err), "another shop's dispute")
}

func TestDisputeDeadlineReminders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, ref := b.paidRef(t)
	start := b.now
	due := start.Add(10 * 24 * time.Hour)
	b.apply(t, disputeEvent(shopA, ref, "evt_d1", orders.EventDisputeOpened, "du_1", orders.DisputeOpen, 330000, &due))
	// A second dispute already within 2 days: only the 2-day reminder is sent.
	o2, ref2 := b.paidRef(t)
	soon := start.Add(36 * time.Hour)
	b.apply(t, disputeEvent(shopA, ref2, "evt_e1", orders.EventDisputeOpened, "du_2", orders.DisputeOpen, 330000, &soon))

	remind := func(at time.Time) int {
		t.Helper()
		b.now = at
		n, err := b.svc.RemindDisputes(b.ctx)
		require.NoError(t, err)
		return n
	}
	deadlines := func() []*orders.Notice {
		var out []*orders.Notice
		for _, n := range b.notices(t, shopA) {
			if n.Kind == orders.NoticeDisputeDeadline {
				out = append(out, n)
			}
		}
		return out
	}
	require.Equal(t, 1, remind(start), "du_2's 2-day reminder")
	require.Equal(t, o2.ID, deadlines()[0].OrderID)
	require.Equal(t, 0, remind(start.Add(time.Hour)), "sent once")
	require.Equal(t, 1, remind(start.Add(3*24*time.Hour+time.Minute)), "du_1's 7-day reminder")
	require.Contains(t, deadlines()[1].Text, due.Format("2006-01-02 15:04 UTC"))
	require.Equal(t, 0, remind(start.Add(4*24*time.Hour)))
	require.Equal(t, 1, remind(start.Add(8*24*time.Hour+time.Minute)), "du_1's 2-day reminder")
	require.Equal(t, 0, remind(start.Add(9*24*time.Hour)))
	require.Equal(t, 0, remind(start.Add(11*24*time.Hour)), "past the deadline")
	require.Len(t, deadlines(), 3)

	// A dispute that is no longer open gets no reminder.
	due3 := b.now.Add(24 * time.Hour)
	_, ref3 := b.paidRef(t)
	b.apply(t, disputeEvent(shopA, ref3, "evt_f1", orders.EventDisputeUpdated, "du_3", orders.DisputePending, 330000, &due3))
	require.Equal(t, 0, remind(b.now))
}
