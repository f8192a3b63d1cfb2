package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// DeferEvent writes the event's outcome and its dispute details, which applying it
// later needs (see orders.Tx.DeferEvent).
func (t *tx) DeferEvent(ctx context.Context, e *orders.GatewayEvent) error {
	var dispute sql.NullString
	if e.Dispute != nil {
		b, err := json.Marshal(e.Dispute)
		if err != nil {
			return fmt.Errorf("sqlite: encode dispute details: %w", err)
		}
		dispute = sql.NullString{String: string(b), Valid: true}
	}
	res, err := t.q.ExecContext(ctx, `UPDATE gateway_events SET outcome = ?, dispute = ? WHERE shop_id = ? AND id = ?`,
		e.Outcome, dispute, e.ShopID, e.ID)
	return affected(res, err, "defer event")
}

const eventColumns = `id, shop_id, gateway, event_id, type, session_id, payment_ref, amount, currency, reason,
	payload, outcome, received_at, dispute`

func scanEvent(r scanner) (*orders.GatewayEvent, error) {
	var (
		e        orders.GatewayEvent
		received int64
		dispute  sql.NullString
	)
	err := r.Scan(&e.ID, &e.ShopID, &e.Gateway, &e.EventID, &e.Type, &e.SessionID, &e.PaymentRef, &e.Amount,
		&e.Currency, &e.Reason, &e.Payload, &e.Outcome, &received, &dispute)
	if err != nil {
		return nil, err
	}
	e.ReceivedAt = fromMicros(received)
	if dispute.Valid {
		e.Dispute = &orders.DisputeDetails{}
		if err := json.Unmarshal([]byte(dispute.String), e.Dispute); err != nil {
			return nil, fmt.Errorf("decode dispute details of event %s: %w", e.ID, err)
		}
	}
	return &e, nil
}

// EventsByRef reads the events waiting for their payment (the one outcome the
// Service asks for) through the partial index gateway_events_awaiting. SQLite uses a
// partial index only for a query whose WHERE spells out the index's own, which a bound
// parameter does not, so that outcome is written into the query.
func (t *tx) EventsByRef(ctx context.Context, shopID, gateway, ref, outcome string) ([]*orders.GatewayEvent, error) {
	if ref == "" {
		return nil, nil
	}
	where, args := `outcome = ?`, []any{shopID, gateway, ref, outcome}
	if outcome == orders.OutcomeAwaitingPayment {
		where, args = `outcome = 'awaiting_payment'`, args[:3]
	}
	return queryAll(ctx, t.q, "events by payment ref", scanEvent, `SELECT `+eventColumns+` FROM gateway_events
		WHERE shop_id = ? AND gateway = ? AND payment_ref = ? AND `+where+` ORDER BY received_at, event_id`, args...)
}

// LockPaymentRef does nothing: a write transaction holds SQLite's only write lock from
// its BEGIN IMMEDIATE, so no other transaction records a payment or defers an event
// meanwhile.
func (t *tx) LockPaymentRef(ctx context.Context, shopID, gateway, ref string) error { return nil }

// GiveUpAwaitingEvents finds the batch through the partial index gateway_events_awaiting
// (migration 018), which holds only the waiting events, so each statement reads those
// and never the table's other events; the outcome is spelled out in the query for
// SQLite to use that index (see EventsByRef). Each statement commits on its own, and
// SQLite's one writer means no transaction applies an event between the statement's
// read and its write.
func (s *Store) GiveUpAwaitingEvents(ctx context.Context, receivedBefore time.Time, batch int) (int, error) {
	return s.sweepBatches(ctx, "give up awaiting events", `UPDATE gateway_events SET outcome = '`+
		orders.OutcomePaymentNeverSeen+`' WHERE rowid IN (SELECT rowid FROM gateway_events
		WHERE outcome = 'awaiting_payment' AND received_at < ? LIMIT ?)`, receivedBefore, batch)
}
