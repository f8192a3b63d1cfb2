package orders_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/templates"
)

// The identifiers in this file carry an fx prefix so they can live in package
// orders_test next to other test files without clashing.

// fxBundle is a Service over a fresh SQLite store with two shops: "a" (VND, English,
// paid confirmations on) and "b" (THB, Vietnamese, confirmations off).
type fxBundle struct {
	ctx context.Context
	svc *orders.Service
}

func fxSetup(t testing.TB) *fxBundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	tpl, err := templates.New()
	require.NoError(t, err)
	svc, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{
			{ID: "a", Name: "Shop A", Currency: "VND", Locale: "en", SendPaidConfirmation: true, Gateways: []string{"sandbox"}},
			{ID: "b", Name: "Shop B", Currency: "THB", Locale: "vi", Gateways: []string{"sandbox"}},
		},
		Store:     st,
		Renderer:  bot.Renderer{Templates: tpl},
		PublicURL: "https://pay.example",
		LinkKey:   []byte(strings.Repeat("k", orders.LinkKeyLen)),
	})
	require.NoError(t, err)
	return &fxBundle{ctx: ctx, svc: svc}
}

// fxInput is a valid online order for a webchat customer: 2 × 150000 + 30000 shipping.
func fxInput() orders.CreateOrderInput {
	return orders.CreateOrderInput{
		Customer:    orders.Customer{Channel: orders.ChannelWebchat, ExternalID: "visitor-1", Name: "Lan"},
		Items:       []orders.Item{{Name: "T-shirt", Quantity: 2, UnitPrice: 150_000}},
		ShippingFee: 30_000,
	}
}

func (b *fxBundle) create(t testing.TB, shopID string, in orders.CreateOrderInput) *orders.Order {
	t.Helper()
	o, err := b.svc.CreateOrder(b.ctx, shopID, in)
	require.NoError(t, err)
	return o
}

func (b *fxBundle) reload(t *testing.T, o *orders.Order) *orders.Order {
	t.Helper()
	got, err := b.svc.Order(b.ctx, o.ShopID, o.ID)
	require.NoError(t, err)
	return got
}

// attempt starts an attempt on o's link and attaches sessionID to it.
func (b *fxBundle) attempt(t *testing.T, o *orders.Order, sessionID string) *orders.Attempt {
	t.Helper()
	a, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "sandbox")
	require.NoError(t, err)
	require.NoError(t, b.svc.AttachSession(b.ctx, a, sessionID))
	return a
}

func fxEvent(a *orders.Attempt, typ, eventID string) *orders.GatewayEvent {
	return &orders.GatewayEvent{
		ShopID: a.ShopID, Gateway: "sandbox", EventID: eventID, Type: typ,
		SessionID: a.SessionID, Amount: a.Amount, Currency: a.Currency,
	}
}

func (b *fxBundle) apply(t *testing.T, ev *orders.GatewayEvent) *orders.EventResult {
	t.Helper()
	res, err := b.svc.ApplyEvent(b.ctx, ev)
	require.NoError(t, err)
	return res
}

// pay runs one successful payment through o's link and returns the attempt.
func (b *fxBundle) pay(t *testing.T, o *orders.Order) *orders.Attempt {
	t.Helper()
	a := b.attempt(t, o, "sess-"+orders.NewID())
	res := b.apply(t, fxEvent(a, orders.EventSucceeded, "evt-"+orders.NewID()))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	require.True(t, res.Paid)
	return a
}

func (b *fxBundle) messages(t *testing.T, o *orders.Order, kind string) []*orders.Message {
	t.Helper()
	ms, err := b.svc.Store().OrderMessages(b.ctx, o.ShopID, o.ID)
	require.NoError(t, err)
	var out []*orders.Message
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func (b *fxBundle) refunds(t *testing.T, o *orders.Order) []*orders.Refund {
	t.Helper()
	rs, err := b.svc.Store().OrderRefunds(b.ctx, o.ShopID, o.ID)
	require.NoError(t, err)
	return rs
}

func (b *fxBundle) linkURL(t *testing.T, o *orders.Order) string {
	t.Helper()
	u, err := b.svc.LinkURL(o)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(u, "https://pay.example/pay/"), u)
	return u
}

// fxRequireCode checks err is an orders.Error with code and returns it.
func fxRequireCode(t *testing.T, err error, code string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, orders.ErrorCode(err), "error: %v", err)
}

func TestServiceCreateOrderRejects(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name  string
		edit  func(in *orders.CreateOrderInput)
		field string
	}{
		{"NoItems", func(in *orders.CreateOrderInput) { in.Items = nil }, "items"},
		{"QuantityZero", func(in *orders.CreateOrderInput) { in.Items[0].Quantity = 0 }, "items[0].quantity"},
		{"QuantityNegative", func(in *orders.CreateOrderInput) { in.Items[0].Quantity = -1 }, "items[0].quantity"},
		{"NegativePrice", func(in *orders.CreateOrderInput) { in.Items[0].UnitPrice = -1 }, "items[0].unit_price"},
		{"EmptyName", func(in *orders.CreateOrderInput) { in.Items[0].Name = "  " }, "items[0].name"},
		{"UnknownCurrency", func(in *orders.CreateOrderInput) { in.Currency = "XYZ" }, "currency"},
		{"Overflow", func(in *orders.CreateOrderInput) {
			in.Items[0].Quantity, in.Items[0].UnitPrice = 1_000_000, 9e14
		}, "items[0]"},
		{"UnknownChannel", func(in *orders.CreateOrderInput) { in.Customer.Channel = "fax" }, "customer.channel"},
		{"BadPaymentMethod", func(in *orders.CreateOrderInput) { in.PaymentMethod = "cheque" }, "payment_method"},
		{"PriceAboveMax", func(in *orders.CreateOrderInput) { in.Items[0].UnitPrice = orders.MaxAmount + 1 }, "items[0].unit_price"},
		{"QuantityAboveMax", func(in *orders.CreateOrderInput) { in.Items[0].Quantity = 1_000_001 }, "items[0].quantity"},
		{"NegativeShipping", func(in *orders.CreateOrderInput) { in.ShippingFee = -1 }, "shipping_fee"},
		{"ShippingOverflow", func(in *orders.CreateOrderInput) { in.ShippingFee = orders.MaxAmount }, "shipping_fee"},
		{"ZeroTotalOnline", func(in *orders.CreateOrderInput) { in.Items[0].UnitPrice, in.ShippingFee = 0, 0 }, "items"},
		{"TooManyItems", func(in *orders.CreateOrderInput) {
			for len(in.Items) <= 100 {
				in.Items = append(in.Items, in.Items[0])
			}
		}, "items"},
		{"TelegramIDNotNumber", func(in *orders.CreateOrderInput) {
			in.Customer.Channel, in.Customer.ExternalID = orders.ChannelTelegram, "@lan"
		}, "customer.external_id"},
		{"ChannelWithoutExternalID", func(in *orders.CreateOrderInput) { in.Customer.ExternalID = " " }, "customer.external_id"},
		{"ExternalIDWithoutChannel", func(in *orders.CreateOrderInput) { in.Customer.Channel = "" }, "customer.channel"},
		{"LongItemName", func(in *orders.CreateOrderInput) { in.Items[0].Name = strings.Repeat("é", 201) }, "items[0].name"},
		{"InvalidUTF8Name", func(in *orders.CreateOrderInput) { in.Customer.Name = "\xff" }, "customer.name"},
		{"MetadataKey", func(in *orders.CreateOrderInput) { in.Metadata = map[string]string{"bad key": "x"} }, "metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := fxSetup(t)
			in := fxInput()
			tc.edit(&in)
			o, err := b.svc.CreateOrder(b.ctx, "a", in)
			require.Nil(t, o)
			fxRequireCode(t, err, orders.EINVALID)
			require.True(t, strings.HasPrefix(orders.ErrorMessage(err), tc.field+": "),
				"message %q should name %s", orders.ErrorMessage(err), tc.field)
			list, err := b.svc.ListOrders(b.ctx, "a", orders.OrderFilter{})
			require.NoError(t, err)
			require.Empty(t, list, "a rejected order must not be stored")
		})
	}
}

func TestServiceCreateOrder(t *testing.T) {
	t.Parallel()

	t.Run("CodesPerShop", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		require.Equal(t, "1001", b.create(t, "a", fxInput()).Code)
		require.Equal(t, "1002", b.create(t, "a", fxInput()).Code)
		require.Equal(t, "1001", b.create(t, "b", fxInput()).Code, "shop b numbers its orders on its own")
		require.Equal(t, "1003", b.create(t, "a", fxInput()).Code)
	})

	t.Run("Total", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		in := fxInput()
		in.Items = append(in.Items, orders.Item{Name: "Cap", Quantity: 1, UnitPrice: 70_000})
		o := b.create(t, "a", in)
		require.Equal(t, int64(2*150_000+70_000+30_000), o.Total)
		require.Equal(t, "VND", o.Currency, "the shop's currency is the default")
		require.Equal(t, orders.StatusAwaitingPayment, o.Status)
		require.Equal(t, orders.PaymentUnpaid, o.PaymentStatus)
		require.Equal(t, o.Total, b.reload(t, o).Total)
	})

	t.Run("CashOnDeliveryHasNoLink", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		in := fxInput()
		in.PaymentMethod = orders.MethodCOD
		o := b.create(t, "a", in)
		require.Nil(t, o.Link)
		require.Nil(t, b.reload(t, o).Link)
		require.Empty(t, b.messages(t, o, orders.KindOrderCard), "a COD order has no card to pay")
	})

	t.Run("WebchatOrderCard", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		require.NotNil(t, o.Link)
		ms, err := b.svc.Store().OrderMessages(b.ctx, "a", o.ID)
		require.NoError(t, err)
		require.Len(t, ms, 1)
		m := ms[0]
		require.Equal(t, orders.KindOrderCard, m.Kind)
		require.Equal(t, orders.MessageQueued, m.Status)
		require.Equal(t, o.ConversationID, m.ConversationID)
		require.Contains(t, m.Text, "#1001")
		require.Len(t, m.Buttons, 1)
		require.Equal(t, b.linkURL(t, o), m.Buttons[0].URL)
		// A reloaded order has only the sealed token; LinkURL must open it to the same URL.
		require.Equal(t, m.Buttons[0].URL, b.linkURL(t, b.reload(t, o)))
	})
}

func TestServiceApplyEvent(t *testing.T) {
	t.Parallel()

	t.Run("SuccessAndReplay", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.attempt(t, o, "sess-1")
		require.Equal(t, "sess-1", a.SessionID)

		res := b.apply(t, fxEvent(a, orders.EventSucceeded, "evt-1"))
		require.False(t, res.Duplicate)
		require.Equal(t, orders.OutcomeApplied, res.Outcome)
		require.True(t, res.Paid)

		got := b.reload(t, o)
		require.Equal(t, orders.StatusPaid, got.Status)
		require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
		require.NotNil(t, got.PaidAt)
		require.Len(t, got.Payments, 1)
		require.Equal(t, o.Total, got.Payments[0].Amount)
		require.False(t, got.Payments[0].Duplicate)

		conf := b.messages(t, o, orders.KindPaidConfirmation)
		require.Len(t, conf, 1)
		require.Equal(t, "You have successfully paid for order #1001.", conf[0].Text)

		res = b.apply(t, fxEvent(a, orders.EventSucceeded, "evt-1"))
		require.True(t, res.Duplicate)
		require.False(t, res.Paid)
		got = b.reload(t, o)
		require.Len(t, got.Payments, 1, "a replayed event must not record a second payment")
		require.Len(t, b.messages(t, o, orders.KindPaidConfirmation), 1)
		require.Empty(t, b.refunds(t, o))
	})

	t.Run("Failed", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.attempt(t, o, "sess-1")
		ev := fxEvent(a, orders.EventFailed, "evt-1")
		ev.Reason = "card declined"
		res := b.apply(t, ev)
		require.Equal(t, orders.OutcomeApplied, res.Outcome)
		require.False(t, res.Paid)

		ms := b.messages(t, o, orders.KindPaymentFailed)
		require.Len(t, ms, 1)
		require.Len(t, ms[0].Buttons, 1)
		require.Equal(t, b.linkURL(t, o), ms[0].Buttons[0].URL)
		got := b.reload(t, o)
		require.Equal(t, orders.StatusAwaitingPayment, got.Status)
		require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
		require.Empty(t, got.Payments)
	})

	t.Run("AmountMismatch", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.attempt(t, o, "sess-1")
		ev := fxEvent(a, orders.EventSucceeded, "evt-1")
		ev.Amount--
		res := b.apply(t, ev)
		require.Equal(t, orders.OutcomeAmountMismatch, res.Outcome)
		require.False(t, res.Paid)
		got := b.reload(t, o)
		require.Equal(t, orders.StatusAwaitingPayment, got.Status)
		require.Empty(t, got.Payments)

		// The right currency matters as much as the right number.
		ev = fxEvent(a, orders.EventSucceeded, "evt-2")
		ev.Currency = "THB"
		require.Equal(t, orders.OutcomeAmountMismatch, b.apply(t, ev).Outcome)
		require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
	})

	t.Run("UnknownSession", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.attempt(t, o, "sess-1")
		ev := fxEvent(a, orders.EventSucceeded, "evt-1")
		ev.SessionID = "sess-nobody"
		res := b.apply(t, ev)
		require.Equal(t, orders.OutcomeUnknownSession, res.Outcome)
		require.Nil(t, res.Order)
		require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
	})

	t.Run("UnknownType", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.attempt(t, o, "sess-1")
		res := b.apply(t, fxEvent(a, "refund.created", "evt-1"))
		require.Equal(t, orders.OutcomeIgnored, res.Outcome)
		require.False(t, res.Duplicate)
		require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
	})

	t.Run("DuplicatePaymentIsRefunded", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		first := b.attempt(t, o, "sess-1")
		second := b.attempt(t, o, "sess-2")
		require.True(t, b.apply(t, fxEvent(first, orders.EventSucceeded, "evt-1")).Paid)

		res := b.apply(t, fxEvent(second, orders.EventSucceeded, "evt-2"))
		require.Equal(t, orders.OutcomeDuplicatePaid, res.Outcome)
		require.False(t, res.Paid)

		got := b.reload(t, o)
		require.Equal(t, orders.StatusPaid, got.Status)
		require.Len(t, got.Payments, 2)
		var dup *orders.Payment
		for _, p := range got.Payments {
			if p.Duplicate {
				require.Nil(t, dup, "only the second payment is a duplicate")
				dup = p
			}
		}
		require.NotNil(t, dup)
		require.Equal(t, second.ID, dup.AttemptID)

		rs := b.refunds(t, o)
		require.Len(t, rs, 1)
		require.Equal(t, orders.RefundReasonDuplicate, rs[0].Reason)
		require.Equal(t, dup.ID, rs[0].PaymentID)
		require.Equal(t, dup.Amount, rs[0].Amount)
		require.Equal(t, orders.RefundPending, rs[0].Status)
		require.NotEmpty(t, rs[0].IdempotencyKey)
		require.Len(t, b.messages(t, o, orders.KindPaidConfirmation), 1, "the customer paid once as far as the chat goes")
	})
}

func TestServiceStartAttempt(t *testing.T) {
	t.Parallel()

	t.Run("TwoAttempts", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a1, o1, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "sandbox")
		require.NoError(t, err)
		a2, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "")
		require.NoError(t, err, "the only gateway is the default")
		require.NotEqual(t, a1.ID, a2.ID)
		for _, a := range []*orders.Attempt{a1, a2} {
			require.Equal(t, o.Total, a.Amount)
			require.Equal(t, "VND", a.Currency)
			require.Equal(t, o.ID, a.OrderID)
			require.Equal(t, "sandbox", a.Gateway)
			require.Equal(t, orders.AttemptCreated, a.Status)
		}
		require.Equal(t, o.ID, o1.ID)
	})

	t.Run("GatewayNotEnabled", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		_, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "stripe")
		fxRequireCode(t, err, orders.EINVALID)
		require.Contains(t, orders.ErrorMessage(err), "gateway")
	})

	t.Run("Cancelled", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		_, err := b.svc.CancelOrder(b.ctx, "a", o.ID)
		require.NoError(t, err)
		_, _, err = b.svc.StartAttempt(b.ctx, o.Link.Token, "sandbox")
		fxRequireCode(t, err, orders.EGONE)
	})

	t.Run("Paid", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		b.pay(t, o)
		_, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "sandbox")
		fxRequireCode(t, err, orders.ECONFLICT)
	})

	t.Run("UnknownToken", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		b.create(t, "a", fxInput())
		for _, tok := range []string{orders.NewLinkToken(), "short", ""} {
			_, _, err := b.svc.StartAttempt(b.ctx, tok, "sandbox")
			fxRequireCode(t, err, orders.ENOTFOUND)
		}
	})
}

func TestServiceShipmentsAndRefunds(t *testing.T) {
	t.Parallel()

	t.Run("ShipBeforePaid", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		_, err := b.svc.CreateShipment(b.ctx, "a", o.ID, "GHN", "T1")
		fxRequireCode(t, err, orders.EPAYMENTREQUIRED)
		require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
	})

	t.Run("ShipCashOnDelivery", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		in := fxInput()
		in.PaymentMethod = orders.MethodCOD
		o := b.create(t, "a", in)
		sh, err := b.svc.CreateShipment(b.ctx, "a", o.ID, "GHN", "T1")
		require.NoError(t, err)
		require.Equal(t, "GHN", sh.Carrier)
		require.Equal(t, "T1", sh.TrackingNumber)
		got := b.reload(t, o)
		require.Equal(t, orders.StatusShipped, got.Status)
		require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus, "COD is paid on completion, not on shipping")
	})

	t.Run("RefundTooMuch", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		b.pay(t, o)
		amount := o.Total + 1
		_, err := b.svc.CreateRefund(b.ctx, "a", o.ID, &amount)
		fxRequireCode(t, err, orders.EINVALID)
		require.Contains(t, orders.ErrorMessage(err), "amount")
		require.Empty(t, b.refunds(t, o))
	})

	t.Run("PartialRefund", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		b.pay(t, o)
		amount := int64(100_000)
		r, err := b.svc.CreateRefund(b.ctx, "a", o.ID, &amount)
		require.NoError(t, err)
		require.Equal(t, amount, r.Amount)
		require.Equal(t, orders.RefundPending, r.Status)
		require.Equal(t, orders.RefundReasonRequested, r.Reason)
		require.Equal(t, orders.PaymentPaid, b.reload(t, o).PaymentStatus, "nothing changes until the gateway confirms")

		res := orders.RefundResult{Succeeded: true, GatewayRef: "re_1"}
		require.NoError(t, b.svc.CompleteRefund(b.ctx, "a", r.ID, res))
		got := b.reload(t, o)
		require.Equal(t, orders.PaymentPartiallyRefunded, got.PaymentStatus)
		require.Len(t, got.Payments, 1)
		require.Equal(t, amount, got.Payments[0].RefundedAmount)
		require.Len(t, b.messages(t, o, orders.KindRefunded), 1)

		// A retried job completes the same refund again: nothing may change.
		require.NoError(t, b.svc.CompleteRefund(b.ctx, "a", r.ID, res))
		again := b.reload(t, o)
		require.Equal(t, orders.PaymentPartiallyRefunded, again.PaymentStatus)
		require.Equal(t, amount, again.Payments[0].RefundedAmount)
		require.Len(t, b.messages(t, o, orders.KindRefunded), 1)
		rs := b.refunds(t, o)
		require.Len(t, rs, 1)
		require.Equal(t, orders.RefundSucceeded, rs[0].Status)
		require.Equal(t, "re_1", rs[0].GatewayRef)

		// The rest can still be refunded, and then the order is fully refunded.
		r2, err := b.svc.CreateRefund(b.ctx, "a", o.ID, nil)
		require.NoError(t, err)
		require.Equal(t, o.Total-amount, r2.Amount)
		require.NoError(t, b.svc.CompleteRefund(b.ctx, "a", r2.ID, orders.RefundResult{Succeeded: true}))
		require.Equal(t, orders.PaymentRefunded, b.reload(t, o).PaymentStatus)
	})
}

func TestServiceTenantIsolation(t *testing.T) {
	t.Parallel()
	b := fxSetup(t)
	o := b.create(t, "a", fxInput())
	b.pay(t, o)

	_, err := b.svc.Order(b.ctx, "b", o.ID)
	fxRequireCode(t, err, orders.ENOTFOUND)
	_, err = b.svc.CancelOrder(b.ctx, "b", o.ID)
	fxRequireCode(t, err, orders.ENOTFOUND)
	_, err = b.svc.CreateShipment(b.ctx, "b", o.ID, "GHN", "T1")
	fxRequireCode(t, err, orders.ENOTFOUND)
	_, err = b.svc.CreateRefund(b.ctx, "b", o.ID, nil)
	fxRequireCode(t, err, orders.ENOTFOUND)

	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status, "shop b's calls must not touch shop a's order")
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.Empty(t, got.Shipments)
	require.Empty(t, b.refunds(t, o))
}

// TestServiceConcurrentSuccesses pays one order through 20 attempts at once: exactly
// one payment counts and every other one is refunded as a duplicate.
func TestServiceConcurrentSuccesses(t *testing.T) {
	t.Parallel()
	b := fxSetup(t)
	o := b.create(t, "a", fxInput())

	const n = 20
	results := make([]*orders.EventResult, n)
	errs := make([]error, n)
	// Every goroutine starts its attempt before any event lands: an attempt started
	// after the order is paid is refused, which would leave nothing to race.
	var ready, done sync.WaitGroup
	ready.Add(n)
	start := make(chan struct{})
	for i := range n {
		done.Go(func() {
			a, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "sandbox")
			if err == nil {
				err = b.svc.AttachSession(b.ctx, a, fmt.Sprintf("sess-%d", i))
			}
			ready.Done()
			if err != nil {
				errs[i] = err
				return
			}
			<-start
			results[i], errs[i] = b.svc.ApplyEvent(b.ctx, fxEvent(a, orders.EventSucceeded, fmt.Sprintf("evt-%d", i)))
		})
	}
	ready.Wait()
	close(start)
	done.Wait()

	paid, dups := 0, 0
	for i := range n {
		require.NoError(t, errs[i], "goroutine %d", i)
		require.False(t, results[i].Duplicate, "goroutine %d: each event ID is new", i)
		switch results[i].Outcome {
		case orders.OutcomeApplied:
			require.True(t, results[i].Paid)
			paid++
		case orders.OutcomeDuplicatePaid:
			dups++
		default:
			t.Fatalf("goroutine %d: outcome %q", i, results[i].Outcome)
		}
	}
	require.Equal(t, 1, paid)
	require.Equal(t, n-1, dups)

	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Len(t, got.Payments, n)
	refunded := map[string]bool{}
	for _, r := range b.refunds(t, o) {
		require.Equal(t, orders.RefundReasonDuplicate, r.Reason)
		require.NotEmpty(t, r.IdempotencyKey)
		refunded[r.PaymentID] = true
	}
	require.Len(t, refunded, n-1)
	real := 0
	for _, p := range got.Payments {
		if !p.Duplicate {
			real++
			require.False(t, refunded[p.ID], "the payment that counts is not refunded")
		} else {
			require.True(t, refunded[p.ID], "duplicate payment %s has no refund", p.ID)
		}
	}
	require.Equal(t, 1, real)
}

func TestServiceApplyEventMore(t *testing.T) {
	t.Parallel()

	t.Run("NoConfirmationWhenShopTurnedItOff", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "b", fxInput())
		require.Equal(t, "THB", o.Currency)
		b.pay(t, o)
		require.Empty(t, b.messages(t, o, orders.KindPaidConfirmation))
		require.Equal(t, orders.StatusPaid, b.reload(t, o).Status)
	})

	t.Run("FailedReplayQueuesOneMessage", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.attempt(t, o, "sess-1")
		require.False(t, b.apply(t, fxEvent(a, orders.EventFailed, "evt-1")).Duplicate)
		require.True(t, b.apply(t, fxEvent(a, orders.EventFailed, "evt-1")).Duplicate)
		require.Len(t, b.messages(t, o, orders.KindPaymentFailed), 1)
	})

	t.Run("FailureAfterSuccessIsIgnored", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.pay(t, o)
		res := b.apply(t, fxEvent(a, orders.EventFailed, "evt-late"))
		require.Equal(t, orders.OutcomeIgnored, res.Outcome)
		require.Equal(t, orders.StatusPaid, b.reload(t, o).Status)
		require.Empty(t, b.messages(t, o, orders.KindPaymentFailed))
	})

	t.Run("SuccessAfterFailureCounts", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.attempt(t, o, "sess-1")
		b.apply(t, fxEvent(a, orders.EventFailed, "evt-1"))
		res := b.apply(t, fxEvent(a, orders.EventSucceeded, "evt-2"))
		require.Equal(t, orders.OutcomeApplied, res.Outcome)
		require.True(t, res.Paid)
	})

	t.Run("SecondEventForSameMoneyIsIgnored", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.pay(t, o)
		res := b.apply(t, fxEvent(a, orders.EventSucceeded, "evt-other-id"))
		require.Equal(t, orders.OutcomeIgnored, res.Outcome)
		require.Len(t, b.reload(t, o).Payments, 1)
		require.Empty(t, b.refunds(t, o))
	})

	t.Run("LatePaymentOnCancelledOrderIsRefunded", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.attempt(t, o, "sess-1")
		_, err := b.svc.CancelOrder(b.ctx, "a", o.ID)
		require.NoError(t, err)
		res := b.apply(t, fxEvent(a, orders.EventSucceeded, "evt-1"))
		require.Equal(t, orders.OutcomeDuplicatePaid, res.Outcome)
		got := b.reload(t, o)
		require.Equal(t, orders.StatusCancelled, got.Status)
		rs := b.refunds(t, o)
		require.Len(t, rs, 1)
		require.Equal(t, o.Total, rs[0].Amount)
	})

	t.Run("OtherGatewaysSessionIsUnknown", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		a := b.attempt(t, o, "sess-1")
		ev := fxEvent(a, orders.EventSucceeded, "evt-1")
		ev.Gateway = "stripe"
		require.Equal(t, orders.OutcomeUnknownSession, b.apply(t, ev).Outcome)
		require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
	})
}

func TestServiceRefundsMore(t *testing.T) {
	t.Parallel()

	t.Run("PendingRefundsCountAgainstTheRest", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		b.pay(t, o)
		_, err := b.svc.CreateRefund(b.ctx, "a", o.ID, nil)
		require.NoError(t, err)
		// The first refund is still pending: nothing is left to refund.
		_, err = b.svc.CreateRefund(b.ctx, "a", o.ID, nil)
		fxRequireCode(t, err, orders.EINVALID)
		require.Len(t, b.refunds(t, o), 1)
	})

	t.Run("FailedRefundFreesTheAmount", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		b.pay(t, o)
		r, err := b.svc.CreateRefund(b.ctx, "a", o.ID, nil)
		require.NoError(t, err)
		require.NoError(t, b.svc.CompleteRefund(b.ctx, "a", r.ID, orders.RefundResult{Reason: "insufficient balance"}))
		got := b.reload(t, o)
		require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
		require.Zero(t, got.Payments[0].RefundedAmount)
		require.Empty(t, b.messages(t, o, orders.KindRefunded))

		r2, err := b.svc.CreateRefund(b.ctx, "a", o.ID, nil)
		require.NoError(t, err)
		require.Equal(t, o.Total, r2.Amount)
		require.NotEqual(t, r.IdempotencyKey, r2.IdempotencyKey)
	})

	t.Run("CancelPaidOrderRefundsTheRest", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		b.pay(t, o)
		part := int64(10_000)
		_, err := b.svc.CreateRefund(b.ctx, "a", o.ID, &part)
		require.NoError(t, err)
		got, err := b.svc.CancelOrder(b.ctx, "a", o.ID)
		require.NoError(t, err)
		require.Equal(t, orders.StatusCancelled, got.Status)
		var sum int64
		for _, r := range b.refunds(t, o) {
			sum += r.Amount
		}
		require.Equal(t, o.Total, sum, "cancelling refunds what is left, not the whole amount again")
		require.Len(t, b.messages(t, o, orders.KindCancelled), 1)
	})

	t.Run("RefundUnpaid", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		_, err := b.svc.CreateRefund(b.ctx, "a", o.ID, nil)
		fxRequireCode(t, err, orders.EPAYMENTREQUIRED)
		for _, bad := range []int64{0, -1, orders.MaxAmount + 1} {
			_, err := b.svc.CreateRefund(b.ctx, "a", o.ID, &bad)
			fxRequireCode(t, err, orders.EINVALID)
		}
	})

	t.Run("CompleteCashOnDelivery", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		in := fxInput()
		in.PaymentMethod = orders.MethodCOD
		o := b.create(t, "a", in)
		_, err := b.svc.CompleteOrder(b.ctx, "a", o.ID)
		fxRequireCode(t, err, orders.ECONFLICT)
		_, err = b.svc.CreateShipment(b.ctx, "a", o.ID, "GHN", "")
		require.NoError(t, err)
		got, err := b.svc.CompleteOrder(b.ctx, "a", o.ID)
		require.NoError(t, err)
		require.Equal(t, orders.StatusCompleted, got.Status)
		require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
		require.NotNil(t, got.PaidAt)
	})
}

// TestServiceTenantIsolationMore covers the calls that take an id of something other
// than an order: refunds and messages from another shop are not found either.
func TestServiceTenantIsolationMore(t *testing.T) {
	t.Parallel()
	b := fxSetup(t)
	o := b.create(t, "a", fxInput())
	b.pay(t, o)
	r, err := b.svc.CreateRefund(b.ctx, "a", o.ID, nil)
	require.NoError(t, err)

	err = b.svc.CompleteRefund(b.ctx, "b", r.ID, orders.RefundResult{Succeeded: true})
	fxRequireCode(t, err, orders.ENOTFOUND)
	require.Equal(t, orders.RefundPending, b.refunds(t, o)[0].Status)

	err = b.svc.ResendLink(b.ctx, "b", o.ID)
	fxRequireCode(t, err, orders.ENOTFOUND)
	_, err = b.svc.DeleteOrder(b.ctx, "b", o.ID)
	fxRequireCode(t, err, orders.ENOTFOUND)
	_, err = b.svc.CompleteOrder(b.ctx, "b", o.ID)
	fxRequireCode(t, err, orders.ENOTFOUND)

	card := b.messages(t, o, orders.KindOrderCard)
	require.Len(t, card, 1)
	err = b.svc.RecordDelivery(b.ctx, "b", card[0].ID, orders.MessageDelivery{Sent: true}, true)
	fxRequireCode(t, err, orders.ENOTFOUND)
	require.Equal(t, orders.MessageQueued, b.messages(t, o, orders.KindOrderCard)[0].Status)

	list, err := b.svc.ListOrders(b.ctx, "b", orders.OrderFilter{})
	require.NoError(t, err)
	require.Empty(t, list)
}

// FuzzServiceCreateOrderTotal checks that any item line either is refused as invalid
// or produces an order whose total is exactly quantity × price + shipping.
func FuzzServiceCreateOrderTotal(f *testing.F) {
	f.Add(int64(2), int64(150_000), int64(30_000))
	f.Add(int64(1_000_000), int64(900_000_000_000_000), int64(0))
	f.Add(int64(0), int64(1), int64(1))
	f.Add(int64(-1), int64(-1), int64(-1))
	f.Add(int64(1), orders.MaxAmount, int64(1))
	f.Add(int64(1), int64(0), int64(0))
	b := fxSetup(f)
	f.Fuzz(func(t *testing.T, qty, price, shipping int64) {
		in := fxInput()
		in.Items[0].Quantity, in.Items[0].UnitPrice, in.ShippingFee = qty, price, shipping
		o, err := b.svc.CreateOrder(b.ctx, "a", in)
		if err != nil {
			require.Equal(t, orders.EINVALID, orders.ErrorCode(err), "error: %v", err)
			return
		}
		require.Positive(t, qty)
		require.LessOrEqual(t, o.Total, orders.MaxAmount)
		require.Equal(t, qty*price+shipping, o.Total)
		require.LessOrEqual(t, price, orders.MaxAmount/qty, "quantity × price cannot have overflowed")
	})
}

// TestServiceConcurrentCreate creates orders from many goroutines at once: every code
// is handed out exactly once and codes stay consecutive.
func TestServiceConcurrentCreate(t *testing.T) {
	t.Parallel()
	b := fxSetup(t)
	const n = 20
	codes := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			o, err := b.svc.CreateOrder(b.ctx, "a", fxInput())
			if errs[i] = err; err == nil {
				codes[i] = o.Code
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		require.NoError(t, errs[i])
		require.False(t, seen[codes[i]], "code %s handed out twice", codes[i])
		seen[codes[i]] = true
	}
	for c := 1001; c < 1001+n; c++ {
		require.True(t, seen[fmt.Sprint(c)], "code %d missing", c)
	}
}

// TestServiceConcurrentReplay delivers one gateway event many times at once, as a
// gateway retrying a webhook does: it is applied exactly once.
func TestServiceConcurrentReplay(t *testing.T) {
	t.Parallel()
	b := fxSetup(t)
	o := b.create(t, "a", fxInput())
	a := b.attempt(t, o, "sess-1")
	const n = 10
	results := make([]*orders.EventResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = b.svc.ApplyEvent(b.ctx, fxEvent(a, orders.EventSucceeded, "evt-1"))
		})
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		require.NoError(t, errs[i])
		if !results[i].Duplicate {
			fresh++
			require.True(t, results[i].Paid)
		}
	}
	require.Equal(t, 1, fresh)
	got := b.reload(t, o)
	require.Len(t, got.Payments, 1)
	require.Empty(t, b.refunds(t, o))
	require.Len(t, b.messages(t, o, orders.KindPaidConfirmation), 1)
}

// TestServiceConcurrentRefunds asks for a full refund from many goroutines at once:
// the money goes back once.
func TestServiceConcurrentRefunds(t *testing.T) {
	t.Parallel()
	b := fxSetup(t)
	o := b.create(t, "a", fxInput())
	b.pay(t, o)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = b.svc.CreateRefund(b.ctx, "a", o.ID, nil)
		})
	}
	wg.Wait()
	ok := 0
	for i := range n {
		if errs[i] == nil {
			ok++
			continue
		}
		require.Equal(t, orders.EINVALID, orders.ErrorCode(errs[i]), "error: %v", errs[i])
	}
	require.Equal(t, 1, ok)
	rs := b.refunds(t, o)
	require.Len(t, rs, 1)
	require.Equal(t, o.Total, rs[0].Amount)
}

func TestServiceSessions(t *testing.T) {
	t.Parallel()

	t.Run("SameSessionIDInTwoShops", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		oa := b.create(t, "a", fxInput())
		ob := b.create(t, "b", fxInput())
		b.attempt(t, oa, "sess-1")
		ab := b.attempt(t, ob, "sess-1")
		res := b.apply(t, fxEvent(ab, orders.EventSucceeded, "evt-1"))
		require.Equal(t, orders.OutcomeApplied, res.Outcome)
		require.Equal(t, ob.ID, res.Order.ID, "shop b's event pays shop b's order")
		require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, oa).Status)
	})

	t.Run("SessionTakenByAnotherAttempt", func(t *testing.T) {
		t.Parallel()
		b := fxSetup(t)
		o := b.create(t, "a", fxInput())
		b.attempt(t, o, "sess-1")
		a2, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "sandbox")
		require.NoError(t, err)
		fxRequireCode(t, b.svc.AttachSession(b.ctx, a2, "sess-1"), orders.ECONFLICT)
	})
}

func TestServiceOrderRoundTrip(t *testing.T) {
	t.Parallel()
	b := fxSetup(t)
	in := fxInput()
	in.Items[0].Name = "  padded  "
	in.Currency = "vnd"
	in.Metadata = map[string]string{"ref": "chat-42"}
	o := b.create(t, "a", in)
	require.Equal(t, "padded", o.Items[0].Name, "names are trimmed")
	require.Equal(t, "VND", o.Currency, "currency codes are upper-cased")

	got := b.reload(t, o)
	require.Equal(t, o.Items, got.Items)
	require.Equal(t, o.Customer, got.Customer)
	require.Equal(t, o.Metadata, got.Metadata)
	require.Equal(t, o.ConversationID, got.ConversationID)
	require.True(t, o.CreatedAt.Equal(got.CreatedAt), "%v != %v", o.CreatedAt, got.CreatedAt)
	require.Nil(t, got.PaidAt)

	b.pay(t, o)
	paid, err := b.svc.ListOrders(b.ctx, "a", orders.OrderFilter{Status: orders.StatusPaid})
	require.NoError(t, err)
	require.Len(t, paid, 1)
	require.NotNil(t, paid[0].PaidAt)
	// A listed order carries only the sealed token; its link still opens.
	require.Equal(t, b.linkURL(t, o), b.linkURL(t, paid[0]))
	waiting, err := b.svc.ListOrders(b.ctx, "a", orders.OrderFilter{Status: orders.StatusAwaitingPayment})
	require.NoError(t, err)
	require.Empty(t, waiting)

	_, err = b.svc.ListOrders(b.ctx, "a", orders.OrderFilter{Status: "lost"})
	fxRequireCode(t, err, orders.EINVALID)
	_, err = b.svc.ListOrders(b.ctx, "a", orders.OrderFilter{Limit: 201})
	fxRequireCode(t, err, orders.EINVALID)
}
