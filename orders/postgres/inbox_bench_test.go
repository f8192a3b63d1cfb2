package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders/postgres/postgrestest"
	"github.com/chatpay/chatpay/orders/storetest"
)

// BenchmarkInbox measures the inbox's reads with 100,000 conversations in the shop:
// go test ./orders/postgres -run '^$' -bench Inbox -benchtime 200x
//
// The load is ANALYZEd before measuring, as autovacuum would soon after it.
func BenchmarkInbox(b *testing.B) {
	s := postgrestest.Open(b)
	storetest.BenchInbox(b, s, func(tb testing.TB) {
		_, err := s.Pool().Exec(context.Background(), "ANALYZE conversations, messages")
		require.NoError(tb, err)
	})
}
