package jobs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/orders"
)

// racingChannel is an editingChannel that calls race after each edit it records, as
// if another job or a person changed the order while the edit was in flight.
type racingChannel struct {
	editingChannel
	mu   sync.Mutex
	race func(n int) // n counts the edits made so far, from 1
}

func (c *racingChannel) Edit(ctx context.Context, shop *orders.Shop, conv *orders.Conversation, externalID, text string, buttons []orders.Button) error {
	if err := c.editingChannel.Edit(ctx, shop, conv, externalID, text, buttons); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.race != nil {
		c.race(len(c.made()))
	}
	return nil
}

// TestRefreshCardConvergesAfterRace: a job reads the order paid, and while it edits the
// card the order is cancelled. The job queued by the cancel may have run already, before
// this one's edit, so this job must not end on its stale read: it reads the order again
// after its edit and edits the card to cancelled.
func TestRefreshCardConvergesAfterRace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ch := &racingChannel{}
	b.jobs.cfg.Channels[orders.ChannelTelegram] = ch
	o := b.order(t, orders.ChannelTelegram)
	b.deliverQueued(t, o)
	b.applyPayment(t, o, orders.EventSucceeded)
	b.deliverQueued(t, o)
	ms, err := b.store.OrderMessages(ctx, b.shop.ID, o.ID)
	require.NoError(t, err)
	card := ms[0]
	require.Equal(t, orders.KindOrderCard, card.Kind)

	ch.race = func(n int) {
		if n == 1 {
			_, err := b.svc.CancelOrder(ctx, b.shop.ID, o.ID)
			require.NoError(t, err)
		}
	}
	args := orders.RefreshCard{ShopID: b.shop.ID, OrderID: o.ID}
	require.NoError(t, (&refreshCardWorker{j: b.jobs}).Work(ctx, job(args, 1)))

	got := ch.made()
	require.Len(t, got, 2, "the paid edit, then the cancelled one")
	require.True(t, strings.HasSuffix(got[0].text, "\n\n✅ Paid"), "%q", got[0].text)
	require.Equal(t, card.ExternalID, got[1].externalID)
	require.True(t, strings.HasSuffix(got[1].text, "\n\n❌ Cancelled"), "the last edit shows the order as it is: %q", got[1].text)
	require.Empty(t, got[1].buttons)
}

// TestRefreshCardRoundsBounded: an order whose messages change under every round of
// edits does not keep the job in a loop: after maxCardRounds it snoozes, to start over
// from a fresh read, having never ended on a state it knew to be stale.
func TestRefreshCardRoundsBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ch := &racingChannel{}
	b.jobs.cfg.Channels[orders.ChannelTelegram] = ch
	o := b.order(t, orders.ChannelTelegram)
	_, payAgain := b.failedThenPaid(t, o)

	// Each edit rewrites the Pay again message's stored words, so the update read
	// after each round differs from the one drawn.
	ch.race = func(n int) {
		words := fmt.Sprintf("Payment failed, try %d", n)
		require.NoError(t, b.svc.EditMessage(ctx, b.shop.ID, o.ConversationID, payAgain.ID, words, nil))
	}
	args := orders.RefreshCard{ShopID: b.shop.ID, OrderID: o.ID}
	err := (&refreshCardWorker{j: b.jobs}).Work(ctx, job(args, 1))
	var snooze *rivertype.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Equal(t, time.Second, snooze.Duration)
	got := ch.made()
	require.Len(t, got, 2*maxCardRounds, "a card and a Pay again per round")
	require.Equal(t, "Payment failed, try 4\n\n✅ Paid", got[5].text,
		"the last round draws the words read after the round before it (rewritten by its 4th edit)")
}
