package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/orders/storetest"
)

// TestSearchRepair checks that orders stored without search rows (by a replica on
// the previous version) are found and indexed by IndexSearch.
func TestSearchRepair(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NoError(t, s.Migrate(ctx))
	storetest.SearchRepair(t, s, func(t *testing.T, sql string) {
		_, err := s.Writer().ExecContext(ctx, sql)
		require.NoError(t, err)
	})
}
