package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// testDisputes checks the dispute rows: a round trip in and out of the transaction,
// one row per (shop, gateway, gateway dispute id), updates, listing with status
// filters, tenant isolation and the reminder query.
func testDisputes(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	a := newAttempt(o, 1)
	p := &orders.Payment{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, AttemptID: a.ID, Gateway: "stripe",
		GatewayRef: "pi_1", Status: orders.PaymentStatusSucceeded, Amount: o.Total, Currency: o.Currency, CreatedAt: at(2)}
	dispute := func(n int, gid, status string) *orders.Dispute {
		return &orders.Dispute{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, PaymentID: p.ID, Gateway: "stripe",
			GatewayDisputeID: gid, Status: status, Reason: "fraudulent", Amount: o.Total, Currency: o.Currency,
			EvidenceDueAt: ptr(at(1000 + n)), CreatedAt: at(n), UpdatedAt: at(n)}
	}
	open, won := dispute(3, "du_1", orders.DisputeOpen), dispute(4, "du_2", orders.DisputeWon)
	won.ClosedAt, won.EvidenceDueAt = ptr(at(5)), nil
	inTx(t, h, func(tx orders.Tx) error {
		require.NoError(t, tx.InsertAttempt(ctx, a))
		require.NoError(t, tx.InsertPayment(ctx, p))
		require.NoError(t, tx.InsertDispute(ctx, open))
		require.NoError(t, tx.InsertDispute(ctx, won))
		got, err := tx.OrderDisputes(ctx, shopA, o.ID)
		require.NoError(t, err)
		require.Equal(t, []*orders.Dispute{open, won}, got, "the transaction sees its own writes, oldest first")
		other, err := tx.OrderDisputes(ctx, shopB, o.ID)
		require.NoError(t, err)
		require.Empty(t, other, "another shop's order disputes")
		return nil
	})

	// The same gateway dispute id again fails, whatever the row's own id.
	err := h.Store.InTx(ctx, func(tx orders.Tx) error {
		return tx.InsertDispute(ctx, dispute(6, "du_1", orders.DisputePending))
	})
	require.Error(t, err, "one row per (shop, gateway, gateway dispute id)")

	got, err := h.Store.Dispute(ctx, shopA, open.ID)
	require.NoError(t, err)
	require.Equal(t, open, got)
	_, err = h.Store.Dispute(ctx, shopB, open.ID)
	requireNotFound(t, err, "another shop's dispute")
	_, err = h.Store.Dispute(ctx, shopA, orders.NewID())
	requireNotFound(t, err)

	list := func(shop, status string) []*orders.Dispute {
		t.Helper()
		l, err := h.Store.ListDisputes(ctx, shop, orders.DisputeFilter{Status: status, Limit: 10})
		require.NoError(t, err)
		return l
	}
	require.Equal(t, []*orders.Dispute{won, open}, list(shopA, ""), "newest first")
	require.Equal(t, []*orders.Dispute{open}, list(shopA, orders.DisputeOpen))
	require.Equal(t, []*orders.Dispute{won}, list(shopA, orders.DisputeClosed), "closed is won or lost")
	require.Empty(t, list(shopA, orders.DisputeLost))
	require.Empty(t, list(shopB, ""), "tenant isolation")
	paged, err := h.Store.ListDisputes(ctx, shopA, orders.DisputeFilter{BeforeID: won.ID, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []*orders.Dispute{open}, paged)

	// Only open disputes due in the window are due for a reminder.
	due, err := h.Store.DisputesDue(ctx, at(0), at(2000), 10)
	require.NoError(t, err)
	require.Equal(t, []*orders.Dispute{open}, due)
	due, err = h.Store.DisputesDue(ctx, at(1003), at(2000), 10)
	require.NoError(t, err)
	require.Empty(t, due, "the deadline must be after dueAfter")

	// Updates write every mutable field.
	open.Status, open.Reason, open.Amount, open.RemindedDays = orders.DisputeLost, "general", 5, 2
	open.EvidenceDueAt, open.UpdatedAt, open.ClosedAt = nil, at(9), ptr(at(9))
	inTx(t, h, func(tx orders.Tx) error { return tx.UpdateDispute(ctx, open) })
	got, err = h.Store.Dispute(ctx, shopA, open.ID)
	require.NoError(t, err)
	require.Equal(t, open, got)
	require.Equal(t, []*orders.Dispute{open}, list(shopA, orders.DisputeLost))
	err = h.Store.InTx(ctx, func(tx orders.Tx) error {
		d := *open
		d.ShopID = shopB
		return tx.UpdateDispute(ctx, &d)
	})
	requireNotFound(t, err, "another shop's dispute is not updated")
}
