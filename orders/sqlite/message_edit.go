package sqlite

import (
	"context"
	"fmt"

	"github.com/chatpay/chatpay/orders"
)

// EditMessage replaces the text and buttons of the shop's message to the customer.
// SQLite counts a row the WHERE clause matched as changed even when its values stay
// the same, so editing to what is stored is found, not ErrNotFound.
func (t *tx) EditMessage(ctx context.Context, m *orders.Message) error {
	buttons, err := toJSON(m.Buttons)
	if err != nil {
		return fmt.Errorf("sqlite: message buttons: %w", err)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE messages SET text = ?, buttons = ?
		WHERE shop_id = ? AND id = ? AND direction = ?`, m.Text, buttons, m.ShopID, m.ID, orders.DirectionOut)
	return affected(res, err, "edit message")
}
