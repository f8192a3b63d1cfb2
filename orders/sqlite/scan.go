package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// querier is what reads need: the reader pool outside a transaction, the *sql.Tx
// inside one (so that a transaction sees its own writes).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// micros stores a time as unix microseconds; stores keep microsecond precision.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros stores an optional time.
func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullString stores an optional reference: "" becomes NULL so that foreign keys hold.
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// blob stores a byte slice in a NOT NULL BLOB column: nil would bind as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// notFound maps sql.ErrNoRows to orders.ErrNotFound and wraps other errors with what
// was being read.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return orders.ErrNotFound
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}

// affected returns orders.ErrNotFound when a write matched no row.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n == 0 {
		return orders.ErrNotFound
	}
	return nil
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q querier, what string, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}

const orderColumns = `o.id, o.shop_id, o.code, o.status, o.payment_status, o.payment_method, o.currency,
	o.items, o.shipping_fee, o.total, o.customer_channel, o.customer_external_id, o.customer_name,
	o.customer_phone, o.conversation_id, o.ship_on_payment, o.metadata, o.version, o.created_at,
	o.updated_at, o.paid_at, l.order_id, l.token_hash, l.sealed_token, l.created_at,
	EXISTS (SELECT 1 FROM payments p WHERE p.shop_id = o.shop_id AND p.order_id = o.id),
	EXISTS (SELECT 1 FROM shipments s WHERE s.shop_id = o.shop_id AND s.order_id = o.id)`

// orderSelect reads orders with their link, and whether each has payments and
// shipments: those are loaded after, and only when some order has any. Most orders
// read (every pay page view) await payment and have neither, so their read is one
// statement instead of three; the EXISTS probes are lookups on the (shop_id, order_id)
// indexes.
const orderSelect = `SELECT ` + orderColumns + ` FROM orders o LEFT JOIN payment_links l ON l.order_id = o.id`

// orderRow is an order as scanned, with whether it has children to load.
type orderRow struct {
	order                     *orders.Order
	hasPayments, hasShipments bool
}

func scanOrder(r scanner) (*orderRow, error) {
	var (
		row                       orderRow
		o                         orders.Order
		items, metadata           string
		conversationID, linkOrder sql.NullString
		created, updated          int64
		paidAt, linkCreated       sql.NullInt64
		tokenHash, sealed         []byte
	)
	err := r.Scan(&o.ID, &o.ShopID, &o.Code, &o.Status, &o.PaymentStatus, &o.PaymentMethod, &o.Currency,
		&items, &o.ShippingFee, &o.Total, &o.Customer.Channel, &o.Customer.ExternalID, &o.Customer.Name,
		&o.Customer.Phone, &conversationID, &o.ShipOnPayment, &metadata, &o.Version, &created,
		&updated, &paidAt, &linkOrder, &tokenHash, &sealed, &linkCreated, &row.hasPayments, &row.hasShipments)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(items), &o.Items); err != nil {
		return nil, fmt.Errorf("order %s items: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(metadata), &o.Metadata); err != nil {
		return nil, fmt.Errorf("order %s metadata: %w", o.ID, err)
	}
	o.ConversationID = conversationID.String
	o.CreatedAt, o.UpdatedAt, o.PaidAt = fromMicros(created), fromMicros(updated), fromNullMicros(paidAt)
	if linkOrder.Valid {
		o.Link = &orders.PaymentLink{
			OrderID:     linkOrder.String,
			TokenHash:   tokenHash,
			SealedToken: sealed,
			CreatedAt:   fromMicros(linkCreated.Int64),
		}
	}
	row.order = &o
	return &row, nil
}

// loadOrders reads the orders a query selects, then the payments and shipments of
// those that have some, in one query each.
func loadOrders(ctx context.Context, q querier, where string, args ...any) ([]*orders.Order, error) {
	rows, err := queryAll(ctx, q, "orders", scanOrder, orderSelect+" "+where, args...)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	list := make([]*orders.Order, len(rows))
	var withPayments, withShipments []*orders.Order
	for i, r := range rows {
		list[i] = r.order
		if r.hasPayments {
			withPayments = append(withPayments, r.order)
		}
		if r.hasShipments {
			withShipments = append(withShipments, r.order)
		}
	}
	if len(withPayments) > 0 {
		payments, err := queryChildren(ctx, q, "payments", scanPayment, paymentColumns, "payments", withPayments)
		if err != nil {
			return nil, err
		}
		byID := indexByID(withPayments)
		for _, p := range payments {
			o := byID[p.OrderID]
			o.Payments = append(o.Payments, p)
		}
	}
	if len(withShipments) > 0 {
		shipments, err := queryChildren(ctx, q, "shipments", scanShipment, shipmentColumns, "shipments", withShipments)
		if err != nil {
			return nil, err
		}
		byID := indexByID(withShipments)
		for _, s := range shipments {
			o := byID[s.OrderID]
			o.Shipments = append(o.Shipments, s)
		}
	}
	return list, nil
}

// queryChildren reads the rows of table that belong to list, oldest first. The
// orders all belong to one shop, the one the query filtered by.
func queryChildren[T any](ctx context.Context, q querier, what string, scan func(scanner) (*T, error), columns, table string, list []*orders.Order) ([]*T, error) {
	args := make([]any, 0, len(list)+1)
	args = append(args, list[0].ShopID)
	for _, o := range list {
		args = append(args, o.ID)
	}
	return queryAll(ctx, q, what, scan, `SELECT `+columns+` FROM `+table+
		` WHERE shop_id = ? AND order_id IN (`+placeholders(len(list))+`) ORDER BY created_at, id`, args...)
}

func indexByID(list []*orders.Order) map[string]*orders.Order {
	m := make(map[string]*orders.Order, len(list))
	for _, o := range list {
		m[o.ID] = o
	}
	return m
}

// loadOrder reads the one order a query selects, orders.ErrNotFound if none.
func loadOrder(ctx context.Context, q querier, where string, args ...any) (*orders.Order, error) {
	list, err := loadOrders(ctx, q, where, args...)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, orders.ErrNotFound
	}
	return list[0], nil
}

const conversationColumns = `id, shop_id, channel, external_id, customer_name, created_at, last_inbound_at, staff_thread_id`

func scanConversation(r scanner) (*orders.Conversation, error) {
	var (
		c       orders.Conversation
		created int64
		inbound sql.NullInt64
	)
	if err := r.Scan(&c.ID, &c.ShopID, &c.Channel, &c.ExternalID, &c.CustomerName, &created, &inbound, &c.StaffThreadID); err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastInboundAt = fromMicros(created), fromNullMicros(inbound)
	return &c, nil
}

const attemptColumns = `id, shop_id, order_id, gateway, session_id, amount, currency, status, failure_reason, created_at, updated_at`

func scanAttempt(r scanner) (*orders.Attempt, error) {
	var (
		a                orders.Attempt
		created, updated int64
	)
	if err := r.Scan(&a.ID, &a.ShopID, &a.OrderID, &a.Gateway, &a.SessionID, &a.Amount, &a.Currency,
		&a.Status, &a.FailureReason, &created, &updated); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &a, nil
}

const paymentColumns = `id, shop_id, order_id, attempt_id, gateway, gateway_ref, status, amount, refunded_amount, currency, duplicate, created_at`

func scanPayment(r scanner) (*orders.Payment, error) {
	var (
		p       orders.Payment
		created int64
	)
	if err := r.Scan(&p.ID, &p.ShopID, &p.OrderID, &p.AttemptID, &p.Gateway, &p.GatewayRef, &p.Status,
		&p.Amount, &p.RefundedAmount, &p.Currency, &p.Duplicate, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(created)
	return &p, nil
}

const refundColumns = `id, shop_id, order_id, payment_id, amount, currency, status, reason, idempotency_key, gateway_ref, failure_reason, created_at, updated_at`

func scanRefund(r scanner) (*orders.Refund, error) {
	var (
		f                orders.Refund
		created, updated int64
	)
	if err := r.Scan(&f.ID, &f.ShopID, &f.OrderID, &f.PaymentID, &f.Amount, &f.Currency, &f.Status,
		&f.Reason, &f.IdempotencyKey, &f.GatewayRef, &f.FailureReason, &created, &updated); err != nil {
		return nil, err
	}
	f.CreatedAt, f.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &f, nil
}

const shipmentColumns = `id, shop_id, order_id, carrier, tracking_number, created_at`

func scanShipment(r scanner) (*orders.Shipment, error) {
	var (
		s       orders.Shipment
		created int64
	)
	if err := r.Scan(&s.ID, &s.ShopID, &s.OrderID, &s.Carrier, &s.TrackingNumber, &created); err != nil {
		return nil, err
	}
	s.CreatedAt = fromMicros(created)
	return &s, nil
}

const messageColumns = `id, shop_id, conversation_id, order_id, direction, kind, text, buttons, status, external_id, failure_reason, created_at, sent_at`

func scanMessage(r scanner) (*orders.Message, error) {
	var (
		m                       orders.Message
		conversationID, orderID sql.NullString
		buttons                 string
		created                 int64
		sent                    sql.NullInt64
	)
	if err := r.Scan(&m.ID, &m.ShopID, &conversationID, &orderID, &m.Direction, &m.Kind, &m.Text, &buttons,
		&m.Status, &m.ExternalID, &m.FailureReason, &created, &sent); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(buttons), &m.Buttons); err != nil {
		return nil, fmt.Errorf("message %s buttons: %w", m.ID, err)
	}
	m.ConversationID, m.OrderID = conversationID.String, orderID.String
	m.CreatedAt, m.SentAt = fromMicros(created), fromNullMicros(sent)
	return &m, nil
}

const noticeColumns = `id, shop_id, order_id, kind, text, created_at`

func scanNotice(r scanner) (*orders.Notice, error) {
	var (
		n       orders.Notice
		orderID sql.NullString
		created int64
	)
	if err := r.Scan(&n.ID, &n.ShopID, &orderID, &n.Kind, &n.Text, &created); err != nil {
		return nil, err
	}
	n.OrderID, n.CreatedAt = orderID.String, fromMicros(created)
	return &n, nil
}

func scanChatUpdate(r scanner) (*orders.ChatUpdate, error) {
	var (
		u         orders.ChatUpdate
		received  int64
		processed sql.NullInt64
	)
	if err := r.Scan(&u.ShopID, &u.Source, &u.UpdateID, &u.Payload, &received, &u.Chat, &processed); err != nil {
		return nil, err
	}
	u.ReceivedAt, u.ProcessedAt = fromMicros(received), fromNullMicros(processed)
	return &u, nil
}

// getOne reads one row with scan, orders.ErrNotFound if there is none.
func getOne[T any](ctx context.Context, q querier, what string, scan func(scanner) (*T, error), query string, args ...any) (*T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if err != nil {
		return nil, notFound(err, what)
	}
	return v, nil
}
