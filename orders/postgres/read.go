package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chatpay/chatpay/orders"
)

// Column lists and scanners. Each scanner reads exactly its column list, in order.

const orderCols = `o.id, o.shop_id, o.code, o.status, o.payment_status, o.payment_method,
	o.currency, o.items, o.shipping_fee, o.total, o.customer_channel, o.customer_external_id,
	o.customer_name, o.customer_phone, COALESCE(o.conversation_id, ''), o.ship_on_payment,
	o.metadata, o.version, o.created_at, o.updated_at, o.paid_at,
	l.token_hash, l.sealed_token, l.created_at
	FROM orders o LEFT JOIN payment_links l ON l.order_id = o.id`

func scanOrder(row pgx.Row) (*orders.Order, error) {
	var (
		o           orders.Order
		tokenHash   []byte
		sealed      []byte
		linkCreated *time.Time
	)
	err := row.Scan(&o.ID, &o.ShopID, &o.Code, &o.Status, &o.PaymentStatus, &o.PaymentMethod,
		&o.Currency, &o.Items, &o.ShippingFee, &o.Total, &o.Customer.Channel, &o.Customer.ExternalID,
		&o.Customer.Name, &o.Customer.Phone, &o.ConversationID, &o.ShipOnPayment,
		&o.Metadata, &o.Version, &o.CreatedAt, &o.UpdatedAt, &o.PaidAt,
		&tokenHash, &sealed, &linkCreated)
	if err != nil {
		return nil, err
	}
	if linkCreated != nil {
		o.Link = &orders.PaymentLink{OrderID: o.ID, TokenHash: tokenHash, SealedToken: sealed, CreatedAt: *linkCreated}
	}
	return &o, nil
}

const paymentCols = `id, shop_id, order_id, attempt_id, gateway, gateway_ref, status, amount,
	refunded_amount, currency, duplicate, created_at FROM payments`

func scanPayment(row pgx.Row) (*orders.Payment, error) {
	var p orders.Payment
	err := row.Scan(&p.ID, &p.ShopID, &p.OrderID, &p.AttemptID, &p.Gateway, &p.GatewayRef, &p.Status,
		&p.Amount, &p.RefundedAmount, &p.Currency, &p.Duplicate, &p.CreatedAt)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

const shipmentCols = `id, shop_id, order_id, carrier, tracking_number, created_at FROM shipments`

func scanShipment(row pgx.Row) (*orders.Shipment, error) {
	var s orders.Shipment
	if err := row.Scan(&s.ID, &s.ShopID, &s.OrderID, &s.Carrier, &s.TrackingNumber, &s.CreatedAt); err != nil {
		return nil, err
	}
	return &s, nil
}

const conversationCols = `id, shop_id, channel, external_id, customer_name, created_at, last_inbound_at, staff_thread_id`

func scanConversation(row pgx.Row) (*orders.Conversation, error) {
	var c orders.Conversation
	if err := row.Scan(&c.ID, &c.ShopID, &c.Channel, &c.ExternalID, &c.CustomerName, &c.CreatedAt, &c.LastInboundAt, &c.StaffThreadID); err != nil {
		return nil, err
	}
	return &c, nil
}

const attemptCols = `id, shop_id, order_id, gateway, session_id, amount, currency, status,
	failure_reason, created_at, updated_at FROM attempts`

func scanAttempt(row pgx.Row) (*orders.Attempt, error) {
	var a orders.Attempt
	err := row.Scan(&a.ID, &a.ShopID, &a.OrderID, &a.Gateway, &a.SessionID, &a.Amount, &a.Currency,
		&a.Status, &a.FailureReason, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

const refundCols = `id, shop_id, order_id, payment_id, amount, currency, status, reason,
	idempotency_key, gateway_ref, failure_reason, created_at, updated_at FROM refunds`

func scanRefund(row pgx.Row) (*orders.Refund, error) {
	var r orders.Refund
	err := row.Scan(&r.ID, &r.ShopID, &r.OrderID, &r.PaymentID, &r.Amount, &r.Currency, &r.Status,
		&r.Reason, &r.IdempotencyKey, &r.GatewayRef, &r.FailureReason, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

const messageCols = `id, shop_id, conversation_id, order_id, direction, kind, text, buttons,
	status, external_id, failure_reason, created_at, sent_at FROM messages`

func scanMessage(row pgx.Row) (*orders.Message, error) {
	var m orders.Message
	err := row.Scan(&m.ID, &m.ShopID, &m.ConversationID, &m.OrderID, &m.Direction, &m.Kind, &m.Text,
		&m.Buttons, &m.Status, &m.ExternalID, &m.FailureReason, &m.CreatedAt, &m.SentAt)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

const noticeCols = `id, shop_id, order_id, kind, text, created_at FROM notices`

func scanNotice(row pgx.Row) (*orders.Notice, error) {
	var n orders.Notice
	if err := row.Scan(&n.ID, &n.ShopID, &n.OrderID, &n.Kind, &n.Text, &n.CreatedAt); err != nil {
		return nil, err
	}
	return &n, nil
}

// getOne runs a query expected to return one row. A missing row is orders.ErrNotFound.
func getOne[T any](ctx context.Context, q *pgxpool.Pool, scan func(pgx.Row) (*T, error), sql string, args ...any) (*T, error) {
	v, err := scan(q.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, orders.ErrNotFound
	}
	return v, err
}

// getAll runs a query and scans every row.
func getAll[T any](ctx context.Context, q *pgxpool.Pool, scan func(pgx.Row) (*T, error), sql string, args ...any) ([]*T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scan)
}

// collect scans every row. It returns nil, not an empty slice, for no rows, so that
// what a caller stored with nil slices reads back equal.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (*T, error)) ([]*T, error) {
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Children of an order, oldest first. Both filter by shop as well as order.
const (
	orderPaymentsSQL  = `SELECT ` + paymentCols + ` WHERE shop_id = $1 AND order_id = $2 ORDER BY created_at, id`
	orderShipmentsSQL = `SELECT ` + shipmentCols + ` WHERE shop_id = $1 AND order_id = $2 ORDER BY created_at, id`
)

// orderLoad collects an order and its payments and shipments from three queries
// queued in one batch: the order query (which may lock the row) first, then the two
// child queries. With READ COMMITTED each statement sees what was committed before it
// started, so children read after a lock see every payment committed before it.
type orderLoad struct {
	order     *orders.Order
	payments  []*orders.Payment
	shipments []*orders.Shipment
}

func queueOrder(b *pgx.Batch, orderSQL string, orderArgs []any, paymentsSQL, shipmentsSQL string, childArgs []any) *orderLoad {
	l := &orderLoad{}
	b.Queue(orderSQL, orderArgs...).QueryRow(func(row pgx.Row) error {
		o, err := scanOrder(row)
		if errors.Is(err, pgx.ErrNoRows) {
			// Not an error of the batch: returning it would make pgx drop its cached
			// statements, which only database errors should.
			return nil
		}
		l.order = o
		return err
	})
	b.Queue(paymentsSQL, childArgs...).Query(func(rows pgx.Rows) error {
		var err error
		l.payments, err = collect(rows, scanPayment)
		return err
	})
	b.Queue(shipmentsSQL, childArgs...).Query(func(rows pgx.Rows) error {
		var err error
		l.shipments, err = collect(rows, scanShipment)
		return err
	})
	return l
}

// result returns the loaded order, orders.ErrNotFound if there was none.
func (l *orderLoad) result() (*orders.Order, error) {
	if l.order == nil {
		return nil, orders.ErrNotFound
	}
	l.order.Payments, l.order.Shipments = l.payments, l.shipments
	return l.order, nil
}

// loadOrder reads an order by shop and id with its children, in one round trip.
func (s *Store) loadOrder(ctx context.Context, shopID, id string) (*orders.Order, error) {
	b := &pgx.Batch{}
	l := queueOrder(b, `SELECT `+orderCols+` WHERE o.id = $1 AND o.shop_id = $2`, []any{id, shopID},
		orderPaymentsSQL, orderShipmentsSQL, []any{shopID, id})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return l.result()
}

// Order returns an order with its link, payments and shipments.
func (s *Store) Order(ctx context.Context, shopID, id string) (*orders.Order, error) {
	return s.loadOrder(ctx, shopID, id)
}

// OrderByCode returns an order by its human code.
func (s *Store) OrderByCode(ctx context.Context, shopID, code string) (*orders.Order, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT id FROM orders WHERE shop_id = $1 AND code = $2`, shopID, code).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, orders.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.loadOrder(ctx, shopID, id)
}

// OrderByTokenHash returns the order whose link has this token hash, in any shop.
//
// A pay page is the busiest read, so the order and its children are read in one
// round trip, each locating the order by the token hash.
func (s *Store) OrderByTokenHash(ctx context.Context, tokenHash []byte) (*orders.Order, error) {
	// Children are found by shop and order, as their indexes are keyed.
	const byToken = ` shop_id = (SELECT l.shop_id FROM payment_links l WHERE l.token_hash = $1)
		AND order_id = (SELECT l.order_id FROM payment_links l WHERE l.token_hash = $1)`
	b := &pgx.Batch{}
	args := []any{tokenHash}
	l := queueOrder(b, `SELECT `+orderCols+` WHERE o.id = (SELECT l.order_id FROM payment_links l WHERE l.token_hash = $1)`, args,
		`SELECT `+paymentCols+` WHERE`+byToken+` ORDER BY created_at, id`,
		`SELECT `+shipmentCols+` WHERE`+byToken+` ORDER BY created_at, id`, args)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return l.result()
}

// OrderAndLatestAttemptByTokenHash reads what a pay page shows, the order with its
// children and its latest attempt, in one round trip (orders.PayPageReader).
func (s *Store) OrderAndLatestAttemptByTokenHash(ctx context.Context, tokenHash []byte) (*orders.Order, *orders.Attempt, error) {
	const byToken = ` shop_id = (SELECT l.shop_id FROM payment_links l WHERE l.token_hash = $1)
		AND order_id = (SELECT l.order_id FROM payment_links l WHERE l.token_hash = $1)`
	b := &pgx.Batch{}
	args := []any{tokenHash}
	l := queueOrder(b, `SELECT `+orderCols+` WHERE o.id = (SELECT l.order_id FROM payment_links l WHERE l.token_hash = $1)`, args,
		`SELECT `+paymentCols+` WHERE`+byToken+` ORDER BY created_at, id`,
		`SELECT `+shipmentCols+` WHERE`+byToken+` ORDER BY created_at, id`, args)
	var latest *orders.Attempt
	b.Queue(`SELECT `+attemptCols+` WHERE`+byToken+` ORDER BY created_at DESC, id DESC LIMIT 1`, args...).QueryRow(func(row pgx.Row) error {
		a, err := scanAttempt(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		latest = a
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, err
	}
	o, err := l.result()
	if err != nil {
		return nil, nil, err
	}
	return o, latest, nil
}

func (s *Store) Conversation(ctx context.Context, shopID, id string) (*orders.Conversation, error) {
	return getOne(ctx, s.pool, scanConversation,
		`SELECT `+conversationCols+` FROM conversations WHERE id = $1 AND shop_id = $2`, id, shopID)
}

// ConversationByStaffThread returns the conversation whose staff topic is thread.
func (s *Store) ConversationByStaffThread(ctx context.Context, shopID string, thread int64) (*orders.Conversation, error) {
	if thread == 0 {
		return nil, orders.ErrNotFound
	}
	return getOne(ctx, s.pool, scanConversation,
		`SELECT `+conversationCols+` FROM conversations WHERE shop_id = $1 AND staff_thread_id = $2`, shopID, thread)
}

// ConversationByExternalID returns the shop's conversation on channel with the
// customer's external id.
func (s *Store) ConversationByExternalID(ctx context.Context, shopID, channel, externalID string) (*orders.Conversation, error) {
	return getOne(ctx, s.pool, scanConversation,
		`SELECT `+conversationCols+` FROM conversations WHERE shop_id = $1 AND channel = $2 AND external_id = $3`,
		shopID, channel, externalID)
}

// OrderIDByKey returns the order created under an idempotency key.
func (s *Store) OrderIDByKey(ctx context.Context, shopID, key string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT order_id FROM order_keys WHERE shop_id = $1 AND key = $2`, shopID, key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", orders.ErrNotFound
	}
	return id, err
}

func (s *Store) Message(ctx context.Context, shopID, id string) (*orders.Message, error) {
	return getOne(ctx, s.pool, scanMessage, `SELECT `+messageCols+` WHERE id = $1 AND shop_id = $2`, id, shopID)
}

// QueuedBefore reports whether an earlier message of m's conversation and direction
// is still queued.
func (s *Store) QueuedBefore(ctx context.Context, m *orders.Message) (bool, error) {
	var found bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE shop_id = $1 AND conversation_id = $2
		AND status = 'queued' AND direction = $3 AND (created_at, id) < ($4, $5))`,
		m.ShopID, m.ConversationID, m.Direction, m.CreatedAt, m.ID).Scan(&found)
	return found, err
}

// OrderMessages returns every message about an order, oldest first.
func (s *Store) OrderMessages(ctx context.Context, shopID, orderID string) ([]*orders.Message, error) {
	return getAll(ctx, s.pool, scanMessage,
		`SELECT `+messageCols+` WHERE shop_id = $1 AND order_id = $2 ORDER BY created_at, id`, shopID, orderID)
}

// Notices returns the shop's newest notices first.
func (s *Store) Notices(ctx context.Context, shopID string, limit int) ([]*orders.Notice, error) {
	if limit <= 0 {
		return getAll(ctx, s.pool, scanNotice,
			`SELECT `+noticeCols+` WHERE shop_id = $1 ORDER BY created_at DESC, id DESC`, shopID)
	}
	return getAll(ctx, s.pool, scanNotice,
		`SELECT `+noticeCols+` WHERE shop_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, shopID, limit)
}

func (s *Store) Notice(ctx context.Context, shopID, id string) (*orders.Notice, error) {
	return getOne(ctx, s.pool, scanNotice, `SELECT `+noticeCols+` WHERE id = $1 AND shop_id = $2`, id, shopID)
}

// ChatUpdate returns a recorded chat update.
func (s *Store) ChatUpdate(ctx context.Context, shopID, source string, updateID int64) (*orders.ChatUpdate, error) {
	return getOne(ctx, s.pool, func(row pgx.Row) (*orders.ChatUpdate, error) {
		var u orders.ChatUpdate
		if err := row.Scan(&u.ShopID, &u.Source, &u.UpdateID, &u.Payload, &u.ReceivedAt, &u.Chat, &u.ProcessedAt); err != nil {
			return nil, err
		}
		u.ReceivedAt = u.ReceivedAt.UTC()
		if u.ProcessedAt != nil {
			p := u.ProcessedAt.UTC()
			u.ProcessedAt = &p
		}
		return &u, nil
	}, `SELECT shop_id, source, update_id, payload, received_at, chat, processed_at FROM chat_updates
		WHERE shop_id = $1 AND source = $2 AND update_id = $3`, shopID, source, updateID)
}

// ChatUpdateWaiting reports whether an earlier update of u's chat is unprocessed.
func (s *Store) ChatUpdateWaiting(ctx context.Context, u *orders.ChatUpdate) (bool, error) {
	if u.Chat == "" {
		return false, nil
	}
	var found bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM chat_updates WHERE shop_id = $1 AND source = $2
		AND chat = $3 AND update_id < $4 AND processed_at IS NULL)`, u.ShopID, u.Source, u.Chat, u.UpdateID).Scan(&found)
	return found, err
}

// ChatUpdateToHandle returns a recorded chat update and whether an earlier update of
// its chat is unprocessed, in one round trip.
func (s *Store) ChatUpdateToHandle(ctx context.Context, shopID, source string, updateID int64) (*orders.ChatUpdate, bool, error) {
	var waiting bool
	u, err := getOne(ctx, s.pool, func(row pgx.Row) (*orders.ChatUpdate, error) {
		var u orders.ChatUpdate
		if err := row.Scan(&u.ShopID, &u.Source, &u.UpdateID, &u.Payload, &u.ReceivedAt, &u.Chat, &u.ProcessedAt, &waiting); err != nil {
			return nil, err
		}
		u.ReceivedAt = u.ReceivedAt.UTC()
		if u.ProcessedAt != nil {
			p := u.ProcessedAt.UTC()
			u.ProcessedAt = &p
		}
		return &u, nil
	}, `SELECT u.shop_id, u.source, u.update_id, u.payload, u.received_at, u.chat, u.processed_at,
		u.chat <> '' AND EXISTS (SELECT 1 FROM chat_updates e WHERE e.shop_id = u.shop_id AND e.source = u.source
			AND e.chat = u.chat AND e.update_id < u.update_id AND e.processed_at IS NULL)
		FROM chat_updates u WHERE u.shop_id = $1 AND u.source = $2 AND u.update_id = $3`, shopID, source, updateID)
	if err != nil {
		return nil, false, err
	}
	return u, waiting, nil
}

// ChatOffset returns where long polling of source resumes, 0 when it never ran.
func (s *Store) ChatOffset(ctx context.Context, shopID, source string) (int64, error) {
	var next int64
	err := s.pool.QueryRow(ctx, `SELECT next FROM chat_offsets WHERE shop_id = $1 AND source = $2`,
		shopID, source).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return next, err
}

// LatestAttempt returns the order's newest attempt.
func (s *Store) LatestAttempt(ctx context.Context, shopID, orderID string) (*orders.Attempt, error) {
	return getOne(ctx, s.pool, scanAttempt,
		`SELECT `+attemptCols+` WHERE shop_id = $1 AND order_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1`, shopID, orderID)
}

func (s *Store) Attempt(ctx context.Context, shopID, id string) (*orders.Attempt, error) {
	return getOne(ctx, s.pool, scanAttempt, `SELECT `+attemptCols+` WHERE id = $1 AND shop_id = $2`, id, shopID)
}

// OrderAttempts returns the order's attempts, oldest first.
func (s *Store) OrderAttempts(ctx context.Context, shopID, orderID string) ([]*orders.Attempt, error) {
	return getAll(ctx, s.pool, scanAttempt,
		`SELECT `+attemptCols+` WHERE shop_id = $1 AND order_id = $2 ORDER BY created_at, id`, shopID, orderID)
}

// StaleAttempts returns open attempts created in (createdAfter, createdBefore), in
// (created_at, id) order after (afterCreatedAt, afterID), across shops:
// reconciliation asks each one's gateway about it. The plain created_at bound beside
// the row comparison lets the scan start in attempts_created_idx instead of at its
// oldest entry.
func (s *Store) StaleAttempts(ctx context.Context, createdAfter, createdBefore, afterCreatedAt time.Time, afterID string, limit int) ([]*orders.Attempt, error) {
	if limit <= 0 {
		limit = 1000
	}
	if afterCreatedAt.IsZero() {
		return getAll(ctx, s.pool, scanAttempt,
			`SELECT `+attemptCols+` WHERE status IN ('created', 'pending') AND created_at > $1 AND created_at < $2
			ORDER BY created_at, id LIMIT $3`, createdAfter, createdBefore, limit)
	}
	return getAll(ctx, s.pool, scanAttempt,
		`SELECT `+attemptCols+` WHERE status IN ('created', 'pending') AND created_at > $1 AND created_at < $2
		AND created_at >= $3 AND (created_at, id) > ($3, $4)
		ORDER BY created_at, id LIMIT $5`, createdAfter, createdBefore, afterCreatedAt, afterID, limit)
}

func (s *Store) Refund(ctx context.Context, shopID, id string) (*orders.Refund, error) {
	return getOne(ctx, s.pool, scanRefund, `SELECT `+refundCols+` WHERE id = $1 AND shop_id = $2`, id, shopID)
}

// OrderRefunds returns the order's refunds, oldest first.
func (s *Store) OrderRefunds(ctx context.Context, shopID, orderID string) ([]*orders.Refund, error) {
	return getAll(ctx, s.pool, scanRefund,
		`SELECT `+refundCols+` WHERE shop_id = $1 AND order_id = $2 ORDER BY created_at, id`, shopID, orderID)
}

func (s *Store) Payment(ctx context.Context, shopID, id string) (*orders.Payment, error) {
	return getOne(ctx, s.pool, scanPayment, `SELECT `+paymentCols+` WHERE id = $1 AND shop_id = $2`, id, shopID)
}

// Secret returns the named instance secret, creating it with gen on first use. When
// two processes race, both generate, one insert wins and both return its value.
func (s *Store) Secret(ctx context.Context, name string, gen func() (string, error)) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return v, err
	}
	fresh, err := gen()
	if err != nil {
		return "", fmt.Errorf("generate secret %s: %w", name, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, fresh)
	if err != nil {
		return "", err
	}
	err = s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	return v, err
}
