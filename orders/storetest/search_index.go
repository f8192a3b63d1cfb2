package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// indexSearchAll runs IndexSearch from the first order, batch orders at a time, until
// it reports none left, and returns how many orders it indexed and how many calls it
// took.
func indexSearchAll(t *testing.T, s orders.Store, batch int) (indexed, calls int) {
	t.Helper()
	after := ""
	for calls < 1000 {
		next, n, err := s.IndexSearch(context.Background(), after, batch)
		require.NoError(t, err)
		require.LessOrEqual(t, n, batch)
		indexed, calls = indexed+n, calls+1
		if next == "" {
			return indexed, calls
		}
		require.Greater(t, next, after, "the cursor moves on")
		after = next
	}
	t.Fatal("IndexSearch does not end")
	return 0, 0
}

// testIndexSearchNothingMissing checks that the orders a store writes are never
// candidates of the search repair job: an order with terms is stored with the
// marker, one without name or phone is passed over, and one whose name and phone
// make no terms is marked by its first run and not looked at again.
func testIndexSearchNothingMissing(t *testing.T, h Harness) {
	ctx := context.Background()
	for i, c := range []orders.Customer{{Name: "Nguyễn Lan", Phone: "0901234567"}, {Phone: "0907654321"}, {}} {
		o := newOrder(shopA, i)
		o.Customer.Name, o.Customer.Phone = c.Name, c.Phone
		createOrder(t, h, o)
	}
	o := newOrder(shopB, 9)
	o.Customer.Name = "Lan"
	createOrder(t, h, o)
	next, n, err := h.Store.IndexSearch(ctx, "", 1)
	require.NoError(t, err)
	require.Equal(t, "", next, "no order to index, so nothing to go on from")
	require.Zero(t, n)

	blank := newOrder(shopA, 5)
	blank.Customer.Name, blank.Customer.Phone = "—", "n/a"
	createOrder(t, h, blank)
	next, n, err = h.Store.IndexSearch(ctx, "", 1)
	require.NoError(t, err)
	require.Equal(t, blank.ID, next, "a name and phone without terms: a candidate once")
	require.Zero(t, n, "it gets no terms")
	next, n, err = h.Store.IndexSearch(ctx, "", 1)
	require.NoError(t, err)
	require.Equal(t, "", next, "and is marked, not a candidate again")
	require.Zero(t, n)
	require.Equal(t, []string{o.ID}, list(t, h, shopB, orders.OrderFilter{Query: "lan"}))
}

// SearchRepair checks a store's IndexSearch on orders stored without search rows, as
// a replica on the previous version stores them during a rolling deploy. exec runs
// SQL (plain text, no arguments) on the store's database; the suite uses it to delete
// rows of order_search.
func SearchRepair(t *testing.T, s orders.Store, exec func(t *testing.T, sql string)) {
	ctx := context.Background()
	h := Harness{Store: s}
	var shopAIDs, shopBIDs []string // newest first, as search lists them
	for i := range 5 {
		o := newOrder(shopA, i)
		o.Customer.Name, o.Customer.Phone = fmt.Sprintf("Trần Lan %d", i), fmt.Sprintf("090 000 000%d", i)
		shopAIDs = append([]string{createOrder(t, h, o).ID}, shopAIDs...)
	}
	for i := range 2 {
		// Shop B's customers have the same names and phones as shop A's.
		o := newOrder(shopB, i)
		o.Customer.Name, o.Customer.Phone = fmt.Sprintf("Trần Lan %d", i), fmt.Sprintf("090 000 000%d", i)
		shopBIDs = append([]string{createOrder(t, h, o).ID}, shopBIDs...)
	}
	empty := newOrder(shopA, 7)
	empty.Customer.Name, empty.Customer.Phone = "", ""
	createOrder(t, h, empty)
	search := func(shop, q string) []string {
		t.Helper()
		return list(t, h, shop, orders.OrderFilter{Query: q})
	}
	require.Equal(t, shopAIDs, search(shopA, "tran"), "indexed when stored")
	n, _ := indexSearchAll(t, s, 500)
	require.Zero(t, n, "nothing to index")

	// An old replica stored every order of shop A and one of shop B without rows.
	unindexed := append(slices.Clone(shopAIDs), shopBIDs[0])
	exec(t, "DELETE FROM order_search WHERE order_id IN ('"+strings.Join(unindexed, "', '")+"')")
	require.Empty(t, search(shopA, "tran"))
	require.Equal(t, shopBIDs[1:], search(shopB, "tran"))

	n, calls := indexSearchAll(t, s, 2)
	require.Equal(t, len(unindexed), n, "every order without rows indexed")
	require.Equal(t, 4, calls, "in batches of 2: [A0 A1] [A2 A3] [A4 B1], then none after B1")
	require.Equal(t, shopAIDs, search(shopA, "tran"))
	require.Equal(t, shopAIDs, search(shopA, "lan"))
	require.Equal(t, shopAIDs[4:], search(shopA, "0900000000"), "the phone is indexed too")
	require.Equal(t, shopBIDs, search(shopB, "tran"), "each shop finds its own orders only")
	require.Equal(t, shopBIDs[1:], search(shopB, "0900000000"))
	require.Empty(t, search("shop-none", "tran"))
	n, calls = indexSearchAll(t, s, 2)
	require.Zero(t, n, "a second run indexes nothing")
	require.Equal(t, 1, calls, "and finds no candidate")

	// Orders indexed by an older derivation of the terms have every row but today's
	// marker: their terms are written again (the rows there are kept) and marked.
	exec(t, "DELETE FROM order_search WHERE term = '"+orders.SearchMarker+"' AND order_id = '"+shopAIDs[0]+"'")
	next, n, err := s.IndexSearch(ctx, "", 1)
	require.NoError(t, err)
	require.Equal(t, shopAIDs[0], next)
	require.Zero(t, n, "no terms it lacked")
	n, _ = indexSearchAll(t, s, 1)
	require.Zero(t, n)
	require.Equal(t, shopAIDs, search(shopA, "tran"))

	// Runs racing each other and the orders' own updates neither fail nor lose an
	// order: rows already there are kept, and an order locked by its update is
	// either waited for or passed over to the next run.
	exec(t, "DELETE FROM order_search WHERE order_id IN ('"+strings.Join(unindexed, "', '")+"')")
	errs := race(len(unindexed)+3, func(i int) error {
		if i >= len(unindexed) {
			_, _, err := s.IndexSearch(ctx, "", 500)
			return err
		}
		shop := shopA
		if i == len(unindexed)-1 {
			shop = shopB
		}
		return s.InTx(ctx, func(tx orders.Tx) error {
			o, err := tx.LockOrder(ctx, shop, unindexed[i])
			if err != nil {
				return err
			}
			o.UpdatedAt = at(100 + i)
			return tx.UpdateOrder(ctx, o)
		})
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	indexSearchAll(t, s, 500) // the orders the racing runs passed over
	require.Equal(t, shopAIDs, search(shopA, "tran"))
	require.Equal(t, shopBIDs, search(shopB, "tran"))
	n, calls = indexSearchAll(t, s, 500)
	require.Zero(t, n)
	require.Equal(t, 1, calls)
}
