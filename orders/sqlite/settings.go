package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/chatpay/chatpay/orders"
)

// The dashboard's shop settings (migration 013): one row per shop whose owner saved
// them, NULL columns following the configuration.

const shopSettingsColumns = `shop_id, name, locale, display_toman, send_paid_confirmation, templates,
	version, updated_at, updated_by`

func scanShopSettings(r scanner) (*orders.ShopSettings, error) {
	var (
		st           orders.ShopSettings
		name, locale sql.NullString
		toman, paid  sql.NullBool
		templates    string
		updated      int64
	)
	if err := r.Scan(&st.ShopID, &name, &locale, &toman, &paid, &templates, &st.Version, &updated, &st.UpdatedBy); err != nil {
		return nil, err
	}
	if name.Valid {
		st.Name = &name.String
	}
	if locale.Valid {
		st.Locale = &locale.String
	}
	if toman.Valid {
		st.DisplayToman = &toman.Bool
	}
	if paid.Valid {
		st.SendPaidConfirmation = &paid.Bool
	}
	if err := json.Unmarshal([]byte(templates), &st.Templates); err != nil {
		return nil, fmt.Errorf("shop %s: templates: %w", st.ShopID, err)
	}
	if st.Templates == nil {
		st.Templates = map[string]map[string]string{}
	}
	st.UpdatedAt = fromMicros(updated)
	return &st, nil
}

func (s *Store) ShopSettings(ctx context.Context, shopID string) (*orders.ShopSettings, error) {
	return getOne(ctx, s.rq, "shop settings", scanShopSettings,
		`SELECT `+shopSettingsColumns+` FROM shop_settings WHERE shop_id = ?`, shopID)
}

func (s *Store) AllShopSettings(ctx context.Context) ([]*orders.ShopSettings, error) {
	return queryAll(ctx, s.rq, "all shop settings", scanShopSettings,
		`SELECT `+shopSettingsColumns+` FROM shop_settings ORDER BY shop_id`)
}

// SaveShopSettings inserts the shop's first settings (st.Version 0) or updates the
// row still at st.Version. The transaction holds the write lock, so nothing can
// change the row between the check and the write; a write that matches no row is a
// conflict.
func (t *tx) SaveShopSettings(ctx context.Context, st *orders.ShopSettings) error {
	templates := st.Templates
	if templates == nil {
		templates = map[string]map[string]string{}
	}
	raw, err := json.Marshal(templates)
	if err != nil {
		return fmt.Errorf("sqlite: shop settings templates: %w", err)
	}
	args := []any{st.ShopID, nullPtr(st.Name), nullPtr(st.Locale), nullPtr(st.DisplayToman),
		nullPtr(st.SendPaidConfirmation), string(raw), st.Version + 1, micros(st.UpdatedAt), st.UpdatedBy}
	var res sql.Result
	if st.Version == 0 {
		res, err = t.q.ExecContext(ctx, `INSERT INTO shop_settings (`+shopSettingsColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id) DO NOTHING`, args...)
	} else {
		res, err = t.q.ExecContext(ctx, `UPDATE shop_settings SET name = ?2, locale = ?3, display_toman = ?4,
			send_paid_confirmation = ?5, templates = ?6, version = ?7, updated_at = ?8, updated_by = ?9
			WHERE shop_id = ?1 AND version = ?10`, append(args, st.Version)...)
	}
	if err != nil {
		return fmt.Errorf("sqlite: save shop settings: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: save shop settings: %w", err)
	}
	if n == 0 {
		return orders.ErrConflict
	}
	st.Version++
	return nil
}

// nullPtr binds a nil pointer as NULL and any other as its value.
func nullPtr[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
