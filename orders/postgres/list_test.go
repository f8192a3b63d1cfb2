package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/storetest"
)

// TestSearchBackfill checks that orders stored before migration 012 are indexed for
// search, in batches.
func TestSearchBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgrestest.Open(t)
	storetest.SearchBackfill(t, s, func(t *testing.T) {
		_, err := s.Pool().Exec(ctx, `DELETE FROM order_search;
			INSERT INTO order_search_pending (order_id) SELECT id FROM orders`)
		require.NoError(t, err)
	}, func(t *testing.T, batch int) {
		require.NoError(t, s.BackfillSearch(ctx, batch))
	})
}
