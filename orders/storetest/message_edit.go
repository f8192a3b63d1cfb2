package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// testEditMessage: EditMessage rewrites the text and buttons of one of the shop's
// messages to the customer and nothing else about it; editing to what is stored is
// fine; another shop's ID, the customer's own message, a message to staff and an
// unknown ID are ErrNotFound, and leave every message as it was.
func testEditMessage(t *testing.T, h Harness) {
	ctx := context.Background()
	o := createOrder(t, h, newOrder(shopA, 0))
	payNow := []orders.Button{{Label: "Pay now", URL: "https://pay.example/pay/abc?x=1&y=2"}}
	msg := func(n int, direction, kind string, buttons []orders.Button) *orders.Message {
		return &orders.Message{
			ID: orders.NewID(), ShopID: shopA, ConversationID: o.ConversationID, OrderID: o.ID,
			Direction: direction, Kind: kind, Text: "Đơn hàng #" + o.Code + "\n<b>355.000 ₫</b>",
			Buttons: buttons, Status: orders.MessageSent, ExternalID: "webchat:x", CreatedAt: at(n), SentAt: ptr(at(n + 1)),
		}
	}
	card := msg(1, orders.DirectionOut, orders.KindOrderCard, payNow)
	in := msg(2, orders.DirectionIn, "text", nil)
	staff := msg(3, orders.DirectionStaff, orders.KindMirror, payNow)
	inTx(t, h, func(tx orders.Tx) error {
		for _, m := range []*orders.Message{card, in, staff} {
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	requireStored := func(want *orders.Message, msgAndArgs ...any) {
		t.Helper()
		got, err := h.Store.Message(ctx, want.ShopID, want.ID)
		require.NoError(t, err)
		require.Equal(t, normMessage(want), normMessage(got), msgAndArgs...)
	}
	edit := func(m orders.Message) error {
		return h.Store.InTx(ctx, func(tx orders.Tx) error { return tx.EditMessage(ctx, &m) })
	}

	// The paid card: new text, no buttons; its delivery, kind and time stay.
	paid := *card
	paid.Text, paid.Buttons = card.Text+"\n\n✅ Đã thanh toán", nil
	paid.Status, paid.ExternalID, paid.SentAt, paid.Kind = orders.MessageQueued, "other", nil, "other" // not written
	require.NoError(t, edit(paid))
	card.Text, card.Buttons = paid.Text, nil
	requireStored(card, "only the text and buttons change")
	require.NoError(t, edit(paid), "editing to what is stored is harmless")
	requireStored(card)

	// Buttons can be replaced too, in order, and round-trip exactly.
	again := *card
	again.Buttons = []orders.Button{{Label: "Track", URL: "https://ship.example/t/1"}, {Label: "Help", Data: "help", SameRow: true}}
	require.NoError(t, edit(again))
	card.Buttons = again.Buttons
	requireStored(card)

	// Another shop never edits shop A's message, even with its ID.
	forged := *card
	forged.ShopID, forged.Text, forged.Buttons = shopB, "hijacked", payNow
	requireNotFound(t, edit(forged), "another shop's ID")
	_, err := h.Store.Message(ctx, shopB, card.ID)
	requireNotFound(t, err)
	requireStored(card, "shop A's card is untouched")

	// Only messages to the customer are edited: never what the customer wrote, nor
	// what went to the shop's staff.
	for _, m := range []*orders.Message{in, staff} {
		changed := *m
		changed.Text = "rewritten"
		requireNotFound(t, edit(changed), "direction %s", m.Direction)
		requireStored(m)
	}

	unknown := *card
	unknown.ID = orders.NewID()
	requireNotFound(t, edit(unknown))
	requireStored(card)
}
