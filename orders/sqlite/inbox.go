package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/chatpay/chatpay/orders"
)

// The dashboard's inbox reads (migration 012 adds the column and indexes they use).

// inboxColumns are a conversation, its last activity and its newest message in or
// out, which the LEFT JOIN leaves NULL when it has none.
const inboxColumns = `c.id, c.shop_id, c.channel, c.external_id, c.customer_name, c.created_at,
	c.last_inbound_at, c.staff_thread_id, c.last_activity_at,
	m.id, m.order_id, m.direction, m.kind, m.text, m.buttons, m.status, m.external_id,
	m.failure_reason, m.created_at, m.sent_at`

// ListConversations walks conversations_activity (or conversations_channel_activity
// with a channel) newest first and stops at the page's end; each row's newest
// message is one probe of messages_conversation. The query text depends only on
// which filters are set, so the statement cache holds four of them at most.
func (s *Store) ListConversations(ctx context.Context, shopID string, f orders.ConversationFilter) ([]*orders.ConversationSummary, error) {
	q := `SELECT ` + inboxColumns + ` FROM conversations c
	LEFT JOIN messages m ON m.id = (SELECT l.id FROM messages l
		WHERE l.shop_id = c.shop_id AND l.conversation_id = c.id AND l.direction IN ('in', 'out')
		ORDER BY l.created_at DESC, l.id DESC LIMIT 1)
	WHERE c.shop_id = ?`
	args := []any{shopID}
	if f.Channel != "" {
		q, args = q+` AND c.channel = ?`, append(args, f.Channel)
	}
	if !f.Before.IsZero() {
		q, args = q+` AND (c.last_activity_at, c.id) < (?, ?)`, append(args, micros(f.Before.At), f.Before.ID)
	}
	q += ` ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?`
	args = append(args, pageLimit(f.Limit))
	return queryAll(ctx, s.rq, "conversations", scanConversationSummary, q, args...)
}

func scanConversationSummary(r scanner) (*orders.ConversationSummary, error) {
	var (
		c                                     orders.Conversation
		created, activity                     int64
		inbound                               sql.NullInt64
		mID, mOrder, mDirection, mKind, mText sql.NullString
		mButtons, mStatus, mExternal, mReason sql.NullString
		mCreated, mSent                       sql.NullInt64
	)
	if err := r.Scan(&c.ID, &c.ShopID, &c.Channel, &c.ExternalID, &c.CustomerName, &created, &inbound,
		&c.StaffThreadID, &activity, &mID, &mOrder, &mDirection, &mKind, &mText, &mButtons, &mStatus,
		&mExternal, &mReason, &mCreated, &mSent); err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastInboundAt = fromMicros(created), fromNullMicros(inbound)
	sum := &orders.ConversationSummary{Conversation: &c, LastActivityAt: fromMicros(activity)}
	if mID.Valid {
		m := &orders.Message{
			ID: mID.String, ShopID: c.ShopID, ConversationID: c.ID, OrderID: mOrder.String,
			Direction: mDirection.String, Kind: mKind.String, Text: mText.String, Status: mStatus.String,
			ExternalID: mExternal.String, FailureReason: mReason.String,
			CreatedAt: fromMicros(mCreated.Int64), SentAt: fromNullMicros(mSent),
		}
		if err := json.Unmarshal([]byte(mButtons.String), &m.Buttons); err != nil {
			return nil, fmt.Errorf("message %s buttons: %w", m.ID, err)
		}
		sum.LastMessage = m
	}
	return sum, nil
}

// ConversationMessages reads messages_conversation backwards from f.Before.
func (s *Store) ConversationMessages(ctx context.Context, shopID, conversationID string, f orders.MessageFilter) ([]*orders.Message, error) {
	q := `SELECT ` + messageColumns + ` FROM messages
	WHERE shop_id = ? AND conversation_id = ? AND direction IN ('in', 'out')`
	args := []any{shopID, conversationID}
	if !f.Before.IsZero() {
		q, args = q+` AND (created_at, id) < (?, ?)`, append(args, micros(f.Before.At), f.Before.ID)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, pageLimit(f.Limit))
	ms, err := queryAll(ctx, s.rq, "conversation messages", scanMessage, q, args...)
	slices.Reverse(ms)
	return ms, err
}

// ConversationOrders reads orders_conversation newest first.
func (s *Store) ConversationOrders(ctx context.Context, shopID, conversationID string, limit int) ([]*orders.Order, error) {
	return loadOrders(ctx, s.rq, `WHERE o.shop_id = ? AND o.conversation_id = ? ORDER BY o.id DESC LIMIT ?`,
		shopID, conversationID, pageLimit(limit))
}

// pageLimit is a read's LIMIT: SQLite takes a negative one as none.
func pageLimit(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
