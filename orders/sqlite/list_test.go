package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/orders/storetest"
)

// TestSearchBackfill checks that orders stored before migration 011 are indexed for
// search, in batches.
func TestSearchBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NoError(t, s.Migrate(ctx))
	storetest.SearchBackfill(t, s, func(t *testing.T) {
		_, err := s.Writer().ExecContext(ctx, `DELETE FROM order_search;
			INSERT INTO order_search_pending (order_id) SELECT id FROM orders`)
		require.NoError(t, err)
	}, func(t *testing.T, batch int) {
		require.NoError(t, s.BackfillSearch(ctx, batch))
	})
}
