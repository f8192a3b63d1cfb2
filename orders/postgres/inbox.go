package postgres

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatpay/chatpay/orders"
)

// The dashboard's inbox reads (migration 013 adds the column and indexes they use).

// ListConversations walks conversations_activity_idx (or
// conversations_channel_activity_idx with a channel) newest first and stops at the
// page's end; each row's newest message is one probe of messages_conversation_idx.
// messages.conversation_id has the database's collation and conversations.id "C", so
// the lateral compares in the former's, which its index is built in.
func (s *Store) ListConversations(ctx context.Context, shopID string, f orders.ConversationFilter) ([]*orders.ConversationSummary, error) {
	var sb strings.Builder
	sb.WriteString(`SELECT c.id, c.shop_id, c.channel, c.external_id, c.customer_name, c.created_at,
		c.last_inbound_at, c.staff_thread_id, c.last_activity_at,
		m.id, m.order_id, m.direction, m.kind, m.text, m.buttons, m.status, m.external_id,
		m.failure_reason, m.created_at, m.sent_at
	FROM conversations c
	LEFT JOIN LATERAL (SELECT * FROM messages l
		WHERE l.shop_id = c.shop_id AND l.conversation_id = c.id COLLATE "default" AND l.direction IN ('in', 'out')
		ORDER BY l.created_at DESC, l.id DESC LIMIT 1) m ON true
	WHERE c.shop_id = $1`)
	args := []any{shopID}
	if f.Channel != "" {
		args = append(args, f.Channel)
		sb.WriteString(` AND c.channel = $` + strconv.Itoa(len(args)))
	}
	if !f.Before.IsZero() {
		args = append(args, f.Before.At, f.Before.ID)
		sb.WriteString(` AND (c.last_activity_at, c.id) < ($` + strconv.Itoa(len(args)-1) + `, $` + strconv.Itoa(len(args)) + `)`)
	}
	sb.WriteString(` ORDER BY c.last_activity_at DESC, c.id DESC`)
	if f.Limit > 0 {
		args = append(args, f.Limit)
		sb.WriteString(` LIMIT $` + strconv.Itoa(len(args)))
	}
	return getAll(ctx, s.pool, scanConversationSummary, sb.String(), args...)
}

func scanConversationSummary(row pgx.Row) (*orders.ConversationSummary, error) {
	var (
		c   orders.Conversation
		sum orders.ConversationSummary
		// The message's columns, NULL when the conversation has none.
		mID, mOrder, mDirection, mKind, mText, mStatus, mExternal, mReason *string
		mCreated                                                           *time.Time
		m                                                                  orders.Message
	)
	if err := row.Scan(&c.ID, &c.ShopID, &c.Channel, &c.ExternalID, &c.CustomerName, &c.CreatedAt,
		&c.LastInboundAt, &c.StaffThreadID, &sum.LastActivityAt,
		&mID, &mOrder, &mDirection, &mKind, &mText, &m.Buttons, &mStatus, &mExternal,
		&mReason, &mCreated, &m.SentAt); err != nil {
		return nil, err
	}
	sum.Conversation = &c
	if mID != nil {
		m.ID, m.ShopID, m.ConversationID = *mID, c.ShopID, c.ID
		m.OrderID, m.Direction, m.Kind, m.Text = *mOrder, *mDirection, *mKind, *mText
		m.Status, m.ExternalID, m.FailureReason = *mStatus, *mExternal, *mReason
		m.CreatedAt = *mCreated
		sum.LastMessage = &m
	}
	return &sum, nil
}

// ConversationMessages reads messages_conversation_idx backwards from f.Before.
func (s *Store) ConversationMessages(ctx context.Context, shopID, conversationID string, f orders.MessageFilter) ([]*orders.Message, error) {
	var sb strings.Builder
	sb.WriteString(`SELECT ` + messageCols + ` WHERE shop_id = $1 AND conversation_id = $2 AND direction IN ('in', 'out')`)
	args := []any{shopID, conversationID}
	if !f.Before.IsZero() {
		args = append(args, f.Before.At, f.Before.ID)
		sb.WriteString(` AND (created_at, id) < ($3, $4)`)
	}
	sb.WriteString(` ORDER BY created_at DESC, id DESC`)
	if f.Limit > 0 {
		args = append(args, f.Limit)
		sb.WriteString(` LIMIT $` + strconv.Itoa(len(args)))
	}
	ms, err := getAll(ctx, s.pool, scanMessage, sb.String(), args...)
	slices.Reverse(ms)
	return ms, err
}

// ConversationOrders reads orders_conversation_idx newest first, then the orders'
// payments and shipments in one more round trip.
func (s *Store) ConversationOrders(ctx context.Context, shopID, conversationID string, limit int) ([]*orders.Order, error) {
	q := `SELECT ` + orderCols + ` WHERE o.shop_id = $1 AND o.conversation_id = $2 ORDER BY o.id DESC`
	args := []any{shopID, conversationID}
	if limit > 0 {
		q, args = q+` LIMIT $3`, append(args, limit)
	}
	list, err := getAll(ctx, s.pool, scanOrder, q, args...)
	if err != nil || len(list) == 0 {
		return list, err
	}
	ids := make([]string, len(list))
	byID := make(map[string]*orders.Order, len(list))
	for i, o := range list {
		ids[i], byID[o.ID] = o.ID, o
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+paymentCols+` WHERE shop_id = $1 AND order_id = ANY($2) ORDER BY created_at, id`, shopID, ids).
		Query(func(rows pgx.Rows) error {
			ps, err := collect(rows, scanPayment)
			for _, p := range ps {
				byID[p.OrderID].Payments = append(byID[p.OrderID].Payments, p)
			}
			return err
		})
	b.Queue(`SELECT `+shipmentCols+` WHERE shop_id = $1 AND order_id = ANY($2) ORDER BY created_at, id`, shopID, ids).
		Query(func(rows pgx.Rows) error {
			ss, err := collect(rows, scanShipment)
			for _, sh := range ss {
				byID[sh.OrderID].Shipments = append(byID[sh.OrderID].Shipments, sh)
			}
			return err
		})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return list, nil
}
