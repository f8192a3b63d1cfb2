package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/chatpay/chatpay/orders"
)

// The dashboard's shop settings (migration 014): one row per shop whose owner saved
// them, NULL columns following the configuration.

const shopSettingsCols = `shop_id, name, locale, display_toman, send_paid_confirmation, templates,
	version, updated_at, updated_by FROM shop_settings`

func scanShopSettings(row pgx.Row) (*orders.ShopSettings, error) {
	var st orders.ShopSettings
	err := row.Scan(&st.ShopID, &st.Name, &st.Locale, &st.DisplayToman, &st.SendPaidConfirmation, &st.Templates,
		&st.Version, &st.UpdatedAt, &st.UpdatedBy)
	if err != nil {
		return nil, err
	}
	if st.Templates == nil {
		st.Templates = map[string]map[string]string{}
	}
	st.UpdatedAt = st.UpdatedAt.UTC()
	return &st, nil
}

func (s *Store) ShopSettings(ctx context.Context, shopID string) (*orders.ShopSettings, error) {
	return getOne(ctx, s.pool, scanShopSettings, `SELECT `+shopSettingsCols+` WHERE shop_id = $1`, shopID)
}

func (s *Store) AllShopSettings(ctx context.Context) ([]*orders.ShopSettings, error) {
	return getAll(ctx, s.pool, scanShopSettings, `SELECT `+shopSettingsCols+` ORDER BY shop_id`)
}

// SaveShopSettings inserts the shop's first settings (st.Version 0) or updates the
// row still at st.Version, and learns at once whether it did: unlike most writes it is
// not queued, because the caller answers a stale form with a conflict rather than
// failing later. Under READ COMMITTED a concurrent first save waits on the primary
// key and then does nothing, and a concurrent update waits on the row and then finds
// its version moved on: either way exactly one of the racing saves writes.
func (t *tx) SaveShopSettings(ctx context.Context, st *orders.ShopSettings) error {
	templates := st.Templates
	if templates == nil {
		templates = map[string]map[string]string{}
	}
	args := []any{st.ShopID, st.Name, st.Locale, st.DisplayToman, st.SendPaidConfirmation, templates,
		st.Version + 1, st.UpdatedAt, st.UpdatedBy}
	sql := `INSERT INTO shop_settings (shop_id, name, locale, display_toman, send_paid_confirmation, templates,
		version, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (shop_id) DO NOTHING RETURNING version`
	if st.Version > 0 {
		sql = `UPDATE shop_settings SET name = $2, locale = $3, display_toman = $4, send_paid_confirmation = $5,
			templates = $6, version = $7, updated_at = $8, updated_by = $9
			WHERE shop_id = $1 AND version = $10 RETURNING version`
		args = append(args, st.Version)
	}
	v, err := one(ctx, t, func(row pgx.Row) (*int64, error) {
		var v int64
		if err := row.Scan(&v); err != nil {
			return nil, err
		}
		return &v, nil
	}, sql, args...)
	if errors.Is(err, orders.ErrNotFound) {
		return orders.ErrConflict
	}
	if err != nil {
		return err
	}
	st.Version = *v
	return nil
}
