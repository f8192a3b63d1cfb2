package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/orders"
)

// tx is orders.Tx on one IMMEDIATE transaction. The transaction holds SQLite's write
// lock from BEGIN, so the Lock methods are plain reads: nobody else can write until
// it ends.
type tx struct {
	store *Store
	tx    *sql.Tx
	// q runs the transaction's statements, prepared once per query text (see cachedTx).
	q *cachedTx
}

var _ orders.Tx = (*tx)(nil)

// NextOrderCode bumps the shop's counter, creating it at 1001.
func (t *tx) NextOrderCode(ctx context.Context, shopID string) (int64, error) {
	var code int64
	err := t.q.QueryRowContext(ctx, `INSERT INTO order_codes (shop_id, last_code) VALUES (?, 1001)
		ON CONFLICT (shop_id) DO UPDATE SET last_code = last_code + 1
		RETURNING last_code`, shopID).Scan(&code)
	if err != nil {
		return 0, fmt.Errorf("sqlite: next order code: %w", err)
	}
	return code, nil
}

// UpsertConversation inserts c unless the shop already has a conversation for its
// (channel, external id), then fills c from the stored row.
func (t *tx) UpsertConversation(ctx context.Context, c *orders.Conversation) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO conversations (`+conversationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, channel, external_id) DO NOTHING`,
		c.ID, c.ShopID, c.Channel, c.ExternalID, c.CustomerName, micros(c.CreatedAt), nullMicros(c.LastInboundAt), c.StaffThreadID)
	if err != nil {
		return fmt.Errorf("sqlite: upsert conversation: %w", err)
	}
	stored, err := getOne(ctx, t.q, "conversation", scanConversation,
		`SELECT `+conversationColumns+` FROM conversations WHERE shop_id = ? AND channel = ? AND external_id = ?`,
		c.ShopID, c.Channel, c.ExternalID)
	if err != nil {
		return err
	}
	*c = *stored
	return nil
}

// UpdateConversation writes the conversation's mutable fields.
func (t *tx) UpdateConversation(ctx context.Context, c *orders.Conversation) error {
	res, err := t.q.ExecContext(ctx, `UPDATE conversations SET customer_name = ?, last_inbound_at = ?, staff_thread_id = ?
		WHERE shop_id = ? AND id = ?`, c.CustomerName, nullMicros(c.LastInboundAt), c.StaffThreadID, c.ShopID, c.ID)
	if err != nil && isUniqueViolation(err) {
		return fmt.Errorf("sqlite: staff thread %d is another conversation's: %w", c.StaffThreadID, orders.ErrConflict)
	}
	return affected(res, err, "update conversation")
}

// SetStaffThread writes the conversation's staff topic, and only that column: a
// customer's message committed since the caller read the conversation keeps its
// last_inbound_at.
func (t *tx) SetStaffThread(ctx context.Context, shopID, conversationID string, thread int64) error {
	res, err := t.q.ExecContext(ctx, `UPDATE conversations SET staff_thread_id = ? WHERE shop_id = ? AND id = ?`,
		thread, shopID, conversationID)
	if err != nil && isUniqueViolation(err) {
		return fmt.Errorf("sqlite: staff thread %d is another conversation's: %w", thread, orders.ErrConflict)
	}
	return affected(res, err, "set staff thread")
}

// InsertOrderKey records the key that created an order; a repeated key is a conflict.
func (t *tx) InsertOrderKey(ctx context.Context, shopID, key, orderID string) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO order_keys (shop_id, key, order_id) VALUES (?, ?, ?)`, shopID, key, orderID)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("sqlite: order key %q: %w", key, orders.ErrConflict)
		}
		return fmt.Errorf("sqlite: insert order key: %w", err)
	}
	return nil
}

// InsertOrder stores a new order and its link.
func (t *tx) InsertOrder(ctx context.Context, o *orders.Order) error {
	items, err := toJSON(o.Items)
	if err != nil {
		return fmt.Errorf("sqlite: order items: %w", err)
	}
	metadata, err := toJSON(o.Metadata)
	if err != nil {
		return fmt.Errorf("sqlite: order metadata: %w", err)
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO orders (id, shop_id, code, status, payment_status,
		payment_method, currency, items, shipping_fee, total, customer_channel, customer_external_id,
		customer_name, customer_phone, conversation_id, ship_on_payment, metadata, version, created_at,
		updated_at, paid_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.ShopID, o.Code, o.Status, o.PaymentStatus, o.PaymentMethod, o.Currency, items,
		o.ShippingFee, o.Total, o.Customer.Channel, o.Customer.ExternalID, o.Customer.Name,
		o.Customer.Phone, nullString(o.ConversationID), o.ShipOnPayment, metadata, o.Version,
		micros(o.CreatedAt), micros(o.UpdatedAt), nullMicros(o.PaidAt))
	if err != nil {
		return fmt.Errorf("sqlite: insert order: %w", err)
	}
	if err := insertSearchTerms(ctx, t.q, o); err != nil {
		return err
	}
	if l := o.Link; l != nil {
		_, err = t.q.ExecContext(ctx, `INSERT INTO payment_links (order_id, shop_id, token_hash, sealed_token, created_at)
			VALUES (?, ?, ?, ?, ?)`, o.ID, o.ShopID, blob(l.TokenHash), blob(l.SealedToken), micros(l.CreatedAt))
		if err != nil {
			return fmt.Errorf("sqlite: insert payment link: %w", err)
		}
	}
	return nil
}

// LockOrder loads an order inside the transaction.
func (t *tx) LockOrder(ctx context.Context, shopID, id string) (*orders.Order, error) {
	return loadOrder(ctx, t.q, `WHERE o.shop_id = ? AND o.id = ?`, shopID, id)
}

// UpdateOrder writes the status fields if the stored version is still o.Version.
func (t *tx) UpdateOrder(ctx context.Context, o *orders.Order) error {
	res, err := t.q.ExecContext(ctx, `UPDATE orders SET status = ?, payment_status = ?, paid_at = ?,
		updated_at = ?, conversation_id = ?, version = version + 1
		WHERE shop_id = ? AND id = ? AND version = ?`,
		o.Status, o.PaymentStatus, nullMicros(o.PaidAt), micros(o.UpdatedAt), nullString(o.ConversationID),
		o.ShopID, o.ID, o.Version)
	if err != nil {
		return fmt.Errorf("sqlite: update order: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: update order: %w", err)
	}
	if n == 0 {
		return orders.ErrConflict
	}
	o.Version++
	return nil
}

func (t *tx) InsertAttempt(ctx context.Context, a *orders.Attempt) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO attempts (`+attemptColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.ShopID, a.OrderID, a.Gateway, a.SessionID, a.Amount, a.Currency, a.Status, a.FailureReason,
		micros(a.CreatedAt), micros(a.UpdatedAt))
	if isUniqueViolation(err) {
		return orders.Errorf(orders.ECONFLICT, "Gateway session %s is already recorded for another attempt.", a.SessionID)
	} else if err != nil {
		return fmt.Errorf("sqlite: insert attempt: %w", err)
	}
	return nil
}

// LockAttemptBySession loads the attempt of a gateway session. The empty session id
// of attempts still waiting for one never matches.
func (t *tx) LockAttemptBySession(ctx context.Context, shopID, gateway, sessionID string) (*orders.Attempt, error) {
	return getOne(ctx, t.q, "attempt by session", scanAttempt,
		`SELECT `+attemptColumns+` FROM attempts WHERE shop_id = ? AND gateway = ? AND session_id = ? AND session_id <> ''`,
		shopID, gateway, sessionID)
}

func (t *tx) LockAttempt(ctx context.Context, shopID, id string) (*orders.Attempt, error) {
	return getOne(ctx, t.q, "attempt", scanAttempt,
		`SELECT `+attemptColumns+` FROM attempts WHERE shop_id = ? AND id = ?`, shopID, id)
}

func (t *tx) UpdateAttempt(ctx context.Context, a *orders.Attempt) error {
	res, err := t.q.ExecContext(ctx, `UPDATE attempts SET session_id = ?, status = ?, failure_reason = ?, updated_at = ?
		WHERE shop_id = ? AND id = ?`, a.SessionID, a.Status, a.FailureReason, micros(a.UpdatedAt), a.ShopID, a.ID)
	if isUniqueViolation(err) {
		return orders.Errorf(orders.ECONFLICT, "Gateway session %s is already recorded for another attempt.", a.SessionID)
	}
	return affected(res, err, "update attempt")
}

func (t *tx) InsertPayment(ctx context.Context, p *orders.Payment) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO payments (`+paymentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.ShopID, p.OrderID, p.AttemptID, p.Gateway, p.GatewayRef, p.Status, p.Amount, p.RefundedAmount,
		p.Currency, p.Duplicate, micros(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: insert payment: %w", err)
	}
	return nil
}

func (t *tx) UpdatePayment(ctx context.Context, p *orders.Payment) error {
	res, err := t.q.ExecContext(ctx, `UPDATE payments SET status = ?, refunded_amount = ?, amount = ? WHERE shop_id = ? AND id = ?`,
		p.Status, p.RefundedAmount, p.Amount, p.ShopID, p.ID)
	return affected(res, err, "update payment")
}

func (t *tx) InsertRefund(ctx context.Context, r *orders.Refund) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO refunds (`+refundColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.ShopID, r.OrderID, r.PaymentID, r.Amount, r.Currency, r.Status, r.Reason, r.IdempotencyKey,
		r.GatewayRef, r.FailureReason, micros(r.CreatedAt), micros(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: insert refund: %w", err)
	}
	return nil
}

func (t *tx) LockRefund(ctx context.Context, shopID, id string) (*orders.Refund, error) {
	return getOne(ctx, t.q, "refund", scanRefund,
		`SELECT `+refundColumns+` FROM refunds WHERE shop_id = ? AND id = ?`, shopID, id)
}

func (t *tx) UpdateRefund(ctx context.Context, r *orders.Refund) error {
	res, err := t.q.ExecContext(ctx, `UPDATE refunds SET status = ?, gateway_ref = ?, failure_reason = ?, updated_at = ?
		WHERE shop_id = ? AND id = ?`, r.Status, r.GatewayRef, r.FailureReason, micros(r.UpdatedAt), r.ShopID, r.ID)
	return affected(res, err, "update refund")
}

// RefundsTotal sums the payment's pending and succeeded refunds: money that is
// returned or on its way back.
func (t *tx) RefundsTotal(ctx context.Context, shopID, paymentID string) (int64, error) {
	var total int64
	err := t.q.QueryRowContext(ctx, `SELECT coalesce(sum(amount), 0) FROM refunds
		WHERE shop_id = ? AND payment_id = ? AND status IN (?, ?)`,
		shopID, paymentID, orders.RefundPending, orders.RefundSucceeded).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("sqlite: refunds total: %w", err)
	}
	return total, nil
}

// RefundsCount counts the payment's pending and succeeded refunds: those the gateway
// has made or is about to.
func (t *tx) RefundsCount(ctx context.Context, shopID, paymentID string) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT count(*) FROM refunds
		WHERE shop_id = ? AND payment_id = ? AND status IN (?, ?)`,
		shopID, paymentID, orders.RefundPending, orders.RefundSucceeded).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: refunds count: %w", err)
	}
	return n, nil
}

// PaymentByRef finds a payment by the gateway's reference. Payments without one have
// an empty ref, which never matches.
func (t *tx) PaymentByRef(ctx context.Context, shopID, gateway, ref string) (*orders.Payment, error) {
	return getOne(ctx, t.q, "payment by ref", scanPayment,
		`SELECT `+paymentColumns+` FROM payments WHERE shop_id = ? AND gateway = ? AND gateway_ref = ? AND gateway_ref <> ''
		ORDER BY created_at, id LIMIT 1`, shopID, gateway, ref)
}

func (t *tx) InsertShipment(ctx context.Context, s *orders.Shipment) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO shipments (`+shipmentColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.ShopID, s.OrderID, s.Carrier, s.TrackingNumber, micros(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: insert shipment: %w", err)
	}
	return nil
}

func (t *tx) InsertMessage(ctx context.Context, m *orders.Message) error {
	buttons, err := toJSON(m.Buttons)
	if err != nil {
		return fmt.Errorf("sqlite: message buttons: %w", err)
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO messages (`+messageColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ShopID, nullString(m.ConversationID), nullString(m.OrderID), m.Direction, m.Kind, m.Text, buttons,
		m.Status, m.ExternalID, m.FailureReason, micros(m.CreatedAt), nullMicros(m.SentAt))
	if err != nil {
		return fmt.Errorf("sqlite: insert message: %w", err)
	}
	return nil
}

// LockMessage loads a message inside the transaction. SQLite's transactions here are
// IMMEDIATE, one writer at a time, so reading in the transaction is what holds the
// message until it ends.
func (t *tx) LockMessage(ctx context.Context, shopID, id string) (*orders.Message, error) {
	return getOne(ctx, t.q, "message", scanMessage,
		`SELECT `+messageColumns+` FROM messages WHERE shop_id = ? AND id = ?`, shopID, id)
}

func (t *tx) UpdateMessage(ctx context.Context, m *orders.Message) error {
	res, err := t.q.ExecContext(ctx, `UPDATE messages SET status = ?, external_id = ?, failure_reason = ?, sent_at = ?
		WHERE shop_id = ? AND id = ?`, m.Status, m.ExternalID, m.FailureReason, nullMicros(m.SentAt), m.ShopID, m.ID)
	return affected(res, err, "update message")
}

func (t *tx) InsertNotice(ctx context.Context, n *orders.Notice) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO notices (`+noticeColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		n.ID, n.ShopID, nullString(n.OrderID), n.Kind, n.Text, micros(n.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: insert notice: %w", err)
	}
	return nil
}

// InsertEvents records gateway events, each unless its (shop, gateway, event id) is
// already recorded.
func (t *tx) InsertEvents(ctx context.Context, evs []*orders.GatewayEvent) ([]bool, error) {
	inserted := make([]bool, len(evs))
	for i, e := range evs {
		var err error
		if inserted[i], err = t.insertEvent(ctx, e); err != nil {
			return nil, err
		}
	}
	return inserted, nil
}

// insertEvent records one event. ON CONFLICT DO NOTHING makes a replay a no-op rather
// than an error.
func (t *tx) insertEvent(ctx context.Context, e *orders.GatewayEvent) (bool, error) {
	res, err := t.q.ExecContext(ctx, `INSERT INTO gateway_events (id, shop_id, gateway, event_id, type,
		session_id, payment_ref, amount, currency, reason, payload, outcome, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, gateway, event_id) DO NOTHING`,
		e.ID, e.ShopID, e.Gateway, e.EventID, e.Type, e.SessionID, e.PaymentRef, e.Amount, e.Currency,
		e.Reason, blob(e.Payload), e.Outcome, micros(e.ReceivedAt))
	if err != nil {
		return false, fmt.Errorf("sqlite: insert gateway event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: insert gateway event: %w", err)
	}
	return n == 1, nil
}

func (t *tx) SetEventOutcome(ctx context.Context, e *orders.GatewayEvent) error {
	res, err := t.q.ExecContext(ctx, `UPDATE gateway_events SET outcome = ? WHERE shop_id = ? AND id = ?`,
		e.Outcome, e.ShopID, e.ID)
	return affected(res, err, "set event outcome")
}

// InsertChatUpdates records chat updates, each unless already recorded.
func (t *tx) InsertChatUpdates(ctx context.Context, ups []*orders.ChatUpdate) ([]bool, error) {
	inserted := make([]bool, len(ups))
	for i, u := range ups {
		if u.Key != "" {
			fresh, err := t.insertKeyedChatUpdate(ctx, u)
			if err != nil {
				return nil, err
			}
			inserted[i] = fresh
			continue
		}
		res, err := t.q.ExecContext(ctx, `INSERT INTO chat_updates (shop_id, source, update_id, payload, received_at, chat)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, source, update_id) DO NOTHING`,
			u.ShopID, u.Source, u.UpdateID, blob(u.Payload), micros(u.ReceivedAt), u.Chat)
		if err != nil {
			return nil, fmt.Errorf("sqlite: insert chat update: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, fmt.Errorf("sqlite: insert chat update: %w", err)
		}
		inserted[i] = n == 1
	}
	return inserted, nil
}

// insertKeyedChatUpdate records an update unique on its key, numbering it from its
// source's sequence.
func (t *tx) insertKeyedChatUpdate(ctx context.Context, u *orders.ChatUpdate) (bool, error) {
	var exists bool
	err := t.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM chat_updates WHERE shop_id = ? AND source = ? AND event_key = ?)`,
		u.ShopID, u.Source, u.Key).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("sqlite: insert chat update: %w", err)
	}
	if exists {
		return false, nil
	}
	var id int64
	err = t.q.QueryRowContext(ctx, `INSERT INTO chat_offsets (shop_id, source, next) VALUES (?, ?, 1)
		ON CONFLICT (shop_id, source) DO UPDATE SET next = next + 1 RETURNING next`, u.ShopID, u.Source).Scan(&id)
	if err != nil {
		return false, fmt.Errorf("sqlite: number chat update: %w", err)
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO chat_updates (shop_id, source, update_id, payload, received_at, chat, event_key)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, u.ShopID, u.Source, id, blob(u.Payload), micros(u.ReceivedAt), u.Chat, u.Key)
	if err != nil {
		return false, fmt.Errorf("sqlite: insert chat update: %w", err)
	}
	u.UpdateID = id
	return true, nil
}

// MarkChatUpdateProcessed records that an update is processed.
func (t *tx) MarkChatUpdateProcessed(ctx context.Context, shopID, source string, updateID int64, at time.Time) error {
	res, err := t.q.ExecContext(ctx, `UPDATE chat_updates SET processed_at = ? WHERE shop_id = ? AND source = ? AND update_id = ?`,
		micros(at), shopID, source, updateID)
	return affected(res, err, "mark chat update processed")
}

// SetChatOffset moves the polling offset of source forward.
func (t *tx) SetChatOffset(ctx context.Context, shopID, source string, next int64) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO chat_offsets (shop_id, source, next) VALUES (?, ?, ?)
		ON CONFLICT (shop_id, source) DO UPDATE SET next = max(next, excluded.next)`, shopID, source, next)
	if err != nil {
		return fmt.Errorf("sqlite: set chat offset: %w", err)
	}
	return nil
}

// Enqueue inserts the jobs with River on this transaction, so they exist only if it
// commits.
func (t *tx) Enqueue(ctx context.Context, jobs ...orders.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		params[i] = river.InsertManyParams{Args: j}
		if p, ok := j.(orders.Prioritized); ok {
			params[i].InsertOpts = &river.InsertOpts{Priority: p.Priority()}
		}
	}
	if _, err := t.store.inserter.InsertManyTx(ctx, t.tx, params); err != nil {
		return fmt.Errorf("sqlite: enqueue: %w", err)
	}
	return nil
}
