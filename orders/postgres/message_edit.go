package postgres

import (
	"context"

	"github.com/chatpay/chatpay/orders"
)

// EditMessage replaces the text and buttons of the shop's message to the customer.
// Like every write of the transaction it is queued, and a message that is not there
// fails the transaction when the queue is sent (at the latest, at commit). Postgres
// counts a matched row as updated even when its values stay the same, so editing to
// what is stored is found, not ErrNotFound.
func (t *tx) EditMessage(ctx context.Context, m *orders.Message) error {
	t.p.queue(requireRow(`UPDATE messages SET text = $3, buttons = $4
		WHERE id = $1 AND shop_id = $2 AND direction = $5 RETURNING 1`, codeNotFound, "message not found"),
		m.ID, m.ShopID, m.Text, m.Buttons, orders.DirectionOut)
	return nil
}
