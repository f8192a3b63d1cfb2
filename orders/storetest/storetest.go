// Package storetest is the contract suite every orders.Store implementation passes.
// orders/sqlite and orders/postgres run it from their own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Harness { ... })
//	}
//
// Each subtest opens its own fresh store, so subtests run in parallel and never see
// each other's rows.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// Harness is one fresh store under test.
type Harness struct {
	Store orders.Store
	// Jobs returns the jobs committed so far (kind + decoded args), oldest first,
	// decoded into the concrete orders.* value types (orders.DeliverMessage, not a
	// pointer to it).
	Jobs func(t testing.TB) []orders.Job
}

// The two tenants every test uses. Shop B exists to prove that shop A's rows are
// invisible to it.
const (
	shopA = "shop-a"
	shopB = "shop-b"
)

// base is the suite's clock: a UTC time with microsecond precision, which is what the
// Service hands stores (Service.Now) and what stores must give back exactly.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// at returns base plus n seconds.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

func ptr[T any](v T) *T { return &v }

// Run runs the contract suite. open returns a fresh, migrated, empty store and
// registers its own cleanup.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"NextOrderCode", testNextOrderCode},
		{"UpsertConversation", testUpsertConversation},
		{"OrderRoundTrip", testOrderRoundTrip},
		{"OrderWithoutLink", testOrderWithoutLink},
		{"OrderNotFound", testOrderNotFound},
		{"ListOrders", testListOrders},
		{"ListOrdersByMetadata", testListOrdersByMetadata},
		{"ListOrdersByChannel", testListOrdersByChannel},
		{"ListOrdersByCreated", testListOrdersByCreated},
		{"ListOrdersSearch", testListOrdersSearch},
		{"IndexSearchNothingMissing", testIndexSearchNothingMissing},
		{"UpdateOrder", testUpdateOrder},
		{"UpdateOrderConversation", testUpdateOrderConversation},
		{"Attempts", testAttempts},
		{"StaleAttempts", testStaleAttempts},
		{"StaleAttemptsPaging", testStaleAttemptsPaging},
		{"OrderAttempts", testOrderAttempts},
		{"PaymentsAndRefunds", testPaymentsAndRefunds},
		{"PaymentByRef", testPaymentByRef},
		{"Disputes", testDisputes},
		{"Shipments", testShipments},
		{"Messages", testMessages},
		{"EditMessage", testEditMessage},
		{"Notices", testNotices},
		{"Events", testEvents},
		{"EventsByRef", testEventsByRef},
		{"LockPaymentRef", testLockPaymentRef},
		{"GiveUpAwaitingEvents", testGiveUpAwaitingEvents},
		{"Secret", testSecret},
		{"Ping", testPing},
		{"Jobs", testJobs},
		{"RollbackLeavesNothing", testRollback},
		{"ReadInsideTx", testReadInsideTx},
		{"TenantIsolation", testTenantIsolation},
		{"RaceUpdateOrder", testRaceUpdateOrder},
		{"RaceInsertEvent", testRaceInsertEvent},
		{"EventBatch", testEventBatch},
		{"ChatUpdates", testChatUpdates},
		{"KeyedChatUpdates", testKeyedChatUpdates},
		{"RaceKeyedChatUpdate", testRaceKeyedChatUpdate},
		{"StaffThread", testStaffThread},
		{"SetStaffThread", testSetStaffThread},
		{"RaceStaffThread", testRaceStaffThread},
		{"OrderKey", testOrderKey},
		{"QueuedBefore", testQueuedBefore},
		{"RaceChatUpdate", testRaceChatUpdate},
		{"ChatUpdateOrder", testChatUpdateOrder},
		{"ChatUpdateToHandle", testChatUpdateToHandle},
		{"RaceNextOrderCode", testRaceNextOrderCode},
		{"ReportPayments", testReportPayments},
		{"ListConversations", testListConversations},
		{"ListConversationsPaging", testListConversationsPaging},
		{"ConversationMessages", testConversationMessages},
		{"ConversationOrders", testConversationOrders},
		{"ShopSettings", testShopSettings},
		{"RaceShopSettings", testRaceShopSettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := open(t)
			require.NotNil(t, h.Store, "Harness.Store")
			require.NotNil(t, h.Jobs, "Harness.Jobs")
			tt.fn(t, h)
		})
	}
}

// inTx runs fn in a transaction and requires it to commit.
func inTx(t *testing.T, h Harness, fn func(tx orders.Tx) error) {
	t.Helper()
	require.NoError(t, h.Store.InTx(context.Background(), fn))
}

// newOrder returns an online order of shop with every field set, not yet stored.
func newOrder(shop string, n int) *orders.Order {
	id := orders.NewID()
	tok := orders.NewLinkToken()
	return &orders.Order{
		ID:            id,
		ShopID:        shop,
		Status:        orders.StatusAwaitingPayment,
		PaymentStatus: orders.PaymentUnpaid,
		PaymentMethod: orders.MethodOnline,
		Currency:      "VND",
		Items: []orders.Item{
			{Name: "Áo dài lụa", Quantity: 2, UnitPrice: 150000},
			{Name: "Khăn \"quàng\" cổ", Quantity: 1, UnitPrice: 30000},
		},
		ShippingFee: 25000,
		Total:       355000,
		Customer: orders.Customer{
			Channel:    orders.ChannelTelegram,
			ExternalID: "tg-4242",
			Name:       "Nguyễn Văn A",
			Phone:      "+84 90 123 4567",
		},
		ShipOnPayment: true,
		Metadata:      map[string]string{"source": "dashboard", "note": "giao buổi sáng"},
		Link: &orders.PaymentLink{
			OrderID:     id,
			TokenHash:   orders.HashLinkToken(tok),
			SealedToken: []byte("sealed:" + tok),
			CreatedAt:   at(n),
			Token:       tok,
		},
		CreatedAt: at(n),
		UpdatedAt: at(n),
	}
}

// createOrder stores o with the shop's next code (and its conversation, when the
// customer has a channel), as the Service does.
func createOrder(t *testing.T, h Harness, o *orders.Order) *orders.Order {
	t.Helper()
	ctx := context.Background()
	inTx(t, h, func(tx orders.Tx) error {
		code, err := tx.NextOrderCode(ctx, o.ShopID)
		if err != nil {
			return err
		}
		o.Code = fmt.Sprint(code)
		if o.Customer.Channel != "" && o.ConversationID == "" {
			c := &orders.Conversation{
				ID:           orders.NewID(),
				ShopID:       o.ShopID,
				Channel:      o.Customer.Channel,
				ExternalID:   o.Customer.ExternalID,
				CustomerName: o.Customer.Name,
				CreatedAt:    o.CreatedAt,
			}
			if err := tx.UpsertConversation(ctx, c); err != nil {
				return err
			}
			o.ConversationID = c.ID
		}
		return tx.InsertOrder(ctx, o)
	})
	return o
}

// norm returns a copy of o as a store gives it back: the plain token is never stored,
// and empty slices and maps compare equal to nil ones.
func norm(o *orders.Order) orders.Order {
	c := *o
	if c.Link != nil {
		l := *c.Link
		l.Token = ""
		c.Link = &l
	}
	if len(c.Items) == 0 {
		c.Items = nil
	}
	if len(c.Metadata) == 0 {
		c.Metadata = nil
	}
	if len(c.Payments) == 0 {
		c.Payments = nil
	}
	if len(c.Shipments) == 0 {
		c.Shipments = nil
	}
	return c
}

func requireOrder(t *testing.T, want, got *orders.Order) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, norm(want), norm(got))
	require.Equal(t, time.UTC, got.CreatedAt.Location(), "times come back in UTC")
}

func requireNotFound(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	require.ErrorIs(t, err, orders.ErrNotFound, msgAndArgs...)
}

func testNextOrderCode(t *testing.T, h Harness) {
	ctx := context.Background()
	var codes []int64
	for range 3 {
		inTx(t, h, func(tx orders.Tx) error {
			c, err := tx.NextOrderCode(ctx, shopA)
			codes = append(codes, c)
			return err
		})
	}
	require.Equal(t, []int64{1001, 1002, 1003}, codes)

	// Two codes in one transaction are consecutive too.
	inTx(t, h, func(tx orders.Tx) error {
		c1, err := tx.NextOrderCode(ctx, shopA)
		require.NoError(t, err)
		c2, err := tx.NextOrderCode(ctx, shopA)
		require.NoError(t, err)
		require.Equal(t, []int64{1004, 1005}, []int64{c1, c2})
		return nil
	})

	// Every shop has its own sequence.
	inTx(t, h, func(tx orders.Tx) error {
		c, err := tx.NextOrderCode(ctx, shopB)
		require.NoError(t, err)
		require.Equal(t, int64(1001), c)
		return nil
	})
}

func testUpsertConversation(t *testing.T, h Harness) {
	ctx := context.Background()
	first := &orders.Conversation{
		ID:            orders.NewID(),
		ShopID:        shopA,
		Channel:       orders.ChannelTelegram,
		ExternalID:    "chat-1",
		CustomerName:  "Somchai",
		CreatedAt:     at(0),
		LastInboundAt: ptr(at(1)),
	}
	want := *first
	inTx(t, h, func(tx orders.Tx) error { return tx.UpsertConversation(ctx, first) })
	require.Equal(t, want, *first, "creating keeps the caller's ID and CreatedAt")

	got, err := h.Store.Conversation(ctx, shopA, first.ID)
	require.NoError(t, err)
	require.Equal(t, want, *got)

	// The same (shop, channel, external id) again returns the stored conversation.
	again := &orders.Conversation{
		ID:           orders.NewID(),
		ShopID:       shopA,
		Channel:      orders.ChannelTelegram,
		ExternalID:   "chat-1",
		CustomerName: "Somchai Jaidee",
		CreatedAt:    at(100),
	}
	inTx(t, h, func(tx orders.Tx) error { return tx.UpsertConversation(ctx, again) })
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, first.CreatedAt, again.CreatedAt)

	// Another channel, another external id or another shop is another conversation.
	others := []*orders.Conversation{
		{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelMessenger, ExternalID: "chat-1", CreatedAt: at(2)},
		{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram, ExternalID: "chat-2", CreatedAt: at(3)},
		{ID: orders.NewID(), ShopID: shopB, Channel: orders.ChannelTelegram, ExternalID: "chat-1", CreatedAt: at(4)},
	}
	for _, c := range others {
		id := c.ID
		inTx(t, h, func(tx orders.Tx) error { return tx.UpsertConversation(ctx, c) })
		require.Equal(t, id, c.ID, "a new conversation keeps its ID")
		got, err := h.Store.Conversation(ctx, c.ShopID, c.ID)
		require.NoError(t, err)
		require.Equal(t, *c, *got)
		require.Nil(t, got.LastInboundAt)
	}

	_, err = h.Store.Conversation(ctx, shopB, first.ID)
	requireNotFound(t, err, "another shop's conversation")
	_, err = h.Store.Conversation(ctx, shopA, orders.NewID())
	requireNotFound(t, err)
}

func testOrderRoundTrip(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	require.Equal(t, "1001", o.Code)
	require.NotEmpty(t, o.ConversationID)

	got, err := h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	requireOrder(t, o, got)
	require.Nil(t, got.PaidAt)
	require.Empty(t, got.Link.Token, "the plain token is never stored")

	got, err = h.Store.OrderByCode(ctx, shopA, "1001")
	require.NoError(t, err)
	requireOrder(t, o, got)

	got, err = h.Store.OrderByTokenHash(ctx, o.Link.TokenHash)
	require.NoError(t, err)
	requireOrder(t, o, got)

	inTx(t, h, func(tx orders.Tx) error {
		got, err := tx.LockOrder(ctx, shopA, o.ID)
		require.NoError(t, err)
		requireOrder(t, o, got)
		return nil
	})

	// A paid order keeps PaidAt, and an order with no items, metadata or customer
	// comes back with none.
	paid := newOrder(shopA, 10)
	paid.Status, paid.PaymentStatus, paid.PaidAt = orders.StatusPaid, orders.PaymentPaid, ptr(at(11))
	paid.UpdatedAt = at(12)
	paid.ShipOnPayment = false
	paid.Customer = orders.Customer{Name: "Walk-in"}
	paid.Metadata = map[string]string{}
	paid.Currency, paid.Total, paid.ShippingFee = "THB", 123450, 0
	paid.Items = []orders.Item{{Name: "ชาไทย", Quantity: 3, UnitPrice: 41150}}
	createOrder(t, h, paid)
	require.Equal(t, "1002", paid.Code)
	require.Empty(t, paid.ConversationID)
	got, err = h.Store.OrderByCode(ctx, shopA, "1002")
	require.NoError(t, err)
	requireOrder(t, paid, got)
	require.Equal(t, at(11), *got.PaidAt)
}

func testOrderWithoutLink(t *testing.T, h Harness) {
	ctx := context.Background()
	o := newOrder(shopA, 0)
	o.PaymentMethod, o.Link = orders.MethodCOD, nil
	createOrder(t, h, o)
	got, err := h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	requireOrder(t, o, got)
	require.Nil(t, got.Link)
}

func testOrderNotFound(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))

	_, err := h.Store.Order(ctx, shopA, orders.NewID())
	requireNotFound(t, err)
	_, err = h.Store.OrderByCode(ctx, shopA, "999999")
	requireNotFound(t, err)
	_, err = h.Store.OrderByTokenHash(ctx, orders.HashLinkToken(orders.NewLinkToken()))
	requireNotFound(t, err)
	inTx(t, h, func(tx orders.Tx) error {
		_, err := tx.LockOrder(ctx, shopA, orders.NewID())
		requireNotFound(t, err)
		return nil
	})

	// The token hash is the pay page's only credential, so it finds the order
	// whatever the shop, with the right shop on it.
	got, err := h.Store.OrderByTokenHash(ctx, o.Link.TokenHash)
	require.NoError(t, err)
	require.Equal(t, shopA, got.ShopID)
}

func testListOrders(t *testing.T, h Harness) {
	ctx := context.Background()
	statuses := []struct{ status, payment string }{
		{orders.StatusAwaitingPayment, orders.PaymentUnpaid},
		{orders.StatusPaid, orders.PaymentPaid},
		{orders.StatusAwaitingPayment, orders.PaymentUnpaid},
		{orders.StatusCancelled, orders.PaymentRefunded},
		{orders.StatusPaid, orders.PaymentPartiallyRefunded},
	}
	var created []*orders.Order // oldest first
	for i, s := range statuses {
		o := newOrder(shopA, i)
		o.Status, o.PaymentStatus = s.status, s.payment
		created = append(created, createOrder(t, h, o))
	}
	createOrder(t, h, newOrder(shopB, 99))

	ids := func(os []*orders.Order) []string {
		var out []string
		for _, o := range os {
			out = append(out, o.ID)
		}
		return out
	}
	newest := slices.Clone(created)
	slices.Reverse(newest)

	got, err := h.Store.ListOrders(ctx, shopA, orders.OrderFilter{Limit: 50})
	require.NoError(t, err)
	require.Equal(t, ids(newest), ids(got), "newest first, only the shop's own")
	for i := range got {
		requireOrder(t, newest[i], got[i])
	}

	got, err = h.Store.ListOrders(ctx, shopA, orders.OrderFilter{Status: orders.StatusAwaitingPayment, Limit: 50})
	require.NoError(t, err)
	require.Equal(t, []string{created[2].ID, created[0].ID}, ids(got))

	got, err = h.Store.ListOrders(ctx, shopA, orders.OrderFilter{PaymentStatus: orders.PaymentPartiallyRefunded, Limit: 50})
	require.NoError(t, err)
	require.Equal(t, []string{created[4].ID}, ids(got))

	got, err = h.Store.ListOrders(ctx, shopA, orders.OrderFilter{Status: orders.StatusPaid, PaymentStatus: orders.PaymentPaid, Limit: 50})
	require.NoError(t, err)
	require.Equal(t, []string{created[1].ID}, ids(got))

	got, err = h.Store.ListOrders(ctx, shopA, orders.OrderFilter{Status: orders.StatusShipped, Limit: 50})
	require.NoError(t, err)
	require.Empty(t, got)

	// Paging by ID walks every order exactly once.
	var paged []string
	before := ""
	for range 10 {
		page, err := h.Store.ListOrders(ctx, shopA, orders.OrderFilter{BeforeID: before, Limit: 2})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page)...)
		before = page[len(page)-1].ID
	}
	require.Equal(t, ids(newest), paged)

	got, err = h.Store.ListOrders(ctx, shopA, orders.OrderFilter{BeforeID: created[3].ID, Status: orders.StatusAwaitingPayment, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []string{created[2].ID}, ids(got))

	got, err = h.Store.ListOrders(ctx, shopB, orders.OrderFilter{Limit: 50})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, shopB, got[0].ShopID)

	got, err = h.Store.ListOrders(ctx, "shop-none", orders.OrderFilter{Limit: 50})
	require.NoError(t, err)
	require.Empty(t, got)
}

func testListOrdersByMetadata(t *testing.T, h Harness) {
	ctx := context.Background()
	const quoted = `say "hi" \ to Lan: giao buổi sáng 🚚 '; --`
	metas := []map[string]string{
		{"branch": "hcm", "campaign": "tet"},
		{"branch": "hcm"},
		{"branch": "hn", "campaign": "tet"},
		{"branch": "hcm", "campaign": "tet", "note": quoted, "ref.id": "42"},
		nil, // no metadata at all
		{"branch": "HCM"},
		{"branch": ""},
	}
	var created []*orders.Order // oldest first
	for i, m := range metas {
		o := newOrder(shopA, i)
		o.Metadata = m
		created = append(created, createOrder(t, h, o))
	}
	// Another shop's order with the same metadata must never show up in shop A's list.
	other := newOrder(shopB, 99)
	other.Metadata = map[string]string{"branch": "hcm", "campaign": "tet", "note": quoted}
	createOrder(t, h, other)

	ids := func(os []*orders.Order) []string {
		out := []string{}
		for _, o := range os {
			out = append(out, o.ID)
		}
		return out
	}
	want := func(idx ...int) []string {
		out := []string{}
		for _, i := range idx {
			out = append(out, created[i].ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		meta map[string]string
		want []string
	}{
		{"one key", map[string]string{"branch": "hcm"}, want(3, 1, 0)},
		{"two keys", map[string]string{"branch": "hcm", "campaign": "tet"}, want(3, 0)},
		{"one key of two", map[string]string{"campaign": "tet"}, want(3, 2, 0)},
		{"values are exact", map[string]string{"branch": "HCM"}, want(5)},
		{"no prefix match", map[string]string{"branch": "hc"}, want()},
		{"empty value is not a missing key", map[string]string{"branch": ""}, want(6)},
		{"key no order has", map[string]string{"nope": "hcm"}, want()},
		{"known and unknown key", map[string]string{"branch": "hcm", "nope": "x"}, want()},
		{"quotes and unicode", map[string]string{"note": quoted}, want(3)},
		{"dot is part of the key", map[string]string{"ref.id": "42"}, want(3)},
		{"dot is not a path step", map[string]string{"ref": "42"}, want()},
		{"injection-shaped value", map[string]string{"branch": `hcm"} OR 1=1 --`}, want()},
		{"empty filter filters nothing", map[string]string{}, want(6, 5, 4, 3, 2, 1, 0)},
	} {
		got, err := h.Store.ListOrders(ctx, shopA, orders.OrderFilter{Metadata: tc.meta, Limit: 50})
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, ids(got), tc.name)
	}

	// The filter combines with the others.
	got, err := h.Store.ListOrders(ctx, shopA, orders.OrderFilter{
		Metadata: map[string]string{"campaign": "tet"}, BeforeID: created[3].ID, Limit: 50})
	require.NoError(t, err)
	require.Equal(t, want(2, 0), ids(got))
	got, err = h.Store.ListOrders(ctx, shopA, orders.OrderFilter{
		Metadata: map[string]string{"campaign": "tet"}, Status: orders.StatusPaid, Limit: 50})
	require.NoError(t, err)
	require.Empty(t, got)

	// Paging with the filter walks every matching order exactly once.
	var paged []string
	before := ""
	for range 10 {
		page, err := h.Store.ListOrders(ctx, shopA, orders.OrderFilter{
			Metadata: map[string]string{"branch": "hcm"}, BeforeID: before, Limit: 2})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page)...)
		before = page[len(page)-1].ID
	}
	require.Equal(t, want(3, 1, 0), paged)

	// Tenant isolation: shop B sees only its own order, and a shop without orders none.
	got, err = h.Store.ListOrders(ctx, shopB, orders.OrderFilter{
		Metadata: map[string]string{"branch": "hcm", "campaign": "tet", "note": quoted}, Limit: 50})
	require.NoError(t, err)
	require.Equal(t, []string{other.ID}, ids(got))
	got, err = h.Store.ListOrders(ctx, "shop-none", orders.OrderFilter{Metadata: map[string]string{"branch": "hcm"}, Limit: 50})
	require.NoError(t, err)
	require.Empty(t, got)
}

func testUpdateOrder(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	v0 := o.Version

	var stale orders.Order
	inTx(t, h, func(tx orders.Tx) error {
		lo, err := tx.LockOrder(ctx, shopA, o.ID)
		if err != nil {
			return err
		}
		require.Equal(t, v0, lo.Version)
		stale = *lo
		lo.Status, lo.PaymentStatus, lo.PaidAt, lo.UpdatedAt = orders.StatusPaid, orders.PaymentPaid, ptr(at(5)), at(6)
		lo.Total = 1 // not a status field: UpdateOrder must not write it
		if err := tx.UpdateOrder(ctx, lo); err != nil {
			return err
		}
		require.Equal(t, v0+1, lo.Version, "UpdateOrder increments Version")
		return nil
	})

	got, err := h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	want := *o
	want.Status, want.PaymentStatus, want.PaidAt, want.UpdatedAt, want.Version = orders.StatusPaid, orders.PaymentPaid, ptr(at(5)), at(6), v0+1
	requireOrder(t, &want, got)

	// A write based on the old version loses, and changes nothing.
	err = h.Store.InTx(ctx, func(tx orders.Tx) error {
		stale.Status, stale.UpdatedAt = orders.StatusCancelled, at(7)
		return tx.UpdateOrder(ctx, &stale)
	})
	require.ErrorIs(t, err, orders.ErrConflict)
	got, err = h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	requireOrder(t, &want, got)

	// Writing the current version again works, and can clear PaidAt.
	inTx(t, h, func(tx orders.Tx) error {
		lo, err := tx.LockOrder(ctx, shopA, o.ID)
		if err != nil {
			return err
		}
		lo.Status, lo.PaymentStatus, lo.PaidAt, lo.UpdatedAt = orders.StatusCancelled, orders.PaymentRefunded, nil, at(8)
		return tx.UpdateOrder(ctx, lo)
	})
	got, err = h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusCancelled, got.Status)
	require.Equal(t, orders.PaymentRefunded, got.PaymentStatus)
	require.Nil(t, got.PaidAt)
	require.Equal(t, at(8), got.UpdatedAt)
	require.Equal(t, v0+2, got.Version)

	// An order that does not exist cannot be updated.
	err = h.Store.InTx(ctx, func(tx orders.Tx) error {
		ghost := *got
		ghost.ID = orders.NewID()
		return tx.UpdateOrder(ctx, &ghost)
	})
	require.True(t, errors.Is(err, orders.ErrConflict) || errors.Is(err, orders.ErrNotFound), "got %v", err)
}

// testUpdateOrderConversation: an order made without a conversation (its customer
// could not be written to yet) gets one attached later by UpdateOrder.
func testUpdateOrderConversation(t *testing.T, h Harness) {
	ctx := context.Background()
	o := newOrder(shopA, 0)
	o.Customer.Channel = ""
	o = createOrder(t, h, o)
	require.Empty(t, o.ConversationID)
	conv := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram,
		ExternalID: "77001", CustomerName: "Lan", CreatedAt: at(1)}
	inTx(t, h, func(tx orders.Tx) error {
		if err := tx.UpsertConversation(ctx, conv); err != nil {
			return err
		}
		lo, err := tx.LockOrder(ctx, shopA, o.ID)
		if err != nil {
			return err
		}
		lo.ConversationID, lo.UpdatedAt = conv.ID, at(2)
		return tx.UpdateOrder(ctx, lo)
	})
	got, err := h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, conv.ID, got.ConversationID)
	require.Equal(t, o.Version+1, got.Version)

	// The conversation is found by its channel and external id, in its shop only.
	found, err := h.Store.ConversationByExternalID(ctx, shopA, orders.ChannelTelegram, "77001")
	require.NoError(t, err)
	require.Equal(t, conv.ID, found.ID)
	_, err = h.Store.ConversationByExternalID(ctx, shopB, orders.ChannelTelegram, "77001")
	requireNotFound(t, err, "another shop")
	_, err = h.Store.ConversationByExternalID(ctx, shopA, orders.ChannelMessenger, "77001")
	requireNotFound(t, err, "another channel")
	require.Equal(t, orders.StatusAwaitingPayment, got.Status)
}

func newAttempt(o *orders.Order, n int) *orders.Attempt {
	return &orders.Attempt{
		ID:        orders.NewID(),
		ShopID:    o.ShopID,
		OrderID:   o.ID,
		Gateway:   "sandbox",
		Amount:    o.Total,
		Currency:  o.Currency,
		Status:    orders.AttemptCreated,
		CreatedAt: at(n),
		UpdatedAt: at(n),
	}
}

func testAttempts(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))

	_, err := h.Store.LatestAttempt(ctx, shopA, o.ID)
	requireNotFound(t, err, "an order without attempts")

	// Attempts start without a session; several may wait for one at a time.
	a1, a2 := newAttempt(o, 1), newAttempt(o, 2)
	inTx(t, h, func(tx orders.Tx) error {
		if err := tx.InsertAttempt(ctx, a1); err != nil {
			return err
		}
		return tx.InsertAttempt(ctx, a2)
	})
	got, err := h.Store.Attempt(ctx, shopA, a1.ID)
	require.NoError(t, err)
	require.Equal(t, *a1, *got)
	got, err = h.Store.LatestAttempt(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, *a2, *got)

	inTx(t, h, func(tx orders.Tx) error {
		la, err := tx.LockAttempt(ctx, shopA, a2.ID)
		if err != nil {
			return err
		}
		require.Equal(t, *a2, *la)
		la.SessionID, la.Status, la.FailureReason, la.UpdatedAt = "cs_test_2", orders.AttemptPending, "3-D Secure", at(3)
		la.Amount = 1 // not written by UpdateAttempt
		return tx.UpdateAttempt(ctx, la)
	})
	a2.SessionID, a2.Status, a2.FailureReason, a2.UpdatedAt = "cs_test_2", orders.AttemptPending, "3-D Secure", at(3)
	got, err = h.Store.Attempt(ctx, shopA, a2.ID)
	require.NoError(t, err)
	require.Equal(t, *a2, *got)

	inTx(t, h, func(tx orders.Tx) error {
		la, err := tx.LockAttemptBySession(ctx, shopA, "sandbox", "cs_test_2")
		require.NoError(t, err)
		require.Equal(t, *a2, *la)
		_, err = tx.LockAttemptBySession(ctx, shopA, "stripe", "cs_test_2")
		requireNotFound(t, err, "another gateway's session")
		_, err = tx.LockAttemptBySession(ctx, shopB, "sandbox", "cs_test_2")
		requireNotFound(t, err, "another shop's session")
		_, err = tx.LockAttemptBySession(ctx, shopA, "sandbox", "")
		requireNotFound(t, err, "the empty session matches nothing")
		_, err = tx.LockAttempt(ctx, shopA, orders.NewID())
		requireNotFound(t, err)
		return nil
	})

	// A session belongs to one attempt per shop and gateway.
	dup := newAttempt(o, 4)
	dup.SessionID = "cs_test_2"
	err = h.Store.InTx(ctx, func(tx orders.Tx) error { return tx.InsertAttempt(ctx, dup) })
	require.Error(t, err, "a second attempt with the same gateway session")
	_, err = h.Store.Attempt(ctx, shopA, dup.ID)
	requireNotFound(t, err)

	// The same session id at another gateway is another attempt.
	other := newAttempt(o, 5)
	other.Gateway, other.SessionID = "stripe", "cs_test_2"
	inTx(t, h, func(tx orders.Tx) error { return tx.InsertAttempt(ctx, other) })
	got, err = h.Store.LatestAttempt(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, *other, *got)
}

func testStaleAttempts(t *testing.T, h Harness) {
	ctx := context.Background()
	oa := createOrder(t, h, newOrder(shopA, 0))
	ob := createOrder(t, h, newOrder(shopB, 0))

	mk := func(o *orders.Order, n int, status string) *orders.Attempt {
		a := newAttempt(o, n)
		a.Status, a.SessionID = status, fmt.Sprintf("cs_%s_%d", o.ShopID, n)
		return a
	}
	tooOld := mk(oa, 10, orders.AttemptPending)
	s1 := mk(oa, 20, orders.AttemptCreated)
	s2 := mk(ob, 30, orders.AttemptPending)
	done := mk(oa, 35, orders.AttemptSucceeded)
	failed := mk(ob, 36, orders.AttemptFailed)
	s3 := mk(oa, 40, orders.AttemptPending)
	tooNew := mk(ob, 60, orders.AttemptCreated)
	inTx(t, h, func(tx orders.Tx) error {
		// Inserted out of order, so that the suite checks the store sorts.
		for _, a := range []*orders.Attempt{s3, tooNew, failed, s1, done, tooOld, s2} {
			if err := tx.InsertAttempt(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})

	got, err := h.Store.StaleAttempts(ctx, at(15), at(50), time.Time{}, "", 10)
	require.NoError(t, err)
	require.Equal(t, []*orders.Attempt{s1, s2, s3}, got, "created or pending, inside the window, oldest first, every shop")

	got, err = h.Store.StaleAttempts(ctx, at(15), at(50), time.Time{}, "", 2)
	require.NoError(t, err)
	require.Equal(t, []*orders.Attempt{s1, s2}, got)

	got, err = h.Store.StaleAttempts(ctx, at(61), at(100), time.Time{}, "", 10)
	require.NoError(t, err)
	require.Empty(t, got)
}

func testOrderAttempts(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	other := createOrder(t, h, newOrder(shopA, 0))

	none, err := h.Store.OrderAttempts(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Empty(t, none, "an order without attempts")

	a1, a2, a3 := newAttempt(o, 10), newAttempt(o, 20), newAttempt(o, 30)
	a1.SessionID, a2.SessionID = "cs_1", "cs_2"
	a2.Status = orders.AttemptFailed
	elsewhere := newAttempt(other, 15)
	inTx(t, h, func(tx orders.Tx) error {
		// Inserted out of order, so that the suite checks the store sorts.
		for _, a := range []*orders.Attempt{a3, elsewhere, a1, a2} {
			if err := tx.InsertAttempt(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})

	got, err := h.Store.OrderAttempts(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, []*orders.Attempt{a1, a2, a3}, got, "every status, oldest first, this order only")

	got, err = h.Store.OrderAttempts(ctx, shopB, o.ID)
	require.NoError(t, err)
	require.Empty(t, got, "another shop's order")
}

// testPaymentByRef: a refund event names a payment by the gateway's ref for it.
func testPaymentByRef(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	a := newAttempt(o, 1)
	pay := func(n int, gateway, ref string) *orders.Payment {
		return &orders.Payment{
			ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, AttemptID: a.ID, Gateway: gateway,
			GatewayRef: ref, Status: orders.PaymentStatusSucceeded, Amount: o.Total,
			Currency: o.Currency, CreatedAt: at(n),
		}
	}
	older, newer := pay(2, "sandbox", "pi_1"), pay(3, "sandbox", "pi_1")
	noRef, omise := pay(4, "sandbox", ""), pay(5, "omise", "chrg_1")
	inTx(t, h, func(tx orders.Tx) error {
		if err := tx.InsertAttempt(ctx, a); err != nil {
			return err
		}
		for _, p := range []*orders.Payment{newer, noRef, omise, older} {
			if err := tx.InsertPayment(ctx, p); err != nil {
				return err
			}
		}
		// In the transaction that wrote them.
		got, err := tx.PaymentByRef(ctx, shopA, "omise", "chrg_1")
		require.NoError(t, err)
		require.Equal(t, *omise, *got, "the transaction sees its own writes")
		return nil
	})
	inTx(t, h, func(tx orders.Tx) error {
		got, err := tx.PaymentByRef(ctx, shopA, "sandbox", "pi_1")
		require.NoError(t, err)
		require.Equal(t, *older, *got, "the oldest of several")
		_, err = tx.PaymentByRef(ctx, shopB, "sandbox", "pi_1")
		requireNotFound(t, err, "another shop's payment")
		_, err = tx.PaymentByRef(ctx, shopA, "omise", "pi_1")
		requireNotFound(t, err, "another gateway's payment")
		_, err = tx.PaymentByRef(ctx, shopA, "sandbox", "")
		requireNotFound(t, err, "an empty ref names no payment")
		_, err = tx.PaymentByRef(ctx, shopA, "sandbox", "pi_2")
		requireNotFound(t, err)
		return nil
	})
}

func testPaymentsAndRefunds(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	a := newAttempt(o, 1)
	p1 := &orders.Payment{
		ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, AttemptID: a.ID, Gateway: "sandbox",
		GatewayRef: "pay_1", Status: orders.PaymentStatusSucceeded, Amount: o.Total,
		Currency: o.Currency, CreatedAt: at(2),
	}
	p2 := &orders.Payment{
		ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, AttemptID: a.ID, Gateway: "sandbox",
		GatewayRef: "pay_2", Status: orders.PaymentStatusSucceeded, Amount: o.Total,
		Currency: o.Currency, Duplicate: true, CreatedAt: at(3),
	}
	inTx(t, h, func(tx orders.Tx) error {
		if err := tx.InsertAttempt(ctx, a); err != nil {
			return err
		}
		// Inserted newest first: the order lists its payments oldest first anyway.
		if err := tx.InsertPayment(ctx, p2); err != nil {
			return err
		}
		return tx.InsertPayment(ctx, p1)
	})
	got, err := h.Store.Payment(ctx, shopA, p2.ID)
	require.NoError(t, err)
	require.Equal(t, *p2, *got)
	lo, err := h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, []*orders.Payment{p1, p2}, lo.Payments)

	r := func(p *orders.Payment, n int, amount int64, status string) *orders.Refund {
		id := orders.NewID()
		return &orders.Refund{
			ID: id, ShopID: shopA, OrderID: o.ID, PaymentID: p.ID, Amount: amount, Currency: p.Currency,
			Status: status, Reason: orders.RefundReasonRequested, IdempotencyKey: "chatpay-refund-" + id,
			CreatedAt: at(n), UpdatedAt: at(n),
		}
	}
	pending := r(p1, 10, 1000, orders.RefundPending)
	succeeded := r(p1, 11, 20000, orders.RefundSucceeded)
	failed := r(p1, 12, 300000, orders.RefundFailed)
	failed.FailureReason = "insufficient balance"
	other := r(p2, 13, p2.Amount, orders.RefundPending)
	other.Reason = orders.RefundReasonDuplicate
	inTx(t, h, func(tx orders.Tx) error {
		for _, x := range []*orders.Refund{failed, pending, other, succeeded} {
			if err := tx.InsertRefund(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})

	gotR, err := h.Store.Refund(ctx, shopA, failed.ID)
	require.NoError(t, err)
	require.Equal(t, *failed, *gotR)
	all, err := h.Store.OrderRefunds(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, []*orders.Refund{pending, succeeded, failed, other}, all, "oldest first")

	inTx(t, h, func(tx orders.Tx) error {
		total, err := tx.RefundsTotal(ctx, shopA, p1.ID)
		require.NoError(t, err)
		require.Equal(t, int64(21000), total, "pending and succeeded refunds count, failed ones do not")
		total, err = tx.RefundsTotal(ctx, shopA, orders.NewID())
		require.NoError(t, err)
		require.Zero(t, total, "a payment without refunds")
		total, err = tx.RefundsTotal(ctx, shopB, p1.ID)
		require.NoError(t, err)
		require.Zero(t, total, "another shop sees no refunds")

		lr, err := tx.LockRefund(ctx, shopA, pending.ID)
		require.NoError(t, err)
		require.Equal(t, *pending, *lr)
		lr.Status, lr.GatewayRef, lr.FailureReason, lr.UpdatedAt = orders.RefundFailed, "re_1", "card expired", at(20)
		lr.Amount = 1 // not written by UpdateRefund
		if err := tx.UpdateRefund(ctx, lr); err != nil {
			return err
		}
		total, err = tx.RefundsTotal(ctx, shopA, p1.ID)
		require.NoError(t, err)
		require.Equal(t, int64(20000), total, "the transaction sees its own writes")

		p1.Status, p1.RefundedAmount = orders.PaymentStatusSucceeded, 20000
		return tx.UpdatePayment(ctx, p1)
	})
	pending.Status, pending.GatewayRef, pending.FailureReason, pending.UpdatedAt = orders.RefundFailed, "re_1", "card expired", at(20)
	gotR, err = h.Store.Refund(ctx, shopA, pending.ID)
	require.NoError(t, err)
	require.Equal(t, *pending, *gotR)
	got, err = h.Store.Payment(ctx, shopA, p1.ID)
	require.NoError(t, err)
	require.Equal(t, *p1, *got)
	require.Equal(t, int64(20000), got.RefundedAmount)

	// A capture of less than was authorised writes the captured amount; then put the
	// payment back as it was for the checks below.
	for _, amount := range []int64{p1.Amount - 1, p1.Amount} {
		c := *p1
		c.Amount = amount
		require.NoError(t, h.Store.InTx(ctx, func(tx orders.Tx) error { return tx.UpdatePayment(ctx, &c) }))
		got, err = h.Store.Payment(ctx, shopA, p1.ID)
		require.NoError(t, err)
		require.Equal(t, amount, got.Amount)
	}

	_, err = h.Store.Payment(ctx, shopA, orders.NewID())
	requireNotFound(t, err)
	_, err = h.Store.Refund(ctx, shopA, orders.NewID())
	requireNotFound(t, err)
	none, err := h.Store.OrderRefunds(ctx, shopA, orders.NewID())
	require.NoError(t, err)
	require.Empty(t, none)
}

func testShipments(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	s1 := &orders.Shipment{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, Carrier: "GHN", TrackingNumber: "GHN123", CreatedAt: at(5)}
	s2 := &orders.Shipment{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, Carrier: "Kerry Express", CreatedAt: at(6)}
	inTx(t, h, func(tx orders.Tx) error {
		if err := tx.InsertShipment(ctx, s2); err != nil {
			return err
		}
		return tx.InsertShipment(ctx, s1)
	})
	got, err := h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, []*orders.Shipment{s1, s2}, got.Shipments, "oldest first")
	inTx(t, h, func(tx orders.Tx) error {
		lo, err := tx.LockOrder(ctx, shopA, o.ID)
		require.NoError(t, err)
		require.Equal(t, []*orders.Shipment{s1, s2}, lo.Shipments)
		return nil
	})
}

func normMessage(m *orders.Message) orders.Message {
	c := *m
	if len(c.Buttons) == 0 {
		c.Buttons = nil
	}
	return c
}

func testMessages(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	msg := func(n int, kind string, buttons []orders.Button) *orders.Message {
		return &orders.Message{
			ID: orders.NewID(), ShopID: shopA, ConversationID: o.ConversationID, OrderID: o.ID,
			Direction: orders.DirectionOut, Kind: kind, Text: "Đơn hàng #" + o.Code + "\n<b>355.000 ₫</b>",
			Buttons: buttons, Status: orders.MessageQueued, CreatedAt: at(n),
		}
	}
	card := msg(1, orders.KindOrderCard, []orders.Button{{Label: "Pay now", URL: "https://pay.example/pay/abc?x=1&y=2"}})
	failed := msg(2, orders.KindPaymentFailed, []orders.Button{{Label: "Pay again", URL: "https://pay.example/pay/abc"}, {Label: "Help", URL: "https://example.com/help"}})
	paid := msg(3, orders.KindPaidConfirmation, nil)
	inTx(t, h, func(tx orders.Tx) error {
		for _, m := range []*orders.Message{paid, card, failed} {
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})

	got, err := h.Store.Message(ctx, shopA, card.ID)
	require.NoError(t, err)
	require.Equal(t, normMessage(card), normMessage(got))
	require.Nil(t, got.SentAt)

	inTx(t, h, func(tx orders.Tx) error {
		m := *card
		m.Status, m.ExternalID, m.FailureReason, m.SentAt = orders.MessageSent, "777", "", ptr(at(9))
		m.Text = "changed" // not written by UpdateMessage
		return tx.UpdateMessage(ctx, &m)
	})
	card.Status, card.ExternalID, card.SentAt = orders.MessageSent, "777", ptr(at(9))
	got, err = h.Store.Message(ctx, shopA, card.ID)
	require.NoError(t, err)
	require.Equal(t, normMessage(card), normMessage(got))

	inTx(t, h, func(tx orders.Tx) error {
		m := *failed
		m.Status, m.FailureReason = orders.MessageFailed, "bot was blocked by the user"
		return tx.UpdateMessage(ctx, &m)
	})
	failed.Status, failed.FailureReason = orders.MessageFailed, "bot was blocked by the user"

	list, err := h.Store.OrderMessages(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Len(t, list, 3)
	for i, want := range []*orders.Message{card, failed, paid} {
		require.Equal(t, normMessage(want), normMessage(list[i]), "message %d, oldest first", i)
	}

	_, err = h.Store.Message(ctx, shopA, orders.NewID())
	requireNotFound(t, err)
	list, err = h.Store.OrderMessages(ctx, shopA, orders.NewID())
	require.NoError(t, err)
	require.Empty(t, list)
}

func testNotices(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	n1 := &orders.Notice{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, Kind: orders.NoticePaid, Text: "Order #1001 was paid.", CreatedAt: at(1)}
	n2 := &orders.Notice{ID: orders.NewID(), ShopID: shopA, Kind: orders.NoticeUnknownSession, Text: "Unknown session cs_x.", CreatedAt: at(2)}
	n3 := &orders.Notice{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, Kind: orders.NoticeReadyToShip, Text: "Ship #1001.", CreatedAt: at(3)}
	nb := &orders.Notice{ID: orders.NewID(), ShopID: shopB, Kind: orders.NoticePaid, Text: "B", CreatedAt: at(4)}
	inTx(t, h, func(tx orders.Tx) error {
		for _, n := range []*orders.Notice{n2, n3, nb, n1} {
			if err := tx.InsertNotice(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := h.Store.Notice(ctx, shopA, n2.ID)
	require.NoError(t, err)
	require.Equal(t, *n2, *got, "a notice without an order")
	got, err = h.Store.Notice(ctx, shopA, n1.ID)
	require.NoError(t, err)
	require.Equal(t, *n1, *got)

	list, err := h.Store.Notices(ctx, shopA, 10)
	require.NoError(t, err)
	require.Equal(t, []*orders.Notice{n3, n2, n1}, list, "newest first, only the shop's own")
	list, err = h.Store.Notices(ctx, shopA, 2)
	require.NoError(t, err)
	require.Equal(t, []*orders.Notice{n3, n2}, list)

	_, err = h.Store.Notice(ctx, shopA, orders.NewID())
	requireNotFound(t, err)
}

func newEvent(shop, gateway, eventID string) *orders.GatewayEvent {
	return &orders.GatewayEvent{
		ID: orders.NewID(), ShopID: shop, Gateway: gateway, EventID: eventID,
		Type: orders.EventSucceeded, SessionID: "cs_1", PaymentRef: "pay_1", Amount: 355000,
		Currency: "VND", Payload: []byte(`{"id":"` + eventID + `","raw":"\u00e9"}`), ReceivedAt: at(1),
	}
}

// insertEvent records one event with InsertEvents.
func insertEvent(ctx context.Context, tx orders.Tx, ev *orders.GatewayEvent) (bool, error) {
	fresh, err := tx.InsertEvents(ctx, []*orders.GatewayEvent{ev})
	if err != nil {
		return false, err
	}
	return fresh[0], nil
}

func testEvents(t *testing.T, h Harness) {
	ctx := context.Background()
	ev := newEvent(shopA, "sandbox", "evt_1")
	inTx(t, h, func(tx orders.Tx) error {
		fresh, err := insertEvent(ctx, tx, ev)
		require.NoError(t, err)
		require.True(t, fresh)
		ev.Outcome = orders.OutcomeApplied
		return tx.SetEventOutcome(ctx, ev)
	})

	// A replay reports false and leaves the transaction usable: the store must not
	// turn the duplicate into an error that aborts it (Postgres would).
	o := newOrder(shopA, 2)
	inTx(t, h, func(tx orders.Tx) error {
		again := newEvent(shopA, "sandbox", "evt_1")
		again.Type = orders.EventFailed
		fresh, err := insertEvent(ctx, tx, again)
		require.NoError(t, err)
		require.False(t, fresh, "the same (shop, gateway, event id) again")
		code, err := tx.NextOrderCode(ctx, shopA)
		if err != nil {
			return err
		}
		o.Code = fmt.Sprint(code)
		return tx.InsertOrder(ctx, o)
	})
	_, err := h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err, "writes after a duplicate event commit")

	// The same event id at another gateway or shop is another event.
	inTx(t, h, func(tx orders.Tx) error {
		for _, e := range []*orders.GatewayEvent{newEvent(shopA, "stripe", "evt_1"), newEvent(shopB, "sandbox", "evt_1")} {
			fresh, err := insertEvent(ctx, tx, e)
			require.NoError(t, err)
			require.True(t, fresh, "%s/%s", e.ShopID, e.Gateway)
			e.Outcome = orders.OutcomeIgnored
			if err := tx.SetEventOutcome(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func testSecret(t *testing.T, h Harness) {
	ctx := context.Background()
	calls := 0
	gen := func(v string) func() (string, error) {
		return func() (string, error) { calls++; return v, nil }
	}
	s, err := h.Store.Secret(ctx, "link_key", gen("first"))
	require.NoError(t, err)
	require.Equal(t, "first", s)
	s, err = h.Store.Secret(ctx, "link_key", gen("second"))
	require.NoError(t, err)
	require.Equal(t, "first", s, "a secret is created once")
	require.Equal(t, 1, calls, "gen runs only when the secret is missing")

	s, err = h.Store.Secret(ctx, "demo_api_key", gen("other"))
	require.NoError(t, err)
	require.Equal(t, "other", s)

	boom := errors.New("no entropy")
	_, err = h.Store.Secret(ctx, "broken", func() (string, error) { return "", boom })
	require.ErrorIs(t, err, boom)
	s, err = h.Store.Secret(ctx, "broken", gen("fixed"))
	require.NoError(t, err)
	require.Equal(t, "fixed", s, "a failed gen stores nothing")
}

func testPing(t *testing.T, h Harness) {
	require.NoError(t, h.Store.Ping(context.Background()))
}

func testJobs(t *testing.T, h Harness) {
	ctx := context.Background()
	require.Empty(t, h.Jobs(t))
	inTx(t, h, func(tx orders.Tx) error {
		if err := tx.Enqueue(ctx, orders.DeliverMessage{ShopID: shopA, MessageID: "m1"}); err != nil {
			return err
		}
		return tx.Enqueue(ctx,
			orders.DeliverNotice{ShopID: shopA, NoticeID: "n1"},
			orders.ProcessRefund{ShopID: shopB, RefundID: "r1"},
		)
	})
	inTx(t, h, func(tx orders.Tx) error { return tx.Enqueue(ctx, orders.ReconcileAttempts{}) })
	inTx(t, h, func(tx orders.Tx) error { return tx.Enqueue(ctx) })
	require.Equal(t, []orders.Job{
		orders.DeliverMessage{ShopID: shopA, MessageID: "m1"},
		orders.DeliverNotice{ShopID: shopA, NoticeID: "n1"},
		orders.ProcessRefund{ShopID: shopB, RefundID: "r1"},
		orders.ReconcileAttempts{},
	}, h.Jobs(t))
}

func testRollback(t *testing.T, h Harness) {
	ctx := context.Background()
	boom := errors.New("boom")
	o := newOrder(shopA, 0)
	m := &orders.Message{ID: orders.NewID(), ShopID: shopA, Direction: orders.DirectionOut, Kind: orders.KindOrderCard, Status: orders.MessageQueued, CreatedAt: at(1)}
	n := &orders.Notice{ID: orders.NewID(), ShopID: shopA, Kind: orders.NoticePaid, Text: "x", CreatedAt: at(1)}
	ev := newEvent(shopA, "sandbox", "evt_rolled_back")
	err := h.Store.InTx(ctx, func(tx orders.Tx) error {
		code, err := tx.NextOrderCode(ctx, shopA)
		require.NoError(t, err)
		o.Code = fmt.Sprint(code)
		c := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelWebchat, ExternalID: "w1", CreatedAt: at(0)}
		require.NoError(t, tx.UpsertConversation(ctx, c))
		o.ConversationID, m.ConversationID, m.OrderID, n.OrderID = c.ID, c.ID, o.ID, o.ID
		require.NoError(t, tx.InsertOrder(ctx, o))
		require.NoError(t, tx.InsertMessage(ctx, m))
		require.NoError(t, tx.InsertNotice(ctx, n))
		fresh, err := insertEvent(ctx, tx, ev)
		require.NoError(t, err)
		require.True(t, fresh)
		require.NoError(t, tx.Enqueue(ctx, orders.DeliverMessage{ShopID: shopA, MessageID: m.ID}))
		return fmt.Errorf("render: %w", boom)
	})
	require.ErrorIs(t, err, boom, "InTx returns fn's error")

	_, err = h.Store.Order(ctx, shopA, o.ID)
	requireNotFound(t, err)
	_, err = h.Store.OrderByTokenHash(ctx, o.Link.TokenHash)
	requireNotFound(t, err)
	_, err = h.Store.Conversation(ctx, shopA, o.ConversationID)
	requireNotFound(t, err)
	_, err = h.Store.Message(ctx, shopA, m.ID)
	requireNotFound(t, err)
	_, err = h.Store.Notice(ctx, shopA, n.ID)
	requireNotFound(t, err)
	require.Empty(t, h.Jobs(t), "jobs of a rolled back transaction never exist")

	// The event was not recorded, so it is fresh next time.
	inTx(t, h, func(tx orders.Tx) error {
		fresh, err := insertEvent(ctx, tx, ev)
		require.NoError(t, err)
		require.True(t, fresh)
		return nil
	})
}

// testReadInsideTx checks that Store reads work while a transaction is open: the
// Service may read through the Store inside InTx (a job's worker reading what a
// callback needs, for one), so a store whose reads wait for the transaction's
// connection would deadlock.
func testReadInsideTx(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	inTx(t, h, func(tx orders.Tx) error {
		lo, err := tx.LockOrder(ctx, shopA, o.ID)
		if err != nil {
			return err
		}
		lo.Status, lo.UpdatedAt = orders.StatusCancelled, at(1)
		if err := tx.UpdateOrder(ctx, lo); err != nil {
			return err
		}
		got, err := h.Store.Order(ctx, shopA, o.ID)
		require.NoError(t, err)
		require.Equal(t, orders.StatusAwaitingPayment, got.Status, "a Store read sees only committed state")
		return nil
	})
}

// fixture is one order of shop A with a row of every kind hanging off it.
type fixture struct {
	order    *orders.Order
	attempt  *orders.Attempt
	payment  *orders.Payment
	refund   *orders.Refund
	shipment *orders.Shipment
	message  *orders.Message
	notice   *orders.Notice
}

func newFixture(t *testing.T, h Harness) *fixture {
	ctx := context.Background()
	f := &fixture{order: createOrder(t, h, newOrder(shopA, 0))}
	o := f.order
	f.attempt = newAttempt(o, 1)
	f.attempt.SessionID, f.attempt.Status = "cs_fix", orders.AttemptPending
	f.payment = &orders.Payment{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, AttemptID: f.attempt.ID, Gateway: "sandbox", Status: orders.PaymentStatusSucceeded, Amount: o.Total, Currency: o.Currency, CreatedAt: at(2)}
	f.refund = &orders.Refund{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, PaymentID: f.payment.ID, Amount: 100, Currency: o.Currency, Status: orders.RefundPending, Reason: orders.RefundReasonRequested, IdempotencyKey: "k", CreatedAt: at(3), UpdatedAt: at(3)}
	f.shipment = &orders.Shipment{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, Carrier: "GHN", CreatedAt: at(4)}
	f.message = &orders.Message{ID: orders.NewID(), ShopID: shopA, ConversationID: o.ConversationID, OrderID: o.ID, Direction: orders.DirectionOut, Kind: orders.KindOrderCard, Text: "card", Status: orders.MessageQueued, CreatedAt: at(5)}
	f.notice = &orders.Notice{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, Kind: orders.NoticePaid, Text: "paid", CreatedAt: at(6)}
	inTx(t, h, func(tx orders.Tx) error {
		return errors.Join(
			tx.InsertAttempt(ctx, f.attempt),
			tx.InsertPayment(ctx, f.payment),
			tx.InsertRefund(ctx, f.refund),
			tx.InsertShipment(ctx, f.shipment),
			tx.InsertMessage(ctx, f.message),
			tx.InsertNotice(ctx, f.notice),
		)
	})
	return f
}

func testTenantIsolation(t *testing.T, h Harness) {
	ctx := context.Background()
	f := newFixture(t, h)
	o := f.order
	s := h.Store

	// Every read with shop B's id misses shop A's rows.
	_, err := s.Order(ctx, shopB, o.ID)
	requireNotFound(t, err, "Order")
	_, err = s.OrderByCode(ctx, shopB, o.Code)
	requireNotFound(t, err, "OrderByCode")
	list, err := s.ListOrders(ctx, shopB, orders.OrderFilter{Limit: 50})
	require.NoError(t, err)
	require.Empty(t, list, "ListOrders")
	_, err = s.Conversation(ctx, shopB, o.ConversationID)
	requireNotFound(t, err, "Conversation")
	_, err = s.Message(ctx, shopB, f.message.ID)
	requireNotFound(t, err, "Message")
	msgs, err := s.OrderMessages(ctx, shopB, o.ID)
	require.NoError(t, err)
	require.Empty(t, msgs, "OrderMessages")
	notices, err := s.Notices(ctx, shopB, 50)
	require.NoError(t, err)
	require.Empty(t, notices, "Notices")
	_, err = s.Notice(ctx, shopB, f.notice.ID)
	requireNotFound(t, err, "Notice")
	_, err = s.LatestAttempt(ctx, shopB, o.ID)
	requireNotFound(t, err, "LatestAttempt")
	_, err = s.Attempt(ctx, shopB, f.attempt.ID)
	requireNotFound(t, err, "Attempt")
	_, err = s.Refund(ctx, shopB, f.refund.ID)
	requireNotFound(t, err, "Refund")
	refunds, err := s.OrderRefunds(ctx, shopB, o.ID)
	require.NoError(t, err)
	require.Empty(t, refunds, "OrderRefunds")
	_, err = s.Payment(ctx, shopB, f.payment.ID)
	requireNotFound(t, err, "Payment")

	inTx(t, h, func(tx orders.Tx) error {
		_, err := tx.LockOrder(ctx, shopB, o.ID)
		requireNotFound(t, err, "LockOrder")
		_, err = tx.LockAttempt(ctx, shopB, f.attempt.ID)
		requireNotFound(t, err, "LockAttempt")
		_, err = tx.LockAttemptBySession(ctx, shopB, f.attempt.Gateway, f.attempt.SessionID)
		requireNotFound(t, err, "LockAttemptBySession")
		_, err = tx.LockRefund(ctx, shopB, f.refund.ID)
		requireNotFound(t, err, "LockRefund")
		total, err := tx.RefundsTotal(ctx, shopB, f.payment.ID)
		require.NoError(t, err)
		require.Zero(t, total, "RefundsTotal")
		return nil
	})

	// Writes carrying shop B's id change none of shop A's rows.
	updates := map[string]func(tx orders.Tx) error{
		"UpdateAttempt": func(tx orders.Tx) error {
			a := *f.attempt
			a.ShopID, a.Status = shopB, orders.AttemptFailed
			return tx.UpdateAttempt(ctx, &a)
		},
		"UpdatePayment": func(tx orders.Tx) error {
			p := *f.payment
			p.ShopID, p.RefundedAmount = shopB, 5
			return tx.UpdatePayment(ctx, &p)
		},
		"UpdateRefund": func(tx orders.Tx) error {
			r := *f.refund
			r.ShopID, r.Status = shopB, orders.RefundFailed
			return tx.UpdateRefund(ctx, &r)
		},
		"UpdateMessage": func(tx orders.Tx) error {
			m := *f.message
			m.ShopID, m.Status = shopB, orders.MessageSent
			return tx.UpdateMessage(ctx, &m)
		},
	}
	for _, name := range slices.Sorted(maps.Keys(updates)) {
		err := s.InTx(ctx, updates[name])
		requireNotFound(t, err, name+" with another shop's id")
	}
	err = s.InTx(ctx, func(tx orders.Tx) error {
		lo := *o
		lo.ShopID, lo.Status = shopB, orders.StatusCancelled
		return tx.UpdateOrder(ctx, &lo)
	})
	require.True(t, errors.Is(err, orders.ErrConflict) || errors.Is(err, orders.ErrNotFound), "UpdateOrder with another shop's id: %v", err)

	// Updating a row that does not exist is ErrNotFound too.
	err = s.InTx(ctx, func(tx orders.Tx) error {
		a := *f.attempt
		a.ID = orders.NewID()
		return tx.UpdateAttempt(ctx, &a)
	})
	requireNotFound(t, err, "UpdateAttempt of a missing attempt")

	got, err := s.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusAwaitingPayment, got.Status)
	require.Equal(t, []*orders.Payment{f.payment}, got.Payments)
	a, err := s.Attempt(ctx, shopA, f.attempt.ID)
	require.NoError(t, err)
	require.Equal(t, *f.attempt, *a)
	r, err := s.Refund(ctx, shopA, f.refund.ID)
	require.NoError(t, err)
	require.Equal(t, *f.refund, *r)
	m, err := s.Message(ctx, shopA, f.message.ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageQueued, m.Status)
}

// race runs fn in n goroutines released at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testRaceUpdateOrder(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	const n = 20
	var mu sync.Mutex
	won, sawPaid, conflicts := 0, 0, 0
	errs := race(n, func(i int) error {
		var changed bool
		err := h.Store.InTx(ctx, func(tx orders.Tx) error {
			changed = false // InTx may retry fn
			lo, err := tx.LockOrder(ctx, shopA, o.ID)
			if err != nil {
				return err
			}
			if lo.Status != orders.StatusAwaitingPayment {
				return nil
			}
			lo.Status, lo.PaymentStatus, lo.PaidAt, lo.UpdatedAt = orders.StatusPaid, orders.PaymentPaid, ptr(at(i)), at(i)
			if err := tx.UpdateOrder(ctx, lo); err != nil {
				return err
			}
			changed = true
			return nil
		})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, orders.ErrConflict):
			conflicts++
			return nil
		case err != nil:
			return err
		case changed:
			won++
		default:
			sawPaid++
		}
		return nil
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, won, "exactly one transaction pays the order")
	require.Equal(t, n-1, sawPaid+conflicts)

	got, err := h.Store.Order(ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.StatusPaid, got.Status)
	require.Equal(t, o.Version+1, got.Version, "one write")
}

func testRaceInsertEvent(t *testing.T, h Harness) {
	ctx := context.Background()
	const n = 20
	fresh := make([]bool, n)
	errs := race(n, func(i int) error {
		return h.Store.InTx(ctx, func(tx orders.Tx) error {
			ev := newEvent(shopA, "sandbox", "evt_race")
			ok, err := insertEvent(ctx, tx, ev)
			fresh[i] = ok
			return err
		})
	})
	wins := 0
	for i := range n {
		require.NoError(t, errs[i])
		if fresh[i] {
			wins++
		}
	}
	require.Equal(t, 1, wins, "exactly one goroutine records the event")
}

func testRaceNextOrderCode(t *testing.T, h Harness) {
	ctx := context.Background()
	const n = 20
	codes := make([]int64, n)
	errs := race(n, func(i int) error {
		return h.Store.InTx(ctx, func(tx orders.Tx) error {
			c, err := tx.NextOrderCode(ctx, shopA)
			codes[i] = c
			return err
		})
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.Sort(codes)
	want := make([]int64, n)
	for i := range want {
		want[i] = 1001 + int64(i)
	}
	require.Equal(t, want, codes, "distinct, consecutive codes")
}

// testEventBatch records several events in one call, as the webhook server does for
// webhooks that arrive together, and checks that what the transaction reads after it
// reflects the transaction's own writes, however the store read ahead.
func testEventBatch(t *testing.T, h Harness) {
	ctx := context.Background()
	o := newOrder(shopA, 0)
	a := &orders.Attempt{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID, Gateway: "sandbox", SessionID: "cs_batch",
		Amount: o.Total, Currency: o.Currency, Status: orders.AttemptCreated, CreatedAt: at(1), UpdatedAt: at(1)}
	// A second attempt of the same order: its events lock the same order.
	a2 := *a
	a2.ID, a2.SessionID = orders.NewID(), "cs_batch2"
	inTx(t, h, func(tx orders.Tx) error {
		code, err := tx.NextOrderCode(ctx, shopA)
		if err != nil {
			return err
		}
		o.Code = fmt.Sprint(code)
		if err := tx.InsertOrder(ctx, o); err != nil {
			return err
		}
		if err := tx.InsertAttempt(ctx, a); err != nil {
			return err
		}
		return tx.InsertAttempt(ctx, &a2)
	})

	pending := newEvent(shopA, "sandbox", "evt_b1")
	pending.Type, pending.SessionID = orders.EventPending, a.SessionID
	succeeded := newEvent(shopA, "sandbox", "evt_b2")
	succeeded.SessionID = a.SessionID
	again := newEvent(shopA, "sandbox", "evt_b1") // evt_b1 repeated within the batch
	unknown := newEvent(shopA, "sandbox", "evt_b3")
	unknown.SessionID = "cs_nobody"
	other := newEvent(shopA, "sandbox", "evt_b4")
	other.SessionID = a2.SessionID
	inTx(t, h, func(tx orders.Tx) error {
		fresh, err := tx.InsertEvents(ctx, []*orders.GatewayEvent{pending, succeeded, again, unknown, other})
		require.NoError(t, err)
		require.Equal(t, []bool{true, true, false, true, true}, fresh)

		// The first event moves the attempt and the order.
		got, err := tx.LockAttemptBySession(ctx, shopA, "sandbox", a.SessionID)
		require.NoError(t, err)
		require.Equal(t, orders.AttemptCreated, got.Status)
		got.Status = orders.AttemptPending
		require.NoError(t, tx.UpdateAttempt(ctx, got))
		lo, err := tx.LockOrder(ctx, shopA, o.ID)
		require.NoError(t, err)
		require.Equal(t, o.Version, lo.Version)
		lo.Status, lo.PaymentStatus = orders.StatusPaid, orders.PaymentPaid
		require.NoError(t, tx.UpdateOrder(ctx, lo))
		require.NoError(t, tx.InsertPayment(ctx, &orders.Payment{ID: orders.NewID(), ShopID: shopA, OrderID: o.ID,
			AttemptID: a.ID, Gateway: "sandbox", Status: orders.PaymentStatusSucceeded, Amount: o.Total,
			Currency: o.Currency, CreatedAt: at(2)}))

		// The second sees those writes, not what was read before them.
		got, err = tx.LockAttemptBySession(ctx, shopA, "sandbox", a.SessionID)
		require.NoError(t, err)
		require.Equal(t, orders.AttemptPending, got.Status, "the attempt as this transaction left it")
		lo, err = tx.LockOrder(ctx, shopA, o.ID)
		require.NoError(t, err)
		require.Equal(t, orders.StatusPaid, lo.Status, "the order as this transaction left it")
		require.Equal(t, o.Version+1, lo.Version)
		require.Len(t, lo.Payments, 1, "the payment this transaction inserted")

		_, err = tx.LockAttemptBySession(ctx, shopA, "sandbox", "cs_nobody")
		requireNotFound(t, err)

		// The other attempt is unchanged, but its order is the one changed above.
		got, err = tx.LockAttemptBySession(ctx, shopA, "sandbox", a2.SessionID)
		require.NoError(t, err)
		require.Equal(t, a2.ID, got.ID)
		lo, err = tx.LockOrder(ctx, shopA, o.ID)
		require.NoError(t, err)
		require.Equal(t, orders.StatusPaid, lo.Status, "the order as this transaction left it")
		require.Equal(t, o.Version+1, lo.Version)
		require.Len(t, lo.Payments, 1)
		for _, e := range []*orders.GatewayEvent{pending, succeeded, unknown, other} {
			e.Outcome = orders.OutcomeApplied
			if err := tx.SetEventOutcome(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})

	// All four are recorded: each is a duplicate now.
	inTx(t, h, func(tx orders.Tx) error {
		fresh, err := tx.InsertEvents(ctx, []*orders.GatewayEvent{
			newEvent(shopA, "sandbox", "evt_b3"), newEvent(shopA, "sandbox", "evt_b2"), newEvent(shopA, "sandbox", "evt_b1"),
			newEvent(shopA, "sandbox", "evt_b4"),
		})
		require.NoError(t, err)
		require.Equal(t, []bool{false, false, false, false}, fresh)
		return nil
	})
}

func chatUpdate(shop, source string, id int64) *orders.ChatUpdate {
	return &orders.ChatUpdate{ShopID: shop, Source: source, UpdateID: id,
		Payload: []byte(fmt.Sprintf(`{"update_id":%d,"message":{"text":"Xin chào"}}`, id)), ReceivedAt: at(1)}
}

func testChatUpdates(t *testing.T, h Harness) {
	ctx := context.Background()
	off, err := h.Store.ChatOffset(ctx, shopA, "telegram:1")
	require.NoError(t, err)
	require.Zero(t, off, "polling that never ran starts at 0")

	u1, u2 := chatUpdate(shopA, "telegram:1", 100), chatUpdate(shopA, "telegram:1", 101)
	inTx(t, h, func(tx orders.Tx) error {
		fresh, err := tx.InsertChatUpdates(ctx, []*orders.ChatUpdate{u1, u2, chatUpdate(shopA, "telegram:1", 100)})
		require.NoError(t, err)
		require.Equal(t, []bool{true, true, false}, fresh, "an update repeated in the batch is recorded once")
		return tx.SetChatOffset(ctx, shopA, "telegram:1", 102)
	})
	got, err := h.Store.ChatUpdate(ctx, shopA, "telegram:1", 100)
	require.NoError(t, err)
	require.Equal(t, u1, got)
	off, err = h.Store.ChatOffset(ctx, shopA, "telegram:1")
	require.NoError(t, err)
	require.Equal(t, int64(102), off)

	// A redelivery is not recorded again; the same id from another bot or shop is
	// another update. An offset never moves back.
	inTx(t, h, func(tx orders.Tx) error {
		fresh, err := tx.InsertChatUpdates(ctx, []*orders.ChatUpdate{
			chatUpdate(shopA, "telegram:1", 101), chatUpdate(shopA, "telegram:2", 101), chatUpdate(shopB, "telegram:1", 101),
		})
		require.NoError(t, err)
		require.Equal(t, []bool{false, true, true}, fresh)
		return tx.SetChatOffset(ctx, shopA, "telegram:1", 90)
	})
	off, err = h.Store.ChatOffset(ctx, shopA, "telegram:1")
	require.NoError(t, err)
	require.Equal(t, int64(102), off, "the offset only moves forward")
	off, err = h.Store.ChatOffset(ctx, shopB, "telegram:1")
	require.NoError(t, err)
	require.Zero(t, off, "offsets are per shop")

	_, err = h.Store.ChatUpdate(ctx, shopB, "telegram:1", 100)
	requireNotFound(t, err)
	_, err = h.Store.ChatUpdate(ctx, shopA, "telegram:1", 999)
	requireNotFound(t, err)
}

func testRaceChatUpdate(t *testing.T, h Harness) {
	ctx := context.Background()
	const n = 20
	fresh := make([]bool, n)
	errs := race(n, func(i int) error {
		return h.Store.InTx(ctx, func(tx orders.Tx) error {
			ok, err := tx.InsertChatUpdates(ctx, []*orders.ChatUpdate{chatUpdate(shopA, "telegram:7", 5000)})
			if err != nil {
				return err
			}
			fresh[i] = ok[0]
			return tx.SetChatOffset(ctx, shopA, "telegram:7", int64(5001+i))
		})
	})
	wins := 0
	for i := range n {
		require.NoError(t, errs[i])
		if fresh[i] {
			wins++
		}
	}
	require.Equal(t, 1, wins, "exactly one goroutine records the update")
	off, err := h.Store.ChatOffset(ctx, shopA, "telegram:7")
	require.NoError(t, err)
	require.Equal(t, int64(5001+n-1), off, "the largest offset wins whatever the commit order")
}

// keyedUpdate is an update a platform identifies by a string (a Messenger mid).
func keyedUpdate(shop, source, key string) *orders.ChatUpdate {
	return &orders.ChatUpdate{ShopID: shop, Source: source, Key: key, Chat: "psid-1",
		Payload: []byte(`{"message":{"mid":"` + key + `","text":"Chào shop"}}`), ReceivedAt: at(1)}
}

func testKeyedChatUpdates(t *testing.T, h Harness) {
	ctx := context.Background()
	const src = "messenger:42"
	a, b := keyedUpdate(shopA, src, "m_a"), keyedUpdate(shopA, src, "m_b")
	inTx(t, h, func(tx orders.Tx) error {
		fresh, err := tx.InsertChatUpdates(ctx, []*orders.ChatUpdate{a, b, keyedUpdate(shopA, src, "m_a")})
		require.NoError(t, err)
		require.Equal(t, []bool{true, true, false}, fresh, "a key repeated in the batch is recorded once")
		return nil
	})
	require.Positive(t, a.UpdateID)
	require.Equal(t, a.UpdateID+1, b.UpdateID, "numbered in the order recorded")
	got, err := h.Store.ChatUpdate(ctx, shopA, src, b.UpdateID)
	require.NoError(t, err)
	require.Equal(t, b.Payload, got.Payload)
	require.Equal(t, "psid-1", got.Chat)

	// A redelivery is not recorded again; the same key from another page or shop is
	// another update, numbered on its own.
	again, other, otherShop := keyedUpdate(shopA, src, "m_b"), keyedUpdate(shopA, "messenger:43", "m_b"), keyedUpdate(shopB, src, "m_b")
	inTx(t, h, func(tx orders.Tx) error {
		fresh, err := tx.InsertChatUpdates(ctx, []*orders.ChatUpdate{again, other, otherShop})
		require.NoError(t, err)
		require.Equal(t, []bool{false, true, true}, fresh)
		return nil
	})
	require.Equal(t, int64(1), other.UpdateID)
	require.Equal(t, int64(1), otherShop.UpdateID)

	// A rolled back delivery leaves the key free for the next one.
	err = h.Store.InTx(ctx, func(tx orders.Tx) error {
		if _, err := tx.InsertChatUpdates(ctx, []*orders.ChatUpdate{keyedUpdate(shopA, src, "m_c")}); err != nil {
			return err
		}
		return errors.New("crash before the 200")
	})
	require.Error(t, err)
	c := keyedUpdate(shopA, src, "m_c")
	inTx(t, h, func(tx orders.Tx) error {
		fresh, err := tx.InsertChatUpdates(ctx, []*orders.ChatUpdate{c})
		require.NoError(t, err)
		require.Equal(t, []bool{true}, fresh)
		return nil
	})
	require.Greater(t, c.UpdateID, b.UpdateID)
}

// testRaceKeyedChatUpdate: the same event delivered 20 times at once is recorded by
// exactly one delivery.
func testRaceKeyedChatUpdate(t *testing.T, h Harness) {
	ctx := context.Background()
	const n = 20
	fresh := make([]bool, n)
	errs := race(n, func(i int) error {
		return h.Store.InTx(ctx, func(tx orders.Tx) error {
			ok, err := tx.InsertChatUpdates(ctx, []*orders.ChatUpdate{keyedUpdate(shopA, "messenger:7", "m_same")})
			if err != nil {
				return err
			}
			fresh[i] = ok[0]
			return nil
		})
	})
	wins := 0
	for i := range n {
		require.NoError(t, errs[i])
		if fresh[i] {
			wins++
		}
	}
	require.Equal(t, 1, wins, "exactly one delivery records the event")
}

func testStaffThread(t *testing.T, h Harness) {
	ctx := context.Background()
	lan := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram, ExternalID: "1001", CreatedAt: at(0)}
	minh := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram, ExternalID: "1002", CreatedAt: at(0)}
	inTx(t, h, func(tx orders.Tx) error {
		if err := tx.UpsertConversation(ctx, lan); err != nil {
			return err
		}
		return tx.UpsertConversation(ctx, minh)
	})
	_, err := h.Store.ConversationByStaffThread(ctx, shopA, 0)
	requireNotFound(t, err)

	inbound := at(5)
	lan.CustomerName, lan.LastInboundAt, lan.StaffThreadID = "Lan", &inbound, 55
	inTx(t, h, func(tx orders.Tx) error { return tx.UpdateConversation(ctx, lan) })
	got, err := h.Store.ConversationByStaffThread(ctx, shopA, 55)
	require.NoError(t, err)
	require.Equal(t, lan, got)
	got, err = h.Store.Conversation(ctx, shopA, lan.ID)
	require.NoError(t, err)
	require.Equal(t, lan, got)
	_, err = h.Store.ConversationByStaffThread(ctx, shopB, 55)
	requireNotFound(t, err)

	// A topic belongs to one conversation.
	minh.StaffThreadID = 55
	err = h.Store.InTx(ctx, func(tx orders.Tx) error { return tx.UpdateConversation(ctx, minh) })
	require.ErrorIs(t, err, orders.ErrConflict)
	got, err = h.Store.ConversationByStaffThread(ctx, shopA, 55)
	require.NoError(t, err)
	require.Equal(t, lan.ID, got.ID)

	// A conversation of another shop is not found by this shop's update.
	other := *lan
	other.ShopID = shopB
	err = h.Store.InTx(ctx, func(tx orders.Tx) error { return tx.UpdateConversation(ctx, &other) })
	require.ErrorIs(t, err, orders.ErrNotFound)
}

func testOrderKey(t *testing.T, h Harness) {
	ctx := context.Background()
	o := newOrder(shopA, 0)
	inTx(t, h, func(tx orders.Tx) error {
		code, err := tx.NextOrderCode(ctx, shopA)
		if err != nil {
			return err
		}
		o.Code = fmt.Sprint(code)
		if err := tx.InsertOrder(ctx, o); err != nil {
			return err
		}
		return tx.InsertOrderKey(ctx, shopA, "telegram:1:100", o.ID)
	})
	id, err := h.Store.OrderIDByKey(ctx, shopA, "telegram:1:100")
	require.NoError(t, err)
	require.Equal(t, o.ID, id)
	_, err = h.Store.OrderIDByKey(ctx, shopB, "telegram:1:100")
	requireNotFound(t, err)

	// The same key again fails the whole transaction: the second order is not stored.
	again := newOrder(shopA, 0)
	err = h.Store.InTx(ctx, func(tx orders.Tx) error {
		code, err := tx.NextOrderCode(ctx, shopA)
		if err != nil {
			return err
		}
		again.Code = fmt.Sprint(code)
		if err := tx.InsertOrder(ctx, again); err != nil {
			return err
		}
		return tx.InsertOrderKey(ctx, shopA, "telegram:1:100", again.ID)
	})
	require.ErrorIs(t, err, orders.ErrConflict)
	_, err = h.Store.Order(ctx, shopA, again.ID)
	requireNotFound(t, err)
}

func testQueuedBefore(t *testing.T, h Harness) {
	ctx := context.Background()
	conv := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram, ExternalID: "42", CreatedAt: at(0)}
	other := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram, ExternalID: "43", CreatedAt: at(0)}
	msg := func(c *orders.Conversation, id string, dir string, sec int) *orders.Message {
		return &orders.Message{ID: id, ShopID: shopA, ConversationID: c.ID, Direction: dir, Kind: "text",
			Text: id, Status: orders.MessageQueued, CreatedAt: at(sec)}
	}
	// Two in the same second are ordered by ID, as one transaction queues them.
	first, second, third := msg(conv, "out:k:0", orders.DirectionOut, 1), msg(conv, "out:k:1", orders.DirectionOut, 1), msg(conv, "m3", orders.DirectionOut, 2)
	staff := msg(conv, "m4", orders.DirectionStaff, 3)
	elsewhere := msg(other, "m5", orders.DirectionOut, 4)
	inTx(t, h, func(tx orders.Tx) error {
		for _, c := range []*orders.Conversation{conv, other} {
			if err := tx.UpsertConversation(ctx, c); err != nil {
				return err
			}
		}
		for _, m := range []*orders.Message{first, second, third, staff, elsewhere} {
			m.ConversationID = map[bool]string{true: conv.ID, false: other.ID}[m != elsewhere]
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(m *orders.Message, want bool) {
		t.Helper()
		got, err := h.Store.QueuedBefore(ctx, m)
		require.NoError(t, err)
		require.Equal(t, want, got, m.ID)
	}
	check(first, false)
	check(second, true)
	check(third, true)
	check(staff, false) // staff messages go to another chat: their own order
	check(elsewhere, false)

	// Once the earlier ones are sent, the next one is free to go.
	now := at(5)
	inTx(t, h, func(tx orders.Tx) error {
		for _, m := range []*orders.Message{first, second} {
			m.Status, m.SentAt = orders.MessageSent, &now
			if err := tx.UpdateMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	check(third, false)
}

func testChatUpdateOrder(t *testing.T, h Harness) {
	ctx := context.Background()
	up := func(id int64, chat string) *orders.ChatUpdate {
		u := chatUpdate(shopA, "telegram:3", id)
		u.Chat = chat
		return u
	}
	first, second, other, none := up(10, "c1"), up(11, "c1"), up(12, "c2"), up(13, "")
	inTx(t, h, func(tx orders.Tx) error {
		_, err := tx.InsertChatUpdates(ctx, []*orders.ChatUpdate{first, second, other, none})
		return err
	})
	waiting := func(u *orders.ChatUpdate) bool {
		t.Helper()
		w, err := h.Store.ChatUpdateWaiting(ctx, u)
		require.NoError(t, err)
		return w
	}
	require.False(t, waiting(first))
	require.True(t, waiting(second), "the chat's earlier update is not processed")
	require.False(t, waiting(other), "another chat does not wait")
	require.False(t, waiting(none), "an update without a chat never waits")

	inTx(t, h, func(tx orders.Tx) error { return tx.MarkChatUpdateProcessed(ctx, shopA, "telegram:3", 10, at(9)) })
	require.False(t, waiting(second))
	got, err := h.Store.ChatUpdate(ctx, shopA, "telegram:3", 10)
	require.NoError(t, err)
	require.Equal(t, "c1", got.Chat)
	require.NotNil(t, got.ProcessedAt)
	require.Equal(t, at(9), *got.ProcessedAt)
	got, err = h.Store.ChatUpdate(ctx, shopA, "telegram:3", 11)
	require.NoError(t, err)
	require.Nil(t, got.ProcessedAt)

	err = h.Store.InTx(ctx, func(tx orders.Tx) error { return tx.MarkChatUpdateProcessed(ctx, shopB, "telegram:3", 10, at(9)) })
	require.ErrorIs(t, err, orders.ErrNotFound, "another shop's update")
}

// testChatUpdateToHandle checks that ChatUpdateToHandle reads what ChatUpdate and
// ChatUpdateWaiting read, as the chat's updates are processed.
func testChatUpdateToHandle(t *testing.T, h Harness) {
	ctx := context.Background()
	up := func(id int64, chat string) *orders.ChatUpdate {
		u := chatUpdate(shopA, "telegram:4", id)
		u.Chat = chat
		return u
	}
	first, second, third, other, none := up(20, "c1"), up(21, "c1"), up(22, "c1"), up(23, "c2"), up(24, "")
	// Another shop's and another bot's unprocessed updates of the same chat never
	// hold these back.
	elsewhere := []*orders.ChatUpdate{chatUpdate(shopB, "telegram:4", 1), chatUpdate(shopA, "telegram:5", 1)}
	for _, u := range elsewhere {
		u.Chat = "c1"
	}
	inTx(t, h, func(tx orders.Tx) error {
		_, err := tx.InsertChatUpdates(ctx, append([]*orders.ChatUpdate{first, second, third, other, none}, elsewhere...))
		return err
	})
	check := func(u *orders.ChatUpdate, wantWaiting bool, msg string) {
		t.Helper()
		got, waiting, err := h.Store.ChatUpdateToHandle(ctx, u.ShopID, u.Source, u.UpdateID)
		require.NoError(t, err)
		alone, err := h.Store.ChatUpdate(ctx, u.ShopID, u.Source, u.UpdateID)
		require.NoError(t, err)
		require.Equal(t, alone, got, "the same update as ChatUpdate reads")
		w, err := h.Store.ChatUpdateWaiting(ctx, alone)
		require.NoError(t, err)
		require.Equal(t, w, waiting, "the same answer as ChatUpdateWaiting")
		require.Equal(t, wantWaiting, waiting, msg)
	}
	check(first, false, "the chat's first update")
	check(second, true, "an earlier update of the chat is not processed")
	check(third, true, "two earlier updates are not processed")
	check(other, false, "another chat")
	check(none, false, "an update without a chat never waits")

	inTx(t, h, func(tx orders.Tx) error { return tx.MarkChatUpdateProcessed(ctx, shopA, "telegram:4", 20, at(9)) })
	check(first, false, "processed")
	check(second, false, "its earlier update is processed")
	check(third, true, "the update before it is not")
	got, _, err := h.Store.ChatUpdateToHandle(ctx, shopA, "telegram:4", 20)
	require.NoError(t, err)
	require.NotNil(t, got.ProcessedAt)
	require.Equal(t, at(9), *got.ProcessedAt)

	_, _, err = h.Store.ChatUpdateToHandle(ctx, shopB, "telegram:4", 20)
	requireNotFound(t, err)
	_, _, err = h.Store.ChatUpdateToHandle(ctx, shopA, "telegram:4", 999)
	requireNotFound(t, err)
}
