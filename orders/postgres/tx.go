package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// start, so fn must only touch the store. See pipe for how the transaction's
// statements travel.
func (s *Store) InTx(ctx context.Context, fn func(orders.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err == nil || attempt == maxTxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
}

func (s *Store) inTx(ctx context.Context, fn func(orders.Tx) error) error {
	t := &tx{s: s, p: pipe{pool: s.pool}}
	// release rolls back unless commit succeeded, also when fn panics.
	defer t.p.release(ctx)
	if err := fn(t); err != nil {
		return err
	}
	if len(t.jobs) > 0 {
		t.p.commitWithJobs = true
		_, err := s.inserter.InsertManyTx(ctx, riverTx{&t.p}, t.jobs)
		if t.p.done {
			// COMMIT went with the job insert and succeeded, so the jobs are
			// committed; anything River did after it (a NOTIFY to wake workers
			// early) ran on its own and does not undo the transaction.
			return nil
		}
		if err != nil {
			if t.p.err != nil {
				return t.p.err // a queued write failed in the same round trip
			}
			return fmt.Errorf("postgres: insert jobs: %w", err)
		}
	}
	return t.p.commit(ctx)
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

// tx is the write side of one transaction.
type tx struct {
	s *Store
	p pipe
	// jobs are inserted with one InsertManyTx just before commit: one statement for
	// all of the transaction's jobs instead of one per Enqueue, with the same effect
	// (they commit or roll back with everything else).
	jobs []river.InsertManyParams
	// pre is what InsertEvents read ahead for the calls that apply the events.
	pre prefetched
}

var _ orders.Tx = (*tx)(nil)

// one runs a query for one row in this transaction. A missing row is ErrNotFound.
func one[T any](ctx context.Context, t *tx, scan func(pgx.Row) (*T, error), sql string, args ...any) (*T, error) {
	var v *T
	b := &pgx.Batch{}
	b.Queue(sql, args...).QueryRow(func(row pgx.Row) error {
		var err error
		v, err = scan(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // not a failure of the batch; see queueOrder
		}
		return err
	})
	if err := t.p.send(ctx, b); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, orders.ErrNotFound
	}
	return v, nil
}

// scalar runs a query for one value in this transaction.
func scalar[T any](ctx context.Context, t *tx, sql string, args ...any) (T, error) {
	var v T
	b := &pgx.Batch{}
	b.Queue(sql, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&v) })
	err := t.p.send(ctx, b)
	return v, err
}

// requireRow wraps an UPDATE … RETURNING 1 so that changing no row fails on the
// server with code (see chatpay_require_row) and the message msg.
func requireRow(update, code, msg string) string {
	return `WITH u AS (` + update + `) SELECT chatpay_require_row(count(*), '` + code + `', '` + msg + `') FROM u`
}

// NextOrderCode returns the shop's next order number, starting at 1001. The upsert
// locks the shop's counter row until commit, so codes never repeat.
func (t *tx) NextOrderCode(ctx context.Context, shopID string) (int64, error) {
	return scalar[int64](ctx, t, `INSERT INTO order_codes AS c (shop_id, next) VALUES ($1, 1001)
		ON CONFLICT (shop_id) DO UPDATE SET next = c.next + 1 RETURNING next`, shopID)
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
	found, err := one(ctx, t, scanConversation, `WITH ins AS (
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
		found, err = one(ctx, t, scanConversation, `SELECT `+conversationCols+` FROM conversations
			WHERE shop_id = $1 AND channel = $2 AND external_id = $3`, c.ShopID, c.Channel, c.ExternalID)
	}
	if err != nil {
		return err
	}
	*c = *found
	return nil
}

// UpdateConversation queues writing the conversation's mutable fields.
func (t *tx) UpdateConversation(ctx context.Context, c *orders.Conversation) error {
	t.p.queue(requireRow(`UPDATE conversations SET customer_name = $3, last_inbound_at = $4, staff_thread_id = $5
		WHERE id = $1 AND shop_id = $2 RETURNING 1`, codeNotFound, "conversation not found"),
		c.ID, c.ShopID, c.CustomerName, c.LastInboundAt, c.StaffThreadID)
	return nil
}

// SetStaffThread queues writing the conversation's staff topic, and only that column:
// a customer's message committed since the caller read the conversation keeps its
// last_inbound_at.
func (t *tx) SetStaffThread(ctx context.Context, shopID, conversationID string, thread int64) error {
	t.p.queue(requireRow(`UPDATE conversations SET staff_thread_id = $3
		WHERE id = $1 AND shop_id = $2 RETURNING 1`, codeNotFound, "conversation not found"),
		conversationID, shopID, thread)
	return nil
}

// InsertOrderKey queues recording the key that created an order; a repeated key
// fails the transaction with a unique violation, mapped to orders.ErrConflict.
func (t *tx) InsertOrderKey(ctx context.Context, shopID, key, orderID string) error {
	t.p.queue(`INSERT INTO order_keys (shop_id, key, order_id) VALUES ($1, $2, $3)`, shopID, key, orderID)
	return nil
}

// InsertOrder queues the order and its payment link.
func (t *tx) InsertOrder(ctx context.Context, o *orders.Order) error {
	if o.ID == "" {
		o.ID = orders.NewID()
	}
	t.p.queue(`INSERT INTO orders (id, shop_id, code, status, payment_status, payment_method,
		currency, items, shipping_fee, total, customer_channel, customer_external_id, customer_name,
		customer_phone, conversation_id, ship_on_payment, metadata, version, created_at, updated_at, paid_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULLIF($15, ''), $16, $17, $18, $19, $20, $21)`,
		o.ID, o.ShopID, o.Code, o.Status, o.PaymentStatus, o.PaymentMethod,
		o.Currency, o.Items, o.ShippingFee, o.Total, o.Customer.Channel, o.Customer.ExternalID, o.Customer.Name,
		o.Customer.Phone, o.ConversationID, o.ShipOnPayment, o.Metadata, o.Version, o.CreatedAt, o.UpdatedAt, o.PaidAt)
	if terms := orders.SearchTerms(o.Customer); len(terms) > 0 {
		t.p.queue(insertSearchTermsSQL, o.ShopID, terms, o.ID)
	}
	if l := o.Link; l != nil {
		l.OrderID = o.ID
		t.p.queue(`INSERT INTO payment_links (order_id, shop_id, token_hash, sealed_token, created_at)
			VALUES ($1, $2, $3, $4, $5)`, o.ID, o.ShopID, l.TokenHash, l.SealedToken, l.CreatedAt)
	}
	return nil
}

const lockOrderSQL = `SELECT ` + orderCols + ` WHERE o.id = $1 AND o.shop_id = $2 FOR UPDATE OF o`

// LockOrder locks the order row (FOR UPDATE) and loads its link, payments and
// shipments, all in one round trip.
func (t *tx) LockOrder(ctx context.Context, shopID, id string) (*orders.Order, error) {
	if o := t.pre.takeOrder(shopID, id); o != nil {
		return o, nil
	}
	b := &pgx.Batch{}
	l := queueOrder(b, lockOrderSQL, []any{id, shopID}, orderPaymentsSQL, orderShipmentsSQL, []any{shopID, id})
	if err := t.p.send(ctx, b); err != nil {
		return nil, err
	}
	return l.result()
}

// UpdateOrder queues a compare-and-set write of the order's status fields: it
// changes the row only if its version is still o.Version, and otherwise fails the
// transaction with orders.ErrConflict. o.Version is incremented now; if the write
// fails, so does the transaction, and the new version is never seen.
func (t *tx) UpdateOrder(ctx context.Context, o *orders.Order) error {
	t.p.queue(requireRow(`UPDATE orders SET status = $3, payment_status = $4, paid_at = $5,
		updated_at = $6, conversation_id = NULLIF($8, ''), version = version + 1
		WHERE id = $1 AND shop_id = $2 AND version = $7 RETURNING 1`,
		codeConflict, "order changed concurrently"),
		o.ID, o.ShopID, o.Status, o.PaymentStatus, o.PaidAt, o.UpdatedAt, o.Version, o.ConversationID)
	t.pre.orderChanged(o.ID)
	o.Version++
	return nil
}

func (t *tx) InsertAttempt(ctx context.Context, a *orders.Attempt) error {
	if a.ID == "" {
		a.ID = orders.NewID()
	}
	t.p.queue(`INSERT INTO attempts (id, shop_id, order_id, gateway, session_id, amount,
		currency, status, failure_reason, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		a.ID, a.ShopID, a.OrderID, a.Gateway, a.SessionID, a.Amount, a.Currency, a.Status, a.FailureReason,
		a.CreatedAt, a.UpdatedAt)
	return nil
}

// lockAttemptBySessionSQL repeats session_id <> ” so that the planner can use the
// partial unique index on sessions even with a generic plan for $3.
const lockAttemptBySessionSQL = `SELECT ` + attemptCols + `
	WHERE shop_id = $1 AND gateway = $2 AND session_id = $3 AND session_id <> '' FOR UPDATE`

// LockAttemptBySession locks the attempt that owns a gateway session.
func (t *tx) LockAttemptBySession(ctx context.Context, shopID, gateway, sessionID string) (*orders.Attempt, error) {
	if a, ok := t.pre.takeAttempt(shopID, gateway, sessionID); ok {
		if a == nil {
			return nil, orders.ErrNotFound
		}
		return a, nil
	}
	if sessionID == "" {
		// Attempts without a session share the empty one; it names none of them.
		return nil, orders.ErrNotFound
	}
	return one(ctx, t, scanAttempt, lockAttemptBySessionSQL, shopID, gateway, sessionID)
}

func (t *tx) LockAttempt(ctx context.Context, shopID, id string) (*orders.Attempt, error) {
	return one(ctx, t, scanAttempt, `SELECT `+attemptCols+` WHERE id = $1 AND shop_id = $2 FOR UPDATE`, id, shopID)
}

func (t *tx) UpdateAttempt(ctx context.Context, a *orders.Attempt) error {
	t.p.queue(requireRow(`UPDATE attempts SET session_id = $3, status = $4, failure_reason = $5,
		updated_at = $6 WHERE id = $1 AND shop_id = $2 RETURNING 1`, codeNotFound, "attempt not found"),
		a.ID, a.ShopID, a.SessionID, a.Status, a.FailureReason, a.UpdatedAt)
	t.pre.attemptChanged(a.ID)
	return nil
}

func (t *tx) InsertPayment(ctx context.Context, p *orders.Payment) error {
	if p.ID == "" {
		p.ID = orders.NewID()
	}
	t.p.queue(`INSERT INTO payments (id, shop_id, order_id, attempt_id, gateway, gateway_ref,
		status, amount, refunded_amount, currency, duplicate, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		p.ID, p.ShopID, p.OrderID, p.AttemptID, p.Gateway, p.GatewayRef, p.Status, p.Amount, p.RefundedAmount,
		p.Currency, p.Duplicate, p.CreatedAt)
	t.pre.orderChanged(p.OrderID)
	return nil
}

func (t *tx) UpdatePayment(ctx context.Context, p *orders.Payment) error {
	t.p.queue(requireRow(`UPDATE payments SET status = $3, refunded_amount = $4, amount = $5
		WHERE id = $1 AND shop_id = $2 RETURNING 1`, codeNotFound, "payment not found"),
		p.ID, p.ShopID, p.Status, p.RefundedAmount, p.Amount)
	t.pre.orderChanged(p.OrderID)
	return nil
}

func (t *tx) InsertRefund(ctx context.Context, r *orders.Refund) error {
	if r.ID == "" {
		r.ID = orders.NewID()
	}
	t.p.queue(`INSERT INTO refunds (id, shop_id, order_id, payment_id, amount, currency,
		status, reason, idempotency_key, gateway_ref, failure_reason, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.ID, r.ShopID, r.OrderID, r.PaymentID, r.Amount, r.Currency, r.Status, r.Reason, r.IdempotencyKey,
		r.GatewayRef, r.FailureReason, r.CreatedAt, r.UpdatedAt)
	return nil
}

func (t *tx) LockRefund(ctx context.Context, shopID, id string) (*orders.Refund, error) {
	return one(ctx, t, scanRefund, `SELECT `+refundCols+` WHERE id = $1 AND shop_id = $2 FOR UPDATE`, id, shopID)
}

func (t *tx) UpdateRefund(ctx context.Context, r *orders.Refund) error {
	t.p.queue(requireRow(`UPDATE refunds SET status = $3, gateway_ref = $4, failure_reason = $5,
		updated_at = $6 WHERE id = $1 AND shop_id = $2 RETURNING 1`, codeNotFound, "refund not found"),
		r.ID, r.ShopID, r.Status, r.GatewayRef, r.FailureReason, r.UpdatedAt)
	return nil
}

// RefundsTotal sums the payment's pending and succeeded refunds.
func (t *tx) RefundsTotal(ctx context.Context, shopID, paymentID string) (int64, error) {
	return scalar[int64](ctx, t, `SELECT COALESCE(sum(amount), 0)::bigint FROM refunds
		WHERE shop_id = $1 AND payment_id = $2 AND status IN ('pending', 'succeeded')`, shopID, paymentID)
}

// RefundsCount counts the payment's pending and succeeded refunds.
func (t *tx) RefundsCount(ctx context.Context, shopID, paymentID string) (int, error) {
	n, err := scalar[int64](ctx, t, `SELECT count(*) FROM refunds
		WHERE shop_id = $1 AND payment_id = $2 AND status IN ('pending', 'succeeded')`, shopID, paymentID)
	return int(n), err
}

// PaymentByRef finds a payment by the gateway's reference. Payments without one have
// an empty ref, which never matches.
func (t *tx) PaymentByRef(ctx context.Context, shopID, gateway, ref string) (*orders.Payment, error) {
	if ref == "" {
		return nil, orders.ErrNotFound
	}
	return one(ctx, t, scanPayment, `SELECT `+paymentCols+` WHERE shop_id = $1 AND gateway = $2 AND gateway_ref = $3
		ORDER BY created_at, id LIMIT 1`, shopID, gateway, ref)
}

func (t *tx) InsertShipment(ctx context.Context, s *orders.Shipment) error {
	if s.ID == "" {
		s.ID = orders.NewID()
	}
	t.p.queue(`INSERT INTO shipments (id, shop_id, order_id, carrier, tracking_number, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.ID, s.ShopID, s.OrderID, s.Carrier, s.TrackingNumber, s.CreatedAt)
	t.pre.orderChanged(s.OrderID)
	return nil
}

func (t *tx) InsertMessage(ctx context.Context, m *orders.Message) error {
	if m.ID == "" {
		m.ID = orders.NewID()
	}
	t.p.queue(`INSERT INTO messages (id, shop_id, conversation_id, order_id, direction, kind,
		text, buttons, status, external_id, failure_reason, created_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		m.ID, m.ShopID, m.ConversationID, m.OrderID, m.Direction, m.Kind, m.Text, m.Buttons, m.Status,
		m.ExternalID, m.FailureReason, m.CreatedAt, m.SentAt)
	return nil
}

// LockMessage locks the message row (FOR UPDATE) and loads it.
func (t *tx) LockMessage(ctx context.Context, shopID, id string) (*orders.Message, error) {
	return one(ctx, t, scanMessage, `SELECT `+messageCols+` WHERE id = $1 AND shop_id = $2 FOR UPDATE`, id, shopID)
}

func (t *tx) UpdateMessage(ctx context.Context, m *orders.Message) error {
	t.p.queue(requireRow(`UPDATE messages SET status = $3, external_id = $4, failure_reason = $5,
		sent_at = $6 WHERE id = $1 AND shop_id = $2 RETURNING 1`, codeNotFound, "message not found"),
		m.ID, m.ShopID, m.Status, m.ExternalID, m.FailureReason, m.SentAt)
	return nil
}

func (t *tx) InsertNotice(ctx context.Context, n *orders.Notice) error {
	if n.ID == "" {
		n.ID = orders.NewID()
	}
	t.p.queue(`INSERT INTO notices (id, shop_id, order_id, kind, text, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, n.ID, n.ShopID, n.OrderID, n.Kind, n.Text, n.CreatedAt)
	return nil
}

// InsertEvents records gateway events, each once. The conflict clause has no target
// so that a replay is a no-op whether it repeats the (shop, gateway, event id) key or
// the row's own id (the same event value applied twice). An event repeated within evs
// is recorded by its first occurrence: the later insert sees the earlier one.
//
// For the event types the Service acts on, the same round trip also locks and reads
// the attempt that owns each event's session and that attempt's order, which is what
// applying the events asks for next (see prefetched).
func (t *tx) InsertEvents(ctx context.Context, evs []*orders.GatewayEvent) ([]bool, error) {
	inserted := make([]bool, len(evs))
	b := &pgx.Batch{}
	var pre []*prefetch
	for i, e := range evs {
		if e.ID == "" {
			e.ID = orders.NewID()
		}
		b.Queue(`INSERT INTO gateway_events (id, shop_id, gateway, event_id, type, session_id,
			payment_ref, amount, currency, reason, payload, outcome, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
			e.ID, e.ShopID, e.Gateway, e.EventID, e.Type, e.SessionID, e.PaymentRef, e.Amount, e.Currency, e.Reason,
			e.Payload, e.Outcome, e.ReceivedAt).Exec(func(ct pgconn.CommandTag) error {
			inserted[i] = ct.RowsAffected() == 1
			return nil
		})
		if p := queuePrefetch(b, e); p != nil {
			pre = append(pre, p)
		}
	}
	if err := t.p.send(ctx, b); err != nil {
		return nil, err
	}
	t.pre.add(pre)
	return inserted, nil
}

func (t *tx) SetEventOutcome(ctx context.Context, e *orders.GatewayEvent) error {
	t.p.queue(requireRow(`UPDATE gateway_events SET outcome = $3 WHERE id = $1 AND shop_id = $2 RETURNING 1`,
		codeNotFound, "gateway event not found"), e.ID, e.ShopID, e.Outcome)
	return nil
}

// InsertChatUpdates records chat updates, each unless already recorded, in one round
// trip.
func (t *tx) InsertChatUpdates(ctx context.Context, ups []*orders.ChatUpdate) ([]bool, error) {
	inserted := make([]bool, len(ups))
	b := &pgx.Batch{}
	for i, u := range ups {
		if u.Key != "" {
			// Numbered from the source's sequence row, whose lock also serialises
			// concurrent deliveries of the same key: the second finds the first's
			// row and inserts nothing.
			b.Queue(`WITH seq AS (
					INSERT INTO chat_offsets AS c (shop_id, source, next) VALUES ($1, $2, 1)
					ON CONFLICT (shop_id, source) DO UPDATE SET next = c.next + 1 RETURNING next)
				INSERT INTO chat_updates (shop_id, source, update_id, payload, received_at, chat, event_key)
				SELECT $1, $2, seq.next, $3, $4, $5, $6 FROM seq
				ON CONFLICT DO NOTHING RETURNING update_id`,
				u.ShopID, u.Source, u.Payload, u.ReceivedAt, u.Chat, u.Key).QueryRow(func(row pgx.Row) error {
				err := row.Scan(&u.UpdateID)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil // recorded before
				}
				inserted[i] = err == nil
				return err
			})
			continue
		}
		b.Queue(`INSERT INTO chat_updates (shop_id, source, update_id, payload, received_at, chat)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			u.ShopID, u.Source, u.UpdateID, u.Payload, u.ReceivedAt, u.Chat).Exec(func(ct pgconn.CommandTag) error {
			inserted[i] = ct.RowsAffected() == 1
			return nil
		})
	}
	if err := t.p.send(ctx, b); err != nil {
		return nil, err
	}
	return inserted, nil
}

// MarkChatUpdateProcessed queues recording that an update is processed.
func (t *tx) MarkChatUpdateProcessed(ctx context.Context, shopID, source string, updateID int64, at time.Time) error {
	t.p.queue(requireRow(`UPDATE chat_updates SET processed_at = $4 WHERE shop_id = $1 AND source = $2
		AND update_id = $3 RETURNING 1`, codeNotFound, "chat update not found"), shopID, source, updateID, at)
	return nil
}

// SetChatOffset queues moving the polling offset of source forward.
func (t *tx) SetChatOffset(ctx context.Context, shopID, source string, next int64) error {
	t.p.queue(`INSERT INTO chat_offsets AS c (shop_id, source, next) VALUES ($1, $2, $3)
		ON CONFLICT (shop_id, source) DO UPDATE SET next = greatest(c.next, excluded.next)`, shopID, source, next)
	return nil
}

// Enqueue adds jobs to the transaction; InTx inserts them just before it commits.
func (t *tx) Enqueue(ctx context.Context, jobs ...orders.Job) error {
	for _, j := range jobs {
		params := river.InsertManyParams{Args: j}
		if p, ok := j.(orders.Prioritized); ok {
			params.InsertOpts = &river.InsertOpts{Priority: p.Priority()}
		}
		t.jobs = append(t.jobs, params)
	}
	return nil
}

// prefetched is what InsertEvents read ahead: applying a gateway event continues
// with LockAttemptBySession for the event's session and then LockOrder for that
// attempt's order. Reading both in the events' round trip saves two per event. The
// rows are locked FOR UPDATE when read, so no other transaction can change them; this
// one can, so a row it writes after the read (attemptChanged, orderChanged) is read
// again rather than taken from here. Each prefetched row is handed out once.
type prefetched struct {
	list          []*prefetch
	dirtyAttempts map[string]bool
	dirtyOrders   map[string]bool
}

// prefetch is one event's read-ahead.
type prefetch struct {
	shopID, gateway, sessionID string
	attemptTaken, orderTaken   bool
	attempt                    *orders.Attempt // nil: no attempt has the session
	order                      *orderLoad
}

func (p *prefetched) add(list []*prefetch) { p.list = append(p.list, list...) }

func (p *prefetched) attemptChanged(id string) {
	if len(p.list) == 0 {
		return
	}
	if p.dirtyAttempts == nil {
		p.dirtyAttempts = map[string]bool{}
	}
	p.dirtyAttempts[id] = true
}

func (p *prefetched) orderChanged(id string) {
	if len(p.list) == 0 {
		return
	}
	if p.dirtyOrders == nil {
		p.dirtyOrders = map[string]bool{}
	}
	p.dirtyOrders[id] = true
}

// takeAttempt returns the prefetched attempt for a session, if there is one still
// valid. ok is false when the caller must read it; a nil attempt with ok true means
// no attempt has the session.
func (p *prefetched) takeAttempt(shopID, gateway, sessionID string) (a *orders.Attempt, ok bool) {
	for _, f := range p.list {
		if f.attemptTaken || f.shopID != shopID || f.gateway != gateway || f.sessionID != sessionID {
			continue
		}
		if f.attempt != nil && p.dirtyAttempts[f.attempt.ID] {
			continue
		}
		f.attemptTaken = true
		return f.attempt, true
	}
	return nil, false
}

// takeOrder returns the prefetched order of an attempt already taken, if it is still
// valid.
func (p *prefetched) takeOrder(shopID, id string) *orders.Order {
	if p.dirtyOrders[id] {
		return nil
	}
	for _, f := range p.list {
		if !f.attemptTaken || f.orderTaken || f.attempt == nil || f.shopID != shopID || f.attempt.OrderID != id {
			continue
		}
		o, err := f.order.result()
		if err != nil || o.ID != id {
			continue
		}
		f.orderTaken = true
		return o
	}
	return nil
}

func queuePrefetch(b *pgx.Batch, e *orders.GatewayEvent) *prefetch {
	switch e.Type {
	case orders.EventSucceeded, orders.EventFailed, orders.EventPending:
	default:
		return nil // the Service ignores other types and locks nothing
	}
	if e.SessionID == "" {
		return nil
	}
	p := &prefetch{shopID: e.ShopID, gateway: e.Gateway, sessionID: e.SessionID}
	args := []any{e.ShopID, e.Gateway, e.SessionID}
	b.Queue(lockAttemptBySessionSQL, args...).QueryRow(func(row pgx.Row) error {
		a, err := scanAttempt(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		p.attempt = a
		return err
	})
	// The attempt's order, located by the same session. Attempt first, then order:
	// the order in which applying the event locks them anyway.
	const byAttempt = `(SELECT a.order_id FROM attempts a WHERE a.shop_id = $1 AND a.gateway = $2
		AND a.session_id = $3 AND a.session_id <> '')`
	p.order = queueOrder(b,
		`SELECT `+orderCols+` WHERE o.shop_id = $1 AND o.id = `+byAttempt+` FOR UPDATE OF o`, args,
		`SELECT `+paymentCols+` WHERE shop_id = $1 AND order_id = `+byAttempt+` ORDER BY created_at, id`,
		`SELECT `+shipmentCols+` WHERE shop_id = $1 AND order_id = `+byAttempt+` ORDER BY created_at, id`,
		args)
	return p
}
