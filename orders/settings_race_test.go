package orders_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/orders"
)

// afterCommitStore runs after once, right after the first transaction that commits:
// the moment between a save's commit and its swap into the shops in memory.
type afterCommitStore struct {
	orders.Store
	after func()
}

func (s *afterCommitStore) InTx(ctx context.Context, fn func(orders.Tx) error) error {
	err := s.Store.InTx(ctx, fn)
	if f := s.after; err == nil && f != nil {
		s.after = nil
		f()
	}
	return err
}

// A save whose swap comes after this replica already loaded a newer save (another
// replica's, picked up from its ChangeSettings in between) must not put the older
// settings back: the replica would send the stale texts until its next tick.
func TestSettingsSaveDoesNotSwapInOlderVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hooked := &afterCommitStore{Store: b.store}
	one, err := orders.NewService(orders.Config{
		Shops: []*orders.Shop{b.a, b.b}, Store: hooked, Renderer: bot.Renderer{Templates: b.tpl},
		PublicURL: publicURL, LinkKey: b.key,
	})
	require.NoError(t, err)
	other := b.service(t, b.key)

	hooked.after = func() {
		in := b.settingsInput(1)
		in.Name = "Second"
		_, err := other.SaveSettings(b.ctx, shopA, in)
		require.NoError(t, err)
		require.NoError(t, one.ReloadShopSettings(b.ctx, shopA)) // the ChangeSettings arrives
		require.Equal(t, "Second", b.shop(t, one, shopA).Name)
	}
	in := b.settingsInput(0)
	in.Name = "First"
	st, err := one.SaveSettings(b.ctx, shopA, in)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Version)
	require.Equal(t, "Second", b.shop(t, one, shopA).Name, "the newer save stays")
}
