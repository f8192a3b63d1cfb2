package orders_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// failAndDeliver applies a failed payment to a fresh attempt of o and, when deliver is
// set, records its Pay again message (and anything else of the order still queued) as
// delivered, as the DeliverMessage job does. It returns the new Pay again message.
func (b *bundle) failAndDeliver(t *testing.T, o *orders.Order, reason string, deliver bool) *orders.Message {
	t.Helper()
	a := b.attempt(t, o)
	ev := event(a, orders.EventFailed, "evt_fail_"+a.ID)
	ev.Reason = reason
	b.apply(t, ev)
	var failed *orders.Message
	for _, m := range b.messages(t, o) {
		if m.Kind == orders.KindPaymentFailed && strings.Contains(m.Text, reason) {
			failed = m
		}
		if deliver && m.Status == orders.MessageQueued {
			require.NoError(t, b.svc.RecordDelivery(b.ctx, o.ShopID, m.ID, orders.MessageDelivery{Sent: true, ExternalID: "ext-" + m.ID}, false))
		}
	}
	require.NotNil(t, failed)
	require.NotEmpty(t, failed.Buttons, "Pay again")
	return b.message(t, o, failed.ID)
}

func (b *bundle) message(t *testing.T, o *orders.Order, id string) *orders.Message {
	t.Helper()
	m, err := b.store.Message(b.ctx, o.ShopID, id)
	require.NoError(t, err)
	return m
}

// TestCardUpdatePayAgain: once an order is paid, the RefreshCard job's update takes in
// its delivered Pay again messages as well as its cards: the same words, the card's
// status line under them, and no button. Undelivered ones cannot be edited and are
// left out; an order still open needs no update at all.
func TestCardUpdatePayAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	delivered := b.failAndDeliver(t, o, "card declined", true)
	queued := b.failAndDeliver(t, o, "insufficient funds", false)
	require.Equal(t, orders.MessageSent, delivered.Status)
	require.Equal(t, orders.MessageQueued, queued.Status)

	u, ok, err := b.svc.CardUpdate(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.False(t, ok, "an open order's Pay again still stands")
	require.Nil(t, u)

	b.pay(t, o)
	u, ok, err = b.svc.CardUpdate(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, u.Cards, 1)
	require.True(t, strings.HasSuffix(u.Text, "\n\n✅ Paid"), "%q", u.Text)
	require.Len(t, u.PayAgain, 1, "the delivered one; the staff's notice of the failure is not the customer's")
	again := u.PayAgain[0]
	require.Equal(t, delivered.ID, again.ID)
	require.Equal(t, delivered.ExternalID, again.ExternalID)
	require.Equal(t, delivered.Text+"\n\n✅ Paid", again.Text, "the same words and the card's status line")
	require.Empty(t, again.Buttons, "no more Pay again")
	require.Equal(t, delivered.Buttons, b.message(t, o, delivered.ID).Buttons, "the update is only read, the channel edits")

	// Once edited where the edit is stored (the web chat), the update reads the same:
	// the status line is not added twice.
	require.NoError(t, b.svc.EditMessage(b.ctx, shopA, o.ConversationID, again.ID, again.Text, again.Buttons))
	u, ok, err = b.svc.CardUpdate(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, u.PayAgain, 1)
	require.Equal(t, again.Text, u.PayAgain[0].Text)
	require.Empty(t, u.PayAgain[0].Buttons)
}

// TestCardUpdatePayAgainCancelled: a cancelled order's Pay again message reads
// cancelled, as its card does, even with no card delivered to edit; a status line
// already under it is replaced, not added to.
func TestCardUpdatePayAgainCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := b.create(t, shopA, input())
	card := b.messages(t, o)[0]
	require.Equal(t, orders.KindOrderCard, card.Kind)
	require.NoError(t, b.svc.RecordDelivery(b.ctx, shopA, card.ID, orders.MessageDelivery{Reason: "chat not found"}, true))
	failed := b.failAndDeliver(t, o, "card declined", true)

	// As if it had been edited to paid by an earlier rendering.
	require.NoError(t, b.svc.EditMessage(b.ctx, shopA, o.ConversationID, failed.ID, failed.Text+"\n\n✅ Paid", nil))
	_, err := b.svc.CancelOrder(b.ctx, shopA, o.ID)
	require.NoError(t, err)

	u, ok, err := b.svc.CardUpdate(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.True(t, ok, "a Pay again message alone is worth an update")
	require.Empty(t, u.Cards, "the card was never delivered")
	require.Len(t, u.PayAgain, 1)
	require.Equal(t, failed.Text+"\n\n❌ Cancelled", u.PayAgain[0].Text)
	require.Empty(t, u.PayAgain[0].Buttons)
}
