package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/orders/storetest"
)

// setup opens a fresh, migrated store in its own file.
func setup(t testing.TB) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NoError(t, s.Migrate(ctx))
	return s
}

// jobs reads the River jobs committed to s, oldest first. River stores args as
// SQLite JSONB, which json() turns back into text.
func jobs(t testing.TB, s *sqlite.Store) []orders.Job {
	t.Helper()
	rows, err := s.Writer().QueryContext(context.Background(), `SELECT kind, json(args) FROM river_job ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []orders.Job
	for rows.Next() {
		var kind, args string
		require.NoError(t, rows.Scan(&kind, &args))
		j, err := storetest.DecodeJob(kind, []byte(args))
		require.NoError(t, err)
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		s := setup(t)
		return storetest.Harness{Store: s, Jobs: func(t testing.TB) []orders.Job { return jobs(t, s) }}
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	s := setup(t)
	require.NoError(t, s.Migrate(context.Background()))
	var n int
	require.NoError(t, s.Writer().QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n))
	require.Equal(t, 1, n)
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chatpay.db")
	s, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	key, err := s.Secret(ctx, "link_key", func() (string, error) { return "k1", nil })
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = sqlite.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Migrate(ctx))
	again, err := s.Secret(ctx, "link_key", func() (string, error) { return "k2", nil })
	require.NoError(t, err)
	require.Equal(t, key, again)
}

func TestOpenMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Ping(ctx))
	require.NoError(t, s.Close())
}
