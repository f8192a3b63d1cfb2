package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// testReportPayments checks the payments report's reads: payments in [from, to) of
// the shop only, oldest first, joined with their order, bounded by limit; and attempts
// in the same range counted by status and failure reason.
func testReportPayments(t *testing.T, h Harness) {
	ctx := context.Background()
	from, to := at(0), at(100)

	o := newOrder(shopA, -50)
	o.Customer.Name = "Trần Thị Bích"
	o.Metadata = map[string]string{"branch": "hcm"}
	o.PaymentStatus = orders.PaymentPaid
	o = createOrder(t, h, o)
	other := createOrder(t, h, newOrder(shopB, -50))

	attempt := func(o *orders.Order, n int, status, reason string) *orders.Attempt {
		a := newAttempt(o, n)
		a.Status, a.FailureReason = status, reason
		return a
	}
	payment := func(o *orders.Order, a *orders.Attempt, n int, dup bool) *orders.Payment {
		return &orders.Payment{
			ID: orders.NewID(), ShopID: o.ShopID, OrderID: o.ID, AttemptID: a.ID, Gateway: "sandbox",
			GatewayRef: "ref", Status: orders.PaymentStatusSucceeded, Amount: o.Total, RefundedAmount: 0,
			Currency: o.Currency, Duplicate: dup, CreatedAt: at(n),
		}
	}
	attempts := []*orders.Attempt{
		attempt(o, -10, orders.AttemptFailed, "card_declined"), // before from
		attempt(o, 0, orders.AttemptFailed, "card_declined"),   // from is inside
		attempt(o, 5, orders.AttemptFailed, "card_declined"),
		attempt(o, 6, orders.AttemptFailed, "expired"),
		attempt(o, 7, orders.AttemptSucceeded, ""),
		attempt(o, 100, orders.AttemptSucceeded, ""), // to is outside
		attempt(other, 7, orders.AttemptSucceeded, ""),
	}
	before := payment(o, attempts[4], -1, false)
	first := payment(o, attempts[4], 0, false)
	dup := payment(o, attempts[4], 20, true)
	dup.RefundedAmount = dup.Amount
	atTo := payment(o, attempts[5], 100, false)
	otherShop := payment(other, attempts[6], 10, false)
	inTx(t, h, func(tx orders.Tx) error {
		var errs []error
		for _, a := range attempts {
			errs = append(errs, tx.InsertAttempt(ctx, a))
		}
		for _, p := range []*orders.Payment{dup, atTo, before, otherShop, first} {
			errs = append(errs, tx.InsertPayment(ctx, p))
		}
		return errors.Join(errs...)
	})

	got, err := h.Store.ReportPayments(ctx, shopA, from, to, 10)
	require.NoError(t, err)
	want := func(p *orders.Payment) *orders.ReportPayment {
		return &orders.ReportPayment{
			Payment: *p, OrderCode: o.Code, CustomerName: "Trần Thị Bích",
			OrderPaymentStatus: orders.PaymentPaid, OrderCreatedAt: o.CreatedAt,
			Metadata: map[string]string{"branch": "hcm"},
		}
	}
	require.Equal(t, []*orders.ReportPayment{want(first), want(dup)}, got,
		"[from, to) of shop A only, oldest first, with the order")
	require.Equal(t, time.UTC, got[0].CreatedAt.Location(), "times come back in UTC")

	got, err = h.Store.ReportPayments(ctx, shopA, from, to, 1)
	require.NoError(t, err)
	require.Equal(t, []*orders.ReportPayment{want(first)}, got, "limit")

	got, err = h.Store.ReportPayments(ctx, shopB, from, to, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, otherShop.ID, got[0].ID)

	counts, err := h.Store.AttemptCounts(ctx, shopA, from, to)
	require.NoError(t, err)
	require.Equal(t, []orders.AttemptCount{
		{Status: orders.AttemptFailed, FailureReason: "card_declined", Count: 2},
		{Status: orders.AttemptFailed, FailureReason: "expired", Count: 1},
		{Status: orders.AttemptSucceeded, Count: 1},
	}, counts)

	got, err = h.Store.ReportPayments(ctx, shopA, at(200), at(300), 10)
	require.NoError(t, err)
	require.Empty(t, got)
	counts, err = h.Store.AttemptCounts(ctx, shopA, at(200), at(300))
	require.NoError(t, err)
	require.Empty(t, counts)
}
