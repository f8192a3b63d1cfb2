package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/storetest"
)

// TestSearchRepair checks that orders stored without search rows (by a replica on
// the previous version) are found and indexed by IndexSearch.
func TestSearchRepair(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgrestest.Open(t)
	storetest.SearchRepair(t, s, func(t *testing.T, sql string) {
		_, err := s.Pool().Exec(ctx, sql)
		require.NoError(t, err)
	})
}

// TestSearchMarkerIndex checks that the index the search repair job's anti-join reads
// (migration 021) is on today's marker: without it the job's queries still work but
// read all of order_search, so a change of orders.SearchMarker needs a new index.
func TestSearchMarkerIndex(t *testing.T) {
	t.Parallel()
	s := postgrestest.Open(t)
	var def string
	require.NoError(t, s.Pool().QueryRow(context.Background(), `SELECT indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND indexname = 'order_search_marked'`).Scan(&def))
	require.Contains(t, def, "WHERE (term = '"+orders.SearchMarker+"'::text)")
}
