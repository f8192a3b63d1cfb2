package orders_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// TestShipmentRefusedWhileFullRefundPending: a refund of everything paid is money on
// its way back to the customer, so the goods must not leave while it is still pending,
// exactly as after it went through. A partial refund leaves something to ship for, and
// a refund that failed gives nothing back.
func TestShipmentRefusedWhileFullRefundPending(t *testing.T) {
	t.Parallel()

	t.Run("full refund pending", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		o := b.create(t, shopA, input())
		b.pay(t, o)
		r, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
		require.NoError(t, err)
		require.Equal(t, orders.RefundPending, r.Status)
		require.Equal(t, orders.PaymentPaid, b.reload(t, o).PaymentStatus, "the refund is not done yet")

		before := b.snapshot(t)
		sh, err := b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN1")
		e := requireCode(t, err, orders.ECONFLICT)
		require.Contains(t, e.Message, o.Code)
		require.Nil(t, sh)
		require.Equal(t, before, b.snapshot(t))

		// Done: still refused.
		require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r.ID, orders.RefundResult{Succeeded: true, GatewayRef: "re_1"}))
		_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN1")
		requireCode(t, err, orders.ECONFLICT)
	})

	t.Run("full refund in parts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		o := b.create(t, shopA, input())
		b.pay(t, o)
		_, err := b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN1")
		require.NoError(t, err)
		part := int64(100000)
		_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, &part)
		require.NoError(t, err)
		_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
		require.NoError(t, err)
		// A second parcel of a shipped order is refused the same way.
		_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN2")
		e := requireCode(t, err, orders.ECONFLICT)
		require.Contains(t, e.Message, o.Code)
		require.Len(t, b.reload(t, o).Shipments, 1)
	})

	t.Run("partial refund pending", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		o := b.create(t, shopA, input())
		b.pay(t, o)
		part := int64(30000)
		_, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, &part)
		require.NoError(t, err)
		_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN1")
		require.NoError(t, err)
		require.Equal(t, orders.StatusShipped, b.reload(t, o).Status)
	})

	t.Run("full refund failed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		o := b.create(t, shopA, input())
		b.pay(t, o)
		r, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
		require.NoError(t, err)
		require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r.ID, orders.RefundResult{Reason: "card_expired"}))
		_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN1")
		require.NoError(t, err)
	})

	t.Run("duplicate payment refund pending", func(t *testing.T) {
		t.Parallel()
		// The duplicate's refund returns the extra money, not the order's.
		b := setup(t)
		o := b.create(t, shopA, input())
		a1, a2 := b.attempt(t, o), b.attempt(t, o)
		b.apply(t, event(a1, orders.EventSucceeded, "evt_1"))
		b.apply(t, event(a2, orders.EventSucceeded, "evt_2"))
		rs := b.refunds(t, o)
		require.Len(t, rs, 1)
		require.Equal(t, orders.RefundPending, rs[0].Status)
		_, err := b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN1")
		require.NoError(t, err)
	})
}
