package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// TestDashboardShipBlockedByFullRefund checks that the order page agrees with the
// service about shipping a refunded order: a partial refund leaves the ship form as it
// is, while a refund of everything, pending or done, shows it disabled with the reason.
func TestDashboardShipBlockedByFullRefund(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)
	ctx := context.Background()
	d.gateways.Add("shop-a", capsGateway{name: "parts", caps: gateway.Capabilities{PartialRefund: true}})
	owner := sessionCookieOf(t, d.signIn("owner@example.com", authtest.Password), "chatpay_session")
	now := time.Now().UTC().Truncate(time.Microsecond)
	// Shop A's pages are in Persian.
	const why = "کل مبلغ پرداخت‌شده بازپرداخت شده یا بازپرداخت کامل آن در جریان است"
	const disabled = `<fieldset disabled aria-describedby="ship-why">`

	o := d.newOrder("shop-a", orders.Customer{Name: "Refunded"}, nil)
	d.pay(o, "parts", orders.PaymentStatusSucceeded, now)
	page := func() string {
		t.Helper()
		return requirePage(t, d.do(http.MethodGet, orderPath(o.ID), nil, nil, owner), http.StatusOK)
	}
	shipForm := `action="` + orderPath(o.ID) + `/ship"`

	body := page()
	require.Contains(t, body, shipForm)
	require.NotContains(t, body, disabled)

	// A partial refund under way leaves something to ship for.
	part := int64(50000)
	_, err := d.svc.CreateRefund(ctx, "shop-a", o.ID, &part)
	require.NoError(t, err)
	body = page()
	require.Contains(t, body, shipForm)
	require.NotContains(t, body, disabled)
	require.NotContains(t, body, why)

	// The rest refunded, still pending: shown disabled, with the reason.
	r, err := d.svc.CreateRefund(ctx, "shop-a", o.ID, nil)
	require.NoError(t, err)
	require.Equal(t, orders.RefundPending, r.Status)
	body = page()
	require.Contains(t, body, shipForm)
	require.Contains(t, body, disabled)
	require.Contains(t, body, why)
	// A hand-made post is refused by the service.
	rec := d.do(http.MethodPost, orderPath(o.ID)+"/ship", url.Values{"carrier": {"GHN"}}, sameSite, owner)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, orderPath(o.ID)+"?msg=conflict", rec.Header().Get("Location"))

	// Both refunds done: the order is refunded, and the page still says why.
	for _, rf := range mustRefunds(t, d, o) {
		require.NoError(t, d.svc.CompleteRefund(ctx, "shop-a", rf.ID, orders.RefundResult{Succeeded: true}))
	}
	got, err := d.svc.Order(ctx, "shop-a", o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
	body = page()
	require.Contains(t, body, disabled)
	require.Contains(t, body, why)
}

func mustRefunds(t *testing.T, d *dash, o *orders.Order) []*orders.Refund {
	t.Helper()
	rs, err := d.store.OrderRefunds(context.Background(), o.ShopID, o.ID)
	require.NoError(t, err)
	require.NotEmpty(t, rs)
	return rs
}
