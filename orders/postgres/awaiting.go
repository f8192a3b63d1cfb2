package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatpay/chatpay/orders"
)

// DeferEvent queues the write of the event's outcome and its dispute details, which
// applying it later needs (see orders.Tx.DeferEvent). A waiting event is also marked
// with awaiting_since, by which GiveUpAwaitingEvents finds it (migration 020).
func (t *tx) DeferEvent(ctx context.Context, e *orders.GatewayEvent) error {
	var dispute []byte
	if e.Dispute != nil {
		var err error
		if dispute, err = json.Marshal(e.Dispute); err != nil {
			return fmt.Errorf("postgres: encode dispute details: %w", err)
		}
	}
	t.p.queue(requireRow(`UPDATE gateway_events SET outcome = $3, dispute = $4,
		awaiting_since = CASE WHEN $5 THEN received_at END WHERE id = $1 AND shop_id = $2 RETURNING 1`,
		codeNotFound, "gateway event not found"), e.ID, e.ShopID, e.Outcome, dispute, e.Outcome == orders.OutcomeAwaitingPayment)
	return nil
}

const eventCols = `id, shop_id, gateway, event_id, type, session_id, payment_ref, amount, currency, reason,
	payload, outcome, received_at, dispute FROM gateway_events`

func scanEvent(row pgx.Row) (*orders.GatewayEvent, error) {
	var (
		e       orders.GatewayEvent
		dispute []byte
	)
	err := row.Scan(&e.ID, &e.ShopID, &e.Gateway, &e.EventID, &e.Type, &e.SessionID, &e.PaymentRef, &e.Amount,
		&e.Currency, &e.Reason, &e.Payload, &e.Outcome, &e.ReceivedAt, &dispute)
	if err != nil {
		return nil, err
	}
	if dispute != nil {
		e.Dispute = &orders.DisputeDetails{}
		if err := json.Unmarshal(dispute, e.Dispute); err != nil {
			return nil, fmt.Errorf("postgres: decode dispute details of event %s: %w", e.ID, err)
		}
	}
	return &e, nil
}

// EventsByRef sends the queued writes first, so that it sees this transaction's own
// outcomes. It is served by gateway_events_payment_ref_idx: a payment's events are few.
func (t *tx) EventsByRef(ctx context.Context, shopID, gateway, ref, outcome string) ([]*orders.GatewayEvent, error) {
	if ref == "" {
		return nil, nil
	}
	var out []*orders.GatewayEvent
	b := &pgx.Batch{}
	b.Queue(`SELECT `+eventCols+` WHERE shop_id = $1 AND gateway = $2 AND payment_ref = $3 AND payment_ref <> ''
		AND outcome = $4 ORDER BY received_at, event_id`, shopID, gateway, ref, outcome).
		Query(func(rows pgx.Rows) error {
			var err error
			out, err = collect(rows, scanEvent)
			return err
		})
	if err := t.p.send(ctx, b); err != nil {
		return nil, err
	}
	return out, nil
}

// LockPaymentRef queues a transaction-scoped advisory lock on the reference. It goes
// out with the transaction's next statement, so it is held before that statement
// reads: under READ COMMITTED each statement sees what was committed when it starts,
// and a transaction holding the lock has committed (or rolled back) by then. The key
// spells out each part's length, so no two (shop, gateway, ref) spell the same key; a
// collision of the 64-bit hashes would only make two transactions wait for each other.
func (t *tx) LockPaymentRef(ctx context.Context, shopID, gateway, ref string) error {
	key := fmt.Sprintf("chatpay.payment_ref:%d:%s:%d:%s:%s", len(shopID), shopID, len(gateway), gateway, ref)
	t.p.queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key)
	return nil
}

// GiveUpAwaitingEvents takes the events marked awaiting_since before receivedBefore, at
// most batch a statement, through gateway_events_awaiting_since_idx (migration 020).
// It gives up those still waiting and clears the mark of them all: an event applied
// since it was deferred keeps its outcome and leaves the index, so that the next runs
// do not read it again. The batch's ids are gathered into an array, a primary-key
// lookup in every plan (see DeleteEndedSessions). FOR UPDATE SKIP LOCKED passes over an
// event that the transaction recording its payment is applying at that moment; the
// next run takes it, finding it applied. An event that transaction has read but not
// yet written is given up here and then applied there, and the applied outcome is the
// one that stays, so the count may include an event that was applied after all.
func (s *Store) GiveUpAwaitingEvents(ctx context.Context, receivedBefore time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = orders.AwaitingSweepBatch
	}
	total := 0
	for {
		var marked, givenUp int
		err := s.pool.QueryRow(ctx, `WITH swept AS (
			UPDATE gateway_events SET awaiting_since = NULL,
				outcome = CASE WHEN outcome = $3 THEN $4 ELSE outcome END
			WHERE id = ANY(ARRAY(SELECT id FROM gateway_events WHERE awaiting_since < $1
				ORDER BY awaiting_since LIMIT $2 FOR UPDATE SKIP LOCKED))
			RETURNING outcome)
			SELECT count(*), count(*) FILTER (WHERE outcome = $4) FROM swept`,
			receivedBefore, batch, orders.OutcomeAwaitingPayment, orders.OutcomePaymentNeverSeen).Scan(&marked, &givenUp)
		if err != nil {
			return total, fmt.Errorf("postgres: give up awaiting events: %w", err)
		}
		total += givenUp
		if marked < batch {
			return total, nil
		}
	}
}
