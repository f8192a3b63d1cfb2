package jobs

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/ratelimit/memory"
	"github.com/chatpay/chatpay/bot/webchat"
	"github.com/chatpay/chatpay/orders"
)

// editingChannel is a chat platform that delivers as recordingChannel does and
// records the edits it is asked for, failing those of the messages it is told to.
type editingChannel struct {
	recordingChannel
	editMu   sync.Mutex
	edits    []edit
	failEdit map[string]error // by external id
}

type edit struct {
	externalID, text string
	buttons          []orders.Button
}

func (c *editingChannel) Edit(_ context.Context, _ *orders.Shop, _ *orders.Conversation, externalID, text string, buttons []orders.Button) error {
	c.editMu.Lock()
	defer c.editMu.Unlock()
	if err := c.failEdit[externalID]; err != nil {
		return err
	}
	c.edits = append(c.edits, edit{externalID, text, buttons})
	return nil
}

func (c *editingChannel) made() []edit {
	c.editMu.Lock()
	defer c.editMu.Unlock()
	return append([]edit(nil), c.edits...)
}

// stubLimiter answers the waits it is given, one per reservation, then 0.
type stubLimiter struct{ waits []time.Duration }

func (l *stubLimiter) Reserve(context.Context, ...bot.Limit) (time.Duration, error) {
	if len(l.waits) == 0 {
		return 0, nil
	}
	w := l.waits[0]
	l.waits = l.waits[1:]
	return w, nil
}

// failedThenPaid takes o through a declined payment and then a paid one, as the
// gateway's events would, delivering every message to the customer on the way. It
// returns the order's card and Pay again message as delivered.
func (b *bundle) failedThenPaid(t *testing.T, o *orders.Order) (card, payAgain *orders.Message) {
	t.Helper()
	ctx := context.Background()
	apply := func(a *orders.Attempt, typ string) {
		_, err := b.svc.ApplyEvent(ctx, &orders.GatewayEvent{
			ShopID: b.shop.ID, Gateway: "sandbox", EventID: "evt-" + a.ID, Type: typ, SessionID: a.SessionID,
			PaymentRef: "pi-" + a.ID, Amount: a.Amount, Currency: a.Currency, Reason: "card declined", Payload: []byte(`{}`),
		})
		require.NoError(t, err)
	}
	deliver := func() {
		ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
		require.NoError(t, err)
		for _, m := range ms {
			if m.Direction == orders.DirectionOut && m.Status == orders.MessageQueued {
				require.NoError(t, (&messageWorker{j: b.jobs}).Work(ctx, job(orders.DeliverMessage{ShopID: b.shop.ID, MessageID: m.ID}, 1)))
			}
		}
	}
	apply(b.attempt(t, o, true), orders.EventFailed)
	deliver()
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	for _, m := range ms {
		switch m.Kind {
		case orders.KindOrderCard:
			card = m
		case orders.KindPaymentFailed:
			payAgain = m
		}
	}
	require.NotNil(t, card)
	require.NotNil(t, payAgain)
	require.NotEmpty(t, card.ExternalID)
	require.NotEmpty(t, payAgain.ExternalID)
	require.NotEmpty(t, payAgain.Buttons, "Pay again")
	apply(b.attempt(t, o, true), orders.EventSucceeded)
	deliver()
	return card, payAgain
}

// TestRefreshCardEditsPayAgain: once the order is paid, the job edits its card and its
// Pay again message, each taking its own slot of the chat's limit; a message that
// cannot be edited any more does not keep the other from it.
func TestRefreshCardEditsPayAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ch := &editingChannel{}
	b.jobs.cfg.Channels["telegram"] = ch
	o := b.order(t, "telegram")
	card, payAgain := b.failedThenPaid(t, o)
	w := &refreshCardWorker{j: b.jobs}
	args := orders.RefreshCard{ShopID: b.shop.ID, OrderID: o.ID}

	require.NoError(t, w.Work(ctx, job(args, 1)))
	got := ch.made()
	require.Len(t, got, 2)
	require.Equal(t, card.ExternalID, got[0].externalID)
	require.True(t, strings.HasSuffix(got[0].text, "\n\n✅ Paid"), "%q", got[0].text)
	require.Empty(t, got[0].buttons, "no more Pay now")
	require.Equal(t, edit{payAgain.ExternalID, payAgain.Text + "\n\n✅ Paid", nil}, got[1], "the same words, the card's status, no Pay again")

	// The card is gone from the chat: the Pay again message is still edited.
	ch.failEdit = map[string]error{card.ExternalID: &bot.PermanentError{Reason: "Bad Request: message to edit not found"}}
	require.NoError(t, w.Work(ctx, job(args, 1)))
	require.Equal(t, []edit{got[0], got[1], got[1]}, ch.made())
	ch.failEdit = nil

	// Under Telegram's one edit a second per chat, the second edit waits for its
	// slot in the job: a snooze would start over at the card, which would take the
	// slot again, and the Pay again message would never be reached.
	b.jobs.cfg.Limiter = memory.New(memory.Options{})
	b.jobs.cfg.Account = func(*orders.Shop, string) string { return "bot1" }
	require.NoError(t, w.Work(ctx, job(args, 1)))
	require.Equal(t, []edit{got[0], got[1], got[1], got[0], got[1]}, ch.made())

	// A wait longer than the job would stand in place is a snooze, after the edits
	// already made.
	b.jobs.cfg.Limiter = &stubLimiter{waits: []time.Duration{0, time.Minute}}
	err := w.Work(ctx, job(args, 1))
	var snooze *rivertype.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Equal(t, time.Minute, snooze.Duration)
	require.Equal(t, []edit{got[0], got[1], got[1], got[0], got[1], got[0]}, ch.made())
}

// TestRefreshCardWebChatPayAgain runs the job against the real web chat channel, whose
// edits rewrite the stored messages: the card and the Pay again message lose their
// buttons and read paid, and a rerun leaves them as they are.
func TestRefreshCardWebChatPayAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.jobs.cfg.Channels[orders.ChannelWebchat] = webchat.Channel{Messages: b.svc}
	o := b.order(t, orders.ChannelWebchat)
	card, payAgain := b.failedThenPaid(t, o)
	w := &refreshCardWorker{j: b.jobs}
	args := orders.RefreshCard{ShopID: b.shop.ID, OrderID: o.ID}

	check := func() {
		t.Helper()
		c, err := b.store.Message(ctx, b.shop.ID, card.ID)
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(c.Text, "\n\n✅ Paid"), "%q", c.Text)
		require.Empty(t, c.Buttons)
		p, err := b.store.Message(ctx, b.shop.ID, payAgain.ID)
		require.NoError(t, err)
		require.Equal(t, payAgain.Text+"\n\n✅ Paid", p.Text)
		require.Empty(t, p.Buttons)
		require.Equal(t, orders.MessageSent, p.Status)
		require.Equal(t, payAgain.ExternalID, p.ExternalID)
	}
	require.NoError(t, w.Work(ctx, job(args, 1)))
	check()
	require.NoError(t, w.Work(ctx, job(args, 2)))
	check()
}
