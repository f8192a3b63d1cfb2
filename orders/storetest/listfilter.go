package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// orderIDs returns the IDs of list, in order.
func orderIDs(list []*orders.Order) []string {
	out := []string{}
	for _, o := range list {
		out = append(out, o.ID)
	}
	return out
}

// listAll pages through f two orders at a time and returns every ID it saw, failing
// if a page repeats an order.
func listAll(t *testing.T, h Harness, shop string, f orders.OrderFilter) []string {
	t.Helper()
	seen := []string{}
	f.Limit, f.BeforeID = 2, ""
	for range 50 {
		page, err := h.Store.ListOrders(context.Background(), shop, f)
		require.NoError(t, err)
		if len(page) == 0 {
			return seen
		}
		for _, o := range page {
			require.NotContains(t, seen, o.ID, "paging repeats an order")
			require.Equal(t, shop, o.ShopID)
		}
		seen = append(seen, orderIDs(page)...)
		f.BeforeID = page[len(page)-1].ID
	}
	t.Fatal("paging does not end")
	return nil
}

// list is one ListOrders call that must succeed.
func list(t *testing.T, h Harness, shop string, f orders.OrderFilter) []string {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = 50
	}
	got, err := h.Store.ListOrders(context.Background(), shop, f)
	require.NoError(t, err)
	for _, o := range got {
		require.Equal(t, shop, o.ShopID)
	}
	return orderIDs(got)
}

func testListOrdersByChannel(t *testing.T, h Harness) {
	byChannel := map[string][]string{} // newest first
	for i, ch := range []string{orders.ChannelTelegram, orders.ChannelMessenger, "", orders.ChannelWebchat, orders.ChannelTelegram, ""} {
		o := newOrder(shopA, i)
		o.Customer.Channel, o.Customer.ExternalID = ch, ""
		if ch != "" {
			o.Customer.ExternalID = fmt.Sprintf("ext-%s-%d", ch, i)
		}
		createOrder(t, h, o)
		if ch == "" {
			ch = orders.ChannelNone
		}
		byChannel[ch] = append([]string{o.ID}, byChannel[ch]...)
	}
	// Shop B has orders on every channel too; none may show up in shop A's list.
	for i, ch := range []string{orders.ChannelTelegram, orders.ChannelMessenger, "", orders.ChannelWebchat} {
		o := newOrder(shopB, 10+i)
		o.Customer.Channel, o.Customer.ExternalID = ch, "b-"+ch
		if ch == "" {
			o.Customer.ExternalID = ""
		}
		createOrder(t, h, o)
	}
	for _, ch := range []string{orders.ChannelTelegram, orders.ChannelMessenger, orders.ChannelWebchat, orders.ChannelNone} {
		require.Equal(t, byChannel[ch], list(t, h, shopA, orders.OrderFilter{Channel: ch}), ch)
		require.Equal(t, byChannel[ch], listAll(t, h, shopA, orders.OrderFilter{Channel: ch}), "paging %s", ch)
		require.Len(t, list(t, h, shopB, orders.OrderFilter{Channel: ch}), 1, "shop B, %s", ch)
	}
	require.Equal(t, byChannel[orders.ChannelTelegram][:1],
		list(t, h, shopA, orders.OrderFilter{Channel: orders.ChannelTelegram, Limit: 1}))
	require.Empty(t, list(t, h, "shop-none", orders.OrderFilter{Channel: orders.ChannelTelegram}))
}

func testListOrdersByCreated(t *testing.T, h Harness) {
	// Created times out of ID order, as orders imported or made on a skewed clock
	// have: a date range lists them by creation time.
	offsets := []int{30, 10, 20, 40, 0, 20}
	var made []*orders.Order
	for i, sec := range offsets {
		o := newOrder(shopA, i)
		o.CreatedAt, o.UpdatedAt = at(sec), at(sec)
		made = append(made, createOrder(t, h, o))
		b := newOrder(shopB, i)
		b.CreatedAt, b.UpdatedAt = at(sec), at(sec)
		createOrder(t, h, b)
	}
	// want lists the orders created in [from, to) seconds, newest first by creation
	// time and then ID.
	want := func(from, to int) []string {
		var in []*orders.Order
		for i, o := range made {
			if offsets[i] >= from && offsets[i] < to {
				in = append(in, o)
			}
		}
		slices.SortFunc(in, func(a, b *orders.Order) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return -compareStrings(a.ID, b.ID)
		})
		return orderIDs(in)
	}
	cases := []struct{ from, to int }{{10, 30}, {0, 41}, {20, 21}, {41, 100}, {-100, 0}}
	for _, c := range cases {
		f := orders.OrderFilter{CreatedFrom: at(c.from), CreatedBefore: at(c.to)}
		require.Equal(t, want(c.from, c.to), list(t, h, shopA, f), "[%d, %d)", c.from, c.to)
		require.Equal(t, want(c.from, c.to), listAll(t, h, shopA, f), "paging [%d, %d)", c.from, c.to)
	}
	// One bound alone; a microsecond either side of an order's time.
	require.Equal(t, want(20, 1000), list(t, h, shopA, orders.OrderFilter{CreatedFrom: at(20)}))
	require.Equal(t, want(-1000, 20), list(t, h, shopA, orders.OrderFilter{CreatedBefore: at(20)}))
	require.Equal(t, want(30, 1000), list(t, h, shopA, orders.OrderFilter{CreatedFrom: at(20).Add(time.Microsecond)}))
	require.Equal(t, want(-1000, 30), list(t, h, shopA, orders.OrderFilter{CreatedBefore: at(20).Add(time.Microsecond)}))
	// With another filter.
	made[2].Status = orders.StatusPaid
	inTx(t, h, func(tx orders.Tx) error { return tx.UpdateOrder(context.Background(), made[2]) })
	require.Equal(t, []string{made[2].ID},
		list(t, h, shopA, orders.OrderFilter{CreatedFrom: at(0), CreatedBefore: at(100), Status: orders.StatusPaid}))
	require.Len(t, list(t, h, shopB, orders.OrderFilter{CreatedFrom: at(0), CreatedBefore: at(100)}), len(offsets))
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testListOrdersSearch(t *testing.T, h Harness) {
	customers := []orders.Customer{
		{Name: "Nguyễn Thị Lan", Phone: "0901234567"},
		{Name: "Trần Văn Nam", Phone: "+84 91 765 4321"},
		{Name: "Lê Lan Anh"},
		{Name: "LAN", Phone: "02-555-1004"},
		{Name: "Đặng Đức", Phone: "+66 81 234 5678"},
		{},
	}
	var made []*orders.Order
	for i, c := range customers {
		o := newOrder(shopA, i)
		o.Customer.Name, o.Customer.Phone = c.Name, c.Phone
		made = append(made, createOrder(t, h, o))
	}
	// Shop B has a customer with the same name and phone as shop A's first.
	other := newOrder(shopB, 9)
	other.Customer.Name, other.Customer.Phone = customers[0].Name, customers[0].Phone
	createOrder(t, h, other)

	ids := func(idx ...int) []string {
		out := []string{}
		for _, i := range slices.Backward(idx) {
			out = append(out, made[i].ID)
		}
		return out
	}
	search := func(q string) []string {
		t.Helper()
		return list(t, h, shopA, orders.OrderFilter{Query: q})
	}
	// Orders get codes 1001, 1002, ... in shop A.
	require.Equal(t, []string{"1001", "1004"}, []string{made[0].Code, made[3].Code})

	require.Equal(t, ids(0), search("1001"), "a code")
	require.Equal(t, ids(0), search("#1001"), "a code with #")
	require.Equal(t, ids(3), search("1004"), "the code and the phone ending in 1004 match one order, listed once")
	require.Empty(t, search("#4567"), "with #, only codes")
	require.Empty(t, search("#9999"))

	require.Equal(t, ids(0, 2, 3), search("lan"), "a word of the name, in any case")
	require.Equal(t, ids(0, 2, 3), search("LÂN"), "diacritics ignored in the query too")
	require.Equal(t, ids(0), search("nguyen lan"), "every word")
	require.Equal(t, ids(0), search("Lan Nguyễn"), "in any order")
	require.Equal(t, ids(0, 1), search("n"), "the start of any word")
	require.Equal(t, ids(4), search("dang duc"), "đ is d")
	require.Empty(t, search("guyen"), "not the middle of a word")
	require.Empty(t, search("lan nam"))

	require.Equal(t, ids(0), search("4567"), "trailing digits")
	require.Equal(t, ids(0), search("090 123 4567"), "the number as stored")
	require.Equal(t, ids(0), search("+84 90 123 4567"), "the number with a country code")
	require.Equal(t, ids(1), search("0917654321"), "the number with a leading 0")
	require.Equal(t, ids(1), search("765-4321"), "separators ignored")
	require.Equal(t, ids(4), search("081 234 5678"), "a Thai number in local form")
	require.Empty(t, search("+84 81 234 5678"), "another country's number")
	require.Empty(t, search("999 4567"))

	// Paging and the other filters apply to a search.
	require.Equal(t, ids(0, 2, 3), listAll(t, h, shopA, orders.OrderFilter{Query: "lan"}))
	require.Equal(t, ids(0, 2), list(t, h, shopA, orders.OrderFilter{Query: "lan", BeforeID: made[3].ID, Limit: 2}))
	made[2].Status = orders.StatusPaid
	inTx(t, h, func(tx orders.Tx) error { return tx.UpdateOrder(context.Background(), made[2]) })
	require.Equal(t, ids(2), list(t, h, shopA, orders.OrderFilter{Query: "lan", Status: orders.StatusPaid}))
	require.Equal(t, ids(0, 3), list(t, h, shopA, orders.OrderFilter{Query: "lan", Status: orders.StatusAwaitingPayment}))
	require.Equal(t, ids(0), list(t, h, shopA, orders.OrderFilter{Query: "4567", Status: orders.StatusAwaitingPayment}))
	require.Empty(t, list(t, h, shopA, orders.OrderFilter{Query: "4567", Status: orders.StatusPaid}))
	require.Equal(t, ids(2), list(t, h, shopA, orders.OrderFilter{Query: "lan",
		CreatedFrom: made[2].CreatedAt, CreatedBefore: made[2].CreatedAt.Add(time.Microsecond)}))

	// Shop B finds only its own order, whatever the query.
	for _, q := range []string{"lan", "nguyen", "4567", "+84 90 123 4567", "1001"} {
		require.Equal(t, []string{other.ID}, list(t, h, shopB, orders.OrderFilter{Query: q}), q)
	}
	require.Empty(t, list(t, h, "shop-none", orders.OrderFilter{Query: "lan"}))
}

// SearchBackfill checks a store's indexing of orders stored before the search index
// existed: requeue must empty the store's search index and queue every order for
// indexing, as the migration that adds the index does; backfill must index the
// queued orders in batches of the given size, as Migrate does.
func SearchBackfill(t *testing.T, s orders.Store, requeue func(t *testing.T), backfill func(t *testing.T, batch int)) {
	h := Harness{Store: s}
	var made []string
	for i := range 5 {
		o := newOrder(shopA, i)
		o.Customer.Name, o.Customer.Phone = fmt.Sprintf("Trần Lan %d", i), fmt.Sprintf("090 000 000%d", i)
		made = append([]string{createOrder(t, h, o).ID}, made...)
	}
	require.Equal(t, made, list(t, h, shopA, orders.OrderFilter{Query: "tran"}), "indexed when stored")
	requeue(t)
	require.Empty(t, list(t, h, shopA, orders.OrderFilter{Query: "tran"}), "the index is empty")
	backfill(t, 2)
	require.Equal(t, made, list(t, h, shopA, orders.OrderFilter{Query: "tran"}), "every batch indexed")
	require.Equal(t, made[4:], list(t, h, shopA, orders.OrderFilter{Query: "0900000000"}))
	backfill(t, 2) // nothing left: a no-op
	require.Equal(t, made, list(t, h, shopA, orders.OrderFilter{Query: "lan"}))
}
