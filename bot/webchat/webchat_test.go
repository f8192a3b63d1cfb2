package webchat_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/webchat"
	"github.com/chatpay/chatpay/orders"
)

func TestChannel(t *testing.T) {
	t.Parallel()
	var ch bot.Channel = webchat.Channel{}
	require.Equal(t, orders.ChannelWebchat, ch.Name())

	shop := &orders.Shop{ID: "shop-a"}
	conv := &orders.Conversation{ID: "c1", ShopID: "shop-a", Channel: orders.ChannelWebchat, ExternalID: "visitor-42"}
	m := &orders.Message{ID: "out:k:0", ConversationID: "c1", Direction: orders.DirectionOut, Kind: orders.KindOrderCard}
	id, err := ch.Send(context.Background(), shop, conv, m)
	require.NoError(t, err)
	require.Equal(t, "webchat:out:k:0", id)
	again, err := ch.Send(context.Background(), shop, conv, m)
	require.NoError(t, err)
	require.Equal(t, id, again, "a retried send is the same delivery")
	other, err := ch.Send(context.Background(), shop, conv, &orders.Message{ID: "out:k:1"})
	require.NoError(t, err)
	require.NotEqual(t, id, other)
}

// edit is one call of fakeMessages.EditMessage.
type edit struct {
	shop, conv, id, text string
	buttons              []orders.Button
}

// fakeMessages records edits and answers err.
type fakeMessages struct {
	mu    sync.Mutex
	edits []edit
	err   error
}

func (f *fakeMessages) EditMessage(_ context.Context, shopID, conversationID, messageID, text string, buttons []orders.Button) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.edits = append(f.edits, edit{shopID, conversationID, messageID, text, buttons})
	return f.err
}

// TestChannelEdit: the web chat edits a card it delivered by rewriting the stored
// message it names, in the shop and conversation the job names; what it cannot edit
// is a permanent failure, which the RefreshCard job logs and moves past.
func TestChannelEdit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shop := &orders.Shop{ID: "shop-a"}
	conv := &orders.Conversation{ID: "c1", ShopID: "shop-a", Channel: orders.ChannelWebchat, ExternalID: "visitor-42"}
	msgs := &fakeMessages{}
	var ch bot.Channel = webchat.Channel{Messages: msgs}
	ed, ok := ch.(bot.Editor)
	require.True(t, ok, "the RefreshCard job edits web chat cards")

	id, err := ch.Send(ctx, shop, conv, &orders.Message{ID: "m-1", ConversationID: "c1"})
	require.NoError(t, err)
	require.NoError(t, ed.Edit(ctx, shop, conv, id, "Order #1001\n\n✅ Paid", nil))
	require.Equal(t, []edit{{"shop-a", "c1", "m-1", "Order #1001\n\n✅ Paid", nil}}, msgs.edits, "the message the send named")

	// An ID the web chat never gave is not a message of its.
	for _, bad := range []string{"", "m-1", "webchat:", "telegram:m-1"} {
		err := ed.Edit(ctx, shop, conv, bad, "x", nil)
		require.True(t, bot.IsPermanent(err), "%q: %v", bad, err)
	}
	require.Len(t, msgs.edits, 1, "nothing was asked of the store for them")

	// A message that is gone (or another conversation's) will not come back.
	msgs.err = orders.Errorf(orders.ENOTFOUND, "no message m-2")
	err = ed.Edit(ctx, shop, conv, "webchat:m-2", "x", nil)
	require.True(t, bot.IsPermanent(err), "%v", err)

	// A passing failure is returned as it is, for the job to retry.
	down := errors.New("database is locked")
	msgs.err = down
	err = ed.Edit(ctx, shop, conv, "webchat:m-2", "x", nil)
	require.ErrorIs(t, err, down)
	require.False(t, bot.IsPermanent(err))

	// Set up without a store to edit in, the channel says so instead of pretending.
	err = webchat.Channel{}.Edit(ctx, shop, conv, id, "x", nil)
	require.True(t, bot.IsPermanent(err), "%v", err)
}
