package orders_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// An order made for a Telegram user who has not started the bot waits without a
// conversation; only that user's conversation can claim it, once, and claiming sends
// the card.
func TestClaimOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.Customer = orders.Customer{Channel: orders.ChannelTelegram, ExternalID: "5550001", Name: "Lan"}
	in.AwaitCustomer = true
	o := b.create(t, shopA, in)
	require.Empty(t, o.ConversationID)
	before := b.snapshot(t)
	require.Equal(t, 0, before["conversations"], "nobody to write to yet")
	require.Equal(t, 0, before["messages"], "no card until the customer comes")
	got := b.reload(t, o)
	require.Equal(t, "5550001", got.Customer.ExternalID, "who it is for is kept")

	// A stranger (another chat) cannot claim it, and learns nothing.
	stranger, err := b.svc.EnsureConversation(b.ctx, shopA, orders.ChannelTelegram, "5550002", "Eve")
	require.NoError(t, err)
	_, _, err = b.svc.ClaimOrder(b.ctx, shopA, o.ID, stranger)
	requireCode(t, err, orders.ENOTFOUND)
	// Nor can the same chat id through another shop.
	_, _, err = b.svc.ClaimOrder(b.ctx, shopB, o.ID, stranger)
	requireCode(t, err, orders.ENOTFOUND)

	conv, err := b.svc.EnsureConversation(b.ctx, shopA, orders.ChannelTelegram, "5550001", "Lan")
	require.NoError(t, err)
	claimedOrder, claimed, err := b.svc.ClaimOrder(b.ctx, shopA, o.ID, conv)
	require.NoError(t, err)
	require.True(t, claimed)
	require.Equal(t, conv.ID, claimedOrder.ConversationID)
	require.Equal(t, conv.ID, b.reload(t, o).ConversationID, "stored")
	msgs, err := b.store.OrderMessages(b.ctx, shopA, o.ID)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, orders.KindOrderCard, msgs[0].Kind)
	require.Equal(t, conv.ID, msgs[0].ConversationID)

	// Again (a retried update, a second tap): nothing changes.
	after := b.snapshot(t)
	_, claimed, err = b.svc.ClaimOrder(b.ctx, shopA, o.ID, conv)
	require.NoError(t, err)
	require.False(t, claimed)
	require.Equal(t, after, b.snapshot(t))

	// An ordinary order was never waiting.
	plain := b.create(t, shopA, input())
	_, _, err = b.svc.ClaimOrder(b.ctx, shopA, plain.ID, conv)
	requireCode(t, err, orders.ENOTFOUND)
}

func TestAwaitCustomerNeedsAChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.Customer = orders.Customer{Name: "Lan"}
	in.AwaitCustomer = true
	before := b.snapshot(t)
	_, err := b.svc.CreateOrder(b.ctx, shopA, in)
	e := requireCode(t, err, orders.EINVALID)
	require.Equal(t, "customer.channel", e.Field)
	require.Equal(t, before, b.snapshot(t))
}
