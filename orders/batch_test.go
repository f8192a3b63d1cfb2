package orders_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
)

// TestApplyEventsBatch applies, in one call, the mix of events a burst of webhooks
// brings, and checks each result and the state they leave against what applying them
// one by one means.
func TestApplyEventsBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	paid, declined, pending, twice := b.create(t, shopA, input()), b.create(t, shopA, input()), b.create(t, shopA, input()), b.create(t, shopA, input())
	aPaid, aDeclined, aPending := b.attempt(t, paid), b.attempt(t, declined), b.attempt(t, pending)
	aTwice1, aTwice2 := b.attempt(t, twice), b.attempt(t, twice)

	pendingEv := event(aPending, orders.EventPending, "evt_p1")
	evs := []*orders.GatewayEvent{
		event(aPaid, orders.EventSucceeded, "evt_1"),
		event(aDeclined, orders.EventFailed, "evt_2"),
		event(aPaid, orders.EventSucceeded, "evt_1"), // the gateway's retry, in the same burst
		pendingEv,
		event(aPending, orders.EventSucceeded, "evt_p2"), // after its pending, same session
		{ShopID: "no-such-shop", Gateway: sandbox, EventID: "evt_x", Type: orders.EventSucceeded},
		event(aTwice1, orders.EventSucceeded, "evt_t1"),
		event(aTwice2, orders.EventSucceeded, "evt_t2"), // a second payment for the same order
	}
	res, errs := b.svc.ApplyEvents(b.ctx, evs)
	require.Len(t, res, len(evs))
	require.Len(t, errs, len(evs))

	for i, want := range []struct {
		duplicate bool
		outcome   string
		paid      bool
	}{
		{false, orders.OutcomeApplied, true},
		{false, orders.OutcomeApplied, false},
		{true, "", false},
		{false, orders.OutcomeApplied, false},
		{false, orders.OutcomeApplied, true},
		{},
		{false, orders.OutcomeApplied, true},
		{false, orders.OutcomeDuplicatePaid, false},
	} {
		if i == 5 {
			require.Nil(t, res[i])
			requireCode(t, errs[i], orders.ENOTFOUND)
			continue
		}
		require.NoError(t, errs[i], "event %d", i)
		require.Equal(t, want.duplicate, res[i].Duplicate, "event %d", i)
		require.Equal(t, want.outcome, res[i].Outcome, "event %d", i)
		require.Equal(t, want.paid, res[i].Paid, "event %d", i)
	}

	require.Equal(t, orders.StatusPaid, b.reload(t, paid).Status)
	require.Len(t, b.reload(t, paid).Payments, 1, "the retry in the burst paid nothing")
	require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, declined).Status)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaymentFailed}, kinds(b.messages(t, declined)))
	got := b.reload(t, pending)
	require.Equal(t, orders.StatusPaid, got.Status, "pending, then succeeded, in arrival order")
	att, err := b.store.Attempt(b.ctx, shopA, aPending.ID)
	require.NoError(t, err)
	require.Equal(t, orders.AttemptSucceeded, att.Status)

	got = b.reload(t, twice)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Len(t, got.Payments, 2)
	require.False(t, got.Payments[0].Duplicate)
	require.True(t, got.Payments[1].Duplicate)
	rs := b.refunds(t, twice)
	require.Len(t, rs, 1, "the second payment is refunded")
	require.Equal(t, got.Payments[1].ID, rs[0].PaymentID)

	// Every event of the batch is recorded: each one again is a duplicate.
	before := b.snapshot(t)
	for i, ev := range evs {
		if i == 5 {
			continue
		}
		again := *ev
		again.ID = ""
		require.True(t, b.apply(t, &again).Duplicate, "event %d", i)
	}
	require.Equal(t, before, b.snapshot(t))
}

// failingRenderer fails to render a payment-failed message whose reason is failReason,
// which makes the transaction applying that event fail.
type failingRenderer struct {
	bot.Renderer
	failReason string
}

var errRender = errors.New("template broke")

func (r failingRenderer) Message(kind string, d orders.MessageData) (string, []orders.Button, error) {
	if kind == orders.KindPaymentFailed && d.Reason == r.failReason {
		return "", nil, errRender
	}
	return r.Renderer.Message(kind, d)
}

// TestApplyEventsIsolatesFailures shows that one event that cannot be applied fails
// alone: the shared transaction rolls back, and the others are applied one by one.
func TestApplyEventsIsolatesFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc, err := orders.NewService(orders.Config{
		Shops:     []*orders.Shop{b.a, b.b},
		Store:     b.store,
		Renderer:  failingRenderer{Renderer: bot.Renderer{Templates: b.tpl}, failReason: "boom"},
		PublicURL: publicURL + "/",
		LinkKey:   b.key,
		Now:       func() time.Time { return b.now },
	})
	require.NoError(t, err)
	o1, o2, o3 := b.create(t, shopA, input()), b.create(t, shopA, input()), b.create(t, shopA, input())
	a1, a2, a3 := b.attempt(t, o1), b.attempt(t, o2), b.attempt(t, o3)
	bad := event(a2, orders.EventFailed, "evt_bad")
	bad.Reason = "boom"

	res, errs := svc.ApplyEvents(b.ctx, []*orders.GatewayEvent{
		event(a1, orders.EventSucceeded, "evt_ok1"), bad, event(a3, orders.EventSucceeded, "evt_ok3"),
	})
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], errRender)
	require.Nil(t, res[1])
	require.NoError(t, errs[2])
	require.True(t, res[0].Paid)
	require.True(t, res[2].Paid)
	require.Equal(t, orders.StatusPaid, b.reload(t, o1).Status)
	require.Equal(t, orders.StatusPaid, b.reload(t, o3).Status)

	// The failed event was not recorded, so its retry is applied, not a duplicate.
	require.Equal(t, []string{orders.KindOrderCard}, kinds(b.messages(t, o2)))
	retry := *bad
	retry.ID, retry.Reason = "", "card declined"
	r := b.apply(t, &retry)
	require.False(t, r.Duplicate)
	require.Equal(t, orders.OutcomeApplied, r.Outcome)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaymentFailed}, kinds(b.messages(t, o2)))
}

func TestRecordChatUpdatesScrubsAndQueues(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{b.a, b.b}, Store: b.store, Renderer: bot.Renderer{Templates: b.tpl},
		PublicURL: publicURL + "/", LinkKey: b.key, Now: func() time.Time { return b.now },
		ScrubChatUpdate: bot.RedactCardNumbersJSON,
	})
	require.NoError(t, err)
	ups := []*orders.ChatUpdate{
		{UpdateID: 10, Payload: []byte(`{"update_id":10,"message":{"text":"card 4111 1111 1111 1111"}}`)},
		{UpdateID: 11, Payload: []byte(`{"update_id":11,"message":{"text":"hi"}}`)},
	}
	n, err := svc.RecordChatUpdates(b.ctx, shopA, "telegram:9", ups, 12)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	got, err := b.store.ChatUpdate(b.ctx, shopA, "telegram:9", 10)
	require.NoError(t, err)
	require.NotContains(t, string(got.Payload), "4111 1111", "a card number is never stored")
	require.Equal(t, b.now.Truncate(time.Microsecond), got.ReceivedAt)
	require.Equal(t, []orders.Job{
		orders.ProcessChatUpdate{ShopID: shopA, Source: "telegram:9", UpdateID: 10},
		orders.ProcessChatUpdate{ShopID: shopA, Source: "telegram:9", UpdateID: 11},
	}, b.jobs(t))
	off, err := b.store.ChatOffset(b.ctx, shopA, "telegram:9")
	require.NoError(t, err)
	require.Equal(t, int64(12), off)

	// Again, with one new: only the new one gets a job.
	n, err = svc.RecordChatUpdates(b.ctx, shopA, "telegram:9", []*orders.ChatUpdate{
		{UpdateID: 11, Payload: []byte(`{}`)}, {UpdateID: 12, Payload: []byte(`{}`)},
	}, 13)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Len(t, b.jobs(t), 3)
	_, err = svc.RecordChatUpdates(b.ctx, "no-such-shop", "telegram:9", nil, 0)
	requireCode(t, err, orders.ENOTFOUND)
}
