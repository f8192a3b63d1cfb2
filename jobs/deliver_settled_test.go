package jobs

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// sentMessage is what a channel was asked to send.
type sentMessage struct {
	id, text string
	buttons  []orders.Button
}

// settleChannel is a chat platform that records what it sends, with text and buttons,
// and the edits it is asked for. beforeSend, when set, runs once at the next send, as
// if the world moved on while the delivery job was on its way to the platform.
type settleChannel struct {
	mu         sync.Mutex
	sent       []sentMessage
	edits      []edit
	beforeSend func()
}

func (c *settleChannel) Name() string { return orders.ChannelTelegram }

func (c *settleChannel) Send(_ context.Context, _ *orders.Shop, _ *orders.Conversation, m *orders.Message) (string, error) {
	c.mu.Lock()
	hook := c.beforeSend
	c.beforeSend = nil
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, sentMessage{m.ID, m.Text, m.Buttons})
	return "ext-" + m.ID, nil
}

func (c *settleChannel) Edit(_ context.Context, _ *orders.Shop, _ *orders.Conversation, externalID, text string, buttons []orders.Button) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.edits = append(c.edits, edit{externalID, text, buttons})
	return nil
}

func (c *settleChannel) record() ([]sentMessage, []edit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentMessage(nil), c.sent...), append([]edit(nil), c.edits...)
}

// settleSetup is a bundle whose Telegram channel is a settleChannel, with an order
// on it whose card is queued.
func settleSetup(t *testing.T) (*bundle, *settleChannel, *orders.Order, *orders.Message) {
	t.Helper()
	b := setup(t)
	ch := &settleChannel{}
	b.jobs.cfg.Channels[orders.ChannelTelegram] = ch
	o := b.order(t, orders.ChannelTelegram)
	ms, err := b.store.OrderMessages(context.Background(), b.shop.ID, o.ID)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	require.Equal(t, orders.KindOrderCard, ms[0].Kind)
	require.Equal(t, orders.MessageQueued, ms[0].Status)
	require.NotEmpty(t, ms[0].Buttons, "Pay now")
	return b, ch, o, ms[0]
}

// applyPayment applies a gateway event of type typ to a fresh attempt of o.
func (b *bundle) applyPayment(t *testing.T, o *orders.Order, typ string) {
	t.Helper()
	a := b.attempt(t, o, true)
	_, err := b.svc.ApplyEvent(context.Background(), &orders.GatewayEvent{
		ShopID: b.shop.ID, Gateway: "sandbox", EventID: "evt-" + a.ID, Type: typ, SessionID: a.SessionID,
		PaymentRef: "pi-" + a.ID, Amount: a.Amount, Currency: a.Currency, Reason: "card declined", Payload: []byte(`{}`),
	})
	require.NoError(t, err)
}

// jobCount counts the jobs of kind enqueued so far.
func (b *bundle) jobCount(t *testing.T, kind string) int {
	t.Helper()
	var n int
	require.NoError(t, b.store.Writer().QueryRowContext(context.Background(), `SELECT count(*) FROM river_job WHERE kind = ?`, kind).Scan(&n))
	return n
}

func (b *bundle) deliver(t *testing.T, m *orders.Message, attempt int) {
	t.Helper()
	args := orders.DeliverMessage{ShopID: b.shop.ID, MessageID: m.ID}
	require.NoError(t, (&messageWorker{j: b.jobs}).Work(context.Background(), job(args, attempt)))
}

// TestDeliverSettledCard: a card still queued when its order is paid goes out as the
// paid card, without Pay now, and is stored as sent; a retry sends nothing more, and
// nothing is left for the RefreshCard job to edit.
func TestDeliverSettledCard(t *testing.T) {
	t.Parallel()
	b, ch, o, card := settleSetup(t)
	ctx := context.Background()
	refresh := &refreshCardWorker{j: b.jobs}
	refreshArgs := orders.RefreshCard{ShopID: b.shop.ID, OrderID: o.ID}

	b.applyPayment(t, o, orders.EventSucceeded)
	require.Equal(t, 1, b.jobCount(t, refreshArgs.Kind()), "the payment's")
	// The payment's RefreshCard runs first: the card is not delivered, nothing to edit.
	require.NoError(t, refresh.Work(ctx, job(refreshArgs, 1)))

	b.deliver(t, card, 1)
	b.deliver(t, card, 2)
	sent, edits := ch.record()
	require.Len(t, sent, 1, "sent once")
	require.Equal(t, card.ID, sent[0].id)
	require.True(t, strings.HasSuffix(sent[0].text, "\n\n✅ Paid"), "%q", sent[0].text)
	require.Empty(t, sent[0].buttons, "no Pay now on a paid order's card")
	require.Empty(t, edits)

	got, err := b.store.Message(ctx, b.shop.ID, card.ID)
	require.NoError(t, err)
	require.Equal(t, orders.MessageSent, got.Status)
	require.Equal(t, "ext-"+card.ID, got.ExternalID)
	require.Equal(t, sent[0].text, got.Text, "stored as sent, for the dashboard and the web chat")
	require.Empty(t, got.Buttons)
	require.Equal(t, 1, b.jobCount(t, refreshArgs.Kind()), "what was sent is up to date: no other RefreshCard")
}

// TestDeliverOpenCard: an order still awaiting payment gets its card as it was drawn,
// Pay now and all.
func TestDeliverOpenCard(t *testing.T) {
	t.Parallel()
	b, ch, _, card := settleSetup(t)

	b.deliver(t, card, 1)
	sent, _ := ch.record()
	require.Equal(t, []sentMessage{{card.ID, card.Text, card.Buttons}}, sent)
	got, err := b.store.Message(context.Background(), b.shop.ID, card.ID)
	require.NoError(t, err)
	require.Equal(t, card.Text, got.Text)
	require.Equal(t, card.Buttons, got.Buttons)
	require.Zero(t, b.jobCount(t, orders.RefreshCard{}.Kind()))
}

// TestDeliverSettledPayAgain: a Pay again message still queued when its order is
// cancelled goes out with its words, the cancelled status line and no button.
func TestDeliverSettledPayAgain(t *testing.T) {
	t.Parallel()
	b, ch, o, card := settleSetup(t)
	ctx := context.Background()
	b.deliver(t, card, 1)
	b.applyPayment(t, o, orders.EventFailed)
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	var payAgain *orders.Message
	for _, m := range ms {
		if m.Kind == orders.KindPaymentFailed && m.Direction == orders.DirectionOut {
			payAgain = m
		}
	}
	require.NotNil(t, payAgain)
	require.Equal(t, orders.MessageQueued, payAgain.Status)
	require.NotEmpty(t, payAgain.Buttons, "Pay again")

	_, err = b.svc.CancelOrder(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	b.deliver(t, payAgain, 1)
	sent, _ := ch.record()
	require.Len(t, sent, 2)
	require.Equal(t, sentMessage{payAgain.ID, payAgain.Text + "\n\n❌ Cancelled", nil}, sent[1])
	got, err := b.store.Message(ctx, b.shop.ID, payAgain.ID)
	require.NoError(t, err)
	require.Equal(t, sent[1].text, got.Text)
	require.Empty(t, got.Buttons)
}

// TestDeliverCardPaidMeanwhile: the order is paid after the delivery job looked at it
// and its RefreshCard runs before the delivery is recorded, finding nothing delivered
// to edit. The delivery job, looking again after the record, enqueues another
// RefreshCard, which edits the card.
func TestDeliverCardPaidMeanwhile(t *testing.T) {
	t.Parallel()
	b, ch, o, card := settleSetup(t)
	ctx := context.Background()
	refresh := &refreshCardWorker{j: b.jobs}
	refreshArgs := orders.RefreshCard{ShopID: b.shop.ID, OrderID: o.ID}
	ch.beforeSend = func() {
		b.applyPayment(t, o, orders.EventSucceeded)
		require.NoError(t, refresh.Work(ctx, job(refreshArgs, 1)))
	}

	b.deliver(t, card, 1)
	sent, edits := ch.record()
	require.Equal(t, []sentMessage{{card.ID, card.Text, card.Buttons}}, sent, "drawn before the payment")
	require.Empty(t, edits, "the payment's RefreshCard came too early")
	require.Equal(t, 2, b.jobCount(t, refreshArgs.Kind()), "the payment's and the delivery's")

	require.NoError(t, refresh.Work(ctx, job(refreshArgs, 1)))
	_, edits = ch.record()
	require.Len(t, edits, 1)
	require.Equal(t, "ext-"+card.ID, edits[0].externalID)
	require.True(t, strings.HasSuffix(edits[0].text, "\n\n✅ Paid"), "%q", edits[0].text)
	require.Empty(t, edits[0].buttons)

	// A retry of the delivery (as after a failure of that last look) sends nothing
	// and looks again.
	b.deliver(t, card, 2)
	sent, _ = ch.record()
	require.Len(t, sent, 1)
	require.Equal(t, 3, b.jobCount(t, refreshArgs.Kind()))
}
