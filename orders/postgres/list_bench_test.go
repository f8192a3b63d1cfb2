package postgres_test

import (
	"testing"

	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/storetest"
)

// BenchmarkListOrders measures the orders list at issue 4's size (100,000 orders in
// one shop): go test ./orders/postgres -run '^$' -bench ListOrders -benchtime 200x
func BenchmarkListOrders(b *testing.B) {
	s := postgrestest.Open(b)
	storetest.BenchListOrders(b, s)
}
