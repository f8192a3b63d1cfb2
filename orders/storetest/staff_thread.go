package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// testSetStaffThread checks that SetStaffThread writes the staff topic and nothing
// else: the customer's name and last message time recorded before it stay.
func testSetStaffThread(t *testing.T, h Harness) {
	ctx := context.Background()
	lan := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram, ExternalID: "2001", CreatedAt: at(0)}
	minh := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram, ExternalID: "2002", CreatedAt: at(0)}
	inTx(t, h, func(tx orders.Tx) error {
		if err := tx.UpsertConversation(ctx, lan); err != nil {
			return err
		}
		return tx.UpsertConversation(ctx, minh)
	})
	// The customer writes after the caller read the conversation (lan is now stale).
	inbound := at(5)
	fresh := *lan
	fresh.CustomerName, fresh.LastInboundAt = "Lan", &inbound
	inTx(t, h, func(tx orders.Tx) error { return tx.UpdateConversation(ctx, &fresh) })

	inTx(t, h, func(tx orders.Tx) error { return tx.SetStaffThread(ctx, shopA, lan.ID, 77) })
	fresh.StaffThreadID = 77
	got, err := h.Store.Conversation(ctx, shopA, lan.ID)
	require.NoError(t, err)
	require.Equal(t, &fresh, got)
	got, err = h.Store.ConversationByStaffThread(ctx, shopA, 77)
	require.NoError(t, err)
	require.Equal(t, lan.ID, got.ID)

	// A topic belongs to one conversation.
	err = h.Store.InTx(ctx, func(tx orders.Tx) error { return tx.SetStaffThread(ctx, shopA, minh.ID, 77) })
	require.ErrorIs(t, err, orders.ErrConflict)
	got, err = h.Store.Conversation(ctx, shopA, minh.ID)
	require.NoError(t, err)
	require.Zero(t, got.StaffThreadID)

	// Another shop's conversation, or none, is not found.
	err = h.Store.InTx(ctx, func(tx orders.Tx) error { return tx.SetStaffThread(ctx, shopB, lan.ID, 78) })
	require.ErrorIs(t, err, orders.ErrNotFound)
	err = h.Store.InTx(ctx, func(tx orders.Tx) error { return tx.SetStaffThread(ctx, shopA, orders.NewID(), 78) })
	require.ErrorIs(t, err, orders.ErrNotFound)
	got, err = h.Store.Conversation(ctx, shopA, lan.ID)
	require.NoError(t, err)
	require.Equal(t, &fresh, got)
}

// testRaceStaffThread races SetStaffThread with a customer's message recorded as the
// Service records one (UpsertConversation reads the row, UpdateConversation writes it
// back with the message's time), round after round: whichever commits first, the
// message's last_inbound_at and name are not lost.
func testRaceStaffThread(t *testing.T, h Harness) {
	ctx := context.Background()
	for round := range 20 {
		conv := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: orders.ChannelTelegram,
			ExternalID: fmt.Sprint(3000 + round), CreatedAt: at(0)}
		inTx(t, h, func(tx orders.Tx) error { return tx.UpsertConversation(ctx, conv) })
		inbound := at(10 + round)
		name := fmt.Sprintf("Lan %d", round)
		errs := race(2, func(i int) error {
			if i == 0 {
				return h.Store.InTx(ctx, func(tx orders.Tx) error {
					return tx.SetStaffThread(ctx, shopA, conv.ID, int64(100+round))
				})
			}
			return h.Store.InTx(ctx, func(tx orders.Tx) error {
				c := &orders.Conversation{ID: orders.NewID(), ShopID: shopA, Channel: conv.Channel,
					ExternalID: conv.ExternalID, CreatedAt: at(1)}
				if err := tx.UpsertConversation(ctx, c); err != nil {
					return err
				}
				c.CustomerName, c.LastInboundAt = name, &inbound
				return tx.UpdateConversation(ctx, c)
			})
		})
		require.NoError(t, errs[0], "round %d", round)
		require.NoError(t, errs[1], "round %d", round)
		got, err := h.Store.Conversation(ctx, shopA, conv.ID)
		require.NoError(t, err)
		require.NotNil(t, got.LastInboundAt, "round %d", round)
		require.Equal(t, inbound, *got.LastInboundAt, "round %d", round)
		require.Equal(t, name, got.CustomerName, "round %d", round)
	}
}
