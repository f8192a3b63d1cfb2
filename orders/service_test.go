package orders_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/orders/storetest"
	"github.com/chatpay/chatpay/templates"
)

const (
	publicURL = "https://pay.example"
	shopA     = "shop-a"
	shopB     = "shop-b"
	sandbox   = "sandbox"
)

// bundle is a Service over a fresh SQLite store with two shops that differ where the
// rules depend on the shop: A (VND, staff chat, paid confirmations on) and B (THB, no
// staff chat, paid confirmations off).
type bundle struct {
	ctx   context.Context
	svc   *orders.Service
	store *sqlite.Store
	key   []byte
	now   time.Time
	a, b  *orders.Shop
	tpl   *templates.Templates
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	require.NoError(t, st.Migrate(ctx))
	tpl, err := templates.New()
	require.NoError(t, err)

	b := &bundle{
		ctx:   ctx,
		store: st,
		tpl:   tpl,
		key:   []byte(strings.Repeat("k", orders.LinkKeyLen)),
		now:   time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC),
		a: &orders.Shop{
			ID: shopA, Name: "Shop A", Currency: "VND", Locale: "en",
			SendPaidConfirmation: true, Gateways: []string{sandbox}, StaffChat: true,
		},
		b: &orders.Shop{
			ID: shopB, Name: "Shop B", Currency: "THB", Locale: "en",
			SendPaidConfirmation: false, Gateways: []string{sandbox, "omise"},
		},
	}
	b.svc = b.service(t, b.key)
	return b
}

// service returns another Service over the same store and shops, sealing links with key,
// its configuration changed by edits.
func (b *bundle) service(t *testing.T, key []byte, edits ...func(*orders.Config)) *orders.Service {
	t.Helper()
	cfg := orders.Config{
		Shops:     []*orders.Shop{b.a, b.b},
		Store:     b.store,
		Renderer:  bot.Renderer{Templates: b.tpl},
		PublicURL: publicURL + "/",
		LinkKey:   key,
		Now:       func() time.Time { return b.now },
	}
	for _, edit := range edits {
		edit(&cfg)
	}
	svc, err := orders.NewService(cfg)
	require.NoError(t, err)
	return svc
}

// input is a valid online order for a webchat customer: 2 × 150,000 + 30,000 shipping.
func input() orders.CreateOrderInput {
	return orders.CreateOrderInput{
		Customer:    orders.Customer{Channel: orders.ChannelWebchat, ExternalID: "visitor-42", Name: "Lan", Phone: "0901234567"},
		Items:       []orders.Item{{Name: "Áo thun", Quantity: 2, UnitPrice: 150000}},
		ShippingFee: 30000,
		Metadata:    map[string]string{"branch": "hcm"},
	}
}

func (b *bundle) create(t *testing.T, shopID string, in orders.CreateOrderInput) *orders.Order {
	t.Helper()
	o, err := b.svc.CreateOrder(b.ctx, shopID, in)
	require.NoError(t, err)
	return o
}

// reload reads the order back from the store.
func (b *bundle) reload(t *testing.T, o *orders.Order) *orders.Order {
	t.Helper()
	got, err := b.svc.Order(b.ctx, o.ShopID, o.ID)
	require.NoError(t, err)
	return got
}

// attempt starts an attempt on the order's link and attaches a gateway session to it.
func (b *bundle) attempt(t *testing.T, o *orders.Order) *orders.Attempt {
	t.Helper()
	a, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, sandbox)
	require.NoError(t, err)
	require.NoError(t, b.svc.AttachSession(b.ctx, a, "cs_"+a.ID))
	return a
}

// event is a gateway event of type typ for the attempt's session, for its exact amount.
func event(a *orders.Attempt, typ, eventID string) *orders.GatewayEvent {
	return &orders.GatewayEvent{
		ShopID: a.ShopID, Gateway: a.Gateway, EventID: eventID, Type: typ,
		SessionID: a.SessionID, PaymentRef: "pi_" + eventID,
		Amount: a.Amount, Currency: a.Currency, Payload: []byte(`{}`),
	}
}

func (b *bundle) apply(t *testing.T, ev *orders.GatewayEvent) *orders.EventResult {
	t.Helper()
	res, err := b.svc.ApplyEvent(b.ctx, ev)
	require.NoError(t, err)
	return res
}

// pay creates an attempt and applies a successful event for it.
func (b *bundle) pay(t *testing.T, o *orders.Order) *orders.Attempt {
	t.Helper()
	a := b.attempt(t, o)
	res := b.apply(t, event(a, orders.EventSucceeded, "evt_pay_"+a.ID))
	require.True(t, res.Paid)
	return a
}

func (b *bundle) messages(t *testing.T, o *orders.Order) []*orders.Message {
	t.Helper()
	ms, err := b.store.OrderMessages(b.ctx, o.ShopID, o.ID)
	require.NoError(t, err)
	return ms
}

func kinds(ms []*orders.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Kind
	}
	return out
}

// notices returns the shop's notices, oldest first.
func (b *bundle) notices(t *testing.T, shopID string) []*orders.Notice {
	t.Helper()
	ns, err := b.store.Notices(b.ctx, shopID, 100)
	require.NoError(t, err)
	// The store lists newest first; IDs are time-ordered, so ties on the fixed clock
	// keep their order.
	slices.Reverse(ns)
	return ns
}

func noticeKinds(ns []*orders.Notice) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Kind
	}
	return out
}

func (b *bundle) refunds(t *testing.T, o *orders.Order) []*orders.Refund {
	t.Helper()
	rs, err := b.store.OrderRefunds(b.ctx, o.ShopID, o.ID)
	require.NoError(t, err)
	return rs
}

// jobs returns the River jobs committed so far, oldest first, decoded.
func (b *bundle) jobs(t *testing.T) []orders.Job {
	t.Helper()
	rows, err := b.store.Writer().QueryContext(b.ctx, `SELECT kind, json(args) FROM river_job ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []orders.Job
	for rows.Next() {
		var kind, args string
		require.NoError(t, rows.Scan(&kind, &args))
		j, err := storetest.DecodeJob(kind, []byte(args))
		require.NoError(t, err)
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

// staffMessages returns the messages to the shop's staff, oldest first.
func (b *bundle) staffMessages(t *testing.T) []*orders.Message {
	t.Helper()
	rows, err := b.store.Writer().QueryContext(b.ctx, `SELECT id, shop_id FROM messages WHERE direction = 'staff' ORDER BY created_at, id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []*orders.Message
	for rows.Next() {
		var id, shop string
		require.NoError(t, rows.Scan(&id, &shop))
		m, err := b.store.Message(b.ctx, shop, id)
		require.NoError(t, err)
		out = append(out, m)
	}
	require.NoError(t, rows.Err())
	return out
}

// snapshot counts the rows of every table the service writes, so a test can show that
// a rejected call or a replay changed nothing at all.
func (b *bundle) snapshot(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{
		"order_codes", "conversations", "orders", "payment_links", "attempts", "payments",
		"refunds", "shipments", "messages", "notices", "gateway_events", "river_job",
	} {
		var n int
		require.NoError(t, b.store.Writer().QueryRowContext(b.ctx, `SELECT count(*) FROM `+table).Scan(&n))
		out[table] = n
	}
	// Updates that add no row still change these.
	var sum int
	require.NoError(t, b.store.Writer().QueryRowContext(b.ctx,
		`SELECT coalesce(sum(version), 0) FROM orders`).Scan(&sum))
	out["orders.version"] = sum
	require.NoError(t, b.store.Writer().QueryRowContext(b.ctx,
		`SELECT count(*) FROM refunds WHERE status = 'pending'`).Scan(&sum))
	out["refunds.pending"] = sum
	require.NoError(t, b.store.Writer().QueryRowContext(b.ctx,
		`SELECT coalesce(sum(refunded_amount), 0) FROM payments`).Scan(&sum))
	out["payments.refunded_amount"] = sum
	return out
}

func requireCode(t *testing.T, err error, code string) *orders.Error {
	t.Helper()
	require.Error(t, err)
	var e *orders.Error
	require.True(t, errors.As(err, &e), "want an *orders.Error, got %T: %v", err, err)
	require.Equal(t, code, e.Code, "error: %v", err)
	require.NotEmpty(t, e.Message)
	return e
}

func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e := requireCode(t, err, orders.EINVALID)
	require.Equal(t, field, e.Field, "error: %v", err)
	require.True(t, strings.HasPrefix(orders.ErrorMessage(err), field+": "), orders.ErrorMessage(err))
}

func requireButton(t *testing.T, m *orders.Message, label, url string) {
	t.Helper()
	require.Equal(t, []orders.Button{{Label: label, URL: url}}, m.Buttons, "%s buttons", m.Kind)
}

func TestCreateOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)

	o := b.create(t, shopA, input())
	require.Equal(t, "1001", o.Code)
	require.Equal(t, shopA, o.ShopID)
	require.Equal(t, orders.StatusAwaitingPayment, o.Status)
	require.Equal(t, orders.PaymentUnpaid, o.PaymentStatus)
	require.Equal(t, orders.MethodOnline, o.PaymentMethod)
	require.Equal(t, "VND", o.Currency, "the shop's currency is the default")
	require.Equal(t, int64(330000), o.Total)
	require.Equal(t, b.now.Truncate(time.Microsecond), o.CreatedAt)
	require.Nil(t, o.PaidAt)

	// The link: a 22-character token that finds the order and is part of the URL.
	require.NotNil(t, o.Link)
	require.Len(t, o.Link.Token, 22)
	require.True(t, orders.ValidLinkToken(o.Link.Token))
	require.True(t, o.LinkActive())
	url, err := b.svc.LinkURL(o)
	require.NoError(t, err)
	require.Equal(t, publicURL+"/pay/"+o.Link.Token, url)
	byToken, err := b.svc.OrderByToken(b.ctx, o.Link.Token)
	require.NoError(t, err)
	require.Equal(t, o.ID, byToken.ID)
	require.Equal(t, o.Link.Token, byToken.Link.Token)

	// What is stored is what was asked for.
	got := b.reload(t, o)
	require.Equal(t, input().Items, got.Items)
	require.Equal(t, input().Customer, got.Customer)
	require.Equal(t, map[string]string{"branch": "hcm"}, got.Metadata)
	require.Equal(t, int64(30000), got.ShippingFee)
	require.Equal(t, int64(330000), got.Total)
	require.Equal(t, o.CreatedAt, got.CreatedAt)
	require.Empty(t, got.Link.Token, "the plain token is never stored")

	// The customer's conversation gets the order card with a Pay now button to the link.
	require.NotEmpty(t, o.ConversationID)
	conv, err := b.store.Conversation(b.ctx, shopA, o.ConversationID)
	require.NoError(t, err)
	require.Equal(t, orders.ChannelWebchat, conv.Channel)
	require.Equal(t, "visitor-42", conv.ExternalID)
	ms := b.messages(t, o)
	require.Equal(t, []string{orders.KindOrderCard}, kinds(ms))
	card := ms[0]
	require.Equal(t, orders.DirectionOut, card.Direction)
	require.Equal(t, orders.MessageQueued, card.Status)
	require.Equal(t, o.ConversationID, card.ConversationID)
	requireButton(t, card, "Pay now", url)
	require.Contains(t, card.Text, "Order #1001")
	require.Contains(t, card.Text, "₫330,000")
	require.Equal(t, []orders.Job{orders.DeliverMessage{ShopID: shopA, MessageID: card.ID}}, b.jobs(t))
	require.Empty(t, b.notices(t, shopA))

	// The same customer's next order goes to the same conversation.
	o2 := b.create(t, shopA, input())
	require.Equal(t, o.ConversationID, o2.ConversationID)
	require.NotEqual(t, o.Link.Token, o2.Link.Token)
}

func TestCreateOrderCodesPerShop(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var codes []string
	for _, shop := range []string{shopA, shopA, shopB, shopA, shopB} {
		codes = append(codes, b.create(t, shop, input()).Code)
	}
	require.Equal(t, []string{"1001", "1002", "1001", "1003", "1002"}, codes)

	// Each shop reads its own order by the shared code.
	a, err := b.store.OrderByCode(b.ctx, shopA, "1001")
	require.NoError(t, err)
	require.Equal(t, shopA, a.ShopID)
	bo, err := b.store.OrderByCode(b.ctx, shopB, "1001")
	require.NoError(t, err)
	require.Equal(t, shopB, bo.ShopID)
	require.NotEqual(t, a.ID, bo.ID)
}

func TestCreateOrderCashOnDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.PaymentMethod = orders.MethodCOD
	o := b.create(t, shopA, in)
	require.Equal(t, orders.MethodCOD, o.PaymentMethod)
	require.Nil(t, o.Link)
	require.False(t, o.LinkActive())
	url, err := b.svc.LinkURL(o)
	require.NoError(t, err)
	require.Empty(t, url)
	require.Nil(t, b.reload(t, o).Link)
	require.Empty(t, b.messages(t, o), "no card to pay")
	require.Empty(t, b.jobs(t))

	// Cash on delivery may be free: nothing is collected online.
	in = input()
	in.PaymentMethod = orders.MethodCOD
	in.Items[0].UnitPrice, in.ShippingFee = 0, 0
	require.Equal(t, int64(0), b.create(t, shopA, in).Total)
}

func TestCreateOrderWithoutChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.Customer = orders.Customer{Name: "Walk-in"}
	o := b.create(t, shopA, in)
	require.Empty(t, o.ConversationID)
	require.NotNil(t, o.Link, "the caller gets the link")
	require.Empty(t, b.messages(t, o))
	require.Empty(t, b.jobs(t))
	require.Equal(t, 0, b.snapshot(t)["conversations"])
}

func TestCreateOrderNormalises(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.Currency = "thb"
	in.Items = []orders.Item{{Name: "  Tea  ", Quantity: 1, UnitPrice: 12350}}
	in.Metadata = nil
	o := b.create(t, shopA, in)
	require.Equal(t, "THB", o.Currency)
	require.Equal(t, "Tea", b.reload(t, o).Items[0].Name)
	require.NotNil(t, b.reload(t, o).Metadata)
	require.Contains(t, b.messages(t, o)[0].Text, "฿423.50", "THB has two decimals")

	// The largest amounts accepted are accepted exactly.
	in = input()
	in.Items = []orders.Item{{Name: "Gold", Quantity: 1_000_000, UnitPrice: orders.MaxAmount / 1_000_000}}
	in.ShippingFee = 0
	require.Equal(t, orders.MaxAmount, b.create(t, shopA, in).Total)
	in = input()
	in.Metadata = map[string]string{}
	for i := range 20 {
		in.Metadata[fmt.Sprintf("key_%d.x-y", i)] = strings.Repeat("v", 500)
	}
	b.create(t, shopA, in)
}

func TestCreateOrderInvalid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	item := func(name string, q, p int64) orders.Item { return orders.Item{Name: name, Quantity: q, UnitPrice: p} }
	manyItems := make([]orders.Item, 101)
	for i := range manyItems {
		manyItems[i] = item("x", 1, 1)
	}
	manyKeys := map[string]string{}
	for i := range 21 {
		manyKeys[fmt.Sprintf("k%d", i)] = "v"
	}
	for _, tc := range []struct {
		name  string
		edit  func(in *orders.CreateOrderInput)
		field string
	}{
		{"no items", func(in *orders.CreateOrderInput) { in.Items = nil }, "items"},
		{"too many items", func(in *orders.CreateOrderInput) { in.Items = manyItems }, "items"},
		{"zero quantity", func(in *orders.CreateOrderInput) { in.Items[0].Quantity = 0 }, "items[0].quantity"},
		{"negative quantity", func(in *orders.CreateOrderInput) {
			in.Items = append(in.Items, item("b", -1, 10))
		}, "items[1].quantity"},
		{"huge quantity", func(in *orders.CreateOrderInput) { in.Items[0].Quantity = 1_000_001 }, "items[0].quantity"},
		{"negative price", func(in *orders.CreateOrderInput) {
			in.Items = append(in.Items, item("b", 1, -1))
		}, "items[1].unit_price"},
		{"price past max", func(in *orders.CreateOrderInput) { in.Items[0].UnitPrice = orders.MaxAmount + 1 }, "items[0].unit_price"},
		{"empty name", func(in *orders.CreateOrderInput) { in.Items[0].Name = "" }, "items[0].name"},
		{"blank name", func(in *orders.CreateOrderInput) { in.Items[0].Name = " \t\n" }, "items[0].name"},
		{"long name", func(in *orders.CreateOrderInput) { in.Items[0].Name = strings.Repeat("é", 201) }, "items[0].name"},
		{"invalid utf-8 name", func(in *orders.CreateOrderInput) { in.Items[0].Name = "a\xffb" }, "items[0].name"},
		{"unknown currency", func(in *orders.CreateOrderInput) { in.Currency = "XXX" }, "currency"},
		{"currency not a code", func(in *orders.CreateOrderInput) { in.Currency = "dong" }, "currency"},
		{"line overflows int64", func(in *orders.CreateOrderInput) {
			in.Items[0] = item("a", 1_000_000, orders.MaxAmount)
		}, "items[0]"},
		{"line past max", func(in *orders.CreateOrderInput) {
			in.Items[0] = item("a", 2, orders.MaxAmount/2+1)
		}, "items[0]"},
		{"total past max", func(in *orders.CreateOrderInput) {
			in.Items = []orders.Item{item("a", 1, orders.MaxAmount), item("b", 1, 1)}
		}, "items"},
		{"shipping pushes total past max", func(in *orders.CreateOrderInput) {
			in.Items = []orders.Item{item("a", 1, orders.MaxAmount)}
			in.ShippingFee = 1
		}, "shipping_fee"},
		{"negative shipping", func(in *orders.CreateOrderInput) { in.ShippingFee = -1 }, "shipping_fee"},
		{"zero total online", func(in *orders.CreateOrderInput) {
			in.Items[0].UnitPrice, in.ShippingFee = 0, 0
		}, "items"},
		{"too many metadata keys", func(in *orders.CreateOrderInput) { in.Metadata = manyKeys }, "metadata"},
		{"metadata key with space", func(in *orders.CreateOrderInput) { in.Metadata = map[string]string{"a b": "v"} }, "metadata"},
		{"empty metadata key", func(in *orders.CreateOrderInput) { in.Metadata = map[string]string{"": "v"} }, "metadata"},
		{"long metadata key", func(in *orders.CreateOrderInput) {
			in.Metadata = map[string]string{strings.Repeat("k", 41): "v"}
		}, "metadata"},
		{"long metadata value", func(in *orders.CreateOrderInput) {
			in.Metadata = map[string]string{"note": strings.Repeat("v", 501)}
		}, "metadata.note"},
		{"unknown channel", func(in *orders.CreateOrderInput) { in.Customer.Channel = "whatsapp" }, "customer.channel"},
		{"external id without channel", func(in *orders.CreateOrderInput) { in.Customer.Channel = "" }, "customer.channel"},
		{"channel without external id", func(in *orders.CreateOrderInput) { in.Customer.ExternalID = " " }, "customer.external_id"},
		{"telegram chat id not a number", func(in *orders.CreateOrderInput) {
			in.Customer.Channel = orders.ChannelTelegram
		}, "customer.external_id"},
		{"long customer name", func(in *orders.CreateOrderInput) { in.Customer.Name = strings.Repeat("n", 201) }, "customer.name"},
		{"bad phone", func(in *orders.CreateOrderInput) { in.Customer.Phone = "\xff" }, "customer.phone"},
		{"bad payment method", func(in *orders.CreateOrderInput) { in.PaymentMethod = "card" }, "payment_method"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := input()
			tc.edit(&in)
			o, err := b.svc.CreateOrder(b.ctx, shopA, in)
			requireInvalid(t, err, tc.field)
			require.Nil(t, o)
		})
	}

	_, err := b.svc.CreateOrder(b.ctx, "shop-none", input())
	requireCode(t, err, orders.ENOTFOUND)

	// Nothing was stored, no job enqueued, and no order code used up.
	snap := b.snapshot(t)
	for table, n := range snap {
		require.Zero(t, n, table)
	}
	require.Equal(t, "1001", b.create(t, shopA, input()).Code)
}

func TestApplyEventSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	url, err := b.svc.LinkURL(o)
	require.NoError(t, err)
	a := b.attempt(t, o)
	require.Equal(t, int64(330000), a.Amount)

	ev := event(a, orders.EventSucceeded, "evt_1")
	res := b.apply(t, ev)
	require.False(t, res.Duplicate)
	require.True(t, res.Paid)
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	require.Equal(t, o.ID, res.Order.ID)

	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.NotNil(t, got.PaidAt)
	require.Equal(t, b.now.Truncate(time.Microsecond), *got.PaidAt)
	require.False(t, got.LinkActive())
	require.Len(t, got.Payments, 1)
	p := got.Payments[0]
	require.Equal(t, int64(330000), p.Amount)
	require.Equal(t, "VND", p.Currency)
	require.Equal(t, a.ID, p.AttemptID)
	require.Equal(t, "pi_evt_1", p.GatewayRef)
	require.False(t, p.Duplicate)
	att, err := b.store.Attempt(b.ctx, shopA, a.ID)
	require.NoError(t, err)
	require.Equal(t, orders.AttemptSucceeded, att.Status)

	ms := b.messages(t, got)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, kinds(ms))
	require.Equal(t, "You have successfully paid for order #1001.", ms[1].Text)
	require.Equal(t, orders.MessageQueued, ms[1].Status)
	ns := b.notices(t, shopA)
	require.Equal(t, []string{orders.NoticePaid}, noticeKinds(ns))
	require.Equal(t, o.ID, ns[0].OrderID)
	require.Contains(t, ns[0].Text, "#1001")
	// Shop A has a staff chat: the notice reaches staff in the customer's topic, as a
	// staff message with the notice's text.
	staff := b.staffMessages(t)
	require.Len(t, staff, 1)
	require.Equal(t, ns[0].Text, staff[0].Text)
	require.Equal(t, "notice_"+orders.NoticePaid, staff[0].Kind)
	require.Equal(t, got.ConversationID, staff[0].ConversationID)
	require.Empty(t, staff[0].OrderID, "staff messages are not listed with the customer's")
	require.Equal(t, []orders.Job{
		orders.DeliverMessage{ShopID: shopA, MessageID: ms[0].ID},
		orders.RefreshCard{ShopID: shopA, OrderID: o.ID},
		orders.DeliverMessage{ShopID: shopA, MessageID: ms[1].ID},
		orders.DeliverMessage{ShopID: shopA, MessageID: staff[0].ID},
	}, b.jobs(t))

	// The link now shows a paid order and takes no more attempts.
	byToken, err := b.svc.OrderByToken(b.ctx, o.Link.Token)
	require.NoError(t, err)
	require.Equal(t, orders.StatusPaid, byToken.Status)
	_, _, err = b.svc.StartAttempt(b.ctx, o.Link.Token, sandbox)
	requireCode(t, err, orders.ECONFLICT)
	require.Equal(t, url, publicURL+"/pay/"+o.Link.Token)

	// A replay of the same event changes nothing.
	before := b.snapshot(t)
	replay := event(a, orders.EventSucceeded, "evt_1")
	res = b.apply(t, replay)
	require.True(t, res.Duplicate)
	require.False(t, res.Paid)
	require.Equal(t, before, b.snapshot(t))
	require.Equal(t, got, b.reload(t, o))
}

func TestApplyEventShipOnPayment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.ShipOnPayment = true
	o := b.create(t, shopA, in)
	b.pay(t, o)
	ns := b.notices(t, shopA)
	require.Equal(t, []string{orders.NoticeReadyToShip}, noticeKinds(ns))
	require.Contains(t, ns[0].Text, "ready to ship")
	require.Equal(t, orders.StatusPaid, b.reload(t, o).Status, "staff still ship it")
}

func TestApplyEventWithoutPaidConfirmation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopB, input())
	b.pay(t, o)
	require.Equal(t, orders.StatusPaid, b.reload(t, o).Status)
	require.Equal(t, []string{orders.KindOrderCard}, kinds(b.messages(t, o)))
	// Shop B has no staff chat: the notice is stored but there is nothing to deliver;
	// the card in the chat is refreshed to show the order paid.
	require.Equal(t, []string{orders.NoticePaid}, noticeKinds(b.notices(t, shopB)))
	ms := b.messages(t, o)
	require.Equal(t, []orders.Job{
		orders.DeliverMessage{ShopID: shopB, MessageID: ms[0].ID},
		orders.RefreshCard{ShopID: shopB, OrderID: o.ID},
	}, b.jobs(t))
	// The card's edit waits behind messages when both are due.
	var msgPriority, cardPriority int
	require.NoError(t, b.store.Writer().QueryRowContext(b.ctx, `SELECT priority FROM river_job WHERE kind = 'deliver_message'`).Scan(&msgPriority))
	require.NoError(t, b.store.Writer().QueryRowContext(b.ctx, `SELECT priority FROM river_job WHERE kind = 'refresh_card'`).Scan(&cardPriority))
	require.Equal(t, 1, msgPriority)
	require.Equal(t, 4, cardPriority)
}

func TestApplyEventFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	url, err := b.svc.LinkURL(o)
	require.NoError(t, err)
	a := b.attempt(t, o)

	ev := event(a, orders.EventFailed, "evt_fail")
	ev.Reason = "card declined"
	res := b.apply(t, ev)
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	require.False(t, res.Paid)

	got := b.reload(t, o)
	require.Equal(t, orders.StatusAwaitingPayment, got.Status)
	require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
	require.True(t, got.LinkActive())
	require.Empty(t, got.Payments)
	att, err := b.store.Attempt(b.ctx, shopA, a.ID)
	require.NoError(t, err)
	require.Equal(t, orders.AttemptFailed, att.Status)
	require.Equal(t, "card declined", att.FailureReason)

	ms := b.messages(t, o)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaymentFailed}, kinds(ms))
	requireButton(t, ms[1], "Pay again", url)
	require.Equal(t, ms[0].Buttons[0].URL, ms[1].Buttons[0].URL, "the same link")
	require.Contains(t, ms[1].Text, "card declined")
	require.Equal(t, []string{orders.NoticePaymentFailed}, noticeKinds(b.notices(t, shopA)))

	// Pay again: a fresh attempt on the same link pays the order.
	b.pay(t, o)
	require.Equal(t, orders.StatusPaid, b.reload(t, o).Status)
}

func TestApplyEventFailureAfterSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	// The customer opened two checkouts, abandoned the second and paid the first.
	a1, a2 := b.attempt(t, o), b.attempt(t, o)
	require.True(t, b.apply(t, event(a1, orders.EventSucceeded, "evt_paid")).Paid)
	before := b.snapshot(t)

	// A late failure for the paid attempt (out-of-order delivery): success wins.
	res := b.apply(t, event(a1, orders.EventFailed, "evt_late_fail"))
	require.Equal(t, orders.OutcomeIgnored, res.Outcome)
	require.False(t, res.Duplicate)
	after := b.snapshot(t)
	require.Equal(t, before["gateway_events"]+1, after["gateway_events"], "the event is recorded")
	after["gateway_events"] = before["gateway_events"]
	require.Equal(t, before, after)
	att, err := b.store.Attempt(b.ctx, shopA, a1.ID)
	require.NoError(t, err)
	require.Equal(t, orders.AttemptSucceeded, att.Status)

	// The abandoned checkout expires: its attempt fails, but the customer, who has
	// paid, is not asked to pay again and the staff are not told of a failure.
	res = b.apply(t, event(a2, orders.EventFailed, "evt_expired"))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	att, err = b.store.Attempt(b.ctx, shopA, a2.ID)
	require.NoError(t, err)
	require.Equal(t, orders.AttemptFailed, att.Status)

	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, kinds(b.messages(t, o)))
	require.Equal(t, []string{orders.NoticePaid}, noticeKinds(b.notices(t, shopA)))
	require.Equal(t, before["river_job"], b.snapshot(t)["river_job"])
}

func TestApplyEventPending(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	a := b.attempt(t, o)
	res := b.apply(t, event(a, orders.EventPending, "evt_pending"))
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	att, err := b.store.Attempt(b.ctx, shopA, a.ID)
	require.NoError(t, err)
	require.Equal(t, orders.AttemptPending, att.Status)
	require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)

	b.apply(t, event(a, orders.EventSucceeded, "evt_settled"))
	require.Equal(t, orders.StatusPaid, b.reload(t, o).Status)
}

func TestApplyEventMismatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(ev *orders.GatewayEvent)
	}{
		{"amount", func(ev *orders.GatewayEvent) { ev.Amount-- }},
		{"more", func(ev *orders.GatewayEvent) { ev.Amount *= 10 }},
		{"currency", func(ev *orders.GatewayEvent) { ev.Currency = "USD" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			o := b.create(t, shopA, input())
			a := b.attempt(t, o)
			ev := event(a, orders.EventSucceeded, "evt_mismatch")
			tc.edit(ev)
			res := b.apply(t, ev)
			require.Equal(t, orders.OutcomeAmountMismatch, res.Outcome)
			require.False(t, res.Paid)

			got := b.reload(t, o)
			require.Equal(t, orders.StatusAwaitingPayment, got.Status)
			require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
			require.Empty(t, got.Payments)
			require.Equal(t, []string{orders.KindOrderCard}, kinds(b.messages(t, o)))
			ns := b.notices(t, shopA)
			require.Equal(t, []string{orders.NoticeAmountMismatch}, noticeKinds(ns))
			require.Equal(t, o.ID, ns[0].OrderID)
			require.Contains(t, ns[0].Text, "NOT marked as paid")

			// The right money for the same session still pays the order.
			b.apply(t, event(a, orders.EventSucceeded, "evt_right"))
			require.Equal(t, orders.StatusPaid, b.reload(t, o).Status)
		})
	}
}

func TestApplyEventCurrencyCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	a := b.attempt(t, o)
	ev := event(a, orders.EventSucceeded, "evt_lower")
	ev.Currency = "vnd"
	require.True(t, b.apply(t, ev).Paid)
	require.Equal(t, "VND", b.reload(t, o).Payments[0].Currency)
}

func TestApplyEventUnknownSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	res := b.apply(t, &orders.GatewayEvent{
		ShopID: shopA, Gateway: sandbox, EventID: "evt_x", Type: orders.EventSucceeded,
		SessionID: "cs_nobody", Amount: 5000, Currency: "VND",
	})
	require.Equal(t, orders.OutcomeUnknownSession, res.Outcome)
	require.Nil(t, res.Order)
	require.False(t, res.Paid)
	ns := b.notices(t, shopA)
	require.Equal(t, []string{orders.NoticeUnknownSession}, noticeKinds(ns))
	require.Empty(t, ns[0].OrderID)
	require.Contains(t, ns[0].Text, "cs_nobody")
	require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)

	// A session of the shop's order, but on a gateway it was not created on.
	a := b.attempt(t, o)
	ev := event(a, orders.EventSucceeded, "evt_other_gateway")
	ev.Gateway = "omise"
	require.Equal(t, orders.OutcomeUnknownSession, b.apply(t, ev).Outcome)
	require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)

	_, err := b.svc.ApplyEvent(b.ctx, &orders.GatewayEvent{ShopID: "shop-none", Gateway: sandbox, EventID: "e", Type: orders.EventSucceeded})
	requireCode(t, err, orders.ENOTFOUND)
}

func TestApplyEventOtherShopsSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopB, input())
	a := b.attempt(t, o)

	// Shop A's webhook (its secret, its URL) carries shop B's session: for A it is
	// nobody's session, and B's order is untouched.
	ev := event(a, orders.EventSucceeded, "evt_cross")
	ev.ShopID = shopA
	res := b.apply(t, ev)
	require.Equal(t, orders.OutcomeUnknownSession, res.Outcome)
	require.Nil(t, res.Order)
	require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
	require.Equal(t, []string{orders.NoticeUnknownSession}, noticeKinds(b.notices(t, shopA)))
	require.Empty(t, b.notices(t, shopB))

	// The same event id is then still fresh for shop B: events are unique per shop.
	ev = event(a, orders.EventSucceeded, "evt_cross")
	res = b.apply(t, ev)
	require.False(t, res.Duplicate)
	require.True(t, res.Paid)
}

func TestApplyEventUnknownType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	a := b.attempt(t, o)
	before := b.snapshot(t)
	res := b.apply(t, event(a, "charge.dispute.created", "evt_other"))
	require.Equal(t, orders.OutcomeIgnored, res.Outcome)
	require.False(t, res.Duplicate)
	require.Nil(t, res.Order)
	after := b.snapshot(t)
	require.Equal(t, before["gateway_events"]+1, after["gateway_events"], "recorded all the same")
	after["gateway_events"] = before["gateway_events"]
	require.Equal(t, before, after)
	require.Equal(t, orders.StatusAwaitingPayment, b.reload(t, o).Status)
}

func TestApplyEventDuplicatePayment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	// The customer opened two checkouts and paid both.
	a1 := b.attempt(t, o)
	a2 := b.attempt(t, o)
	require.NotEqual(t, a1.ID, a2.ID)
	require.True(t, b.apply(t, event(a1, orders.EventSucceeded, "evt_1")).Paid)

	res := b.apply(t, event(a2, orders.EventSucceeded, "evt_2"))
	require.Equal(t, orders.OutcomeDuplicatePaid, res.Outcome)
	require.False(t, res.Paid)

	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.Len(t, got.Payments, 2)
	var dup *orders.Payment
	for _, p := range got.Payments {
		if p.Duplicate {
			require.Nil(t, dup, "one duplicate")
			dup = p
		}
	}
	require.NotNil(t, dup)
	require.Equal(t, a2.ID, dup.AttemptID)

	rs := b.refunds(t, o)
	require.Len(t, rs, 1)
	r := rs[0]
	require.Equal(t, dup.ID, r.PaymentID)
	require.Equal(t, orders.RefundReasonDuplicate, r.Reason)
	require.Equal(t, orders.RefundPending, r.Status)
	require.Equal(t, int64(330000), r.Amount)
	require.Equal(t, "VND", r.Currency)
	// The key is a function of the refund alone: every read of it, and so every retry
	// of the refund job, sends the gateway the same key.
	require.Equal(t, "chatpay-refund-"+r.ID, r.IdempotencyKey)
	again, err := b.store.Refund(b.ctx, shopA, r.ID)
	require.NoError(t, err)
	require.Equal(t, r.IdempotencyKey, again.IdempotencyKey)

	require.Equal(t, []string{orders.NoticePaid, orders.NoticeDuplicatePayment}, noticeKinds(b.notices(t, shopA)))
	require.Contains(t, b.jobs(t), orders.Job(orders.ProcessRefund{ShopID: shopA, RefundID: r.ID}))
	// The customer got exactly one confirmation.
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, kinds(b.messages(t, o)))

	// Replaying the duplicate refunds nothing more.
	before := b.snapshot(t)
	require.True(t, b.apply(t, event(a2, orders.EventSucceeded, "evt_2")).Duplicate)
	// Nor does another event id for the same money.
	require.Equal(t, orders.OutcomeIgnored, b.apply(t, event(a2, orders.EventSucceeded, "evt_2b")).Outcome)
	after := b.snapshot(t)
	after["gateway_events"]--
	require.Equal(t, before, after)
	require.Len(t, b.refunds(t, o), 1)
}

func TestDuplicateRefundKeysDiffer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	as := []*orders.Attempt{b.attempt(t, o), b.attempt(t, o), b.attempt(t, o)}
	for i, a := range as {
		b.apply(t, event(a, orders.EventSucceeded, fmt.Sprintf("evt_%d", i)))
	}
	rs := b.refunds(t, o)
	require.Len(t, rs, 2)
	require.NotEqual(t, rs[0].IdempotencyKey, rs[1].IdempotencyKey, "two refunds are two gateway refunds")
	require.NotEqual(t, rs[0].PaymentID, rs[1].PaymentID)
}

func TestStartAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.Currency = "USD"
	o := b.create(t, shopA, in)

	a1, got, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "") // the shop's only gateway
	require.NoError(t, err)
	require.Equal(t, o.ID, got.ID)
	a2, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, sandbox)
	require.NoError(t, err)
	require.NotEqual(t, a1.ID, a2.ID, "a fresh attempt per tap")
	for _, a := range []*orders.Attempt{a1, a2} {
		require.Equal(t, sandbox, a.Gateway)
		require.Equal(t, o.Total, a.Amount)
		require.Equal(t, "USD", a.Currency)
		require.Equal(t, orders.AttemptCreated, a.Status)
		require.Equal(t, shopA, a.ShopID)
	}
	latest, err := b.store.LatestAttempt(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, a2.ID, latest.ID)

	require.NoError(t, b.svc.AttachSession(b.ctx, a1, "cs_1"))
	require.Equal(t, "cs_1", a1.SessionID)
	stored, err := b.store.Attempt(b.ctx, shopA, a1.ID)
	require.NoError(t, err)
	require.Equal(t, "cs_1", stored.SessionID)
}

func TestStartAttemptRejects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	ob := b.create(t, shopB, input())
	before := b.snapshot(t)

	_, _, err := b.svc.StartAttempt(b.ctx, o.Link.Token, "stripe")
	requireInvalid(t, err, "gateway")
	// Shop B offers two gateways, so the customer must choose.
	_, _, err = b.svc.StartAttempt(b.ctx, ob.Link.Token, "")
	requireInvalid(t, err, "gateway")
	_, _, err = b.svc.StartAttempt(b.ctx, orders.NewLinkToken(), sandbox)
	requireCode(t, err, orders.ENOTFOUND)
	for _, junk := range []string{"", "short", strings.Repeat("!", 22), o.Link.Token + "x", "0000000\r00000000\r00000"} {
		_, _, err = b.svc.StartAttempt(b.ctx, junk, sandbox)
		requireCode(t, err, orders.ENOTFOUND)
	}
	require.Equal(t, before, b.snapshot(t))

	_, err = b.svc.CancelOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	before = b.snapshot(t)
	_, _, err = b.svc.StartAttempt(b.ctx, o.Link.Token, sandbox)
	requireCode(t, err, orders.EGONE)
	require.Equal(t, before, b.snapshot(t))

	_, err = b.svc.DeleteOrder(b.ctx, shopB, ob.ID)
	require.NoError(t, err)
	_, _, err = b.svc.StartAttempt(b.ctx, ob.Link.Token, sandbox)
	requireCode(t, err, orders.EGONE)
}

func TestCancelOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	got, err := b.svc.CancelOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusCancelled, got.Status)
	require.False(t, got.LinkActive())
	require.Equal(t, orders.StatusCancelled, b.reload(t, o).Status)

	// The link still finds the order (to say it is gone) but takes no payment.
	byToken, err := b.svc.OrderByToken(b.ctx, o.Link.Token)
	require.NoError(t, err)
	require.Equal(t, orders.StatusCancelled, byToken.Status)
	require.False(t, byToken.LinkActive())
	_, _, err = b.svc.StartAttempt(b.ctx, o.Link.Token, sandbox)
	requireCode(t, err, orders.EGONE)

	require.Equal(t, []string{orders.KindOrderCard, orders.KindCancelled}, kinds(b.messages(t, o)))
	require.Empty(t, b.refunds(t, o), "nothing was paid")
	// The sessions the link opened are expired at their gateways, by one job that
	// committed with the cancel.
	var expire []orders.Job
	for _, j := range b.jobs(t) {
		if _, ok := j.(orders.ExpireSessions); ok {
			expire = append(expire, j)
		}
	}
	require.Equal(t, []orders.Job{orders.ExpireSessions{ShopID: shopA, OrderID: o.ID}}, expire)

	before := b.snapshot(t)
	_, err = b.svc.CancelOrder(b.ctx, shopA, o.ID)
	requireCode(t, err, orders.ECONFLICT)
	require.Equal(t, before, b.snapshot(t))
	_, err = b.svc.CancelOrder(b.ctx, shopA, orders.NewID())
	requireCode(t, err, orders.ENOTFOUND)
}

func TestCancelPaidOrderRefunds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	b.pay(t, o)
	// A partial refund already made is not refunded again.
	part := int64(30000)
	r1, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, &part)
	require.NoError(t, err)

	got, err := b.svc.CancelOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusCancelled, got.Status)
	rs := b.refunds(t, o)
	require.Len(t, rs, 2)
	var r2 *orders.Refund
	for _, r := range rs {
		if r.ID != r1.ID {
			r2 = r
		}
	}
	require.Equal(t, int64(300000), r2.Amount, "the rest of the 330,000")
	require.Equal(t, orders.RefundReasonRequested, r2.Reason)
	require.Equal(t, orders.RefundPending, r2.Status)
	require.Contains(t, b.jobs(t), orders.Job(orders.ProcessRefund{ShopID: shopA, RefundID: r2.ID}))

	// Once the gateway confirms both, the order is fully refunded and can be deleted.
	for _, r := range rs {
		require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r.ID, orders.RefundResult{Succeeded: true, GatewayRef: "re_" + r.ID}))
	}
	require.Equal(t, orders.PaymentRefunded, b.reload(t, o).PaymentStatus)
	_, err = b.svc.DeleteOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
}

func TestCancelOrderWithDuplicatePayment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	a1, a2 := b.attempt(t, o), b.attempt(t, o)
	b.apply(t, event(a1, orders.EventSucceeded, "evt_1"))
	b.apply(t, event(a2, orders.EventSucceeded, "evt_2"))
	require.Len(t, b.refunds(t, o), 1, "the duplicate is being refunded")

	_, err := b.svc.CancelOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	// Cancelling refunds the order's own payment; the duplicate's refund is already
	// on its way and is not made twice.
	byPayment := map[string][]*orders.Refund{}
	for _, r := range b.refunds(t, o) {
		byPayment[r.PaymentID] = append(byPayment[r.PaymentID], r)
	}
	require.Len(t, byPayment, 2)
	for _, p := range b.reload(t, o).Payments {
		rs := byPayment[p.ID]
		require.Len(t, rs, 1, "payment %s (duplicate %v)", p.ID, p.Duplicate)
		require.Equal(t, p.Amount, rs[0].Amount)
		if p.Duplicate {
			require.Equal(t, orders.RefundReasonDuplicate, rs[0].Reason)
		} else {
			require.Equal(t, orders.RefundReasonRequested, rs[0].Reason)
		}
	}
}

func TestCancelledOrderLatePaymentIsRefunded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	a := b.attempt(t, o) // the customer is at the gateway when the shop cancels
	_, err := b.svc.CancelOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)

	res := b.apply(t, event(a, orders.EventSucceeded, "evt_late"))
	require.Equal(t, orders.OutcomeDuplicatePaid, res.Outcome)
	got := b.reload(t, o)
	require.Equal(t, orders.StatusCancelled, got.Status)
	require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
	rs := b.refunds(t, o)
	require.Len(t, rs, 1)
	require.Equal(t, orders.RefundReasonDuplicate, rs[0].Reason)
	require.Equal(t, int64(330000), rs[0].Amount)
	require.NotContains(t, kinds(b.messages(t, o)), orders.KindPaidConfirmation)
}

func TestCancelShippedOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	b.pay(t, o)
	_, err := b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "123")
	require.NoError(t, err)
	before := b.snapshot(t)
	_, err = b.svc.CancelOrder(b.ctx, shopA, o.ID)
	requireCode(t, err, orders.ECONFLICT)
	_, err = b.svc.DeleteOrder(b.ctx, shopA, o.ID)
	requireCode(t, err, orders.ECONFLICT)
	require.Equal(t, before, b.snapshot(t))
}

func TestDeleteOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	got, err := b.svc.DeleteOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusDeleted, got.Status)
	require.Equal(t, orders.StatusDeleted, b.reload(t, o).Status)
	_, _, err = b.svc.StartAttempt(b.ctx, o.Link.Token, sandbox)
	requireCode(t, err, orders.EGONE)
	_, err = b.svc.DeleteOrder(b.ctx, shopA, o.ID)
	requireCode(t, err, orders.ECONFLICT)
	_, err = b.svc.CancelOrder(b.ctx, shopA, o.ID)
	requireCode(t, err, orders.ECONFLICT)

	// A paid order is cancelled (which refunds it), not deleted.
	paid := b.create(t, shopA, input())
	b.pay(t, paid)
	before := b.snapshot(t)
	_, err = b.svc.DeleteOrder(b.ctx, shopA, paid.ID)
	requireCode(t, err, orders.ECONFLICT)
	require.Equal(t, before, b.snapshot(t))
	require.Equal(t, orders.StatusPaid, b.reload(t, paid).Status)
}

func TestCreateShipment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())

	before := b.snapshot(t)
	sh, err := b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN123")
	requireCode(t, err, orders.EPAYMENTREQUIRED)
	require.Nil(t, sh)
	_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, " ", "VN123")
	requireInvalid(t, err, "carrier")
	_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", strings.Repeat("9", 101))
	requireInvalid(t, err, "carrier")
	require.Equal(t, before, b.snapshot(t))

	b.pay(t, o)
	sh, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, " GHN ", " VN123 ")
	require.NoError(t, err)
	require.Equal(t, "GHN", sh.Carrier)
	require.Equal(t, "VN123", sh.TrackingNumber)
	got := b.reload(t, o)
	require.Equal(t, orders.StatusShipped, got.Status)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.Len(t, got.Shipments, 1)
	require.Equal(t, sh.ID, got.Shipments[0].ID)
	ms := b.messages(t, o)
	require.Equal(t, orders.KindShipped, ms[len(ms)-1].Kind)
	require.Contains(t, ms[len(ms)-1].Text, "GHN")
	require.Contains(t, ms[len(ms)-1].Text, "VN123")

	// A second parcel for the same order.
	_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN124")
	require.NoError(t, err)
	require.Len(t, b.reload(t, o).Shipments, 2)

	got, err = b.svc.CompleteOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusCompleted, got.Status)
	_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "VN125")
	requireCode(t, err, orders.ECONFLICT)
	_, err = b.svc.CompleteOrder(b.ctx, shopA, o.ID)
	requireCode(t, err, orders.ECONFLICT)
}

func TestCreateShipmentCashOnDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.PaymentMethod = orders.MethodCOD
	o := b.create(t, shopA, in)

	_, err := b.svc.CompleteOrder(b.ctx, shopA, o.ID)
	requireCode(t, err, orders.ECONFLICT)
	_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "COD1")
	require.NoError(t, err)
	got := b.reload(t, o)
	require.Equal(t, orders.StatusShipped, got.Status)
	require.Equal(t, orders.PaymentUnpaid, got.PaymentStatus)
	require.Equal(t, []string{orders.KindShipped}, kinds(b.messages(t, o)))

	// The courier collected the money: completing a COD order marks it paid.
	b.now = b.now.Add(time.Hour)
	got, err = b.svc.CompleteOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusCompleted, got.Status)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	got = b.reload(t, o)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus)
	require.NotNil(t, got.PaidAt)
	require.Equal(t, b.now.Truncate(time.Microsecond), *got.PaidAt)
	require.Equal(t, b.now.Truncate(time.Microsecond), got.UpdatedAt)
}

func TestCreateRefund(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	ptr := func(n int64) *int64 { return &n }

	_, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	requireCode(t, err, orders.EPAYMENTREQUIRED)
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, ptr(100))
	requireCode(t, err, orders.EPAYMENTREQUIRED)
	b.pay(t, o)

	before := b.snapshot(t)
	for _, bad := range []int64{0, -1, orders.MaxAmount + 1, 330001} {
		_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, ptr(bad))
		requireInvalid(t, err, "amount")
	}
	require.Equal(t, before, b.snapshot(t))

	r1, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, ptr(100000))
	require.NoError(t, err)
	require.Equal(t, int64(100000), r1.Amount)
	require.Equal(t, orders.RefundPending, r1.Status)
	require.Equal(t, orders.RefundReasonRequested, r1.Reason)
	require.Equal(t, "VND", r1.Currency)
	require.Equal(t, b.reload(t, o).Payments[0].ID, r1.PaymentID)
	require.Equal(t, "chatpay-refund-"+r1.ID, r1.IdempotencyKey)
	require.Contains(t, b.jobs(t), orders.Job(orders.ProcessRefund{ShopID: shopA, RefundID: r1.ID}))
	// A pending refund already counts against what is refundable.
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, ptr(230001))
	requireInvalid(t, err, "amount")
	require.Equal(t, orders.PaymentPaid, b.reload(t, o).PaymentStatus, "nothing refunded until the gateway says so")

	r2, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	require.Equal(t, int64(230000), r2.Amount, "the rest")
	require.NotEqual(t, r1.IdempotencyKey, r2.IdempotencyKey)
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	requireInvalid(t, err, "amount")
	_, err = b.svc.CreateRefund(b.ctx, shopA, o.ID, ptr(1))
	requireInvalid(t, err, "amount")
}

func TestCompleteRefund(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	b.pay(t, o)
	part := int64(100000)
	r1, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, &part)
	require.NoError(t, err)

	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r1.ID, orders.RefundResult{Succeeded: true, GatewayRef: "re_1"}))
	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, orders.PaymentPartiallyRefunded, got.PaymentStatus)
	require.Equal(t, int64(100000), got.Payments[0].RefundedAmount)
	r, err := b.store.Refund(b.ctx, shopA, r1.ID)
	require.NoError(t, err)
	require.Equal(t, orders.RefundSucceeded, r.Status)
	require.Equal(t, "re_1", r.GatewayRef)
	ms := b.messages(t, o)
	last := ms[len(ms)-1]
	require.Equal(t, orders.KindRefunded, last.Kind)
	require.Contains(t, last.Text, "₫100,000")
	require.Contains(t, last.Text, "#1001")

	// The job ran twice (River retried after the gateway answered): nothing changes.
	before := b.snapshot(t)
	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r1.ID, orders.RefundResult{Succeeded: true, GatewayRef: "re_1"}))
	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r1.ID, orders.RefundResult{Succeeded: false, Reason: "late"}))
	require.Equal(t, before, b.snapshot(t))
	require.Equal(t, int64(100000), b.reload(t, o).Payments[0].RefundedAmount)

	// The rest fails at the gateway: the owner is told and the money is refundable again.
	r2, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r2.ID, orders.RefundResult{Reason: "insufficient balance"}))
	r, err = b.store.Refund(b.ctx, shopA, r2.ID)
	require.NoError(t, err)
	require.Equal(t, orders.RefundFailed, r.Status)
	require.Equal(t, "insufficient balance", r.FailureReason)
	ns := b.notices(t, shopA)
	require.Equal(t, orders.NoticeRefundFailed, ns[len(ns)-1].Kind)
	require.Contains(t, ns[len(ns)-1].Text, "insufficient balance")
	staff := b.staffMessages(t)
	require.Equal(t, ns[len(ns)-1].Text, staff[len(staff)-1].Text, "staff are told in the customer's topic")
	require.Contains(t, b.jobs(t), orders.Job(orders.DeliverMessage{ShopID: shopA, MessageID: staff[len(staff)-1].ID}))
	got = b.reload(t, o)
	require.Equal(t, orders.PaymentPartiallyRefunded, got.PaymentStatus)
	require.Equal(t, int64(100000), got.Payments[0].RefundedAmount)
	require.Equal(t, orders.KindRefunded, kinds(b.messages(t, o))[len(b.messages(t, o))-1], "no refunded message for a failure")
	before = b.snapshot(t)
	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r2.ID, orders.RefundResult{Reason: "again"}))
	require.Equal(t, before, b.snapshot(t))

	r3, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	require.Equal(t, int64(230000), r3.Amount)
	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, r3.ID, orders.RefundResult{Succeeded: true}))
	got = b.reload(t, o)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
	require.Equal(t, int64(330000), got.Payments[0].RefundedAmount)

	// A refunded order cannot ship.
	_, err = b.svc.CreateShipment(b.ctx, shopA, o.ID, "GHN", "1")
	requireCode(t, err, orders.ECONFLICT)

	err = b.svc.CompleteRefund(b.ctx, shopA, orders.NewID(), orders.RefundResult{Succeeded: true})
	requireCode(t, err, orders.ENOTFOUND)
}

func TestCompleteDuplicateRefundKeepsPaymentStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	a1, a2 := b.attempt(t, o), b.attempt(t, o)
	b.apply(t, event(a1, orders.EventSucceeded, "evt_1"))
	b.apply(t, event(a2, orders.EventSucceeded, "evt_2"))
	rs := b.refunds(t, o)
	require.Len(t, rs, 1)
	require.NoError(t, b.svc.CompleteRefund(b.ctx, shopA, rs[0].ID, orders.RefundResult{Succeeded: true}))
	got := b.reload(t, o)
	require.Equal(t, orders.PaymentPaid, got.PaymentStatus, "the order's own payment is untouched")
	require.Equal(t, orders.StatusPaid, got.Status)
	// The real payment is still fully refundable.
	r, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	require.Equal(t, int64(330000), r.Amount)
	require.False(t, func() bool {
		p, err := b.store.Payment(b.ctx, shopA, r.PaymentID)
		require.NoError(t, err)
		return p.Duplicate
	}())
}

func TestResendLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	require.NoError(t, b.svc.ResendLink(b.ctx, shopA, o.ID))
	ms := b.messages(t, o)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindOrderCard}, kinds(ms))
	require.Equal(t, ms[0].Buttons, ms[1].Buttons, "the same link")
	require.Len(t, b.jobs(t), 2)

	in := input()
	in.Customer = orders.Customer{}
	noConv := b.create(t, shopA, in)
	requireCode(t, b.svc.ResendLink(b.ctx, shopA, noConv.ID), orders.ECONFLICT)
	in = input()
	in.PaymentMethod = orders.MethodCOD
	cod := b.create(t, shopA, in)
	requireCode(t, b.svc.ResendLink(b.ctx, shopA, cod.ID), orders.ECONFLICT)
	b.pay(t, o)
	requireCode(t, b.svc.ResendLink(b.ctx, shopA, o.ID), orders.ECONFLICT)
}

func TestListOrders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o1 := b.create(t, shopA, input())
	o2 := b.create(t, shopA, input())
	b.create(t, shopB, input())
	b.pay(t, o2)

	list, err := b.svc.ListOrders(b.ctx, shopA, orders.OrderFilter{})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, o2.ID, list[0].ID, "newest first")
	list, err = b.svc.ListOrders(b.ctx, shopA, orders.OrderFilter{Status: orders.StatusAwaitingPayment})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, o1.ID, list[0].ID)

	_, err = b.svc.ListOrders(b.ctx, shopA, orders.OrderFilter{Status: "lost"})
	requireInvalid(t, err, "status")
	_, err = b.svc.ListOrders(b.ctx, shopA, orders.OrderFilter{PaymentStatus: "lost"})
	requireInvalid(t, err, "payment_status")
	_, err = b.svc.ListOrders(b.ctx, shopA, orders.OrderFilter{Limit: 201})
	requireInvalid(t, err, "limit")
}

func TestRecordDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	m := b.messages(t, o)[0]

	require.NoError(t, b.svc.RecordDelivery(b.ctx, shopA, m.ID, orders.MessageDelivery{Reason: "timeout"}, false))
	got, err := b.store.Message(b.ctx, shopA, m.ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageQueued, got.Status, "the job will retry")
	require.Equal(t, "timeout", got.FailureReason)
	require.Empty(t, b.notices(t, shopA))

	require.NoError(t, b.svc.RecordDelivery(b.ctx, shopA, m.ID, orders.MessageDelivery{Sent: true, ExternalID: "wc-1"}, false))
	got, err = b.store.Message(b.ctx, shopA, m.ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageSent, got.Status)
	require.Equal(t, "wc-1", got.ExternalID)
	require.Empty(t, got.FailureReason)
	require.Equal(t, b.now.Truncate(time.Microsecond), *got.SentAt)

	o2 := b.create(t, shopA, input())
	m2 := b.messages(t, o2)[0]
	require.NoError(t, b.svc.RecordDelivery(b.ctx, shopA, m2.ID, orders.MessageDelivery{Reason: "blocked by user"}, true))
	got, err = b.store.Message(b.ctx, shopA, m2.ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageFailed, got.Status)
	ns := b.notices(t, shopA)
	require.Equal(t, []string{orders.NoticeMessageFailed}, noticeKinds(ns))
	require.Equal(t, o2.ID, ns[0].OrderID)
	require.Contains(t, ns[0].Text, "blocked by user")

	requireCode(t, b.svc.RecordDelivery(b.ctx, shopB, m.ID, orders.MessageDelivery{Sent: true}, false), orders.ENOTFOUND)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	b.pay(t, o)
	r, err := b.svc.CreateRefund(b.ctx, shopA, o.ID, nil)
	require.NoError(t, err)
	want := b.reload(t, o)
	before := b.snapshot(t)
	amount := int64(1)

	for name, call := range map[string]func() error{
		"Order":          func() error { _, err := b.svc.Order(b.ctx, shopB, o.ID); return err },
		"CancelOrder":    func() error { _, err := b.svc.CancelOrder(b.ctx, shopB, o.ID); return err },
		"DeleteOrder":    func() error { _, err := b.svc.DeleteOrder(b.ctx, shopB, o.ID); return err },
		"ResendLink":     func() error { return b.svc.ResendLink(b.ctx, shopB, o.ID) },
		"CreateShipment": func() error { _, err := b.svc.CreateShipment(b.ctx, shopB, o.ID, "GHN", "1"); return err },
		"CompleteOrder":  func() error { _, err := b.svc.CompleteOrder(b.ctx, shopB, o.ID); return err },
		"CreateRefund":   func() error { _, err := b.svc.CreateRefund(b.ctx, shopB, o.ID, &amount); return err },
		"CreateRefundAll": func() error {
			_, err := b.svc.CreateRefund(b.ctx, shopB, o.ID, nil)
			return err
		},
		"CompleteRefund": func() error {
			return b.svc.CompleteRefund(b.ctx, shopB, r.ID, orders.RefundResult{Succeeded: true})
		},
	} {
		t.Run(name, func(t *testing.T) {
			requireCode(t, call(), orders.ENOTFOUND)
		})
	}
	list, err := b.svc.ListOrders(b.ctx, shopB, orders.OrderFilter{})
	require.NoError(t, err)
	require.Empty(t, list)
	require.Equal(t, before, b.snapshot(t))
	require.Equal(t, want, b.reload(t, o))
}

// TestConcurrentEventsOneSession delivers twenty events for the same successful
// checkout at once (a gateway retrying with new event ids): exactly one payment.
func TestConcurrentEventsOneSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	a := b.attempt(t, o)

	const n = 20
	results := make([]*orders.EventResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = b.svc.ApplyEvent(b.ctx, event(a, orders.EventSucceeded, fmt.Sprintf("evt_%02d", i)))
		})
	}
	wg.Wait()
	paid := 0
	for i := range n {
		require.NoError(t, errs[i])
		require.False(t, results[i].Duplicate)
		if results[i].Paid {
			paid++
			require.Equal(t, orders.OutcomeApplied, results[i].Outcome)
		} else {
			require.Equal(t, orders.OutcomeIgnored, results[i].Outcome)
		}
	}
	require.Equal(t, 1, paid)
	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Len(t, got.Payments, 1)
	require.Empty(t, b.refunds(t, o))
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, kinds(b.messages(t, o)))
	require.Equal(t, n, b.snapshot(t)["gateway_events"])
}

// TestConcurrentSuccessesManyAttempts pays one order through twenty checkouts at once:
// one payment counts, the other nineteen are duplicates, each refunded once.
func TestConcurrentSuccessesManyAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	const n = 20
	attempts := make([]*orders.Attempt, n)
	for i := range attempts {
		attempts[i] = b.attempt(t, o)
	}

	results := make([]*orders.EventResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, a := range attempts {
		wg.Go(func() {
			results[i], errs[i] = b.svc.ApplyEvent(b.ctx, event(a, orders.EventSucceeded, fmt.Sprintf("evt_%02d", i)))
		})
	}
	wg.Wait()
	outcomes := map[string]int{}
	for i := range n {
		require.NoError(t, errs[i])
		outcomes[results[i].Outcome]++
	}
	require.Equal(t, map[string]int{orders.OutcomeApplied: 1, orders.OutcomeDuplicatePaid: n - 1}, outcomes)

	got := b.reload(t, o)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Len(t, got.Payments, n)
	refunded := map[string]int{}
	for _, r := range b.refunds(t, o) {
		require.Equal(t, orders.RefundReasonDuplicate, r.Reason)
		require.Equal(t, o.Total, r.Amount)
		refunded[r.PaymentID]++
	}
	real := 0
	for _, p := range got.Payments {
		if p.Duplicate {
			require.Equal(t, 1, refunded[p.ID], "payment %s refunded once", p.ID)
		} else {
			real++
			require.Zero(t, refunded[p.ID])
		}
	}
	require.Equal(t, 1, real)
	require.Len(t, refunded, n-1)
	ns := noticeKinds(b.notices(t, shopA))
	require.Len(t, ns, n)
	require.Equal(t, []string{orders.KindOrderCard, orders.KindPaidConfirmation}, kinds(b.messages(t, o)))
}

func TestLinkSealing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	want, err := b.svc.LinkURL(o)
	require.NoError(t, err)

	// The store keeps only the hash and the sealed token; the service unseals it.
	stored := b.reload(t, o)
	require.Empty(t, stored.Link.Token)
	require.NotContains(t, string(stored.Link.SealedToken), o.Link.Token)
	require.Equal(t, orders.HashLinkToken(o.Link.Token), stored.Link.TokenHash)
	got, err := b.svc.LinkURL(stored)
	require.NoError(t, err)
	require.Equal(t, want, got)

	// Another server key opens nothing.
	other := b.service(t, []byte(strings.Repeat("x", orders.LinkKeyLen)))
	_, err = other.LinkURL(b.reload(t, o))
	require.Error(t, err)

	// A sealed token copied onto another order does not open there.
	o2 := b.reload(t, b.create(t, shopA, input()))
	o2.Link.SealedToken = stored.Link.SealedToken
	_, err = b.svc.LinkURL(o2)
	require.Error(t, err)
	o2.Link.SealedToken = stored.Link.SealedToken[:5]
	_, err = b.svc.LinkURL(o2)
	require.Error(t, err)

	// Messages queued after a reload (payment failed, resend) carry the same URL.
	require.NoError(t, b.svc.ResendLink(b.ctx, shopA, o.ID))
	ms := b.messages(t, o)
	requireButton(t, ms[len(ms)-1], "Pay now", want)

	_, err = orders.NewService(orders.Config{Store: b.store, LinkKey: []byte("short")})
	require.Error(t, err)
}

// TestConcurrentCreateOrderCodes creates twenty orders for one shop at once: each gets
// its own code, with no gaps.
func TestConcurrentCreateOrderCodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 20
	codes := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			o, err := b.svc.CreateOrder(b.ctx, shopA, input())
			errs[i] = err
			if err == nil {
				codes[i] = o.Code
			}
		})
	}
	wg.Wait()
	want := make([]string, n)
	for i := range n {
		require.NoError(t, errs[i])
		want[i] = fmt.Sprint(1001 + i)
	}
	slices.Sort(codes)
	require.Equal(t, want, codes)
	require.Equal(t, 1, b.snapshot(t)["conversations"], "one customer, one conversation")
}
