package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// TestDisputeLifecycle applies a dispute's events through the service on Postgres,
// where writes are queued and sent with the next read: the first event inserts the
// dispute and a batch of its open and close, applied in one transaction, sees the
// insert it queued.
func TestDisputeLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.createOrder(t, b.shop.ID)
	b.pay(t, o, "evt_pay")
	due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ev := func(id, typ, status string) *orders.GatewayEvent {
		return &orders.GatewayEvent{ShopID: b.shop.ID, Gateway: "sandbox", EventID: id, Type: typ,
			PaymentRef: "pay-evt_pay", Amount: o.Total, Currency: o.Currency, Payload: []byte(`{}`),
			Dispute: &orders.DisputeDetails{ID: "du_1", Status: status, Reason: "fraudulent", EvidenceDueAt: &due}}
	}
	res, errs := b.svc.ApplyEvents(b.ctx, []*orders.GatewayEvent{
		ev("evt_d1", orders.EventDisputeOpened, orders.DisputeOpen),
		ev("evt_d2", orders.EventDisputeUpdated, orders.DisputePending),
	})
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, orders.OutcomeApplied, res[0].Outcome)
	require.Equal(t, orders.OutcomeApplied, res[1].Outcome)
	ds, err := b.svc.ListDisputes(b.ctx, b.shop.ID, orders.DisputeFilter{})
	require.NoError(t, err)
	require.Len(t, ds, 1, "one dispute, updated by the second event")
	require.Equal(t, orders.DisputePending, ds[0].Status)
	got, err := b.svc.Order(b.ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentDisputed, got.PaymentStatus)

	r, err := b.svc.ApplyEvent(b.ctx, ev("evt_d3", orders.EventDisputeClosed, orders.DisputeLost))
	require.NoError(t, err)
	require.Equal(t, orders.OutcomeApplied, r.Outcome)
	got, err = b.svc.Order(b.ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
	require.Equal(t, o.Total, got.Payments[0].RefundedAmount)
	r, err = b.svc.ApplyEvent(b.ctx, ev("evt_d4", orders.EventDisputeUpdated, orders.DisputeOpen))
	require.NoError(t, err)
	require.Equal(t, orders.OutcomeIgnored, r.Outcome, "closed is final")

	sent, err := b.svc.RemindDisputes(b.ctx)
	require.NoError(t, err)
	require.Zero(t, sent, "a lost dispute gets no reminder")
}
