package sqlite_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/orders/storetest"
)

// BenchmarkListOrders measures the orders list at issue 4's size (100,000 orders in
// one shop): go test ./orders/sqlite -run '^$' -bench ListOrders -benchtime 200x
func BenchmarkListOrders(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, "")
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	require.NoError(b, s.Migrate(ctx))
	storetest.BenchListOrders(b, s, nil)
}
