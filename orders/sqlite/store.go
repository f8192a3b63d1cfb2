package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// Reads outside a transaction use the reader pool and see the last committed state.

// Order returns an order with its link, payments and shipments.
func (s *Store) Order(ctx context.Context, shopID, id string) (*orders.Order, error) {
	return loadOrder(ctx, s.rq, `WHERE o.shop_id = ? AND o.id = ?`, shopID, id)
}

// OrderByCode returns an order by its human code.
func (s *Store) OrderByCode(ctx context.Context, shopID, code string) (*orders.Order, error) {
	return loadOrder(ctx, s.rq, `WHERE o.shop_id = ? AND o.code = ?`, shopID, code)
}

// OrderByTokenHash returns the order whose link has this token hash, from any shop:
// the token is the pay page's only credential. The link's shop must be the order's,
// and its children are read by that shop.
func (s *Store) OrderByTokenHash(ctx context.Context, tokenHash []byte) (*orders.Order, error) {
	return loadOrder(ctx, s.rq, `WHERE l.token_hash = ? AND o.shop_id = l.shop_id`, blob(tokenHash))
}

func (s *Store) Conversation(ctx context.Context, shopID, id string) (*orders.Conversation, error) {
	return getOne(ctx, s.rq, "conversation", scanConversation,
		`SELECT `+conversationColumns+` FROM conversations WHERE shop_id = ? AND id = ?`, shopID, id)
}

func (s *Store) Message(ctx context.Context, shopID, id string) (*orders.Message, error) {
	return getOne(ctx, s.rq, "message", scanMessage,
		`SELECT `+messageColumns+` FROM messages WHERE shop_id = ? AND id = ?`, shopID, id)
}

// OrderMessages returns every message about an order, oldest first.
func (s *Store) OrderMessages(ctx context.Context, shopID, orderID string) ([]*orders.Message, error) {
	return queryAll(ctx, s.rq, "order messages", scanMessage,
		`SELECT `+messageColumns+` FROM messages WHERE shop_id = ? AND order_id = ? ORDER BY created_at, id`, shopID, orderID)
}

// Notices returns the shop's latest notices, newest first.
func (s *Store) Notices(ctx context.Context, shopID string, limit int) ([]*orders.Notice, error) {
	if limit <= 0 {
		limit = 50
	}
	return queryAll(ctx, s.rq, "notices", scanNotice,
		`SELECT `+noticeColumns+` FROM notices WHERE shop_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, shopID, limit)
}

func (s *Store) Notice(ctx context.Context, shopID, id string) (*orders.Notice, error) {
	return getOne(ctx, s.rq, "notice", scanNotice,
		`SELECT `+noticeColumns+` FROM notices WHERE shop_id = ? AND id = ?`, shopID, id)
}

// ConversationByStaffThread returns the conversation whose staff topic is thread.
func (s *Store) ConversationByStaffThread(ctx context.Context, shopID string, thread int64) (*orders.Conversation, error) {
	if thread == 0 {
		return nil, orders.ErrNotFound
	}
	return getOne(ctx, s.rq, "conversation", scanConversation,
		`SELECT `+conversationColumns+` FROM conversations WHERE shop_id = ? AND staff_thread_id = ?`, shopID, thread)
}

// ConversationByExternalID returns the shop's conversation on channel with the
// customer's external id.
func (s *Store) ConversationByExternalID(ctx context.Context, shopID, channel, externalID string) (*orders.Conversation, error) {
	return getOne(ctx, s.rq, "conversation", scanConversation,
		`SELECT `+conversationColumns+` FROM conversations WHERE shop_id = ? AND channel = ? AND external_id = ?`,
		shopID, channel, externalID)
}

// OrderIDByKey returns the ID of the order created under an idempotency key.
func (s *Store) OrderIDByKey(ctx context.Context, shopID, key string) (string, error) {
	var id string
	err := s.rq.QueryRowContext(ctx, `SELECT order_id FROM order_keys WHERE shop_id = ? AND key = ?`, shopID, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", orders.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: order key: %w", err)
	}
	return id, nil
}

// QueuedBefore reports whether an earlier message of m's conversation and direction
// is still queued.
func (s *Store) QueuedBefore(ctx context.Context, m *orders.Message) (bool, error) {
	var found int
	err := s.rq.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE shop_id = ? AND conversation_id = ?
		AND status = 'queued' AND direction = ? AND (created_at < ? OR (created_at = ? AND id < ?)))`,
		m.ShopID, m.ConversationID, m.Direction, micros(m.CreatedAt), micros(m.CreatedAt), m.ID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("sqlite: queued before: %w", err)
	}
	return found == 1, nil
}

// ChatUpdate returns a recorded chat update.
func (s *Store) ChatUpdate(ctx context.Context, shopID, source string, updateID int64) (*orders.ChatUpdate, error) {
	return getOne(ctx, s.rq, "chat update", scanChatUpdate,
		`SELECT shop_id, source, update_id, payload, received_at, chat, processed_at FROM chat_updates
		WHERE shop_id = ? AND source = ? AND update_id = ?`, shopID, source, updateID)
}

// ChatUpdateWaiting reports whether an earlier update of u's chat is unprocessed.
func (s *Store) ChatUpdateWaiting(ctx context.Context, u *orders.ChatUpdate) (bool, error) {
	if u.Chat == "" {
		return false, nil
	}
	var found int
	err := s.rq.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM chat_updates WHERE shop_id = ? AND source = ?
		AND chat = ? AND update_id < ? AND processed_at IS NULL)`, u.ShopID, u.Source, u.Chat, u.UpdateID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("sqlite: chat update waiting: %w", err)
	}
	return found == 1, nil
}

// ChatUpdateToHandle returns a recorded chat update and whether an earlier update of
// its chat is unprocessed, in one statement.
func (s *Store) ChatUpdateToHandle(ctx context.Context, shopID, source string, updateID int64) (*orders.ChatUpdate, bool, error) {
	var waiting bool
	u, err := getOne(ctx, s.rq, "chat update", func(r scanner) (*orders.ChatUpdate, error) {
		var (
			u         orders.ChatUpdate
			received  int64
			processed sql.NullInt64
		)
		if err := r.Scan(&u.ShopID, &u.Source, &u.UpdateID, &u.Payload, &received, &u.Chat, &processed, &waiting); err != nil {
			return nil, err
		}
		u.ReceivedAt, u.ProcessedAt = fromMicros(received), fromNullMicros(processed)
		return &u, nil
	}, `SELECT u.shop_id, u.source, u.update_id, u.payload, u.received_at, u.chat, u.processed_at,
		u.chat <> '' AND EXISTS (SELECT 1 FROM chat_updates e WHERE e.shop_id = u.shop_id AND e.source = u.source
			AND e.chat = u.chat AND e.update_id < u.update_id AND e.processed_at IS NULL)
		FROM chat_updates u WHERE u.shop_id = ? AND u.source = ? AND u.update_id = ?`, shopID, source, updateID)
	if err != nil {
		return nil, false, err
	}
	return u, waiting, nil
}

// ChatOffset returns where long polling of source resumes, 0 when it never ran.
func (s *Store) ChatOffset(ctx context.Context, shopID, source string) (int64, error) {
	var next int64
	err := s.rq.QueryRowContext(ctx, `SELECT next FROM chat_offsets WHERE shop_id = ? AND source = ?`,
		shopID, source).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: chat offset: %w", err)
	}
	return next, nil
}

// LatestAttempt returns the order's newest attempt.
func (s *Store) LatestAttempt(ctx context.Context, shopID, orderID string) (*orders.Attempt, error) {
	return getOne(ctx, s.rq, "latest attempt", scanAttempt,
		`SELECT `+attemptColumns+` FROM attempts WHERE shop_id = ? AND order_id = ?
		ORDER BY created_at DESC, id DESC LIMIT 1`, shopID, orderID)
}

func (s *Store) Attempt(ctx context.Context, shopID, id string) (*orders.Attempt, error) {
	return getOne(ctx, s.rq, "attempt", scanAttempt,
		`SELECT `+attemptColumns+` FROM attempts WHERE shop_id = ? AND id = ?`, shopID, id)
}

// OrderAttempts returns the order's attempts, oldest first.
func (s *Store) OrderAttempts(ctx context.Context, shopID, orderID string) ([]*orders.Attempt, error) {
	return queryAll(ctx, s.rq, "order attempts", scanAttempt,
		`SELECT `+attemptColumns+` FROM attempts WHERE shop_id = ? AND order_id = ?
		ORDER BY created_at, id`, shopID, orderID)
}

// StaleAttempts returns created or pending attempts with createdAfter <= created_at <
// createdBefore, in (created_at, id) order after (afterCreatedAt, afterID), across
// all shops (the reconciliation job's input). The plain created_at bound beside the
// row comparison lets the scan start in attempts_open instead of at its oldest entry.
func (s *Store) StaleAttempts(ctx context.Context, createdAfter, createdBefore, afterCreatedAt time.Time, afterID string, limit int) ([]*orders.Attempt, error) {
	if afterCreatedAt.IsZero() {
		return queryAll(ctx, s.rq, "stale attempts", scanAttempt,
			`SELECT `+attemptColumns+` FROM attempts
			WHERE status IN ('created', 'pending') AND created_at >= ? AND created_at < ?
			ORDER BY created_at, id LIMIT ?`, micros(createdAfter), micros(createdBefore), limit)
	}
	return queryAll(ctx, s.rq, "stale attempts", scanAttempt,
		`SELECT `+attemptColumns+` FROM attempts
		WHERE status IN ('created', 'pending') AND created_at >= ? AND created_at < ?
		AND created_at >= ? AND (created_at, id) > (?, ?)
		ORDER BY created_at, id LIMIT ?`, micros(createdAfter), micros(createdBefore),
		micros(afterCreatedAt), micros(afterCreatedAt), afterID, limit)
}

func (s *Store) Refund(ctx context.Context, shopID, id string) (*orders.Refund, error) {
	return getOne(ctx, s.rq, "refund", scanRefund,
		`SELECT `+refundColumns+` FROM refunds WHERE shop_id = ? AND id = ?`, shopID, id)
}

// OrderRefunds returns the order's refunds, oldest first.
func (s *Store) OrderRefunds(ctx context.Context, shopID, orderID string) ([]*orders.Refund, error) {
	return queryAll(ctx, s.rq, "order refunds", scanRefund,
		`SELECT `+refundColumns+` FROM refunds WHERE shop_id = ? AND order_id = ? ORDER BY created_at, id`, shopID, orderID)
}

func (s *Store) Payment(ctx context.Context, shopID, id string) (*orders.Payment, error) {
	return getOne(ctx, s.rq, "payment", scanPayment,
		`SELECT `+paymentColumns+` FROM payments WHERE shop_id = ? AND id = ?`, shopID, id)
}
