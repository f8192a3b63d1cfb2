package orders_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

func TestReceiveMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := orders.InboundMessage{Channel: orders.ChannelTelegram, ExternalID: "5001", CustomerName: "Lan", Key: "telegram:1:10", Text: "Chào shop"}
	replies := []orders.Outbound{
		{Direction: orders.DirectionStaff, Kind: orders.KindMirror, Text: "Lan: Chào shop"},
		{Direction: orders.DirectionOut, Kind: orders.KindWelcome, Text: "Xin chào Lan!"},
	}
	conv, fresh, err := b.svc.ReceiveMessage(b.ctx, shopA, in, replies...)
	require.NoError(t, err)
	require.True(t, fresh)
	require.Equal(t, "Lan", conv.CustomerName)
	require.Equal(t, b.now.Truncate(1000), *conv.LastInboundAt)
	before := b.snapshot(t)
	jobs := b.jobs(t)
	require.Len(t, jobs, 2, "a delivery job per reply")

	m, err := b.store.Message(b.ctx, shopA, "in:telegram:1:10")
	require.NoError(t, err)
	require.Equal(t, orders.DirectionIn, m.Direction)
	require.Equal(t, "Chào shop", m.Text)
	require.Equal(t, conv.ID, m.ConversationID)
	staff, err := b.store.Message(b.ctx, shopA, jobs[0].(orders.DeliverMessage).MessageID)
	require.NoError(t, err)
	require.Equal(t, orders.DirectionStaff, staff.Direction)
	require.Equal(t, orders.MessageQueued, staff.Status)

	// The same update processed again changes nothing.
	again, fresh, err := b.svc.ReceiveMessage(b.ctx, shopA, in, replies...)
	require.NoError(t, err)
	require.False(t, fresh)
	require.Equal(t, conv.ID, again.ID)
	require.Equal(t, before, b.snapshot(t))

	// The next message of the same customer joins the conversation; a shop without
	// a staff chat queues no staff messages.
	in.Key, in.Text = "telegram:1:11", "Còn size M không?"
	next, fresh, err := b.svc.ReceiveMessage(b.ctx, shopA, in)
	require.NoError(t, err)
	require.True(t, fresh)
	require.Equal(t, conv.ID, next.ID)
	_, _, err = b.svc.ReceiveMessage(b.ctx, shopB, orders.InboundMessage{Channel: orders.ChannelTelegram, ExternalID: "5001", Key: "telegram:2:1", Text: "hi"}, replies...)
	require.NoError(t, err)
	require.Len(t, b.jobs(t), 3, "shop B has no staff chat: only the reply to the customer")

	_, _, err = b.svc.ReceiveMessage(b.ctx, shopA, orders.InboundMessage{Channel: orders.ChannelTelegram, ExternalID: "5001", Text: "no key"})
	requireCode(t, err, orders.EINVALID)
}

func TestSendMessagesOncePerKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	conv, _, err := b.svc.ReceiveMessage(b.ctx, shopA, orders.InboundMessage{Channel: orders.ChannelTelegram, ExternalID: "5001", Key: "k0", Text: "hi"})
	require.NoError(t, err)
	outs := []orders.Outbound{{Direction: orders.DirectionOut, Kind: orders.KindStaffReply, Text: "Dạ còn ạ"}}
	require.NoError(t, b.svc.SendMessages(b.ctx, shopA, conv.ID, "telegram:1:20", outs...))
	require.NoError(t, b.svc.SendMessages(b.ctx, shopA, conv.ID, "telegram:1:20", outs...))
	require.Len(t, b.jobs(t), 1)
	requireCode(t, b.svc.SendMessages(b.ctx, shopA, "no-such-conversation", "k", outs...), orders.ENOTFOUND)
	requireCode(t, b.svc.SendMessages(b.ctx, shopB, conv.ID, "k", outs...), orders.ENOTFOUND)

	require.NoError(t, b.svc.SetStaffThread(b.ctx, shopA, conv.ID, 77))
	requireCode(t, b.svc.SetStaffThread(b.ctx, shopA, "no-such-conversation", 79), orders.ENOTFOUND)
	requireCode(t, b.svc.SetStaffThread(b.ctx, shopB, conv.ID, 79), orders.ENOTFOUND)
	got, err := b.svc.ConversationByStaffThread(b.ctx, shopA, 77)
	require.NoError(t, err)
	require.Equal(t, conv.ID, got.ID)
	_, err = b.svc.ConversationByStaffThread(b.ctx, shopA, 78)
	requireCode(t, err, orders.ENOTFOUND)
}

// TestCreateOrderKey creates an order from the same chat command many times at once:
// one order, one card.
func TestCreateOrderKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in.Key = "telegram:1:30"
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			o, err := b.svc.CreateOrder(b.ctx, shopA, in)
			if err == nil {
				ids[i] = o.ID
			} else {
				ids[i] = fmt.Sprint("error: ", err)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
	before := b.snapshot(t)
	require.Equal(t, 1, before["orders"])
	require.Equal(t, 1, before["messages"], "one card")
	o, err := b.svc.CreateOrder(b.ctx, shopA, in)
	require.NoError(t, err)
	require.Equal(t, ids[0], o.ID)
	in.Key = "telegram:1:31"
	o2, err := b.svc.CreateOrder(b.ctx, shopA, in)
	require.NoError(t, err)
	require.NotEqual(t, ids[0], o2.ID, "another key is another order")
}

// A message delivered late (a platform's retry) does not move the customer's last
// message back, which would close a reply window that is open.
func TestReceiveMessageLateDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	recv := func(key string, at time.Time) *orders.Conversation {
		t.Helper()
		conv, _, err := b.svc.ReceiveMessage(b.ctx, shopA, orders.InboundMessage{
			Channel: orders.ChannelMessenger, ExternalID: "psid-7", Key: key, Text: "hi", At: at,
		})
		require.NoError(t, err)
		return conv
	}
	later := b.now.Add(-time.Minute)
	recv("m:2", later)
	conv := recv("m:1", later.Add(-3*time.Hour))
	require.Equal(t, later.UTC(), conv.LastInboundAt.UTC(), "the latest message counts")
	stored, err := b.svc.Conversation(b.ctx, shopA, conv.ID)
	require.NoError(t, err)
	require.Equal(t, later.UTC(), stored.LastInboundAt.UTC())
}
