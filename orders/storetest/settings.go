package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// saveSettings saves st in a transaction of its own and returns the store's answer.
func saveSettings(h Harness, st *orders.ShopSettings) error {
	return h.Store.InTx(context.Background(), func(tx orders.Tx) error {
		return tx.SaveShopSettings(context.Background(), st)
	})
}

// testShopSettings checks the dashboard's shop settings: nothing until the first save,
// a round trip of every field (NULLs included, and texts in every script), the
// compare-and-set on the version, rollback, and one shop's row invisible to another.
func testShopSettings(t *testing.T, h Harness) {
	ctx := context.Background()
	_, err := h.Store.ShopSettings(ctx, shopA)
	requireNotFound(t, err, "no settings before the first save")
	all, err := h.Store.AllShopSettings(ctx)
	require.NoError(t, err)
	require.Empty(t, all)

	first := &orders.ShopSettings{
		ShopID: shopA, Name: ptr("Cửa hàng Ánh Dương"), Locale: ptr("fa"), DisplayToman: ptr(false),
		SendPaidConfirmation: ptr(false),
		Templates: map[string]map[string]string{
			"vi": {"paid_confirmation": "Cảm ơn! Đơn #{{.OrderCode}} đã thanh toán."},
			"fa": {"paid_confirmation": "سفارش #{{.OrderCode}} پرداخت شد.", "shipped": "ارسال شد: #{{.OrderCode}}"},
			"th": {"order_card": "ขอบคุณ #{{.OrderCode}}\n{{.Total}}"},
		},
		UpdatedAt: at(1), UpdatedBy: "user-1",
	}
	require.NoError(t, saveSettings(h, first))
	require.EqualValues(t, 1, first.Version, "the first save makes version 1")
	got, err := h.Store.ShopSettings(ctx, shopA)
	require.NoError(t, err)
	require.Equal(t, first, got)

	// A second "first" save is a stale form: it writes nothing.
	stale := &orders.ShopSettings{ShopID: shopA, Name: ptr("Lost"), Templates: map[string]map[string]string{}, UpdatedAt: at(2)}
	require.ErrorIs(t, saveSettings(h, stale), orders.ErrConflict)
	require.EqualValues(t, 0, stale.Version, "a refused save leaves the version as it was")

	// Back to the configuration for every field, with no templates: NULLs and {}.
	reset := &orders.ShopSettings{ShopID: shopA, Version: 1, UpdatedAt: at(3), UpdatedBy: "user-2"}
	require.NoError(t, saveSettings(h, reset))
	require.EqualValues(t, 2, reset.Version)
	got, err = h.Store.ShopSettings(ctx, shopA)
	require.NoError(t, err)
	reset.Templates = map[string]map[string]string{}
	require.Equal(t, reset, got, "nil fields and templates read back as NULLs and an empty map")

	// Version 1 is stale now; so is a version the row never had.
	for _, v := range []int64{1, 7} {
		err := saveSettings(h, &orders.ShopSettings{ShopID: shopA, Name: ptr("Lost"), Version: v, UpdatedAt: at(4)})
		require.ErrorIs(t, err, orders.ErrConflict, "version %d", v)
	}
	// Version 1 on a shop with no row at all is stale too: it never inserts.
	err = saveSettings(h, &orders.ShopSettings{ShopID: shopB, Name: ptr("Lost"), Version: 1, UpdatedAt: at(4)})
	require.ErrorIs(t, err, orders.ErrConflict)

	// A save whose transaction fails later is rolled back with it.
	boom := errors.New("boom")
	err = h.Store.InTx(ctx, func(tx orders.Tx) error {
		if err := tx.SaveShopSettings(ctx, &orders.ShopSettings{ShopID: shopB, Name: ptr("Rolled back"), UpdatedAt: at(5)}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = h.Store.ShopSettings(ctx, shopB)
	requireNotFound(t, err, "a rolled-back save leaves nothing")

	// Each shop has its own row and version.
	b := &orders.ShopSettings{ShopID: shopB, Locale: ptr("th"), Templates: map[string]map[string]string{}, UpdatedAt: at(6)}
	require.NoError(t, saveSettings(h, b))
	require.EqualValues(t, 1, b.Version)
	got, err = h.Store.ShopSettings(ctx, shopA)
	require.NoError(t, err)
	require.EqualValues(t, 2, got.Version, "shop B's save leaves shop A's row alone")
	require.Nil(t, got.Locale)
	all, err = h.Store.AllShopSettings(ctx)
	require.NoError(t, err)
	require.Equal(t, []*orders.ShopSettings{reset, b}, all, "every shop's row, by shop id")
}

// testRaceShopSettings saves one shop's settings from 20 goroutines at once, first
// with no row (all insert) and then from the same version (all update): each time
// exactly one save wins, the others get ErrConflict, and the row is the winner's.
func testRaceShopSettings(t *testing.T, h Harness) {
	const n = 20
	ctx := context.Background()
	for round, version := range []int64{0, 1} {
		var mu sync.Mutex
		var winners []int
		errs := race(n, func(i int) error {
			st := &orders.ShopSettings{
				ShopID: shopA, Name: ptr(fmt.Sprintf("round %d writer %d", round, i)), Version: version,
				Templates: map[string]map[string]string{"en": {"paid_confirmation": fmt.Sprintf("#{{.OrderCode}} %d", i)}},
				UpdatedAt: at(round*100 + i),
			}
			err := saveSettings(h, st)
			if errors.Is(err, orders.ErrConflict) {
				return nil
			}
			if err != nil {
				return err
			}
			mu.Lock()
			winners = append(winners, i)
			mu.Unlock()
			return nil
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, winners, 1, "round %d: exactly one save wins", round)
		got, err := h.Store.ShopSettings(ctx, shopA)
		require.NoError(t, err)
		require.Equal(t, version+1, got.Version, "round %d: one write", round)
		require.Equal(t, fmt.Sprintf("round %d writer %d", round, winners[0]), *got.Name, "the winner's row")
		require.Equal(t, fmt.Sprintf("#{{.OrderCode}} %d", winners[0]), got.Templates["en"]["paid_confirmation"])
	}
}
