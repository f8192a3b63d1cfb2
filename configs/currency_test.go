package configs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// configs may not import orders, so it keeps its own list of currencies; this test
// (which may) keeps the two in step.
func TestCurrenciesMatchOrders(t *testing.T) {
	t.Parallel()
	for _, code := range currencies {
		_, ok := orders.LookupCurrency(code)
		require.True(t, ok, "orders does not know %s", code)
	}
	require.Len(t, currencies, 12, "orders/money.go lists 12 currencies; update both together")
}
