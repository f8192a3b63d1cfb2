package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatpay/chatpay/orders"
)

const disputeCols = `id, shop_id, order_id, payment_id, gateway, gateway_dispute_id, status, reason,
	amount, currency, evidence_due_at, reminded_days, created_at, updated_at, closed_at FROM disputes`

func scanDispute(row pgx.Row) (*orders.Dispute, error) {
	var d orders.Dispute
	err := row.Scan(&d.ID, &d.ShopID, &d.OrderID, &d.PaymentID, &d.Gateway, &d.GatewayDisputeID, &d.Status, &d.Reason,
		&d.Amount, &d.Currency, &d.EvidenceDueAt, &d.RemindedDays, &d.CreatedAt, &d.UpdatedAt, &d.ClosedAt)
	if err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	for _, p := range []**time.Time{&d.EvidenceDueAt, &d.ClosedAt} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
	return &d, nil
}

// OrderDisputes returns the order's disputes, oldest first, sending the queued writes
// first so that it sees this transaction's own disputes.
func (t *tx) OrderDisputes(ctx context.Context, shopID, orderID string) ([]*orders.Dispute, error) {
	var out []*orders.Dispute
	b := &pgx.Batch{}
	b.Queue(`SELECT `+disputeCols+` WHERE shop_id = $1 AND order_id = $2 ORDER BY created_at, id`, shopID, orderID).
		Query(func(rows pgx.Rows) error {
			var err error
			out, err = collect(rows, scanDispute)
			return err
		})
	if err := t.p.send(ctx, b); err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) InsertDispute(ctx context.Context, d *orders.Dispute) error {
	if d.ID == "" {
		d.ID = orders.NewID()
	}
	t.p.queue(`INSERT INTO disputes (id, shop_id, order_id, payment_id, gateway, gateway_dispute_id, status, reason,
		amount, currency, evidence_due_at, reminded_days, created_at, updated_at, closed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		d.ID, d.ShopID, d.OrderID, d.PaymentID, d.Gateway, d.GatewayDisputeID, d.Status, d.Reason,
		d.Amount, d.Currency, d.EvidenceDueAt, d.RemindedDays, d.CreatedAt, d.UpdatedAt, d.ClosedAt)
	return nil
}

func (t *tx) UpdateDispute(ctx context.Context, d *orders.Dispute) error {
	t.p.queue(requireRow(`UPDATE disputes SET status = $3, reason = $4, amount = $5, currency = $6,
		evidence_due_at = $7, reminded_days = $8, updated_at = $9, closed_at = $10
		WHERE id = $1 AND shop_id = $2 RETURNING 1`, codeNotFound, "dispute not found"),
		d.ID, d.ShopID, d.Status, d.Reason, d.Amount, d.Currency, d.EvidenceDueAt, d.RemindedDays, d.UpdatedAt, d.ClosedAt)
	return nil
}

func (s *Store) Dispute(ctx context.Context, shopID, id string) (*orders.Dispute, error) {
	return getOne(ctx, s.pool, scanDispute, `SELECT `+disputeCols+` WHERE id = $1 AND shop_id = $2`, id, shopID)
}

func (s *Store) ListDisputes(ctx context.Context, shopID string, f orders.DisputeFilter) ([]*orders.Dispute, error) {
	where, args := []string{"shop_id = $1"}, []any{shopID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch f.Status {
	case "":
	case orders.DisputeClosed:
		where = append(where, "status IN ('won', 'lost')")
	default:
		where = append(where, "status = "+arg(f.Status))
	}
	if f.BeforeID != "" {
		where = append(where, "id < "+arg(f.BeforeID))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return getAll(ctx, s.pool, scanDispute, `SELECT `+disputeCols+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT `+arg(limit), args...)
}

func (s *Store) DisputesDue(ctx context.Context, dueAfter, dueBefore time.Time, limit int) ([]*orders.Dispute, error) {
	if limit <= 0 {
		limit = 1000
	}
	return getAll(ctx, s.pool, scanDispute, `SELECT `+disputeCols+`
		WHERE status = 'open' AND evidence_due_at > $1 AND evidence_due_at <= $2
		ORDER BY evidence_due_at, id LIMIT $3`, dueAfter, dueBefore, limit)
}
