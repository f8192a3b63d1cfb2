package sqlite_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders/sqlite"
	"github.com/chatpay/chatpay/orders/storetest"
)

// BenchmarkInbox measures the inbox's reads with 100,000 conversations in the shop:
// go test ./orders/sqlite -run '^$' -bench Inbox -benchtime 200x
func BenchmarkInbox(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, "")
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	require.NoError(b, s.Migrate(ctx))
	storetest.BenchInbox(b, s, nil)
}
