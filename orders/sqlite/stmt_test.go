package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// TestWriterStatementsPreparedAfterTx checks that the statements a transaction ran
// unprepared are prepared once it has ended, committed or not, and that transactions
// running while statements are being prepared do not wait on each other forever (the
// writer has one connection).
func TestWriterStatementsPreparedAfterTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "chatpay.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NoError(t, s.Migrate(ctx))

	next := func(otx orders.Tx) (int64, error) { return otx.NextOrderCode(ctx, "shop-a") }
	var codeQuery string
	require.NoError(t, s.InTx(ctx, func(otx orders.Tx) error {
		_, err := next(otx)
		q := otx.(*tx).q
		require.Len(t, q.missed, 1, "the first transaction runs its statement unprepared")
		codeQuery = q.missed[0]
		return err
	}))
	_, ok := s.wstmts.cached(codeQuery)
	require.True(t, ok, "prepared after the transaction")
	require.NoError(t, s.InTx(ctx, func(otx orders.Tx) error {
		code, err := next(otx)
		require.Equal(t, int64(1002), code)
		require.Empty(t, otx.(*tx).q.missed, "later transactions use the prepared statement")
		return err
	}))

	// A failed transaction's statements are prepared too, after its rollback.
	errBoom := errors.New("boom")
	err = s.InTx(ctx, func(otx orders.Tx) error {
		_, err := otx.LockAttempt(ctx, "shop-a", orders.NewID())
		require.ErrorIs(t, err, orders.ErrNotFound)
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	require.Len(t, s.wstmts.m, 2)

	// Many transactions at once, each with statements nobody prepared yet.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := s.InTx(ctx, func(otx orders.Tx) error {
				if _, err := next(otx); err != nil {
					return err
				}
				_, err := otx.LockRefund(ctx, "shop-a", orders.NewID())
				if i%2 == 0 && errors.Is(err, orders.ErrNotFound) {
					_, err = otx.LockOrder(ctx, "shop-a", orders.NewID())
				}
				if errors.Is(err, orders.ErrNotFound) {
					return nil
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.NoError(t, s.InTx(ctx, func(otx orders.Tx) error {
		code, err := next(otx)
		require.Equal(t, int64(1023), code)
		return err
	}))
}
