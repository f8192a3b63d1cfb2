package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// ReportPayments returns the shop's payments created in [from, to), oldest first,
// with what the payments report shows of their orders; at most limit.
func (s *Store) ReportPayments(ctx context.Context, shopID string, from, to time.Time, limit int) ([]*orders.ReportPayment, error) {
	return queryAll(ctx, s.rq, "report payments", scanReportPayment,
		`SELECT p.id, p.shop_id, p.order_id, p.attempt_id, p.gateway, p.gateway_ref, p.status, p.amount,
			p.refunded_amount, p.currency, p.duplicate, p.created_at,
			o.code, o.customer_name, o.payment_status, o.created_at, o.metadata,
			(SELECT min(m.sent_at) FROM messages m
				WHERE m.shop_id = p.shop_id AND m.order_id = p.order_id AND m.kind = 'order_card')
		FROM payments p JOIN orders o ON o.shop_id = p.shop_id AND o.id = p.order_id
		WHERE p.shop_id = ? AND p.created_at >= ? AND p.created_at < ?
		ORDER BY p.created_at, p.id LIMIT ?`, shopID, micros(from), micros(to), limit)
}

func scanReportPayment(r scanner) (*orders.ReportPayment, error) {
	var (
		p                     orders.ReportPayment
		created, orderCreated int64
		metadata              string
		linkSent              sql.NullInt64
	)
	err := r.Scan(&p.ID, &p.ShopID, &p.OrderID, &p.AttemptID, &p.Gateway, &p.GatewayRef, &p.Status, &p.Amount,
		&p.RefundedAmount, &p.Currency, &p.Duplicate, &created,
		&p.OrderCode, &p.CustomerName, &p.OrderPaymentStatus, &orderCreated, &metadata, &linkSent)
	if err != nil {
		return nil, err
	}
	p.CreatedAt, p.OrderCreatedAt, p.LinkSentAt = fromMicros(created), fromMicros(orderCreated), fromNullMicros(linkSent)
	if err := json.Unmarshal([]byte(metadata), &p.Metadata); err != nil {
		return nil, fmt.Errorf("order %s metadata: %w", p.OrderID, err)
	}
	return &p, nil
}

// AttemptCounts counts the shop's attempts created in [from, to) by status and
// failure reason.
func (s *Store) AttemptCounts(ctx context.Context, shopID string, from, to time.Time) ([]orders.AttemptCount, error) {
	rows, err := queryAll(ctx, s.rq, "attempt counts", func(r scanner) (*orders.AttemptCount, error) {
		var c orders.AttemptCount
		return &c, r.Scan(&c.Status, &c.FailureReason, &c.Count)
	}, `SELECT status, failure_reason, count(*) FROM attempts
		WHERE shop_id = ? AND created_at >= ? AND created_at < ?
		GROUP BY status, failure_reason ORDER BY status, failure_reason`, shopID, micros(from), micros(to))
	if err != nil {
		return nil, err
	}
	out := make([]orders.AttemptCount, len(rows))
	for i, c := range rows {
		out[i] = *c
	}
	return out, nil
}
