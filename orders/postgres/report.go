package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatpay/chatpay/orders"
)

// ReportPayments returns the shop's payments created in [from, to), oldest first,
// with what the payments report shows of their orders; at most limit.
func (s *Store) ReportPayments(ctx context.Context, shopID string, from, to time.Time, limit int) ([]*orders.ReportPayment, error) {
	out, err := getAll(ctx, s.pool, scanReportPayment,
		`SELECT p.id, p.shop_id, p.order_id, p.attempt_id, p.gateway, p.gateway_ref, p.status, p.amount,
			p.refunded_amount, p.currency, p.duplicate, p.created_at,
			o.code, o.customer_name, o.payment_status, o.created_at, o.metadata,
			(SELECT min(m.sent_at) FROM messages m
				WHERE m.shop_id = p.shop_id AND m.order_id = p.order_id AND m.kind = 'order_card')
		FROM payments p JOIN orders o ON o.shop_id = p.shop_id AND o.id = p.order_id
		WHERE p.shop_id = $1 AND p.created_at >= $2 AND p.created_at < $3
		ORDER BY p.created_at, p.id LIMIT $4`, shopID, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: report payments: %w", err)
	}
	return out, nil
}

func scanReportPayment(row pgx.Row) (*orders.ReportPayment, error) {
	var p orders.ReportPayment
	err := row.Scan(&p.ID, &p.ShopID, &p.OrderID, &p.AttemptID, &p.Gateway, &p.GatewayRef, &p.Status, &p.Amount,
		&p.RefundedAmount, &p.Currency, &p.Duplicate, &p.CreatedAt,
		&p.OrderCode, &p.CustomerName, &p.OrderPaymentStatus, &p.OrderCreatedAt, &p.Metadata, &p.LinkSentAt)
	if err != nil {
		return nil, err
	}
	p.CreatedAt, p.OrderCreatedAt = p.CreatedAt.UTC(), p.OrderCreatedAt.UTC()
	if p.LinkSentAt != nil {
		t := p.LinkSentAt.UTC()
		p.LinkSentAt = &t
	}
	return &p, nil
}

// AttemptCounts counts the shop's attempts created in [from, to) by status and
// failure reason.
func (s *Store) AttemptCounts(ctx context.Context, shopID string, from, to time.Time) ([]orders.AttemptCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, failure_reason, count(*) FROM attempts
		WHERE shop_id = $1 AND created_at >= $2 AND created_at < $3
		GROUP BY status, failure_reason ORDER BY status, failure_reason`, shopID, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: attempt counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (orders.AttemptCount, error) {
		var c orders.AttemptCount
		return c, r.Scan(&c.Status, &c.FailureReason, &c.Count)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: attempt counts: %w", err)
	}
	return out, nil
}
