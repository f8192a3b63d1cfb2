package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/storetest"
)

// BenchmarkListOrders measures the orders list at issue 4's size (100,000 orders in
// one shop): go test ./orders/postgres -run '^$' -bench ListOrders -benchtime 200x
//
// The load is ANALYZEd before measuring: without statistics the planner guesses a
// few hundred rows per shop and bitmap-scans all 100,000 then sorts, a plan that
// autovacuum's analyze (due after a load this size) replaces.
func BenchmarkListOrders(b *testing.B) {
	s := postgrestest.Open(b)
	storetest.BenchListOrders(b, s, func(tb testing.TB) {
		_, err := s.Pool().Exec(context.Background(), "ANALYZE orders, payments, shipments, payment_links, order_search")
		require.NoError(tb, err)
	})
}
