package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/storetest"
)

// TestStore runs the contract suite every orders.Store passes, each subtest in its
// own schema.
func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		s := postgrestest.Open(t)
		return storetest.Harness{
			Store: s,
			Jobs: func(t testing.TB) []orders.Job {
				rows, err := s.Pool().Query(context.Background(), `SELECT kind, args FROM river_job ORDER BY id`)
				require.NoError(t, err)
				defer rows.Close()
				var out []orders.Job
				for rows.Next() {
					var kind string
					var args []byte
					require.NoError(t, rows.Scan(&kind, &args))
					j, err := storetest.DecodeJob(kind, args)
					require.NoError(t, err)
					out = append(out, j)
				}
				require.NoError(t, rows.Err())
				return out
			},
		}
	})
}
