package jobs

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/webchat"
	"github.com/chatpay/chatpay/orders"
)

// deliverQueued runs the DeliverMessage job for every message of o still queued.
func (b *bundle) deliverQueued(t *testing.T, o *orders.Order) {
	t.Helper()
	ctx := context.Background()
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	for _, m := range ms {
		if m.Direction == orders.DirectionOut && m.Status == orders.MessageQueued {
			require.NoError(t, (&messageWorker{j: b.jobs}).Work(ctx, job(orders.DeliverMessage{ShopID: b.shop.ID, MessageID: m.ID}, 1)))
		}
	}
}

// refreshJobCount counts the RefreshCard jobs queued for o.
func (b *bundle) refreshJobCount(t *testing.T, o *orders.Order) int {
	t.Helper()
	var n int
	require.NoError(t, b.store.Writer().QueryRowContext(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = ? AND json_extract(args, '$.order_id') = ?`,
		orders.RefreshCard{}.Kind(), o.ID).Scan(&n))
	return n
}

// heldThenReleased delivers o's card, has the gateway authorise a payment of it and
// runs the RefreshCard job that the hold queues, then has the gateway release the
// hold while the order is open. It returns the card as stored once delivered.
func (b *bundle) heldThenReleased(t *testing.T, o *orders.Order) *orders.Message {
	t.Helper()
	ctx := context.Background()
	b.deliverQueued(t, o)
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Equal(t, orders.KindOrderCard, ms[0].Kind)
	card := ms[0]
	require.NotEmpty(t, card.ExternalID)
	require.Len(t, card.Buttons, 1, "Pay now")

	a := b.attempt(t, o, true)
	res, err := b.svc.ApplyEvent(ctx, &orders.GatewayEvent{
		ShopID: b.shop.ID, Gateway: a.Gateway, EventID: "evt-auth-" + a.ID, Type: orders.EventSucceeded,
		SessionID: a.SessionID, PaymentRef: "pi-" + a.ID, Amount: a.Amount, Currency: a.Currency,
		Payload: []byte(`{}`), Authorized: true,
	})
	require.NoError(t, err)
	require.True(t, res.Paid)
	b.deliverQueued(t, o)
	args := orders.RefreshCard{ShopID: b.shop.ID, OrderID: o.ID}
	require.NoError(t, (&refreshCardWorker{j: b.jobs}).Work(ctx, job(args, 1)))

	before := b.refreshJobCount(t, o)
	res, err = b.svc.ApplyEvent(ctx, &orders.GatewayEvent{
		ShopID: b.shop.ID, Gateway: a.Gateway, EventID: "evt-void-" + a.ID, Type: orders.EventVoided,
		PaymentRef: "pi-" + a.ID, Reason: "expired", Payload: []byte(`{}`),
	})
	require.NoError(t, err)
	require.Equal(t, orders.OutcomeApplied, res.Outcome)
	require.Equal(t, before+1, b.refreshJobCount(t, o), "the release queues a RefreshCard")
	b.deliverQueued(t, o)
	return card
}

// TestRefreshCardAfterReleasedHold: the RefreshCard job drew the card paid when the
// hold was recorded; after the hold is released at the gateway, the job the release
// queues edits it back to the card as first sent, with Pay now.
func TestRefreshCardAfterReleasedHold(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ch := &editingChannel{}
	b.jobs.cfg.Channels["telegram"] = ch
	o := b.order(t, "telegram")
	card := b.heldThenReleased(t, o)

	got := ch.made()
	require.Len(t, got, 1, "the hold drew the card paid")
	require.Equal(t, card.ExternalID, got[0].externalID)
	require.True(t, strings.HasSuffix(got[0].text, "\n\n✅ Paid"), "%q", got[0].text)
	require.Empty(t, got[0].buttons)

	args := orders.RefreshCard{ShopID: b.shop.ID, OrderID: o.ID}
	require.NoError(t, (&refreshCardWorker{j: b.jobs}).Work(ctx, job(args, 1)))
	got = ch.made()
	require.Len(t, got, 2)
	require.Equal(t, edit{card.ExternalID, card.Text, card.Buttons}, got[1], "the payable card, as first sent")
	require.Equal(t, "Pay now", got[1].buttons[0].Label)

	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	last := ms[len(ms)-1]
	require.Equal(t, orders.KindHoldReleased, last.Kind, "the customer hears of the release")
	require.Equal(t, orders.MessageSent, last.Status)
}

// TestRefreshCardAfterReleasedHoldWebChat: on the web chat, which stores its edits, the
// stored card reads paid while held and payable again after the release.
func TestRefreshCardAfterReleasedHoldWebChat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.jobs.cfg.Channels[orders.ChannelWebchat] = webchat.Channel{Messages: b.svc}
	o := b.order(t, orders.ChannelWebchat)
	card := b.heldThenReleased(t, o)

	stored, err := b.store.Message(ctx, b.shop.ID, card.ID)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(stored.Text, "\n\n✅ Paid"), "%q", stored.Text)
	require.Empty(t, stored.Buttons)

	args := orders.RefreshCard{ShopID: b.shop.ID, OrderID: o.ID}
	for attempt := 1; attempt <= 2; attempt++ {
		require.NoError(t, (&refreshCardWorker{j: b.jobs}).Work(ctx, job(args, attempt)))
		stored, err = b.store.Message(ctx, b.shop.ID, card.ID)
		require.NoError(t, err)
		require.Equal(t, card.Text, stored.Text)
		require.Equal(t, card.Buttons, stored.Buttons)
	}
}
