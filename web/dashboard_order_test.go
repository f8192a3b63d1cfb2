package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/auth/authtest"
	"github.com/chatpay/chatpay/gateway"
	"github.com/chatpay/chatpay/orders"
)

// capsGateway is a gateway that only declares capabilities: the order page reads
// them, and nothing here calls the gateway.
type capsGateway struct {
	gateway.Gateway
	name string
	caps gateway.Capabilities
}

func (g capsGateway) Name() string                       { return g.name }
func (g capsGateway) Capabilities() gateway.Capabilities { return g.caps }

// pay records a payment of the whole order through gw, made at `at`, as the
// gateway's webhook would: authorised only when status is PaymentStatusAuthorized.
func (d *dash) pay(o *orders.Order, gw, status string, at time.Time) {
	d.t.Helper()
	ctx := context.Background()
	require.NoError(d.t, d.store.InTx(ctx, func(tx orders.Tx) error {
		cur, err := tx.LockOrder(ctx, o.ShopID, o.ID)
		if err != nil {
			return err
		}
		if err := tx.InsertPayment(ctx, &orders.Payment{
			ID: orders.NewID(), ShopID: o.ShopID, OrderID: o.ID, Gateway: gw, GatewayRef: "ref-" + o.ID,
			Status: status, Amount: cur.Total, Currency: cur.Currency, CreatedAt: at,
		}); err != nil {
			return err
		}
		cur.Status, cur.PaymentStatus, cur.PaidAt = orders.StatusPaid, orders.PaymentPaid, &at
		if status == orders.PaymentStatusAuthorized {
			cur.PaymentStatus = orders.PaymentAuthorized
		}
		return tx.UpdateOrder(ctx, cur)
	}))
}

// TestDashboardOrderFollowsGateway checks that the order page offers only what the
// payment's gateway can do: partial refunds or the whole payment, the refund limit
// and window, capture in full or in part, and says why when it offers nothing.
func TestDashboardOrderFollowsGateway(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)
	ctx := context.Background()
	d.gateways.Add("shop-a", capsGateway{name: "held", caps: gateway.Capabilities{Capture: true, PartialCapture: true, PartialRefund: true}})
	d.gateways.Add("shop-a", capsGateway{name: "fullcap", caps: gateway.Capabilities{Capture: true}})
	d.gateways.Add("shop-a", capsGateway{name: "nocap"})
	d.gateways.Add("shop-a", capsGateway{name: "whole", caps: gateway.Capabilities{
		MaxRefundsPerPayment: 2, RefundWindow: 30 * 24 * time.Hour,
	}})
	d.gateways.Add("shop-a", capsGateway{name: "limited", caps: gateway.Capabilities{PartialRefund: true, RefundWindow: 365 * 24 * time.Hour}})
	_, err := d.auth.AddUser(ctx, "shop-a", "staff@example.com", auth.RoleStaff, authtest.Password)
	require.NoError(t, err)
	owner := sessionCookieOf(t, d.signIn("owner@example.com", authtest.Password), "chatpay_session")
	staff := sessionCookieOf(t, d.signIn("staff@example.com", authtest.Password), "chatpay_session")
	now := time.Now().UTC().Truncate(time.Microsecond)
	page := func(o *orders.Order, ck *http.Cookie) string {
		t.Helper()
		return requirePage(t, d.do(http.MethodGet, orderPath(o.ID), nil, nil, ck), http.StatusOK)
	}
	post := func(o *orders.Order, action string, form url.Values, ck *http.Cookie) *httptest.ResponseRecorder {
		t.Helper()
		return d.do(http.MethodPost, orderPath(o.ID)+"/"+action, form, sameSite, ck)
	}

	// Authorised with a gateway that captures in part: the owner chooses the amount,
	// staff capture everything or nothing, and shipping waits for the capture.
	held := d.newOrder("shop-a", orders.Customer{Name: "Held"}, nil)
	d.pay(held, "held", orders.PaymentStatusAuthorized, now)
	body := page(held, owner)
	require.Contains(t, body, `action="`+orderPath(held.ID)+`/capture"`)
	require.Contains(t, body, `id="capture-amount" name="amount" inputmode="decimal" value="150000"`)
	require.NotContains(t, body, `action="`+orderPath(held.ID)+`/refund"`, "nothing captured to refund")
	require.Contains(t, body, "این پرداخت فقط تأیید شده است", "ship waits for the capture")
	require.Contains(t, body, `<fieldset disabled aria-describedby="ship-why">`)
	body = page(held, staff)
	require.Contains(t, body, `action="`+orderPath(held.ID)+`/capture"`, "staff may capture it all")
	require.NotContains(t, body, `id="capture-amount"`, "but not choose less")
	rec := post(held, "capture", url.Values{"amount": {"100000"}}, staff)
	requirePage(t, rec, http.StatusForbidden)
	rec = post(held, "capture", url.Values{"amount": {"999999999"}}, owner)
	require.Equal(t, orderPath(held.ID)+"?msg=capture_amount", rec.Header().Get("Location"))
	rec = post(held, "capture", url.Values{"amount": {"150000"}}, staff)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, orderPath(held.ID)+"?msg=captured", rec.Header().Get("Location"))
	body = page(held, owner)
	require.Contains(t, body, `<fieldset disabled aria-describedby="capture-why">`, "one capture at a time")
	require.Contains(t, body, "در حال برداشت", "the payment is being captured")
	rec = post(held, "capture", nil, owner)
	require.Equal(t, orderPath(held.ID)+"?msg=conflict", rec.Header().Get("Location"))

	// A gateway that captures only in full offers no amount; one that cannot capture
	// says to capture at the gateway.
	full := d.newOrder("shop-a", orders.Customer{Name: "Full"}, nil)
	d.pay(full, "fullcap", orders.PaymentStatusAuthorized, now)
	body = page(full, owner)
	require.Contains(t, body, `action="`+orderPath(full.ID)+`/capture"`)
	require.NotContains(t, body, `id="capture-amount"`)
	nocap := d.newOrder("shop-a", orders.Customer{Name: "NoCap"}, nil)
	d.pay(nocap, "nocap", orders.PaymentStatusAuthorized, now)
	body = page(nocap, owner)
	require.Contains(t, body, `<fieldset disabled aria-describedby="capture-why">`)
	require.Contains(t, body, "درگاه این پرداخت امکان برداشت از طریق chatpay را ندارد.")

	// A gateway that refunds whole payments only, twice at most, within 30 days.
	whole := d.newOrder("shop-a", orders.Customer{Name: "Whole"}, nil)
	d.pay(whole, "whole", orders.PaymentStatusSucceeded, now)
	body = page(whole, owner)
	require.Contains(t, body, `action="`+orderPath(whole.ID)+`/refund"`)
	require.NotContains(t, body, `name="amount"`, "no amount to choose")
	require.Contains(t, body, "درگاه این پرداخت فقط کل مبلغ پرداخت را بازپرداخت می‌کند.")
	require.Contains(t, body, `<span dir="ltr">۰ / ۲</span>`, "refunds made of the gateway's limit")
	require.Contains(t, body, now.Add(30*24*time.Hour).Format(time.DateOnly), "the last day to refund")
	require.NotContains(t, body, `action="`+orderPath(whole.ID)+`/capture"`)
	require.NotContains(t, page(whole, staff), `/refund"`, "staff cannot refund")
	// Part of it refunded (the service here has no rules; a real one refuses this):
	// the rest cannot be refunded by this gateway.
	half := int64(75000)
	_, err = d.svc.CreateRefund(ctx, "shop-a", whole.ID, &half)
	require.NoError(t, err)
	body = page(whole, owner)
	require.Contains(t, body, `<fieldset disabled aria-describedby="refund-why">`)
	require.Contains(t, body, "بخشی از آن قبلاً بازپرداخت شده است")
	require.Contains(t, body, `<span dir="ltr">۱ / ۲</span>`)
	_, err = d.svc.CreateRefund(ctx, "shop-a", whole.ID, &half)
	require.NoError(t, err)
	require.NotContains(t, page(whole, owner), `/refund"`, "nothing left to refund")

	// Past the gateway's refund window; a disputed payment.
	old := d.newOrder("shop-a", orders.Customer{Name: "Old"}, nil)
	d.pay(old, "limited", orders.PaymentStatusSucceeded, now.AddDate(-2, 0, 0))
	body = page(old, owner)
	require.Contains(t, body, `<fieldset disabled aria-describedby="refund-why">`)
	require.Contains(t, body, "مهلت بازپرداخت گذشته است")
	require.Contains(t, body, `name="amount" inputmode="decimal" value="150000"`, "partial refunds: an amount field")

	// The page is live and the link has a copy button.
	open := d.newOrder("shop-a", orders.Customer{Channel: orders.ChannelWebchat, ExternalID: "v-9", Name: "Open"}, nil)
	body = page(open, owner)
	require.Contains(t, body, `id="order-`+open.ID+`" data-live="order:`+open.ID+` conversation:`+open.ConversationID+`"`)
	require.Contains(t, body, `data-copy="#paylink"`)
	require.Contains(t, body, `<script src="/assets/copy.js" defer></script>`)
	require.Contains(t, body, `<script src="/assets/live.js" defer></script>`)
	require.Contains(t, body, `<a href="/dashboard" aria-current="page">`)
}

// TestDashboardOrderTimeline checks that the timeline holds every message about the
// order and what the customer and the shop said in its conversation while it was
// open, with each message's delivery status, and nothing from before it.
func TestDashboardOrderTimeline(t *testing.T) {
	t.Parallel()
	d := setupDashboard(t, false)
	ctx := context.Background()
	customer := orders.Customer{Channel: orders.ChannelWebchat, ExternalID: "visitor-7", Name: "Lan"}
	in := func(key, text string) {
		_, _, err := d.svc.ReceiveMessage(ctx, "shop-a", orders.InboundMessage{
			Channel: customer.Channel, ExternalID: customer.ExternalID, Key: key, Text: text,
		})
		require.NoError(t, err)
	}
	in("before", "a question from last week")
	o := d.newOrder("shop-a", customer, nil)
	in("after", "I will pay tonight, thanks")
	ck := sessionCookieOf(t, d.signIn("owner@example.com", authtest.Password), "chatpay_session")
	body := requirePage(t, d.do(http.MethodGet, orderPath(o.ID), nil, nil, ck), http.StatusOK)
	require.Contains(t, body, "I will pay tonight, thanks", "the customer's message after the order")
	require.NotContains(t, body, "a question from last week", "not what was said before the order")
	require.Contains(t, body, "پیام از مشتری", "labelled as the customer's")
	require.Contains(t, body, "#"+o.Code, "the order card sent to the customer")
	require.Contains(t, body, "در صف", "with its delivery status")
	// A later order in the same chat keeps its messages on its own timeline.
	next := d.newOrder("shop-a", customer, nil)
	body = requirePage(t, d.do(http.MethodGet, orderPath(o.ID), nil, nil, ck), http.StatusOK)
	require.NotContains(t, body, "سفارش #"+next.Code, "another order's card")
	require.Contains(t, requirePage(t, d.do(http.MethodGet, orderPath(next.ID), nil, nil, ck), http.StatusOK), "سفارش #"+next.Code)

	// Once the order is cancelled, what comes after is no longer about it.
	_, err := d.svc.CancelOrder(ctx, "shop-a", o.ID)
	require.NoError(t, err)
	in("later", "never mind")
	body = requirePage(t, d.do(http.MethodGet, orderPath(o.ID), nil, nil, ck), http.StatusOK)
	require.Contains(t, body, "I will pay tonight, thanks")
	require.NotContains(t, body, "never mind")
}
