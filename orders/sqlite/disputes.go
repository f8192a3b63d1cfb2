package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/chatpay/chatpay/orders"
)

const disputeColumns = `id, shop_id, order_id, payment_id, gateway, gateway_dispute_id, status, reason,
	amount, currency, evidence_due_at, reminded_days, created_at, updated_at, closed_at`

func scanDispute(r scanner) (*orders.Dispute, error) {
	var (
		d                orders.Dispute
		due, closed      sql.NullInt64
		created, updated int64
	)
	err := r.Scan(&d.ID, &d.ShopID, &d.OrderID, &d.PaymentID, &d.Gateway, &d.GatewayDisputeID, &d.Status, &d.Reason,
		&d.Amount, &d.Currency, &due, &d.RemindedDays, &created, &updated, &closed)
	if err != nil {
		return nil, err
	}
	d.EvidenceDueAt, d.ClosedAt = fromNullMicros(due), fromNullMicros(closed)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

// OrderDisputes returns the order's disputes, oldest first.
func (t *tx) OrderDisputes(ctx context.Context, shopID, orderID string) ([]*orders.Dispute, error) {
	return queryAll(ctx, t.q, "order disputes", scanDispute,
		`SELECT `+disputeColumns+` FROM disputes WHERE shop_id = ? AND order_id = ? ORDER BY created_at, id`, shopID, orderID)
}

func (t *tx) InsertDispute(ctx context.Context, d *orders.Dispute) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO disputes (`+disputeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.ShopID, d.OrderID, d.PaymentID, d.Gateway, d.GatewayDisputeID, d.Status, d.Reason, d.Amount, d.Currency,
		nullMicros(d.EvidenceDueAt), d.RemindedDays, micros(d.CreatedAt), micros(d.UpdatedAt), nullMicros(d.ClosedAt))
	if err != nil {
		return fmt.Errorf("sqlite: insert dispute: %w", err)
	}
	return nil
}

func (t *tx) UpdateDispute(ctx context.Context, d *orders.Dispute) error {
	res, err := t.q.ExecContext(ctx, `UPDATE disputes SET status = ?, reason = ?, amount = ?, currency = ?,
		evidence_due_at = ?, reminded_days = ?, updated_at = ?, closed_at = ? WHERE shop_id = ? AND id = ?`,
		d.Status, d.Reason, d.Amount, d.Currency, nullMicros(d.EvidenceDueAt), d.RemindedDays, micros(d.UpdatedAt),
		nullMicros(d.ClosedAt), d.ShopID, d.ID)
	return affected(res, err, "update dispute")
}

func (s *Store) Dispute(ctx context.Context, shopID, id string) (*orders.Dispute, error) {
	return getOne(ctx, s.rq, "dispute", scanDispute,
		`SELECT `+disputeColumns+` FROM disputes WHERE shop_id = ? AND id = ?`, shopID, id)
}

func (s *Store) ListDisputes(ctx context.Context, shopID string, f orders.DisputeFilter) ([]*orders.Dispute, error) {
	where, args := []string{"shop_id = ?"}, []any{shopID}
	switch f.Status {
	case "":
	case orders.DisputeClosed:
		where = append(where, "status IN ('won', 'lost')")
	default:
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.BeforeID != "" {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return queryAll(ctx, s.rq, "disputes", scanDispute, `SELECT `+disputeColumns+` FROM disputes WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
}

func (s *Store) DisputesDue(ctx context.Context, dueAfter, dueBefore time.Time, limit int) ([]*orders.Dispute, error) {
	if limit <= 0 {
		limit = 1000
	}
	return queryAll(ctx, s.rq, "disputes due", scanDispute, `SELECT `+disputeColumns+` FROM disputes
		WHERE status = 'open' AND evidence_due_at > ? AND evidence_due_at <= ?
		ORDER BY evidence_due_at, id LIMIT ?`, micros(dueAfter), micros(dueBefore), limit)
}
