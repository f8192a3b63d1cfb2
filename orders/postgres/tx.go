package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"

	"github.com/chatpay/chatpay/orders"
)

// maxTxAttempts bounds how often InTx runs a transaction that failed with a
// serialization failure or a deadlock.
const maxTxAttempts = 4

// InTx runs fn in a READ COMMITTED transaction and commits if fn returns nil. A
// transaction that fails with a serialization failure or deadlock is retried from the
// start, so fn must only touch the store.
func (s *Store) InTx(ctx context.Context, fn func(orders.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err == nil || attempt == maxTxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
}

func (s *Store) inTx(ctx context.Context, fn func(orders.Tx) error) error {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	// Rollback after Commit is a no-op; this one covers errors and panics in fn.
	defer ptx.Rollback(context.WithoutCancel(ctx))

	t := &tx{s: s, tx: ptx}
	if err := fn(t); err != nil {
		return err
	}
	if len(t.jobs) > 0 {
		if _, err := s.inserter.InsertManyTx(ctx, ptx, t.jobs); err != nil {
			return fmt.Errorf("postgres: insert jobs: %w", err)
		}
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// retryable reports whether err is a transient failure that running the whole
// transaction again may not hit.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return true
	}
	return false
}

// dbError turns a unique violation into orders.ErrConflict (wrapped, naming the
// constraint) and leaves other errors as they are.
func dbError(what string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%s: %w (%s)", what, orders.ErrConflict, pgErr.ConstraintName)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// tx is the write side of one transaction.
type tx struct {
	s  *Store
	tx pgx.Tx
	// jobs are inserted with one InsertManyTx just before commit: one statement for
	// all of the transaction's jobs instead of one per Enqueue, with the same effect
	// (they commit or roll back with everything else).
	jobs []river.InsertManyParams
}

var _ orders.Tx = (*tx)(nil)

// exec runs a write that must change exactly one row; none means the row does not
// exist in this shop.
func (t *tx) exec(ctx context.Context, what, sql string, args ...any) error {
	tag, err := t.tx.Exec(ctx, sql, args...)
	if err != nil {
		return dbError(what, err)
	}
	if tag.RowsAffected() == 0 {
		return orders.ErrNotFound
	}
	return nil
}

// NextOrderCode returns the shop's next order number, starting at 1001. The upsert
// locks the shop's counter row until commit, so codes are gap-free per committed
// order and never repeat.
func (t *tx) NextOrderCode(ctx context.Context, shopID string) (int64, error) {
	var next int64
	err := t.tx.QueryRow(ctx, `INSERT INTO order_codes AS c (shop_id, next) VALUES ($1, 1001)
		ON CONFLICT (shop_id) DO UPDATE SET next = c.next + 1 RETURNING next`, shopID).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("next order code: %w", err)
	}
	return next, nil
}

// UpsertConversation finds or creates the shop's conversation for (channel, external
// id) and fills c from the stored row.
func (t *tx) UpsertConversation(ctx context.Context, c *orders.Conversation) error {
	if c.ID == "" {
		c.ID = orders.NewID()
	}
	// The insert does nothing when the conversation exists, and the second branch
	// then finds it. If another transaction inserted it concurrently, the insert
	// waits for it and does nothing, but this statement's snapshot predates it: the
	// follow-up select, a new statement, sees it.
	found, err := getOne(ctx, t.tx, scanConversation, `WITH ins AS (
			INSERT INTO conversations (id, shop_id, channel, external_id, customer_name, created_at, last_inbound_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (shop_id, channel, external_id) DO NOTHING
			RETURNING `+conversationCols+`)
		SELECT * FROM ins
		UNION ALL
		SELECT `+conversationCols+` FROM conversations WHERE shop_id = $2 AND channel = $3 AND external_id = $4
		LIMIT 1`,
		c.ID, c.ShopID, c.Channel, c.ExternalID, c.CustomerName, c.CreatedAt, c.LastInboundAt)
	if errors.Is(err, orders.ErrNotFound) {
		found, err = getOne(ctx, t.tx, scanConversation, `SELECT `+conversationCols+` FROM conversations
			WHERE shop_id = $1 AND channel = $2 AND external_id = $3`, c.ShopID, c.Channel, c.ExternalID)
	}
	if err != nil {
		return dbError("upsert conversation", err)
	}
	*c = *found
	return nil
}

const insertOrderSQL = `INSERT INTO orders (id, shop_id, code, status, payment_status, payment_method,
	currency, items, shipping_fee, total, customer_channel, customer_external_id, customer_name,
	customer_phone, conversation_id, ship_on_payment, metadata, version, created_at, updated_at, paid_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULLIF($15, ''), $16, $17, $18, $19, $20, $21)`

// InsertOrder stores a new order and, in the same round trip, its payment link.
func (t *tx) InsertOrder(ctx context.Context, o *orders.Order) error {
	if o.ID == "" {
		o.ID = orders.NewID()
	}
	b := &pgx.Batch{}
	b.Queue(insertOrderSQL, o.ID, o.ShopID, o.Code, o.Status, o.PaymentStatus, o.PaymentMethod,
		o.Currency, o.Items, o.ShippingFee, o.Total, o.Customer.Channel, o.Customer.ExternalID, o.Customer.Name,
		o.Customer.Phone, o.ConversationID, o.ShipOnPayment, o.Metadata, o.Version, o.CreatedAt, o.UpdatedAt, o.PaidAt)
	if l := o.Link; l != nil {
		l.OrderID = o.ID
		b.Queue(`INSERT INTO payment_links (order_id, shop_id, token_hash, sealed_token, created_at)
			VALUES ($1, $2, $3, $4, $5)`, o.ID, o.ShopID, l.TokenHash, l.SealedToken, l.CreatedAt)
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return dbError("insert order", err)
	}
	return nil
}

// LockOrder locks the order row (FOR UPDATE) and loads its link, payments and
// shipments, all in one round trip.
func (t *tx) LockOrder(ctx context.Context, shopID, id string) (*orders.Order, error) {
	return loadOrder(ctx, t.tx, `SELECT `+orderCols+` WHERE o.id = $1 AND o.shop_id = $2 FOR UPDATE OF o`,
		[]any{id, shopID}, shopID, id)
}

// UpdateOrder writes the order's status fields if its version is unchanged.
func (t *tx) UpdateOrder(ctx context.Context, o *orders.Order) error {
	tag, err := t.tx.Exec(ctx, `UPDATE orders SET status = $3, payment_status = $4, paid_at = $5,
		updated_at = $6, version = version + 1 WHERE id = $1 AND shop_id = $2 AND version = $7`,
		o.ID, o.ShopID, o.Status, o.PaymentStatus, o.PaidAt, o.UpdatedAt, o.Version)
	if err != nil {
		return fmt.Errorf("update order: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return orders.ErrConflict
	}
	o.Version++
	return nil
}

func (t *tx) InsertAttempt(ctx context.Context, a *orders.Attempt) error {
	if a.ID == "" {
		a.ID = orders.NewID()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO attempts (id, shop_id, order_id, gateway, session_id, amount,
		currency, status, failure_reason, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		a.ID, a.ShopID, a.OrderID, a.Gateway, a.SessionID, a.Amount, a.Currency, a.Status, a.FailureReason,
		a.CreatedAt, a.UpdatedAt)
	if err != nil {
		return dbError("insert attempt", err)
	}
	return nil
}

// LockAttemptBySession locks the attempt that owns a gateway session.
func (t *tx) LockAttemptBySession(ctx context.Context, shopID, gateway, sessionID string) (*orders.Attempt, error) {
	if sessionID == "" {
		// Attempts without a session share the empty one; it names none of them.
		return nil, orders.ErrNotFound
	}
	return getOne(ctx, t.tx, scanAttempt, `SELECT `+attemptCols+`
		WHERE shop_id = $1 AND gateway = $2 AND session_id = $3 FOR UPDATE`, shopID, gateway, sessionID)
}

func (t *tx) LockAttempt(ctx context.Context, shopID, id string) (*orders.Attempt, error) {
	return getOne(ctx, t.tx, scanAttempt, `SELECT `+attemptCols+` WHERE id = $1 AND shop_id = $2 FOR UPDATE`, id, shopID)
}

func (t *tx) UpdateAttempt(ctx context.Context, a *orders.Attempt) error {
	return t.exec(ctx, "update attempt", `UPDATE attempts SET session_id = $3, status = $4, failure_reason = $5,
		updated_at = $6 WHERE id = $1 AND shop_id = $2`,
		a.ID, a.ShopID, a.SessionID, a.Status, a.FailureReason, a.UpdatedAt)
}

func (t *tx) InsertPayment(ctx context.Context, p *orders.Payment) error {
	if p.ID == "" {
		p.ID = orders.NewID()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO payments (id, shop_id, order_id, attempt_id, gateway, gateway_ref,
		status, amount, refunded_amount, currency, duplicate, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		p.ID, p.ShopID, p.OrderID, p.AttemptID, p.Gateway, p.GatewayRef, p.Status, p.Amount, p.RefundedAmount,
		p.Currency, p.Duplicate, p.CreatedAt)
	if err != nil {
		return dbError("insert payment", err)
	}
	return nil
}

func (t *tx) UpdatePayment(ctx context.Context, p *orders.Payment) error {
	return t.exec(ctx, "update payment", `UPDATE payments SET status = $3, refunded_amount = $4
		WHERE id = $1 AND shop_id = $2`, p.ID, p.ShopID, p.Status, p.RefundedAmount)
}

func (t *tx) InsertRefund(ctx context.Context, r *orders.Refund) error {
	if r.ID == "" {
		r.ID = orders.NewID()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO refunds (id, shop_id, order_id, payment_id, amount, currency,
		status, reason, idempotency_key, gateway_ref, failure_reason, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.ID, r.ShopID, r.OrderID, r.PaymentID, r.Amount, r.Currency, r.Status, r.Reason, r.IdempotencyKey,
		r.GatewayRef, r.FailureReason, r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return dbError("insert refund", err)
	}
	return nil
}

func (t *tx) LockRefund(ctx context.Context, shopID, id string) (*orders.Refund, error) {
	return getOne(ctx, t.tx, scanRefund, `SELECT `+refundCols+` WHERE id = $1 AND shop_id = $2 FOR UPDATE`, id, shopID)
}

func (t *tx) UpdateRefund(ctx context.Context, r *orders.Refund) error {
	return t.exec(ctx, "update refund", `UPDATE refunds SET status = $3, gateway_ref = $4, failure_reason = $5,
		updated_at = $6 WHERE id = $1 AND shop_id = $2`,
		r.ID, r.ShopID, r.Status, r.GatewayRef, r.FailureReason, r.UpdatedAt)
}

// RefundsTotal sums the payment's pending and succeeded refunds.
func (t *tx) RefundsTotal(ctx context.Context, shopID, paymentID string) (int64, error) {
	var total int64
	err := t.tx.QueryRow(ctx, `SELECT COALESCE(sum(amount), 0)::bigint FROM refunds
		WHERE shop_id = $1 AND payment_id = $2 AND status IN ('pending', 'succeeded')`, shopID, paymentID).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("refunds total: %w", err)
	}
	return total, nil
}

func (t *tx) InsertShipment(ctx context.Context, s *orders.Shipment) error {
	if s.ID == "" {
		s.ID = orders.NewID()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO shipments (id, shop_id, order_id, carrier, tracking_number, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.ID, s.ShopID, s.OrderID, s.Carrier, s.TrackingNumber, s.CreatedAt)
	if err != nil {
		return dbError("insert shipment", err)
	}
	return nil
}

func (t *tx) InsertMessage(ctx context.Context, m *orders.Message) error {
	if m.ID == "" {
		m.ID = orders.NewID()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO messages (id, shop_id, conversation_id, order_id, direction, kind,
		text, buttons, status, external_id, failure_reason, created_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		m.ID, m.ShopID, m.ConversationID, m.OrderID, m.Direction, m.Kind, m.Text, m.Buttons, m.Status,
		m.ExternalID, m.FailureReason, m.CreatedAt, m.SentAt)
	if err != nil {
		return dbError("insert message", err)
	}
	return nil
}

func (t *tx) UpdateMessage(ctx context.Context, m *orders.Message) error {
	return t.exec(ctx, "update message", `UPDATE messages SET status = $3, external_id = $4, failure_reason = $5,
		sent_at = $6 WHERE id = $1 AND shop_id = $2`,
		m.ID, m.ShopID, m.Status, m.ExternalID, m.FailureReason, m.SentAt)
}

func (t *tx) InsertNotice(ctx context.Context, n *orders.Notice) error {
	if n.ID == "" {
		n.ID = orders.NewID()
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO notices (id, shop_id, order_id, kind, text, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, n.ID, n.ShopID, n.OrderID, n.Kind, n.Text, n.CreatedAt)
	if err != nil {
		return dbError("insert notice", err)
	}
	return nil
}

// InsertEvent records a gateway event once. The conflict clause has no target so
// that a replay is a no-op whether it repeats the (shop, gateway, event id) key or
// the row's own id (the same event value applied twice).
func (t *tx) InsertEvent(ctx context.Context, e *orders.GatewayEvent) (bool, error) {
	if e.ID == "" {
		e.ID = orders.NewID()
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO gateway_events (id, shop_id, gateway, event_id, type, session_id,
		payment_ref, amount, currency, reason, payload, outcome, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
		e.ID, e.ShopID, e.Gateway, e.EventID, e.Type, e.SessionID, e.PaymentRef, e.Amount, e.Currency, e.Reason,
		e.Payload, e.Outcome, e.ReceivedAt)
	if err != nil {
		return false, fmt.Errorf("insert gateway event: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (t *tx) SetEventOutcome(ctx context.Context, e *orders.GatewayEvent) error {
	return t.exec(ctx, "set event outcome", `UPDATE gateway_events SET outcome = $3 WHERE id = $1 AND shop_id = $2`,
		e.ID, e.ShopID, e.Outcome)
}

// Enqueue adds jobs to the transaction; InTx inserts them just before it commits.
func (t *tx) Enqueue(ctx context.Context, jobs ...orders.Job) error {
	for _, j := range jobs {
		t.jobs = append(t.jobs, river.InsertManyParams{Args: j})
	}
	return nil
}
